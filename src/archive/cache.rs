//! In-memory memo of the log's upper nodes (perfect subtrees of level ≥ [`MIN_LEVEL`]), so a
//! proof reads only its bottom few levels from sled (~10–40 µs per sled read on the bench
//! machine; an inclusion proof at 10⁶ leaves needs ~27 nodes).
//!
//! Filled lazily — with every node read from sled and every node committed by an append — so
//! opening an archive costs nothing. Safe because log nodes are immutable: a perfect subtree's hash
//! never changes once written, so a memoised value cannot go stale. Bounded by [`CAPACITY`]
//! entries (about 15 MB); past it, nodes are simply not memoised. The audit reads sled directly
//! (`Archive::stored`), never this cache, so a node rewritten on disk is still found.

use std::collections::HashMap;
use std::sync::RwLock;

use super::merkle::Hash;

/// Lowest level memoised: at 10⁶ leaves that is ~130 000 nodes and leaves 4 sled reads per proof.
pub const MIN_LEVEL: u32 = 4;
/// Most nodes held.
pub const CAPACITY: usize = 1 << 18;

#[derive(Default)]
pub struct NodeCache {
    map: RwLock<HashMap<(u32, u64), Hash>>,
}

impl NodeCache {
    pub fn get(&self, level: u32, index: u64) -> Option<Hash> {
        if level < MIN_LEVEL {
            return None;
        }
        self.map.read().ok()?.get(&(level, index)).copied()
    }

    /// Memoise a node known to be stored (read from sled, or committed to it).
    pub fn put(&self, level: u32, index: u64, hash: Hash) {
        if level < MIN_LEVEL {
            return;
        }
        if let Ok(mut m) = self.map.write() {
            if m.len() < CAPACITY {
                m.insert((level, index), hash);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::archive::merkle::{consistency_proof, inclusion_proof, root};
    use crate::archive::{Archive, Metadata};

    /// Proofs and roots through the memo equal those read from sled alone, across several
    /// batches (so memoised right-edge nodes from earlier batches are reused).
    #[test]
    fn memo_agrees_with_sled() {
        let dir = tempfile::tempdir().unwrap();
        let a = Archive::open(dir.path()).unwrap();
        let docs: Vec<Vec<u8>> = (0..70).map(|i| format!("document {i}").into_bytes()).collect();
        for batch in docs.chunks(23) {
            a.append_many(batch.iter().map(|d| (d.as_slice(), Metadata::default())).collect()).unwrap();
            let n = a.size();
            assert_eq!(root(&a, n), root(&a.stored(), n));
            for i in 0..n {
                assert_eq!(inclusion_proof(&a, i, n), inclusion_proof(&a.stored(), i, n), "leaf {i} of {n}");
                assert_eq!(consistency_proof(&a, i + 1, n), consistency_proof(&a.stored(), i + 1, n));
            }
        }
        assert_eq!(a.size(), 70);
    }
}
