//! Two-step (external) sealing over HTTP, for a department whose key is in a UKey on a clerk's
//! PC: `POST /v1/licences/{id}/seals/prepare` answers the digest to sign and a handle;
//! `POST /v1/licences/{id}/seals/complete` takes the signature value (or a CMS SignerInfo),
//! and files the seal only once the whole document verifies. The caller's department token
//! decides whose seal; a handle is single-use, expires, and only its department may spend it.
//!
//! Knows request and response shapes; the work is `licence::external` and `filing`.

#[allow(unused_imports)]
use crate::api::openapi::JsonObject;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;

use super::handlers::sealed_response;
use super::problem::Problem;
use super::proofs::{department, lock_err, parse_json};
use super::{blocking, AppState};
use crate::error::{ApiError, ExternalError};
use crate::licence::external;

/// Body of POST …/seals/prepare (may be empty).
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrepareBody {
    /// Seconds the handle stays valid (1 to 3600; default 600).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3600)]
    pub ttl_seconds: Option<u64>,
}

/// Body of POST …/seals/complete: the handle and exactly one of the two.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    #[schema(pattern = "^[0-9a-f]{32}$")]
    pub handle: String,
    /// Base64 of the ECDSA signature over the digest: DER, or raw r‖s (64 bytes).
    #[serde(default)]
    #[schema(format = Byte)]
    pub signature: Option<String>,
    /// Base64 of a DER CMS SignerInfo over exactly the prepared signed attributes.
    #[serde(default)]
    #[schema(format = Byte)]
    pub signer_info: Option<String>,
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// POST /v1/licences/{id}/seals/prepare
#[utoipa::path(
    post,
    path = "/v1/licences/{id}/seals/prepare",
    summary = "Two-step seal, step 1 (key in a UKey): the SHA-256 of the CMS signed attributes to sign with the calling department's key, and a single-use handle that expires",
    security(("bearer" = ["department"])),
    request_body(content = Option<PrepareBody>, content_type = "application/json"),
    responses((status = 200, description = "{handle, dept, digest_algorithm, signature_algorithm, digest_to_sign (base64 SHA-256 of signed_attributes), digest_to_sign_hex, signed_attributes (base64 DER), certificate (base64 DER), expires}", body = JsonObject))
)]
pub async fn prepare(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let (_p, dept) = department(&st, &headers, "seal prepare")?;
    let req: PrepareBody =
        if body.iter().all(u8::is_ascii_whitespace) { PrepareBody::default() } else { parse_json(&body)? };
    let ttl = req.ttl_seconds.unwrap_or(external::DEFAULT_TTL);
    let st2 = st.clone();
    let started = blocking(move || {
        let rec = st2.archive.get(&id)?;
        let bytes = st2.archive.verified_bytes(&rec)?;
        external::prepare(&st2.home, &bytes, &dept, ttl, Some(id))
    })
    .await?;
    let hex = crate::hex::encode(&started.digest);
    Ok(axum::Json(serde_json::json!({
        "handle": started.handle,
        "dept": started.dept,
        "digest_algorithm": "SHA-256",
        "signature_algorithm": "ECDSA P-256 (ecdsa-with-SHA256)",
        "digest_to_sign": b64().encode(started.digest),
        "digest_to_sign_hex": hex,
        "signed_attributes": b64().encode(&started.signed_attrs),
        "certificate": b64().encode(&started.certificate),
        "expires": rfc3339(started.expires),
    }))
    .into_response())
}

/// POST /v1/licences/{id}/seals/complete
#[utoipa::path(
    post,
    path = "/v1/licences/{id}/seals/complete",
    summary = "Two-step seal, step 2: the signature value (or a CMS SignerInfo) for a handle; the seal is assembled, the whole document verified, then archived",
    security(("bearer" = ["department"])),
    request_body(content = CompleteBody, content_type = "application/json"),
    responses((status = 201, description = "The newly sealed licence, archived under a new id (as POST /v1/licences/{id}/seals)", body = JsonObject), (status = 409, description = "RFC 9457 problem", body = Problem, content_type = "application/problem+json"), (status = 410, description = "RFC 9457 problem", body = Problem, content_type = "application/problem+json"), (status = 422, description = "RFC 9457 problem", body = Problem, content_type = "application/problem+json"))
)]
pub async fn complete(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let (p, dept) = department(&st, &headers, "seal complete")?;
    let req: CompleteBody = parse_json(&body)?;
    let sent = match (&req.signature, &req.signer_info) {
        (Some(v), None) | (None, Some(v)) => b64()
            .decode(v.trim())
            .map_err(|_| ApiError::BadRequest("`signature` / `signer_info` is not base64".into()))?,
        _ => {
            return Err(
                ApiError::BadRequest("send exactly one of `signature` and `signer_info`".into()).into()
            )
        }
    };
    let st2 = st.clone();
    let dept2 = dept.clone();
    let (added, filed) = blocking(move || {
        // The handle must have been prepared on this record, by this department.
        let (owner, origin) = external::owner(&st2.home, &req.handle)?;
        if owner != dept2 {
            return Err(
                ExternalError::OtherDepartment { handle: req.handle.clone(), owner, dept: dept2 }.into()
            );
        }
        if origin.as_deref() != Some(id.as_str()) {
            return Err(ExternalError::UnknownHandle(format!(
                "{} (not prepared on record {id})",
                req.handle
            ))
            .into());
        }
        let done = external::complete(&st2.home, &req.handle, &sent, Some(&dept2))?;
        let _w = st2.write_lock.lock().map_err(|_| lock_err())?;
        let filed = crate::filing::file_batch_in(
            &st2.home,
            &st2.archive,
            &[(format!("{id}+{dept2}.pdf"), done.added.pdf.clone())],
            "licence",
            &mut |_, _| {},
        )?;
        Ok((done.added, filed))
    })
    .await?;
    Ok(sealed_response(&st, &headers, &p, &dept, added, filed))
}
