//! Handlers for proofs on demand (无证明城市, docs/proofs.md): a department asks another
//! department's data through the list of uses (POST /v1/proofs), anyone checks a proof token or
//! PDF (POST /v1/proofs/verify), archivists read who used a subject's data (POST /v1/uses/query),
//! (notification-and-commitment, 告知承诺, is `api::commitments`; it shares this module's helpers).
//!
//! Raw ID numbers arrive only in JSON bodies — never in paths or query strings, which end up in
//! access logs and proxies — and go straight to the library, which turns them into holder codes.
//! Logs, metrics and problem details name holder codes, never the ID. The work is
//! `proofs::proof::{request_in, verify_jws, uses_of}`, run in `spawn_blocking`.

#[allow(unused_imports)]
use crate::api::openapi::{Binary, JsonObject};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::auth::{Principal, Role};
use super::handlers::{forbid, principal};
use super::problem::{from_error, Problem, TYPE_PREFIX};
use super::{blocking, AppState};
use crate::error::{ApiError, Error, ProofError};
use crate::proofs::proof::{self, Outcome, Request};

pub(crate) type Res = Result<Response, Problem>;

/// Map a library error of the proof routes: refusals 403, bad subjects 422, unreadable tokens 400;
/// anything else as usual (internal details to the log only).
pub(crate) fn problem(e: Error) -> Problem {
    use StatusCode as S;
    match &e {
        Error::Proof(ProofError::Refused(r)) => {
            Problem::new(S::FORBIDDEN, "refused", "Refused by the list of uses (用证清单)", r.clone())
        }
        Error::Proof(ProofError::Data(d)) if d.starts_with("the subject") => Problem::new(
            S::UNPROCESSABLE_ENTITY,
            "invalid-subject",
            "Not a valid ID number or USCC",
            d.clone(),
        ),
        Error::Proof(ProofError::Token(d)) => {
            Problem::new(S::BAD_REQUEST, "bad-token", "Not a readable proof token", d.clone())
        }
        _ => from_error(&e),
    }
}

/// A 403 refusal that was recorded in the archive log: problem+json with the record's id.
pub(crate) fn refusal(reason: &str, record_id: &str, status: StatusCode) -> Response {
    let body = serde_json::json!({
        "type": format!("{TYPE_PREFIX}refused"), "title": "Refused by the list of uses (用证清单)", "status": status.as_u16(),
        "detail": reason, "record_id": record_id,
    });
    let mut r = (status, serde_json::to_vec(&body).unwrap_or_default()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    r
}

/// Hide anything in a JSON parser message that could be an ID number: quoted strings, and long
/// letter-digit runs (an ID sent as a bare number comes back as integer `370902…`).
pub(crate) fn redact(msg: &str) -> String {
    fn word_out(out: &mut String, word: &mut String) {
        let digits = word.chars().filter(char::is_ascii_digit).count();
        out.push_str(if word.len() >= 8 && digits >= 4 { "…" } else { word.as_str() });
        word.clear();
    }
    let mut out = String::new();
    for (i, part) in msg.split('"').enumerate() {
        if i % 2 == 1 {
            out.push_str("\"…\"");
            continue;
        }
        let mut word = String::new();
        for c in part.chars() {
            if c.is_ascii_alphanumeric() {
                word.push(c);
            } else {
                word_out(&mut out, &mut word);
                out.push(c);
            }
        }
        word_out(&mut out, &mut word);
    }
    out
}

/// Parse a JSON body; errors say where and what, never echo values.
pub(crate) fn parse_json<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Problem> {
    super::bodies::parse(body)
}

/// The caller's department, or 403 for other roles.
pub(crate) fn department(
    st: &AppState,
    headers: &HeaderMap,
    action: &str,
) -> Result<(Principal, String), Problem> {
    let p = principal(st, headers)?;
    match p.role.clone() {
        Role::Department { dept } => Ok((p, dept)),
        other => Err(forbid(
            &p,
            action,
            format!("a {} token cannot do this; use a department token", other.describe()),
        )),
    }
}

pub(crate) fn lock_err() -> Error {
    ApiError::Internal("archive lock poisoned".into()).into()
}

/// Body of POST /v1/proofs. No `Debug`: it carries a raw ID.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"kind": "social-insurance", "subject": "370902199001011235", "purpose": "370900-XK-0001", "valid_days": 30}))]
pub struct ProofBody {
    /// Proof kind on the list of uses, e.g. social-insurance.
    pub kind: String,
    /// ID number (GB 11643) or USCC (GB 32100); never logged.
    pub subject: String,
    /// Matter code (事项) on the list of uses.
    pub purpose: String,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 366)]
    pub valid_days: Option<u32>,
    /// Optional; must be the token's own department.
    #[serde(default)]
    pub by: Option<String>,
}

/// POST /v1/proofs: the calling department asks for a proof; answered by the holding department.
#[utoipa::path(
    post,
    path = "/v1/proofs",
    summary = "Ask for a proof (无证明): answered from the holding department's data, sealed, archived, use recorded",
    security(("bearer" = ["department"])),
    request_body(content = ProofBody, content_type = "application/json"),
    responses((status = 200, description = "The answer and its token {id, found, answer, holder, subject_code, token, pdf_record, token_record, use_record, pdf_url} (or the proof PDF with Accept: application/pdf)", content((JsonObject = "application/json"), (Binary = "application/pdf"))))
)]
pub async fn request(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Res {
    let (p, dept) = department(&st, &headers, "proof request")?;
    let req: ProofBody = parse_json(&body)?;
    if let Some(by) = &req.by {
        crate::proofs::fields::ident("by", by).map_err(|e| problem(e.into()))?;
        if by != &dept {
            return Err(forbid(
                &p,
                "proof request",
                format!("a token of department `{dept}` cannot ask on behalf of `{by}`"),
            ));
        }
    }
    let valid_days = req.valid_days.unwrap_or(30);
    if !(1..=366).contains(&valid_days) {
        return Err(ApiError::BadRequest("valid_days must be between 1 and 366".into()).into());
    }
    if req.subject.trim().is_empty() || req.kind.is_empty() || req.purpose.is_empty() {
        return Err(ApiError::BadRequest("kind, subject and purpose must not be empty".into()).into());
    }
    let (kind, purpose) = (req.kind.clone(), req.purpose.clone());
    let st2 = st.clone();
    let d2 = dept.clone();
    let outcome = blocking(move || {
        // Render, seal, verify and sign in parallel with other requests; archive one at a time.
        let prepared = proof::prepare(
            &st2.home,
            &st2.holders,
            &st2.trust(),
            &Request { by: &d2, kind: &req.kind, subject: &req.subject, purpose: &req.purpose, valid_days },
        )?;
        let _w = st2.write_lock.lock().map_err(|_| lock_err())?;
        proof::file(&st2.home, &st2.archive, prepared)
    })
    .await
    .map_err(problem)?;
    let a = match outcome {
        Outcome::Refused { reason, record_id } => {
            tracing::warn!(token = %p.token_id, dept = %dept, kind = %kind, purpose = %purpose, record = %record_id, reason = %reason, "proof request refused");
            return Ok(refusal(&reason, &record_id, StatusCode::FORBIDDEN));
        }
        Outcome::Answered(a) => a,
    };
    tracing::info!(token = %p.token_id, dept = %dept, kind = %kind, purpose = %purpose, subject = %a.subject_code, proof = %a.jti, found = a.found, "proof answered");
    if headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/pdf"))
    {
        let mut r = (StatusCode::OK, a.pdf).into_response();
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/pdf"));
        for (k, v) in [
            ("x-proof-id", &a.jti),
            ("x-archive-id", &a.pdf_record),
            ("x-token-record", &a.token_record),
            ("x-use-record", &a.use_record),
        ] {
            if let Ok(v) = HeaderValue::from_str(v) {
                h.insert(k, v);
            }
        }
        return Ok(r);
    }
    Ok(axum::Json(serde_json::json!({
        "id": a.jti, "found": a.found, "answer": a.answer, "holder": a.holder, "subject_code": a.subject_code, "token": a.jws,
        "pdf_record": a.pdf_record, "token_record": a.token_record, "use_record": a.use_record, "pdf_url": format!("/v1/archive/{}", a.pdf_record),
    }))
    .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct TokenBody {
    token: String,
}

/// POST /v1/proofs/verify (public): a proof PDF → the verification report; a JWS (text, or JSON
/// `{token}`) → the token check (`valid`, `problems`, `signer`, `chain`, `revocation`, `claims`).
#[utoipa::path(
    post,
    path = "/v1/proofs/verify",
    summary = "Check a proof token (JWS) or proof PDF",
    request_body(content((String = "text/plain"), (TokenBody = "application/json"), (Binary = "application/pdf"))),
    responses((status = 200, description = "Token check {valid, problems, signer, chain, revocation, claims}, or the PDF verification report", body = JsonObject))
)]
pub async fn verify(State(st): State<Arc<AppState>>, body: Bytes) -> Res {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest("the body is empty; send the proof PDF or its token".into()).into());
    }
    let trust = st.trust();
    if body.starts_with(b"%PDF") {
        let report = super::blocking_cancellable(move |c| {
            crate::verify::verify_with(
                &body,
                &trust,
                std::time::SystemTime::now(),
                &mut crate::pades::budget::Budget::new(c),
            )
        })
        .await?;
        st.metrics.record_report(&report);
        return Ok(axum::Json(report).into_response());
    }
    let text = if body.trim_ascii_start().starts_with(b"{") {
        parse_json::<TokenBody>(&body)?.token
    } else {
        String::from_utf8(body.to_vec()).map_err(|_| {
            Problem::from(ApiError::BadRequest("the body is neither a PDF nor a text token".into()))
        })?
    };
    let check = blocking(move || proof::verify_jws(&text, &trust, std::time::SystemTime::now()))
        .await
        .map_err(problem)?;
    Ok(axum::Json(check).into_response())
}

/// Body of POST /v1/uses/query. No `Debug`: it carries a raw ID.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"subject": "370902199001011235"}))]
pub struct UsesBody {
    pub subject: String,
}

/// POST /v1/uses/query (archivists): every use record and refusal about a subject, oldest first.
/// POST with the ID in the body, not GET with a query string, so the ID stays out of access logs.
#[utoipa::path(
    post,
    path = "/v1/uses",
    summary = "Every use record and refusal about a subject (ID in the body, not the URL)",
    security(("bearer" = ["archivist"])),
    request_body(content = UsesBody, content_type = "application/json"),
    responses((status = 200, description = "Use records and refusals, oldest first", body = Vec<JsonObject>))
)]
pub async fn uses(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Res {
    let p = principal(&st, &headers)?;
    if p.role != Role::Archivist {
        return Err(forbid(
            &p,
            "uses query",
            format!("a {} token cannot list a subject's uses; use an archivist token", p.role.describe()),
        ));
    }
    let req: UsesBody = parse_json(&body)?;
    let st2 = st.clone();
    let list =
        blocking(move || proof::uses_of(&st2.home, &st2.archive, &req.subject)).await.map_err(problem)?;
    tracing::info!(token = %p.token_id, count = list.len(), "uses listed");
    Ok(axum::Json(list).into_response())
}

/// POST /v1/uses/query: the same as POST /v1/uses.
#[utoipa::path(
    post,
    path = "/v1/uses/query",
    summary = "The same as POST /v1/uses",
    security(("bearer" = ["archivist"])),
    request_body(content = UsesBody, content_type = "application/json"),
    responses((status = 200, description = "Use records and refusals, oldest first", body = Vec<JsonObject>))
)]
pub async fn uses_query(st: State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Res {
    uses(st, headers, body).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn parser_messages_lose_anything_like_an_id() {
        let r =
            super::redact("invalid type: string \"370902199001011235\", expected u32 at line 1 column 40");
        assert_eq!(r, "invalid type: string \"…\", expected u32 at line 1 column 40");
        let r = super::redact("invalid type: integer `370902199001011235`, expected a string; unknown field `91370900MA3C00001T`");
        assert!(!r.contains("370902199001011235") && !r.contains("91370900MA3C00001T"), "{r}");
        assert_eq!(
            super::redact("missing field `purpose` at line 1 column 2"),
            "missing field `purpose` at line 1 column 2"
        );
    }
}
