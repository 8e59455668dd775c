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
