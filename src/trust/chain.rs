//! Certificate path validation with rustls-webpki: a signer or TSA certificate, the
//! intermediates its signature carries, and a time, tried against each anchor of a
//! [`TrustStore`] that issued a certificate of the chain, with only that anchor's region's CRLs
//! (and the document's DSS). Answers a [`ChainOutcome`] and the path's [`Revocation`]; a
//! question the store already answered comes from its memo ([`results`](super::results)).
//!
//! Knows certificates, CRLs and webpki; nothing of PDF, nor of where the store's anchors and
//! CRLs come from. RFC 5280 §6 (path validation); sub-indications of ETSI EN 319 102-1.

use rustls_pki_types::{CertificateDer, UnixTime};
use webpki::{
    CertRevocationList, OwnedCertRevocationList, RevocationCheckDepth, RevocationOptionsBuilder,
    UnknownStatusPolicy,
};
use x509_parser::prelude::*;

use super::{
    crl, crl_signed_by, index, results, revocation, subject_of, verified, Anchor, Crl, Revocation,
    RevocationInputs, TrustStore, ORIGIN_DSS,
};

/// DER content of id-kp-documentSigning (1.3.6.1.5.5.7.3.36), RFC 9336.
const EKU_DOCUMENT_SIGNING_DER: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x24];
/// DER content of id-kp-timeStamping (1.3.6.1.5.5.7.3.8), RFC 3161 §2.3.
const EKU_TIME_STAMPING_DER: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];

/// What the end-entity certificate is validated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A seal: EKU id-kp-documentSigning when an EKU is present.
    DocumentSigning,
    /// A time-stamping authority: EKU id-kp-timeStamping required.
    TimeStamping,
}

/// Outcome of path validation.
#[derive(Debug, Clone)]
pub enum ChainOutcome {
    /// Path found; subjects from signer to anchor, and the anchor's source.
    Trusted { path: Vec<String>, anchor: String, region: String },
    /// Failed, with an ETSI EN 319 102-1 sub-indication and a reason.
    Failed { sub_indication: &'static str, reason: String },
}

/// Most embedded CRLs one signature's check considers (after keeping only those whose issuer
/// is on the path).
const MAX_EMBEDDED_CRLS: usize = 64;

impl TrustStore {
    /// Validate `ee` (DER), a seal certificate, with `intermediates` at `at`, with the store's CRLs.
    pub fn validate(&self, ee: &[u8], intermediates: &[Vec<u8>], at: UnixTime) -> (ChainOutcome, Revocation) {
        self.validate_full(ee, intermediates, at, Purpose::DocumentSigning, &RevocationInputs::default())
    }

    /// Validate `ee` (DER) for `purpose` with `intermediates` at `at`, with the store's CRLs.
    pub fn validate_for(
        &self,
        ee: &[u8],
        intermediates: &[Vec<u8>],
        at: UnixTime,
        purpose: Purpose,
    ) -> (ChainOutcome, Revocation) {
        self.validate_full(ee, intermediates, at, purpose, &RevocationInputs::default())
    }

    /// [`validate`](Self::validate) with the document's own revocation data (and POE) as well.
    pub fn validate_with(
        &self,
        ee: &[u8],
        intermediates: &[Vec<u8>],
        at: UnixTime,
        inputs: &RevocationInputs<'_>,
    ) -> (ChainOutcome, Revocation) {
        self.validate_full(ee, intermediates, at, Purpose::DocumentSigning, inputs)
    }

    /// Validate `ee` for `purpose` at `at`, revocation from the store and `inputs`; a question
    /// this store already answered is answered from its memo ([`results`]).
    pub fn validate_full(
        &self,
        ee: &[u8],
        intermediates: &[Vec<u8>],
        at: UnixTime,
        purpose: Purpose,
        inputs: &RevocationInputs<'_>,
    ) -> (ChainOutcome, Revocation) {
        let key = results::key(self, ee, intermediates, at, purpose, inputs);
        if let Some(hit) = self.results.get(&key) {
            return hit;
        }
        let outcome = self.validate_afresh(ee, intermediates, at, purpose, inputs);
        self.results.put(key, &outcome);
        outcome
    }

    /// [`validate_full`](Self::validate_full) without the memo.
    fn validate_afresh(
        &self,
        ee: &[u8],
        intermediates: &[Vec<u8>],
        at: UnixTime,
        purpose: Purpose,
        inputs: &RevocationInputs<'_>,
    ) -> (ChainOutcome, Revocation) {
        let idx = self.index();
        let all_crls = self.with_embedded(&idx, ee, intermediates, inputs.embedded);
        // Revocation over every anchor's CRLs: only when no anchor validates the chain.
        let unanchored = || revocation::of_path(&all_crls, &self.anchors, ee, intermediates, at, inputs.poe);
        let ee_der = CertificateDer::from(ee);
        let cert = match webpki::EndEntityCert::try_from(&ee_der) {
            Ok(c) => c,
            Err(e) => {
                return (
                    ChainOutcome::Failed {
                        sub_indication: "FORMAT_FAILURE",
                        reason: format!("signer certificate unreadable: {e}"),
                    },
                    unanchored(),
                )
            }
        };
        // A path can end only at an anchor whose subject issued a certificate of the chain; the
        // others are skipped before their region's CRLs are parsed (webpki would answer
        // UnknownIssuer for them), so 50 imported regions cost about what one does.
        let issuers = issuer_names(ee, intermediates);
        let inters: Vec<CertificateDer<'_>> =
            intermediates.iter().map(|d| CertificateDer::from(d.as_slice())).collect();
        // One attempt per anchor, each with only the CRLs that anchor's candidate chain signed:
        // two regions may use the same CA names, and a same-named CRL must never decide.
        let mut worst: Option<(webpki::Error, Option<String>)> = None;
        let now = i64::try_from(at.as_secs()).unwrap_or(i64::MAX);
        for (i, a) in self.anchors.iter().enumerate() {
            if !issuers.iter().any(|n| idx.anchor_is(i, n)) {
                continue;
            }
            let Ok(ta) = webpki::anchor_from_trusted_cert(&CertificateDer::from(a.der.as_slice()))
                .map(|t| t.to_owned())
            else {
                continue;
            };
            let signers: Vec<X509Certificate<'_>> = intermediates
                .iter()
                .chain(std::iter::once(&a.der))
                .filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c))
                .collect();
            // Only CRLs of the anchor's own region (or the document's DSS, checked against the
            // chain's own keys): no region decides another's revocations.
            let crls: Vec<&Crl> = all_crls
                .iter()
                .filter(|c| c.region == a.region || c.source == ORIGIN_DSS)
                .filter(|c| {
                    CertificateRevocationList::from_der(&c.der)
                        .map(|(_, l)| {
                            // Refused CRLs never reach webpki; stale ones do (revocation is permanent).
                            matches!(
                                crl::check(&l, now, crl::Scope::Any),
                                Ok(()) | Err(crl::Unusable::Stale { .. })
                            ) && signers.iter().any(|s| {
                                s.subject().as_raw() == l.issuer().as_raw() && crl_signed_by(&l, &c.der, s)
                            })
                        })
                        .unwrap_or(false)
                })
                .collect();
            let owned: Vec<CertRevocationList<'_>> = crls
                .iter()
                .filter_map(|c| OwnedCertRevocationList::from_der(&c.der).ok().map(CertRevocationList::from))
                .collect();
            let crl_refs: Vec<&CertRevocationList<'_>> = owned.iter().collect();
            let options = RevocationOptionsBuilder::new(&crl_refs).ok().map(|b| {
                b.with_depth(RevocationCheckDepth::Chain)
                    .with_status_policy(UnknownStatusPolicy::Allow)
                    .build()
            });
            let anchors = [ta];
            let result = cert.verify_for_usage(
                verified::algorithms(),
                &anchors,
                &inters,
                at,
                match purpose {
                    Purpose::DocumentSigning => {
                        webpki::KeyUsage::required_if_present(EKU_DOCUMENT_SIGNING_DER)
                    }
                    Purpose::TimeStamping => webpki::KeyUsage::required(EKU_TIME_STAMPING_DER),
                },
                options,
                None,
            );
            match result {
                Ok(path) => {
                    let mut subjects = vec![subject_of(ee)];
                    subjects.extend(path.intermediate_certificates().map(|c| subject_of(c.der().as_ref())));
                    subjects.push(subject_of(&a.der));
                    let scoped: Vec<Crl> = all_crls
                        .iter()
                        .filter(|c| c.region == a.region || c.source == ORIGIN_DSS)
                        .cloned()
                        .collect();
                    let own: Vec<Anchor> =
                        self.anchors.iter().filter(|x| x.region == a.region).cloned().collect();
                    let revocation = revocation::of_path(&scoped, &own, ee, intermediates, at, inputs.poe);
                    return (
                        ChainOutcome::Trusted {
                            path: subjects,
                            anchor: a.source.clone(),
                            region: a.region.clone(),
                        },
                        revocation,
                    );
                }
                // "Not this anchor" errors rank below anything that says what is wrong with the chain.
                Err(e) => {
                    let weak = |e: &webpki::Error| {
                        matches!(
                            e,
                            webpki::Error::UnknownIssuer | webpki::Error::InvalidSignatureForPublicKey
                        )
                    };
                    if worst.as_ref().map(|(w, _)| weak(w) && !weak(&e)).unwrap_or(true) {
                        let revoked = matches!(e, webpki::Error::CertRevoked)
                            .then(|| which_revoked(&crls, ee, intermediates))
                            .flatten();
                        worst = Some((e, revoked));
                    }
                }
            }
        }
        let outcome = {
            let (e, revoked) = worst.unwrap_or((webpki::Error::UnknownIssuer, None));
            {
                let (sub, reason) = match e {
                    webpki::Error::UnknownIssuer => {
                        ("NO_CERTIFICATE_CHAIN_FOUND", "no chain to a trusted region root".to_string())
                    }
                    webpki::Error::InvalidSignatureForPublicKey => (
                        "NO_CERTIFICATE_CHAIN_FOUND",
                        "no chain to a trusted region root (an issuer of the same name has a different key)"
                            .to_string(),
                    ),
                    webpki::Error::CertRevoked => (
                        "REVOKED",
                        revoked.unwrap_or_else(|| "a certificate in the chain is revoked".to_string()),
                    ),
                    webpki::Error::CertExpired { .. } => {
                        ("OUT_OF_BOUNDS_NO_POE", "a certificate in the chain has expired".to_string())
                    }
                    webpki::Error::CertNotValidYet { .. } => {
                        ("NOT_YET_VALID", "a certificate in the chain is not valid yet".to_string())
                    }
                    webpki::Error::RequiredEkuNotFoundContext(_) => (
                        "CHAIN_CONSTRAINTS_FAILURE",
                        match purpose {
                            Purpose::DocumentSigning => {
                                "the signer certificate is not for document signing (EKU)"
                            }
                            Purpose::TimeStamping => {
                                "the certificate is not a time-stamping certificate (EKU)"
                            }
                        }
                        .to_string(),
                    ),
                    other => {
                        ("CERTIFICATE_CHAIN_GENERAL_FAILURE", format!("path validation failed: {other}"))
                    }
                };
                ChainOutcome::Failed { sub_indication: sub, reason }
            }
        };
        (outcome, unanchored())
    }

    /// The CRLs that can speak about `ee` or one of `intermediates`: the store's and then the
    /// embedded ones (at most [`MAX_EMBEDDED_CRLS`], named [`ORIGIN_DSS`]) whose issuer issued a
    /// certificate of the chain. Other regions' CRLs are not even copied.
    fn with_embedded(
        &self,
        idx: &index::Index,
        ee: &[u8],
        intermediates: &[Vec<u8>],
        embedded: &[Vec<u8>],
    ) -> Vec<Crl> {
        let issuers = issuer_names(ee, intermediates);
        let mut out: Vec<Crl> = self
            .crls
            .iter()
            .enumerate()
            .filter(|(i, _)| issuers.iter().any(|n| idx.crl_by(*i, n)))
            .map(|(_, c)| c.clone())
            .collect();
        out.extend(
            embedded
                .iter()
                .filter(|der| {
                    CertificateRevocationList::from_der(der)
                        .map(|(_, l)| issuers.iter().any(|i| i.as_slice() == l.issuer().as_raw()))
                        .unwrap_or(false)
                })
                .take(MAX_EMBEDDED_CRLS)
                .map(|der| Crl { source: ORIGIN_DSS.to_string(), der: der.clone(), region: String::new() }),
        );
        out
    }
}

/// The issuer names (DER) of `ee` and `intermediates`: the subjects a chain's anchor and CRLs
/// must have.
fn issuer_names(ee: &[u8], intermediates: &[Vec<u8>]) -> Vec<Vec<u8>> {
    std::iter::once(ee)
        .chain(intermediates.iter().map(Vec::as_slice))
        .filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c.issuer().as_raw().to_vec()))
        .collect()
}

/// Which certificate of `ee` + `intermediates` one of `crls` (already checked to be signed within
/// the chain) lists, named for the report: the seal certificate or a CA certificate.
fn which_revoked(crls: &[&Crl], ee: &[u8], intermediates: &[Vec<u8>]) -> Option<String> {
    let lists: Vec<CertificateRevocationList<'_>> = crls
        .iter()
        .filter_map(|c| CertificateRevocationList::from_der(&c.der).ok().map(|(_, l)| l))
        .collect();
    std::iter::once(ee).chain(intermediates.iter().map(Vec::as_slice)).enumerate().find_map(|(i, der)| {
        let (_, cert) = X509Certificate::from_der(der).ok()?;
        lists.iter().find(|l| {
            l.issuer().as_raw() == cert.issuer().as_raw() && crl::entry_for(l, cert.raw_serial()).is_some()
        })?;
        let what = if i == 0 { "the seal certificate" } else { "the CA certificate" };
        Some(format!("{what} {} (serial {}) is revoked", cert.subject(), cert.raw_serial_as_string()))
    })
}
