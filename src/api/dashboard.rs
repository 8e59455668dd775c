//! The data of the 数字驾驶舱 (`GET /v1/dashboard`, archivist tokens; the page is
//! pages/dashboard.rs): licences issued per department per day, seal plans left incomplete,
//! verifications by result and region, 亮证 scans, proofs by kind and matter and refusals,
//! commitments kept / broken / due, archive and log size, the last audit, and the freshness of
//! CRLs, the TSA certificate and status lists.
//!
//! Read from the archive (one pass over its records, bounded by [`MAX_RECORDS`]), the service
//! metrics (since the server started) and the home's CRL, TSA and status-list files. Knows
//! nothing of HTML: the answer carries the page fragment pages/dashboard.rs draws from it.

#[allow(unused_imports)]
use crate::api::openapi::JsonObject;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::auth::Role;
use super::handlers::{forbid, principal};
use super::problem::Problem;
use super::{blocking, AppState};
use crate::archive::Record;
use crate::error::Result;

/// Records read at most per answer (newest first beyond it are skipped, and said so).
pub const MAX_RECORDS: usize = 200_000;
/// Default N of "seal plans incomplete for more than N days".
pub const STALL_DAYS: i64 = 3;
/// How often the page asks again, seconds.
pub const REFRESH_SECS: u64 = 30;

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    pub stall_days: Option<i64>,
}

/// One count in a table or chart.
#[derive(Debug, Clone, Serialize)]
pub struct Count {
    pub key: Vec<String>,
    pub count: u64,
}

/// A licence whose seal plan is not complete.
#[derive(Debug, Clone, Serialize)]
pub struct Stalled {
    pub identifier: String,
    pub title: String,
    pub seals: usize,
    pub plan: usize,
    pub since: String,
    pub days: i64,
}

/// How fresh one signed list or certificate is.
#[derive(Debug, Clone, Serialize)]
pub struct Fresh {
    pub what: String,
    pub name: String,
    /// RFC 3339, or empty when missing.
    pub until: String,
    /// "ok" | "soon" (less than a day) | "stale" | "missing".
    pub state: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub region: String,
    pub generated_at: String,
    pub refresh_secs: u64,
    pub stall_days: i64,
    /// (department, day) → licences first filed that day.
    pub issued: Vec<Count>,
    pub issued_total: u64,
    pub stalled: Vec<Stalled>,
    /// Since the server started (metrics).
    pub verifications: Vec<Count>,
    pub verifications_by_region: Vec<Count>,
    pub scans: Vec<Count>,
    /// (kind, matter) → proofs answered; refusals likewise.
    pub proofs: Vec<Count>,
    pub refusals: Vec<Count>,
    pub commitments: BTreeMap<String, u64>,
    pub archive_records: u64,
    pub archive_bytes: u64,
    pub log_size: u64,
    pub last_audit: Option<Value>,
    pub freshness: Vec<Fresh>,
    /// Records left unread because of [`MAX_RECORDS`].
    pub truncated: u64,
}

fn counts<K>(m: BTreeMap<K, u64>) -> Vec<Count>
where
    K: Ord + Into<Vec<String>>,
{
    m.into_iter().map(|(k, count)| Count { key: k.into(), count }).collect()
}

fn str_of<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// Seal plan length per licence type code, from the home's templates.
fn plans(st: &AppState) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for e in std::fs::read_dir(st.home.templates_dir()).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let Some(stem) = name.strip_suffix(".toml") else { continue };
        if let Ok(t) = crate::document::Template::load(&st.home, stem) {
            out.insert(t.type_code.clone(), t.plan().len());
        }
    }
    out
}

fn unix_of(rfc: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

fn fresh(what: &str, name: &str, until: Option<i64>, now: i64) -> Fresh {
    let state = match until {
        None => "missing",
        Some(u) if u < now => "stale",
        Some(u) if u < now + 86_400 => "soon",
        Some(_) => "ok",
    };
    Fresh {
        what: what.into(),
        name: name.into(),
        until: until.map(crate::trust::rfc3339).unwrap_or_default(),
        state: state.into(),
    }
}

/// The freshness of the region's CRLs, TSA certificate, status certificate and status lists.
fn freshness(st: &AppState, now: i64) -> Vec<Fresh> {
    let mut out = Vec::new();
    if let Ok(crls) = crate::pki::crl::show(&st.home) {
        for c in crls {
            out.push(fresh("CRL", &c.ca, unix_of(&c.next_update), now));
        }
    }
    let cert_end = |p: std::path::PathBuf| {
        crate::pki::keys::read_certs_der(&p).ok().and_then(|c| c.into_iter().next()).and_then(|d| {
            x509_parser::parse_x509_certificate(&d).ok().map(|(_, c)| c.validity().not_after.timestamp())
        })
    };
    out.push(fresh("TSA", "时间戳证书", cert_end(st.home.tsa_cert()), now));
    out.push(fresh("状态签名", "证照状态证书", cert_end(crate::pki::status_key::cert_path(&st.home)), now));
    let own = std::fs::read(crate::licence::status_list::own_path(&st.home)).ok().and_then(|b| list_exp(&b));
    out.push(Fresh {
        state: if own.is_none() { "ok".into() } else { fresh("", "", own, now).state },
        ..fresh("状态清单", "本地区（已发布文件）", own, now)
    });
    let (held, _) = crate::licence::status_list::held(&st.home, &st.trust(), now);
    for l in held {
        out.push(fresh("状态清单", &l.claims.iss, Some(l.claims.exp), now));
    }
    out
}

/// The `exp` of a status list file (its first line is the JWS), unverified: only for display.
fn list_exp(bytes: &[u8]) -> Option<i64> {
    use base64::Engine;
    let line = bytes.split(|b| *b == b'\n').next()?;
    let payload = std::str::from_utf8(line).ok()?.split('.').nth(1)?;
    let v: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?)
            .ok()?;
    v.get("exp").and_then(Value::as_i64)
}

/// Everything the page shows, at `now`.
pub fn gather(st: &AppState, stall_days: i64, now: i64) -> Result<Dashboard> {
    let plans = plans(st);
    let mut issued: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut first_seen: HashMap<String, (String, Record)> = HashMap::new();
    let mut proofs: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut refusals: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut commit_due: HashMap<String, String> = HashMap::new();
    let mut decided: HashMap<String, String> = HashMap::new();
    let (mut records, mut bytes, mut truncated) = (0u64, 0u64, 0u64);
    let mut last_audit = None;
    for r in st.archive.list() {
        let r = r?;
        records += 1;
        bytes += r.size;
        if records as usize > MAX_RECORDS {
            truncated += 1;
            continue;
        }
        let m = &r.metadata;
        let json =
            || st.archive.verified_bytes(&r).ok().and_then(|b| serde_json::from_slice::<Value>(&b).ok());
        match m.kind.as_str() {
            "licence" => match first_seen.get_mut(&m.identifier) {
                Some((_, latest)) if latest.leaf_index < r.leaf_index => *latest = r.clone(),
                Some(_) => {}
                None => {
                    let day = unix_of(&r.ingested_at).map(crate::document::china_date).unwrap_or_default();
                    *issued.entry((m.issuer.clone(), day)).or_default() += 1;
                    first_seen.insert(m.identifier.clone(), (r.ingested_at.clone(), r.clone()));
                }
            },
            "use-record" => {
                if let Some(v) = json().filter(|v| v.get("answer_id").is_some()) {
                    *proofs.entry((str_of(&v, "kind").into(), str_of(&v, "purpose").into())).or_default() +=
                        1;
                }
            }
            "use-refusal" => {
                if let Some(v) = json() {
                    *refusals
                        .entry((str_of(&v, "kind").into(), str_of(&v, "purpose").into()))
                        .or_default() += 1;
                }
            }
            "commitment-record" => {
                if let Some(v) = json() {
                    commit_due.insert(str_of(&v, "id").into(), str_of(&v, "check_due").into());
                }
            }
            "commitment-check" => {
                if let Some(v) = json() {
                    decided.insert(str_of(&v, "commitment").into(), str_of(&v, "status").into());
                }
            }
            "audit-report" => {
                last_audit = Some(
                    serde_json::json!({ "at": r.ingested_at, "record": r.id, "source": "audit --report" }),
                );
            }
            _ => {}
        }
    }
    let stalled = first_seen
        .into_values()
        .filter_map(|(first_at, r)| {
            let m = &r.metadata;
            let type_code = m.identifier.parse::<crate::document::identifier::LicenceId>().ok()?.type_code;
            let plan = *plans.get(&type_code)?;
            let first = unix_of(&first_at)?;
            let age = now - first;
            (m.signers.len() < plan && age >= stall_days * 86_400).then(|| Stalled {
                identifier: m.identifier.clone(),
                title: m.title.clone(),
                seals: m.signers.len(),
                plan,
                since: first_at.clone(),
                days: age / 86_400,
            })
        })
        .collect::<Vec<_>>();
    let today = crate::document::china_date(now);
    let mut commitments: BTreeMap<String, u64> =
        ["kept", "broken", "due", "open"].iter().map(|k| (k.to_string(), 0)).collect();
    for (id, due) in &commit_due {
        let k = match decided.get(id).map(String::as_str) {
            Some("kept") => "kept",
            Some("broken") => "broken",
            _ if due.as_str() <= today.as_str() => "due",
            _ => "open",
        };
        *commitments.entry(k.into()).or_default() += 1;
    }
    let (verdicts, regions, scans) = st.metrics.verdicts();
    if let Some(a) = st.metrics.last_audit() {
        last_audit = Some(a);
    }
    let issued_total = issued.values().sum();
    Ok(Dashboard {
        region: st.region.region.name.clone(),
        generated_at: crate::trust::rfc3339(now),
        refresh_secs: REFRESH_SECS,
        stall_days,
        issued: counts(issued.into_iter().map(|((d, day), n)| (vec![d, day], n)).collect()),
        issued_total,
        stalled,
        verifications: counts(verdicts.into_iter().map(|(k, n)| (vec![k], n)).collect()),
        verifications_by_region: counts(regions.into_iter().map(|(k, n)| (vec![k], n)).collect()),
        scans: counts(scans.into_iter().map(|(k, n)| (vec![k], n)).collect()),
        proofs: counts(proofs.into_iter().map(|((k, m), n)| (vec![k, m], n)).collect()),
        refusals: counts(refusals.into_iter().map(|((k, m), n)| (vec![k, m], n)).collect()),
        commitments,
        archive_records: records,
        archive_bytes: bytes,
        log_size: st.archive.size(),
        last_audit,
        freshness: freshness(st, now),
        truncated,
    })
}

/// GET /v1/dashboard (archivists): the data, and the page fragment drawn from it (`html`).
#[utoipa::path(
    get,
    path = "/v1/dashboard",
    summary = "The 数字驾驶舱's data (issued per department per day, stalled seal plans, verifications, 亮证 scans, proofs, refusals, commitments, archive, audit, freshness) and the page fragment drawn from it (`html`)",
    security(("bearer" = ["archivist"])),
    params(("stall_days" = Option<u32>, Query, description = "days after which an incomplete seal plan counts as stalled")),
    responses((status = 200, description = "The dashboard data and `html`", body = JsonObject))
)]
pub async fn get(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    q: Result<Query<Params>, axum::extract::rejection::QueryRejection>,
) -> std::result::Result<Response, Problem> {
    let p = principal(&st, &headers)?;
    if p.role != Role::Archivist {
        return Err(forbid(
            &p,
            "dashboard",
            format!("a {} token cannot see the dashboard; use an archivist token", p.role.describe()),
        ));
    }
    let stall = q.ok().and_then(|Query(q)| q.stall_days).unwrap_or(STALL_DAYS).clamp(0, 3650);
    let st2 = st.clone();
    let now = ::time::OffsetDateTime::now_utc().unix_timestamp();
    let d = blocking(move || gather(&st2, stall, now)).await?;
    let html = super::pages::dashboard::board(&d).into_string();
    let mut v = serde_json::to_value(&d).map_err(|e| crate::error::ApiError::Internal(e.to_string()))?;
    if let Some(o) = v.as_object_mut() {
        o.insert("html".into(), Value::String(html));
    }
    let mut r = axum::Json(v).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
