//! The HTML shell every page shares (head, header, footer) and the error page, as maud templates
//! compiled into the binary. Every page links only same-origin assets (`/assets/…`, embedded):
//! no CDN, no web font, no inline script or style, so the Content-Security-Policy of
//! [`super::respond`] can forbid everything else.
//!
//! Knows markup; knows nothing of licences or the archive.

use maud::{html, Markup, DOCTYPE};

/// A whole page: `title` in the tab, `body` inside the main column.
pub fn page(title: &str, region: &str, body: Markup) -> Markup {
    page_with(title, region, body, None)
}

/// [`page`] with one more same-origin script (`extra`: the dashboard's), in a wide column.
pub fn page_with(title: &str, region: &str, body: Markup, extra: Option<&str>) -> Markup {
    let main_class = if extra.is_some() { "wrap wide" } else { "wrap" };
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                meta name="robots" content="noindex";
                title { (title) " · " (region) "电子证照核验" }
                link rel="icon" type="image/svg+xml" href=(super::assets::ICON_PATH);
                link rel="stylesheet" href=(super::assets::CSS_PATH);
                script src=(super::assets::JS_PATH) defer {}
                @if let Some(js) = extra { script src=(js) defer {} }
            }
            body {
                header.top {
                    div class=(main_class) {
                        span.emblem aria-hidden="true" { "证" }
                        span.brand { (region) "电子证照核验" }
                    }
                }
                main class=(main_class) { (body) }
                footer class=(main_class) {
                    p {
                        "本页由证照签发地区的核验服务生成。状态以核验时刻为准；"
                        "请以扫码所见为准核对纸质或电子证照上的内容。"
                    }
                }
            }
        }
    }
}

/// The page for a refused request: a heading, what happened, what to do.
pub fn error_page(region: &str, status: u16, heading: &str, detail: &str, hint: &str) -> Markup {
    page(
        heading,
        region,
        html! {
            section.card.error {
                p.code { "HTTP " (status) }
                h1 { (heading) }
                p { (detail) }
                @if !hint.is_empty() { p.hint { (hint) } }
                p { a href="/verify" { "返回核验首页" } }
            }
        },
    )
}
