//! The mask of a QR code chosen as the qrcode crate's `Canvas::apply_best_mask` chooses it
//! (ISO/IEC 18004 §7.8.3: the first of the eight masks with the lowest penalty score), on bit rows
//! and columns instead of module by module: about twenty times less work per licence.
//!
//! Per symbol version, the eight masked symbols of an all-light data area (functional patterns,
//! format and version information included) are made once by the crate itself and kept; a
//! symbol's masked form is then that XOR the dark data modules. Symbols wider than 127 modules
//! (version 28 and up; a verification URL needs 5 or 6) are left to the crate. Knows nothing of
//! PDF; `qr` draws what this returns.

use std::sync::OnceLock;

use qrcode::canvas::{Canvas, MaskPattern, Module};
use qrcode::types::{Color, EcLevel, Version};

/// The masks in the crate's order (`ALL_PATTERNS_QR`): ties go to the first.
const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// Widest symbol scored here: a row or column is one `u128`.
const MAX_WIDTH: usize = 127;

/// One symbol as bits: `rows[y]` bit x and `cols[x]` bit y are module (x, y), set when dark.
#[derive(Clone, PartialEq, Debug)]
pub(super) struct Bits {
    pub n: usize,
    pub rows: Vec<u128>,
    pub cols: Vec<u128>,
}

impl Bits {
    fn light(n: usize) -> Bits {
        Bits { n, rows: vec![0; n], cols: vec![0; n] }
    }

    fn set(&mut self, x: usize, y: usize) {
        if let Some(r) = self.rows.get_mut(y) {
            *r |= 1 << x;
        }
        if let Some(c) = self.cols.get_mut(x) {
            *c |= 1 << y;
        }
    }

    /// `self` XOR `other`, module by module.
    fn xor(&self, other: &Bits) -> Bits {
        let x = |a: &[u128], b: &[u128]| a.iter().zip(b).map(|(p, q)| p ^ q).collect();
        Bits { n: self.n, rows: x(&self.rows, &other.rows), cols: x(&self.cols, &other.cols) }
    }

    /// Row-major colours, as `Canvas::into_colors`.
    #[cfg(test)]
    pub fn colors(&self) -> Vec<Color> {
        colors(self.n, &self.rows)
    }
}

/// Row-major colours of bit rows of `n` modules (bit x of a row set when module x is dark).
#[cfg(test)]
pub(super) fn colors(n: usize, rows: &[u128]) -> Vec<Color> {
    let mut out = Vec::with_capacity(n * rows.len());
    for r in rows {
        out.extend((0..n).map(|x| if r >> x & 1 == 1 { Color::Dark } else { Color::Light }));
    }
    out
}

/// The eight masked symbols of version `v` with every data module light, made by the crate.
fn blanks(v: i16) -> Option<&'static [Bits; 8]> {
    static CACHE: [OnceLock<Option<[Bits; 8]>>; 40] = [const { OnceLock::new() }; 40];
    let slot = CACHE.get(usize::try_from(v).ok()?.checked_sub(1)?)?;
    slot.get_or_init(|| {
        let version = Version::Normal(v);
        let n = usize::try_from(version.width()).ok().filter(|n| *n <= MAX_WIDTH)?;
        let mut canvas = Canvas::new(version, EcLevel::M);
        canvas.draw_all_functional_patterns();
        Some(MASKS.map(|mask| {
            let mut c = canvas.clone();
            c.apply_mask(mask);
            let mut bits = Bits::light(n);
            for_each_module(n, |x, y, xi, yi| {
                if c.get(xi, yi).is_dark() {
                    bits.set(x, y);
                }
            });
            bits
        }))
    })
    .as_ref()
}

fn for_each_module(n: usize, mut f: impl FnMut(usize, usize, i16, i16)) {
    for y in 0..n {
        for x in 0..n {
            if let (Ok(xi), Ok(yi)) = (i16::try_from(x), i16::try_from(y)) {
                f(x, y, xi, yi);
            }
        }
    }
}

/// The symbol of `canvas` (functional patterns and data drawn, not masked) under its best mask,
/// as the crate's `apply_best_mask` would make it; `None` for versions left to the crate.
pub(super) fn best(canvas: &Canvas, version: Version) -> Option<Bits> {
    let Version::Normal(v) = version else { return None };
    let blanks = blanks(v)?;
    let n = blanks[0].n;
    // The dark data modules: each flips its mask's module. Every other module is the same as in
    // the blank canvas (data drawing writes only data modules).
    let mut data = Bits::light(n);
    for_each_module(n, |x, y, xi, yi| {
        if canvas.get(xi, yi) == Module::Unmasked(Color::Dark) {
            data.set(x, y);
        }
    });
    let mut winner: Option<(u16, Bits)> = None;
    for blank in blanks {
        let symbol = blank.xor(&data);
        let score = penalty(&symbol);
        if winner.as_ref().is_none_or(|(s, _)| score < *s) {
            winner = Some((score, symbol));
        }
    }
    winner.map(|(_, b)| b)
}

/// The crate's `compute_total_penalty_scores` of a masked symbol, in the same wrapping u16
/// arithmetic (its finder score is its count less 360, computed in a release build).
pub(super) fn penalty(s: &Bits) -> u16 {
    // A verification URL needs version 5 or 6 (37 or 41 modules): one u64 a line, half the work.
    if s.n <= 64 {
        penalty_in::<u64>(s)
    } else {
        penalty_in::<u128>(s)
    }
}

/// A line of modules as the bits of one machine word (`Bits` keeps `u128`s; a symbol of up to
/// 64 modules is scored on `u64`s).
trait Line:
    Copy
    + Eq
    + std::ops::BitAnd<Output = Self>
    + std::ops::BitXor<Output = Self>
    + std::ops::Not<Output = Self>
    + std::ops::Shr<u32, Output = Self>
    + std::ops::Shl<u32, Output = Self>
    + std::ops::Sub<Output = Self>
{
    const ZERO: Self;
    const ONE: Self;
    /// The low bits of `r` (a line no wider than `Self`).
    fn of(r: u128) -> Self;
    fn ones(self) -> u32;
    fn zeros(self) -> u32;
    /// Bits 0..k set.
    fn low(k: usize) -> Self;
}

macro_rules! line {
    ($t:ty) => {
        impl Line for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            fn of(r: u128) -> Self {
                r as $t
            }
            fn ones(self) -> u32 {
                self.count_ones()
            }
            fn zeros(self) -> u32 {
                self.trailing_zeros()
            }
            fn low(k: usize) -> Self {
                if k >= <$t>::BITS as usize {
                    <$t>::MAX
                } else {
                    (1 << k) - 1
                }
            }
        }
    };
}
line!(u64);
line!(u128);

fn penalty_in<W: Line>(s: &Bits) -> u16 {
    let n = s.n;
    let (rows1, rows3) = lines::<W>(&s.rows, n);
    let (cols1, cols3) = lines::<W>(&s.cols, n);
    let inner = W::low(n.saturating_sub(1));
    let blocks: u32 = s
        .rows
        .windows(2)
        .map(|p| match p {
            [a, b] => {
                let (a, b) = (W::of(*a), W::of(*b));
                (!(a ^ b) & !(a ^ (a >> 1)) & !(b ^ (b >> 1)) & inner).ones()
            }
            _ => 0,
        })
        .sum();
    let dark: usize = s.rows.iter().map(|r| r.count_ones() as usize).sum();
    let ratio = dark * 200 / (n * n).max(1);
    let total = i64::from(rows1 + cols1) + i64::from(3 * blocks) + i64::from(rows3) - 360 + i64::from(cols3)
        - 360
        + i64::try_from(ratio.abs_diff(100)).unwrap_or(0);
    total.rem_euclid(1 << 16) as u16
}

/// N1 (every run of 5 + k equal modules scores 3 + k) and N3 (40 for each 1:1:3:1:1 dark
/// pattern with no dark module in the four before it, or in the four after it, the edge
/// counting as light) over lines of `n` modules.
fn lines<W: Line>(lines: &[u128], n: usize) -> (u32, u32) {
    let (mut runs, mut finder) = (0u32, 0u32);
    let edges = W::low(n.saturating_sub(1));
    let starts = W::low((n + 1).saturating_sub(7));
    for &r in lines {
        let r = W::of(r);
        // Bit i of `same`: module i is module i + 1's colour; of `five`: modules i to i + 4 are.
        // A run of 5 + k equal modules holds 1 + k such windows of five, one after the other
        // (runs of either colour are apart: the windows that straddle two runs are not set), and
        // scores 3 + k: its windows, plus 2 for the first of them.
        let same = !(r ^ (r >> 1)) & edges;
        let five = same & (same >> 1) & (same >> 2) & (same >> 3);
        runs += five.ones() + 2 * (five & !(five << 1)).ones();
        // The pattern reads the same both ways: bit j of `p` is the pattern at j..j + 7.
        let mut p = r & !(r >> 1) & (r >> 2) & (r >> 3) & (r >> 4) & !(r >> 5) & (r >> 6) & starts;
        while p != W::ZERO {
            let j = p.zeros() as usize;
            let before = W::low(j) & !W::low(j.saturating_sub(4));
            let after = W::low((j + 11).min(n)) & !W::low(j + 7);
            if r & before == W::ZERO || r & after == W::ZERO {
                finder += 40;
            }
            p = p & (p - W::ONE);
        }
    }
    (runs, finder)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Payloads of 1 to 400 bytes from a fixed xorshift stream: versions 1 to 15 at medium
    /// error correction, byte, alphanumeric and numeric modes.
    pub(crate) fn payloads(count: usize) -> Vec<Vec<u8>> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..count)
            .map(|i| {
                let len = 1 + (next() % 400) as usize;
                let alphabet: &[u8] = match i % 3 {
                    0 => b"0123456789",
                    1 => b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:",
                    _ => b"",
                };
                (0..len)
                    .map(|_| {
                        let b = next() as u8;
                        if alphabet.is_empty() {
                            b
                        } else {
                            alphabet[usize::from(b) % alphabet.len()]
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// The scoring this module replaced (rows and columns as slices of bools), kept as the
    /// reference: the crate's penalty in wrapping u16 arithmetic.
    fn old_penalty(dark: &[bool], n: usize) -> u16 {
        let at = |x: usize, y: usize| dark[y * n + x];
        let columns: Vec<bool> = (0..n * n).map(|i| at(i / n, i % n)).collect();
        let mut total: u16 = 0;
        for grid in [dark, columns.as_slice()] {
            let mut finder: u16 = 0;
            for line in grid.chunks(n) {
                for run in line.chunk_by(|a, b| a == b) {
                    if run.len() >= 5 {
                        total = total.wrapping_add((run.len() - 2) as u16);
                    }
                }
                const PATTERN: [bool; 7] = [true, false, true, true, true, false, true];
                for (j, window) in line.windows(7).enumerate() {
                    if window != PATTERN {
                        continue;
                    }
                    let dark_in = |from: usize, to: usize| line[from..to.min(n)].contains(&true);
                    if !dark_in(j.saturating_sub(4), j) || !dark_in(j + 7, j + 11) {
                        finder = finder.wrapping_add(40);
                    }
                }
            }
            total = total.wrapping_add(finder.wrapping_sub(360));
        }
        let rows: Vec<&[bool]> = dark.chunks(n).collect();
        for pair in rows.windows(2) {
            for (a, b) in pair[0].windows(2).zip(pair[1].windows(2)) {
                if a[0] == a[1] && a[0] == b[0] && a[0] == b[1] {
                    total = total.wrapping_add(3);
                }
            }
        }
        let darks = dark.iter().filter(|d| **d).count();
        total.wrapping_add(((darks * 200 / dark.len()).abs_diff(100)) as u16)
    }

    /// For 1,000 payloads and each of the eight masks, the bit-row penalty equals the old
    /// scoring of the crate's own masked symbol, and the symbol bits are the crate's modules.
    #[test]
    fn penalty_equals_the_old_scoring_for_every_mask() {
        for data in payloads(1000) {
            let bits = qrcode::bits::encode_auto(&data, EcLevel::M).unwrap();
            let version = bits.version();
            let Version::Normal(v) = version else { continue };
            let (codewords, ec) =
                qrcode::ec::construct_codewords(&bits.into_bytes(), version, EcLevel::M).unwrap();
            let mut canvas = Canvas::new(version, EcLevel::M);
            canvas.draw_all_functional_patterns();
            canvas.draw_data(&codewords, &ec);
            let n = usize::try_from(version.width()).unwrap();
            let mut data_bits = Bits::light(n);
            for_each_module(n, |x, y, xi, yi| {
                if canvas.get(xi, yi) == Module::Unmasked(Color::Dark) {
                    data_bits.set(x, y);
                }
            });
            for (mask, blank) in MASKS.iter().zip(blanks(v).unwrap()) {
                let mut c = canvas.clone();
                c.apply_mask(*mask);
                let colors = c.into_colors();
                let dark: Vec<bool> = colors.iter().map(|c| *c == Color::Dark).collect();
                let symbol = blank.xor(&data_bits);
                assert_eq!(symbol.colors(), colors, "version {v} mask {mask:?}");
                assert_eq!(penalty(&symbol), old_penalty(&dark, n), "version {v} mask {mask:?}");
            }
        }
    }
}
