//! `GET /verify?id=IDENTIFIER` (the URL in every licence's QR code; `?p=` is a 亮证 code,
//! pages/present.rs) and `POST /verify` (the
//! page's upload form, multipart field `pdf`): the licence's card and status, and the report of
//! the uploaded file in plain Chinese. A missing `id` gives the plain upload page; a malformed
//! one 400, an unknown one 404, an unreadable upload 400, all as pages, never a 500 for input.
//!
//! Knows the query and the form; the status is [`super::standing::lookup`], the verification
//! `verify::verify_with` under the same body limit, budget and timeout as `POST /v1/verify`.

use std::sync::Arc;

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{html, Markup};
use serde::Deserialize;

use super::card;
use super::layout::{error_page, page as shell};
use super::report::{self, Match};
use super::standing::{self, Standing};
use crate::api::AppState;
use crate::document::identifier::LicenceId;

/// Identifiers longer than this are refused before parsing (a GB/T 36904 identifier with the
/// longest serial is well under it).
const MAX_ID: usize = 160;

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    id: Option<String>,
    /// A 亮证 presentation (pages/present.rs).
    #[serde(default)]
    p: Option<String>,
}

/// A checked identifier, or the page that refuses it.
// The Err is the finished page handed straight back to axum; boxing it would only add an allocation.
#[allow(clippy::result_large_err)]
fn parse_id(st: &AppState, raw: &str) -> Result<LicenceId, Response> {
    let shown: String = raw.chars().take(80).collect();
    let bad = |why: String| {
        super::html(
            StatusCode::BAD_REQUEST,
            error_page(
                &st.region.region.name,
                400,
                "二维码内容无法识别",
                &format!("“{shown}”不是有效的电子证照标识：{why}"),
                "请确认扫描的是证照上的核验二维码，或直接上传证照 PDF 文件核验。",
            ),
        )
    };
    if raw.len() > MAX_ID {
        return Err(bad(format!("longer than {MAX_ID} characters")));
    }
    raw.trim().parse::<LicenceId>().map_err(bad)
}

fn not_found(st: &AppState, id: &LicenceId) -> Response {
    super::html(
        StatusCode::NOT_FOUND,
        error_page(
            &st.region.region.name,
            404,
            "未找到该证照",
            &format!("本地区的证照档案中没有标识为 {id} 的证照。"),
            "该证照可能不是由本地区签发，或二维码被替换过。请向持证人或签发部门核实。",
        ),
    )
}

fn internal(st: &AppState) -> Response {
    super::html(
        StatusCode::INTERNAL_SERVER_ERROR,
        error_page(
            &st.region.region.name,
            500,
            "核验服务暂时不可用",
            "服务内部出错，已记录。",
            "请稍后再试。",
        ),
    )
}

/// The standing of `id` off the async threads.
async fn lookup(st: &Arc<AppState>, id: LicenceId) -> Result<Option<Standing>, Response> {
    let st2 = st.clone();
    match tokio::task::spawn_blocking(move || standing::lookup(&st2.archive, &id)).await {
        Ok(Ok(s)) => Ok(s),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "verification page: status lookup failed");
            Err(internal(st))
        }
        Err(e) => {
            tracing::error!(error = %e, "verification page: status lookup panicked");
            Err(internal(st))
        }
    }
}

/// The upload form, posting back to this page (works without script).
fn form(st: &AppState, id: Option<&str>) -> Markup {
    let action = match id {
        Some(id) => format!("/verify?id={}", query_escape(id)),
        None => "/verify".to_string(),
    };
    html! {
        section.card.upload id="upload" {
            h2 { "核验手中的证照文件" }
            p { "上传您收到的证照 PDF 文件，系统将核验其电子印章，并判断它是否为当前有效版本。文件只用于本次核验，不会保存。" }
            form method="post" action=(action) enctype="multipart/form-data" data-limit=(st.config.body_limit) {
                label for="pdf" { "选择 PDF 文件" }
                input type="file" id="pdf" name="pdf" accept="application/pdf,.pdf" required;
                p.hint id="limit" { "文件不超过 " (st.config.body_limit / (1 << 20)) " MB。" }
                button type="submit" id="submit" { "上传并核验" }
            }
        }
    }
}

/// Percent-encode an identifier for the form action (it is already [0-9A-Z.]; be safe anyway).
fn query_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn licence_page(st: &AppState, s: &Standing, report: Option<Markup>) -> Markup {
    let m = &s.record.metadata;
    shell(
        &format!("{} {}", s.state.text(), card::short_version(&m.identifier)),
        &st.region.region.name,
        html! {
            @if let Some(r) = report { (r) }
            (card::status_mark(s))
            (card::card(&st.region, s))
            (form(st, Some(&m.identifier)))
        },
    )
}

fn start_page(st: &AppState, report: Option<Markup>) -> Markup {
    shell(
        "扫码核验",
        &st.region.region.name,
        html! {
            @if let Some(r) = report { (r) }
            section.card {
                h1 { "电子证照核验" }
                p { "用手机扫描证照上的二维码即可查看证照状态；也可以在下方上传证照 PDF 文件进行核验。" }
            }
            (form(st, None))
        },
    )
}

/// GET /verify?id=IDENTIFIER.
#[utoipa::path(
    get,
    path = "/verify",
    summary = "The QR verification page (扫码核验, HTML in Chinese): the licence named by ?id= and its current status",
    description = "See docs/api.md, \"The verification page\".",
    params(("id" = Option<String>, Query, description = "the licence identifier (GB/T 36904), as in the QR code; without it, the plain upload page"), ("p" = Option<String>, Query, description = "a 亮证 presentation (compact JWS) from POST /v1/licences/{id}/presentations: shows its fields and the current status, once")),
    responses((status = 200, description = "The page", body = String, content_type = "text/html"), (status = 400, description = "Malformed identifier, presentation or upload (page)", body = String, content_type = "text/html"), (status = 404, description = "Unknown identifier (page)", body = String, content_type = "text/html"), (status = 409, description = "Presentation already scanned (page)", body = String, content_type = "text/html"), (status = 410, description = "Presentation expired (page)", body = String, content_type = "text/html"), (status = 413, description = "Upload over the body limit (page)", body = String, content_type = "text/html"), (status = 429, description = "Rate limited (page)", body = String, content_type = "text/html"))
)]
pub async fn page(State(st): State<Arc<AppState>>, q: Result<Query<Params>, QueryRejection>) -> Response {
    let Ok(Query(q)) = q else { return bad_query(&st) };
    if let Some(p) = q.p.filter(|s| !s.trim().is_empty()) {
        return super::present::page(st, p).await;
    }
    let Some(raw) = q.id.filter(|s| !s.trim().is_empty()) else {
        return super::html(StatusCode::OK, start_page(&st, None));
    };
    let id = match parse_id(&st, &raw) {
        Ok(id) => id,
        Err(r) => return r,
    };
    match lookup(&st, id.clone()).await {
        Ok(Some(s)) => super::html(StatusCode::OK, licence_page(&st, &s, None)),
        Ok(None) => not_found(&st, &id),
        Err(r) => r,
    }
}

fn bad_query(st: &AppState) -> Response {
    super::html(
        StatusCode::BAD_REQUEST,
        error_page(
            &st.region.region.name,
            400,
            "链接无法识别",
            "链接中的参数格式不正确。",
            "请重新扫描证照上的二维码。",
        ),
    )
}

/// A refused upload, shown as the page it came from.
fn upload_refused(st: &AppState, status: StatusCode, detail: &str) -> Response {
    let (heading, hint) = if status == StatusCode::PAYLOAD_TOO_LARGE {
        ("文件太大", format!("上传的文件不能超过 {} MB。", st.config.body_limit / (1 << 20)))
    } else {
        ("无法核验该文件", "请上传证照的 PDF 原件（不要截图或转换格式）。".to_string())
    };
    super::html(status, error_page(&st.region.region.name, status.as_u16(), heading, detail, &hint))
}

/// The `pdf` field of the form, or the refusal.
async fn read_pdf(st: &AppState, mp: Result<Multipart, MultipartRejection>) -> Result<Vec<u8>, Response> {
    let mut mp =
        mp.map_err(|e| upload_refused(st, e.status(), &format!("表单格式不正确：{}", e.body_text())))?;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => {
                return Err(upload_refused(st, StatusCode::BAD_REQUEST, "没有收到文件（表单字段 pdf）。"))
            }
            Err(e) => {
                return Err(upload_refused(st, e.status(), &format!("文件没有完整收到：{}", e.body_text())))
            }
        };
        if field.name() != Some("pdf") {
            continue;
        }
        return match field.bytes().await {
            Ok(b) if b.is_empty() => Err(upload_refused(st, StatusCode::BAD_REQUEST, "上传的文件是空的。")),
            Ok(b) => Ok(b.to_vec()),
            Err(e) => Err(upload_refused(st, e.status(), &format!("文件没有完整收到：{}", e.body_text()))),
        };
    }
}

/// POST /verify[?id=IDENTIFIER], multipart with the PDF in field `pdf`.
#[utoipa::path(
    post,
    path = "/verify",
    summary = "The verification page's upload form (multipart/form-data, field pdf): the report as an HTML page",
    description = "See docs/api.md, \"The verification page\".",
    params(("id" = Option<String>, Query, description = "the licence identifier (GB/T 36904), as in the QR code; without it, the plain upload page"), ("p" = Option<String>, Query, description = "a 亮证 presentation (compact JWS) from POST /v1/licences/{id}/presentations: shows its fields and the current status, once")),
    request_body(content = inline(crate::api::openapi::Upload), content_type = "multipart/form-data"),
    responses((status = 200, description = "The page", body = String, content_type = "text/html"), (status = 400, description = "Malformed identifier, presentation or upload (page)", body = String, content_type = "text/html"), (status = 404, description = "Unknown identifier (page)", body = String, content_type = "text/html"), (status = 409, description = "Presentation already scanned (page)", body = String, content_type = "text/html"), (status = 410, description = "Presentation expired (page)", body = String, content_type = "text/html"), (status = 413, description = "Upload over the body limit (page)", body = String, content_type = "text/html"), (status = 429, description = "Rate limited (page)", body = String, content_type = "text/html"))
)]
pub async fn upload(
    State(st): State<Arc<AppState>>,
    q: Result<Query<Params>, QueryRejection>,
    mp: Result<Multipart, MultipartRejection>,
) -> Response {
    let Ok(Query(q)) = q else { return bad_query(&st) };
    let asked = match q.id.filter(|s| !s.trim().is_empty()) {
        Some(raw) => match parse_id(&st, &raw) {
            Ok(id) => Some(id),
            Err(r) => return r,
        },
        None => None,
    };
    let pdf = match read_pdf(&st, mp).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let trust = st.trust();
    let st2 = st.clone();
    let verified = crate::api::blocking_cancellable(move |c| {
        let mut report = crate::verify::verify_with(
            &pdf,
            &trust,
            std::time::SystemTime::now(),
            &mut crate::pades::budget::Budget::new(c),
        )?;
        // The licence's status decides the document verdict, as for POST /v1/verify: intact
        // seals on a cancelled licence are not a valid licence.
        crate::api::status::licence_status(&st2, &trust, &mut report);
        let archived = st2.archive.by_hash.get(report.file.sha256.as_bytes()).ok().flatten().is_some();
        Ok((report, archived))
    })
    .await;
    let (report, archived) = match verified {
        Ok(x) => x,
        Err(e) => {
            let p = crate::api::problem::from_error(&e);
            let status = StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST);
            if status.is_server_error() {
                return internal(&st);
            }
            return upload_refused(&st, status, &format!("该文件不是可读取的 PDF 证照：{}", p.detail));
        }
    };
    st.metrics.record_report(&report);
    // The licence the page is about: the one asked for, else the file's own.
    let about =
        asked.clone().or_else(|| report.licence.as_ref().and_then(|l| l.zzbs.parse::<LicenceId>().ok()));
    let standing = match about {
        Some(id) => match lookup(&st, id).await {
            Ok(s) => s,
            Err(r) => return r,
        },
        None => None,
    };
    let m = Match {
        asked: asked.map(|a| a.to_string()),
        current: standing.as_ref().map(|s| s.current.clone()),
        archived,
    };
    let region = st.region.clone();
    let names = move |id: &str| card::department_name(&region, id);
    let section = report::report(&report, &m, &names);
    let body = match &standing {
        Some(s) => licence_page(&st, s, Some(section)),
        None => start_page(&st, Some(section)),
    };
    super::html(StatusCode::OK, body)
}
