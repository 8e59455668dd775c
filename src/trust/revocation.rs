//! Revocation status of a whole certification path: the signer certificate and every CA
//! certificate above it up to (not including) the trust anchor, each looked up in the CRLs its
//! issuer signed — the store's and the document's own (DSS). A certificate with no current CRL
//! leaves the status unknown (stale when only CRLs past their nextUpdate exist), unless a proof
//! of existence (POE) time is given and a CRL was current then.
//!
//! Knows certificates and CRLs only; which result is fatal (strict or soft-fail) is the
//! verifier's decision. RFC 5280 §6.3 (CRL processing), §5.1.2.4–5; ETSI EN 319 102-1 §5.2.5.

use rustls_pki_types::UnixTime;
use x509_parser::prelude::*;

use super::{crl, crl_signed_by, rfc3339, verified, Anchor, Crl, Revocation, ORIGIN_DSS, ORIGIN_STORE};

/// Longest path walked (signer + CAs).
const MAX_DEPTH: usize = 8;

/// The status of the path from `ee` up through `intermediates` to one of `anchors`, at `at`
/// (or, for CRLs no longer current, at `poe`).
pub fn of_path(
    crls: &[Crl],
    anchors: &[Anchor],
    ee: &[u8],
    intermediates: &[Vec<u8>],
    at: UnixTime,
    poe: Option<i64>,
) -> Revocation {
    let now = i64::try_from(at.as_secs()).unwrap_or(i64::MAX);
    let (embedded, store): (Vec<&Crl>, Vec<&Crl>) = crls.iter().partition(|c| c.source == ORIGIN_DSS);
    let mut cur = ee.to_vec();
    let mut signer: Option<Revocation> = None;
    let mut path = Vec::new();
    let mut worst_ca: Option<Revocation> = None;
    for depth in 0..MAX_DEPTH {
        let Ok((_, cert)) = X509Certificate::from_der(&cur) else {
            return Revocation::Unknown { detail: "certificate unreadable".into(), stale: false };
        };
        let issuers = issuers_of(&cert, &cur, intermediates, anchors);
        let scope = if depth == 0 { crl::Scope::EndEntity } else { crl::Scope::Ca };
        let status = combine(
            of_one(&store, &cert, &issuers, now, poe, scope),
            of_one(&embedded, &cert, &issuers, now, poe, scope),
        );
        if depth == 0 {
            signer = Some(status);
        } else {
            let who = format!("the CA certificate {}", cert.subject());
            match status {
                Revocation::Good { source, origin, .. } => path.push(format!("{who}: {source} ({origin})")),
                // A revoked CA is the chain's failure (webpki reports it); not this one's.
                Revocation::Revoked { .. } => {}
                Revocation::Refused { source, detail }
                    if !matches!(worst_ca, Some(Revocation::Refused { .. })) =>
                {
                    worst_ca = Some(Revocation::Refused { source, detail: format!("{who}: {detail}") })
                }
                Revocation::Unknown { detail, stale } if worst_ca.is_none() => {
                    worst_ca = Some(Revocation::Unknown { detail: format!("{who}: {detail}"), stale })
                }
                _ => {}
            }
        }
        // Stop at the anchor; go on with an intermediate issuer.
        let anchor_issued = anchors.iter().any(|a| issuers.contains(&a.der));
        let next = issuers.iter().find(|d| intermediates.contains(d)).cloned();
        match next {
            Some(n) if !anchor_issued && n != cur => cur = n,
            _ => break,
        }
    }
    match (signer, worst_ca) {
        (Some(r @ Revocation::Revoked { .. }), _) => r,
        (Some(r @ Revocation::Refused { .. }), _) => r,
        (_, Some(ca)) => ca,
        (Some(Revocation::Good { source, this_update, origin, .. }), None) => {
            Revocation::Good { source, this_update, origin, path }
        }
        (Some(r), None) => r,
        (None, None) => Revocation::Unknown { detail: "certificate unreadable".into(), stale: false },
    }
}

/// One certificate's status from the trust store's CRLs and from the document's: a revocation in
/// either wins; otherwise the store decides when it can (a refused store CRL stays refused: the
/// issuer's own publication is broken), and the document's CRLs fill in when the store has no
/// current one.
fn combine(store: Revocation, embedded: Revocation) -> Revocation {
    match (store, embedded) {
        (s @ Revocation::Revoked { .. }, _) => s,
        (_, d @ Revocation::Revoked { .. }) => d,
        (s @ (Revocation::Good { .. } | Revocation::Refused { .. }), _) => s,
        (_, d @ (Revocation::Good { .. } | Revocation::Refused { .. })) => d,
        (Revocation::Unknown { detail, stale }, Revocation::Unknown { detail: d2, stale: s2 }) => {
            if stale || !s2 {
                Revocation::Unknown { detail, stale }
            } else {
                Revocation::Unknown { detail: format!("{d2} (embedded in the document)"), stale: s2 }
            }
        }
    }
}

/// The certificates among `intermediates` and `anchors` that issued `cert` (name and key).
fn issuers_of(
    cert: &X509Certificate<'_>,
    der: &[u8],
    intermediates: &[Vec<u8>],
    anchors: &[Anchor],
) -> Vec<Vec<u8>> {
    intermediates
        .iter()
        .chain(anchors.iter().map(|a| &a.der))
        .filter(|d| d.as_slice() != der)
        .filter(|d| {
            X509Certificate::from_der(d)
                .map(|(_, c)| {
                    c.subject().as_raw() == cert.issuer().as_raw()
                        && verified::memoised(&[b"x509-cert", c.public_key().raw, der], || {
                            cert.verify_signature(Some(c.public_key())).is_ok()
                        })
                })
                .unwrap_or(false)
        })
        .cloned()
        .collect()
}

/// Look `cert` up in the CRLs its issuer (one of `issuers`, by key) signed. A stale CRL still
/// proves a revocation (it is permanent, except certificateHold); it clears the certificate only
/// when it was current at `poe`.
fn of_one(
    crls: &[&Crl],
    cert: &X509Certificate<'_>,
    issuers: &[Vec<u8>],
    now: i64,
    poe: Option<i64>,
    scope: crl::Scope,
) -> Revocation {
    let issuer_certs: Vec<X509Certificate<'_>> =
        issuers.iter().filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c)).collect();
    let (mut stale, mut refused, mut good) = (None, None, None::<(i64, String, String)>);
    for c in crls.iter().copied() {
        let Ok((_, list)) = CertificateRevocationList::from_der(&c.der) else { continue };
        if list.issuer().as_raw() != cert.issuer().as_raw()
            || !issuer_certs.iter().any(|i| crl_signed_by(&list, &c.der, i))
        {
            continue;
        }
        let origin = if c.source == ORIGIN_DSS { ORIGIN_DSS } else { ORIGIN_STORE }.to_string();
        let mut source = crl::describe(&list);
        let entry = crl::entry_for(&list, cert.raw_serial());
        match crl::check(&list, now, scope) {
            Ok(()) => {}
            Err(crl::Unusable::Stale { .. })
                if entry
                    .is_some_and(|e| !matches!(e.reason_code(), Some((_, ReasonCode::CertificateHold)))) => {}
            Err(crl::Unusable::Stale { .. }) if poe.is_some_and(|t| crl::check(&list, t, scope).is_ok()) => {
                source.push_str(", current at the proof-of-existence time");
            }
            Err(crl::Unusable::Stale { next_update }) => {
                stale = Some(format!("{source} is past its next update ({next_update})"));
                continue;
            }
            Err(why) => {
                refused =
                    Some(Revocation::Refused { detail: format!("{source} cannot be used: {why}"), source });
                continue;
            }
        }
        if let Some(entry) = entry {
            let reason = entry.reason_code().map(|(_, r)| format!("{r}"));
            return Revocation::Revoked {
                source,
                revoked_at: rfc3339(entry.revocation_date.timestamp()),
                reason,
                origin,
            };
        }
        // Several usable CRLs that do not list it: the newest speaks (the store's on a tie).
        let issued = list.last_update().timestamp();
        if good.as_ref().is_none_or(|(t, _, _)| issued > *t) {
            good = Some((issued, source, origin));
        }
    }
    if let Some((issued, source, origin)) = good {
        return Revocation::Good { source, this_update: rfc3339(issued), origin, path: Vec::new() };
    }
    if let Some(r) = refused {
        return r;
    }
    match stale {
        Some(detail) => Revocation::Unknown { detail, stale: true },
        None => Revocation::Unknown {
            detail: format!("no CRL signed by {} was available", cert.issuer()),
            stale: false,
        },
    }
}
