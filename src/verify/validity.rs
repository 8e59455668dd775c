//! The use period of documents made for one use: a proof (数据核验证明, template `proof`,
//! docs/proofs.md) may be relied on until its 有效期至, an annotated copy (加注件, `annotation`)
//! until its validity end. After that day (China Standard Time, the validation day) the document
//! is still authentic — its signatures stay valid and the ETSI indication is untouched — but it is
//! no longer fit for use, and the document verdict says "not valid" under rule `VALIDITY`
//! (`verdict`).
//!
//! A licence's own validity end (证照有效期截止日期) is not this rule: it is a licence-status
//! warning (`status`). Knows the licence metadata, the annotated-copy items and the trust store's
//! catalogue of licence types; nothing of PDF parsing.

use std::sync::OnceLock;

use serde::Serialize;

use super::annotation::AnnotatedCopy;
use crate::document::template::{Template, BUILTIN};
use crate::document::LicenceMetadata;
use crate::trust::TrustStore;

/// A one-use document's period as the report shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Validity {
    /// `proof` or `annotated copy`.
    pub document: &'static str,
    /// The last day of use (YYYY-MM-DD, inclusive).
    pub valid_until: String,
    /// The validation day is after `valid_until`.
    pub expired: bool,
}

/// The use period of the document, if it is a proof or an annotated copy. `today` is the
/// validation day (YYYY-MM-DD, China Standard Time).
pub fn of(
    licence: Option<&LicenceMetadata>,
    copy: Option<&AnnotatedCopy>,
    today: &str,
    trust: &TrustStore,
) -> Option<Validity> {
    if let Some(c) = copy {
        return Some(Validity {
            document: "annotated copy",
            valid_until: c.valid_until.clone(),
            expired: c.expired,
        });
    }
    let l = licence.filter(|l| is_proof_type(&l.zzlxdm, trust))?;
    let end = l.zzyxqjzrq.as_str();
    let is_date = end.len() == 10
        && end
            .bytes()
            .enumerate()
            .all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    // A proof without a readable end date is not fit for use either: it claims no period.
    Some(Validity { document: "proof", valid_until: end.to_string(), expired: !is_date || end < today })
}

/// Whether `type_code` is the proof template's: the home's catalogue (a home may replace the
/// template) or the built-in one.
fn is_proof_type(type_code: &str, trust: &TrustStore) -> bool {
    static BUILTIN_CODE: OnceLock<String> = OnceLock::new();
    let builtin = BUILTIN_CODE.get_or_init(|| {
        BUILTIN
            .iter()
            .find(|(n, _)| *n == "proof")
            .and_then(|(n, t)| Template::parse(t, n).ok())
            .map(|t| t.type_code)
            .unwrap_or_default()
    });
    (!type_code.is_empty() && type_code == builtin.as_str())
        || trust
            .authority
            .as_ref()
            .is_some_and(|a| a.types().iter().any(|t| t.template == "proof" && t.type_code == type_code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proof_meta(end: &str) -> LicenceMetadata {
        LicenceMetadata {
            zzlxdm: "11100000MB0341032Y101".into(),
            zzyxqjzrq: end.into(),
            ..Default::default()
        }
    }

    /// A proof is expired the day after its 有效期至, not on it; a licence is never a proof.
    #[test]
    fn proof_period_is_inclusive() {
        let t = TrustStore::default();
        let v = of(Some(&proof_meta("2026-12-01")), None, "2026-12-01", &t).expect("a proof");
        assert!(!v.expired);
        assert!(of(Some(&proof_meta("2026-12-01")), None, "2026-12-02", &t).expect("a proof").expired);
        assert!(of(Some(&proof_meta("长期")), None, "2026-12-02", &t).expect("a proof").expired);
        let licence = LicenceMetadata { zzlxdm: "11100000MB0341032Y001".into(), ..proof_meta("2020-01-01") };
        assert_eq!(of(Some(&licence), None, "2026-12-02", &t), None);
    }
}
