//! The 数字驾驶舱 page: `GET /dashboard` serves a shell holding no data (a login form and an empty
//! board); its script (assets/dashboard.js) keeps the archivist's token in sessionStorage, sends
//! it as a header to `GET /v1/dashboard` and puts the answer's fragment, drawn here by [`board`],
//! in place, every 30 s. Charts are SVG drawn on the server: no chart library, no CDN, no font.
//! Every shown number carries `data-metric` (the browser test reads them).
//!
//! Knows markup; the numbers are `api::dashboard::gather`'s.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use maud::{html, Markup};

use super::layout::page_with;
use crate::api::dashboard::{Count, Dashboard};
use crate::api::AppState;

/// The dashboard's CSP: the pages' one, with `fetch` to this origin allowed.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Bar colours (departments), the legend's `sw0`…`sw5`.
const COLOURS: [&str; 6] = ["#0b5cad", "#c8102e", "#1a7f37", "#9a6700", "#8250df", "#59636e"];
/// Days shown in the issue chart.
const DAYS: usize = 7;

/// GET /dashboard: the shell.
#[utoipa::path(
    get,
    path = "/dashboard",
    summary = "The 数字驾驶舱 page (HTML in Chinese): a shell whose script sends the archivist's token (kept in sessionStorage, never in the URL) to GET /v1/dashboard and refreshes itself",
    description = "The page holds no data. See docs/api.md, \"The dashboard\".",
    responses((status = 200, description = "The page", body = String, content_type = "text/html"))
)]
pub async fn page(State(st): State<Arc<AppState>>) -> Response {
    let body = html! {
        div.dash-head {
            h1 { "数字驾驶舱" }
            button type="button" id="logout" hidden { "退出" }
        }
        noscript { p.hint { "驾驶舱需要启用 JavaScript：令牌只在本标签页内保存，随请求头发送。" } }
        form.card id="login" method="post" action="/dashboard" hidden {
            label for="token" { "档案管理员令牌" }
            input type="password" id="token" name="token" autocomplete="off" required placeholder="zy_…";
            button type="submit" { "进入驾驶舱" }
            p.hint { "令牌仅保存在本标签页（sessionStorage），关闭即清除，不会出现在链接中。" }
        }
        p.error id="login-error" role="alert" hidden {}
        div id="board" aria-live="polite" {}
    };
    let markup = page_with("数字驾驶舱", &st.region.region.name, body, Some(super::assets::DASH_JS_PATH));
    let mut r = super::html(StatusCode::OK, markup);
    r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    r
}

fn verdict_zh(v: &str) -> &str {
    match v {
        "TOTAL-PASSED" => "通过",
        "TOTAL-FAILED" => "未通过",
        "INDETERMINATE" => "无法确定",
        "shown" => "已核验",
        "expired" => "已过期",
        "replayed" => "重复扫码",
        "malformed" => "无法识别",
        "unknown-licence" => "无此证照",
        "" => "（无签名）",
        other => other,
    }
}

/// Horizontal bars: one row per (label, value, metric key, colour), the label above its bar.
fn hbars(rows: &[(String, u64, String, &str)]) -> Markup {
    if rows.is_empty() {
        return html! { p.empty { "暂无数据" } };
    }
    let max = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    let h = rows.len() * 36 + 4;
    html! {
        svg.chart viewBox=(format!("0 0 340 {h}")) role="img" {
            @for (i, (label, n, key, colour)) in rows.iter().enumerate() {
                @let y = i * 36 + 4;
                @let w = 2 + (*n as usize * 270) / max as usize;
                text x="0" y=(y + 11) font-size="12" { (label) }
                rect x="0" y=(y + 16) width=(w) height="14" rx="3" fill=(colour) {}
                text x=(w + 6) y=(y + 28) font-size="12" font-weight="600" data-metric=(key) { (n) }
            }
        }
    }
}

/// The colour of a verdict or scan result (green good, red bad, amber unsure, blue otherwise).
fn tone(key: &str) -> &'static str {
    match key {
        "TOTAL-PASSED" | "shown" | "kept" => "#1a7f37",
        "TOTAL-FAILED" | "broken" | "malformed" | "replayed" => "#c8102e",
        "INDETERMINATE" | "expired" | "due" | "unknown-licence" => "#9a6700",
        _ => "#0b5cad",
    }
}

/// Licences per department per day: a stacked bar per day (last [`DAYS`] days with any).
fn issued_chart(d: &Dashboard) -> Markup {
    let key = |c: &Count, i: usize| c.key.get(i).cloned().unwrap_or_default();
    let depts: Vec<String> =
        d.issued.iter().map(|c| key(c, 0)).collect::<BTreeSet<_>>().into_iter().collect();
    let all_days: BTreeSet<String> = d.issued.iter().map(|c| key(c, 1)).collect();
    let days: Vec<String> =
        all_days.into_iter().rev().take(DAYS).collect::<Vec<_>>().into_iter().rev().collect();
    if days.is_empty() {
        return html! { p.empty { "暂无签发" } };
    }
    let total = |day: &str| d.issued.iter().filter(|c| key(c, 1) == day).map(|c| c.count).sum::<u64>();
    let max = days.iter().map(|x| total(x)).max().unwrap_or(1).max(1);
    let (top, base, bar_w) = (18usize, 150usize, 30usize);
    let step = 320 / days.len().max(1);
    // Per day: x, the stacked segments (y, height, colour, tooltip), the top of the stack.
    #[allow(clippy::type_complexity)] // a local tuple read right below; a named type adds nothing
    let bars: Vec<(usize, Vec<(usize, usize, &str, String)>, usize, &String)> = days
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let x = 14 + i * step + step.saturating_sub(bar_w) / 2;
            let mut y = base;
            let mut segs = Vec::new();
            for (j, dept) in depts.iter().enumerate() {
                let n =
                    d.issued.iter().find(|c| key(c, 0) == *dept && key(c, 1) == *day).map_or(0, |c| c.count);
                if n > 0 {
                    let h = (n as usize * (base - top) / max as usize).max(1);
                    y -= h.min(y);
                    segs.push((y, h, COLOURS[j % COLOURS.len()], format!("{dept} {day}：{n}")));
                }
            }
            (x, segs, y, day)
        })
        .collect();
    html! {
        svg.chart viewBox="0 0 340 180" role="img" aria-label="各部门每日签发量" {
            line x1="10" y1=(base) x2="335" y2=(base) stroke="#d1d9e0" {}
            @for (x, segs, y, day) in &bars {
                @for (sy, h, colour, tip) in segs {
                    rect x=(x) y=(sy) width=(bar_w) height=(h) fill=(colour) { title { (tip) } }
                }
                text x=(x + bar_w / 2) y=(y.saturating_sub(4)) font-size="12" text-anchor="middle" data-metric=(format!("issued-day:{day}")) { (total(day)) }
                text.muted x=(x + bar_w / 2) y=(base + 16) font-size="11" text-anchor="middle" { (day.get(5..).unwrap_or(day)) }
            }
        }
        ul.legend {
            @for (j, dept) in depts.iter().enumerate() {
                li { i class=(format!("sw{}", j % COLOURS.len())) {} (dept) }
            }
        }
        table.list {
            tr { th { "部门" } th { "日期" } th.num { "签发" } }
            @for c in &d.issued {
                tr { td { (key(c, 0)) } td { (key(c, 1)) } td.num data-metric=(format!("issued:{}:{}", key(c, 0), key(c, 1))) { (c.count) } }
            }
        }
    }
}

fn rows(
    counts: &[Count],
    prefix: &str,
    label: impl Fn(&Count) -> String,
) -> Vec<(String, u64, String, &'static str)> {
    counts
        .iter()
        .map(|c| (label(c), c.count, format!("{prefix}:{}", c.key.join(":")), tone(&c.key.join(":"))))
        .collect()
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}

/// The board: every section, drawn from `d`.
pub fn board(d: &Dashboard) -> Markup {
    let k = |c: &Count| c.key.first().cloned().unwrap_or_default();
    let verifications = rows(&d.verifications, "verify", |c| verdict_zh(&k(c)).to_string());
    let regions = rows(&d.verifications_by_region, "verify-region", |c| {
        let r = k(c);
        if r.is_empty() {
            "（无）".into()
        } else {
            r
        }
    });
    let scans = rows(&d.scans, "scan", |c| verdict_zh(&k(c)).to_string());
    let proofs = rows(&d.proofs, "proof", |c| c.key.join(" · "));
    let refusals = rows(&d.refusals, "refusal", |c| c.key.join(" · "));
    let commitments: Vec<(String, u64, String, &str)> =
        [("kept", "已履行"), ("broken", "未履行"), ("due", "待核查"), ("open", "未到期")]
            .iter()
            .map(|(key, zh)| {
                (
                    zh.to_string(),
                    d.commitments.get(*key).copied().unwrap_or(0),
                    format!("commitments:{key}"),
                    tone(key),
                )
            })
            .collect();
    let refusals_total: u64 = d.refusals.iter().map(|c| c.count).sum();
    html! {
        p.hint { (d.region) " · 更新于 " span id="generated-at" { (d.generated_at) } " · 每 " (d.refresh_secs) " 秒自动刷新" }
        div.kpis {
            div.kpi { div.n data-metric="issued-total" { (d.issued_total) } div.t { "签发证照" } }
            div.kpi { div.n data-metric="stalled-count" { (d.stalled.len()) } div.t { "盖章超过 " (d.stall_days) " 天未完成" } }
            div.kpi { div.n data-metric="verify-total" { (d.verifications.iter().map(|c| c.count).sum::<u64>()) } div.t { "核验次数" } }
            div.kpi { div.n data-metric="refusals-total" { (refusals_total) } div.t { "拒绝的用证请求" } }
            div.kpi { div.n data-metric="archive-records" { (d.archive_records) } div.t { "档案记录（" (mb(d.archive_bytes)) "）" } }
            div.kpi { div.n data-metric="log-size" { (d.log_size) } div.t { "日志大小（叶子数）" } }
        }
        div.grid {
            section.card id="issued" { h2 { "各部门每日签发" } (issued_chart(d)) }
            section.card id="stalled" {
                h2 { "联合盖章进行中（超过 " (d.stall_days) " 天）" }
                @if d.stalled.is_empty() { p.empty { "没有超期未完成的盖章流程" } }
                @else {
                    table.list {
                        tr { th { "证照" } th.num { "已盖章" } th.num { "天数" } }
                        @for s in &d.stalled {
                            tr data-stalled=(s.identifier) { td { (s.title) br; span.mono { (s.identifier) } } td.num { (s.seals) " / " (s.plan) } td.num { (s.days) } }
                        }
                    }
                }
            }
            section.card id="verifications" { h2 { "核验结果" } (hbars(&verifications)) h3 { "按签发地区" } (hbars(&regions)) }
            section.card id="scans" { h2 { "亮证扫码" } (hbars(&scans)) }
            section.card id="proofs" { h2 { "开具证明（按种类·事项）" } (hbars(&proofs)) h3 { "拒绝" } (hbars(&refusals)) }
            section.card id="commitments" { h2 { "告知承诺" } (hbars(&commitments)) }
            section.card id="archive" {
                h2 { "档案与审计" }
                dl.facts {
                    dt { "档案记录" } dd { (d.archive_records) " 条，" (mb(d.archive_bytes)) }
                    dt { "日志大小" } dd { (d.log_size) }
                    dt { "最近审计" }
                    dd data-metric="last-audit" {
                        @match &d.last_audit {
                            None => "尚无记录",
                            Some(a) => {
                                (a.get("at").and_then(|v| v.as_str()).unwrap_or(""))
                                @match a.get("clean").and_then(|v| v.as_bool()) {
                                    Some(true) => " 四性检测通过",
                                    Some(false) => { " 发现 " (a.get("problems").and_then(|v| v.as_u64()).unwrap_or(0)) " 个问题" }
                                    None => { " 检测报告 " (a.get("record").and_then(|v| v.as_str()).unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
                @if d.truncated > 0 { p.hint { "记录过多，最近 " (d.truncated) " 条未统计。" } }
            }
            section.card id="freshness" {
                h2 { "CRL、时间戳与状态清单" }
                table.list {
                    tr { th { "项目" } th { "有效至" } th.num { "状态" } }
                    @for f in &d.freshness {
                        tr {
                            td { (f.what) " " (f.name) }
                            td { (if f.until.is_empty() { "—" } else { &f.until }) }
                            td { span class=(format!("badge {}", f.state)) data-metric=(format!("fresh:{}:{}", f.what, f.name)) { (state_zh(&f.state)) } }
                        }
                    }
                }
            }
        }
    }
}

fn state_zh(s: &str) -> &str {
    match s {
        "ok" => "正常",
        "soon" => "即将到期",
        "stale" => "已过期",
        "missing" => "缺失",
        other => other,
    }
}
