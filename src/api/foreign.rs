//! Cross-region proofs over HTTP (跨区域核验, docs/proofs.md): region A answers departments of
//! other regions at POST /v1/proofs/foreign (only with a credential A issued to that department,
//! role `foreign`); region B's departments ask through their own server at POST
//! /v1/proofs/remote, which calls A with the credential B holds for them, checks the answer
//! against A's imported trust list and files it. Both sides record the use or the refusal.
//!
//! Thin: the work is `proofs::proof::prepare_as` (A) and `proofs::foreign::{fetch, file}` (B),
//! run in `spawn_blocking`; archive writes are serialised by the state's write lock.

#[allow(unused_imports)]
use crate::api::openapi::JsonObject;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::Engine;
use serde::Deserialize;

use super::auth::Role;
use super::handlers::{forbid, principal};
use super::proofs::{department, lock_err, parse_json, problem, refusal, Res};
use super::{blocking, AppState};
use crate::error::ApiError;
use crate::proofs::foreign::{self, RemoteOutcome, RemoteRequest};
use crate::proofs::proof::{self, ForeignAsker, Outcome, Request};

/// Body of POST /v1/proofs/foreign. No `Debug`: it carries a raw ID.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForeignBody {
    pub kind: String,
    pub subject: String,
    pub purpose: String,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 366)]
    pub valid_days: Option<u32>,
}

/// Body of POST /v1/proofs/remote. No `Debug`: it carries a raw ID.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteBody {
    /// The other region: its id, or the URL its credential was stored with.
    pub region: String,
    pub kind: String,
    pub subject: String,
    pub purpose: String,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 366)]
    pub valid_days: Option<u32>,
}

fn valid_days(v: Option<u32>) -> Result<u32, ApiError> {
    let d = v.unwrap_or(30);
    if (1..=366).contains(&d) {
        Ok(d)
    } else {
        Err(ApiError::BadRequest("valid_days must be between 1 and 366".into()))
    }
}

/// POST /v1/proofs/foreign (region A): a department of another region asks, with the credential
/// this region issued to it; the list of uses decides by its region and USCC.
#[utoipa::path(
    post,
    path = "/v1/proofs/foreign",
    summary = "Cross-region proof (跨区域核验): a department of another region asks, with the credential this region issued to it (role foreign)",
    security(("bearer" = ["foreign"])),
    request_body(content = ForeignBody, content_type = "application/json"),
    responses((status = 200, description = "The answer and its token (as POST /v1/proofs)", body = JsonObject))
)]
pub async fn answer(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Res {
    let p = principal(&st, &headers)?;
    let Role::Foreign { region, uscc } = p.role.clone() else {
        return Err(forbid(
            &p,
            "cross-region proof",
            "only a credential issued to another region's department asks here; this region's \
             departments use POST /v1/proofs"
                .into(),
        ));
    };
    let req: ForeignBody = parse_json(&body)?;
    let days = valid_days(req.valid_days)?;
    let st2 = st.clone();
    let (r2, u2) = (region.clone(), uscc.clone());
    let outcome = blocking(move || {
        let asker = ForeignAsker { region: &r2, uscc: &u2 };
        let r = Request {
            by: "",
            kind: &req.kind,
            subject: &req.subject,
            purpose: &req.purpose,
            valid_days: days,
        };
        let prepared = proof::prepare_as(&st2.home, &st2.holders, &st2.trust(), &r, Some(asker))?;
        let _w = st2.write_lock.lock().map_err(|_| lock_err())?;
        proof::file(&st2.home, &st2.archive, prepared)
    })
    .await
    .map_err(problem)?;
    let a = match outcome {
        Outcome::Refused { reason, record_id } => {
            tracing::warn!(token = %p.token_id, region = %region, uscc = %uscc, record = %record_id, reason = %reason, "cross-region proof refused");
            return Ok(refusal(&reason, &record_id, StatusCode::FORBIDDEN));
        }
        Outcome::Answered(a) => a,
    };
    tracing::info!(token = %p.token_id, region = %region, uscc = %uscc, proof = %a.jti, "cross-region proof answered");
    let own = st.home.region().map(|r| r.region.id).unwrap_or_default();
    Ok(axum::Json(serde_json::json!({
        "id": a.jti, "found": a.found, "answer": a.answer, "holder": a.holder, "region": own,
        "token": a.jws, "pdf_base64": base64::engine::general_purpose::STANDARD.encode(&a.pdf),
        "pdf_record": a.pdf_record, "token_record": a.token_record, "use_record": a.use_record,
    }))
    .into_response())
}

/// POST /v1/proofs/remote (region B): the calling department asks another region, through the
/// credential this server holds for it (`zhengyin proof credential add`).
#[utoipa::path(
    post,
    path = "/v1/proofs/remote",
    summary = "Cross-region proof: the calling department asks another region through this server, which checks and files the answer",
    security(("bearer" = ["department"])),
    request_body(content = RemoteBody, content_type = "application/json"),
    responses((status = 200, description = "The other region's answer, checked and filed", body = JsonObject))
)]
pub async fn remote(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Res {
    let (p, dept) = department(&st, &headers, "cross-region proof request")?;
    let req: RemoteBody = parse_json(&body)?;
    let days = valid_days(req.valid_days)?;
    let cred = foreign::credential_for(&st.home, &req.region, &dept).map_err(problem)?;
    let st2 = st.clone();
    let outcome = blocking(move || {
        let r =
            RemoteRequest { kind: &req.kind, subject: &req.subject, purpose: &req.purpose, valid_days: days };
        // The other region is called without holding the write lock; only filing takes it.
        let fetched = foreign::fetch(&st2.home, &st2.trust(), &cred, &r)?;
        let _w = st2.write_lock.lock().map_err(|_| lock_err())?;
        foreign::file(&st2.home, &st2.archive, fetched)
    })
    .await
    .map_err(problem)?;
    match outcome {
        RemoteOutcome::Refused { reason, record_id, remote_record } => {
            tracing::warn!(token = %p.token_id, dept = %dept, record = %record_id, remote = %remote_record, "cross-region proof refused by the other region");
            let mut r = refusal(&reason, &record_id, StatusCode::FORBIDDEN);
            if let Ok(v) = axum::http::HeaderValue::from_str(&remote_record) {
                r.headers_mut().insert("x-remote-record", v);
            }
            Ok(r)
        }
        RemoteOutcome::Answered(a) => Ok(axum::Json(serde_json::json!({
            "id": a.jti, "found": a.found, "answer": a.answer, "holder": a.holder, "region": a.region,
            "subject_code": a.subject_code, "token": a.jws, "pdf_record": a.pdf_record,
            "token_record": a.token_record, "use_record": a.use_record,
            "remote_use_record": a.remote_use_record, "pdf_url": format!("/v1/archive/{}", a.pdf_record),
        }))
        .into_response()),
    }
}
