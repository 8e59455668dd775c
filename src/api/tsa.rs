//! POST /v1/tsa: the region's RFC 3161 time-stamping authority over HTTP (RFC 3161 §3.4):
//! `application/timestamp-query` in, `application/timestamp-reply` out. Public, like any TSA
//! pyHanko or `openssl ts` can be pointed at; rate-limited with every other route.
//!
//! Knows content types and sizes; the answer (granted, or a rejection with its PKIFailureInfo,
//! HTTP 200 as TSAs answer) is `pki::tsa::Tsa::respond`. A wrong content type, an oversize body,
//! or a home without a TSA are problem+json.

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
