//! The audit's passes over the log itself, in memory that does not grow with the archive: the
//! root recomputed from the stored leaves (read in key order and folded into a [`Frontier`],
//! O(log n)), and, only when some leaf may lack its record, the leaves no record claims (found
//! in passes over the records with a bitmap of at most [`CHUNK`] leaves).
//!
//! Knows the `nodes` key layout (level ‖ index, big-endian) and records' leaf indexes; nothing of
//! PDF. RFC 9162 §2.1.1 (MTH).

use super::frontier::Frontier;
use super::merkle::{self, Hash};
use super::store::{node_key, Archive};

/// Leaves covered by one pass of [`unclaimed`]: a bitmap of 1 MiB.
pub const CHUNK: u64 = 1 << 23;

/// The root recomputed from the stored leaves `0..size`, read in order, and the indexes of the
/// leaves that are missing (or not 32 bytes) — those are left out of the recomputed root.
pub(super) fn root_from_leaves(archive: &Archive, size: u64) -> (Hash, Vec<u64>) {
    let mut frontier = Frontier::empty();
    let mut missing = Vec::new();
    let mut next = 0u64;
    let end = node_key(0, size);
    for (k, v) in archive.nodes.range(node_key(0, 0)..end).flatten() {
        let Some(i) = k.get(4..12).and_then(|b| <[u8; 8]>::try_from(b).ok()).map(u64::from_be_bytes) else {
            continue;
        };
        if i < next || i >= size {
            continue;
        }
        missing.extend(next..i);
        next = i + 1;
        match <[u8; 32]>::try_from(v.as_ref()) {
            Ok(h) => {
                frontier.push(h);
            }
            Err(_) => missing.push(i),
        }
    }
    missing.extend(next..size);
    (frontier.root().unwrap_or_else(merkle::empty_root), missing)
}

/// The leaves in `0..size` that no readable record claims (its `leaf_index`), in order. One pass
/// over the records per [`CHUNK`] leaves; the audit calls it only when fewer records matched
/// their leaves than the log holds, so a clean archive is read once.
pub(super) fn unclaimed(archive: &Archive, size: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut lo = 0u64;
    while lo < size {
        let n = CHUNK.min(size - lo);
        let mut seen = vec![0u64; usize::try_from(n.div_ceil(64)).unwrap_or(0)];
        for rec in archive.records_iter().flatten() {
            let Some(off) = rec.leaf_index.checked_sub(lo).filter(|o| *o < n) else { continue };
            if let Some(w) = seen.get_mut(usize::try_from(off / 64).unwrap_or(usize::MAX)) {
                *w |= 1 << (off % 64);
            }
        }
        let set = |o: u64| {
            usize::try_from(o / 64).ok().and_then(|w| seen.get(w)).is_some_and(|w| w >> (o % 64) & 1 == 1)
        };
        out.extend((0..n).filter(|o| !set(*o)).map(|o| lo + o));
        lo += n;
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::archive::{merkle, Archive, Metadata};

    /// The streamed root equals the stored root; a removed leaf is reported missing, and a
    /// removed record leaves exactly its leaf unclaimed.
    #[test]
    fn streamed_root_and_unclaimed_leaves() {
        let dir = tempfile::tempdir().unwrap();
        let a = Archive::open(dir.path()).unwrap();
        let docs: Vec<Vec<u8>> = (0..37).map(|i| format!("document {i}").into_bytes()).collect();
        let recs = a.append_many(docs.iter().map(|d| (d.as_slice(), Metadata::default())).collect()).unwrap();
        let (root, missing) = super::root_from_leaves(&a, 37);
        assert_eq!(Some(root), merkle::root(&a.stored(), 37));
        assert!(missing.is_empty());
        assert_eq!(super::root_from_leaves(&a, 0).0, merkle::empty_root());
        assert!(super::unclaimed(&a, 37).is_empty());
        a.records.remove(recs[20].0.id.as_bytes()).unwrap();
        assert_eq!(super::unclaimed(&a, 37), vec![20]);
        a.nodes.remove(super::node_key(0, 5)).unwrap();
        a.nodes.remove(super::node_key(0, 36)).unwrap();
        assert_eq!(super::root_from_leaves(&a, 37).1, vec![5, 36]);
    }
}
