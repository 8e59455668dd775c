//! The clerk's scan of a 亮证 code: `GET /verify?p=PRESENTATION`. Shows the fields the holder
//! chose (as signed in the presentation) and the licence's current status (from the archive, now,
//! not from the code). Refuses, as pages and never a 500 for input: a malformed or foreign code
//! (400), an expired one (410), one already scanned (409). Every scan whose signature verifies
//! is recorded as a use (`api::presentations::record_use`), refused or not.
//!
//! Knows the page; the JWS is `licence::presentation`, the nonce store `api::presentations`.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::Response;
use maud::html;
use serde_json::json;

use super::card;
use super::layout::{error_page, page as shell};
use super::standing::{self, Standing};
use crate::api::presentations::{first_scan, record_use};
use crate::api::AppState;
use crate::licence::presentation::{self, Claims, Refusal};

fn now() -> i64 {
    ::time::OffsetDateTime::now_utc().unix_timestamp()
}

fn refused(st: &AppState, status: StatusCode, heading: &str, detail: &str, hint: &str) -> Response {
    super::html(status, error_page(&st.region.region.name, status.as_u16(), heading, detail, hint))
}

fn unavailable(st: &AppState) -> Response {
    refused(
        st,
        StatusCode::INTERNAL_SERVER_ERROR,
        "核验服务暂时不可用",
        "服务内部出错，已记录。",
        "请稍后再试。",
    )
}

/// China Standard Time `HH:MM:SS` of a Unix time.
fn clock(unix: i64) -> String {
    let c = crate::document::china_time(unix);
    format!("{:02}:{:02}:{:02}", c.hour(), c.minute(), c.second())
}

/// What the scan found, for the page and the use record.
enum Scan {
    Shown(Box<Standing>),
    Expired,
    Replayed,
    Gone,
}

impl Scan {
    fn result(&self) -> &'static str {
        match self {
            Scan::Shown(_) => "shown",
            Scan::Expired => "expired",
            Scan::Replayed => "replayed",
            Scan::Gone => "unknown-licence",
        }
    }
}

/// Check the nonce, look the licence up, record the scan (off the async threads).
fn scan(st: &AppState, c: &Claims, expired: bool) -> crate::error::Result<Scan> {
    let id: crate::document::identifier::LicenceId =
        c.sub.parse().map_err(|e: String| crate::error::StatusError::BadIdentifier(e))?;
    let found = standing::lookup(&st.archive, &id)?;
    let outcome = match found {
        None => Scan::Gone,
        Some(_) if expired => Scan::Expired,
        Some(s) => {
            if first_scan(st, &c.nonce, c.exp, now())? {
                Scan::Shown(Box::new(s))
            } else {
                Scan::Replayed
            }
        }
    };
    let meta = match &outcome {
        Scan::Shown(s) => Some(s.record.metadata.clone()),
        _ => crate::licence::status::current(&st.archive, &c.sub)?
            .map(|v| st.archive.get(&v.archive_id).map(|r| r.metadata))
            .transpose()?,
    };
    if let Some(m) = meta {
        let extra = json!({ "result": outcome.result(), "nonce": c.nonce, "fields": c.fields.keys().collect::<Vec<_>>() });
        record_use(st, &m, "presentation-scan", "verify-page", extra)?;
    }
    st.metrics.record_scan(outcome.result());
    Ok(outcome)
}

/// GET /verify?p=….
pub async fn page(st: Arc<AppState>, token: String) -> Response {
    let signer = match crate::api::status::signer(&st) {
        Ok(s) => s,
        Err(_) => return unavailable(&st),
    };
    let (claims, expired) = match presentation::open(&token, &signer.cert, now()) {
        Ok(c) => (c, false),
        Err(Refusal::Expired(c)) => (*c, true),
        Err(e) => {
            st.metrics.record_scan("malformed");
            return refused(
                &st,
                StatusCode::BAD_REQUEST,
                "亮证码无法识别",
                &format!("该二维码不是本地区签发的有效亮证码（{e}）。"),
                "请持证人在亮证应用中重新生成亮证码后再扫描。",
            );
        }
    };
    let st2 = st.clone();
    let c2 = claims.clone();
    let outcome = match tokio::task::spawn_blocking(move || scan(&st2, &c2, expired)).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "presentation scan failed");
            return unavailable(&st);
        }
        Err(e) => {
            tracing::error!(error = %e, "presentation scan panicked");
            return unavailable(&st);
        }
    };
    match outcome {
        Scan::Shown(s) => super::html(StatusCode::OK, shown(&st, &claims, &s)),
        Scan::Expired => refused(
            &st,
            StatusCode::GONE,
            "亮证码已过期",
            &format!("该亮证码的有效时间已于 {} 结束，不能再用于核验。", clock(claims.exp)),
            "亮证码只在生成后几分钟内有效，截图或照片过期即失效。请持证人在亮证应用中重新亮证。",
        ),
        Scan::Replayed => refused(
            &st,
            StatusCode::CONFLICT,
            "亮证码已被使用",
            "该亮证码已经被扫描核验过一次，每个亮证码只能核验一次。",
            "可能是截图或重复扫描。请持证人在亮证应用中重新亮证后再扫描。",
        ),
        Scan::Gone => refused(
            &st,
            StatusCode::NOT_FOUND,
            "未找到该证照",
            &format!("本地区的证照档案中没有标识为 {} 的证照。", claims.sub),
            "请向持证人或签发部门核实。",
        ),
    }
}

fn shown(st: &AppState, c: &Claims, s: &Standing) -> maud::Markup {
    shell(
        &format!("亮证 {}", s.state.text()),
        &st.region.region.name,
        html! {
            (card::status_mark(s))
            section.card id="presentation" data-nonce=(c.nonce) {
                h1 { "亮证核验" }
                p.hint { "以下信息由持证人选择出示，经" (st.region.region.name) "证照状态服务签名。" }
                dl.facts {
                    @for (name, label) in presentation::FIELDS {
                        @if let Some(v) = c.fields.get(*name) {
                            dt { (label) } dd id=(format!("field-{name}")) data-field=(name) { (v) }
                        }
                    }
                    dt { "版本" } dd { (card::short_version(&c.sub)) }
                    dt { "证照标识" } dd.mono id="identifier" { (c.sub) }
                    dt { "亮证时间" } dd id="presented-at" { (clock(c.iat)) }
                    dt { "有效至" } dd id="expires-at" { (clock(c.exp)) }
                }
                p.hint { "每个亮证码只能核验一次，过期失效；截图不能代替现场亮证。" }
            }
        },
    )
}
