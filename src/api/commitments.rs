//! Handlers for notification-and-commitment (告知承诺, docs/proofs.md): a department records a
//! holder's commitment in place of a proof (POST /v1/commitments, a sealed commitment PDF filed in
//! the archive) and later checks it once it is due (POST /v1/commitments/check).
//!
//! Raw ID numbers arrive only in JSON bodies and go straight to the library
//! (`proofs::commitment`), which turns them into holder codes; errors the caller can fix are 422.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;

use super::auth::Role;
use super::handlers::{forbid, principal};
use super::problem::Problem;
use super::proofs::{department, lock_err, parse_json, problem, refusal, Res};
use super::{blocking, AppState};
use crate::api::openapi::{Binary, JsonObject};
use crate::error::{ApiError, Error, ProofError};

/// Body of POST /v1/commitments. No `Debug`: it carries a raw ID.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"subject": "370902199001011235", "matter": "370900-XK-0001", "statement": "本人承诺：本人社会保险参保状态正常。", "check_days": 90}))]
pub struct CommitBody {
    /// ID number or USCC; never logged.
    pub subject: String,
    /// Matter code (事项) with a commitment rule on the list of uses.
    pub matter: String,
    #[schema(max_length = 200)]
    pub statement: String,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub check_days: Option<u32>,
    /// Optional; must be the token's own department.
    #[serde(default)]
    pub by: Option<String>,
}

/// Commitment errors the caller can fix (statement, check period) are 422; a missing id 404.
fn commit_problem(e: Error) -> Problem {
    match &e {
        Error::Proof(ProofError::Other(d))
            if d.starts_with("the statement") || d.starts_with("the check period") =>
        {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-commitment",
                "The commitment cannot be recorded",
                d.clone(),
            )
        }
        Error::Proof(ProofError::Other(d)) if d.starts_with("no commitment") => {
            Problem::from(ApiError::NotFound(d.clone()))
        }
        _ => problem(e),
    }
}

/// POST /v1/commitments: the calling department records a commitment (告知承诺), sealed by it.
#[utoipa::path(
    post,
    path = "/v1/commitments",
    summary = "Record a commitment (告知承诺) taken by the calling department, sealed with its seal",
    security(("bearer" = ["department"])),
    request_body(content = CommitBody, content_type = "application/json"),
    responses((status = 201, description = "{id, subject_code, record, terms_record, kinds, check_due, pdf_url} (or the sealed PDF with Accept: application/pdf)", content((JsonObject = "application/json"), (Binary = "application/pdf"))))
)]
pub async fn commit(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Res {
    use crate::proofs::commitment::{self, CommitOutcome, CommitRequest};
    let (p, dept) = department(&st, &headers, "commitment")?;
    let req: CommitBody = parse_json(&body)?;
    if let Some(by) = &req.by {
        crate::proofs::fields::ident("by", by).map_err(|e| problem(e.into()))?;
        if by != &dept {
            return Err(forbid(
                &p,
                "commitment",
                format!("a token of department `{dept}` cannot take commitments on behalf of `{by}`"),
            ));
        }
    }
    let matter = req.matter.clone();
    let st2 = st.clone();
    let d2 = dept.clone();
    let outcome = blocking(move || {
        let _w = st2.write_lock.lock().map_err(|_| lock_err())?;
        let r = CommitRequest {
            by: &d2,
            subject: &req.subject,
            matter: &req.matter,
            statement: &req.statement,
            check_days: req.check_days.unwrap_or(90),
        };
        commitment::commit_in(&st2.home, &st2.archive, &r)
    })
    .await
    .map_err(commit_problem)?;
    let c = match outcome {
        CommitOutcome::Refused { reason, record_id } => {
            tracing::warn!(token = %p.token_id, dept = %dept, matter = %matter, record = %record_id, reason = %reason, "commitment refused");
            return Ok(refusal(&reason, &record_id, StatusCode::FORBIDDEN));
        }
        CommitOutcome::Recorded(c) => c,
    };
    tracing::info!(token = %p.token_id, dept = %dept, matter = %matter, subject = %c.subject_code, commitment = %c.id, "commitment recorded");
    if headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/pdf"))
    {
        let mut r = (StatusCode::CREATED, c.pdf).into_response();
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
        for (k, v) in [("x-commitment-id", &c.id), ("x-archive-id", &c.record)] {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.insert(k, v);
            }
        }
        return Ok(r);
    }
    Ok((
        StatusCode::CREATED,
        axum::Json(serde_json::json!({
            "id": c.id, "subject_code": c.subject_code, "record": c.record, "terms_record": c.terms_record, "kinds": c.kinds,
            "check_due": c.check_due, "pdf_url": format!("/v1/archive/{}", c.record),
        })),
    )
        .into_response())
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckBody {
    #[serde(default)]
    pub id: Option<String>,
}

/// The department that took commitment `id`, from its `commitment-record` in the archive.
fn commitment_by(st: &AppState, id: &str) -> crate::error::Result<Option<String>> {
    for r in st
        .archive
        .find(crate::archive::index::By::Identifier, id)?
        .into_iter()
        .filter(|r| r.metadata.kind == "commitment-record")
    {
        let v: serde_json::Value =
            serde_json::from_slice(&st.archive.verified_bytes(&r)?).unwrap_or_default();
        if let Some(by) = v.get("by").and_then(|b| b.as_str()) {
            return Ok(Some(by.to_string()));
        }
    }
    Ok(None)
}

/// POST /v1/commitments/check: archivists check every open commitment (or `{id}`); a department
/// checks one of its own (`id` required).
#[utoipa::path(
    post,
    path = "/v1/commitments/check",
    summary = "Check open commitments against the holders' data (a department: one of its own, by id)",
    security(("bearer" = ["archivist", "department"])),
    request_body(content = Option<CheckBody>, content_type = "application/json"),
    responses((status = 200, description = "{checked_at, kept, broken, unverifiable, already_decided, not_due, commitments}", body = JsonObject), (status = 404, description = "RFC 9457 problem", body = Problem, content_type = "application/problem+json"))
)]
pub async fn check(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Res {
    let p = principal(&st, &headers)?;
    let req: CheckBody =
        if body.iter().all(u8::is_ascii_whitespace) { CheckBody::default() } else { parse_json(&body)? };
    if let Some(id) = &req.id {
        crate::proofs::fields::identifier("id", id).map_err(|e| problem(e.into()))?;
    }
    let st2 = st.clone();
    match &p.role {
        Role::Archivist => {}
        Role::Department { dept } => {
            let Some(id) = req.id.clone() else {
                return Err(forbid(
                    &p,
                    "commitment check",
                    "a department checks one of its own commitments: give its `id`".into(),
                ));
            };
            let by = blocking(move || commitment_by(&st2, &id)).await?;
            match by {
                None => return Err(ApiError::NotFound("no such commitment in the archive".into()).into()),
                Some(b) if &b != dept => {
                    return Err(forbid(
                        &p,
                        "commitment check",
                        "this commitment was taken by another department".into(),
                    ))
                }
                Some(_) => {}
            }
        }
        other => {
            return Err(forbid(
                &p,
                "commitment check",
                format!("a {} token cannot check commitments", other.describe()),
            ))
        }
    }
    let st2 = st.clone();
    let report = blocking(move || {
        let _w = st2.write_lock.lock().map_err(|_| lock_err())?;
        crate::proofs::commitment::check_in(&st2.home, &st2.archive, &st2.holders, req.id.as_deref())
    })
    .await
    .map_err(commit_problem)?;
    tracing::info!(token = %p.token_id, kept = report.kept, broken = report.broken, unverifiable = report.unverifiable, "commitments checked");
    Ok(axum::Json(report).into_response())
}
