//! Signed trust lists for mutual recognition across regions (跨区域互认): what one region publishes
//! so others can trust its seals — its root, its CAs, where its CRLs are — signed with the region
//! root key (ECDSA P-256, over the canonical JSON of every field but `signature`), and importing
//! another region's list against a pinned SHA-256 fingerprint of its root certificate.
//!
//! Knows the home layout, certificates and CRLs; knows nothing of PDF or HTTP (fetching is done by
//! the caller and handed in as bytes). Canonical JSON: serde_json's sorted object keys, no spaces.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;
use der::{Decode, Encode};
use ring::signature::{
    EcdsaKeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING,
};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

use crate::config::Home;
use crate::error::{PkiError, Result};
use crate::pki::keys;

use super::{Anchor, Crl};

/// Validity of a published list.
pub const LIST_VALIDITY_SECS: i64 = 7 * 24 * 3600;

/// A region's trust list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TrustList {
    pub region: String,
    pub name: String,
    /// RFC 3339.
    pub issued_at: String,
    /// RFC 3339; the list must be refreshed before then.
    pub next_update: String,
    /// The region root certificate(s), PEM; the first is the one the list is signed with.
    pub roots: Vec<String>,
    /// Every CA certificate below the root, PEM.
    pub cas: Vec<String>,
    /// CA id → URL of its CRL.
    pub crl_urls: BTreeMap<String, String>,
    /// Where this list is published (for refreshing), if known.
    #[serde(default)]
    pub url: Option<String>,
    /// Base64 ECDSA P-256 / SHA-256 (ASN.1) signature over the canonical JSON of the other fields.
    #[serde(default)]
    pub signature: String,
}

fn bad(m: impl Into<String>) -> crate::Error {
    PkiError::TrustList(m.into()).into()
}

/// SHA-256 of a DER certificate, lowercase hex.
pub fn fingerprint(der: &[u8]) -> String {
    crate::verify::hex(&crate::pades::cms::sha256(der))
}

fn canonical(list: &TrustList) -> Result<Vec<u8>> {
    let mut v = serde_json::to_value(list).map_err(|e| bad(e.to_string()))?;
    if let Some(o) = v.as_object_mut() {
        o.remove("signature");
    }
    serde_json::to_vec(&v).map_err(|e| bad(e.to_string()))
}

fn pem_of(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(crate::error::io_at(path))
}

/// Build and sign this home's trust list. `public_url`: the base URL of this region's service
/// (CRL URLs become `<public_url>/v1/crl/<ca>`); without it, the region file's `crl_url` is used.
pub fn build(home: &Home, public_url: Option<&str>, now: i64) -> Result<TrustList> {
    let region = home.region()?;
    let root = region.root().id.clone();
    let base = public_url.map(|u| u.trim_end_matches('/').to_string());
    let crl_urls = region
        .cas
        .iter()
        .map(|c| {
            let url = match &base {
                Some(b) => format!("{b}/v1/crl/{}", c.id),
                None => region.region.crl_dp(&c.id),
            };
            (c.id.clone(), url)
        })
        .collect();
    let mut list = TrustList {
        region: region.region.id.clone(),
        name: region.region.name.clone(),
        issued_at: super::rfc3339(now),
        next_update: super::rfc3339(now + LIST_VALIDITY_SECS),
        roots: vec![pem_of(&home.ca_cert(&root))?],
        cas: region
            .cas
            .iter()
            .filter(|c| c.parent.is_some())
            .map(|c| pem_of(&home.ca_cert(&c.id)))
            .collect::<Result<_>>()?,
        crl_urls,
        url: base.map(|b| format!("{b}/v1/trust-list")),
        signature: String::new(),
    };
    let key_der = keys::read_key_der(&home.ca_key(&root))?;
    let rng = ring::rand::SystemRandom::new();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &key_der, &rng)
        .map_err(|e| PkiError::BadKey { path: home.ca_key(&root), message: e.to_string() })?;
    let sig =
        key.sign(&rng, &canonical(&list)?).map_err(|_| PkiError::Sign("trust list signing failed".into()))?;
    list.signature = base64::engine::general_purpose::STANDARD.encode(sig.as_ref());
    Ok(list)
}

fn first_der(pem: &str) -> Result<Vec<u8>> {
    keys::pem_certs(pem.as_bytes()).map_err(bad)?.into_iter().next().ok_or_else(|| bad("empty certificate"))
}

/// Parse and check a trust list: the first root's SHA-256 equals `pin`, the signature verifies
/// with that root's key, the region id is a safe name, and the list has not expired at `now`.
pub fn verify(bytes: &[u8], pin: &str, now: i64) -> Result<TrustList> {
    let list: TrustList = serde_json::from_slice(bytes).map_err(|e| bad(format!("not a trust list: {e}")))?;
    if list.region.is_empty()
        || list.region.len() > 64
        || !list.region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(bad(format!("region id `{}` must be [a-z0-9-]", list.region)));
    }
    let pin: String = pin.chars().filter(|c| *c != ':').collect::<String>().to_ascii_lowercase();
    let root_der = first_der(list.roots.first().ok_or_else(|| bad("the list has no root"))?)?;
    let got = fingerprint(&root_der);
    if got != pin {
        return Err(bad(format!("root fingerprint {got} does not match the pinned {pin}")));
    }
    let (_, root) = X509Certificate::from_der(&root_der).map_err(|e| bad(format!("root unreadable: {e}")))?;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(list.signature.as_bytes())
        .map_err(|_| bad("signature is not base64"))?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, root.public_key().subject_public_key.data.as_ref())
        .verify(&canonical(&list)?, &sig)
        .map_err(|_| bad("the signature does not verify with the pinned root"))?;
    let next =
        ::time::OffsetDateTime::parse(&list.next_update, &::time::format_description::well_known::Rfc3339)
            .map_err(|_| bad("bad next_update"))?;
    if next.unix_timestamp() < now {
        return Err(bad(format!("the list expired at {}", list.next_update)));
    }
    for ca in &list.cas {
        first_der(ca)?;
    }
    if list
        .crl_urls
        .keys()
        .any(|k| k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        return Err(bad("CA ids in crl_urls must be [A-Za-z0-9_-]"));
    }
    Ok(list)
}

/// Check a CRL's signature against the list's CA (or root) certificate that issued it.
pub fn check_crl(list: &TrustList, crl_der: &[u8]) -> Result<()> {
    let crl = x509_cert::crl::CertificateList::from_der(crl_der)
        .map_err(|e| bad(format!("CRL unreadable: {e}")))?;
    let tbs = crl.tbs_cert_list.to_der().map_err(|e| bad(e.to_string()))?;
    let issuer = crl.tbs_cert_list.issuer.to_der().map_err(|e| bad(e.to_string()))?;
    let sig = crl.signature.raw_bytes();
    for pem in list.roots.iter().chain(list.cas.iter()) {
        let der = first_der(pem)?;
        let Ok((_, cert)) = X509Certificate::from_der(&der) else { continue };
        if cert.subject().as_raw() != issuer.as_slice() {
            continue;
        }
        return UnparsedPublicKey::new(
            &ECDSA_P256_SHA256_ASN1,
            cert.public_key().subject_public_key.data.as_ref(),
        )
        .verify(&tbs, sig)
        .map_err(|_| bad("the CRL signature does not verify"));
    }
    Err(bad("the CRL's issuer is not in the trust list"))
}

/// Where imported lists live: `<home>/trust/`.
pub fn dir(home: &Home) -> PathBuf {
    home.dir.join("trust")
}

/// Where an import came from (stored beside the list as `<region>.source`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    pub from: String,
    pub pin: String,
}

/// Store a verified list (and where it came from) in the home; returns its path.
pub fn store(home: &Home, list: &TrustList, source: &Source) -> Result<PathBuf> {
    keys::make_dir(&dir(home), 0o755)?;
    let path = dir(home).join(format!("{}.json", list.region));
    keys::write_file(&path, &serde_json::to_vec_pretty(list).map_err(|e| bad(e.to_string()))?, 0o644)?;
    keys::write_file(
        &dir(home).join(format!("{}.source", list.region)),
        &serde_json::to_vec_pretty(source).map_err(|e| bad(e.to_string()))?,
        0o644,
    )?;
    Ok(path)
}

/// Store a CRL fetched for region `region`'s CA `ca` (after [`check_crl`]).
pub fn store_crl(home: &Home, region: &str, ca: &str, der: &[u8]) -> Result<()> {
    let d = dir(home).join(format!("{region}-crl"));
    keys::make_dir(&d, 0o755)?;
    keys::write_file(&d.join(format!("{ca}.crl")), der, 0o644)
}

/// Every imported list in the home, with its source (unreadable files are skipped with a warning).
pub fn imported(home: &Home) -> Vec<(TrustList, Option<Source>)> {
    let Ok(rd) = std::fs::read_dir(dir(home)) else { return Vec::new() };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        match std::fs::read(&p).ok().and_then(|b| serde_json::from_slice::<TrustList>(&b).ok()) {
            Some(list) => {
                let src = std::fs::read(dir(home).join(format!("{}.source", list.region)))
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok());
                out.push((list, src));
            }
            None => tracing::warn!(path = %p.display(), "skipping unreadable trust list"),
        }
    }
    out.sort_by(|a, b| a.0.region.cmp(&b.0.region));
    out
}

/// Anchors and CRLs from the imported lists, for `TrustStore::from_home`.
pub fn imported_trust(home: &Home) -> (Vec<Anchor>, Vec<Crl>) {
    let (mut anchors, mut crls) = (Vec::new(), Vec::new());
    for (list, _) in imported(home) {
        let source = format!("trust list of {}", list.region);
        for pem in &list.roots {
            if let Ok(der) = first_der(pem) {
                anchors.push(Anchor { source: source.clone(), der });
            }
        }
        let crl_dir = dir(home).join(format!("{}-crl", list.region));
        for ca in list.crl_urls.keys() {
            let p = crl_dir.join(format!("{ca}.crl"));
            if let Ok(der) = std::fs::read(&p) {
                crls.push(Crl { source: p.display().to_string(), der });
            }
        }
    }
    (anchors, crls)
}
