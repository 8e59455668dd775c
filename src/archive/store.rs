//! The sled store: trees `records` (id → record JSON), `blobs` (sha256 → location of the exact
//! bytes in an append-only pack file), `by_hash` (sha256 → id), `nodes` ((level, index) → hash)
//! and `meta` (size, checkpoint), plus reading them back. Appending lives in `ingest`: document
//! bytes go to `packs/NNNNNN.pack` before the sled transaction that records them, so a record never
//! points at bytes the OS has not seen. A batch is acknowledged after one `flush`: fsync of the
//! pack, then of sled (group commit: two fsyncs per batch, not per document). Sled's own periodic
//! flush is off so it cannot make a record durable before its bytes. Large values in sled's log ran
//! at ~900 records/s; packs run at disk speed.

use serde::{Deserialize, Serialize};

use super::cache::NodeCache;
use super::frontier::Frontier;
use super::merkle::{self, Hash, NodeSource};
use crate::error::{ArchiveError, Result};

/// Leaf entry prefix; bump on any change of the encoding (docs/archive.md).
pub const ENTRY_VERSION: &str = "zhengyin-archive/v1";

/// DA/T 46 / GB/T 36903 descriptive metadata of one record.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Metadata {
    /// licence | proof | external
    pub kind: String,
    pub title: String,
    pub identifier: String,
    pub holder: String,
    pub holder_code: String,
    pub issuer: String,
    pub issue_date: String,
    pub valid_until: String,
    /// Retention period (保管期限), e.g. 永久 or 30年.
    pub retention: String,
    pub format: String,
    pub format_version: String,
    /// Departments (or subjects) that signed, in order.
    pub signers: Vec<String>,
    /// Verification indication at ingest (TOTAL-PASSED …).
    pub verification: String,
    /// The record this one re-timestamps (`archive renew`): same document, one more document
    /// timestamp. Absent (and not serialised, so older entries hash the same) otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub renews: String,
    /// End of the validity of the newest document timestamp's TSA certificate (RFC 3339), when
    /// the record carries one: `archive renew` and the audit compare it with the clock.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub timestamp_until: String,
    /// SHA-256 of the file as received, when filing changed its bytes (a document timestamp
    /// added, `lta`): the `by_hash` index also maps it to this record, so filing the same file
    /// again finds this record instead of stamping it twice.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub received_sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Record {
    pub id: String,
    pub sha256: String,
    pub size: u64,
    pub leaf_index: u64,
    pub ingested_at: String,
    pub metadata: Metadata,
}

impl Record {
    /// The log entry for this record: version, id, content hash and metadata hash, one per line.
    pub fn entry(&self) -> Vec<u8> {
        let meta = serde_json::to_vec(&self.metadata).unwrap_or_default();
        format!("{ENTRY_VERSION}\n{}\n{}\n{}\n", self.id, self.sha256, crate::hex::encode(&merkle_sha(&meta)))
            .into_bytes()
    }
}

pub(super) fn merkle_sha(b: &[u8]) -> [u8; 32] {
    crate::pades::cms::sha256(b)
}

pub(super) fn node_key(level: u32, index: u64) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..4].copy_from_slice(&level.to_be_bytes());
    k[4..].copy_from_slice(&index.to_be_bytes());
    k
}

/// Pack files roll over at this size.
pub(super) const PACK_LIMIT: u64 = 1 << 30;

/// The pack file being appended to.
pub(super) struct Pack {
    pub id: u32,
    pub file: std::fs::File,
    pub len: u64,
}

/// An open archive.
pub struct Archive {
    pub(super) dir: std::path::PathBuf,
    pub(super) pack: std::sync::Mutex<Option<Pack>>,
    /// The append lock, holding the log's right edge once loaded (`None`: read it from sled).
    pub(super) log: std::sync::Mutex<Option<Frontier>>,
    pub(super) cache: NodeCache,
    /// The log key's high-water mark: appends are refused unless the log extends it.
    pub(super) floor: std::sync::Mutex<Option<super::highwater::Mark>>,
    pub db: sled::Db,
    pub records: sled::Tree,
    pub blobs: sled::Tree,
    pub by_hash: sled::Tree,
    pub nodes: sled::Tree,
    pub meta: sled::Tree,
    /// Every signed tree head published: size `u64` big-endian ‖ root → signed note (kept for the audit).
    pub checkpoints: sled::Tree,
    /// Secondary indexes (identifier, holder code, kind → records): `index`.
    pub index: sled::Tree,
}

/// Log nodes: upper levels from the in-memory memo (`cache`), the rest from sled.
impl NodeSource for Archive {
    fn node(&self, level: u32, index: u64) -> Option<Hash> {
        if let Some(h) = self.cache.get(level, index) {
            return Some(h);
        }
        let h = self.stored().node(level, index)?;
        self.cache.put(level, index, h);
        Some(h)
    }
}

/// Log nodes read from sled only, bypassing the memo (for the audit).
pub struct Stored<'a>(&'a Archive);

impl NodeSource for Stored<'_> {
    fn node(&self, level: u32, index: u64) -> Option<Hash> {
        let v = self.0.nodes.get(node_key(level, index)).ok()??;
        <[u8; 32]>::try_from(v.as_ref()).ok()
    }
}

/// A pack's file name, for messages (no absolute paths).
fn pack_name(path: &std::path::Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

pub(super) fn db_err(e: impl std::fmt::Display) -> ArchiveError {
    ArchiveError::Store(e.to_string())
}

fn db_err_any<E>(_: E) -> ArchiveError {
    ArchiveError::Store("malformed blob location".into())
}

impl Archive {
    /// Open (or create) the archive in `dir`: one opener per process and per home. A store held by
    /// another process, a damaged store (sled's errors and panics) and a plain I/O failure are
    /// told apart (`open`); the directory is made private (0700/0600).
    pub fn open(dir: &std::path::Path) -> Result<Self> {
        let db = super::open::open_db(dir)?;
        let t = |n: &str| super::open::guarded(dir, || db.open_tree(n));
        let archive = Archive {
            dir: dir.to_path_buf(),
            pack: std::sync::Mutex::new(None),
            log: std::sync::Mutex::new(None),
            cache: NodeCache::default(),
            floor: std::sync::Mutex::new(None),
            records: t("records")?,
            blobs: t("blobs")?,
            by_hash: t("by_hash")?,
            nodes: t("nodes")?,
            meta: t("meta")?,
            checkpoints: t("checkpoints")?,
            index: t("index")?,
            db,
        };
        archive.ensure_index()?;
        Ok(archive)
    }

    /// Refuse appends unless the log extends `mark` (the log key's newest signed size and root),
    /// so a restored copy of the archive is not appended to and signed into a fork.
    pub fn set_signed_floor(&self, mark: Option<super::highwater::Mark>) {
        if let Ok(mut f) = self.floor.lock() {
            *f = mark;
        }
    }

    /// Err (`Behind` or `Fork`) when the log does not extend the signed floor.
    pub fn check_floor(&self) -> Result<()> {
        let mark = *self.floor.lock().map_err(|_| ArchiveError::Store("archive lock poisoned".into()))?;
        match mark {
            Some(m) => super::highwater::check(self, self.size(), &m),
            None => Ok(()),
        }
    }

    /// The log nodes exactly as stored in sled (no memo).
    pub fn stored(&self) -> Stored<'_> {
        Stored(self)
    }

    pub(super) fn pack_path(&self, id: u32) -> std::path::PathBuf {
        self.dir.join("packs").join(format!("{id:06}.pack"))
    }

    /// Where a record's bytes are: (pack file, offset, length).
    pub fn blob_location(&self, sha256: &str) -> Result<(std::path::PathBuf, u64, u64)> {
        let v = self
            .blobs
            .get(sha256)
            .map_err(db_err)?
            .ok_or_else(|| ArchiveError::Store(format!("no bytes stored for {sha256}")))?;
        let v: [u8; 20] =
            v.as_ref().try_into().map_err(|_| ArchiveError::Store(format!("bad location for {sha256}")))?;
        let (id, rest) = v.split_at(4);
        let (off, len) = rest.split_at(8);
        let id = u32::from_be_bytes(id.try_into().map_err(db_err_any)?);
        Ok((
            self.pack_path(id),
            u64::from_be_bytes(off.try_into().map_err(db_err_any)?),
            u64::from_be_bytes(len.try_into().map_err(db_err_any)?),
        ))
    }

    /// Number of leaves in the log.
    pub fn size(&self) -> u64 {
        self.meta
            .get("size")
            .ok()
            .flatten()
            .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0)
    }

    pub fn get(&self, id: &str) -> Result<Record> {
        let v =
            self.records.get(id).map_err(db_err)?.ok_or_else(|| ArchiveError::NotFound(id.to_string()))?;
        serde_json::from_slice(&v)
            .map_err(|e| ArchiveError::Corrupt { id: id.to_string(), reason: e.to_string() }.into())
    }

    /// The exact bytes of a record. The location read from `blobs` is untrusted: its length must
    /// equal the record's `size`, stay under the pack limit and end inside the pack file, all
    /// checked before anything is allocated.
    pub fn bytes(&self, rec: &Record) -> Result<Vec<u8>> {
        self.bytes_with_spare(rec, 0)
    }

    /// [`bytes`](Self::bytes) in a buffer with room for `spare` more (an update appended to it
    /// then moves nothing).
    pub fn bytes_with_spare(&self, rec: &Record, spare: usize) -> Result<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let corrupt = |reason: String| ArchiveError::Corrupt { id: rec.id.clone(), reason };
        let (path, offset, len) =
            self.blob_location(&rec.sha256).map_err(|e| corrupt(format!("document bytes missing: {e}")))?;
        if len != rec.size || len > PACK_LIMIT {
            return Err(corrupt(format!(
                "stored location gives {len} bytes for a record of {} bytes",
                rec.size
            ))
            .into());
        }
        let file = std::fs::File::open(&path)
            .map_err(|e| corrupt(format!("pack {} unreadable: {e}", pack_name(&path))))?;
        let pack_len =
            file.metadata().map_err(|e| corrupt(format!("pack {} unreadable: {e}", pack_name(&path))))?.len();
        if offset.checked_add(len).is_none_or(|end| end > pack_len) {
            return Err(corrupt(format!(
                "stored location {offset}+{len} lies outside pack {} ({pack_len} bytes)",
                pack_name(&path)
            ))
            .into());
        }
        let len = usize::try_from(len).map_err(|_| corrupt("document length out of range".into()))?;
        let mut buf = Vec::with_capacity(len.saturating_add(spare));
        buf.resize(len, 0);
        file.read_exact_at(&mut buf, offset)
            .map_err(|e| corrupt(format!("document bytes missing from {}: {e}", pack_name(&path))))?;
        Ok(buf)
    }

    /// Number of leaf hashes stored at level 0 of `nodes` (counted; for bounding a stored size).
    pub fn stored_leaves(&self) -> u64 {
        self.nodes.scan_prefix(0u32.to_be_bytes()).keys().count() as u64
    }

    /// Every record, read from the store (for a few: [`Archive::find`] by an index).
    pub fn list(&self) -> Vec<Result<Record>> {
        self.records_iter().collect()
    }

    /// Every record, one at a time (the audit streams: memory does not grow with the archive).
    pub fn records_iter(&self) -> impl Iterator<Item = Result<Record>> + '_ {
        self.records.iter().map(|kv| {
            let (k, v) = kv.map_err(db_err)?;
            let key = String::from_utf8_lossy(&k).into_owned();
            let rec: Record = serde_json::from_slice(&v).map_err(|e| ArchiveError::Corrupt {
                id: key.clone(),
                reason: format!("record JSON unreadable: {e}"),
            })?;
            if rec.id != key {
                return Err(ArchiveError::Corrupt {
                    reason: format!(
                        "record stored under this id names `{}`",
                        rec.id.chars().take(40).collect::<String>()
                    ),
                    id: key,
                }
                .into());
            }
            Ok(rec)
        })
    }

    /// Make everything appended so far durable: fsync the pack, then sled. Holds the append lock,
    /// so no chunk can be committed between the two (its record would be durable before its bytes).
    pub fn flush(&self) -> Result<()> {
        let _appends = self.log.lock().map_err(|_| ArchiveError::Store("archive lock poisoned".into()))?;
        if let Some(p) =
            self.pack.lock().map_err(|_| ArchiveError::Store("pack lock poisoned".into()))?.as_ref()
        {
            p.file.sync_data().map_err(db_err)?;
        }
        self.db.flush().map_err(db_err)?;
        // sled replaces its snapshot files on flush; keep them private like the rest.
        super::open::make_private(&self.dir).map_err(db_err)?;
        Ok(())
    }

    /// Current root over `size` leaves from stored nodes.
    pub fn root(&self, size: u64) -> Option<Hash> {
        merkle::root(self, size)
    }
}
