//! The single-track electronic archive (单套制): records (exact bytes, content-addressed, with
//! DA/T 46 / GB/T 36903 metadata and SHA-256 fixity) in sled, an RFC 9162 Merkle log over them,
//! signed tree heads as C2SP checkpoints, proofs, and DA/T 70 four-property audits.
//!
//! Files: `store` (trees, packs, reads), `ingest` (appending, group commit), `merkle` (RFC 9162
//! math), `frontier` (the log's right edge), `cache` (memo of upper log nodes for proofs),
//! `checkpoint` (signed tree heads, with a clock cosignature), `evidence` (RFC 4998-style
//! evidence records: inclusion path + timed checkpoint), `highwater` (the log key's signed-size mark), `audit`,
//! `index` (identifier, holder, kind and renewal lookups), `logscan` (the audit's streamed passes over the log), `open` (the store's boundary: locks, corruption, private modes), `fixity` (the digest check on
//! every read).
//!
//! Knows nothing of PDF layout: document checks during audit are passed in by the caller.
//! See docs/archive.md for the on-disk format and the leaf entry encoding.

pub mod audit;
mod cache;
pub mod checkpoint;
pub mod evidence;
mod fixity;
pub mod frontier;
pub mod highwater;
pub mod index;
mod ingest;
mod logscan;
pub mod merkle;
mod open;
pub mod store;

pub use open::{set_cache_bytes, ONE_PASS_CACHE_BYTES};
pub use store::{Archive, Metadata, Record};
