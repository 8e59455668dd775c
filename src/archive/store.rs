//! The sled store: trees `records` (id → record JSON), `blobs` (sha256 → location of the exact
//! bytes in an append-only pack file), `by_hash` (sha256 → id), `nodes` ((level, index) → hash)
//! and `meta` (size, checkpoint). Document bytes go to `packs/NNNNNN.pack` with one write(2) before
//! the record's sled transaction, so a record never points at bytes the OS has not seen. A batch is
//! acknowledged after one `flush`: fsync of the pack, then of sled (group commit: two fsyncs per
//! batch, not per document). Sled's own periodic flush is off so it cannot make a record durable
//! before its bytes. Large values in sled's log ran at ~900 records/s; packs run at disk speed.

use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

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
        format!("{ENTRY_VERSION}\n{}\n{}\n{}\n", self.id, self.sha256, hex(&merkle_sha(&meta))).into_bytes()
    }
}

fn merkle_sha(b: &[u8]) -> [u8; 32] {
    crate::pades::cms::sha256(b)
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn node_key(level: u32, index: u64) -> [u8; 12] {
    let mut k = [0u8; 12];
    k[..4].copy_from_slice(&level.to_be_bytes());
    k[4..].copy_from_slice(&index.to_be_bytes());
    k
}

/// Pack files roll over at this size.
const PACK_LIMIT: u64 = 1 << 30;

/// The pack file being appended to.
struct Pack {
    id: u32,
    file: std::fs::File,
    len: u64,
}

/// An open archive.
pub struct Archive {
    dir: std::path::PathBuf,
    pack: std::sync::Mutex<Option<Pack>>,
    pub db: sled::Db,
    pub records: sled::Tree,
    pub blobs: sled::Tree,
    pub by_hash: sled::Tree,
    pub nodes: sled::Tree,
    pub meta: sled::Tree,
}

impl NodeSource for Archive {
    fn node(&self, level: u32, index: u64) -> Option<Hash> {
        let v = self.nodes.get(node_key(level, index)).ok()??;
        <[u8; 32]>::try_from(v.as_ref()).ok()
    }
}

fn db_err(e: impl std::fmt::Display) -> ArchiveError {
    ArchiveError::Store(e.to_string())
}

fn db_err_any<E>(_: E) -> ArchiveError {
    ArchiveError::Store("malformed blob location".into())
}

impl Archive {
    pub fn open(dir: &std::path::Path) -> Result<Self> {
        let db = sled::Config::new()
            .path(dir)
            .flush_every_ms(None)
            .open()
            .map_err(|e| ArchiveError::Open { path: dir.to_path_buf(), message: e.to_string() })?;
        let t = |n: &str| db.open_tree(n).map_err(db_err);
        Ok(Archive {
            dir: dir.to_path_buf(),
            pack: std::sync::Mutex::new(None),
            records: t("records")?,
            blobs: t("blobs")?,
            by_hash: t("by_hash")?,
            nodes: t("nodes")?,
            meta: t("meta")?,
            db,
        })
    }

    fn pack_path(&self, id: u32) -> std::path::PathBuf {
        self.dir.join("packs").join(format!("{id:06}.pack"))
    }

    /// Append `bytes` to the current pack: (pack id, offset).
    fn write_blob(&self, bytes: &[u8]) -> Result<(u32, u64)> {
        use std::io::Write;
        let mut guard = self.pack.lock().map_err(|_| ArchiveError::Store("pack lock poisoned".into()))?;
        if guard.as_ref().map(|p| p.len >= PACK_LIMIT).unwrap_or(true) {
            let dir = self.dir.join("packs");
            std::fs::create_dir_all(&dir).map_err(db_err)?;
            let last = std::fs::read_dir(&dir)
                .map_err(db_err)?
                .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".pack")?.parse::<u32>().ok())
                .max();
            let id = match (&*guard, last) {
                (Some(p), _) => p.id + 1,
                (None, Some(l)) => l,
                (None, None) => 0,
            };
            let file = std::fs::OpenOptions::new().create(true).append(true).open(self.pack_path(id)).map_err(db_err)?;
            let len = file.metadata().map_err(db_err)?.len();
            *guard = Some(Pack { id, file, len });
        }
        let pack = guard.as_mut().ok_or_else(|| ArchiveError::Store("no pack file".into()))?;
        let offset = pack.len;
        pack.file.write_all(bytes).map_err(db_err)?;
        pack.len += u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        Ok((pack.id, offset))
    }

    /// Where a record's bytes are: (pack file, offset, length).
    pub fn blob_location(&self, sha256: &str) -> Result<(std::path::PathBuf, u64, u64)> {
        let v = self.blobs.get(sha256).map_err(db_err)?.ok_or_else(|| ArchiveError::Store(format!("no bytes stored for {sha256}")))?;
        let v: [u8; 20] = v.as_ref().try_into().map_err(|_| ArchiveError::Store(format!("bad location for {sha256}")))?;
        let (id, rest) = v.split_at(4);
        let (off, len) = rest.split_at(8);
        let id = u32::from_be_bytes(id.try_into().map_err(db_err_any)?);
        Ok((self.pack_path(id), u64::from_be_bytes(off.try_into().map_err(db_err_any)?), u64::from_be_bytes(len.try_into().map_err(db_err_any)?)))
    }

    /// Number of leaves in the log.
    pub fn size(&self) -> u64 {
        self.meta.get("size").ok().flatten().and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok()).map(u64::from_be_bytes).unwrap_or(0)
    }

    pub fn get(&self, id: &str) -> Result<Record> {
        let v = self.records.get(id).map_err(db_err)?.ok_or_else(|| ArchiveError::NotFound(id.to_string()))?;
        serde_json::from_slice(&v).map_err(|e| ArchiveError::Corrupt { id: id.to_string(), reason: e.to_string() }.into())
    }

    pub fn bytes(&self, rec: &Record) -> Result<Vec<u8>> {
        use std::os::unix::fs::FileExt;
        let corrupt = |reason: String| ArchiveError::Corrupt { id: rec.id.clone(), reason };
        let (path, offset, len) = self.blob_location(&rec.sha256).map_err(|e| corrupt(format!("document bytes missing: {e}")))?;
        let len = usize::try_from(len).map_err(|_| corrupt("document length out of range".into()))?;
        let file = std::fs::File::open(&path).map_err(|e| corrupt(format!("pack {} unreadable: {e}", path.display())))?;
        let mut buf = vec![0u8; len];
        file.read_exact_at(&mut buf, offset).map_err(|e| corrupt(format!("document bytes missing from {}: {e}", path.display())))?;
        Ok(buf)
    }

    pub fn list(&self) -> Vec<Result<Record>> {
        self.records
            .iter()
            .map(|kv| {
                let (k, v) = kv.map_err(db_err)?;
                serde_json::from_slice(&v).map_err(|e| ArchiveError::Corrupt { id: String::from_utf8_lossy(&k).into_owned(), reason: e.to_string() }.into())
            })
            .collect()
    }

    /// Add one document without flushing. Identical bytes return the existing record (no new leaf).
    pub fn append(&self, bytes: &[u8], metadata: Metadata) -> Result<(Record, bool)> {
        self.append_hashed(bytes, hex(&merkle_sha(bytes)), metadata)
    }

    /// Append many documents: their SHA-256 fixity is computed on every core first (it is most of
    /// the CPU cost of ingest), then records are appended in order. Not flushed.
    pub fn append_many(&self, docs: Vec<(&[u8], Metadata)>) -> Result<Vec<(Record, bool)>> {
        let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).max(1);
        let chunk = docs.len().div_ceil(threads).max(1);
        let hashes: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = docs.chunks(chunk).map(|c| s.spawn(move || c.iter().map(|(b, _)| hex(&merkle_sha(b))).collect::<Vec<_>>())).collect();
            handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
        });
        if hashes.len() != docs.len() {
            return Err(ArchiveError::Store("fixity hashing failed".into()).into());
        }
        docs.into_iter().zip(hashes).map(|((b, m), h)| self.append_hashed(b, h, m)).collect()
    }

    fn append_hashed(&self, bytes: &[u8], sha: String, metadata: Metadata) -> Result<(Record, bool)> {
        if let Some(id) = self.by_hash.get(&sha).map_err(db_err)? {
            return Ok((self.get(&String::from_utf8_lossy(&id))?, false));
        }
        let index = self.size();
        let rec = Record {
            id: format!("ZY{}", &sha[..20].to_uppercase()),
            sha256: sha.clone(),
            size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
            leaf_index: index,
            ingested_at: crate::trust::rfc3339(time::OffsetDateTime::now_utc().unix_timestamp()),
            metadata,
        };
        let leaf = merkle::hash_leaf(&rec.entry());
        let nodes = merkle::nodes_for_append(self, index, leaf).ok_or_else(|| ArchiveError::Store(format!("log node missing below leaf {index}")))?;
        let rec_json = serde_json::to_vec(&rec).map_err(db_err)?;
        let (pack, offset) = self.write_blob(bytes)?;
        let mut loc = Vec::with_capacity(20);
        loc.extend_from_slice(&pack.to_be_bytes());
        loc.extend_from_slice(&offset.to_be_bytes());
        loc.extend_from_slice(&rec.size.to_be_bytes());
        let res: std::result::Result<(), TransactionError<()>> = (&self.records, &self.blobs, &self.by_hash, &self.nodes, &self.meta).transaction(|(r, b, h, n, m)| {
            b.insert(sha.as_bytes(), loc.as_slice())?;
            r.insert(rec.id.as_bytes(), rec_json.as_slice())?;
            h.insert(sha.as_bytes(), rec.id.as_bytes())?;
            for (l, i, x) in &nodes {
                n.insert(&node_key(*l, *i), &x[..])?;
            }
            m.insert("size", &(index + 1).to_be_bytes())?;
            Ok::<(), ConflictableTransactionError<()>>(())
        });
        res.map_err(|e| db_err(format!("{e:?}")))?;
        Ok((rec, true))
    }

    /// Make everything appended so far durable (one fsync).
    pub fn flush(&self) -> Result<()> {
        if let Some(p) = self.pack.lock().map_err(|_| ArchiveError::Store("pack lock poisoned".into()))?.as_ref() {
            p.file.sync_data().map_err(db_err)?;
        }
        self.db.flush().map_err(db_err)?;
        Ok(())
    }

    /// Current root over `size` leaves from stored nodes.
    pub fn root(&self, size: u64) -> Option<Hash> {
        merkle::root(self, size)
    }
}
