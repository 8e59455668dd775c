//! The visible electronic seal: a round red seal drawn as vectors (ring, five-pointed star,
//! department name on the upper arc, seal text along the bottom), used as the signature
//! widget's appearance stream. Shape after GB/T 38540 practice for official round seals.
//!
//! Drawn as ink: the graphics state [`INK`] multiplies the red with what lies under it (ISO
//! 32000-1 §11.3.5 blend mode Multiply), so black text under the seal stays black and legible,
//! as on paper. The ring and the glyphs carry a slight irregularity, deterministic per seal.
//!
//! Produces a content stream for a form XObject of `size`×`size` points (resources: font `/F1`,
//! ExtGState [`INK`] from [`ink_state`]); knows nothing of signing.

use std::f32::consts::PI;
use std::fmt::Write as _;

use lopdf::{dictionary, Dictionary, Object};

use super::font::TextEncoder;
use crate::error::Result;

/// Seal red (close to the vermilion of official seals).
const RED: &str = "0.86 0.08 0.10";

/// Name of the ExtGState resource that makes the seal ink (see [`ink_state`]).
pub const INK: &str = "ZYInk";

/// The ink graphics state: blend mode Multiply and a slightly thin ink (PDF/A-2 allows both;
/// the OutputIntent gives the blending colour space).
pub fn ink_state() -> Dictionary {
    dictionary! {
        "Type" => "ExtGState", "BM" => "Multiply",
        "ca" => Object::Real(0.92), "CA" => Object::Real(0.92),
    }
}

/// Deterministic noise in [-1, 1] for element `k` of the seal seeded by `seed`.
fn noise(seed: u64, k: u64) -> f32 {
    let mut x = seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 40) as f32 / (1u64 << 23) as f32 - 1.0
}

/// FNV-1a of the seal's texts: the same department always gets the same irregularities.
fn seed(name: &str, bottom: &str) -> u64 {
    name.bytes()
        .chain([0])
        .chain(bottom.bytes())
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Content stream of a round seal of diameter `size`, text in font resource `/F1`.
pub fn appearance(enc: &mut TextEncoder, name: &str, bottom: &str, size: f32) -> Result<String> {
    let c = size / 2.0;
    let ring = size * 0.035;
    let r = c - ring / 2.0 - 0.5;
    let seed = seed(name, bottom);
    let mut s = String::new();
    let _ = writeln!(s, "q /{INK} gs {RED} RG {RED} rg {ring:.2} w");
    uneven_circle(&mut s, c, r, size * 0.002, seed);
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
        let k = i as u64;
        let theta = PI / 2.0 + span / 2.0 - span * (i as f32 + 0.5) / n + 0.004 * noise(seed, 100 + k);
        let phi = theta - PI / 2.0 + 0.012 * noise(seed, 200 + k);
        let tr = tr + size * 0.002 * noise(seed, 300 + k);
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
        let _ = writeln!(s, "BT /F1 {fs:.2} Tf {:.2} {:.2} Td {glyphs} Tj ET", c - w / 2.0, c - size * 0.36);
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

/// A closed ring of radius `r` ± `wobble` around (`c`, `c`): 24 arcs whose ends vary a little,
/// as a stamp's rim never prints perfectly round.
fn uneven_circle(s: &mut String, c: f32, r: f32, wobble: f32, seed: u64) {
    const N: usize = 24;
    let step = 2.0 * PI / N as f32;
    let k = 4.0 / 3.0 * (step / 4.0).tan();
    let radius = |i: usize| r + wobble * noise(seed, (i % N) as u64);
    let pt = |i: usize| {
        let (a, rr) = (i as f32 * step, radius(i));
        (c + rr * a.cos(), c + rr * a.sin(), a, rr)
    };
    let (x0, y0, _, _) = pt(0);
    let _ = writeln!(s, "{x0:.2} {y0:.2} m");
    for i in 0..N {
        let (xa, ya, a, ra) = pt(i);
        let (xb, yb, b, rb) = pt(i + 1);
        let (c1x, c1y) = (xa - k * ra * a.sin(), ya + k * ra * a.cos());
        let (c2x, c2y) = (xb + k * rb * b.sin(), yb - k * rb * b.cos());
        let _ = writeln!(s, "{c1x:.2} {c1y:.2} {c2x:.2} {c2y:.2} {xb:.2} {yb:.2} c");
    }
    s.push_str("h\n");
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The seal is drawn in the ink state, and the same department's seal is the same drawing.
    #[test]
    fn seal_is_ink_and_deterministic() {
        let mut e = TextEncoder::new().unwrap();
        let a = appearance(&mut e, "泰安市市场监督管理局", "证照专用章", 119.0).unwrap();
        let b = appearance(&mut e, "泰安市市场监督管理局", "证照专用章", 119.0).unwrap();
        let c = appearance(&mut e, "泰安市行政审批服务局", "证照专用章", 119.0).unwrap();
        assert!(a.starts_with(&format!("q /{INK} gs")));
        assert_eq!(a, b);
        let rim = |s: &str| s.lines().skip(1).take(25).collect::<Vec<_>>().join("\n");
        assert_ne!(rim(&a), rim(&c), "the rim differs between seals");
        assert!((0..1000).all(|k| noise(7, k).abs() <= 1.0));
    }
}
