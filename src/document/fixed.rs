//! Numbers in PDF content streams and objects with a fixed number of decimals, written from
//! integers: the same text as `format!("{v:.N}")` (the exact value of the `f32`, rounded to
//! nearest, ties to even, sign kept), without the float formatting machinery, which cost about
//! 5 % of a bulk-issued licence. Knows nothing of PDF syntax beyond the digits.

/// Most decimals written from integers (beyond, the standard formatting is used): an `f32`
/// times 10⁵ is exact in an `f64`.
const MAX_PLACES: u32 = 5;

/// Append `v` with `places` decimals, as `format!("{v:.places$}")` writes it.
pub fn push(out: &mut String, v: f32, places: u32) {
    let scale = 10u64.pow(places.min(MAX_PLACES));
    let scaled = (f64::from(v) * scale as f64).abs().round_ties_even();
    if places > MAX_PLACES || !v.is_finite() || scaled >= 1e18 {
        use std::fmt::Write as _;
        let _ = write!(out, "{v:.*}", usize::try_from(places).unwrap_or(0));
        return;
    }
    let n = scaled as u64;
    if v.is_sign_negative() {
        out.push('-');
    }
    push_u64(out, n / scale);
    if places > 0 {
        out.push('.');
        let frac = n % scale;
        let mut div = scale / 10;
        while div > 0 {
            out.push(char::from(b'0' + (frac / div % 10) as u8));
            div /= 10;
        }
    }
}

/// `v` with `places` decimals, as [`push`] writes it.
pub fn format(v: f32, places: u32) -> String {
    let mut s = String::with_capacity(12);
    push(&mut s, v, places);
    s
}

/// Append the decimal digits of `n`.
pub fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(d) = buf.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(buf.get(i..).unwrap_or_default()).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// For a million values (page coordinates, small and large, negative, exact ties such as
    /// 0.125, zero and minus zero) and 0 to 5 decimals, the text is what `format!` writes.
    #[test]
    fn same_text_as_float_formatting() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut values: Vec<f32> =
            vec![0.0, -0.0, 0.125, -0.125, 0.5, 1.5, 2.5, 0.005, 0.015, 595.28, 841.89];
        values.extend((0..2000).map(|k| k as f32 / 8.0 - 100.0));
        while values.len() < 1_000_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = match state % 4 {
                0 => (state >> 8) as f32 / 16_777_216.0 * 1000.0,
                1 => f32::from_bits((state >> 32) as u32),
                2 => ((state >> 16) % 100_000) as f32 / 100.0 - 500.0,
                _ => ((state >> 16) % 4096) as f32 / 64.0,
            };
            values.push(v);
        }
        for v in values {
            for places in 0..=5 {
                let want = format!("{v:.*}", places as usize);
                assert_eq!(format(v, places), want, "{v:e} at {places} places");
            }
        }
    }

    /// Integers print as `to_string` does.
    #[test]
    fn integers() {
        for n in [0u64, 7, 10, 99, 1_000_000, u64::MAX] {
            let mut s = String::new();
            push_u64(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }
}
