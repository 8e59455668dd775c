//! A memo of whole path validations, one per trust store. In a batch (`verify DIR/`) every file
//! sealed by the same department carries the same certificates and is validated at the same
//! time, so the path, the CRL checks and the revocation status are worked out once per distinct
//! question instead of once per signature.
//!
//! The key is the SHA-256 of everything [`TrustStore::validate_full`] reads: the signer
//! certificate, the intermediates, the validation time (seconds), the purpose, the CRLs the
//! document embeds, the proof-of-existence time, and the store's shape (how many anchors and CRLs,
//! and their total size: a store's public fields are only ever appended to before use, as for
//! [`super::index`]). Outcomes that fail are remembered too: they depend on nothing else.
//!
//! Knows nothing of PDF, nor what an outcome means to a report.

use std::collections::HashMap;
use std::sync::Mutex;

use rustls_pki_types::UnixTime;

use super::{ChainOutcome, Purpose, Revocation, RevocationInputs, TrustStore};

/// Most remembered validations; the memo starts afresh when full.
const MAX_ENTRIES: usize = 1024;

type Entry = (ChainOutcome, Revocation);

/// The memo. A cloned store starts with an empty one.
#[derive(Default)]
pub struct Memo(Mutex<HashMap<[u8; 32], Entry>>);

impl Clone for Memo {
    fn clone(&self) -> Self {
        Memo::default()
    }
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.0.lock().map(|m| m.len()).unwrap_or(0);
        write!(f, "Memo({n} entries)")
    }
}

/// What one validation depends on, hashed (each part length-prefixed, counts included so that
/// intermediates and embedded CRLs cannot stand in for each other).
pub fn key(
    store: &TrustStore,
    ee: &[u8],
    intermediates: &[Vec<u8>],
    at: UnixTime,
    purpose: Purpose,
    inputs: &RevocationInputs<'_>,
) -> [u8; 32] {
    let size = |n: usize| u64::try_from(n).unwrap_or(u64::MAX).to_be_bytes();
    let shape = [
        size(store.anchors.len()),
        size(store.anchors.iter().map(|a| a.der.len()).sum()),
        size(store.crls.len()),
        size(store.crls.iter().map(|c| c.der.len()).sum()),
        size(intermediates.len()),
        size(inputs.embedded.len()),
    ];
    let at = at.as_secs().to_be_bytes();
    let purpose: &[u8] = match purpose {
        Purpose::DocumentSigning => b"document-signing",
        Purpose::TimeStamping => b"time-stamping",
    };
    let poe = inputs.poe.map(|t| t.to_be_bytes());
    let mut parts: Vec<&[u8]> =
        vec![b"chain-v1", &at, purpose, poe.as_ref().map_or(b"none", |p| p.as_slice())];
    parts.extend(shape.iter().map(|s| s.as_slice()));
    parts.push(ee);
    parts.extend(intermediates.iter().map(Vec::as_slice));
    parts.extend(inputs.embedded.iter().map(Vec::as_slice));
    super::verified::key(&parts)
}

impl Memo {
    /// The remembered outcome for `key`, if any.
    pub fn get(&self, key: &[u8; 32]) -> Option<Entry> {
        self.0.lock().ok().and_then(|m| m.get(key).cloned())
    }

    /// Remember `entry` for `key`.
    pub fn put(&self, key: [u8; 32], entry: &Entry) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= MAX_ENTRIES {
                m.clear();
            }
            m.insert(key, entry.clone());
        }
    }
}
