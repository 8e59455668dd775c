//! 亮证 over HTTP: `POST /v1/licences/{id}/presentations` (holder-app tokens) makes a short-lived
//! signed presentation of the fields the holder chose (`licence::presentation`) and its QR code
//! (PNG and SVG); the scan page (`GET /verify?p=…`, pages/present.rs) consumes its nonce here.
//!
//! Nonces live in the archive's sled database, tree [`NONCES`]: nonce → exp (8 bytes, big
//! endian), inserted by compare-and-swap on the first scan, so a second scan of the same code —
//! a screenshot, a photo of the phone — is refused; entries past their exp are pruned, since the
//! expiry refuses those codes anyway. Every presentation and every scan is a use record in the
//! archive log, under the holder's pseudonymous code (the holder's right to know: POST /v1/uses).
//!
//! Knows request and response shapes, sled and the use records; the JWS is the library's.

#[allow(unused_imports)]
use crate::api::openapi::JsonObject;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use super::auth::Role;
use super::handlers::{forbid, principal};
use super::problem::Problem;
use super::{blocking, AppState};
use crate::archive::Metadata;
use crate::error::{ApiError, Result as ZyResult, StatusError};
use crate::licence::presentation::{self, MAX_TTL_SECS};
use crate::licence::status::State as Indexed;

/// The sled tree of scanned nonces.
pub const NONCES: &str = "presentation-nonces";
/// Pixels per module of the PNG.
const PNG_SCALE: usize = 6;

/// Body of POST /v1/licences/{id}/presentations.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"fields": ["licence_type", "holder", "valid_until"], "ttl_secs": 120}))]
pub struct PresentRequest {
    /// Names from `licence::presentation::FIELDS`.
    #[schema(schema_with = crate::api::openapi::presentation_fields)]
    pub fields: Vec<String>,
    /// Life of the code, seconds (1..=300; default 300).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 300)]
    pub ttl_secs: Option<i64>,
}

fn now() -> i64 {
    ::time::OffsetDateTime::now_utc().unix_timestamp()
}

fn unprocessable(detail: String) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-presentation",
        "The presentation cannot be made",
        detail,
    )
}

/// Where scans go: `<public_url>/verify` of the server, else the region's.
pub fn verify_base(st: &AppState) -> String {
    match &st.config.public_url {
        Some(u) => format!("{}/verify", u.trim_end_matches('/')),
        None => st.region.region.verify_base(),
    }
}

/// Record a presentation or a scan as a use record of the licence's holder; returns its id.
pub fn record_use(
    st: &AppState,
    m: &Metadata,
    kind: &str,
    by: &str,
    extra: serde_json::Value,
) -> ZyResult<String> {
    let secret = crate::proofs::holders::region_key(&st.home)?;
    let subject_code = crate::proofs::holders::normalise_id(&m.holder_code)
        .map(|id| crate::proofs::holders::holder_code(&secret, &id))
        .unwrap_or_default();
    let (at, _) = crate::proofs::now();
    let mut body = json!({
        "type": "use-record", "id": crate::proofs::random_id("UR")?, "at": at, "kind": kind, "by": by,
        "licence": m.identifier, "subject_code": subject_code,
    });
    if let (Some(o), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    let _w = st.write_lock.lock().map_err(|_| ApiError::Internal("archive lock poisoned".into()))?;
    let rec =
        crate::proofs::append_event(&st.archive, "use-record", &subject_code, &m.identifier, by, &body)?;
    st.archive.flush()?;
    crate::filing::sign_tree_head(&st.home, &st.archive)?;
    Ok(rec.id)
}

/// Record `nonce` as scanned: true the first time, false for a replay. Prunes expired entries.
pub fn first_scan(st: &AppState, nonce: &str, exp: i64, now: i64) -> ZyResult<bool> {
    let store = |e: sled::Error| crate::error::ArchiveError::Store(e.to_string());
    let tree = st.archive.db.open_tree(NONCES).map_err(store)?;
    let first = tree
        .compare_and_swap(nonce.as_bytes(), None as Option<&[u8]>, Some(&exp.to_be_bytes()[..]))
        .map_err(store)?
        .is_ok();
    let stale: Vec<_> = tree
        .iter()
        .filter_map(|kv| kv.ok())
        .filter(|(_, v)| <[u8; 8]>::try_from(v.as_ref()).is_ok_and(|b| i64::from_be_bytes(b) < now - 60))
        .take(256)
        .map(|(k, _)| k)
        .collect();
    for k in stale {
        let _ = tree.remove(k);
    }
    tree.flush().map_err(store)?;
    Ok(first)
}

/// POST /v1/licences/{id}/presentations: a signed presentation of the chosen fields and its QR code.
#[utoipa::path(
    post,
    path = "/v1/licences/{id}/presentations",
    summary = "亮证: a short-lived signed presentation (JWS by the status key, chosen fields only, exp ≤ 300 s, single-use nonce) and its QR code as PNG and SVG; recorded as a use",
    security(("bearer" = ["holder-app"])),
    request_body(content = PresentRequest, content_type = "application/json"),
    responses((status = 201, description = "{presentation, url, identifier, version, fields, nonce, iat, exp, expires_at, use_record, qr_png_base64, qr_svg}", body = JsonObject), (status = 409, description = "RFC 9457 problem", body = Problem, content_type = "application/problem+json"), (status = 422, description = "RFC 9457 problem", body = Problem, content_type = "application/problem+json"))
)]
pub async fn create(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let p = principal(&st, &headers)?;
    if p.role != Role::HolderApp {
        return Err(forbid(
            &p,
            "presentation",
            format!("a {} token cannot make a presentation; use a holder-app token", p.role.describe()),
        ));
    }
    let req: PresentRequest = super::bodies::parse(&body)?;
    let ttl = req.ttl_secs.unwrap_or(MAX_TTL_SECS);
    if !(1..=MAX_TTL_SECS).contains(&ttl) {
        return Err(unprocessable(format!("ttl_secs must be 1 to {MAX_TTL_SECS}")));
    }
    let identifier = super::status::identifier_of(&st, &id)?;
    let signer = super::status::signer(&st)?;
    let st2 = st.clone();
    let token_id = p.token_id.clone();
    let out = blocking(move || {
        let view = crate::licence::status::current(&st2.archive, &identifier)?
            .ok_or_else(|| StatusError::Unknown(identifier.chars().take(120).collect()))?;
        if view.status != Indexed::Valid || view.expired {
            return Err(StatusError::Refused(format!(
                "{} is {}{}: only a licence in force can be shown",
                view.identifier,
                view.status_zh,
                if view.expired { " (validity ended)" } else { "" }
            ))
            .into());
        }
        let m = st2.archive.get(&view.archive_id)?.metadata;
        let fields = presentation::choose(&m, &req.fields).map_err(ApiError::BadRequest)?;
        let names: Vec<String> = fields.keys().cloned().collect();
        let (jws, claims) = presentation::sign(&signer, &m, fields, ttl, now())?;
        let url = format!("{}?p={jws}", verify_base(&st2));
        let png = crate::document::qr::png(&url, PNG_SCALE)?;
        let svg = crate::document::qr::svg(&url)?;
        let extra = json!({ "fields": names, "nonce": claims.nonce, "exp": claims.exp });
        let use_record = record_use(&st2, &m, "presentation", &token_id, extra)?;
        Ok(json!({
            "presentation": jws, "url": url, "identifier": claims.sub, "version": claims.ver,
            "fields": claims.fields, "nonce": claims.nonce, "iat": claims.iat, "exp": claims.exp,
            "expires_at": crate::trust::rfc3339(claims.exp), "use_record": use_record,
            "qr_png_base64": base64::engine::general_purpose::STANDARD.encode(png), "qr_svg": svg,
        }))
    })
    .await
    .map_err(|e| match e {
        crate::Error::Api(ApiError::BadRequest(d)) => unprocessable(d),
        e => Problem::from(e),
    })?;
    tracing::info!(token = %p.token_id, identifier = %out["identifier"], "presentation made");
    let mut r = (StatusCode::CREATED, axum::Json(out)).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}
