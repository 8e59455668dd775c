//! Service metrics in the Prometheus text exposition format (version 0.0.4): licences issued,
//! seals added, verifications by verdict, revocations, archive size, and a request latency
//! histogram per route.
//!
//! Knows nothing of handlers: they call the `record_*` methods. Lock-held sections are tiny.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Latency bucket upper bounds, seconds.
const BUCKETS: &[f64] = &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

#[derive(Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

/// Counters and histograms.
#[derive(Default)]
pub struct Metrics {
    pub issued: AtomicU64,
    pub sealed: AtomicU64,
    pub revoked: AtomicU64,
    verified: Mutex<BTreeMap<String, u64>>,
    /// Verifications by the region the first signature's chain reaches ("" when none).
    regions: Mutex<BTreeMap<String, u64>>,
    /// 亮证 scans by result (shown, expired, replayed, malformed, unknown-licence).
    scans: Mutex<BTreeMap<String, u64>>,
    /// The last audit this server ran (POST /v1/audit): time, clean, problems, log size.
    last_audit: Mutex<Option<serde_json::Value>>,
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_verdict(&self, verdict: &str) {
        if let Ok(mut m) = self.verified.lock() {
            *m.entry(verdict.to_string()).or_default() += 1;
        }
    }

    /// A verification: its verdict, and the region its first signature's chain reaches.
    pub fn record_report(&self, report: &crate::verify::report::Report) {
        self.record_verdict(report.indication.as_str());
        let region = report.signatures.first().and_then(|s| s.chain_region.clone()).unwrap_or_default();
        if let Ok(mut m) = self.regions.lock() {
            *m.entry(region).or_default() += 1;
        }
    }

    pub fn record_audit(&self, clean: bool, problems: usize, log_size: u64) {
        let at = crate::trust::rfc3339(::time::OffsetDateTime::now_utc().unix_timestamp());
        if let Ok(mut m) = self.last_audit.lock() {
            *m = Some(
                serde_json::json!({ "at": at, "clean": clean, "problems": problems, "log_size": log_size, "source": "POST /v1/audit" }),
            );
        }
    }

    pub fn last_audit(&self) -> Option<serde_json::Value> {
        self.last_audit.lock().ok().and_then(|m| m.clone())
    }

    pub fn record_scan(&self, result: &str) {
        if let Ok(mut m) = self.scans.lock() {
            *m.entry(result.to_string()).or_default() += 1;
        }
    }

    /// Verifications by verdict and by region, and 亮证 scans by result, as counted so far.
    pub fn verdicts(&self) -> (BTreeMap<String, u64>, BTreeMap<String, u64>, BTreeMap<String, u64>) {
        let v = self.verified.lock().map(|m| m.clone()).unwrap_or_default();
        let r = self.regions.lock().map(|m| m.clone()).unwrap_or_default();
        let s = self.scans.lock().map(|m| m.clone()).unwrap_or_default();
        (v, r, s)
    }

    pub fn record_request(&self, method: &str, route: &str, status: u16, secs: f64) {
        if let Ok(mut m) = self.requests.lock() {
            *m.entry((method.to_string(), route.to_string(), status)).or_default() += 1;
        }
        if let Ok(mut m) = self.latency.lock() {
            let h = m
                .entry(route.to_string())
                .or_insert_with(|| Histogram { counts: vec![0; BUCKETS.len()], ..Default::default() });
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    if let Some(c) = h.counts.get_mut(i) {
                        *c += 1;
                    }
                }
            }
            h.sum += secs;
            h.count += 1;
        }
    }

    /// Render everything; `archive_size` is read by the caller.
    pub fn render(&self, archive_size: u64) -> String {
        let mut s = String::new();
        let counter = |s: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        };
        counter(
            &mut s,
            "zhengyin_licences_issued_total",
            "Licences issued and archived.",
            self.issued.load(Ordering::Relaxed),
        );
        counter(
            &mut s,
            "zhengyin_seals_added_total",
            "Joint seals added and archived.",
            self.sealed.load(Ordering::Relaxed),
        );
        counter(
            &mut s,
            "zhengyin_certificates_revoked_total",
            "Certificates revoked.",
            self.revoked.load(Ordering::Relaxed),
        );
        let _ = writeln!(s, "# HELP zhengyin_verifications_total Verifications by verdict.\n# TYPE zhengyin_verifications_total counter");
        if let Ok(m) = self.verified.lock() {
            for (v, n) in m.iter() {
                let _ = writeln!(s, "zhengyin_verifications_total{{verdict=\"{v}\"}} {n}");
            }
        }
        let _ = writeln!(s, "# HELP zhengyin_presentation_scans_total 亮证 scans by result.\n# TYPE zhengyin_presentation_scans_total counter");
        if let Ok(m) = self.scans.lock() {
            for (v, n) in m.iter() {
                let _ = writeln!(s, "zhengyin_presentation_scans_total{{result=\"{v}\"}} {n}");
            }
        }
        super::jobs::render(&mut s);
        let _ = writeln!(s, "# HELP zhengyin_archive_records Records in the archive log.\n# TYPE zhengyin_archive_records gauge\nzhengyin_archive_records {archive_size}");
        let _ = writeln!(s, "# HELP zhengyin_http_requests_total HTTP requests by method, route and status.\n# TYPE zhengyin_http_requests_total counter");
        if let Ok(m) = self.requests.lock() {
            for ((method, route, status), n) in m.iter() {
                let _ = writeln!(s, "zhengyin_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}");
            }
        }
        let _ = writeln!(s, "# HELP zhengyin_http_request_duration_seconds Request latency by route.\n# TYPE zhengyin_http_request_duration_seconds histogram");
        if let Ok(m) = self.latency.lock() {
            for (route, h) in m.iter() {
                for (b, c) in BUCKETS.iter().zip(&h.counts) {
                    let _ = writeln!(
                        s,
                        "zhengyin_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {c}"
                    );
                }
                let _ = writeln!(
                    s,
                    "zhengyin_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ =
                    writeln!(s, "zhengyin_http_request_duration_seconds_sum{{route=\"{route}\"}} {}", h.sum);
                let _ = writeln!(
                    s,
                    "zhengyin_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        s
    }
}
