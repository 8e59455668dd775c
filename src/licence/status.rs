//! The licence status index: for every archived licence version (GB/T 36904 identifier, with its
//! version segment) its state — valid, superseded, cancelled, revoked or suspended — since when,
//! why, and which version succeeded it; for every identifier stem (type.issuer.serial) the current
//! version. It lives in its own sled tree beside the archive's records and is derived from the
//! archive log alone: licence records (kind `licence`) and transition entries (kind
//! [`KIND`], JSON [`Transition`]), so [`rebuild`] can always recompute it and the audit compares.
//!
//! Filing keeps it current (`filing::append_verified` calls [`note_filed`]); the lifecycle calls
//! [`apply`] after it files a transition. Lookups ([`current`]) are one or two sled reads.
//! Knows identifiers and archive records; nothing of PDF, signatures or HTTP.

use serde::{Deserialize, Serialize};

pub use super::transition::{Action, State, Transition, ENTRY_FORMAT, KIND};

use crate::archive::{Archive, Record};
use crate::document::identifier::LicenceId;
use crate::error::{ArchiveError, Result};

/// The sled tree of the index.
pub const TREE: &str = "licence_status";
/// Marker key: the index has been built from the whole log once.
const INDEXED: &[u8] = b"m\0indexed";

/// A licence version as the index holds it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct VersionEntry {
    pub identifier: String,
    /// `type.issuer.serial`: the part every version shares.
    pub stem: String,
    pub version: u16,
    /// The newest archive record of this version (joint seals file one record per seal).
    pub archive_id: String,
    pub title: String,
    pub holder: String,
    pub issuer: String,
    /// The department that made the first seal.
    pub issuer_dept: String,
    pub issue_date: String,
    pub valid_until: String,
    pub state: State,
    /// When the state began (RFC 3339): filing time for a new version, else the transition's.
    pub since: String,
    #[serde(default)]
    pub reason_code: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub successor: Option<String>,
    /// Archive id of the transition entry that set the state.
    #[serde(default)]
    pub transition: Option<String>,
}

/// What a status lookup answers (the QR verification page, GET /v1/status, `zhengyin verify`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StatusView {
    /// The version asked about.
    pub identifier: String,
    /// Its state.
    pub status: State,
    /// 有效 / 已变更 / 已注销 / 已吊销 / 已暂停.
    pub status_zh: &'static str,
    /// Valid and not past its validity end.
    pub in_force: bool,
    /// The validity end (证照有效期截止日期) has passed (the state may still say valid).
    pub expired: bool,
    /// The newest version of the same identifier stem, and its state.
    pub current_version: String,
    pub current_status: State,
    /// When the asked version's state began (RFC 3339).
    pub time: String,
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    /// The version that replaced this one, if any.
    pub successor: Option<String>,
    pub archive_id: String,
    pub current_archive_id: String,
    pub title: String,
    pub holder: String,
    pub issuer: String,
    pub issuer_dept: String,
    pub issue_date: String,
    pub valid_until: String,
}

fn store_err(e: impl std::fmt::Display) -> crate::Error {
    ArchiveError::Store(format!("licence status index: {e}")).into()
}

pub(crate) fn vkey(identifier: &str) -> Vec<u8> {
    [b"v\0".as_slice(), identifier.as_bytes()].concat()
}

fn skey(stem: &str) -> Vec<u8> {
    [b"s\0".as_slice(), stem.as_bytes()].concat()
}

/// `type.issuer.serial` of an identifier.
pub fn stem(id: &LicenceId) -> String {
    format!("{}.{}.{}", id.type_code, id.issuer_code, id.serial)
}

/// The index tree of an open archive.
pub fn tree(archive: &Archive) -> Result<sled::Tree> {
    archive.db.open_tree(TREE).map_err(store_err)
}

pub(crate) fn get_json<T: serde::de::DeserializeOwned>(t: &sled::Tree, key: &[u8]) -> Result<Option<T>> {
    match t.get(key).map_err(store_err)? {
        None => Ok(None),
        Some(v) => serde_json::from_slice(&v).map(Some).map_err(store_err),
    }
}

fn put_json<T: Serialize>(t: &sled::Tree, key: &[u8], v: &T) -> Result<()> {
    let bytes = serde_json::to_vec(v).map_err(store_err)?;
    t.insert(key, bytes).map_err(store_err)?;
    Ok(())
}

/// One version's entry.
pub fn entry(archive: &Archive, identifier: &str) -> Result<Option<VersionEntry>> {
    ensure_indexed(archive)?;
    get_json(&tree(archive)?, &vkey(identifier))
}

/// Record filed licence records: a new version enters as valid (and becomes its stem's current
/// version when newer); a version filed again (a joint seal) keeps its state and points at the
/// newest record. Other kinds are ignored.
pub fn note_filed(archive: &Archive, records: &[Record]) -> Result<()> {
    let t = tree(archive)?;
    let mut writes = Writes::new(&t);
    for rec in records {
        note_one(&mut writes, rec)?;
    }
    writes.apply()
}

/// The index writes of one filed batch, read back before the tree, applied as one sled batch
/// (all or none; sled writes each leaf's keys together).
struct Writes<'a> {
    tree: &'a sled::Tree,
    pending: std::collections::HashMap<Vec<u8>, Vec<u8>>,
}

impl<'a> Writes<'a> {
    fn new(tree: &'a sled::Tree) -> Self {
        Writes { tree, pending: Default::default() }
    }

    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self.pending.get(key) {
            Some(v) => Ok(Some(v.clone())),
            None => Ok(self.tree.get(key).map_err(store_err)?.map(|v| v.to_vec())),
        }
    }

    fn get_json<T: serde::de::DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>> {
        self.get(key)?.map(|v| serde_json::from_slice(&v).map_err(store_err)).transpose()
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.pending.insert(key, value);
    }

    fn put_json<T: Serialize>(&mut self, key: Vec<u8>, v: &T) -> Result<()> {
        self.put(key, serde_json::to_vec(v).map_err(store_err)?);
        Ok(())
    }

    fn apply(self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for (k, v) in self.pending {
            batch.insert(k, v);
        }
        self.tree.apply_batch(batch).map_err(store_err)
    }
}

fn note_one(w: &mut Writes<'_>, rec: &Record) -> Result<()> {
    let m = &rec.metadata;
    if m.kind != "licence" {
        return Ok(());
    }
    let Ok(id) = m.identifier.parse::<LicenceId>() else { return Ok(()) };
    let identifier = id.to_string();
    let s = stem(&id);
    let version = id.version.parse::<u16>().unwrap_or(1);
    let entry = match w.get_json::<VersionEntry>(&vkey(&identifier))? {
        Some(mut e) => {
            e.archive_id = rec.id.clone();
            e
        }
        None => VersionEntry {
            identifier: identifier.clone(),
            stem: s.clone(),
            version,
            archive_id: rec.id.clone(),
            title: m.title.clone(),
            holder: m.holder.clone(),
            issuer: m.issuer.clone(),
            issuer_dept: m.signers.first().cloned().unwrap_or_default(),
            issue_date: m.issue_date.clone(),
            valid_until: m.valid_until.clone(),
            state: State::Valid,
            since: rec.ingested_at.clone(),
            reason_code: None,
            reason: None,
            successor: None,
            transition: None,
        },
    };
    w.put_json(vkey(&identifier), &entry)?;
    let newer = match w.get(&skey(&s))? {
        None => true,
        Some(cur) => String::from_utf8_lossy(&cur)
            .parse::<LicenceId>()
            .map(|c| c.version.parse::<u16>().unwrap_or(0) < version)
            .unwrap_or(true),
    };
    if newer {
        w.put(skey(&s), identifier.into_bytes());
    }
    Ok(())
}

/// Apply a filed transition (`record`: its archive id) to the index.
pub fn apply(archive: &Archive, tr: &Transition, record: &str) -> Result<()> {
    apply_in(&tree(archive)?, tr, record)
}

fn apply_in(t: &sled::Tree, tr: &Transition, record: &str) -> Result<()> {
    let Some(mut e) = get_json::<VersionEntry>(t, &vkey(&tr.identifier))? else {
        return Err(store_err(format!("transition {} names unknown version {}", tr.id, tr.identifier)));
    };
    e.state = tr.state;
    e.since = tr.at.clone();
    e.reason_code = Some(tr.reason_code.clone());
    e.reason = tr.reason.clone();
    e.transition = Some(record.to_string());
    if let Some(n) = &tr.new_identifier {
        e.successor = Some(n.clone());
    }
    put_json(t, &vkey(&tr.identifier), &e)
}

/// Build the index from the whole log once (homes made before it existed); later calls are one
/// read of the marker.
pub fn ensure_indexed(archive: &Archive) -> Result<()> {
    let t = tree(archive)?;
    if t.contains_key(INDEXED).map_err(store_err)? {
        return Ok(());
    }
    rebuild(archive)
}

/// Recompute the index from the archive log, in leaf order.
pub fn rebuild(archive: &Archive) -> Result<()> {
    let t = tree(archive)?;
    t.clear().map_err(store_err)?;
    for (rec, tr) in replay(archive)? {
        match tr {
            None => {
                let mut w = Writes::new(&t);
                note_one(&mut w, &rec)?;
                w.apply()?
            }
            Some(tr) => apply_in(&t, &tr, &rec.id)?,
        }
    }
    t.insert(INDEXED, b"1".as_slice()).map_err(store_err)?;
    Ok(())
}

/// Licence records and transitions of the log in leaf order (unreadable records are skipped: the
/// audit reports them).
pub(crate) fn replay(archive: &Archive) -> Result<Vec<(Record, Option<Transition>)>> {
    // Streamed: only the licence records and transitions are held, not every record.
    let mut recs: Vec<Record> = archive
        .records_iter()
        .filter_map(|r| r.ok())
        .filter(|r| r.metadata.kind == "licence" || r.metadata.kind == KIND)
        .collect();
    recs.sort_by_key(|r| r.leaf_index);
    let mut out = Vec::with_capacity(recs.len());
    for rec in recs {
        if rec.metadata.kind == KIND {
            let Ok(bytes) = archive.bytes(&rec) else { continue };
            let Ok(tr) = serde_json::from_slice::<Transition>(&bytes) else { continue };
            out.push((rec, Some(tr)));
        } else {
            out.push((rec, None));
        }
    }
    Ok(out)
}

/// Today's date in China (YYYY-MM-DD), for validity ends.
pub fn today() -> String {
    crate::document::china_date(time::OffsetDateTime::now_utc().unix_timestamp())
}

/// Whether a validity end (YYYY-MM-DD, or 长期 / empty for none) is before `today`.
pub fn past(valid_until: &str, today: &str) -> bool {
    let is_date = valid_until.len() == 10 && valid_until.bytes().filter(|b| *b == b'-').count() == 2;
    is_date && valid_until < today
}

/// The status of licence `identifier` (any version: the answer names the current one), from the
/// home's archive index. `Ok(None)`: not a well-formed identifier, or no licence of this region
/// has it. This is the one lookup every caller uses (the QR page, GET /v1/status, verify).
pub fn current(archive: &Archive, identifier: &str) -> Result<Option<StatusView>> {
    let Ok(id) = identifier.trim().parse::<LicenceId>() else { return Ok(None) };
    ensure_indexed(archive)?;
    let t = tree(archive)?;
    let Some(e) = get_json::<VersionEntry>(&t, &vkey(&id.to_string()))? else { return Ok(None) };
    let cur = match t.get(skey(&e.stem)).map_err(store_err)? {
        Some(c) if c.as_ref() != e.identifier.as_bytes() => {
            get_json::<VersionEntry>(&t, &vkey(&String::from_utf8_lossy(&c)))?.unwrap_or_else(|| e.clone())
        }
        _ => e.clone(),
    };
    let expired = past(&e.valid_until, &today());
    Ok(Some(StatusView {
        identifier: e.identifier.clone(),
        status: e.state,
        status_zh: e.state.label_zh(),
        in_force: e.state.in_force() && !expired,
        expired,
        current_version: cur.identifier.clone(),
        current_status: cur.state,
        time: e.since.clone(),
        reason_code: e.reason_code.clone(),
        reason: e.reason.clone(),
        successor: e.successor.clone(),
        archive_id: e.archive_id.clone(),
        current_archive_id: cur.archive_id,
        title: e.title,
        holder: e.holder,
        issuer: e.issuer,
        issuer_dept: e.issuer_dept,
        issue_date: e.issue_date,
        valid_until: e.valid_until,
    }))
}

/// Every indexed version: (identifier, state), in key order (for the status list).
pub fn all(archive: &Archive) -> Result<Vec<(String, State)>> {
    ensure_indexed(archive)?;
    let mut out = Vec::new();
    for kv in tree(archive)?.scan_prefix(b"v\0") {
        let (_, v) = kv.map_err(store_err)?;
        let e: VersionEntry = serde_json::from_slice(&v).map_err(store_err)?;
        out.push((e.identifier, e.state));
    }
    Ok(out)
}

/// The status of the licence version an archive record files (`archive list`, `archive show`):
/// `None` for records of other kinds, or versions the index does not know.
pub fn of_record(archive: &Archive, rec: &Record) -> Option<StatusView> {
    (rec.metadata.kind == "licence").then(|| current(archive, &rec.metadata.identifier).ok().flatten())?
}

impl StatusView {
    /// One word for listings: the state, or `expired` for a valid version past its validity end.
    pub fn word(&self) -> &'static str {
        if self.status == State::Valid && self.expired {
            "expired"
        } else {
            self.status.as_str()
        }
    }
}
