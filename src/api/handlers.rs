//! Handlers for licences: issue (POST /v1/licences), add a joint seal (POST
//! /v1/licences/{id}/seals), and public verification (POST /v1/verify). Issue and seal require a
//! department token and only ever use that department's own seal; everything else is 403.
//!
//! Knows request and response shapes; the work is `licence::issue`, `licence::add_seal`,
//! `filing::file_batch_in` and `verify::verify`, run in `spawn_blocking`.

#[allow(unused_imports)]
use crate::api::openapi::{Binary, JsonObject};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;

use super::auth::{self, Principal, Role};
use super::metrics::Metrics;
use super::problem::Problem;
use super::{blocking, AppState};
use crate::error::ApiError;

type Res = Result<Response, Problem>;

/// Authenticate the request's bearer token.
pub(crate) fn principal(st: &AppState, headers: &HeaderMap) -> Result<Principal, Problem> {
    let h = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    auth::authenticate(&st.home, h).map_err(Problem::from)
}

/// Refuse with 403 and log who tried what (token id only, never the token).
pub(crate) fn forbid(p: &Principal, action: &str, why: String) -> Problem {
    tracing::warn!(token = %p.token_id, role = %p.role.describe(), action, reason = %why, "refused");
    Problem::from(ApiError::Forbidden(why))
}

fn wants_pdf(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("application/pdf"))
}

fn pdf_response(
    status: StatusCode,
    pdf: Vec<u8>,
    archive_id: &str,
    extra: &[(&'static str, String)],
) -> Response {
    let mut r = (status, pdf).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
    if let Ok(v) = HeaderValue::from_str(archive_id) {
        h.insert("x-archive-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/archive/{archive_id}")) {
        h.insert(header::LOCATION, v);
    }
    for (k, v) in extra {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(*k, v);
        }
    }
    r
}

fn json_response(status: StatusCode, v: serde_json::Value, archive_id: &str) -> Response {
    let mut r = (status, axum::Json(v)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/archive/{archive_id}")) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// Body of POST /v1/licences.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    pub template: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    #[serde(default)]
    pub seal: Option<String>,
}

use super::bodies::parse as parse_json;

/// POST /v1/licences: issue, seal with the caller's department, archive.
#[utoipa::path(
    post,
    path = "/v1/licences",
    summary = "Issue a licence sealed by the calling department, and archive it",
    security(("bearer" = ["department"])),
    request_body(content = IssueRequest, content_type = "application/json"),
    responses((status = 201, description = "The licence (JSON with the PDF in base64; or the PDF itself with Accept: application/pdf)", content((JsonObject = "application/json"), (Binary = "application/pdf"))))
)]
pub async fn issue(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Res {
    let p = principal(&st, &headers)?;
    let req: IssueRequest = parse_json(&body)?;
    let Role::Department { dept } = &p.role else {
        return Err(forbid(
            &p,
            "issue",
            format!("a {} token cannot issue licences; use a department token", p.role.describe()),
        ));
    };
    let t = crate::document::Template::load(&st.home, &req.template)?;
    let first = t.plan().first().cloned().unwrap_or_else(|| t.default_seal.clone());
    let sealer = req.seal.clone().unwrap_or(first);
    if &sealer != dept {
        return Err(forbid(
            &p,
            "issue",
            format!("department `{dept}` may seal only with its own seal, not `{sealer}`'s"),
        ));
    }
    let st2 = st.clone();
    let (issued, filed) = blocking(move || {
        let issued = crate::licence::issue(&st2.home, &req.template, &req.data, Some(&sealer))?;
        let _w = st2.write_lock.lock().map_err(|_| ApiError::Internal("archive lock poisoned".into()))?;
        let filed = crate::filing::file_batch_in(
            &st2.home,
            &st2.archive,
            &[(format!("{}.pdf", issued.identifier), issued.pdf.clone())],
            "licence",
            &mut |_, _| {},
        )?;
        Ok((issued, filed))
    })
    .await?;
    let archive_id = filed.first().map(|f| f.record.id.clone()).unwrap_or_default();
    // The archived form (B-LTA: with its document timestamp) is what the caller gets.
    let mut issued = issued;
    if let Some(b) = filed.first().and_then(|f| f.archived.clone()) {
        issued.pdf = b;
    }
    Metrics::inc(&st.metrics.issued);
    tracing::info!(token = %p.token_id, dept = %dept, identifier = %issued.identifier, archive_id = %archive_id, "issued");
    if wants_pdf(&headers) {
        return Ok(pdf_response(
            StatusCode::CREATED,
            issued.pdf,
            &archive_id,
            &[("x-licence-identifier", issued.identifier.clone())],
        ));
    }
    Ok(json_response(
        StatusCode::CREATED,
        serde_json::json!({
            "id": archive_id, "archive_id": archive_id, "identifier": issued.identifier, "template": issued.template,
            "sealed_by": issued.sealed_by, "verify_url": issued.verify_url,
            "pdf_base64": base64::engine::general_purpose::STANDARD.encode(&issued.pdf),
        }),
        &archive_id,
    ))
}

/// Optional body of POST /v1/licences/{id}/seals.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealRequest {
    #[serde(default)]
    pub seal: Option<String>,
}

/// POST /v1/licences/{id}/seals: the calling department adds its seal to an archived licence.
#[utoipa::path(
    post,
    path = "/v1/licences/{id}/seals",
    summary = "Add the calling department's seal to an archived licence (joint seals)",
    security(("bearer" = ["department"])),
    request_body(content = Option<SealRequest>, content_type = "application/json"),
    responses((status = 201, description = "The newly sealed licence, archived under a new id", body = JsonObject))
)]
pub async fn add_seal(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Res {
    let p = principal(&st, &headers)?;
    let req: SealRequest =
        if body.iter().all(u8::is_ascii_whitespace) { SealRequest::default() } else { parse_json(&body)? };
    let Role::Department { dept } = p.role.clone() else {
        return Err(forbid(
            &p,
            "seal",
            format!("a {} token cannot seal; use a department token", p.role.describe()),
        ));
    };
    if let Some(s) = &req.seal {
        if s != &dept {
            return Err(forbid(
                &p,
                "seal",
                format!("department `{dept}` may seal only with its own seal, not `{s}`'s"),
            ));
        }
    }
    let st2 = st.clone();
    let dept2 = dept.clone();
    let (added, filed) = blocking(move || {
        let rec = st2.archive.get(&id)?;
        let bytes = st2.archive.verified_bytes(&rec)?;
        let added = crate::licence::add_seal(&st2.home, &bytes, &dept2)?;
        let _w = st2.write_lock.lock().map_err(|_| ApiError::Internal("archive lock poisoned".into()))?;
        let filed = crate::filing::file_batch_in(
            &st2.home,
            &st2.archive,
            &[(format!("{id}+{dept2}.pdf"), added.pdf.clone())],
            "licence",
            &mut |_, _| {},
        )?;
        Ok((added, filed))
    })
    .await?;
    Ok(sealed_response(&st, &headers, &p, &dept, added, filed))
}

/// The answer to a seal that was filed: the PDF (Accept: application/pdf) or JSON with it.
pub(crate) fn sealed_response(
    st: &AppState,
    headers: &HeaderMap,
    p: &Principal,
    dept: &str,
    added: crate::licence::Added,
    filed: Vec<crate::filing::Filed>,
) -> Response {
    let archive_id = filed.first().map(|f| f.record.id.clone()).unwrap_or_default();
    let mut added = added;
    if let Some(b) = filed.first().and_then(|f| f.archived.clone()) {
        added.pdf = b;
    }
    Metrics::inc(&st.metrics.sealed);
    tracing::info!(token = %p.token_id, dept = %dept, archive_id = %archive_id, "sealed");
    if wants_pdf(headers) {
        return pdf_response(
            StatusCode::CREATED,
            added.pdf,
            &archive_id,
            &[("x-seals", format!("{}/{}", added.present, added.required))],
        );
    }
    json_response(
        StatusCode::CREATED,
        serde_json::json!({
            "id": archive_id, "archive_id": archive_id, "sealed_by": dept, "present": added.present, "required": added.required,
            "locked": added.locked, "pdf_base64": base64::engine::general_purpose::STANDARD.encode(&added.pdf),
        }),
        &archive_id,
    )
}

/// POST /v1/verify: the PDF body's verification report (public).
#[utoipa::path(
    post,
    path = "/v1/verify",
    summary = "Verify a PDF: the same JSON report as `zhengyin verify --json`",
    params(("revocation" = Option<String>, Query, description = "strict (default): a certificate on the path without a current CRL (store or the PDF's DSS) is INDETERMINATE / TRY_LATER; soft-fail: only a warning")),
    request_body(content((Binary = "application/octet-stream"), (Binary = "application/pdf"))),
    responses((status = 200, description = "Verification report (docs/verification-report.md)", body = JsonObject))
)]
pub async fn verify(
    State(st): State<Arc<AppState>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    body: Bytes,
) -> Res {
    if body.is_empty() {
        return Err(ApiError::BadRequest("the body is empty; send the PDF as the request body".into()).into());
    }
    let mut trust = st.trust();
    // ?revocation=soft-fail: missing or stale revocation data is a warning, not INDETERMINATE.
    if let Some(p) = q.get("revocation") {
        let policy: crate::trust::RevocationPolicy = p.parse().map_err(ApiError::BadRequest)?;
        if policy != trust.revocation_policy {
            let mut t = (*trust).clone();
            t.revocation_policy = policy;
            trust = Arc::new(t);
        }
    }
    let st2 = st.clone();
    let report = super::blocking_cancellable(move |c| {
        let mut report = crate::verify::verify_with(
            &body,
            &trust,
            std::time::SystemTime::now(),
            &mut crate::pades::budget::Budget::new(c),
        )?;
        super::status::licence_status(&st2, &trust, &mut report);
        Ok(report)
    })
    .await?;
    st.metrics.record_report(&report);
    Ok(axum::Json(report).into_response())
}
