//! What every path validation looks up in a trust store, prepared once per store rather than once
//! per signature: each anchor's subject name and each stored CRL's issuer name (DER). With 50
//! imported regions a chain is tried only against the anchors that issued one of its certificates,
//! and only the CRLs of the right issuer are parsed, so a verification costs about what it does
//! with one region (issue 14, Speed). Built on first use (a server builds its store once per
//! reload) and used only while the store holds the anchors and CRLs it was built from.
//!
//! Knows DER names; nothing of regions, revocation or PDF. RFC 5280 §4.1.2.4 and §4.1.2.6 (issuer
//! and subject), §5.1.2.3 (CRL issuer).

use x509_parser::prelude::*;

use super::{Anchor, Crl};

/// Subjects of the anchors and issuers of the CRLs, by position in the store.
#[derive(Debug, Clone, Default)]
pub struct Index {
    anchor_subjects: Vec<Vec<u8>>,
    crl_issuers: Vec<Vec<u8>>,
}

impl Index {
    /// Read every anchor's subject and every CRL's issuer once (unreadable ones get an empty name,
    /// which matches nothing).
    pub fn build(anchors: &[Anchor], crls: &[Crl]) -> Self {
        Index {
            anchor_subjects: anchors
                .iter()
                .map(|a| {
                    X509Certificate::from_der(&a.der)
                        .map(|(_, c)| c.subject().as_raw().to_vec())
                        .unwrap_or_default()
                })
                .collect(),
            crl_issuers: crls
                .iter()
                .map(|c| {
                    CertificateRevocationList::from_der(&c.der)
                        .map(|(_, l)| l.issuer().as_raw().to_vec())
                        .unwrap_or_default()
                })
                .collect(),
        }
    }

    /// Whether the index was built from a store of this shape (fields of a `TrustStore` are
    /// public: a store extended after its first use is indexed afresh).
    pub fn fits(&self, anchors: &[Anchor], crls: &[Crl]) -> bool {
        self.anchor_subjects.len() == anchors.len() && self.crl_issuers.len() == crls.len()
    }

    /// Whether anchor `i` is named `name` (a DER name).
    pub fn anchor_is(&self, i: usize, name: &[u8]) -> bool {
        self.anchor_subjects.get(i).is_some_and(|s| !s.is_empty() && s.as_slice() == name)
    }

    /// Whether stored CRL `i` was issued by `name` (a DER name).
    pub fn crl_by(&self, i: usize, name: &[u8]) -> bool {
        self.crl_issuers.get(i).is_some_and(|s| !s.is_empty() && s.as_slice() == name)
    }
}
