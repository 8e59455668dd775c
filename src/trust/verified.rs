//! A memo of signature checks that succeeded, so that the certificates and CRLs a verifier sees
//! again and again (the region's CAs, their CRLs, a department's seal certificate) are checked
//! once per process instead of once per document.
//!
//! An entry is the SHA-256 of everything the check's result depends on (which check, the public
//! key, the signed bytes, the signature), so a hit is exactly a check that already returned
//! true: changed keys, certificates or CRLs simply miss. Failures are never stored. Documents'
//! own CMS signatures do not come here (they are checked in `verify`, every time).

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};

use rustls_pki_types::{AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm};

/// Most remembered checks; the memo starts afresh when full (32 bytes each).
const MAX_ENTRIES: usize = 4096;

fn memo() -> &'static Mutex<HashSet<[u8; 32]>> {
    static MEMO: OnceLock<Mutex<HashSet<[u8; 32]>>> = OnceLock::new();
    MEMO.get_or_init(|| Mutex::new(HashSet::new()))
}

/// The key of one check: its parts, each length-prefixed so they cannot run into each other.
pub(crate) fn key(parts: &[&[u8]]) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        ctx.update(&u64::try_from(p.len()).unwrap_or(u64::MAX).to_be_bytes());
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// `check()`, or true at once if the same check (same `parts`) already returned true.
pub fn memoised(parts: &[&[u8]], check: impl FnOnce() -> bool) -> bool {
    let k = key(parts);
    if memo().lock().map(|m| m.contains(&k)).unwrap_or(false) {
        return true;
    }
    let ok = check();
    if ok {
        if let Ok(mut m) = memo().lock() {
            if m.len() >= MAX_ENTRIES {
                m.clear();
            }
            m.insert(k);
        }
    }
    ok
}

/// A webpki signature algorithm whose successful verifications are memoised.
#[derive(Debug)]
struct Memoised {
    /// Position in webpki's list: part of the key, so one algorithm's success never stands in
    /// for another's.
    index: u8,
    inner: &'static dyn SignatureVerificationAlgorithm,
}

impl SignatureVerificationAlgorithm for Memoised {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        let ok = memoised(&[b"webpki", &[self.index], public_key, message, signature], || {
            self.inner.verify_signature(public_key, message, signature).is_ok()
        });
        if ok {
            Ok(())
        } else {
            Err(InvalidSignature)
        }
    }
    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.inner.public_key_alg_id()
    }
    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.inner.signature_alg_id()
    }
    fn fips(&self) -> bool {
        self.inner.fips()
    }
}

/// Forget every remembered check (for benchmarks of a cold start).
pub fn clear() {
    if let Ok(mut m) = memo().lock() {
        m.clear();
    }
}

/// webpki's algorithms (`ALL_VERIFICATION_ALGS`), memoised.
pub fn algorithms() -> &'static [&'static dyn SignatureVerificationAlgorithm] {
    static ALGS: OnceLock<Vec<&'static dyn SignatureVerificationAlgorithm>> = OnceLock::new();
    ALGS.get_or_init(|| {
        webpki::ALL_VERIFICATION_ALGS
            .iter()
            .enumerate()
            .map(|(i, inner)| -> &'static dyn SignatureVerificationAlgorithm {
                Box::leak(Box::new(Memoised { index: u8::try_from(i).unwrap_or(u8::MAX), inner: *inner }))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only successes are remembered, and only for exactly the same parts.
    #[test]
    fn remembers_successes_only() {
        let mut calls = 0;
        assert!(!memoised(&[b"t", b"fail"], || {
            calls += 1;
            false
        }));
        assert!(!memoised(&[b"t", b"fail"], || {
            calls += 1;
            false
        }));
        assert!(memoised(&[b"t", b"ok"], || {
            calls += 1;
            true
        }));
        assert!(memoised(&[b"t", b"ok"], || {
            calls += 1;
            false
        }));
        assert!(!memoised(&[b"t", b"o", b"k"], || false), "parts are length-prefixed");
        assert_eq!(calls, 3);
    }
}
