//! Fixity on the way out: a record's bytes are handed to a reader (HTTP download, `archive get`,
//! adding a joint seal) only after their SHA-256 equals the digest stored with the record, so a
//! pack changed on disk is reported, never served. The audit checks the same thing for every
//! record at once (`audit`, DA/T 70 完整性); this is the per-read check.
//!
//! Knows records and their stored bytes; knows nothing of HTTP or PDF.

use super::store::{hex, Archive, Record};
use crate::error::{ArchiveError, Result};

impl Archive {
    /// The record's exact bytes, or [`ArchiveError::Fixity`] when their SHA-256 (or length) is no
    /// longer what was recorded at ingest.
    pub fn verified_bytes(&self, rec: &Record) -> Result<Vec<u8>> {
        let bytes = self.bytes(rec)?;
        let found = hex(&crate::pades::cms::sha256(&bytes));
        let size_ok = u64::try_from(bytes.len()).is_ok_and(|n| n == rec.size);
        if !found.eq_ignore_ascii_case(&rec.sha256) || !size_ok {
            return Err(
                ArchiveError::Fixity { id: rec.id.clone(), expected: rec.sha256.clone(), found }.into()
            );
        }
        Ok(bytes)
    }
}
