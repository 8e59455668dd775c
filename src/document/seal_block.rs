//! Where the seals and the issuer block go, after GB/T 9704-2012 §7.3.5.1 (加盖印章的公文):
//! - one issuer: the seal upright and centred, pressing on the issuer's name and the date, which
//!   both lie below the seal's centre (the date in the lower middle of the seal);
//! - joint issuers (联合行文): the names lined up in plan order, each seal centred over its own
//!   name, evenly spaced, none touching; the last seal also presses on the date.
//!
//! Plain geometry: rectangles and positioned text lines; knows nothing of PDF or fonts (widths
//! come through a closure).

use super::Rect;

/// Official round seals are 42 mm across: 119 points.
pub const SEAL_SIZE: f32 = 119.0;
/// Left and right edges of the area seals and names may use (inside the page frame).
const LEFT: f32 = 60.0;
const RIGHT: f32 = 535.0;
/// Centre of a single issuer's seal (right of the page, where a licence's issuer block goes).
const SINGLE_CX: f32 = 440.0;
/// Centre height of the lowest row of seals.
const LOW_CY: f32 = 172.0;
/// Distance between rows of seals when a plan has more than [`PER_ROW`] departments.
const ROW_H: f32 = 140.0;
/// At most this many seals side by side (three 42 mm seals and their gaps fill an A4 line).
pub const PER_ROW: usize = 3;
/// Baselines of the name and of the date, below the seal's centre.
const NAME_DROP: f32 = 11.0;
const DATE_DROP: f32 = 31.0;
/// Text size of the issuer block, and the smallest it shrinks to for a long name.
pub const TEXT_SIZE: f32 = 12.0;
const MIN_SIZE: f32 = 8.0;
/// Space kept between two neighbouring names.
const NAME_GAP: f32 = 12.0;

/// One line of text placed by the block (`x`, `y` = start of its baseline).
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub x: f32,
    pub y: f32,
    pub size: f32,
    pub text: String,
}

/// Rows of a plan of `n` seals: how many, and how many seals each (the last may hold fewer).
fn rows(n: usize) -> (usize, usize) {
    let rows = n.max(1).div_ceil(PER_ROW);
    (rows, n.max(1).div_ceil(rows))
}

/// Centre of seal `i` of a plan of `n`, and the width its name may take.
fn centre(i: usize, n: usize) -> (f32, f32, f32) {
    if n <= 1 {
        return (SINGLE_CX, LOW_CY, 2.0 * (RIGHT - SINGLE_CX));
    }
    let (rows, per) = rows(n);
    let (row, col) = (i / per, i % per);
    let in_row = per.min(n.saturating_sub(row * per)).max(1);
    let pitch = (RIGHT - LEFT) / in_row as f32;
    let cx = LEFT + pitch * (col as f32 + 0.5);
    let cy = LOW_CY + ROW_H * rows.saturating_sub(row + 1) as f32;
    (cx, cy, pitch - NAME_GAP)
}

/// Where seal number `i` (0-based, plan order) of a plan of `n` seals goes.
pub fn seal_slot(i: usize, n: usize) -> Rect {
    let (cx, cy, _) = centre(i, n);
    let h = SEAL_SIZE / 2.0;
    Rect { x1: cx - h, y1: cy - h, x2: cx + h, y2: cy + h }
}

/// Baselines of the lowest row's names and of the date (for lines set beside the block, such as
/// a commitment's applicant).
pub fn baselines() -> (f32, f32) {
    (LOW_CY - NAME_DROP, LOW_CY - DATE_DROP)
}

/// The top of the highest seal of a plan of `n`: the body text must end above it.
pub fn block_top(n: usize) -> f32 {
    let (rows, _) = rows(n);
    LOW_CY + ROW_H * (rows - 1) as f32 + SEAL_SIZE / 2.0
}

/// The issuer block: each name centred under its seal (single issuer: `label` before the name),
/// the date centred under the last seal. `width(text, size)` measures text.
pub fn issuer_block(
    label: &str,
    names: &[&str],
    date: &str,
    width: &dyn Fn(&str, f32) -> f32,
) -> Vec<Placed> {
    let n = names.len().max(1);
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let (cx, cy, room) = centre(i, n);
        let w12 = width(name, TEXT_SIZE);
        // Shrink a long name to fit its room; below MIN_SIZE, break it into two lines instead.
        let one = TEXT_SIZE * room / w12.max(1.0);
        let (size, lines) = if one >= TEXT_SIZE {
            (TEXT_SIZE, vec![name.to_string()])
        } else if one >= MIN_SIZE {
            (one, vec![name.to_string()])
        } else {
            let size = (1.9 * one).clamp(MIN_SIZE - 1.0, TEXT_SIZE - 2.0);
            (size, super::linebreak::break_lines(name, room, &|c| width(c.encode_utf8(&mut [0; 4]), size)))
        };
        let lead = size * 1.1;
        let top = cy - NAME_DROP + lead * (lines.len() as f32 - 1.0) / 2.0;
        for (k, line) in lines.iter().enumerate() {
            let lw = width(line, size);
            let (x, y) = (cx - lw / 2.0, top - lead * k as f32);
            if n == 1 && k == 0 && !label.is_empty() {
                out.push(Placed { x: x - width(label, size), y, size, text: label.to_string() });
            }
            out.push(Placed { x, y, size, text: line.clone() });
        }
    }
    let (cx, cy, _) = centre(n - 1, n);
    out.push(Placed {
        x: cx - width(date, TEXT_SIZE) / 2.0,
        y: cy - DATE_DROP,
        size: TEXT_SIZE,
        text: date.to_string(),
    });
    out
}

/// Do two rectangles intersect or touch (GB/T 9704: joint seals 互不相交或相切)?
pub fn touch(a: &Rect, b: &Rect) -> bool {
    // Round seals inscribed in the rectangles: compare centre distance with the diameters.
    let (ax, ay) = ((a.x1 + a.x2) / 2.0, (a.y1 + a.y2) / 2.0);
    let (bx, by) = ((b.x1 + b.x2) / 2.0, (b.y1 + b.y2) / 2.0);
    let d = ((ax - bx).powi(2) + (ay - by).powi(2)).sqrt();
    d <= (a.x2 - a.x1) / 2.0 + (b.x2 - b.x1) / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str, size: f32) -> f32 {
        s.chars().count() as f32 * size
    }

    /// Every plan up to eight seals: no two seals touch, all inside the frame, in plan order.
    #[test]
    fn joint_seals_never_touch_and_stay_on_the_page() {
        for n in 1..=8 {
            let slots: Vec<Rect> = (0..n).map(|i| seal_slot(i, n)).collect();
            for (i, a) in slots.iter().enumerate() {
                assert!(a.x1 > 35.0 && a.x2 < 560.0 && a.y1 > 60.0, "{n}: {a:?}");
                for b in slots.iter().skip(i + 1) {
                    assert!(!touch(a, b), "{n}: {a:?} touches {b:?}");
                }
            }
            // Plan order: left to right within a row, rows from the top down.
            for p in slots.windows(2) {
                if let [a, b] = p {
                    assert!(a.x1 < b.x1 || a.y1 > b.y1, "{n}: {a:?} then {b:?}");
                }
            }
        }
    }

    /// Single issuer: the name and the date are centred under the seal, below its centre, the
    /// date in its lower half; the label stands before the name.
    #[test]
    fn single_issuer_name_and_date_under_the_seal() {
        let r = seal_slot(0, 1);
        let cy = (r.y1 + r.y2) / 2.0;
        let cx = (r.x1 + r.x2) / 2.0;
        let b = issuer_block("发证机关：", &["泰安市市场监督管理局"], "2026年11月30日", &w);
        let [label, name, date] = b.as_slice() else { panic!("{b:?}") };
        assert!((name.x + w(&name.text, name.size) / 2.0 - cx).abs() < 0.01);
        assert!((date.x + w(&date.text, date.size) / 2.0 - cx).abs() < 0.01);
        // Glyphs reach about 0.8 em above the baseline: the name's top stays under the centre.
        assert!(name.y + 0.8 * name.size < cy && date.y < name.y && date.y > r.y1 + 20.0);
        assert!((label.x + w(&label.text, label.size) - name.x).abs() < 0.01);
    }

    /// Joint issuers: each name under its own seal, none overlapping its neighbour.
    #[test]
    fn joint_names_under_their_own_seals() {
        let names =
            ["岱岳区行政审批服务局", "泰安市市场监督管理局", "泰安市一个名字特别特别长的行政审批服务局"];
        let b = issuer_block("发证机关：", &names, "2026年11月30日", &w);
        assert_eq!(b.len(), 5, "the long name takes two lines: {b:?}");
        let names: Vec<&Placed> = b.iter().take(4).collect();
        for (p, i) in names.iter().zip([0, 1, 2, 2]) {
            let r = seal_slot(i, 3);
            let mid = p.x + w(&p.text, p.size) / 2.0;
            assert!((mid - (r.x1 + r.x2) / 2.0).abs() < 0.01, "{p:?}");
            let pitch = (RIGHT - LEFT) / 3.0;
            assert!(w(&p.text, p.size) <= pitch - NAME_GAP + 0.01, "{p:?}");
        }
    }
}
