//! A relying party checks its own checkpoint against the archive (`archive consistency --from`,
//! `POST /v1/archive/consistency`): the checkpoint it kept — from a receipt, a proof or a bare
//! signed note — must be signed by this archive's log key and be a prefix of the archive's newest
//! signed tree (RFC 9162 §2.1.4 consistency). Anything else is a fork or a rollback, answered with
//! both roots. The archive's own idea of an old root is never used: that is what let a forked log
//! answer "OK" before.
//!
//! Knows checkpoints and Merkle proofs; nothing of PDF or HTTP. C2SP tlog-checkpoint, RFC 9162.

use crate::archive::{checkpoint, merkle, Archive};
use crate::config::Home;
use crate::error::{ArchiveError, Result};
use crate::hex::encode as hex;

/// Longest checkpoint or receipt text accepted (a receipt is ~2 KB; its path grows with log n).
pub const MAX_INPUT: usize = 64 * 1024;

/// The signed note inside `text`: a receipt or proof JSON (its `checkpoint` field), or the note.
fn note_of(text: &str) -> Result<String> {
    let bad = |m: String| ArchiveError::BadProof(m);
    if text.len() > MAX_INPUT {
        return Err(bad(format!("the checkpoint text is over {MAX_INPUT} bytes")).into());
    }
    let t = text.trim_start();
    if t.starts_with('{') {
        let v: serde_json::Value =
            serde_json::from_str(t).map_err(|e| bad(format!("not a receipt JSON: {e}")))?;
        return v
            .get("checkpoint")
            .and_then(|c| c.as_str())
            .map(str::to_string)
            .ok_or_else(|| bad("the JSON has no `checkpoint` field".into()).into());
    }
    Ok(t.to_string())
}

/// Check a relying party's checkpoint against the archive. `Ok`: a consistency proof from its size
/// to the archive's newest signed tree (checkable with `archive check-proof`). `Err(Fork)`: the
/// archive does not extend it, with both roots named. `Err(BadProof)`: not a checkpoint of this log.
pub fn check_from(home: &Home, archive: &Archive, text: &str) -> Result<serde_json::Value> {
    let (note, vkey) = crate::filing::tree_head(home, archive)?;
    let theirs = checkpoint::open(&note_of(text)?, &vkey).map_err(|e| {
        ArchiveError::BadProof(format!("not a checkpoint signed by this archive's log key ({vkey}): {e}"))
    })?;
    let ours = checkpoint::open(&note, &vkey)
        .map_err(|_| ArchiveError::Store("the archive has no valid signed tree head".into()))?;
    let fork = |archive_root: String| ArchiveError::Fork {
        size: theirs.size,
        signed_root: hex(&theirs.root),
        archive_root,
    };
    if theirs.size > ours.size {
        let here = merkle::root(archive, theirs.size).map(|h| hex(&h)).unwrap_or_else(|| {
            format!("none (the archive's newest signed tree has {} leaves: rolled back?)", ours.size)
        });
        return Err(fork(here).into());
    }
    let path = if theirs.size == 0 {
        Vec::new()
    } else {
        merkle::consistency_proof(archive, theirs.size, ours.size)
            .ok_or_else(|| ArchiveError::Store("log nodes missing".into()))?
    };
    let consistent = if theirs.size == 0 {
        theirs.root == merkle::empty_root()
    } else {
        merkle::verify_consistency(theirs.size, ours.size, &theirs.root, &ours.root, &path)
    };
    if !consistent {
        let here = merkle::root(archive, theirs.size).map(|h| hex(&h)).unwrap_or_else(|| "missing".into());
        return Err(fork(here).into());
    }
    Ok(serde_json::json!({
        "consistent": true,
        "old_size": theirs.size, "old_root": hex(&theirs.root),
        "new_size": ours.size, "new_root": hex(&ours.root),
        "consistency_path": path.iter().map(|h| hex(h)).collect::<Vec<_>>(),
        "checkpoint": note, "verifier_key": vkey,
    }))
}
