//! Finding what looks like an ID number or a USCC in free text, so that text meant for a sealed
//! page or the archive (a commitment statement) never carries one — the subject's or anyone
//! else's. The text is normalised first (Unicode NFKC: full-width ３７０９… becomes 3709…), upper-
//! cased, and spaces and dashes are dropped; then any 18 characters in a row that look like
//! - an ID number (GB 11643): 17 digits and a digit or X, whether or not the check digit is right;
//! - a USCC (GB 32100): 18 characters of its alphabet (digits and capitals except I, O, S, V, Z)
//!   with the 6-digit area code in positions 3–8, whether or not the check character is right;
//!
//! are a match. Knows nothing of holders or codes; it errs on the side of refusing.

use unicode_normalization::UnicodeNormalization;

/// The GB 32100 alphabet.
const USCC_ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// What was found, if anything: "an ID number" or "a USCC".
pub fn find(text: &str) -> Option<&'static str> {
    let chars: Vec<char> =
        text.nfkc().flat_map(char::to_uppercase).filter(|c| !c.is_whitespace() && !is_dash(*c)).collect();
    let id = |w: &[char]| {
        w.iter().take(17).all(char::is_ascii_digit)
            && w.get(17).is_some_and(|c| c.is_ascii_digit() || *c == 'X')
    };
    let uscc = |w: &[char]| {
        w.iter().all(|c| USCC_ALPHABET.contains(*c))
            && w.get(2..8).is_some_and(|a| a.iter().all(char::is_ascii_digit))
    };
    if chars.windows(18).any(id) {
        Some("an ID number")
    } else if chars.windows(18).any(uscc) {
        Some("a USCC")
    } else {
        None
    }
}

fn is_dash(c: char) -> bool {
    matches!(c, '-' | '_' | '‐' | '‑' | '‒' | '–' | '—' | '―' | '·' | '.')
}

#[cfg(test)]
mod tests {
    use super::find;

    #[test]
    fn id_numbers_and_usccs_are_found_in_any_width_and_spacing() {
        assert_eq!(find("本人370902199001011235承诺"), Some("an ID number"));
        assert_eq!(find("证件号３７０９０２１９９００１０１１２３５"), Some("an ID number"));
        assert_eq!(find("3709 0219 9001 0112 3x"), Some("an ID number"));
        assert_eq!(find("wrong check 370902199001011236"), Some("an ID number"));
        assert_eq!(find("企业91370900MA3C00001T无异常"), Some("a USCC"));
        assert_eq!(find("企业９１３７０９００ＭＡ３Ｃ００００１Ｔ"), Some("a USCC"));
    }

    #[test]
    fn ordinary_statements_pass() {
        for ok in [
            "本人承诺参保状态正常，2024年01月01日起连续缴费。",
            "事项 370900-XK-0001，电话 13800001111。",
            "I promise THE COMPANY IS FINE",
        ] {
            assert_eq!(find(ok), None, "{ok}");
        }
    }
}
