//! Document timestamps (PAdES B-LTA: `/Type /DocTimeStamp`, SubFilter ETSI.RFC3161) as proof of
//! existence for `poe`: each token must be over the SHA-256 of its own byte range and come from a
//! TSA that chains to a trusted root.
//!
//! They are checked newest first (ETSI EN 319 102-1 §5.6.2.4, the LTA chain): the newest at the
//! validation time; each older one at the time of the earliest newer valid timestamp that covers
//! it, so a TSA certificate that has since ended is fine as long as a later timestamp, made while
//! it was valid, covers it (what `archive renew` keeps true). Each is reported; a valid one is a
//! POE for every signature whose revision it covers (and for the signature timestamps inside
//! them, `timestamp`).
//!
//! A token that is proven wrong (its imprint, its signature) is FAILED and fails the document; one
//! that cannot be validated here (unknown TSA, expired chain without a newer POE) is
//! INDETERMINATE and simply gives no POE. Token checks belong to `trust::timestamp`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::poe::Poe;
use crate::pades::doc_timestamp::SUBFILTER;
use crate::pades::{cms, ParsedSignature};
use crate::trust::timestamp::{verify_token, Imprint};
use crate::trust::TrustStore;

/// One document timestamp in the report.
#[derive(Debug, Clone, Serialize)]
pub struct DocTimestamp {
    pub field: String,
    /// genTime (RFC 3339), when the token verifies.
    pub time: Option<String>,
    /// The TSA certificate's subject, when the token verifies.
    pub tsa: Option<String>,
    /// End of the validity of the TSA certificate (RFC 3339): renew before it (`archive renew`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tsa_valid_until: Option<String>,
    pub byte_range: [usize; 4],
    /// PASSED | FAILED | INDETERMINATE
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_indication: Option<&'static str>,
    pub detail: String,
}

/// Whether `s` is a document timestamp rather than a signature.
pub fn is_doc_timestamp(s: &ParsedSignature) -> bool {
    s.sub_filter == SUBFILTER
}

fn at(unix: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(unix).unwrap_or(0))
}

/// Check every document timestamp among `sigs` at validation time `now` (Unix seconds), each at
/// the earliest POE covering it (`earlier`: evidence records; then newer document timestamps);
/// returns the report entries (in document order) and the POEs of those that verify.
pub fn check(
    pdf: &[u8],
    sigs: &[ParsedSignature],
    trust: &TrustStore,
    now: i64,
    earlier: &[Poe],
) -> (Vec<DocTimestamp>, Vec<Poe>) {
    let mut out: Vec<DocTimestamp> = Vec::new();
    let mut poes: Vec<Poe> = Vec::new();
    let mut doc_ts: Vec<&ParsedSignature> = sigs.iter().filter(|s| is_doc_timestamp(s)).collect();
    doc_ts.sort_by_key(|s| std::cmp::Reverse(s.signed_end()));
    for s in doc_ts {
        let [_, a, b, c] = s.byte_range;
        // Validated at the earliest time a newer valid timestamp covering this one proves.
        let when = validation_time_for(s.signed_end(), poes.iter().chain(earlier), now);
        let entry = |time, tsa, status, sub, detail| DocTimestamp {
            field: s.field_name.clone(),
            time,
            tsa,
            tsa_valid_until: None,
            byte_range: s.byte_range,
            status,
            sub_indication: sub,
            detail,
        };
        let parts = match (pdf.get(..a), b.checked_add(c).and_then(|end| pdf.get(b..end))) {
            (Some(x), Some(y)) => [x, y],
            _ => {
                out.push(entry(
                    None,
                    None,
                    "FAILED",
                    Some("FORMAT_FAILURE"),
                    "byte range out of bounds".into(),
                ));
                continue;
            }
        };
        let Some(token) = cms::strip_padding(&s.contents) else {
            let why = "/Contents is not one DER token followed by zero padding".to_string();
            out.push(entry(None, None, "FAILED", Some("FORMAT_FAILURE"), why));
            continue;
        };
        match verify_token(token, Imprint::Data(&parts), trust, at(when)) {
            Ok(info) => {
                let validated = if when < now {
                    format!(
                        "; its TSA certificate validated at {}, the time of a newer timestamp",
                        crate::trust::rfc3339(when)
                    )
                } else {
                    String::new()
                };
                let detail = format!(
                    "document timestamp {} by {} (serial {}) over the first {} bytes{validated}",
                    info.gen_time_rfc3339,
                    info.tsa_subject,
                    info.serial,
                    b.saturating_add(c),
                );
                poes.push(Poe {
                    time: info.gen_time_rfc3339.clone(),
                    source: "document timestamp",
                    detail: format!("{} (serial {}, field {})", info.tsa_subject, info.serial, s.field_name),
                    unix: info.gen_time,
                    covers: a,
                    only: None,
                });
                let mut e =
                    entry(Some(info.gen_time_rfc3339), Some(info.tsa_subject), "PASSED", None, detail);
                e.tsa_valid_until = x509_parser::parse_x509_certificate(&info.tsa_cert_der)
                    .ok()
                    .map(|(_, c)| crate::trust::rfc3339(c.validity().not_after.timestamp()));
                out.push(e);
            }
            Err(e) => {
                let status = if e.is_proven() { "FAILED" } else { "INDETERMINATE" };
                out.push(entry(None, None, status, Some(e.sub_indication()), e.to_string()));
            }
        }
    }
    out.reverse();
    (out, poes)
}

/// The time at which a timestamp token inside the bytes `[0, end)` is to be validated: the
/// earliest POE (evidence record, document timestamp) covering those bytes, else `now` (ETSI EN
/// 319 102-1 §5.6.2.4: a time-stamp's TSA certificate only has to be valid when POE shows the
/// token existed).
pub fn validation_time_for<'a>(end: usize, poes: impl IntoIterator<Item = &'a Poe>, now: i64) -> i64 {
    poes.into_iter()
        .filter(|p| p.only.is_none() && end <= p.covers)
        .map(|p| p.unix)
        .min()
        .unwrap_or(now)
        .min(now)
}
