//! The visible electronic seal: a round red seal drawn as vectors (ring, five-pointed star,
//! department name on the upper arc, seal text along the bottom), used as the signature
//! widget's appearance stream. Shape after GB/T 38540 practice for official round seals.
//!
//! Produces a content stream for a form XObject of `size`×`size` points; knows nothing of signing.

use std::f32::consts::PI;
use std::fmt::Write as _;

use super::font::TextEncoder;
use crate::error::Result;

/// Seal red (close to the vermilion of official seals).
const RED: &str = "0.86 0.08 0.10";

/// Content stream of a round seal of diameter `size`, text in font resource `/F1`.
pub fn appearance(enc: &mut TextEncoder, name: &str, bottom: &str, size: f32) -> Result<String> {
    let c = size / 2.0;
    let ring = size * 0.035;
    let r = c - ring / 2.0 - 0.5;
    let mut s = String::new();
    let _ = writeln!(s, "q {RED} RG {RED} rg {ring:.2} w");
    circle(&mut s, c, c, r);
    s.push_str("S\n");
    star(&mut s, c, c, size * 0.17);
    s.push_str("f\n");

    // Department name on the upper arc: each glyph upright relative to the circle.
    let chars: Vec<char> = name.chars().collect();
    let n = chars.len().max(1) as f32;
    // Glyphs sit just inside the ring; the font is as large as the arc allows one glyph per step.
    let span = (n * 0.35).clamp(1.2, 4.2); // radians covered by the name (at most ~240°)
    let inner = r - ring * 1.2;
    let font = (inner * span / (n + 0.9 * span)).min(size * 0.2);
    let tr = inner - font * 0.9; // baseline radius
    for (i, ch) in chars.iter().enumerate() {
        let theta = PI / 2.0 + span / 2.0 - span * (i as f32 + 0.5) / n;
        let phi = theta - PI / 2.0;
        let w = enc.char_width(*ch, font);
        let (x0, y0) = (c + tr * theta.cos(), c + tr * theta.sin());
        let (x, y) = (x0 - w / 2.0 * phi.cos(), y0 - w / 2.0 * phi.sin());
        let glyphs = enc.encode(&ch.to_string())?;
        let _ = writeln!(
            s,
            "BT /F1 {font:.2} Tf {:.4} {:.4} {:.4} {:.4} {x:.2} {y:.2} Tm {glyphs} Tj ET",
            phi.cos(),
            phi.sin(),
            -phi.sin(),
            phi.cos()
        );
    }
    // Seal text, straight, under the star.
    if !bottom.is_empty() {
        let fs = size * 0.085;
        let w = enc.width(bottom, fs);
        let glyphs = enc.encode(bottom)?;
        let _ = writeln!(s, "BT /F1 {fs:.2} Tf {:.2} {:.2} Td {glyphs} Tj ET", c - w / 2.0, c - size * 0.29);
    }
    s.push_str("Q\n");
    Ok(s)
}

/// A circle as four Bézier curves (kappa = 0.5523).
pub fn circle(s: &mut String, cx: f32, cy: f32, r: f32) {
    let k = 0.552_284_8 * r;
    let _ = writeln!(s, "{:.2} {:.2} m", cx + r, cy);
    let _ = writeln!(s, "{:.2} {:.2} {:.2} {:.2} {:.2} {:.2} c", cx + r, cy + k, cx + k, cy + r, cx, cy + r);
    let _ = writeln!(s, "{:.2} {:.2} {:.2} {:.2} {:.2} {:.2} c", cx - k, cy + r, cx - r, cy + k, cx - r, cy);
    let _ = writeln!(s, "{:.2} {:.2} {:.2} {:.2} {:.2} {:.2} c", cx - r, cy - k, cx - k, cy - r, cx, cy - r);
    let _ = writeln!(s, "{:.2} {:.2} {:.2} {:.2} {:.2} {:.2} c", cx + k, cy - r, cx + r, cy - k, cx + r, cy);
}

/// A five-pointed star, point up.
fn star(s: &mut String, cx: f32, cy: f32, r: f32) {
    let inner = r * 0.382;
    for i in 0..10 {
        let rad = if i % 2 == 0 { r } else { inner };
        let a = PI / 2.0 + i as f32 * PI / 5.0;
        let op = if i == 0 { "m" } else { "l" };
        let _ = writeln!(s, "{:.2} {:.2} {op}", cx + rad * a.cos(), cy + rad * a.sin());
    }
    s.push_str("h\n");
}
