//! Other regions' trust lists and CRLs as this home keeps them (`<home>/trust/<region>.json`,
//! `<region>.source`, `<region>-crl/<ca>.crl`), and the rules for replacing what is stored:
//! - a region id already imported under other pins is refused (no silent overwrite);
//! - a root already trusted for another region is refused (one root, one region);
//! - a list whose `list_number` is below the stored one is refused (a replayed list);
//! - a CRL whose cRLNumber or thisUpdate is below the stored one of the same issuer is refused
//!   (a replayed CRL).
//!
//! Knows files and the list format; the signature and chain checks are `list`. RFC 5280 §5.2.3
//! (cRLNumber: monotonically increasing), ETSI TS 119 612 §5.3.7 (TSL sequence number).

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

use crate::config::Home;
use crate::error::{PkiError, Result};
use crate::pki::keys;

use super::list::{fingerprint, Checked, TrustList};
use super::{Anchor, Crl};

/// Most imported regions read from a home (each one is a list, a source and a CRL directory).
pub const MAX_REGIONS: usize = 1024;

fn bad(m: impl Into<String>) -> crate::Error {
    PkiError::TrustList(m.into()).into()
}

/// Where imported lists live: `<home>/trust/`.
pub fn dir(home: &Home) -> PathBuf {
    home.dir.join("trust")
}

/// Where an import came from (stored beside the list as `<region>.source`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Source {
    pub from: String,
    /// The pin given at `trust add` (or the province list's pin for this region).
    pub pin: String,
    /// Every root fingerprint the region is trusted under: the pin and the roots pivots announced.
    #[serde(default)]
    pub pins: Vec<String>,
    /// The province list this region came from (`trust add --from PROVINCE_URL`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub province: Option<String>,
}

impl Source {
    /// The pins to check a new list of this region against.
    pub fn all_pins(&self) -> Vec<String> {
        let mut p = self.pins.clone();
        p.push(self.pin.clone());
        p.sort();
        p.dedup();
        p
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(p: &std::path::Path) -> Option<T> {
    std::fs::read(p).ok().and_then(|b| serde_json::from_slice(&b).ok())
}

/// The stored list and source of `region`, if any.
pub fn stored(home: &Home, region: &str) -> Option<(TrustList, Option<Source>)> {
    let list = read_json(&dir(home).join(format!("{region}.json")))?;
    Some((list, read_json(&dir(home).join(format!("{region}.source")))))
}

/// Refuse what must not replace the stored state (see the module comment), then store the list
/// and where it came from; returns its path.
pub fn store(
    home: &Home,
    checked: &Checked,
    from: &str,
    pin: &str,
    province: Option<&str>,
) -> Result<PathBuf> {
    let list = &checked.list;
    if let Some((old, src)) = stored(home, &list.region) {
        let old_pins: BTreeSet<String> =
            src.as_ref().map(Source::all_pins).unwrap_or_default().into_iter().collect();
        if old_pins.is_disjoint(&checked.accepted) {
            return Err(bad(format!(
                "region `{}` is already imported under pin {}; a list under another root cannot replace it (remove trust/{}.json first)",
                list.region,
                src.map(|s| s.pin).unwrap_or_default(),
                list.region
            )));
        }
        if list.list_number < old.list_number {
            return Err(bad(format!(
                "the trust list of `{}` has list number {} (issued {}), older than the stored number {} (issued {}): a replayed list is refused",
                list.region, list.list_number, list.issued_at, old.list_number, old.issued_at
            )));
        }
    }
    let roots: BTreeSet<String> = list
        .roots
        .iter()
        .filter_map(|p| keys::pem_certs(p.as_bytes()).ok()?.into_iter().next())
        .map(|d| fingerprint(&d))
        .collect();
    for (other, src) in sources(home) {
        if other == list.region {
            continue;
        }
        let theirs: BTreeSet<String> = src.all_pins().into_iter().collect();
        if let Some(fp) = roots.intersection(&theirs).next() {
            return Err(bad(format!(
                "the root {fp} of the list of `{}` is already trusted as region `{other}`",
                list.region
            )));
        }
    }
    if home.region().is_ok_and(|r| r.region.id == list.region) {
        return Err(bad(format!("the list is for this home's own region `{}`", list.region)));
    }
    keys::make_dir(&dir(home), 0o755)?;
    let path = dir(home).join(format!("{}.json", list.region));
    let source = Source {
        from: from.to_string(),
        pin: super::list::normalise_pin(pin),
        pins: checked.accepted.iter().cloned().collect(),
        province: province.map(str::to_string),
    };
    write_if_changed(&path, &serde_json::to_vec_pretty(list).map_err(|e| bad(e.to_string()))?)?;
    write_if_changed(
        &dir(home).join(format!("{}.source", list.region)),
        &serde_json::to_vec_pretty(&source).map_err(|e| bad(e.to_string()))?,
    )?;
    Ok(path)
}

/// Write (0644, synced) unless the file already holds exactly `bytes`: a refresh that changes
/// nothing costs no fsync.
pub fn write_if_changed(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    keys::write_file(path, bytes, 0o644)
}

/// Every imported region's id and source (`<region>.source`), without reading the lists.
fn sources(home: &Home) -> Vec<(String, Source)> {
    let Ok(rd) = std::fs::read_dir(dir(home)) else { return Vec::new() };
    rd.flatten()
        .take(4 * MAX_REGIONS)
        .filter_map(|e| {
            let p = e.path();
            let region = p.file_name()?.to_str()?.strip_suffix(".source")?.to_string();
            Some((region, read_json::<Source>(&p)?))
        })
        .collect()
}

/// (cRLNumber big-endian without leading zeros, thisUpdate) of a CRL.
fn order_of(list: &CertificateRevocationList<'_>) -> (Option<Vec<u8>>, i64) {
    let n = list.crl_number().map(|n| n.to_bytes_be());
    (n, list.last_update().timestamp())
}

fn cmp_be(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let strip = |x: &[u8]| {
        x.iter().position(|&v| v != 0).map_or(Vec::new(), |i| x.get(i..).unwrap_or_default().to_vec())
    };
    let (a, b) = (strip(a), strip(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(&b))
}

/// Store a CRL fetched for region `region`'s CA `ca` (after `list::check_crl`), unless a stored
/// CRL of the same issuer is newer (a higher cRLNumber or a later thisUpdate).
pub fn store_crl(home: &Home, region: &str, ca: &str, der: &[u8]) -> Result<()> {
    let d = dir(home).join(format!("{region}-crl"));
    if std::fs::read(d.join(format!("{ca}.crl"))).is_ok_and(|old| old == der) {
        return Ok(());
    }
    let (_, new) =
        CertificateRevocationList::from_der(der).map_err(|e| bad(format!("CRL unreadable: {e}")))?;
    let (new_n, new_t) = order_of(&new);
    if let Ok(rd) = std::fs::read_dir(&d) {
        for e in rd.flatten().take(MAX_REGIONS) {
            let Ok(old_der) = std::fs::read(e.path()) else { continue };
            let Ok((_, old)) = CertificateRevocationList::from_der(&old_der) else { continue };
            if old.issuer().as_raw() != new.issuer().as_raw() {
                continue;
            }
            let (old_n, old_t) = order_of(&old);
            let older_number = matches!((&new_n, &old_n), (Some(n), Some(o)) if cmp_be(n, o).is_lt())
                || (new_n.is_none() && old_n.is_some());
            if older_number || new_t < old_t {
                return Err(bad(format!(
                    "the CRL of {} (number {}, thisUpdate {}) is older than the stored one (number {}, thisUpdate {}): a replayed CRL is refused",
                    new.issuer(),
                    new_n.as_deref().map(crate::hex::encode).unwrap_or_else(|| "none".into()),
                    super::rfc3339(new_t),
                    old_n.as_deref().map(crate::hex::encode).unwrap_or_else(|| "none".into()),
                    super::rfc3339(old_t)
                )));
            }
        }
    }
    keys::make_dir(&d, 0o755)?;
    keys::write_file(&d.join(format!("{ca}.crl")), der, 0o644)
}

/// Every imported list in the home, with its source (unreadable files are skipped with a warning).
pub fn imported(home: &Home) -> Vec<(TrustList, Option<Source>)> {
    let Ok(rd) = std::fs::read_dir(dir(home)) else { return Vec::new() };
    let mut out = Vec::new();
    for e in rd.flatten().take(4 * MAX_REGIONS) {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        match read_json::<TrustList>(&p) {
            Some(list) => {
                let src = read_json(&dir(home).join(format!("{}.source", list.region)));
                out.push((list, src));
            }
            None => tracing::warn!(path = %p.display(), "skipping unreadable trust list"),
        }
    }
    out.sort_by(|a, b| a.0.region.cmp(&b.0.region));
    out
}

/// What this home trusts of one imported region: its roots (as anchors), its CA certificates,
/// its CRLs and its department registry. Everything was checked when the list was stored.
#[derive(Debug, Clone, Default)]
pub struct ImportedRegion {
    pub id: String,
    pub name: String,
    pub cas: Vec<Vec<u8>>,
    /// None: the list carries no registry (made by an older zhengyin).
    pub departments: Option<Vec<super::registry::RegistryDepartment>>,
}

/// Anchors, CRLs and regions from the imported lists, for `TrustStore::from_home`. Each anchor
/// and CRL is tagged with its region: a CRL only ever decides for chains to its own region's roots.
pub fn imported_trust(home: &Home) -> (Vec<Anchor>, Vec<Crl>, Vec<ImportedRegion>) {
    let (mut anchors, mut crls, mut regions) = (Vec::new(), Vec::new(), Vec::new());
    for (list, _) in imported(home).into_iter().take(MAX_REGIONS) {
        let source = format!("trust list of {}", list.region);
        let der = |pem: &String| keys::pem_certs(pem.as_bytes()).ok().and_then(|v| v.into_iter().next());
        for d in list.roots.iter().filter_map(der) {
            anchors.push(Anchor { source: source.clone(), der: d, region: list.region.clone() });
        }
        let crl_dir = dir(home).join(format!("{}-crl", list.region));
        for ca in list.crl_urls.keys() {
            let p = crl_dir.join(format!("{ca}.crl"));
            if let Ok(d) = std::fs::read(&p) {
                crls.push(Crl { source: p.display().to_string(), der: d, region: list.region.clone() });
            }
        }
        regions.push(ImportedRegion {
            id: list.region.clone(),
            name: list.name.clone(),
            cas: list.cas.iter().filter_map(der).collect(),
            departments: list.departments.clone(),
        });
    }
    (anchors, crls, regions)
}
