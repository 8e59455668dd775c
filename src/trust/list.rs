//! Signed trust lists for mutual recognition across regions (跨区域互认): what one region publishes
//! so others can trust its seals — its roots, its CAs, where its CRLs (and status list) are, its
//! department registry (`registry`), its TSA and status-service certificates when it has them,
//! and pivots announcing a new root (`pivot`) — signed with the current region root key (ECDSA
//! P-256, over the canonical JSON of every field but `signature`), and checking another region's
//! list against the root fingerprints this home pinned (or followed through pivots).
//!
//! The checks are strict: every root is pinned or announced by a pivot a pinned root signed, and
//! every CA, TSA and status certificate chains to those roots; anything else refuses the whole
//! list. Lists carry a monotonic `list_number`; storing and the rollback checks are `imports`.
//! Knows certificates and CRLs; knows nothing of PDF or HTTP (fetching is the caller's). Canonical
//! JSON: serde_json's sorted object keys, no spaces. After ETSI TS 119 612 (trusted lists).

use std::collections::{BTreeMap, BTreeSet};

use der::{Decode, Encode};
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_ASN1};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

use crate::config::Home;
use crate::error::{PkiError, Result};
use crate::pki::keys;

use super::pivot::{self, Pivot};
use super::registry::{self, RegistryDepartment};

pub use super::imports::dir;

/// Validity of a published list.
pub const LIST_VALIDITY_SECS: i64 = 7 * 24 * 3600;

/// Where a published document (a status list) is, and its SHA-256 when known.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Published {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
}

/// A region's trust list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TrustList {
    pub region: String,
    pub name: String,
    /// Strictly increasing between distinct issues (the Unix time of issue): an importer refuses
    /// a list whose number is lower than the one it holds (a replayed list).
    #[serde(default)]
    pub list_number: u64,
    /// RFC 3339.
    pub issued_at: String,
    /// RFC 3339; the list must be refreshed before then.
    pub next_update: String,
    /// The region root certificate(s), PEM; the first is the one the list is signed with. Every
    /// other one must be pinned or announced by a pivot.
    pub roots: Vec<String>,
    /// Every CA certificate below the roots, PEM; each must chain to a root of this list.
    pub cas: Vec<String>,
    /// CA id → URL of its CRL.
    pub crl_urls: BTreeMap<String, String>,
    /// Where this list is published (for refreshing), if known.
    #[serde(default)]
    pub url: Option<String>,
    /// Root rotations: each signed by the old root, announcing the new one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pivots: Vec<Pivot>,
    /// The department registry (USCC, name, level, seal certificate fingerprints, status).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departments: Option<Vec<RegistryDepartment>>,
    /// Time-stamping authority certificates (PEM), when the region runs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tsa: Option<Vec<String>>,
    /// Certificates that sign licence status answers and status lists (PEM), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_service: Option<Vec<String>>,
    /// Where the region's licence status list is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_list: Option<Published>,
    /// Base64 ECDSA P-256 / SHA-256 (ASN.1) signature over the canonical JSON of the other fields.
    #[serde(default)]
    pub signature: String,
}

fn bad(m: impl Into<String>) -> crate::Error {
    PkiError::TrustList(m.into()).into()
}

/// SHA-256 of a DER certificate, lowercase hex.
pub fn fingerprint(der: &[u8]) -> String {
    crate::hex::encode(&crate::pades::cms::sha256(der))
}

/// A pin as typed by a user: colons dropped, lowercase.
pub fn normalise_pin(pin: &str) -> String {
    pin.chars().filter(|c| *c != ':' && !c.is_whitespace()).collect::<String>().to_ascii_lowercase()
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
    // One CRL per CA key (pki::ca_keys): a rolled CA publishes its retired keys' CRLs too.
    let crl_urls = region
        .cas
        .iter()
        .flat_map(|c| crate::pki::ca_keys::crl_names(home, &c.id))
        .map(|name| {
            let url = match &base {
                Some(b) => format!("{b}/v1/crl/{name}"),
                None => region.region.crl_dp(&name),
            };
            (name, url)
        })
        .collect();
    let rotated = crate::pki::rotate::published(home)?;
    let mut roots = vec![pem_of(&home.ca_cert(&root))?];
    roots.extend(rotated.roots);
    let mut cas: Vec<String> = region
        .cas
        .iter()
        .filter(|c| c.parent.is_some())
        .map(|c| pem_of(&home.ca_cert(&c.id)))
        .collect::<Result<_>>()?;
    for c in &region.cas {
        for r in crate::pki::ca_keys::retired(home, &c.id) {
            cas.push(pem_of(&r.cert)?);
        }
    }
    cas.extend(rotated.cas);
    let mut list = TrustList {
        region: region.region.id.clone(),
        name: region.region.name.clone(),
        list_number: u64::try_from(now).unwrap_or(0),
        issued_at: super::rfc3339(now),
        next_update: super::rfc3339(now + LIST_VALIDITY_SECS),
        roots,
        cas,
        crl_urls,
        url: base.as_ref().map(|b| format!("{b}/v1/trust-list")),
        pivots: rotated.pivots,
        departments: Some(registry::build(home)?),
        tsa: None,
        status_service: status_service(home)?,
        status_list: base
            .as_deref()
            .or(region.region.public_url.as_deref())
            .map(|b| Published { url: format!("{}/v1/status-list", b.trim_end_matches('/')), sha256: None }),
        signature: String::new(),
    };
    let key_der = keys::read_key_der(&home.ca_key(&root))?;
    list.signature = pivot::sign_with(&key_der, &pivot::canonical(&list)?)?;
    Ok(list)
}

/// The region's status certificate (PEM), when the home has a status key
/// (`pki::status_key`): importers learn from it which key signs the status list.
fn status_service(home: &Home) -> Result<Option<Vec<String>>> {
    if !crate::pki::status_key::exists(home) {
        return Ok(None);
    }
    Ok(Some(vec![pem_of(&crate::pki::status_key::cert_path(home))?]))
}

fn first_der(pem: &str) -> Result<Vec<u8>> {
    keys::pem_certs(pem.as_bytes()).map_err(bad)?.into_iter().next().ok_or_else(|| bad("empty certificate"))
}

/// A checked list and the root fingerprints it is trusted under (the pins, and every root a
/// pivot from them announced).
#[derive(Debug, Clone)]
pub struct Checked {
    pub list: TrustList,
    pub accepted: BTreeSet<String>,
}

/// [`verify_pins`] with one pin.
pub fn verify(bytes: &[u8], pin: &str, now: i64) -> Result<TrustList> {
    verify_pins(bytes, &[pin.to_string()], now).map(|c| c.list)
}

/// Parse and check a trust list against `pins` (SHA-256 of root certificates this home trusts
/// for that region):
/// - the region id is a safe name, the list has a number and has not expired at `now`;
/// - pivots signed by an accepted root add the root they announce (repeatedly);
/// - the signing root (the first) and every other root are accepted;
/// - the signature verifies with the signing root's key (over what was received, unknown
///   fields included);
/// - every CA, TSA and status-service certificate chains to an accepted root;
/// - the registry is well formed.
pub fn verify_pins(bytes: &[u8], pins: &[String], now: i64) -> Result<Checked> {
    let mut value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("not a trust list: {e}")))?;
    let signed = pivot::canonical_value(&mut value.clone())?;
    let list: TrustList =
        serde_json::from_value(value.take()).map_err(|e| bad(format!("not a trust list: {e}")))?;
    if list.region.is_empty()
        || list.region.len() > 64
        || !list.region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(bad(format!("region id `{}` must be [a-z0-9-]", list.region)));
    }
    let roots: Vec<Vec<u8>> = list.roots.iter().map(|p| first_der(p)).collect::<Result<_>>()?;
    let signing = roots.first().ok_or_else(|| bad("the list has no root"))?;
    let mut accepted: BTreeSet<String> = pins.iter().map(|p| normalise_pin(p)).collect();
    // Follow pivots from accepted roots, as long as that adds roots (bounded by the pivots).
    for _ in 0..=list.pivots.len() {
        let before = accepted.len();
        for p in &list.pivots {
            if !accepted.contains(&p.from) {
                continue;
            }
            let Some(old) = roots.iter().find(|r| fingerprint(r) == p.from) else { continue };
            if let Some(new) = pivot::follow(p, &list.region, old) {
                accepted.insert(fingerprint(&new));
            }
        }
        if accepted.len() == before {
            break;
        }
    }
    let got = fingerprint(signing);
    if !accepted.contains(&got) {
        return Err(bad(format!(
            "root fingerprint {got} does not match the pinned {} and no pivot signed by a pinned root announces it",
            pins.iter().map(|p| normalise_pin(p)).collect::<Vec<_>>().join(", ")
        )));
    }
    for (i, r) in roots.iter().enumerate().skip(1) {
        let fp = fingerprint(r);
        if !accepted.contains(&fp) {
            return Err(bad(format!(
                "root {} ({fp}) of the list of `{}` is neither pinned nor announced by a pivot signed by a pinned root",
                i + 1,
                list.region
            )));
        }
    }
    if !pivot::verify_with(signing, &signed, &list.signature) {
        return Err(bad("the signature does not verify with the pinned root"));
    }
    let next =
        ::time::OffsetDateTime::parse(&list.next_update, &::time::format_description::well_known::Rfc3339)
            .map_err(|_| bad("bad next_update"))?;
    if next.unix_timestamp() < now {
        return Err(bad(format!("the list expired at {}", list.next_update)));
    }
    if list.list_number == 0 {
        return Err(bad(
            "the list carries no list_number (made by an older zhengyin?), so a replay could not be told",
        ));
    }
    let trusted_roots: Vec<&Vec<u8>> = roots.iter().filter(|r| accepted.contains(&fingerprint(r))).collect();
    let cas: Vec<Vec<u8>> = list.cas.iter().map(|p| first_der(p)).collect::<Result<_>>()?;
    let placed = chain_all(&trusted_roots, &cas).map_err(|subject| {
        bad(format!(
            "CA certificate {subject} in the list of `{}` does not chain to its pinned root",
            list.region
        ))
    })?;
    for (what, certs) in [("TSA", &list.tsa), ("status-service", &list.status_service)] {
        for pem in certs.iter().flatten() {
            let der = first_der(pem)?;
            if !issued_by_any(&der, placed.iter().chain(trusted_roots.iter().copied())) {
                return Err(bad(format!(
                    "{what} certificate {} in the list of `{}` does not chain to its pinned root",
                    super::subject_of(&der),
                    list.region
                )));
            }
        }
    }
    if list
        .crl_urls
        .keys()
        .any(|k| k.is_empty() || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
    {
        return Err(bad("CA ids in crl_urls must be [A-Za-z0-9_-]"));
    }
    if let Some(deps) = &list.departments {
        registry::check(deps).map_err(|e| bad(format!("the registry of `{}`: {e}", list.region)))?;
    }
    Ok(Checked { list, accepted })
}

/// Whether a CA certificate `cert` was issued (signed) by one of `issuers`.
fn issued_by_any<'a>(der: &[u8], issuers: impl Iterator<Item = &'a Vec<u8>>) -> bool {
    let Ok((_, cert)) = X509Certificate::from_der(der) else { return false };
    issuers.into_iter().any(|i| {
        X509Certificate::from_der(i).is_ok_and(|(_, ic)| {
            ic.is_ca()
                && ic.subject().as_raw() == cert.issuer().as_raw()
                && super::verified::memoised(&[b"x509-cert", ic.public_key().raw, der], || {
                    cert.verify_signature(Some(ic.public_key())).is_ok()
                })
        })
    })
}

/// Place every CA under the roots (a CA may be issued by a root or by a CA already placed);
/// the subject of the first one that cannot be placed is the error.
fn chain_all(roots: &[&Vec<u8>], cas: &[Vec<u8>]) -> std::result::Result<Vec<Vec<u8>>, String> {
    let mut placed: Vec<Vec<u8>> = Vec::new();
    let mut left: Vec<&Vec<u8>> = cas.iter().collect();
    while !left.is_empty() {
        let before = left.len();
        let mut rest = Vec::new();
        for ca in left {
            if issued_by_any(ca, placed.iter().chain(roots.iter().copied())) {
                placed.push(ca.clone());
            } else {
                rest.push(ca);
            }
        }
        left = rest;
        if left.len() == before {
            return Err(left.first().map(|d| super::subject_of(d)).unwrap_or_default());
        }
    }
    Ok(placed)
}

/// Check a CRL's signature against the list's CA (or root) certificate that issued it.
pub fn check_crl(list: &TrustList, crl_der: &[u8]) -> Result<()> {
    let crl = x509_cert::crl::CertificateList::from_der(crl_der)
        .map_err(|e| bad(format!("CRL unreadable: {e}")))?;
    let tbs = crl.tbs_cert_list.to_der().map_err(|e| bad(e.to_string()))?;
    let issuer = crl.tbs_cert_list.issuer.to_der().map_err(|e| bad(e.to_string()))?;
    let sig = crl.signature.raw_bytes();
    let mut named = false;
    for pem in list.roots.iter().chain(list.cas.iter()) {
        let der = first_der(pem)?;
        let Ok((_, cert)) = X509Certificate::from_der(&der) else { continue };
        if cert.subject().as_raw() != issuer.as_slice() {
            continue;
        }
        named = true;
        if UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, cert.public_key().subject_public_key.data.as_ref())
            .verify(&tbs, sig)
            .is_ok()
        {
            return Ok(());
        }
    }
    Err(bad(if named {
        "the CRL signature does not verify"
    } else {
        "the CRL's issuer is not in the trust list"
    }))
}
