//! The sled store: trees `records` (id → record JSON), `blobs` (sha256 → bytes), `by_hash`
//! (sha256 → id), `nodes` ((level, index) → hash) and `meta` (size, checkpoint). Each record is
//! written in one sled transaction; a batch is acknowledged after one `flush` (group commit: one
//! fsync per batch, not per document).

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

/// An open archive.
pub struct Archive {
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

impl Archive {
    pub fn open(dir: &std::path::Path) -> Result<Self> {
        let db = sled::open(dir).map_err(|e| ArchiveError::Open { path: dir.to_path_buf(), message: e.to_string() })?;
        let t = |n: &str| db.open_tree(n).map_err(db_err);
        Ok(Archive { records: t("records")?, blobs: t("blobs")?, by_hash: t("by_hash")?, nodes: t("nodes")?, meta: t("meta")?, db })
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
        Ok(self.blobs.get(&rec.sha256).map_err(db_err)?.ok_or_else(|| ArchiveError::Corrupt { id: rec.id.clone(), reason: "document bytes missing".into() })?.to_vec())
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
        let sha = hex(&merkle_sha(bytes));
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
        let res: std::result::Result<(), TransactionError<()>> = (&self.records, &self.blobs, &self.by_hash, &self.nodes, &self.meta).transaction(|(r, b, h, n, m)| {
            b.insert(sha.as_bytes(), bytes)?;
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
        self.db.flush().map_err(db_err)?;
        Ok(())
    }

    /// Current root over `size` leaves from stored nodes.
    pub fn root(&self, size: u64) -> Option<Hash> {
        merkle::root(self, size)
    }
}
