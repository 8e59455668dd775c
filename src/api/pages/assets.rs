//! The pages' stylesheet and scripts (the verification page's, the dashboard's), compiled into the binary and served from this origin only
//! (a government intranet has no CDN). The script only improves the page: the form works without
//! it.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("assets/page.css");
const JS: &str = include_str!("assets/page.js");
const ICON: &str = include_str!("assets/icon.svg");
const DASH_JS: &str = include_str!("assets/dashboard.js");

/// Where the pages link them; the version in the name changes with every release.
pub const CSS_PATH: &str = concat!("/assets/page-", env!("CARGO_PKG_VERSION"), ".css");
pub const JS_PATH: &str = concat!("/assets/page-", env!("CARGO_PKG_VERSION"), ".js");
pub const DASH_JS_PATH: &str = concat!("/assets/dashboard-", env!("CARGO_PKG_VERSION"), ".js");
pub const ICON_PATH: &str = concat!("/assets/icon-", env!("CARGO_PKG_VERSION"), ".svg");

/// GET /assets/{name}.
pub async fn get(Path(name): Path<String>) -> Response {
    let path = format!("/assets/{name}");
    let (body, ct) = if path == CSS_PATH {
        (CSS, "text/css; charset=utf-8")
    } else if path == JS_PATH {
        (JS, "text/javascript; charset=utf-8")
    } else if path == DASH_JS_PATH {
        (DASH_JS, "text/javascript; charset=utf-8")
    } else if path == ICON_PATH {
        (ICON, "image/svg+xml")
    } else {
        return super::problem_page(StatusCode::NOT_FOUND, "找不到该资源", "没有这个文件。", "");
    };
    let mut r = super::respond(StatusCode::OK, body.to_string(), ct);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=86400, immutable"));
    r.into_response()
}
