//! The log's right edge: the roots of the perfect subtrees a tree of `size` leaves decomposes into
//! (one per set bit of `size`, largest first). That is all appending needs — every node a new leaf
//! completes hashes a frontier node with the new right-hand hash — and folding it from the right
//! gives the tree's root (RFC 9162 §2.1.1). Pure: loaded from a [`NodeSource`], updated in memory.

use super::merkle::{hash_children, Hash, NodeSource};

/// Right-edge perfect-subtree roots of a tree of `size` leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// Roots largest (leftmost) first; `nodes[j]` has the level of the j-th set bit of `size` from the top.
    nodes: Vec<Hash>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn empty() -> Self {
        Frontier { size: 0, nodes: Vec::new() }
    }

    /// Read the frontier of a tree of `size` leaves: one node per set bit of `size`.
    pub fn load(src: &dyn NodeSource, size: u64) -> Option<Self> {
        let mut nodes = Vec::with_capacity(size.count_ones() as usize);
        let mut start = 0u64;
        for level in (0..64u32).rev() {
            if size >> level & 1 == 1 {
                nodes.push(src.node(level, start >> level)?);
                start += 1 << level;
            }
        }
        Some(Frontier { size, nodes })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Append a leaf; returns the nodes it completes as (level, index, hash), bottom up, the
    /// leaf itself first — the same nodes as [`super::merkle::nodes_for_append`].
    pub fn push(&mut self, leaf: Hash) -> Vec<(u32, u64, Hash)> {
        let mut out = vec![(0, self.size, leaf)];
        let (mut level, mut i, mut h) = (0u32, self.size, leaf);
        while i & 1 == 1 {
            let Some(left) = self.nodes.pop() else { break };
            h = hash_children(&left, &h);
            level += 1;
            i >>= 1;
            out.push((level, i, h));
        }
        self.nodes.push(h);
        self.size += 1;
        out
    }

    /// MTH of the whole tree; `None` when empty.
    pub fn root(&self) -> Option<Hash> {
        let (last, rest) = self.nodes.split_last()?;
        Some(rest.iter().rev().fold(*last, |r, n| hash_children(n, &r)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::archive::merkle::{hash_leaf, nodes_for_append, root};
    use std::collections::HashMap;

    struct Mem(HashMap<(u32, u64), Hash>);
    impl NodeSource for Mem {
        fn node(&self, l: u32, i: u64) -> Option<Hash> {
            self.0.get(&(l, i)).copied()
        }
    }

    /// Pushing matches `nodes_for_append`, the root matches `merkle::root`, and loading from the
    /// stored nodes gives the same frontier, for every size up to 100.
    #[test]
    fn matches_stored_nodes() {
        let mut m = Mem(HashMap::new());
        let mut f = Frontier::empty();
        assert_eq!(f.root(), None);
        for i in 0..100u64 {
            let h = hash_leaf(format!("leaf {i}").as_bytes());
            let want = nodes_for_append(&m, i, h).unwrap();
            assert_eq!(f.push(h), want);
            for (l, j, x) in want {
                m.0.insert((l, j), x);
            }
            assert_eq!(f.root(), root(&m, i + 1));
            assert_eq!(Frontier::load(&m, i + 1).as_ref(), Some(&f));
        }
    }
}
