//! The visible mark of an annotated copy (加注件): diagonal, translucent lines naming the using
//! department, the matter and the copy's validity end, repeated across the licence body, with the
//! platform department's round seal in the lower right. Drawn as the appearance of the reserved
//! annotation field ([`ANNOTATION_FIELD`]), so the page content itself never changes.
//!
//! Produces a content stream for a form XObject of `w`×`h` points (font `/F1`, graphics state
//! `/GS1` for the translucency); knows nothing of signing.

use std::fmt::Write as _;

use super::font::TextEncoder;
use super::Rect;
use crate::error::Result;

/// Name of the signature field every licence reserves for its annotated copy. The joint-seal
/// lock excludes it, so an annotation can follow a locked licence without breaking its seals.
pub const ANNOTATION_FIELD: &str = "Annotation_dsjzx";

/// Where the watermark goes: the body of an A4 licence, above the seal row.
pub const ANNOTATION_RECT: Rect = Rect { x1: 40.0, y1: 226.0, x2: 555.0, y2: 700.0 };

/// Side of the platform seal drawn inside the watermark.
const SEAL: f32 = 104.0;

/// Opacity of the watermark text (the ExtGState `/GS1` the caller must provide).
pub const OPACITY: f32 = 0.30;

/// Distance between the diagonal bands, and the margin kept inside the box.
const BAND_STEP: f32 = 125.0;
const MARGIN: f32 = 6.0;

/// Corners of a rotated text line of width `tw`, size `fs`, `dy` above the band's centre line,
/// relative to the band's centre (glyphs from 0.2 em below the baseline to 0.95 em above).
fn corners(tw: f32, fs: f32, dy: f32, cos: f32, sin: f32) -> [(f32, f32); 4] {
    let (sx, sy) = (-tw / 2.0 * cos - dy * sin, -tw / 2.0 * sin + dy * cos);
    let mut out = [(0.0, 0.0); 4];
    for (i, (a, b)) in [(0.0, -0.2), (1.0, -0.2), (0.0, 0.95), (1.0, 0.95)].into_iter().enumerate() {
        if let Some(o) = out.get_mut(i) {
            *o = (sx + a * tw * cos - b * fs * sin, sy + a * tw * sin + b * fs * cos);
        }
    }
    out
}

/// Largest scale of offset `o` from `c` that stays within [MARGIN, len - MARGIN].
fn fit(c: f32, o: f32, len: f32) -> f32 {
    if o > 0.0 {
        (len - MARGIN - c) / o
    } else if o < 0.0 {
        (c - MARGIN) / -o
    } else {
        f32::INFINITY
    }
}

/// What the watermark says.
pub struct Watermark<'a> {
    /// e.g. "仅供泰安市行政审批服务局办理人力资源服务许可使用".
    pub headline: &'a str,
    /// e.g. "有效期至 2026-12-25 · 加注 2026-11-25 18:40 · 再次复制无效".
    pub detail: &'a str,
    /// The platform department's seal: name and seal text.
    pub seal_name: &'a str,
    pub seal_text: &'a str,
}

/// Content stream of the watermark over a `w`×`h` box.
pub fn appearance(enc: &mut TextEncoder, m: &Watermark<'_>, w: f32, h: f32) -> Result<String> {
    let mut s = String::new();
    let (cos, sin) = (30f32.to_radians().cos(), 30f32.to_radians().sin());
    let size = 17.0;
    let small = 11.0;
    let head = enc.encode(m.headline)?;
    let detail = enc.encode(m.detail)?;
    let head_w = enc.width(m.headline, size);
    let detail_w = enc.width(m.detail, small);
    let _ = writeln!(s, "q /GS1 gs 0.80 0.10 0.12 rg");
    // Three diagonal bands, centred on the box's diagonal, each a headline over its detail line,
    // all scaled alike so that every glyph of every band lies inside the box (never clipped).
    let lines = [(&head, head_w, size, 4.0), (&detail, detail_w, small, -small - 6.0)];
    let centres = [-1.0f32, 0.0, 1.0].map(|k| (w / 2.0 + k * BAND_STEP * sin, h / 2.0 - k * BAND_STEP * cos));
    let scale = centres
        .iter()
        .flat_map(|&c| {
            lines.iter().flat_map(move |&(_, tw, fs, dy)| corners(tw, fs, dy, cos, sin).map(|o| (c, o)))
        })
        .map(|((cx, cy), (ox, oy))| fit(cx, ox, w).min(fit(cy, oy, h)))
        .fold(1.0f32, f32::min);
    for (cx, cy) in centres {
        for (text, tw, fs, dy) in lines {
            let (tw, fs, dy) = (tw * scale, fs * scale, dy * scale);
            // Start so the line's middle sits at (cx, cy) after rotation.
            let (x, y) = (cx - tw / 2.0 * cos - dy * sin, cy - tw / 2.0 * sin + dy * cos);
            let _ = writeln!(
                s,
                "BT /F1 {fs:.2} Tf {cos:.4} {sin:.4} {:.4} {cos:.4} {x:.2} {y:.2} Tm {text} Tj ET",
                -sin
            );
        }
    }
    s.push_str("Q\n");
    // The platform's round seal, opaque, in the lower right corner of the box.
    let seal = super::seal::appearance(enc, m.seal_name, m.seal_text, SEAL)?;
    let _ = writeln!(s, "q 1 0 0 1 {:.2} 4 cm", w - SEAL - 8.0);
    s.push_str(&seal);
    s.push_str("Q\n");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every glyph box of every band lies inside the watermark's box, even for a long headline.
    #[test]
    fn bands_stay_inside_the_box() {
        let mut enc = TextEncoder::new().unwrap();
        let m = Watermark {
            headline: "仅供泰安市岱岳区行政审批服务局办理食品生产加工小作坊登记使用",
            detail: "370900-XK-0012 · 有效期至 2026-12-25 · 加注 2026-11-25 18:40 · 再次复制无效 · 泰安市大数据中心加注",
            seal_name: "泰安市大数据中心",
            seal_text: "电子证照专用章",
        };
        let (w, h) = (515.0, 474.0);
        let s = appearance(&mut enc, &m, w, h).unwrap();
        let (cos, sin) = (30f32.to_radians().cos(), 30f32.to_radians().sin());
        for line in s.lines().filter(|l| l.contains(" Tm ") && l.contains(&format!("{cos:.4} {sin:.4}"))) {
            let f: Vec<f32> = line.split(' ').filter_map(|t| t.parse().ok()).collect();
            let (fs, x, y) = (f[0], f[5], f[6]);
            let hex = line.split('<').nth(1).unwrap().split('>').next().unwrap();
            let text: String =
                if hex.len() / 4 == m.headline.chars().count() { m.headline.into() } else { m.detail.into() };
            let tw = enc.width(&text, fs);
            for (a, b) in [(0.0, -0.2), (1.0, -0.2), (0.0, 0.95), (1.0, 0.95)] {
                let (px, py) = (x + a * tw * cos - b * fs * sin, y + a * tw * sin + b * fs * cos);
                assert!(px >= 0.0 && px <= w && py >= 0.0 && py <= h, "{line}: corner ({px}, {py}) outside");
            }
        }
    }

    #[test]
    fn watermark_draws_every_line_and_the_seal() {
        let mut enc = TextEncoder::new().unwrap();
        let m = Watermark {
            headline: "仅供测试部门办理测试事项使用",
            detail: "有效期至 2026-12-25",
            seal_name: "泰安市大数据中心",
            seal_text: "电子证照专用章",
        };
        let s = appearance(&mut enc, &m, 515.0, 474.0).unwrap();
        assert_eq!(s.matches(" Tj ET").count(), 6 + "泰安市大数据中心".chars().count() + 1);
        assert!(s.contains("/GS1 gs"));
    }
}
