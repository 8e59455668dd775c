//! The sharing verbs other systems expect (after GB/T 36906): query licences by holder, a
//! short-lived single-use download link for an identifier, the download (an annotated copy, 加注件,
//! sealed by the platform department), and verification — each for a department token and a
//! mandatory use purpose (用证事由: a matter code on the list of uses for that department).
//!
//! A missing purpose is 400, an unlisted one 403; both refusals are recorded as `use-refusal`
//! entries in the archive log. Successful calls are recorded as `use-record` entries naming the
//! holder by its code only (`use_log`). Links live in memory ([`Links`]): bound to the department,
//! purpose and licence, valid 5 minutes by default, usable once.

mod use_log;

#[allow(unused_imports)]
use crate::api::openapi::{Binary, JsonObject};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};

use super::handlers::forbid;
use super::problem::Problem;
use super::proofs::{department, lock_err, parse_json, problem, Res};
use super::{blocking, AppState};
use crate::archive::Record;
use crate::error::{ApiError, Error, ProofError};
use crate::proofs::holders;
use use_log::{check_purpose, code_of, record};

/// Default lifetime of a download link.
pub const LINK_TTL: Duration = Duration::from_secs(300);
/// Longest lifetime a caller may ask for.
pub const MAX_LINK_TTL: u64 = 900;
/// Links kept at most (expired ones are dropped first).
const MAX_LINKS: usize = 10_000;

/// One download link.
pub struct Link {
    dept: String,
    purpose: String,
    record: String,
    valid_until: String,
    expires: Instant,
    used: bool,
}

/// The live download links, by random token.
#[derive(Default)]
pub struct Links(Mutex<HashMap<String, Link>>);

/// Latest archived licence (kind `licence`) with this identifier.
fn licence_record(st: &AppState, identifier: &str) -> Option<Record> {
    st.archive
        .find(crate::archive::index::By::Identifier, identifier)
        .ok()?
        .into_iter()
        .filter(|r| r.metadata.kind == "licence")
        .max_by_key(|r| r.leaf_index)
}

macro_rules! purpose_or_return {
    ($st:expr, $p:expr, $dept:expr, $action:expr, $purpose:expr, $code:expr) => {
        match check_purpose($st, $p, $dept, $action, $purpose, $code).await {
            Ok(name) => name,
            Err(r) => return Ok(r),
        }
    };
}

/// Body of POST /v1/share/query. No `Debug`: it carries a raw ID.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"holder": "91370900MA3C00001T", "purpose": "370900-XK-0012"}))]
pub struct QueryBody {
    /// ID number or USCC of the holder.
    pub holder: String,
    #[serde(default)]
    pub purpose: Option<String>,
}

/// POST /v1/share/query: the licences held by a holder (latest record of each identifier).
#[utoipa::path(
    post,
    path = "/v1/share/query",
    summary = "Licences held by a holder, for a listed use purpose",
    security(("bearer" = ["department"])),
    request_body(content = QueryBody, content_type = "application/json"),
    responses((status = 200, description = "{holder_code, licences: [{identifier, title, issuer, issue_date, valid_until, record}]}", body = JsonObject))
)]
pub async fn query(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Res {
    let (p, dept) = department(&st, &headers, "share query")?;
    let req: QueryBody = parse_json(&body)?;
    crate::proofs::fields::subject("holder", &req.holder).map_err(|e| problem(e.into()))?;
    let st2 = st.clone();
    let holder = req.holder.clone();
    let id_and_code = blocking(move || {
        let key = holders::region_key(&st2.home)?;
        Ok(holders::normalise_id(&holder).map(|id| (holders::holder_code(&key, &id), id)))
    })
    .await?;
    let code = id_and_code.as_ref().map(|(c, _)| c.clone()).unwrap_or_default();
    let purpose_name = purpose_or_return!(&st, &p, &dept, "share-query", req.purpose.as_deref(), &code);
    let Some((code, id)) = id_and_code else {
        return Err(problem(
            ProofError::Data(
                "the subject (`holder`) is neither a valid ID number (GB 11643) nor a valid USCC (GB 32100)"
                    .into(),
            )
            .into(),
        ));
    };
    let st2 = st.clone();
    let purpose = req.purpose.clone().unwrap_or_default();
    let (d2, c2) = (dept.clone(), code.clone());
    let found = blocking(move || {
        let mut latest: HashMap<String, Record> = HashMap::new();
        // By the holder code index: the keyed code, or the USCC itself (companies' codes are kept
        // in the clear).
        let by = crate::archive::index::By::Holder;
        let mut candidates = st2.archive.find(by, &c2).unwrap_or_default();
        if id != c2 {
            candidates.extend(st2.archive.find(by, &id).unwrap_or_default());
        }
        for r in candidates.into_iter().filter(|r| r.metadata.kind == "licence") {
            if latest.get(&r.metadata.identifier).is_none_or(|o| o.leaf_index < r.leaf_index) {
                latest.insert(r.metadata.identifier.clone(), r);
            }
        }
        let mut found: Vec<Record> = latest.into_values().collect();
        found.sort_by_key(|r| r.leaf_index);
        let ids: Vec<&str> = found.iter().map(|r| r.metadata.identifier.as_str()).collect();
        record(
            &st2,
            "use-record",
            &d2,
            &c2,
            json!({"kind": "share-query", "purpose": purpose, "purpose_name": purpose_name, "licences": ids}),
        )?;
        Ok(found)
    })
    .await
    .map_err(problem)?;
    tracing::info!(token = %p.token_id, dept = %dept, subject = %code, count = found.len(), "share query");
    let out: Vec<Value> = found
        .iter()
        .map(|r| {
            let m = &r.metadata;
            json!({"identifier": m.identifier, "title": m.title, "issuer": m.issuer, "issue_date": m.issue_date, "valid_until": m.valid_until, "record": r.id})
        })
        .collect();
    Ok(axum::Json(json!({"holder_code": code, "licences": out})).into_response())
}

/// Body of POST /v1/share/links.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    pub identifier: String,
    #[serde(default)]
    pub purpose: Option<String>,
    /// Link lifetime, seconds (default 300, at most 900).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 900)]
    pub ttl_secs: Option<u64>,
    /// Days the annotated copy may be used (default 30, at most 366).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 366)]
    pub valid_days: Option<u32>,
}

/// POST /v1/share/links: a single-use download link for the licence with `identifier`.
#[utoipa::path(
    post,
    path = "/v1/share/links",
    summary = "A short-lived single-use download link for a licence, for a listed use purpose",
    security(("bearer" = ["department"])),
    request_body(content = LinkBody, content_type = "application/json"),
    responses((status = 201, description = "{url, expires_at, identifier}", body = JsonObject))
)]
pub async fn link(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Res {
    let (p, dept) = department(&st, &headers, "share link")?;
    let req: LinkBody = parse_json(&body)?;
    crate::proofs::fields::identifier("identifier", &req.identifier).map_err(|e| problem(e.into()))?;
    let ttl = req.ttl_secs.unwrap_or(LINK_TTL.as_secs());
    let days = req.valid_days.unwrap_or(30);
    if !(1..=MAX_LINK_TTL).contains(&ttl) || !(1..=366).contains(&days) {
        return Err(ApiError::BadRequest(format!(
            "ttl_secs must be 1..={MAX_LINK_TTL} and valid_days 1..=366"
        ))
        .into());
    }
    let st2 = st.clone();
    let ident = req.identifier.clone();
    let found = blocking(move || match licence_record(&st2, &ident) {
        Some(r) => Ok(Some((code_of(&st2.home, &r.metadata.holder_code)?, r))),
        None => Ok(None),
    })
    .await?;
    let code = found.as_ref().map(|(c, _)| c.clone()).unwrap_or_default();
    let purpose_name = purpose_or_return!(&st, &p, &dept, "share-link", req.purpose.as_deref(), &code);
    let Some((code, rec)) = found else {
        return Err(ApiError::NotFound("no archived licence has this identifier".into()).into());
    };
    let purpose = req.purpose.clone().unwrap_or_default().trim().to_string();
    let token = crate::hex::encode(&crate::document::render::random_bytes::<24>()?);
    let (now_s, now) = crate::proofs::now();
    let expires_at = crate::trust::rfc3339(now + i64::try_from(ttl).unwrap_or(0));
    let until = time::OffsetDateTime::now_utc() + time::Duration::days(i64::from(days));
    let valid_until = format!("{:04}-{:02}-{:02}", until.year(), u8::from(until.month()), until.day());
    {
        let mut links = st
            .share_links
            .0
            .lock()
            .map_err(|_| Problem::from(ApiError::Internal("link table poisoned".into())))?;
        let at = Instant::now();
        links.retain(|_, l| l.expires + LINK_TTL > at);
        if links.len() >= MAX_LINKS {
            return Err(ApiError::RateLimited { retry_after: 60 }.into());
        }
        links.insert(
            token.clone(),
            Link {
                dept: dept.clone(),
                purpose: purpose.clone(),
                record: rec.id.clone(),
                valid_until,
                expires: at + Duration::from_secs(ttl),
                used: false,
            },
        );
    }
    let st2 = st.clone();
    let (d2, c2, ident) = (dept.clone(), code.clone(), rec.metadata.identifier.clone());
    let body = json!({"kind": "share-link", "purpose": purpose, "purpose_name": purpose_name, "licence": ident, "record": rec.id, "issued_at": now_s, "expires_at": expires_at});
    blocking(move || record(&st2, "use-record", &d2, &c2, body)).await.map_err(problem)?;
    tracing::info!(token = %p.token_id, dept = %dept, subject = %code, record = %rec.id, "share link made");
    Ok((StatusCode::CREATED, axum::Json(json!({"url": format!("/v1/share/download/{token}"), "expires_at": expires_at, "identifier": rec.metadata.identifier}))).into_response())
}

fn gone(detail: &str) -> Problem {
    Problem::new(StatusCode::GONE, "link-gone", "The download link is used up or expired", detail)
}

/// GET /v1/share/download/{token}: once, by the department the link was made for: the licence
/// plus the platform's annotation (purpose, department, time, validity), sealed by `dsjzx`.
#[utoipa::path(
    get,
    path = "/v1/share/download/{token}",
    summary = "Download once: the licence as an annotated copy (加注件) sealed by the platform",
    security(("bearer" = ["department"])),
    responses((status = 200, description = "The annotated copy", body = Binary, content_type = "application/pdf"), (status = 409, description = "RFC 9457 problem", body = Problem, content_type = "application/problem+json"), (status = 410, description = "RFC 9457 problem", body = Problem, content_type = "application/problem+json"))
)]
pub async fn download(State(st): State<Arc<AppState>>, Path(token): Path<String>, headers: HeaderMap) -> Res {
    let (p, dept) = department(&st, &headers, "share download")?;
    let (record_id, purpose, valid_until) = {
        let mut links = st
            .share_links
            .0
            .lock()
            .map_err(|_| Problem::from(ApiError::Internal("link table poisoned".into())))?;
        let Some(l) = links.get_mut(&token) else {
            return Err(ApiError::NotFound("no such download link".into()).into());
        };
        if l.dept != dept {
            return Err(forbid(&p, "share download", "this link was made for another department".into()));
        }
        if l.used {
            return Err(gone("this link has already been used"));
        }
        if l.expires <= Instant::now() {
            return Err(gone("this link has expired"));
        }
        l.used = true;
        (l.record.clone(), l.purpose.clone(), l.valid_until.clone())
    };
    let st2 = st.clone();
    let d2 = dept.clone();
    let made = blocking(move || {
        let rec = st2.archive.get(&record_id)?;
        let bytes = st2.archive.verified_bytes(&rec)?;
        let _w = st2.write_lock.lock().map_err(|_| lock_err())?;
        crate::proofs::annotate::annotate(&st2.home, &st2.archive, &bytes, &d2, &purpose, &valid_until)
    })
    .await;
    let a = match made {
        Ok(a) => a,
        Err(e) => {
            // The copy was not made: the link stays usable until it expires.
            if let Ok(mut links) = st.share_links.0.lock() {
                if let Some(l) = links.get_mut(&token) {
                    l.used = false;
                }
            }
            return Err(match e {
                Error::Proof(ProofError::Other(d)) => Problem::new(
                    StatusCode::CONFLICT,
                    "annotation-refused",
                    "The annotated copy cannot be made",
                    d,
                ),
                e => problem(e),
            });
        }
    };
    tracing::info!(token = %p.token_id, dept = %dept, record = %a.record, use_record = %a.use_record, "share download");
    let mut r = (StatusCode::OK, a.pdf).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (k, v) in [
        ("x-archive-id", &a.record),
        ("x-use-record", &a.use_record),
        ("x-licence-identifier", &a.identifier),
    ] {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    }
    Ok(r)
}

/// POST /v1/share/verify?purpose=MATTER with the PDF as the body: the verification report; the
/// use is recorded with the holder code of the licence.
#[utoipa::path(
    post,
    path = "/v1/share/verify",
    summary = "Verify a licence PDF for a listed use purpose and record the use",
    security(("bearer" = ["department"])),
    params(("purpose" = String, Query, description = "用证事由: a matter code on the list of uses", example = "370900-XK-0012")),
    request_body(content((Binary = "application/pdf"), (Binary = "application/octet-stream"))),
    responses((status = 200, description = "Verification report (docs/verification-report.md)", body = JsonObject))
)]
pub async fn verify(
    State(st): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Res {
    let (p, dept) = department(&st, &headers, "share verify")?;
    let purpose_name =
        purpose_or_return!(&st, &p, &dept, "share-verify", q.get("purpose").map(String::as_str), "");
    if body.is_empty() {
        return Err(ApiError::BadRequest("the body is empty; send the PDF as the request body".into()).into());
    }
    let trust = st.trust();
    let st2 = st.clone();
    let purpose = q.get("purpose").map(|s| s.trim().to_string()).unwrap_or_default();
    let d2 = dept.clone();
    let (report, code) = super::blocking_cancellable(move |c| {
        let mut report = crate::verify::verify_with(&body, &trust, std::time::SystemTime::now(), &mut crate::pades::budget::Budget::new(c))?;
        // The department relies on the licence, not only on its seals: its status decides the verdict.
        super::status::licence_status(&st2, &trust, &mut report);
        let lic = report.licence.clone().unwrap_or_default();
        let code = code_of(&st2.home, &lic.czztdm)?;
        let body = json!({"kind": "share-verify", "purpose": purpose, "purpose_name": purpose_name, "licence": lic.zzbs, "indication": report.indication.as_str(), "verdict": report.verdict.result.as_str()});
        record(&st2, "use-record", &d2, &code, body)?;
        Ok((report, code))
    })
    .await
    .map_err(problem)?;
    st.metrics.record_report(&report);
    tracing::info!(token = %p.token_id, dept = %dept, subject = %code, verdict = report.indication.as_str(), "share verify");
    Ok(axum::Json(report).into_response())
}
