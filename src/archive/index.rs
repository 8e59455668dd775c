//! Secondary indexes of the archive, so no request reads every record: licence identifier →
//! records, holder code → records, kind → records, renewed record → its renewals. One sled tree, `index`, keyed
//! `tag ‖ value ‖ 0x00 ‖ leaf index (u64 big-endian)` → record id, so a prefix scan returns a
//! value's records in log order. Entries are written in the same transaction as the record
//! (`ingest`), checked by the audit ([`missing`]), and built once for an archive made before
//! them ([`Archive::ensure_index`]).
//!
//! Knows records and their metadata only. Values that are empty or hold a NUL byte are not
//! indexed (a NUL would let one value's prefix match another's keys).

use super::store::{db_err, Archive, Record};
use crate::error::Result;

/// The index format; an archive whose `meta` lacks it (or holds another) is indexed again.
/// 2: adds `Renews` (an archive indexed at 1 gains those entries when opened).
const VERSION: &[u8] = b"2";
const VERSION_KEY: &str = "index_version";

/// What a key indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// The licence identifier (GB/T 36904), or a commitment's id.
    Identifier,
    /// The holder code (a keyed hash of a person's ID, or a company's USCC).
    Holder,
    /// The record kind (licence, proof, use-record, commitment-record, …).
    Kind,
    /// The id of the record a renewal re-timestamps (`archive renew`): finds its renewals.
    Renews,
}

impl By {
    fn tag(self) -> u8 {
        match self {
            By::Identifier => b'i',
            By::Holder => b'h',
            By::Kind => b'k',
            By::Renews => b'r',
        }
    }

    fn value(self, rec: &Record) -> &str {
        match self {
            By::Identifier => &rec.metadata.identifier,
            By::Holder => &rec.metadata.holder_code,
            By::Kind => &rec.metadata.kind,
            By::Renews => &rec.metadata.renews,
        }
    }
}

const ALL: [By; 4] = [By::Identifier, By::Holder, By::Kind, By::Renews];

fn indexable(value: &str) -> bool {
    !value.is_empty() && !value.as_bytes().contains(&0)
}

fn prefix(by: By, value: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(value.len() + 10);
    k.push(by.tag());
    k.extend_from_slice(value.as_bytes());
    k.push(0);
    k
}

/// The index keys of `rec` (each maps to its id).
pub(super) fn keys(rec: &Record) -> Vec<Vec<u8>> {
    ALL.iter()
        .filter(|by| indexable(by.value(rec)))
        .map(|&by| {
            let mut k = prefix(by, by.value(rec));
            k.extend_from_slice(&rec.leaf_index.to_be_bytes());
            k
        })
        .collect()
}

/// What the audit reports about `rec`'s index entries: each missing or naming another record.
pub(super) fn missing(archive: &Archive, rec: &Record) -> Vec<String> {
    keys(rec)
        .into_iter()
        .zip(ALL.iter().filter(|by| indexable(by.value(rec))))
        .filter_map(|(k, by)| match archive.index.get(&k) {
            Ok(Some(id)) if id.as_ref() == rec.id.as_bytes() => None,
            Ok(Some(_)) => Some(format!("the {by:?} index names another record at this leaf")),
            Ok(None) => Some(format!("the {by:?} index lacks this record")),
            Err(e) => Some(format!("the {by:?} index cannot be read: {e}")),
        })
        .collect()
}

/// Whether a readable record renews `id` (its `Renews` entry names a record whose `renews` is
/// `id`): the audit's question for a record whose newest timestamp has ended, asked of the index
/// so the audit keeps no set of renewed ids.
pub(super) fn renewed(archive: &Archive, id: &str) -> bool {
    indexable(id)
        && archive.index.scan_prefix(prefix(By::Renews, id)).values().any(|v| {
            v.ok().is_some_and(|r| {
                archive.get(&String::from_utf8_lossy(&r)).is_ok_and(|r| r.metadata.renews == id)
            })
        })
}

impl Archive {
    /// The records whose `by` value is `value`, in log order (unreadable ones are errors).
    pub fn find(&self, by: By, value: &str) -> Result<Vec<Record>> {
        self.find_iter(by, value).collect()
    }

    /// [`Archive::find`] one record at a time, for callers that stop early or must not hold a
    /// value's records at once (the audit).
    pub fn find_iter(&self, by: By, value: &str) -> impl Iterator<Item = Result<Record>> + '_ {
        let scan = indexable(value).then(|| self.index.scan_prefix(prefix(by, value)).values());
        scan.into_iter().flatten().map(|id| {
            let id = id.map_err(db_err)?;
            self.get(&String::from_utf8_lossy(&id))
        })
    }

    /// Build the index of an archive made before it (or after a format change): one pass over
    /// the records, once. Unreadable records are skipped (the audit reports them).
    pub(super) fn ensure_index(&self) -> Result<()> {
        if self.meta.get(VERSION_KEY).map_err(db_err)?.as_deref() == Some(VERSION) {
            return Ok(());
        }
        // In batches, so memory does not grow with the archive; the version is written last, so
        // an interrupted build is simply done again (the entries are idempotent).
        let mut batch = sled::Batch::default();
        for (n, rec) in self.records_iter().filter_map(|r| r.ok()).enumerate() {
            for k in keys(&rec) {
                batch.insert(k, rec.id.as_bytes());
            }
            if n % 10_000 == 9_999 {
                self.index.apply_batch(std::mem::take(&mut batch)).map_err(db_err)?;
            }
        }
        self.index.apply_batch(batch).map_err(db_err)?;
        self.meta.insert(VERSION_KEY, VERSION).map_err(db_err)?;
        self.db.flush().map_err(db_err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::By;
    use crate::archive::{Archive, Metadata};

    fn meta(kind: &str, identifier: &str, holder: &str) -> Metadata {
        Metadata {
            kind: kind.into(),
            identifier: identifier.into(),
            holder_code: holder.into(),
            ..Default::default()
        }
    }

    /// Lookups return exactly the records with that value, in log order, also after reopening,
    /// and a value that is a prefix of another's does not match it.
    #[test]
    fn lookups_by_identifier_holder_and_kind() {
        let dir = tempfile::tempdir().unwrap();
        {
            let a = Archive::open(dir.path()).unwrap();
            a.append(b"v1", meta("licence", "ID.001", "H1")).unwrap();
            a.append(b"use", meta("use-record", "ID.001", "H1")).unwrap();
            a.append(b"other", meta("licence", "ID.0011", "H2")).unwrap();
            a.append(b"v2", meta("licence", "ID.001", "H1")).unwrap();
            a.flush().unwrap();
        }
        let a = Archive::open(dir.path()).unwrap();
        let leaves = |v: Vec<crate::archive::Record>| v.iter().map(|r| r.leaf_index).collect::<Vec<_>>();
        assert_eq!(leaves(a.find(By::Identifier, "ID.001").unwrap()), vec![0, 1, 3]);
        assert_eq!(leaves(a.find(By::Holder, "H2").unwrap()), vec![2]);
        assert_eq!(leaves(a.find(By::Kind, "licence").unwrap()), vec![0, 2, 3]);
        assert!(a.find(By::Identifier, "ID.00").unwrap().is_empty());
        assert!(a.find(By::Identifier, "").unwrap().is_empty());
    }

    /// An archive whose index was lost (or made before it) is indexed again when opened.
    #[test]
    fn index_is_rebuilt_when_missing() {
        let dir = tempfile::tempdir().unwrap();
        {
            let a = Archive::open(dir.path()).unwrap();
            a.append(b"v1", meta("licence", "ID.001", "H1")).unwrap();
            a.index.clear().unwrap();
            a.meta.remove(super::VERSION_KEY).unwrap();
            a.flush().unwrap();
        }
        let a = Archive::open(dir.path()).unwrap();
        assert_eq!(a.find(By::Holder, "H1").unwrap().len(), 1);
    }

    /// An archive indexed at version 1 (no `Renews` entries) gains them when opened, so the
    /// audit finds its renewals.
    #[test]
    fn version_1_index_gains_renewals_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let old;
        {
            let a = Archive::open(dir.path()).unwrap();
            old = a.append(b"v1", meta("licence", "ID.001", "H1")).unwrap().0;
            let renewal = Metadata { renews: old.id.clone(), ..meta("licence", "ID.001", "H1") };
            a.append(b"v1 stamped", renewal).unwrap();
            for k in a.index.scan_prefix(b"r").keys() {
                a.index.remove(k.unwrap()).unwrap();
            }
            a.meta.insert(super::VERSION_KEY, b"1".as_slice()).unwrap();
            a.flush().unwrap();
            assert!(!super::renewed(&a, &old.id));
        }
        let a = Archive::open(dir.path()).unwrap();
        assert_eq!(a.find(By::Renews, &old.id).unwrap().len(), 1);
        assert!(super::renewed(&a, &old.id));
    }
}
