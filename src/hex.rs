//! Hexadecimal as zhengyin writes it (lower case, two digits a byte: digests in archive records,
//! ledgers, reports and proofs, serial numbers, tokens) and reads it back (an even number of
//! digits in either case, nothing else: no sign, no space, no `0x`). One table each way, so a
//! 12,000-digit /Contents or a 64-digit digest is read without a branch per pair.
//!
//! Knows nothing of what the bytes mean; each caller checks the length it expects
//! ([`decode32`] for SHA-256 digests).

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Each byte's value as a hex digit, 0xFF for a byte that is not one.
const VALUE: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// `b` in lower-case hex.
pub fn encode(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 * b.len());
    for x in b {
        s.push(char::from(DIGITS[usize::from(x >> 4)]));
        s.push(char::from(DIGITS[usize::from(x & 0x0F)]));
    }
    s
}

/// The bytes of `hex` (an even number of hex digits, either case), or `None`.
pub fn decode(hex: impl AsRef<[u8]>) -> Option<Vec<u8>> {
    let hex = hex.as_ref();
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    let mut out = Vec::with_capacity(hex.len() / 2);
    let mut bad = 0u8;
    for pair in hex.chunks_exact(2) {
        let [h, l] = pair else { return None };
        let (h, l) = (VALUE[usize::from(*h)], VALUE[usize::from(*l)]);
        bad |= h | l;
        out.push(h << 4 | l & 0x0F);
    }
    (bad & 0xF0 == 0).then_some(out)
}

/// A SHA-256 digest written as 64 hex digits, or `None`.
pub fn decode32(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 {
        return None;
    }
    <[u8; 32]>::try_from(decode(hex)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hex in either case decodes; an odd length, a non-hex digit or a sign is refused.
    #[test]
    fn decode_reads_both_cases_and_refuses_the_rest() {
        assert_eq!(decode("00fFa9"), Some(vec![0x00, 0xff, 0xa9]));
        assert_eq!(decode(""), Some(vec![]));
        assert_eq!(decode("abc"), None);
        assert_eq!(decode("0g"), None);
        assert_eq!(decode("g0"), None);
        assert_eq!(decode("+a"), None, "u8::from_str_radix would read +a as 10");
        assert_eq!(
            decode("0123456789abcdefABCDEF"),
            Some(vec![0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xab, 0xcd, 0xef])
        );
        for b in (0..=255u8).filter(|b| !b.is_ascii_hexdigit()) {
            assert_eq!(decode([b'0', b]), None, "{b:#04x}");
        }
    }

    /// Every byte round-trips, in lower case; a digest needs exactly 64 digits.
    #[test]
    fn encode_round_trips_and_digests_have_64_digits() {
        let all: Vec<u8> = (0..=255).collect();
        let text = encode(&all);
        assert_eq!(text, all.iter().map(|x| format!("{x:02x}")).collect::<String>());
        assert_eq!(decode(&text), Some(all));
        let d = [0xA5u8; 32];
        assert_eq!(decode32(&encode(&d)), Some(d));
        assert_eq!(decode32(&encode(&d).to_uppercase()), Some(d));
        assert_eq!(decode32(&encode(&d[..31])), None);
        assert_eq!(decode32(&format!("{}00", encode(&d))), None);
    }
}
