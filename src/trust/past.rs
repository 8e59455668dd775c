//! Past certificate validation: is a signer certificate's chain valid, and was none of its
//! certificates revoked, at a time `T` for which the caller holds proof of existence (POE)?
//! ETSI EN 319 102-1 §5.6.2.1 (past certificate validation) and §5.6.2.4 (past signature
//! validation), simplified:
//!
//! - the chain is built and checked by webpki at `T` (every certificate inside its validity at
//!   `T`, chaining to a trusted root);
//! - revocation is read from every CRL the certificate's issuer signed, whenever it was issued
//!   (a CRL that breaks the CRL profile at its own issue time is never used): an entry dated at
//!   or before `T` means revoked before the POE; an entry dated after `T` does not matter (the
//!   signature existed before); no entry counts only from a CRL that speaks about `T` — issued at
//!   or after `T`, or current at `T` (thisUpdate ≤ T ≤ nextUpdate).
//!
//! Knows certificates and CRLs; nothing of PDF or of where the POE came from (`verify::poe`).

use rustls_pki_types::UnixTime;
use x509_parser::prelude::*;

use super::{crl, crl_signed_by, rfc3339, ChainOutcome, TrustStore};

/// Outcome of past validation at a POE time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PastOutcome {
    /// Valid at the POE time. `revocation` says which CRL settled it (and any later revocation).
    Valid { path: Vec<String>, anchor: String, region: String, revocation: String },
    /// A certificate of the chain was revoked at or before the POE time.
    RevokedBefore { which: String, revoked_at: String },
    /// The chain does not validate at the POE time (ETSI sub-indication and reason).
    ChainFailed { sub_indication: &'static str, reason: String },
    /// No CRL speaks about the signer's status at the POE time.
    NoRevocationData { detail: String },
}

impl TrustStore {
    /// Past validation of `ee` (with the signature's `intermediates`) at POE time `poe` (Unix s).
    pub fn validate_past(&self, ee: &[u8], intermediates: &[Vec<u8>], poe: i64) -> PastOutcome {
        let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(u64::try_from(poe).unwrap_or(0)));
        // A CRL current at T that lists a certificate makes webpki answer REVOKED: the scan below
        // finds the same entry and names its date.
        let (path, anchor, region, revoked) = match self.validate(ee, intermediates, at).0 {
            ChainOutcome::Trusted { path, anchor, region } => (path, anchor, region, None),
            ChainOutcome::Failed { sub_indication: "REVOKED", reason } => {
                (Vec::new(), String::new(), String::new(), Some(reason))
            }
            ChainOutcome::Failed { sub_indication, reason } => {
                return PastOutcome::ChainFailed { sub_indication, reason }
            }
        };
        // Every certificate but the anchor: the signer first, then the intermediates given.
        let mut settled = None;
        for (i, der) in std::iter::once(ee).chain(intermediates.iter().map(Vec::as_slice)).enumerate() {
            let Ok((_, cert)) = X509Certificate::from_der(der) else { continue };
            let scope = if i == 0 { crl::Scope::EndEntity } else { crl::Scope::Ca };
            match self.status_at(&cert, intermediates, poe, scope) {
                Status::RevokedBefore(at) => {
                    let what = if i == 0 { "the seal certificate" } else { "the CA certificate" };
                    return PastOutcome::RevokedBefore {
                        which: format!("{what} {} (serial {})", cert.subject(), cert.raw_serial_as_string()),
                        revoked_at: at,
                    };
                }
                Status::Settled(s) if i == 0 => settled = Some(s),
                Status::Unknown if i == 0 => {
                    return PastOutcome::NoRevocationData {
                        detail: format!(
                            "no CRL signed by {} covers the proof-of-existence time {}",
                            cert.issuer(),
                            rfc3339(poe)
                        ),
                    }
                }
                _ => {}
            }
        }
        match revoked {
            Some(which) => {
                PastOutcome::RevokedBefore { which, revoked_at: format!("or before {}", rfc3339(poe)) }
            }
            None => PastOutcome::Valid { path, anchor, region, revocation: settled.unwrap_or_default() },
        }
    }

    /// The status of `cert` at `poe` from every usable CRL of its issuer.
    fn status_at(
        &self,
        cert: &X509Certificate<'_>,
        intermediates: &[Vec<u8>],
        poe: i64,
        scope: crl::Scope,
    ) -> Status {
        let idx = self.index();
        let named = cert.issuer().as_raw();
        let issuers: Vec<X509Certificate<'_>> = intermediates
            .iter()
            .chain(
                self.anchors
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| idx.anchor_is(*i, named))
                    .map(|(_, a)| &a.der),
            )
            .filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c))
            .filter(|c| c.subject().as_raw() == named)
            .collect();
        let mut best: Option<(i64, String)> = None;
        for (_, c) in self.crls.iter().enumerate().filter(|(i, _)| idx.crl_by(*i, named)) {
            let Ok((_, list)) = CertificateRevocationList::from_der(&c.der) else { continue };
            if list.issuer().as_raw() != cert.issuer().as_raw()
                || !issuers.iter().any(|i| crl_signed_by(&list, &c.der, i))
            {
                continue;
            }
            let this_update = list.last_update().timestamp();
            // The profile at the CRL's own issue time (staleness and "issued after T" are fine
            // here), scoped to the certificate's kind (a CA-only CRL says nothing of a seal).
            if crl::check(&list, this_update, scope).is_err() {
                continue;
            }
            if let Some(e) = crl::entry_for(&list, cert.raw_serial()) {
                let hold = matches!(e.reason_code(), Some((_, ReasonCode::CertificateHold)));
                let when = crl::effective_revocation(e);
                if when <= poe && !hold {
                    return Status::RevokedBefore(rfc3339(when));
                }
                if when > poe {
                    let s = format!(
                        "revoked at {} ({}), after the proof of existence at {}",
                        rfc3339(when),
                        crl::describe(&list),
                        rfc3339(poe)
                    );
                    best = Some((i64::MAX, s));
                }
                continue;
            }
            let covers = this_update >= poe || list.next_update().is_none_or(|n| n.timestamp() >= poe);
            if covers && best.as_ref().is_none_or(|(t, _)| this_update > *t && *t != i64::MAX) {
                best = Some((
                    this_update,
                    format!("not revoked at {} according to {}", rfc3339(poe), crl::describe(&list)),
                ));
            }
        }
        match best {
            Some((_, s)) => Status::Settled(s),
            None => Status::Unknown,
        }
    }
}

enum Status {
    RevokedBefore(String),
    Settled(String),
    Unknown,
}
