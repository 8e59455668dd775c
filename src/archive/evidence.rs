//! Evidence records: a self-contained proof that a record's exact bytes existed at a time, built
//! from the archive's own log in the sense of RFC 4998 (Evidence Record Syntax), simplified.
//!
//! RFC 4998 proves existence with a reduced hash tree up to a root that an archive timestamp
//! covers. Here the hash tree is the RFC 9162 log (the inclusion path from the record's leaf
//! entry, which names the content's SHA-256, up to the root), and the "archive timestamp" is the
//! earliest kept checkpoint that includes the leaf and carries the log key's timestamped
//! cosignature (`checkpoint::sign_timed`): "as of time T the log had this root". Whoever trusts
//! the archive's verifier key can check the record without the archive: the leaf entry names the
//! content hash, the path leads to the signed root, the cosignature gives T.
//!
//! Knows the log and checkpoints; nothing of PDF. The verifier decides what the content hash
//! covers (a whole file, or one revision of it) and what T proves (`verify::poe`).

use serde::{Deserialize, Serialize};

use super::checkpoint;
use super::merkle;
use super::store::{Archive, ENTRY_VERSION};
use crate::error::{ArchiveError, Result};
use crate::hex::encode as hex;

/// Format tag of an exported evidence record.
pub const VERSION: &str = "zhengyin-evidence/v1";

/// One evidence record (JSON, `zhengyin archive evidence ID`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Evidence {
    pub version: String,
    pub record: String,
    /// SHA-256 of the record's exact bytes (lower-case hex), as the leaf entry names it.
    pub content_sha256: String,
    /// The log leaf entry (`zhengyin-archive/v1\nID\nSHA256\nMETA_SHA256\n`).
    pub entry: String,
    pub leaf_index: u64,
    pub tree_size: u64,
    pub inclusion_path: Vec<String>,
    /// The signed checkpoint of `tree_size` with its clock cosignature.
    pub checkpoint: String,
    /// The archive's verifier key (C2SP vkey); a verifier should pin its own copy.
    pub verifier_key: String,
    /// The cosigned time, RFC 3339 (informative: the check reads it from the cosignature).
    pub time: String,
}

/// What a checked evidence record proves: these bytes existed at this time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    pub record: String,
    pub content_sha256: [u8; 32],
    pub time: i64,
    pub tree_size: u64,
}

/// The earliest kept checkpoint that includes leaf `index` and carries a valid clock
/// cosignature by `vkey`: (size, note, time). Kept checkpoints are keyed by size (big-endian)
/// first, so the walk starts at `index + 1`.
pub fn earliest_timed_head(archive: &Archive, index: u64, vkey: &str) -> Option<(u64, String, u64)> {
    let from = index.checked_add(1)?.to_be_bytes();
    archive.checkpoints.range(from..).filter_map(|kv| kv.ok()).find_map(|(k, v)| {
        let size = u64::from_be_bytes(k.get(..8)?.try_into().ok()?);
        let note = String::from_utf8_lossy(&v).into_owned();
        let cp = checkpoint::open(&note, vkey).ok()?;
        let root = archive.root(size)?;
        if cp.size != size || cp.root != root {
            return None;
        }
        checkpoint::cosigned_time(&note, vkey).map(|t| (size, note, t))
    })
}

/// Build the evidence record of record `id` from the archive (its log key's verifier key `vkey`).
pub fn build(archive: &Archive, id: &str, vkey: &str) -> Result<Evidence> {
    let rec = archive.get(id)?;
    let (size, note, time) = earliest_timed_head(archive, rec.leaf_index, vkey).ok_or_else(|| {
        ArchiveError::BadProof(format!(
            "record {id} is in no timestamped checkpoint yet (heads signed before clock cosignatures \
             existed do not count; the next filing signs one)"
        ))
    })?;
    let path = merkle::inclusion_proof(archive, rec.leaf_index, size)
        .ok_or_else(|| ArchiveError::Store("cannot build the inclusion proof".into()))?;
    Ok(Evidence {
        version: VERSION.into(),
        record: rec.id.clone(),
        content_sha256: rec.sha256.clone(),
        entry: String::from_utf8_lossy(&rec.entry()).into_owned(),
        leaf_index: rec.leaf_index,
        tree_size: size,
        inclusion_path: path.iter().map(|h| hex(h)).collect(),
        checkpoint: note,
        verifier_key: vkey.to_string(),
        time: crate::trust::rfc3339(i64::try_from(time).unwrap_or(i64::MAX)),
    })
}

/// Check an evidence record offline against the archive verifier key `trusted_key` (never the
/// key inside the record: anyone can sign a note with a key of their own).
pub fn check(ev: &Evidence, trusted_key: &str) -> Result<Proven> {
    let bad = |m: &str| ArchiveError::BadProof(format!("evidence record: {m}"));
    if ev.version != VERSION {
        return Err(
            bad(&format!("unknown version `{}`", ev.version.chars().take(40).collect::<String>())).into()
        );
    }
    let cp = checkpoint::open(&ev.checkpoint, trusted_key)?;
    let time = checkpoint::cosigned_time(&ev.checkpoint, trusted_key)
        .ok_or_else(|| bad("the checkpoint has no clock cosignature by the trusted key"))?;
    let mut lines = ev.entry.split('\n');
    if lines.next() != Some(ENTRY_VERSION) {
        return Err(bad("the entry is not a zhengyin-archive/v1 leaf entry").into());
    }
    if lines.next() != Some(ev.record.as_str()) {
        return Err(bad("`record` is not the record the entry names").into());
    }
    // The content hash proven is the one inside the hashed entry, not the free field.
    let content =
        lines.next().and_then(crate::hex::decode32).ok_or_else(|| bad("the entry names no content hash"))?;
    if crate::hex::decode32(&ev.content_sha256) != Some(content) {
        return Err(bad("`content_sha256` differs from the entry").into());
    }
    if ev.tree_size != cp.size {
        return Err(bad("tree_size differs from the checkpoint").into());
    }
    let path = ev
        .inclusion_path
        .iter()
        .map(|h| crate::hex::decode32(h).ok_or_else(|| bad("bad hash in the inclusion path")))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let leaf = merkle::hash_leaf(ev.entry.as_bytes());
    if !merkle::verify_inclusion(&leaf, ev.leaf_index, cp.size, &path, &cp.root) {
        return Err(bad("the inclusion path does not lead to the signed root").into());
    }
    Ok(Proven {
        record: ev.record.clone(),
        content_sha256: content,
        time: i64::try_from(time).unwrap_or(i64::MAX),
        tree_size: cp.size,
    })
}
