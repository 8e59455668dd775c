//! Fixity on the way out: a record's bytes are handed to a reader (HTTP download, `archive get`,
//! adding a joint seal) only after their SHA-256 equals the digest stored with the record, so a
//! pack changed on disk is reported, never served. The audit checks the same thing for every
//! record at once (`audit`, DA/T 70 完整性); this is the per-read check.
//!
//! Knows records and their stored bytes; knows nothing of HTTP or PDF.

use super::store::{Archive, Record};
use crate::error::{ArchiveError, Result};
use crate::hex::encode as hex;

impl Archive {
    /// The record's exact bytes, or [`ArchiveError::Fixity`] when their SHA-256 (or length) is no
    /// longer what was recorded at ingest.
    pub fn verified_bytes(&self, rec: &Record) -> Result<Vec<u8>> {
        self.verified_bytes_hashed(rec, 0).map(|(bytes, _)| bytes)
    }

    /// [`verified_bytes`](Self::verified_bytes) with room for `spare` more bytes, and the SHA-256
    /// state over them, so that a caller appending to the record hashes only what it appends.
    pub fn verified_bytes_hashed(
        &self,
        rec: &Record,
        spare: usize,
    ) -> Result<(Vec<u8>, ring::digest::Context)> {
        let bytes = self.bytes_with_spare(rec, spare)?;
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(&bytes);
        let found = hex(ctx.clone().finish().as_ref());
        let size_ok = u64::try_from(bytes.len()).is_ok_and(|n| n == rec.size);
        if !found.eq_ignore_ascii_case(&rec.sha256) || !size_ok {
            return Err(
                ArchiveError::Fixity { id: rec.id.clone(), expected: rec.sha256.clone(), found }.into()
            );
        }
        Ok((bytes, ctx))
    }
}
