//! Format and length checks of the fields a request to the no-certificate workflows carries
//! (proof requests, commitments, annotated copies, the sharing verbs), run before a field goes
//! anywhere: the archive log, the server log, a problem detail. A refused field is described by
//! what was checked ("purpose: malformed, 15728640 bytes"), never echoed.
//!
//! Formats: matter codes (事项) `NNNNNN-XX-NNNN` (6-digit area code, two capital letters, four
//! digits; fixtures/region/uses.toml), proof kinds and department ids lower-case identifiers,
//! subjects at most [`MAX_SUBJECT_BYTES`] before GB 11643 / GB 32100 normalisation, licence
//! identifiers and record ids short printable ASCII. Knows nothing of the list's contents.

use crate::error::ProofError;

/// Longest subject (ID number or USCC, before normalisation), bytes.
pub const MAX_SUBJECT_BYTES: usize = 64;
/// Longest proof kind or department id, bytes.
pub const MAX_ID_BYTES: usize = 64;
/// Longest licence identifier or record id, bytes.
pub const MAX_IDENTIFIER_BYTES: usize = 128;
/// Longest commitment statement as sent, bytes (before joining lines; 200 characters are kept).
pub const MAX_STATEMENT_BYTES: usize = 4096;

fn refuse(field: &str, value: &str, expected: &str) -> ProofError {
    let what =
        if value.is_empty() { "missing".to_string() } else { format!("malformed, {} bytes", value.len()) };
    ProofError::Field(format!("{field}: {what} ({expected})"))
}

/// A matter (事项) code: `^\d{6}-[A-Z]{2}-\d{4}$`, e.g. 370900-XK-0001.
pub fn is_matter(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 14
        && b.iter().enumerate().all(|(i, c)| match i {
            0..=5 | 10..=13 => c.is_ascii_digit(),
            6 | 9 => *c == b'-',
            _ => c.is_ascii_uppercase(),
        })
}

/// A lower-case identifier (proof kind, department id): `^[a-z][a-z0-9-]*$`, at most
/// [`MAX_ID_BYTES`].
pub fn is_ident(v: &str) -> bool {
    v.len() <= MAX_ID_BYTES
        && v.starts_with(|c: char| c.is_ascii_lowercase())
        && v.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

/// `field` must be a matter code.
pub fn matter(field: &str, v: &str) -> Result<(), ProofError> {
    if is_matter(v) {
        Ok(())
    } else {
        Err(refuse(field, v, "a matter code looks like 370900-XK-0001"))
    }
}

/// `field` must be a proof kind or department id.
pub fn ident(field: &str, v: &str) -> Result<(), ProofError> {
    if is_ident(v) {
        Ok(())
    } else {
        Err(refuse(field, v, "an identifier of lower-case letters, digits and `-`"))
    }
}

/// A subject must be short enough to be an ID number or USCC (checked in full by normalisation).
pub fn subject(field: &str, v: &str) -> Result<(), ProofError> {
    if !v.trim().is_empty() && v.len() <= MAX_SUBJECT_BYTES {
        Ok(())
    } else {
        Err(refuse(field, v, "an ID number (GB 11643) or USCC (GB 32100)"))
    }
}

/// A licence identifier or record id: printable ASCII without spaces, at most
/// [`MAX_IDENTIFIER_BYTES`].
pub fn identifier(field: &str, v: &str) -> Result<(), ProofError> {
    let ok = !v.is_empty() && v.len() <= MAX_IDENTIFIER_BYTES && v.bytes().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(refuse(field, v, "a licence identifier or record id: printable ASCII, at most 128 bytes"))
    }
}

/// A commitment statement's size as sent (its content is checked by the commitment module).
pub fn statement(field: &str, v: &str) -> Result<(), ProofError> {
    if v.len() <= MAX_STATEMENT_BYTES {
        Ok(())
    } else {
        Err(refuse(field, v, "at most 4096 bytes; 200 characters are kept"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matter_codes_and_identifiers_have_one_shape() {
        assert!(is_matter("370900-XK-0001"));
        for bad in ["370900-xk-0001", "370900-XK-001", "370902199001011235", "３７０９００-XK-0001", ""]
        {
            assert!(!is_matter(bad), "{bad}");
        }
        assert!(is_ident("social-insurance") && is_ident("dy-xzsp"));
        for bad in ["", "Rs", "rs ", "-x", &"a".repeat(65)] {
            assert!(!is_ident(bad), "{bad}");
        }
    }

    #[test]
    fn a_refusal_names_the_field_and_size_never_the_value() {
        let big = "3".repeat(15 << 20);
        let e = matter("purpose", &big).unwrap_err().to_string();
        assert!(e.contains("purpose: malformed, 15728640 bytes") && e.len() < 200, "{e}");
        let e = matter("purpose", "370902199001011235").unwrap_err().to_string();
        assert!(!e.contains("370902199001011235"), "{e}");
    }
}
