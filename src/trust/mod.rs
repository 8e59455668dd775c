//! Trust anchors (region roots), CRLs, and certificate path validation with rustls-webpki.
//! A [`TrustStore`] is built once (from a home or from root PEM files) and asked to validate a
//! signer certificate with the intermediates a signature carries, at a given time (`chain`).
//! Certificate and CRL signature checks that succeeded are memoised per process (`verified`).
//!
//! Knows nothing of PDF. RFC 5280 §6 (path validation) and §5 (CRLs), via webpki.

pub mod chain;
pub mod crl;
pub mod department;
pub mod imports;
pub mod index;
pub mod list;
pub mod past;
pub mod pivot;
pub mod province;
pub mod registry;
pub mod results;
pub mod revocation;
pub mod timestamp;
pub mod verified;

use std::path::Path;

use serde::Serialize;
use x509_parser::prelude::*;

use crate::config::{Home, RegionConfig};
use crate::error::Result;
use crate::pki::keys;

pub use chain::{ChainOutcome, Purpose};

/// A trusted root and where it came from ("region root", "trust list of <region>", "--trust":
/// never a file path, because it is shown in public reports).
#[derive(Debug, Clone)]
pub struct Anchor {
    pub source: String,
    pub der: Vec<u8>,
    /// The region whose root this is (the home's own id, an imported region's id, or empty
    /// for `--trust`): CRLs and departments are looked up in that region only.
    pub region: String,
}

/// A CRL and where it came from (a file path, for logs only: reports name a CRL by its issuer
/// and thisUpdate, see [`crl::describe`]).
#[derive(Debug, Clone)]
pub struct Crl {
    pub source: String,
    pub der: Vec<u8>,
    /// The region it was published by (see [`Anchor::region`]; empty for a document's DSS).
    pub region: String,
}

/// What the verifier trusts.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    pub anchors: Vec<Anchor>,
    pub crls: Vec<Crl>,
    /// The home's region, to name departments; absent with `--trust` only.
    pub region: Option<RegionConfig>,
    /// The home's own CA certificates (CA id, DER), to bind seals to their configured CA
    /// ([`department`]).
    pub region_cas: Vec<(String, Vec<u8>)>,
    /// The home's list of uses (用证清单), to check what proof tokens and annotated copies claim.
    pub uses: Option<crate::proofs::uses::UseList>,
    /// Missing or stale revocation data: INDETERMINATE (strict, default) or a warning.
    pub revocation_policy: RevocationPolicy,
    /// Who may seal which licence type in that region (config/authority.rs); absent with `--trust` only.
    pub authority: Option<crate::config::authority::Authority>,
    /// Regions imported from signed trust lists: their CA certificates and department registries.
    pub regions: Vec<imports::ImportedRegion>,
    /// The names of `anchors` and `crls`, read on first use ([`TrustStore::index`]); leave it
    /// default.
    pub index: std::sync::OnceLock<index::Index>,
    /// Validations already done with this store ([`results`]); leave it default.
    pub results: results::Memo,
}

/// Where a CRL came from, as reports name it.
pub const ORIGIN_STORE: &str = "trust store";
/// The origin of CRLs read from the document's /DSS (PAdES B-LT).
pub const ORIGIN_DSS: &str = "document DSS";

/// What revocation checking may use besides the store's CRLs.
#[derive(Debug, Clone, Copy, Default)]
pub struct RevocationInputs<'a> {
    /// CRLs embedded in the document (its /DSS), DER.
    pub embedded: &'a [Vec<u8>],
    /// Hook for proof of existence (Unix seconds): when no CRL is current at the validation
    /// time, one that was current at this time decides (the signature provably existed then).
    pub poe: Option<i64>,
}

/// Whether missing or stale revocation data makes a signature INDETERMINATE (`Strict`, the
/// default) or is only a warning (`SoftFail`, chosen with `verify --revocation soft-fail`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevocationPolicy {
    #[default]
    Strict,
    SoftFail,
}

impl RevocationPolicy {
    /// The names [`FromStr`](std::str::FromStr) accepts (the enum of `?revocation=` in /openapi.json).
    pub const NAMES: [&'static str; 2] = ["strict", "soft-fail"];
}

impl std::str::FromStr for RevocationPolicy {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "strict" => Ok(RevocationPolicy::Strict),
            "soft-fail" => Ok(RevocationPolicy::SoftFail),
            other => Err(format!("unknown revocation policy `{other}` (strict, soft-fail)")),
        }
    }
}

/// Revocation status of the signer certificate and of every CA certificate on its path (the
/// trust anchor excepted): the worst of them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "status", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Revocation {
    /// A CRL from the issuer was consulted and does not list the certificate, and every CA
    /// certificate on the path is likewise not revoked. `source` names the signer's CRL by its
    /// issuer and thisUpdate; `origin` says where it came from ([`ORIGIN_STORE`],
    /// [`ORIGIN_DSS`]); `path` names the CRL used for each CA certificate.
    Good {
        source: String,
        this_update: String,
        origin: String,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        path: Vec<String>,
    },
    /// Listed in the issuer's CRL (a stale CRL counts too: revocation is permanent, except
    /// certificateHold).
    Revoked { source: String, revoked_at: String, reason: Option<String>, origin: String },
    /// The issuer's only CRLs break the CRL profile (`crl::check`): the status cannot be known.
    Refused { source: String, detail: String },
    /// No usable CRL for the signer's issuer or for a CA on the path: none at all, or only
    /// CRLs past their nextUpdate (`stale`).
    Unknown {
        detail: String,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        stale: bool,
    },
}

impl TrustStore {
    /// Trust the home's region root and its CRLs.
    pub fn from_home(home: &Home) -> Result<Self> {
        let region = home.region()?;
        let uses = crate::proofs::uses::UseList::load(home)?;
        let authority = Some(crate::config::authority::Authority::from_home(home, &region, &uses)?);
        let uses = Some(uses);
        let mut store = TrustStore { region: Some(region.clone()), uses, authority, ..Default::default() };
        let own = region.region.id.clone();
        // Roots this region rotated away from keep verifying what they signed (pki/rotate.rs).
        for der in crate::pki::rotate::previous_roots(home) {
            store.anchors.push(Anchor { source: "previous region root".into(), der, region: own.clone() });
        }
        let root = home.ca_cert("root");
        for der in keys::read_certs_der(&root)? {
            store.anchors.push(Anchor { source: "region root".into(), der, region: own.clone() });
        }
        for ca in &region.cas {
            if let Some(der) =
                keys::read_certs_der(&home.ca_cert(&ca.id)).ok().and_then(|c| c.into_iter().next())
            {
                store.region_cas.push((ca.id.clone(), der));
            }
            // A CA's retired keys (pki roll-ca): what they issued stays theirs, and so does its CRL.
            for der in crate::pki::ca_keys::retired_certs(home, &ca.id) {
                store.region_cas.push((ca.id.clone(), der));
            }
            for name in crate::pki::ca_keys::crl_names(home, &ca.id) {
                let path = home.crl_file(&name);
                if let Ok(der) = std::fs::read(&path) {
                    store.crls.push(Crl { source: path.display().to_string(), der, region: own.clone() });
                }
            }
        }
        // Other regions' roots and CRLs imported with `zhengyin trust add` (trust/list.rs).
        let (anchors, crls, regions) = imports::imported_trust(home);
        store.anchors.extend(anchors);
        store.crls.extend(crls);
        store.regions = regions;
        Ok(store)
    }

    /// The store's [`index::Index`], built once; built afresh (and not kept) if anchors or CRLs
    /// were added since.
    pub fn index(&self) -> std::borrow::Cow<'_, index::Index> {
        let idx = self.index.get_or_init(|| index::Index::build(&self.anchors, &self.crls));
        if idx.fits(&self.anchors, &self.crls) {
            std::borrow::Cow::Borrowed(idx)
        } else {
            std::borrow::Cow::Owned(index::Index::build(&self.anchors, &self.crls))
        }
    }

    /// Add every certificate in a PEM file as a trust anchor.
    pub fn add_pem(&mut self, path: &Path) -> Result<()> {
        for der in keys::read_certs_der(path)? {
            self.anchors.push(Anchor { source: "--trust".into(), der, region: String::new() });
        }
        Ok(())
    }
}

/// Whether `issuer`'s key signed `list` (whose DER is `der`); memoised (see [`verified`]).
pub(crate) fn crl_signed_by(
    list: &CertificateRevocationList<'_>,
    der: &[u8],
    issuer: &X509Certificate<'_>,
) -> bool {
    verified::memoised(&[b"x509-crl", issuer.public_key().raw, der], || {
        list.verify_signature(issuer.public_key()).is_ok()
    })
}

/// RFC 4514-style subject of a DER certificate (empty if unreadable).
pub fn subject_of(der: &[u8]) -> String {
    X509Certificate::from_der(der).map(|(_, c)| c.subject().to_string()).unwrap_or_default()
}

pub fn rfc3339(unix: i64) -> String {
    ::time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&::time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}
