//! The HTML pages of `zhengyin serve`: the QR verification page (扫码核验, `GET /verify?id=…`,
//! and the upload form `POST /verify`), the 亮证 scan (`GET /verify?p=…`), the 数字驾驶舱
//! (`GET /dashboard`) and their embedded assets. Mobile first, Chinese, no
//! JavaScript needed; every answer carries the security headers of [`respond`].
//!
//! Knows HTML and HTTP; what a licence's status is comes from [`standing`], the verification from
//! `verify::verify_with`. docs/api.md, "The verification page".

pub mod assets;
mod card;
pub mod dashboard;
mod layout;
mod present;
mod report;
pub mod standing;
mod verify;

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::problem::Problem;
use super::AppState;

/// The Content-Security-Policy of every page: same-origin assets only, no inline script or
/// style, no plugins, no framing, forms post back to this origin only.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The page routes (merged into the API router, under its limits and rate guard).
pub fn routes() -> utoipa_axum::router::OpenApiRouter<Arc<AppState>> {
    utoipa_axum::router::OpenApiRouter::new()
        .routes(utoipa_axum::routes!(verify::page, verify::upload))
        .routes(utoipa_axum::routes!(dashboard::page))
}

/// The pages' static assets (style sheet, script): served, not part of the API description.
pub fn assets() -> Router<Arc<AppState>> {
    Router::new().route("/assets/{name}", get(assets::get))
}

/// Whether a path is one of the pages (its refusals are HTML, not problem+json).
pub fn is_page(path: &str) -> bool {
    path == "/verify" || path == "/dashboard" || path.starts_with("/assets/")
}

/// A response with the pages' security headers.
pub fn respond(status: StatusCode, body: String, content_type: &'static str) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
    h.insert("permissions-policy", HeaderValue::from_static("camera=(), microphone=(), geolocation=()"));
    // A status answer must not be cached: the next scan asks again.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// An HTML page response.
pub fn html(status: StatusCode, markup: maud::Markup) -> Response {
    respond(status, markup.into_string(), "text/html; charset=utf-8")
}

/// A refusal as an HTML page (no region name: for answers made outside a handler).
pub fn problem_page(status: StatusCode, heading: &str, detail: &str, hint: &str) -> Response {
    html(status, layout::error_page("", status.as_u16(), heading, detail, hint))
}

/// The outer guard's refusals (too large, rate limited, timed out) for a page request.
pub fn refusal(p: &Problem) -> Response {
    let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (heading, hint) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ("文件太大", "请上传证照原件的 PDF 文件。"),
        StatusCode::TOO_MANY_REQUESTS => ("请求过于频繁", "请稍候片刻再试。"),
        StatusCode::SERVICE_UNAVAILABLE => ("核验超时", "请稍后再试。"),
        _ => ("无法处理该请求", ""),
    };
    let mut r = problem_page(status, heading, &p.detail, hint);
    if let Some(s) = p.retry_after {
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    r
}
