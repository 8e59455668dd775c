//! SHA-256 of documents that begin with the same bytes, without hashing those bytes again.
//!
//! Every licence of a bulk issuance starts with the same objects (the header and the batch's
//! shared font subset: ~41 KB of ~80 KB), and each is hashed twice (the seal's byte range, then
//! the self-check's pass that also gives the archive's fixity value). SHA-256 reads its input in
//! order, so the state after a common prefix is the same for all of them: it is computed once,
//! kept, and resumed for any document that begins — compared byte for byte — with that prefix.
//! The digest is exactly the one hashing from the start gives; only the work is saved.
//!
//! The prefix is learned from two consecutive different documents: their common leading bytes,
//! less the last [`COINCIDENCE`] (bytes that only happen to agree, such as the first digits of a
//! /Length that differs), rounded down to [`STEP`], when that is at least [`MIN_PREFIX`]. It is
//! learned again when documents stop matching it.
//!
//! Knows bytes and SHA-256; nothing of PDF.

use std::sync::{Arc, Mutex};

use ring::digest::{Context, SHA256};

/// Shorter common prefixes are not worth keeping.
const MIN_PREFIX: usize = 4 * 1024;
/// Common bytes dropped from the end of a learned prefix.
const COINCIDENCE: usize = 64;
/// A learned prefix is a multiple of this.
const STEP: usize = 4 * 1024;
/// At most this much of a document is kept to learn a prefix from.
const MAX_PREFIX: usize = 256 * 1024;

/// A prefix and the SHA-256 state after it.
struct Known {
    prefix: Vec<u8>,
    state: Context,
}

/// The prefix known, and the head of the last document that did not match it.
struct Memo(Mutex<Inner>);

struct Inner {
    known: Option<Arc<Known>>,
    /// The leading bytes of the last document that did not match `known`.
    last: Vec<u8>,
}

/// The memo all sealing in the process shares.
static SHARED: Memo = Memo::new();

/// A SHA-256 context that has absorbed `data`: the same state as `Context::new` + `update(data)`.
pub fn context_after(data: &[u8]) -> Context {
    SHARED.context_after(data)
}

impl Memo {
    const fn new() -> Memo {
        Memo(Mutex::new(Inner { known: None, last: Vec::new() }))
    }

    fn context_after(&self, data: &[u8]) -> Context {
        let known = self.0.lock().unwrap_or_else(|p| p.into_inner()).known.clone();
        if let Some(k) = known.filter(|k| data.starts_with(&k.prefix)) {
            let mut ctx = k.state.clone();
            ctx.update(data.get(k.prefix.len()..).unwrap_or_default());
            return ctx;
        }
        self.learn(data);
        let mut ctx = Context::new(&SHA256);
        ctx.update(data);
        ctx
    }

    /// Keep the prefix `data` shares with the last unmatched document, or remember `data`'s head.
    fn learn(&self, data: &[u8]) {
        let mut memo = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let common = memo.last.iter().zip(data).take_while(|(a, b)| a == b).count();
        if !memo.last.is_empty() && common == memo.last.len().min(data.len()) {
            // The same document again (a seal's hash, then its self-check): nothing to learn yet.
            return;
        }
        let common = common.saturating_sub(COINCIDENCE) / STEP * STEP;
        match data.get(..common).filter(|p| p.len() >= MIN_PREFIX) {
            Some(prefix) => {
                let mut state = Context::new(&SHA256);
                state.update(prefix);
                memo.known = Some(Arc::new(Known { prefix: prefix.to_vec(), state }));
                memo.last = Vec::new();
            }
            None => {
                memo.last.clear();
                memo.last.extend_from_slice(data.get(..MAX_PREFIX.min(data.len())).unwrap_or_default());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(parts: &[&[u8]]) -> Vec<u8> {
        let mut ctx = Context::new(&SHA256);
        parts.iter().for_each(|p| ctx.update(p));
        ctx.finish().as_ref().to_vec()
    }

    fn resumed(memo: &Memo, data: &[u8], more: &[u8]) -> Vec<u8> {
        let mut ctx = memo.context_after(data);
        ctx.update(more);
        ctx.finish().as_ref().to_vec()
    }

    /// Documents sharing a prefix, documents that do not, one that is shorter than the prefix,
    /// a prefix of any length (not a multiple of the 64-byte block), a change in the last byte
    /// of the prefix: every digest equals plain SHA-256 of the same bytes, and after two
    /// documents with a common head the prefix is known and used.
    #[test]
    fn every_digest_equals_plain_sha256() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut noise = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect()
        };
        let memo = Memo::new();
        let head = noise(41_031);
        for i in 0..40usize {
            let doc = match i % 5 {
                0..=2 => [head.as_slice(), &noise(1000 + i)].concat(),
                3 => noise(50_000),
                _ => head.get(..(i * 997) % head.len()).unwrap_or_default().to_vec(),
            };
            let mut changed = doc.clone();
            if let Some(b) = changed.get_mut(head.len().saturating_sub(1)) {
                *b ^= 1;
            }
            for d in [&doc, &changed] {
                let tail = noise(i);
                assert_eq!(resumed(&memo, d, &tail), plain(&[d, &tail]), "document {i}");
            }
            if i == 2 {
                // Learned from the first two documents: the shared head, to a 4 KiB boundary.
                let known = memo.0.lock().expect("memo").known.clone();
                assert!(known.is_some_and(|k| k.prefix.len() == 40_960 && head.starts_with(&k.prefix)));
            }
        }
    }
}
