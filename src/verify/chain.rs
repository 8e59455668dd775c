//! CHAIN and REVOCATION: the signer's path to a trusted root, and whether any certificate on it
//! was revoked, at the validation time (ETSI EN 319 102-1 §5.2.6 X.509 certificate validation,
//! §5.2.5 revocation freshness).
//!
//! Decisions about paths and CRLs belong to `trust`; this module turns them into checks.

use super::report::Indication::{Indeterminate, TotalFailed};
use super::report::{check, fail, Check, SignatureReport, Status};
use super::signature::{Context, SignerCert};
use crate::pades::cms;
use crate::trust::{ChainOutcome, Revocation, RevocationInputs, RevocationPolicy};

/// Validate the chain and revocation of `signer`; records the path and the revocation status.
pub fn run(ctx: &Context<'_>, parsed: &cms::ParsedCms, signer: &SignerCert<'_>, r: &mut SignatureReport) {
    let others: Vec<Vec<u8>> =
        parsed.certificates.iter().filter(|c| c.as_slice() != signer.der).cloned().collect();
    let inputs = RevocationInputs { embedded: ctx.embedded_crls, poe: None };
    let (outcome, revocation) = ctx.trust.validate_with(signer.der, &others, ctx.at, &inputs);
    match outcome {
        ChainOutcome::Trusted { path, anchor, region } => {
            r.chain_region = Some(region);
            r.checks.push(check(
                "CHAIN",
                Status::Passed,
                format!("chains to trusted root {} ({anchor})", path.last().cloned().unwrap_or_default()),
            ));
            r.chain = path;
        }
        ChainOutcome::Failed { sub_indication, reason } => {
            let ind = if sub_indication == "FORMAT_FAILURE" { TotalFailed } else { Indeterminate };
            // A revoked signer is reported by REVOCATION (with its date); a revoked CA only here.
            let signer_revoked = matches!(revocation, Revocation::Revoked { .. });
            r.checks.push(match sub_indication {
                "REVOKED" if signer_revoked => super::report::check("CHAIN", Status::Failed, reason),
                "REVOKED" => fail("CHAIN", Status::Failed, Indeterminate, "REVOKED_CA_NO_POE", reason),
                _ => fail("CHAIN", Status::Failed, ind, sub_indication, reason),
            });
        }
    }
    r.checks.push(revocation_check(
        &revocation,
        ctx.sig.signing_time.as_deref(),
        ctx.trust.revocation_policy,
    ));
    r.revocation = Some(revocation);
}

fn revocation_check(rev: &Revocation, claimed: Option<&str>, policy: RevocationPolicy) -> Check {
    match rev {
        Revocation::Good { source, origin, path, .. } => {
            let cas = if path.is_empty() { String::new() } else { format!("; {}", path.join("; ")) };
            check("REVOCATION", Status::Passed, format!("not revoked according to {source} ({origin}){cas}"))
        }
        // No current CRL for a certificate on the path: unknown, fatal unless soft-fail was chosen.
        Revocation::Unknown { detail, .. } if policy == RevocationPolicy::SoftFail => {
            check("REVOCATION", Status::Warning, format!("revocation not checked (soft-fail): {detail}"))
        }
        Revocation::Unknown { detail, .. } => fail(
            "REVOCATION",
            Status::Indeterminate,
            Indeterminate,
            "TRY_LATER",
            format!("revocation status unknown: {detail}"),
        ),
        Revocation::Refused { detail, .. } => fail(
            "REVOCATION",
            Status::Indeterminate,
            Indeterminate,
            "TRY_LATER",
            format!("revocation status unknown: {detail}"),
        ),
        Revocation::Revoked { source, revoked_at, .. } => {
            // B-B has no proof of time: a claimed signing time after revocation still fails outright,
            // otherwise ETSI says REVOKED_NO_POE (cannot tell whether it was signed before).
            let claimed_after = claimed
                .and_then(pdf_date_to_rfc3339)
                .map(|c| c.as_str() >= revoked_at.as_str())
                .unwrap_or(false);
            let (ind, sub) =
                if claimed_after { (TotalFailed, "REVOKED") } else { (Indeterminate, "REVOKED_NO_POE") };
            fail(
                "REVOCATION",
                Status::Failed,
                ind,
                sub,
                format!("the seal certificate was revoked at {revoked_at} ({source})"),
            )
        }
    }
}

/// `D:YYYYMMDDHHmmSS+08'00'` → RFC 3339 in UTC, for comparisons.
fn pdf_date_to_rfc3339(d: &str) -> Option<String> {
    let s = d.strip_prefix("D:")?;
    let digits = |a: usize, b: usize| s.get(a..b)?.parse::<u32>().ok();
    let (y, mo, da, h, mi, se) =
        (digits(0, 4)?, digits(4, 6)?, digits(6, 8)?, digits(8, 10)?, digits(10, 12)?, digits(12, 14)?);
    let sign = if s.get(14..15) == Some("-") { -1 } else { 1 };
    let (oh, om) =
        (digits(15, 17).unwrap_or(0), s.get(18..20).and_then(|x| x.parse::<u32>().ok()).unwrap_or(0));
    let date = ::time::Date::from_calendar_date(
        i32::try_from(y).ok()?,
        ::time::Month::try_from(u8::try_from(mo).ok()?).ok()?,
        u8::try_from(da).ok()?,
    )
    .ok()?;
    let t =
        ::time::Time::from_hms(u8::try_from(h).ok()?, u8::try_from(mi).ok()?, u8::try_from(se).ok()?).ok()?;
    let off = ::time::UtcOffset::from_whole_seconds(sign * i32::try_from(oh * 3600 + om * 60).ok()?).ok()?;
    let ts = ::time::PrimitiveDateTime::new(date, t).assume_offset(off).unix_timestamp();
    Some(crate::trust::rfc3339(ts))
}
