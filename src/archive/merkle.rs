//! RFC 9162 Merkle tree math, pure: leaf and node hashing, inclusion and consistency proofs over a
//! [`NodeSource`] of perfect-subtree hashes, and their verification. No storage, no clock.
//!
//! RFC 9162 §2.1 (MTH, PATH, PROOF) and §2.1.3.2 / §2.1.4.2 (verification algorithms).

use ring::digest::{digest, Context, SHA256};

pub type Hash = [u8; 32];

fn finish(ctx: Context) -> Hash {
    let mut h = [0u8; 32];
    h.copy_from_slice(ctx.finish().as_ref());
    h
}

/// SHA-256(0x00 ‖ entry).
pub fn hash_leaf(entry: &[u8]) -> Hash {
    let mut c = Context::new(&SHA256);
    c.update(&[0]);
    c.update(entry);
    finish(c)
}

/// SHA-256(0x01 ‖ left ‖ right).
pub fn hash_children(l: &Hash, r: &Hash) -> Hash {
    let mut c = Context::new(&SHA256);
    c.update(&[1]);
    c.update(l);
    c.update(r);
    finish(c)
}

/// The hash of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    let mut h = [0u8; 32];
    h.copy_from_slice(digest(&SHA256, b"").as_ref());
    h
}

/// Hashes of perfect subtrees: `node(level, index)` covers leaves [index·2^level, (index+1)·2^level).
pub trait NodeSource {
    fn node(&self, level: u32, index: u64) -> Option<Hash>;
}

/// Largest power of two strictly less than n (n ≥ 2).
fn split(n: u64) -> u64 {
    let mut k = 1u64;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// MTH of leaves [start, start + n), n ≥ 1, from stored perfect subtrees.
pub fn subtree_root(src: &dyn NodeSource, start: u64, n: u64) -> Option<Hash> {
    if n.is_power_of_two() && start.is_multiple_of(n) {
        return src.node(n.trailing_zeros(), start / n);
    }
    let k = split(n);
    Some(hash_children(&subtree_root(src, start, k)?, &subtree_root(src, start + k, n - k)?))
}

/// Root of a tree of `size` leaves.
pub fn root(src: &dyn NodeSource, size: u64) -> Option<Hash> {
    if size == 0 {
        Some(empty_root())
    } else {
        subtree_root(src, 0, size)
    }
}

/// Subtree roots for one proof. Every non-perfect subtree a proof needs ends at the tree's right
/// edge, and each one's root folds the next one's, so caching them by start keeps a proof at
/// O(log n) node reads instead of O(log² n).
struct Memo<'a> {
    src: &'a dyn NodeSource,
    edge: std::cell::RefCell<std::collections::HashMap<(u64, u64), Hash>>,
}

impl NodeSource for Memo<'_> {
    fn node(&self, level: u32, index: u64) -> Option<Hash> {
        self.src.node(level, index)
    }
}

impl Memo<'_> {
    fn root(&self, start: u64, n: u64) -> Option<Hash> {
        if n.is_power_of_two() && start.is_multiple_of(n) {
            return self.src.node(n.trailing_zeros(), start / n);
        }
        if let Some(h) = self.edge.borrow().get(&(start, n)) {
            return Some(*h);
        }
        let k = split(n);
        let h = hash_children(&self.root(start, k)?, &self.root(start + k, n - k)?);
        self.edge.borrow_mut().insert((start, n), h);
        Some(h)
    }
}

/// PATH(m, D[start..start+n]) of RFC 9162 §2.1.3.1, for leaf `m` relative to `start`.
fn path(src: &Memo<'_>, m: u64, start: u64, n: u64, out: &mut Vec<Hash>) -> Option<()> {
    if n <= 1 {
        return Some(());
    }
    let k = split(n);
    if m < k {
        path(src, m, start, k, out)?;
        out.push(src.root(start + k, n - k)?);
    } else {
        path(src, m - k, start + k, n - k, out)?;
        out.push(src.root(start, k)?);
    }
    Some(())
}

/// Inclusion proof for leaf `index` in a tree of `size`.
pub fn inclusion_proof(src: &dyn NodeSource, index: u64, size: u64) -> Option<Vec<Hash>> {
    if index >= size {
        return None;
    }
    let mut out = Vec::new();
    let memo = Memo { src, edge: Default::default() };
    path(&memo, index, 0, size, &mut out)?;
    Some(out)
}

/// SUBPROOF(m, D[start..start+n], b) of RFC 9162 §2.1.4.1.
fn subproof(src: &Memo<'_>, m: u64, start: u64, n: u64, b: bool, out: &mut Vec<Hash>) -> Option<()> {
    if m == n {
        if !b {
            out.push(src.root(start, n)?);
        }
        return Some(());
    }
    let k = split(n);
    if m <= k {
        subproof(src, m, start, k, b, out)?;
        out.push(src.root(start + k, n - k)?);
    } else {
        subproof(src, m - k, start + k, n - k, false, out)?;
        out.push(src.root(start, k)?);
    }
    Some(())
}

/// Consistency proof between sizes `old` and `new` (0 < old ≤ new).
pub fn consistency_proof(src: &dyn NodeSource, old: u64, new: u64) -> Option<Vec<Hash>> {
    if old == 0 || old > new {
        return None;
    }
    let mut out = Vec::new();
    let memo = Memo { src, edge: Default::default() };
    subproof(&memo, old, 0, new, true, &mut out)?;
    Some(out)
}

/// RFC 9162 §2.1.3.2: does `proof` show `leaf` at `index` in the tree of `size` with `root`?
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = hash_children(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = hash_children(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    s_n == 0 && r == *root
}

/// RFC 9162 §2.1.4.2: does `proof` show the tree of `old` size with `old_root` is a prefix of
/// the tree of `new` size with `new_root`?
pub fn verify_consistency(old: u64, new: u64, old_root: &Hash, new_root: &Hash, proof: &[Hash]) -> bool {
    if old == 0 || old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if old.is_power_of_two() {
        path.insert(0, *old_root);
    }
    let (mut f_n, mut s_n) = (old - 1, new - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let Some((first, rest)) = path.split_first() else { return false };
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            fr = hash_children(c, &fr);
            sr = hash_children(c, &sr);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            sr = hash_children(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    fr == *old_root && sr == *new_root && s_n == 0
}

/// Nodes completed by appending leaf `index` with hash `leaf`: (level, index, hash), bottom up.
pub fn nodes_for_append(src: &dyn NodeSource, index: u64, leaf: Hash) -> Option<Vec<(u32, u64, Hash)>> {
    let mut out = vec![(0, index, leaf)];
    let (mut level, mut i, mut h) = (0u32, index, leaf);
    while i & 1 == 1 {
        let left = src.node(level, i - 1)?;
        h = hash_children(&left, &h);
        level += 1;
        i >>= 1;
        out.push((level, i, h));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Mem(HashMap<(u32, u64), Hash>);
    impl NodeSource for Mem {
        fn node(&self, l: u32, i: u64) -> Option<Hash> {
            self.0.get(&(l, i)).copied()
        }
    }

    fn build(n: u64) -> (Mem, Vec<Hash>) {
        let mut m = Mem(HashMap::new());
        let mut leaves = Vec::new();
        for i in 0..n {
            let h = hash_leaf(format!("leaf {i}").as_bytes());
            leaves.push(h);
            for (l, j, x) in nodes_for_append(&m, i, h).unwrap() {
                m.0.insert((l, j), x);
            }
        }
        (m, leaves)
    }

    /// MTH written straight from RFC 9162 §2.1.1, recursively over the leaf hashes.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                hash_children(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    /// The empty-tree root and a leaf hash match the values RFC 6962/9162 implementations use.
    #[test]
    fn known_hashes() {
        let hex = |h: Hash| crate::hex::encode(&h);
        assert_eq!(hex(empty_root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        // transparency-dev rfc6962 test: leaf hash of the empty leaf.
        assert_eq!(hex(hash_leaf(b"")), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    }

    /// Stored-node roots and proofs agree with the recursive reference for every size and index.
    #[test]
    fn proofs_against_reference() {
        let (m, leaves) = build(64);
        for n in 1..=64u64 {
            let r = root(&m, n).unwrap();
            assert_eq!(r, mth(&leaves[..n as usize]));
            for i in 0..n {
                let p = inclusion_proof(&m, i, n).unwrap();
                assert!(verify_inclusion(&leaves[i as usize], i, n, &p, &r), "n={n} i={i}");
            }
            for old in 1..=n {
                let p = consistency_proof(&m, old, n).unwrap();
                assert!(verify_consistency(old, n, &root(&m, old).unwrap(), &r, &p), "{old}->{n}");
            }
        }
    }

    /// Corrupted proofs are rejected.
    #[test]
    fn corrupt_proofs_fail() {
        let (m, leaves) = build(13);
        let r = root(&m, 13).unwrap();
        let mut p = inclusion_proof(&m, 5, 13).unwrap();
        assert!(!verify_inclusion(&leaves[5], 6, 13, &p, &r));
        assert!(!verify_inclusion(&leaves[5], 5, 13, &p[1..], &r));
        let mut longer = p.clone();
        longer.push(r);
        assert!(!verify_inclusion(&leaves[5], 5, 13, &longer, &r));
        p[0][0] ^= 1;
        assert!(!verify_inclusion(&leaves[5], 5, 13, &p, &r));
        assert!(!verify_inclusion(&leaves[5], 13, 13, &[], &r));
        let mut c = consistency_proof(&m, 7, 13).unwrap();
        c.swap(0, 1);
        assert!(!verify_consistency(7, 13, &root(&m, 7).unwrap(), &r, &c));
    }
}
