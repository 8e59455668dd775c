//! A province list of lists (after ETSI TS 119 612's LOTL): a province home signs the list of its
//! regions' trust lists — where each is published and the root fingerprints to pin it with — so
//! a verifier pins the province once and imports every region (`trust add --from PROVINCE_URL`).
//! Each region's list is still checked against its own pins (and pivots) by `list`; the province
//! only vouches for the pins. Refresh follows the province: new regions are imported, regions it
//! no longer lists are dropped.
//!
//! Layout: the province's own regions in `<home>/province/regions.json`; imported province lists
//! in `<home>/trust/provinces/<id>.json` (+ `.source`). Signed with the province home's root key
//! (ECDSA P-256 over the canonical JSON, as trust lists). Knows files and JSON; fetching is the
//! caller's (a function handed in), no HTTP here.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::Home;
use crate::error::{PkiError, Result};
use crate::pki::keys;

use super::imports::{self, Source};
use super::list::{self, fingerprint, normalise_pin};
use super::pivot;

/// One region as the province lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RegionEntry {
    pub region: String,
    pub name: String,
    /// Where the region publishes its trust list.
    pub url: String,
    /// SHA-256 of the region root(s) to pin.
    pub pins: Vec<String>,
}

/// The signed list of lists.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProvinceList {
    pub province: String,
    pub name: String,
    /// Strictly increasing between issues (Unix time of issue).
    pub list_number: u64,
    pub issued_at: String,
    pub next_update: String,
    /// The province root (PEM): its SHA-256 is what importers pin.
    pub root: String,
    pub regions: Vec<RegionEntry>,
    #[serde(default)]
    pub signature: String,
}

fn bad(m: impl Into<String>) -> crate::Error {
    PkiError::TrustList(m.into()).into()
}

fn regions_file(home: &Home) -> PathBuf {
    home.dir.join("province").join("regions.json")
}

fn own_regions(home: &Home) -> Result<Vec<RegionEntry>> {
    let p = regions_file(home);
    let b = std::fs::read(&p).map_err(|_| {
        bad(format!("{} is not a province home (run `zhengyin province init`)", home.dir.display()))
    })?;
    serde_json::from_slice(&b).map_err(|e| bad(format!("{}: {e}", p.display())))
}

/// Whether this home is a province home (`zhengyin province init` ran).
pub fn is_province_home(home: &Home) -> bool {
    regions_file(home).exists()
}

/// Make the home a province home (its root key signs the list of lists). Keeps existing regions.
pub fn init(home: &Home) -> Result<PathBuf> {
    home.region()?;
    let p = regions_file(home);
    if !p.exists() {
        keys::make_dir(&home.dir.join("province"), 0o755)?;
        keys::write_file(&p, b"[]", 0o644)?;
    }
    Ok(p)
}

/// Add (or update) a region: its trust list at `from` must verify under `pin` now.
pub fn add_region(home: &Home, from: &str, pin: &str, list_bytes: &[u8], now: i64) -> Result<RegionEntry> {
    let mut regions = own_regions(home)?;
    let checked = list::verify_pins(list_bytes, &[pin.to_string()], now)?;
    let entry = RegionEntry {
        region: checked.list.region.clone(),
        name: checked.list.name.clone(),
        url: checked
            .list
            .url
            .clone()
            .filter(|_| !from.starts_with("http"))
            .unwrap_or_else(|| from.to_string()),
        pins: vec![normalise_pin(pin)],
    };
    regions.retain(|r| r.region != entry.region);
    regions.push(entry.clone());
    regions.sort_by(|a, b| a.region.cmp(&b.region));
    keys::write_file(
        &regions_file(home),
        &serde_json::to_vec_pretty(&regions).map_err(|e| bad(e.to_string()))?,
        0o644,
    )?;
    Ok(entry)
}

/// Build and sign the province's list of lists.
pub fn build(home: &Home, now: i64) -> Result<ProvinceList> {
    let region = home.region()?;
    let root_id = region.root().id.clone();
    let mut l = ProvinceList {
        province: region.region.id.clone(),
        name: region.region.name.clone(),
        list_number: u64::try_from(now).unwrap_or(0),
        issued_at: super::rfc3339(now),
        next_update: super::rfc3339(now + list::LIST_VALIDITY_SECS),
        root: std::fs::read_to_string(home.ca_cert(&root_id))
            .map_err(crate::error::io_at(home.ca_cert(&root_id)))?,
        regions: own_regions(home)?,
        signature: String::new(),
    };
    l.signature = pivot::sign_with(&keys::read_key_der(&home.ca_key(&root_id))?, &pivot::canonical(&l)?)?;
    Ok(l)
}

/// Whether `bytes` look like a province list (rather than a region's trust list).
pub fn is_province_list(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bytes)
        .is_ok_and(|v| v.get("province").is_some() && v.get("regions").is_some())
}

/// Check a province list: its root matches `pin`, its signature verifies over what was received,
/// it has not expired, and its entries are well formed.
pub fn verify(bytes: &[u8], pin: &str, now: i64) -> Result<ProvinceList> {
    let mut v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("not a province list: {e}")))?;
    let signed = pivot::canonical_value(&mut v.clone())?;
    let l: ProvinceList =
        serde_json::from_value(v.take()).map_err(|e| bad(format!("not a province list: {e}")))?;
    let root =
        keys::pem_certs(l.root.as_bytes()).map_err(bad)?.into_iter().next().ok_or_else(|| bad("no root"))?;
    let got = fingerprint(&root);
    if got != normalise_pin(pin) {
        return Err(bad(format!(
            "province root fingerprint {got} does not match the pinned {}",
            normalise_pin(pin)
        )));
    }
    if !pivot::verify_with(&root, &signed, &l.signature) {
        return Err(bad("the province list's signature does not verify with the pinned root"));
    }
    let next =
        ::time::OffsetDateTime::parse(&l.next_update, &::time::format_description::well_known::Rfc3339)
            .map_err(|_| bad("bad next_update"))?;
    if next.unix_timestamp() < now {
        return Err(bad(format!("the province list expired at {}", l.next_update)));
    }
    let safe = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    if !safe(&l.province) {
        return Err(bad(format!("province id `{}` must be [a-z0-9-]", l.province)));
    }
    if let Some(r) = l.regions.iter().find(|r| !safe(&r.region) || r.pins.is_empty()) {
        return Err(bad(format!("region entry `{}` needs a [a-z0-9-] id and a pin", r.region)));
    }
    Ok(l)
}

fn dir(home: &Home) -> PathBuf {
    imports::dir(home).join("provinces")
}

/// The province lists this home imported, with their sources.
pub fn imported(home: &Home) -> Vec<(ProvinceList, Source)> {
    let Ok(rd) = std::fs::read_dir(dir(home)) else { return Vec::new() };
    let mut out = Vec::new();
    for e in rd.flatten().take(imports::MAX_REGIONS) {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        let list = std::fs::read(&p).ok().and_then(|b| serde_json::from_slice::<ProvinceList>(&b).ok());
        let src = p.with_extension("source");
        let src = std::fs::read(&src).ok().and_then(|b| serde_json::from_slice::<Source>(&b).ok());
        if let (Some(l), Some(s)) = (list, src) {
            out.push((l, s));
        }
    }
    out
}

/// What importing a province list did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub province: String,
    pub imported: Vec<String>,
    /// Regions not imported, and why.
    pub refused: Vec<(String, String)>,
    pub dropped: Vec<String>,
}

/// Check and store a province list (refusing one older than stored), then import every region
/// it lists (except this home's own) with the pins it gives, and drop regions that came from this
/// province but are no longer listed. `fetch` reads a URL or file.
pub fn import(
    home: &Home,
    from: &str,
    pin: &str,
    bytes: &[u8],
    fetch: &dyn Fn(&str) -> Result<Vec<u8>>,
    now: i64,
) -> Result<Outcome> {
    let l = verify(bytes, pin, now)?;
    let path = dir(home).join(format!("{}.json", l.province));
    if let Some(old) = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<ProvinceList>(&b).ok())
    {
        if l.list_number < old.list_number {
            return Err(bad(format!(
                "the province list of `{}` has list number {}, older than the stored {}: a replayed list is refused",
                l.province, l.list_number, old.list_number
            )));
        }
    }
    keys::make_dir(&dir(home), 0o755)?;
    keys::write_file(&path, bytes, 0o644)?;
    let src = Source { from: from.to_string(), pin: normalise_pin(pin), pins: Vec::new(), province: None };
    keys::write_file(
        &path.with_extension("source"),
        &serde_json::to_vec_pretty(&src).map_err(|e| bad(e.to_string()))?,
        0o644,
    )?;
    let own = home.region()?.region.id;
    let mut out = Outcome { province: l.province.clone(), ..Default::default() };
    for r in l.regions.iter().filter(|r| r.region != own) {
        let res = fetch(&r.url).and_then(|b| {
            // Pins the province gives, plus what this home already followed for the region.
            let mut pins = r.pins.clone();
            if let Some((_, Some(s))) = imports::stored(home, &r.region) {
                if s.province.as_deref() == Some(l.province.as_str()) {
                    pins.extend(s.all_pins());
                }
            }
            let checked = list::verify_pins(&b, &pins, now)?;
            if checked.list.region != r.region {
                return Err(bad(format!(
                    "the list at {} is for `{}`, not `{}`",
                    r.url, checked.list.region, r.region
                )));
            }
            imports::store(
                home,
                &checked,
                &r.url,
                r.pins.first().map(String::as_str).unwrap_or_default(),
                Some(&l.province),
            )
        });
        match res {
            Ok(_) => out.imported.push(r.region.clone()),
            Err(e) => out.refused.push((r.region.clone(), e.to_string())),
        }
    }
    for (list, src) in imports::imported(home) {
        let from_here = src.as_ref().and_then(|s| s.province.as_deref()) == Some(l.province.as_str());
        if from_here && !l.regions.iter().any(|r| r.region == list.region) {
            let _ = std::fs::remove_file(imports::dir(home).join(format!("{}.json", list.region)));
            let _ = std::fs::remove_file(imports::dir(home).join(format!("{}.source", list.region)));
            let _ = std::fs::remove_dir_all(imports::dir(home).join(format!("{}-crl", list.region)));
            out.dropped.push(list.region);
        }
    }
    Ok(out)
}

/// Refresh every imported province list (and through it, its regions' lists); failures are
/// logged. Returns the provinces whose list was fetched and checked: their regions have been
/// refreshed (or refused) here, so the caller does not fetch their lists again.
pub fn refresh_provinces(
    home: &Home,
    fetch: &dyn Fn(&str) -> Result<Vec<u8>>,
    now: i64,
) -> std::collections::BTreeSet<String> {
    let mut done = std::collections::BTreeSet::new();
    for (l, src) in imported(home) {
        match fetch(&src.from).and_then(|b| import(home, &src.from, &src.pin, &b, fetch, now)) {
            Ok(o) => {
                for (region, why) in &o.refused {
                    tracing::warn!(province = %l.province, region = %region, error = %why, "region of the province list not imported");
                }
                if !o.dropped.is_empty() {
                    tracing::info!(province = %l.province, dropped = ?o.dropped, "regions no longer in the province list dropped");
                }
                done.insert(l.province);
            }
            Err(e) => tracing::warn!(province = %l.province, error = %e, "province list not refreshed"),
        }
    }
    done
}
