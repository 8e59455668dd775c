//! The licence-status check of a verification: beside the signature checks, what the issuing
//! region says about the licence itself (valid, superseded, cancelled, revoked, suspended), and
//! from where. A TOTAL-PASSED signature on a licence that is no longer in force leaves the ETSI
//! indication alone (the signature is intact) but makes the document verdict "not valid" under
//! rule `LICENCE_STATUS` (`verdict`); no status known is a warning.
//!
//! Where status comes from is the caller's business: it passes [`StatusSource`]s in order (the
//! home's own archive, the status lists it holds, an online answer: licence/), the first that
//! knows the licence speaks. Knows the report; nothing of archives, lists or HTTP.

use serde::Serialize;

use super::report::Report;

/// What a source says about a licence.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LicenceStatus {
    /// valid | superseded | cancelled | revoked | suspended | not-in-force | unknown
    pub status: String,
    /// `Some(false)`: the licence is not in force; `None`: not known.
    pub in_force: Option<bool>,
    /// Where the status comes from ("this region's archive", "status list of taian issued …",
    /// "online answer from … produced …", or "none").
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// When the state began (RFC 3339), where the source says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The licence's validity end has passed (a warning; the verdict follows the state).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub expired: bool,
    pub detail: String,
}

impl LicenceStatus {
    /// No source knew the licence.
    pub fn unknown(source: &str, detail: impl Into<String>) -> Self {
        LicenceStatus {
            status: "unknown".into(),
            in_force: None,
            source: source.into(),
            current_version: None,
            reason_code: None,
            reason: None,
            since: None,
            expired: false,
            detail: detail.into(),
        }
    }
}

/// The licence a report is about, as a source needs it.
pub struct Subject<'a> {
    /// The GB/T 36904 identifier in the document's metadata.
    pub identifier: &'a str,
    /// The first signature's claimed signing time (Unix seconds), for list coverage.
    pub signed_at: Option<i64>,
    /// The subject of the trust anchor the first signature chains to (picks the region).
    pub root: Option<&'a str>,
}

/// A place that may know a licence's status.
pub trait StatusSource {
    /// `None`: this source does not speak for the licence's region (ask the next one).
    fn status_of(&self, subject: &Subject<'_>) -> Option<LicenceStatus>;
}

/// Unix seconds of a PDF date (`D:YYYYMMDDHHmmSS` with `Z` or `+HH'mm'`); `None` if malformed.
pub fn pdf_date(s: &str) -> Option<i64> {
    let d = s.strip_prefix("D:").unwrap_or(s);
    let num = |a: usize, b: usize| d.get(a..b).and_then(|x| x.parse::<i64>().ok());
    let (y, mo, da) = (num(0, 4)?, num(4, 6)?, num(6, 8)?);
    let (h, mi, se) = (num(8, 10).unwrap_or(0), num(10, 12).unwrap_or(0), num(12, 14).unwrap_or(0));
    let month = time::Month::try_from(u8::try_from(mo).ok()?).ok()?;
    let date = time::Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(da).ok()?).ok()?;
    let local = date.with_hms(u8::try_from(h).ok()?, u8::try_from(mi).ok()?, u8::try_from(se).ok()?).ok()?;
    let offset = match d.get(14..15) {
        Some("+") | Some("-") => {
            let sign = if d.get(14..15) == Some("-") { -1 } else { 1 };
            sign * (num(15, 17).unwrap_or(0) * 3600 + num(18, 20).unwrap_or(0) * 60)
        }
        _ => 0,
    };
    Some(local.assume_utc().unix_timestamp() - offset)
}

/// Ask `sources` in order about the report's licence and record the answer in
/// `report.licence_status`, then re-decide the document verdict. Documents without a licence
/// identifier are left alone.
pub fn apply(report: &mut Report, sources: &[&dyn StatusSource]) {
    let Some(identifier) = report.licence.as_ref().map(|l| l.zzbs.clone()).filter(|z| !z.is_empty()) else {
        return;
    };
    let first = report.signatures.first();
    let subject = Subject {
        identifier: &identifier,
        signed_at: first.and_then(|s| s.signing_time_claimed.as_deref()).and_then(pdf_date),
        root: first.and_then(|s| s.chain.last()).map(String::as_str),
    };
    let found = sources.iter().find_map(|s| s.status_of(&subject)).unwrap_or_else(|| {
        LicenceStatus::unknown(
            "none",
            "no status known: the licence's region is not this home's and no status list or online answer covers it",
        )
    });
    report.licence_status = Some(found);
    report.verdict = super::verdict::decide(report);
}

#[cfg(test)]
mod tests {
    /// PDF dates with and without a time zone read as the same instant.
    #[test]
    fn pdf_dates() {
        assert_eq!(super::pdf_date("D:20261126120000+08'00'"), super::pdf_date("D:20261126040000Z"));
        assert_eq!(super::pdf_date("D:20261126040000Z"), Some(1_795_665_600));
        assert_eq!(super::pdf_date("garbage"), None);
    }
}
