//! The archive log's signed tree heads and the proofs checked against them: signing a new head
//! (after the log key's high-water mark allows it), the latest head and its verifier key,
//! inclusion and consistency proofs and evidence records for offline checking, and checking such
//! a proof. What `zhengyin archive tree-head|proof|consistency|check-proof` print.
//!
//! Knows the home's log key and high-water mark and the archive's log; nothing of PDF or trust.

use super::{log_key_path, log_state_path, origin};
use crate::archive::{checkpoint, highwater, merkle, Archive};
use crate::config::Home;
use crate::error::{ArchiveError, Result};

/// Sign and store a checkpoint for the archive's current size. The log key first checks the tree
/// extends the newest head it ever signed (its high-water mark, kept outside the archive) and
/// records the new mark durably before the signature is released; every published head is kept.
pub fn sign_tree_head(home: &Home, archive: &Archive) -> Result<String> {
    let size = archive.size();
    let root = archive.root(size).ok_or_else(|| ArchiveError::Store("log nodes missing".into()))?;
    let key = checkpoint::load_or_create_key(&log_key_path(home))?;
    let state = log_state_path(home);
    let mark = highwater::load(&state)?;
    if let Some(m) = &mark {
        highwater::check(archive, size, m)?;
    }
    let new = highwater::Mark { size, root };
    if mark != Some(new) {
        highwater::store(&state, &new)?;
    }
    archive.set_signed_floor(Some(new));
    let now = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0);
    let note =
        checkpoint::sign_timed(&checkpoint::Checkpoint { origin: origin(home)?, size, root }, now, &key);
    let mut kept = size.to_be_bytes().to_vec();
    kept.extend_from_slice(&root);
    // The first head kept for a size stays: its clock cosignature is the earliest proof of
    // existence for the leaves it includes (`archive::evidence`); re-signing must not move it later.
    archive
        .checkpoints
        .compare_and_swap(kept, None as Option<&[u8]>, Some(note.as_bytes()))
        .map_err(|e| ArchiveError::Store(e.to_string()))?
        .ok();
    archive.meta.insert("checkpoint", note.as_bytes()).map_err(|e| ArchiveError::Store(e.to_string()))?;
    archive.flush()?;
    Ok(note)
}

pub(super) fn signed_size(home: &Home, archive: &Archive) -> Option<u64> {
    let (note, vkey) = tree_head(home, archive).ok()?;
    checkpoint::open(&note, &vkey).ok().map(|c| c.size)
}

/// The latest signed tree head and the verifier key to check it.
pub fn tree_head(home: &Home, archive: &Archive) -> Result<(String, String)> {
    let note = archive
        .meta
        .get("checkpoint")
        .map_err(|e| ArchiveError::Store(e.to_string()))?
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default();
    let key = checkpoint::load_or_create_key(&log_key_path(home))?;
    Ok((note, checkpoint::verifier_key(&origin(home)?, &key)))
}

/// The verifier key of the home's log key, without creating a key (`archive tree-head` prints it).
pub fn log_verifier_key(home: &Home) -> Result<String> {
    let path = log_key_path(home);
    if !path.exists() {
        return Err(ArchiveError::BadProof(
            "this home has no archive log key yet (nothing was filed)".into(),
        )
        .into());
    }
    Ok(checkpoint::verifier_key(&origin(home)?, &checkpoint::load_or_create_key(&path)?))
}

/// The archive's own proof of existence for a record's exact `bytes`: the earliest timestamped
/// checkpoint that includes its leaf (the audit trusts its own log key).
pub(super) fn archive_poe(
    archive: &Archive,
    vkey: &str,
    bytes: &[u8],
) -> Option<crate::archive::evidence::Proven> {
    let sha = crate::pades::cms::sha256(bytes);
    let id = archive.by_hash.get(crate::hex::encode(&sha)).ok()??;
    let rec = archive.get(&String::from_utf8_lossy(&id)).ok()?;
    let (size, _, time) = crate::archive::evidence::earliest_timed_head(archive, rec.leaf_index, vkey)?;
    Some(crate::archive::evidence::Proven {
        record: rec.id,
        content_sha256: sha,
        time: i64::try_from(time).ok()?,
        tree_size: size,
    })
}

/// The evidence record of record `id` (`archive::evidence`), checkable offline.
pub fn evidence(home: &Home, archive: &Archive, id: &str) -> Result<crate::archive::evidence::Evidence> {
    let (_, vkey) = tree_head(home, archive)?;
    crate::archive::evidence::build(archive, id, &vkey)
}

/// Inclusion proof JSON for a record, checkable offline with `check_proof`.
pub fn proof(home: &Home, archive: &Archive, id: &str) -> Result<serde_json::Value> {
    let rec = archive.get(id)?;
    let (note, vkey) = tree_head(home, archive)?;
    let cp = checkpoint::open(&note, &vkey)?;
    let path = merkle::inclusion_proof(archive, rec.leaf_index, cp.size)
        .ok_or_else(|| ArchiveError::Store("cannot build the proof".into()))?;
    Ok(serde_json::json!({
        "record": id,
        "leaf_index": rec.leaf_index,
        "leaf_hash": crate::hex::encode(&merkle::hash_leaf(&rec.entry())),
        "entry": String::from_utf8_lossy(&rec.entry()),
        "tree_size": cp.size,
        "inclusion_path": path.iter().map(|h| crate::hex::encode(h)).collect::<Vec<_>>(),
        "checkpoint": note,
        "verifier_key": vkey,
    }))
}

/// Consistency proof between `old` and the current signed size.
pub fn consistency(home: &Home, archive: &Archive, old: u64) -> Result<serde_json::Value> {
    let (note, vkey) = tree_head(home, archive)?;
    let cp = checkpoint::open(&note, &vkey)?;
    let proof = merkle::consistency_proof(archive, old, cp.size)
        .ok_or_else(|| ArchiveError::BadProof(format!("old size {old} must be 1..={}", cp.size)))?;
    let old_root = archive.root(old).ok_or_else(|| ArchiveError::Store("log nodes missing".into()))?;
    Ok(serde_json::json!({
        "old_size": old, "old_root": crate::hex::encode(&old_root),
        "new_size": cp.size, "new_root": crate::hex::encode(&cp.root),
        "consistency_path": proof.iter().map(|h| crate::hex::encode(h)).collect::<Vec<_>>(),
        "checkpoint": note, "verifier_key": vkey,
    }))
}

/// Check an inclusion or consistency proof JSON offline (checkpoint signature included). With
/// `trusted_key`, the checkpoint must be signed by that key, not merely the one in the file.
pub fn check_proof(v: &serde_json::Value, trusted_key: Option<&str>) -> Result<String> {
    let bad = |m: &str| ArchiveError::BadProof(m.to_string());
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).ok_or_else(|| bad(&format!("missing `{k}`")));
    let n = |k: &str| v.get(k).and_then(|x| x.as_u64()).ok_or_else(|| bad(&format!("missing `{k}`")));
    let hashes = |k: &str| -> Result<Vec<merkle::Hash>> {
        v.get(k)
            .and_then(|x| x.as_array())
            .ok_or_else(|| bad(&format!("missing `{k}`")))?
            .iter()
            .map(|h| h.as_str().and_then(crate::hex::decode32).ok_or_else(|| bad("bad hash").into()))
            .collect()
    };
    let cp = checkpoint::open(s("checkpoint")?, trusted_key.unwrap_or(s("verifier_key")?))?;
    if let Ok(path) = hashes("inclusion_path") {
        let entry = s("entry")?;
        // The receipt's record is the one the checked leaf names (entry line 2), not a free field.
        let mut lines = entry.split('\n');
        if lines.next() != Some(crate::archive::store::ENTRY_VERSION) {
            return Err(bad("the entry is not a zhengyin-archive/v1 leaf entry").into());
        }
        if lines.next() != Some(s("record")?) {
            return Err(bad("`record` is not the record the entry names").into());
        }
        let leaf = merkle::hash_leaf(entry.as_bytes());
        if let Some(h) = v.get("leaf_hash") {
            if h.as_str().and_then(crate::hex::decode32) != Some(leaf) {
                return Err(bad("`leaf_hash` is not the hash of `entry`").into());
            }
        }
        let (index, size) = (n("leaf_index")?, n("tree_size")?);
        if size != cp.size {
            return Err(bad("tree_size differs from the checkpoint").into());
        }
        return if merkle::verify_inclusion(&leaf, index, size, &path, &cp.root) {
            Ok(format!(
                "inclusion proof OK: record {} is leaf {index} of the signed tree of size {size}",
                s("record")?
            ))
        } else {
            Err(bad("inclusion proof does not lead to the signed root").into())
        };
    }
    let path = hashes("consistency_path")?;
    let old_root = crate::hex::decode32(s("old_root")?).ok_or_else(|| bad("bad old_root"))?;
    let (old, new) = (n("old_size")?, n("new_size")?);
    if new != cp.size {
        return Err(bad("new_size differs from the checkpoint").into());
    }
    if merkle::verify_consistency(old, new, &old_root, &cp.root, &path) {
        Ok(format!("consistency proof OK: size {old} is a prefix of the signed tree of size {new}"))
    } else {
        Err(bad("consistency proof does not verify").into())
    }
}
