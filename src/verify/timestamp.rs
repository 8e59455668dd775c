//! TIMESTAMP: the signature-time-stamp-token of a PAdES B-T signature (the unsigned attribute
//! id-aa-signatureTimeStampToken): a token over the hash of the signature value, signed by a
//! time-stamping authority that chains to a trusted root. Its verified genTime is recorded in the
//! report (`SignatureReport::timestamp`) as proof that the signature existed at that time.
//!
//! A token that is present but broken is a failure of the signature, never ignored. A signature
//! without one (PAdES B-B) gets no TIMESTAMP check and `timestamp: null`.
//!
//! Token checks belong to `trust::timestamp`; this module turns them into a check. ETSI EN
//! 319 142-1 §5.3 (B-T), ETSI EN 319 102-1 §5.4 (time-stamp validation), RFC 3161 Appendix A.

use serde::Serialize;

use super::report::Indication::{Indeterminate, TotalFailed};
use super::report::{check, fail, SignatureReport, Status};
use super::signature::Context;
use crate::error::Result;
use crate::pades::budget::Budget;
use crate::pades::cms;
use crate::trust::timestamp::{verify_token, Imprint};
use crate::trust::Revocation;

/// A verified signature timestamp, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct TimestampInfo {
    /// genTime of the token, RFC 3339 UTC: the signature existed at this time (proof of existence).
    pub gen_time: String,
    /// The same, Unix seconds.
    pub gen_time_unix: i64,
    /// Subject of the TSA certificate.
    pub tsa: String,
    /// The token's serial number, hex.
    pub serial: String,
    /// The TSA policy under which it was issued.
    pub policy: String,
    /// Digest algorithm of the message imprint.
    pub hash: &'static str,
}

/// Check the signature timestamp of `parsed`, if it carries one.
pub fn run(
    ctx: &Context<'_>,
    parsed: &cms::ParsedCms,
    r: &mut SignatureReport,
    budget: &mut Budget,
) -> Result<()> {
    let Some(token) = &parsed.signature_timestamp else { return Ok(()) };
    budget.parse(token.len())?;
    // Covered by a POE (a document timestamp, an evidence record), the token is validated then.
    let now = i64::try_from(ctx.at.as_secs()).unwrap_or(i64::MAX);
    let when = super::doc_timestamps::validation_time_for(ctx.sig.signed_end(), ctx.poes, now);
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(when).unwrap_or(0));
    match verify_token(token, Imprint::Data(&[&parsed.signature]), ctx.trust, at) {
        Ok(info) => {
            let (status, note) = match &info.revocation {
                Revocation::Good { .. } => (Status::Passed, String::new()),
                Revocation::Unknown { detail, .. } => {
                    (Status::Warning, format!("; TSA certificate revocation not checked: {detail}"))
                }
                other => (Status::Warning, format!("; TSA certificate revocation: {other:?}")),
            };
            r.checks.push(check(
                "TIMESTAMP",
                status,
                format!(
                    "signature timestamp {} by {} (serial {}): the signature existed then{note}",
                    info.gen_time_rfc3339, info.tsa_subject, info.serial
                ),
            ));
            r.timestamp = Some(TimestampInfo {
                gen_time: info.gen_time_rfc3339,
                gen_time_unix: info.gen_time,
                tsa: info.tsa_subject,
                serial: info.serial,
                policy: info.policy,
                hash: info.hash,
            });
        }
        Err(e) => {
            let indication = if e.is_proven() { TotalFailed } else { Indeterminate };
            let status = if e.is_proven() { Status::Failed } else { Status::Indeterminate };
            r.checks.push(fail("TIMESTAMP", status, indication, e.sub_indication(), e.to_string()));
        }
    }
    Ok(())
}
