//! POST /v1/tsa: the region's RFC 3161 time-stamping authority over HTTP (RFC 3161 §3.4):
//! `application/timestamp-query` in, `application/timestamp-reply` out. Public, like any TSA
//! pyHanko or `openssl ts` can be pointed at; rate-limited with every other route.
//!
//! Knows content types and sizes; the answer (granted, or a rejection with its PKIFailureInfo,
//! HTTP 200 as TSAs answer) is `pki::tsa::Tsa::respond`. A wrong content type, an oversize body,
//! or a home without a TSA are problem+json.

#[allow(unused_imports)]
use crate::api::openapi::Binary;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::problem::Problem;
use super::{blocking, AppState};
use crate::error::{ApiError, TsaError};
use crate::pki::tsa::MAX_QUERY;

/// POST /v1/tsa.
#[utoipa::path(
    post,
    path = "/v1/tsa",
    summary = "RFC 3161 time-stamping: a DER TimeStampReq in, a DER TimeStampResp out (granted, or a rejection with its PKIFailureInfo)",
    request_body(content = Binary, content_type = "application/timestamp-query", description = "DER TimeStampReq (RFC 3161 §2.4.1), at most 4096 bytes"),
    responses((status = 200, description = "DER TimeStampResp (RFC 3161 §2.4.2): status granted with a token, or rejection with failInfo", body = Binary, content_type = "application/timestamp-reply"), (status = 404, description = "RFC 9457 problem", body = Problem, content_type = "application/problem+json"), (status = 415, description = "RFC 9457 problem", body = Problem, content_type = "application/problem+json"))
)]
pub async fn stamp(
    State(st): State<Arc<AppState>>,
    ext: axum::http::Extensions,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if ct.split(';').next().map(str::trim) != Some("application/timestamp-query") {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Send an RFC 3161 request",
            "POST /v1/tsa takes Content-Type: application/timestamp-query (a DER TimeStampReq)",
        ));
    }
    if body.len() > MAX_QUERY {
        return Err(ApiError::TooLarge { limit: MAX_QUERY }.into());
    }
    let Some(tsa) = st.tsa.clone() else {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "no-tsa",
            "This region runs no time-stamping authority",
            TsaError::NotConfigured { home: "the server's home".into() }.to_string(),
        ));
    };
    let requester = match ext.get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(a)) => format!("http {}", a.ip()),
        None => "http".into(),
    };
    let reply = blocking(move || Ok(tsa.respond(&body, &requester))).await?;
    let mut r = (StatusCode::OK, reply.der).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/timestamp-reply"));
    Ok(r)
}
