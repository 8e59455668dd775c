//! Handlers for the PKI and the archive: revoke (CA operators of the issuing CA only), CRLs and
//! the signed trust list (public), archive records and proofs (any token), the tree head
//! (public), audits (archivists), plus health, metrics, the OpenAPI description and the 404.
//!
//! Knows request and response shapes; the work is `pki::revoke`, `trust::list`, `filing`.

#[allow(unused_imports)]
use crate::api::openapi::{Binary, JsonObject};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;

use super::auth::Role;
use super::handlers::{forbid, principal};
use super::metrics::Metrics;
use super::problem::Problem;
use super::{blocking, AppState};
use crate::error::ApiError;

type Res = Result<Response, Problem>;

fn with_type(body: impl IntoResponse, ct: &'static str) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    r
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::revocation_reason)]
    pub reason: Option<String>,
    /// With keyCompromise: RFC 3339 time since when the key is known or suspected to be
    /// compromised (the CRL entry's invalidityDate).
    #[serde(default)]
    #[schema(schema_with = crate::api::openapi::date_time)]
    pub compromised_at: Option<String>,
}

/// POST /v1/certificates/{serial}/revoke.
#[utoipa::path(
    post,
    path = "/v1/certificates/{serial}/revoke",
    summary = "Revoke a certificate (operator of the CA that issued it)",
    security(("bearer" = ["ca-operator"])),
    request_body(content = Option<RevokeRequest>, content_type = "application/json"),
    responses((status = 200, description = "The revocation {serial, ca, subject, revoked_at, reason, already}", body = JsonObject))
)]
pub async fn revoke(
    State(st): State<Arc<AppState>>,
    Path(serial): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Res {
    let p = principal(&st, &headers)?;
    let req: RevokeRequest = super::bodies::parse_or_default(&body)?;
    let Role::CaOperator { ca } = p.role.clone() else {
        return Err(forbid(
            &p,
            "revoke",
            format!("a {} token cannot revoke certificates", p.role.describe()),
        ));
    };
    if crate::pki::revoke::normalise_serial(&serial).is_none() {
        return Err(ApiError::BadRequest(format!("`{serial}` is not a hexadecimal serial number")).into());
    }
    let st2 = st.clone();
    let s2 = serial.clone();
    let (issuer, _) = blocking(move || crate::pki::revoke::find_issuer(&st2.home, &s2)).await?;
    if issuer != ca {
        return Err(forbid(
            &p,
            "revoke",
            format!("certificate {serial} was issued by CA `{issuer}`; this token operates CA `{ca}`"),
        ));
    }
    if let Some(r) = &req.reason {
        if !crate::pki::revoke::REASONS.contains(&r.as_str()) {
            return Err(ApiError::BadRequest(format!(
                "unknown reason `{r}` (known: {})",
                crate::pki::revoke::REASONS.join(", ")
            ))
            .into());
        }
    }
    if req.compromised_at.is_some() && req.reason.as_deref() != Some("keyCompromise") {
        return Err(ApiError::BadRequest("compromised_at goes with reason keyCompromise only".into()).into());
    }
    let compromised_at = match req.compromised_at.as_deref() {
        None => None,
        Some(t) => Some(
            ::time::OffsetDateTime::parse(t, &::time::format_description::well_known::Rfc3339)
                .map_err(|_| ApiError::BadRequest(format!("compromised_at `{t}` is not an RFC 3339 time")))?
                .unix_timestamp(),
        ),
    };
    let st2 = st.clone();
    let done = blocking(move || {
        let r = crate::pki::revoke::revoke(&st2.home, &serial, req.reason.as_deref(), compromised_at)?;
        st2.reload_trust()?;
        Ok(r)
    })
    .await?;
    Metrics::inc(&st.metrics.revoked);
    tracing::warn!(token = %p.token_id, ca = %done.ca, serial = %done.serial, "revoked");
    Ok(axum::Json(done).into_response())
}

fn known_ca(st: &AppState, ca: &str) -> Result<(), Problem> {
    if st.region.ca(ca).is_none() {
        return Err(ApiError::NotFound(format!("no CA `{ca}` in region {}", st.region.region.id)).into());
    }
    Ok(())
}

/// GET /v1/crl/{name}: the DER CRL published under `name` (public): a CA id, or the name of a
/// key a CA rolled to (`pki::ca_keys`); each key's CRL keeps the name its certificates carry.
#[utoipa::path(
    get,
    path = "/v1/crl/{name}",
    summary = "A CA's current CRL (DER), by CA id or by the name of a key the CA rolled to",
    responses((status = 200, description = "DER CRL", body = Binary, content_type = "application/pkix-crl"))
)]
pub async fn crl(State(st): State<Arc<AppState>>, Path(name): Path<String>) -> Res {
    let name = name.strip_suffix(".crl").unwrap_or(&name).to_string();
    if crate::pki::ca_keys::ca_of_crl(&st.home, &st.region, &name).is_none() {
        known_ca(&st, &name)?;
    }
    let path = st.home.crl_file(&name);
    let der = blocking(move || std::fs::read(&path).map_err(crate::error::io_at(&path))).await?;
    Ok(with_type(der, "application/pkix-crl"))
}

/// GET /crl/{file}: the same CRL at the distribution point certificates name
/// (`<public_url>/crl/<ca>.crl`).
#[utoipa::path(
    get,
    path = "/crl/{file}",
    summary = "A CA's current CRL (DER) at the certificates' CRL distribution point: file is `<ca>.crl`",
    responses((status = 200, description = "DER CRL", body = Binary, content_type = "application/pkix-crl"))
)]
pub async fn crl_distribution_point(st: State<Arc<AppState>>, file: Path<String>) -> Res {
    crl(st, file).await
}

/// GET /v1/trust-list: this region's signed trust list (public).
#[utoipa::path(
    get,
    path = "/v1/trust-list",
    summary = "This region's signed trust list",
    responses((status = 200, description = "The signed trust list (docs/api.md)", body = JsonObject))
)]
pub async fn trust_list(State(st): State<Arc<AppState>>) -> Res {
    let st2 = st.clone();
    let list = blocking(move || {
        crate::trust::list::build(
            &st2.home,
            st2.config.public_url.as_deref(),
            ::time::OffsetDateTime::now_utc().unix_timestamp(),
        )
    })
    .await?;
    Ok(axum::Json(list).into_response())
}

/// GET /v1/province-list: the signed list of this province's regions' trust lists (public; 404
/// problem when this home is not a province home).
#[utoipa::path(
    get,
    path = "/v1/province-list",
    summary = "The signed list of this province's regions' trust lists",
    responses((status = 200, description = "The signed province list (docs/cli.md, `zhengyin province`)", body = JsonObject), (status = 404, description = "RFC 9457 problem: this home is not a province home", body = Problem, content_type = "application/problem+json"))
)]
pub async fn province_list(State(st): State<Arc<AppState>>) -> Res {
    if !crate::trust::province::is_province_home(&st.home) {
        return Err(ApiError::NotFound("this home is not a province home".into()).into());
    }
    let st2 = st.clone();
    let list = blocking(move || {
        crate::trust::province::build(&st2.home, ::time::OffsetDateTime::now_utc().unix_timestamp())
    })
    .await?;
    Ok(axum::Json(list).into_response())
}

/// GET /v1/archive/tree-head: the latest signed checkpoint (public).
#[utoipa::path(
    get,
    path = "/v1/archive/tree-head",
    summary = "The archive's latest signed tree head (C2SP checkpoint)",
    responses((status = 200, description = "{size, checkpoint, verifier_key}", body = JsonObject))
)]
pub async fn tree_head(State(st): State<Arc<AppState>>) -> Res {
    let st2 = st.clone();
    let (note, vkey) = blocking(move || crate::filing::tree_head(&st2.home, &st2.archive)).await?;
    Ok(axum::Json(serde_json::json!({ "size": st.archive.size(), "checkpoint": note, "verifier_key": vkey }))
        .into_response())
}

fn reader(st: &AppState, headers: &HeaderMap) -> Result<(), Problem> {
    principal(st, headers).map(|_| ())
}

/// GET /v1/archive/{id}: the record (JSON with the PDF in base64, or the PDF itself).
#[utoipa::path(
    get,
    path = "/v1/archive/{id}",
    summary = "An archived record and its PDF",
    security(("bearer" = ["department", "archivist", "ca-operator", "holder-app", "foreign"])),
    responses((status = 200, description = "The record (JSON with the PDF in base64; or the PDF itself with Accept: application/pdf)", content((JsonObject = "application/json"), (Binary = "application/pdf"))))
)]
pub async fn archive_get(State(st): State<Arc<AppState>>, Path(id): Path<String>, headers: HeaderMap) -> Res {
    reader(&st, &headers)?;
    let st2 = st.clone();
    let (rec, bytes) = blocking(move || {
        let rec = st2.archive.get(&id)?;
        let bytes = st2.archive.verified_bytes(&rec)?;
        Ok((rec, bytes))
    })
    .await?;
    if headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/pdf"))
    {
        return Ok(with_type(bytes, "application/pdf"));
    }
    Ok(axum::Json(serde_json::json!({ "record": rec, "pdf_base64": base64::engine::general_purpose::STANDARD.encode(&bytes) })).into_response())
}

/// GET /v1/archive/{id}/proof: inclusion proof against the signed tree head.
#[utoipa::path(
    get,
    path = "/v1/archive/{id}/proof",
    summary = "Inclusion proof of an archived record",
    security(("bearer" = ["department", "archivist", "ca-operator", "holder-app", "foreign"])),
    responses((status = 200, description = "Inclusion proof JSON (checkable with `zhengyin archive check-proof`)", body = JsonObject))
)]
pub async fn archive_proof(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Res {
    reader(&st, &headers)?;
    let st2 = st.clone();
    let proof = blocking(move || crate::filing::proof(&st2.home, &st2.archive, &id)).await?;
    Ok(axum::Json(proof).into_response())
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditRequest {
    #[serde(default)]
    #[schema(minimum = 1)]
    pub sample: Option<usize>,
}

/// POST /v1/audit: the DA/T 70 audit (archivists only).
#[utoipa::path(
    post,
    path = "/v1/audit",
    summary = "DA/T 70 audit of the archive",
    security(("bearer" = ["archivist"])),
    request_body(content = Option<AuditRequest>, content_type = "application/json"),
    responses((status = 200, description = "Audit report", body = JsonObject))
)]
pub async fn audit(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Res {
    let p = principal(&st, &headers)?;
    if p.role != Role::Archivist {
        return Err(forbid(
            &p,
            "audit",
            format!("a {} token cannot run audits; use an archivist token", p.role.describe()),
        ));
    }
    let req: AuditRequest = super::bodies::parse_or_default(&body)?;
    let st2 = st.clone();
    let report = blocking(move || {
        let _w = st2.write_lock.lock().map_err(|_| ApiError::Internal("archive lock poisoned".into()))?;
        crate::filing::run_audit_in(&st2.home, &st2.archive, req.sample.filter(|s| *s > 0), &mut |_, _| {})
    })
    .await?;
    st.metrics.record_audit(report.clean, report.problems.len(), report.log_size);
    Ok(axum::Json(report).into_response())
}

/// GET /healthz.
#[utoipa::path(
    get,
    path = "/healthz",
    summary = "Liveness",
    responses((status = 200, description = "ok", body = String, content_type = "text/plain"))
)]
pub async fn healthz(State(st): State<Arc<AppState>>) -> Response {
    axum::Json(serde_json::json!({ "status": "ok", "region": st.region.region.id, "archive_size": st.archive.size() })).into_response()
}

/// GET /metrics (Prometheus text).
#[utoipa::path(
    get,
    path = "/metrics",
    summary = "Prometheus metrics",
    responses((status = 200, description = "Prometheus text", body = String, content_type = "text/plain"))
)]
pub async fn metrics(State(st): State<Arc<AppState>>) -> Response {
    with_type(st.metrics.render(st.archive.size()), "text/plain; version=0.0.4")
}

/// GET /openapi.json.
#[utoipa::path(
    get,
    path = "/openapi.json",
    summary = "This description",
    responses((status = 200, description = "OpenAPI 3.1", body = JsonObject))
)]
pub async fn openapi() -> Response {
    axum::Json(super::openapi::spec()).into_response()
}

/// Any path no route matches.
pub async fn no_route() -> Response {
    Problem::new(
        StatusCode::NOT_FOUND,
        "no-route",
        "No such resource",
        "no route matches this path (see /openapi.json)",
    )
    .into_response()
}
