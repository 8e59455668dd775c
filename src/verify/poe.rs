//! Proof of existence (POE) and validation in the past: ETSI EN 319 102-1 §5.6.2.4 (past
//! signature validation), simplified and documented in docs/archive.md.
//!
//! A POE says "these bytes existed at time T". Sources accepted, each only when it checks:
//! - an archive evidence record (`archive::evidence`, RFC 4998 in spirit): the record's content
//!   hash equals the SHA-256 of the whole file or of one of its revisions, the inclusion path
//!   leads to a checkpoint signed by a log key the verifier trusts, and that key's clock
//!   cosignature states T;
//! - a document timestamp or a signature timestamp (RFC 3161), once their tokens verify
//!   (`timestamps`, fed by `pki::tsa`).
//!
//! A signature covered by a POE at T whose check at the validation time failed only because its
//! certificate has since expired or was revoked (or its CRL is now stale) is validated again at
//! T (`trust::past`): chain valid at T, not revoked at or before T → TOTAL-PASSED, with a POE
//! check naming the source. Revoked at or before T stays refused. No POE: nothing changes
//! (OUT_OF_BOUNDS_NO_POE / REVOKED_NO_POE stay INDETERMINATE).
//!
//! Knows the parsed signatures and the trust store; nothing of the archive's storage.

use serde::Serialize;

use super::report::{check, fail, Check, Indication, SignatureReport, Status};
use crate::archive::evidence::Proven;
use crate::pades::{cms, ParsedSignature};
use crate::trust::past::PastOutcome;
use crate::trust::{rfc3339, TrustStore};

/// One proof of existence, as the report names it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Poe {
    /// RFC 3339.
    pub time: String,
    /// `archive evidence record` | `document timestamp` | `signature timestamp`
    pub source: &'static str,
    /// Who vouches for the time and what the POE covers.
    pub detail: String,
    #[serde(skip)]
    pub unix: i64,
    /// The POE covers the bytes `[0, covers)`: every signature whose revision ends by then.
    #[serde(skip)]
    pub covers: usize,
    /// For a signature timestamp: only that signature (1-based index).
    #[serde(skip)]
    pub only: Option<usize>,
}

/// Sub-indications that a POE before the event can cure (ETSI EN 319 102-1 §5.6.2.4).
const CURABLE: &[&str] = &[
    "OUT_OF_BOUNDS_NO_POE",
    "OUT_OF_BOUNDS_NOT_REVOKED",
    "REVOKED_NO_POE",
    "REVOKED_CA_NO_POE",
    "REVOCATION_OUT_OF_BOUNDS_NO_POE",
    "TRY_LATER",
];

/// POEs from checked evidence records: each whose content hash is the whole file or one of its
/// revisions (`revisions`: offsets just past each %%EOF), and whose time is not after `at`.
pub fn from_evidence(pdf: &[u8], revisions: &[usize], proven: &[Proven], at: i64) -> Vec<Poe> {
    if proven.is_empty() {
        return Vec::new();
    }
    let mut ends: Vec<usize> = revisions.iter().copied().filter(|e| *e <= pdf.len()).collect();
    ends.push(pdf.len());
    ends.sort_unstable();
    ends.dedup();
    let hashes: Vec<(usize, [u8; 32])> =
        ends.iter().filter_map(|e| pdf.get(..*e).map(|b| (*e, cms::sha256(b)))).collect();
    let mut out = Vec::new();
    for p in proven.iter().filter(|p| p.time <= at) {
        if let Some((end, _)) = hashes.iter().find(|(_, h)| *h == p.content_sha256) {
            let what =
                if *end == pdf.len() { "this file".to_string() } else { format!("its first {end} bytes") };
            out.push(Poe {
                time: rfc3339(p.time),
                source: "archive evidence record",
                detail: format!(
                    "archive record {} ({what}) is in the signed log of size {}, cosigned by the log key's clock",
                    p.record, p.tree_size
                ),
                unix: p.time,
                covers: *end,
                only: None,
            });
        }
    }
    out
}

/// The POEs that cover signature `index` (1-based) `sig`, earliest first.
pub fn covering<'a>(poes: &'a [Poe], index: usize, sig: &ParsedSignature) -> Vec<&'a Poe> {
    let mut v: Vec<&Poe> = poes
        .iter()
        .filter(|p| match p.only {
            Some(i) => i == index,
            None => sig.signed_end() <= p.covers,
        })
        .collect();
    v.sort_by_key(|p| p.unix);
    v
}

/// Apply the POEs to one signature's report (after its checks at the validation time ran).
pub fn apply(r: &mut SignatureReport, sig: &ParsedSignature, poes: &[Poe], trust: &TrustStore) {
    // The signature's own timestamp (B-T), verified by the TIMESTAMP check, proves it existed then.
    let own = r.timestamp.as_ref().map(|t| Poe {
        time: t.gen_time.clone(),
        source: "signature timestamp",
        detail: format!("{} (serial {})", t.tsa, t.serial),
        unix: t.gen_time_unix,
        covers: sig.signed_end(),
        only: Some(r.index),
    });
    let mut all: Vec<Poe> = poes.to_vec();
    all.extend(own);
    let covering = covering(&all, r.index, sig);
    let Some(best) = covering.first().copied() else { return };
    r.conclude();
    r.poe = covering.iter().map(|p| (*p).clone()).collect();
    // A CRL the issuer published broken (REFUSED) is not a matter of time: no POE cures it.
    let refused = matches!(r.revocation, Some(crate::trust::Revocation::Refused { .. }));
    let curable = r.indication == Indication::Indeterminate
        && !refused
        && r.checks.iter().filter(|c| c.indication.is_some_and(|i| i != Indication::TotalPassed)).all(|c| {
            matches!(c.name, "CHAIN" | "REVOCATION") && c.sub_indication.is_some_and(|s| CURABLE.contains(&s))
        });
    let named = format!("existed at {} ({}: {})", best.time, best.source, best.detail);
    if !curable {
        r.checks.push(check("POE", Status::Passed, named));
        return;
    }
    let Some((ee, others)) = certificates(sig) else { return };
    match trust.validate_past(&ee, &others, best.unix) {
        PastOutcome::Valid { path, anchor, region, revocation } => {
            r.chain_region = Some(region);
            r.checks.retain(|c| !matches!(c.name, "CHAIN" | "REVOCATION"));
            let at =
                r.checks.iter().position(|c| c.name == "KEY_USAGE").map(|i| i + 1).unwrap_or(r.checks.len());
            let chain = check(
                "CHAIN",
                Status::Passed,
                format!(
                    "chains to trusted root {} ({anchor}) at the proof-of-existence time {}",
                    path.last().cloned().unwrap_or_default(),
                    best.time
                ),
            );
            let rev = check("REVOCATION", Status::Passed, revocation);
            let poe = check("POE", Status::Passed, format!("{named}; validated in the past at that time"));
            r.checks.splice(at..at, [chain, rev]);
            r.checks.push(poe);
            r.chain = path;
        }
        PastOutcome::RevokedBefore { which, revoked_at } => {
            // A trusted signing time (signature timestamp) after the revocation: signed while revoked.
            let signed_after = best.only.is_some();
            let (ind, sub) = if signed_after {
                (Indication::TotalFailed, "REVOKED")
            } else {
                (Indication::Indeterminate, "REVOKED_NO_POE")
            };
            r.checks.push(fail(
                "POE",
                Status::Failed,
                ind,
                sub,
                format!("{named}; but {which} was revoked at {revoked_at}, before that"),
            ));
        }
        PastOutcome::ChainFailed { sub_indication, reason } => {
            r.checks.push(poe_failed(&named, sub_indication, &reason));
        }
        PastOutcome::NoRevocationData { detail } => {
            r.checks.push(poe_failed(&named, "REVOCATION_OUT_OF_BOUNDS_NO_POE", &detail));
        }
    }
    r.conclude();
}

fn poe_failed(named: &str, sub: &'static str, why: &str) -> Check {
    fail(
        "POE",
        Status::Indeterminate,
        Indication::Indeterminate,
        sub,
        format!("{named}; validation at that time fails: {why}"),
    )
}

/// The signer certificate and the other certificates a signature carries.
fn certificates(sig: &ParsedSignature) -> Option<(Vec<u8>, Vec<Vec<u8>>)> {
    let parsed = cms::parse(&sig.contents).ok()?;
    let ee = parsed.signer.and_then(|i| parsed.certificates.get(i)).cloned()?;
    let others = parsed.certificates.iter().filter(|c| **c != ee).cloned().collect();
    Some((ee, others))
}
