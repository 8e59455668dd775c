//! DA/T 70 four-property audit over the archive: authentic (signatures re-verify; the record is in
//! the log at its index), intact (fixity), usable (the document parses and its text extracts),
//! secure (the log root recomputed from the leaves equals the signed tree head; no record outside
//! the log; no leaf without its record). Every problem names the record and the reason.
//! Over time, authentic also means: the newest document timestamp of every current record (one no
//! later record renews) is inside its TSA certificate's validity (PAdES B-LTA; `archive renew`).
//!
//! Document checks come from the caller (`DocCheck`), so this module never parses PDF.

use serde::Serialize;

use super::merkle::{self, Hash, NodeSource};
use super::store::{Archive, Record};
use crate::hex::encode as hex;

/// Checks on a document's bytes supplied by the caller: (authentic, usable), each Err(reason).
pub type DocCheck<'a> = &'a dyn Fn(&[u8]) -> (Result<(), String>, Result<(), String>);

#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// Record id, or `log` for problems of the log itself.
    pub record: String,
    /// authentic | intact | usable | secure
    pub property: &'static str,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    pub records: usize,
    pub checked: usize,
    pub log_size: u64,
    pub bytes_checked: u64,
    pub problems: Vec<Problem>,
    pub clean: bool,
}

/// Run the audit. `sample`: re-verify only every k-th record's document (fixity is always checked).
/// `published`: every tree head the log key is known to have signed, as (label, size, root) —
/// each must be a prefix of the log as it is now (RFC 9162 consistency), or the log forked or was
/// rolled back.
pub fn audit(
    archive: &Archive,
    signed_root: Option<(u64, Hash)>,
    published: &[(String, u64, Hash)],
    doc_check: DocCheck<'_>,
    sample: Option<usize>,
    progress: &mut dyn FnMut(usize, usize),
) -> AuditReport {
    let mut problems = Vec::new();
    let mut p = |record: &str, property: &'static str, reason: String| {
        problems.push(Problem { record: record.into(), property, reason })
    };
    // Records are read one at a time and the log's leaves streamed in order (`logscan`): the
    // audit's own memory does not grow with the archive, only the list of problems found.
    let total = archive.records.len();
    // The size is read from the store, so it is untrusted: bound every loop over it by what is
    // really stored (a flipped byte must not make the audit walk 2⁶⁴ leaves).
    let (stored_size, leaves_stored) = (archive.size(), archive.stored_leaves());
    let size = stored_size.min(leaves_stored.max(total as u64));
    if size != stored_size {
        p("log", "secure", format!("the stored log size {stored_size} exceeds the {leaves_stored} stored leaves and {total} records: the size is corrupt"));
    }
    let step = sample.map(|n| (total / n.max(1)).max(1)).unwrap_or(1);
    let (mut checked, mut bytes_checked) = (0usize, 0u64);
    // Records whose leaf is the one stored at their index: distinct leaves, since the leaf
    // entry names the record's id. Fewer than `size`: look for leaves without a record.
    let mut matched = 0u64;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for (i, e) in archive.records_iter().enumerate() {
        progress(i + 1, total);
        let rec: Record = match e {
            Ok(r) => r,
            Err(err) => {
                let id = match &err {
                    crate::Error::Archive(crate::error::ArchiveError::Corrupt { id, .. }) => id.clone(),
                    _ => "?".into(),
                };
                p(&id, "intact", err.to_string());
                continue;
            }
        };
        if let Some(reason) = timestamp_ended(archive, &rec, now) {
            p(&rec.id, "authentic", reason);
        }
        // Secure/authentic: the record's leaf is the one stored at its index.
        if rec.leaf_index >= size {
            p(
                &rec.id,
                "secure",
                format!("record outside the log (index {} ≥ log size {size})", rec.leaf_index),
            );
        } else if archive.stored().node(0, rec.leaf_index) != Some(merkle::hash_leaf(&rec.entry())) {
            p(
                &rec.id,
                "authentic",
                format!(
                    "record or its metadata differs from log leaf {} (or another record holds it)",
                    rec.leaf_index
                ),
            );
        } else {
            matched += 1;
        }
        // Secure: the deduplication index points at this record (else identical bytes filed
        // later would be answered with another record).
        match archive.by_hash.get(rec.sha256.as_bytes()) {
            Ok(Some(id)) if id.as_ref() == rec.id.as_bytes() => {}
            Ok(Some(_)) => {
                p(&rec.id, "secure", "the by_hash index names another record for these bytes".into())
            }
            Ok(None) => p(&rec.id, "secure", "the by_hash index has no entry for these bytes".into()),
            Err(e) => p(&rec.id, "intact", format!("the by_hash index cannot be read: {e}")),
        }
        // Secure: the file as received (before filing stamped it) still finds a record of it.
        let received = &rec.metadata.received_sha256;
        if !received.is_empty() {
            let named = archive.by_hash.get(received.as_bytes()).map(|v| {
                v.map(|id| {
                    archive
                        .get(&String::from_utf8_lossy(&id))
                        .is_ok_and(|r| r.metadata.received_sha256 == *received)
                })
            });
            match named {
                Ok(Some(true)) => {}
                Ok(Some(false)) => p(&rec.id, "secure", "the by_hash entry of the file as received names a record of another file".into()),
                Ok(None) => p(&rec.id, "secure", "the by_hash index has no entry for the file as received (filing it again would file it twice)".into()),
                Err(e) => p(&rec.id, "intact", format!("the by_hash index cannot be read: {e}")),
            }
        }
        // Secure: the identifier, holder and kind indexes find this record (else lookups miss it).
        for reason in super::index::missing(archive, &rec) {
            p(&rec.id, "secure", reason);
        }
        // Intact: fixity.
        let bytes = match archive.bytes(&rec) {
            Ok(b) => b,
            Err(err) => {
                p(&rec.id, "intact", err.to_string());
                continue;
            }
        };
        bytes_checked += u64::try_from(bytes.len()).unwrap_or(0);
        let actual = hex(&crate::pades::cms::sha256(&bytes));
        if actual != rec.sha256 {
            p(
                &rec.id,
                "intact",
                format!(
                    "fixity mismatch: stored SHA-256 {}…, document now {}…",
                    rec.sha256.get(..16).unwrap_or(&rec.sha256),
                    actual.get(..16).unwrap_or_default()
                ),
            );
            continue;
        }
        if i % step == 0 {
            checked += 1;
            let (authentic, usable) = doc_check(&bytes);
            if let Err(r) = authentic {
                p(&rec.id, "authentic", r);
            }
            if let Err(r) = usable {
                p(&rec.id, "usable", r);
            }
        }
    }
    // Secure: every leaf has its record; the root from the leaves matches the signed tree head.
    if matched < size {
        for i in super::logscan::unclaimed(archive, size) {
            p("log", "secure", format!("log leaf {i} has no record (deleted?)"));
        }
    }
    let (recomputed, missing) = super::logscan::root_from_leaves(archive, size);
    for i in missing {
        p("log", "secure", format!("log leaf {i} is missing"));
    }
    // Straight from sled (not the in-memory memo of upper nodes), so a rewritten node is seen.
    if merkle::root(&archive.stored(), size) != Some(recomputed) {
        p(
            "log",
            "secure",
            "stored log nodes do not match the root recomputed from the leaves (a node was rewritten)".into(),
        );
    }
    match signed_root {
        Some((s, r)) if s == size && r != recomputed => p(
            "log",
            "secure",
            format!("root recomputed from the leaves differs from the signed tree head at size {s}"),
        ),
        Some((s, _)) if s != size => {
            p("log", "secure", format!("log size {size} differs from the last signed tree head ({s})"))
        }
        None if size > 0 => p("log", "secure", "no signed tree head".into()),
        _ => {}
    }
    let mut forks = 0usize;
    for (label, s, r) in published {
        let reason = if *s > size {
            format!("{label}: the log key signed size {s}, but the log holds {size} leaves (rolled back: restored from a copy, or the store lost its newest writes)")
        } else if *s == 0
            || merkle::consistency_proof(&archive.stored(), *s, size)
                .is_some_and(|proof| merkle::verify_consistency(*s, size, r, &recomputed, &proof))
        {
            continue;
        } else {
            let here =
                merkle::root(&archive.stored(), *s).map(|h| hex(&h)).unwrap_or_else(|| "missing".into());
            format!("{label} is not a prefix of the log: forked (signed root {} at size {s}, the log's root at that size is {here})", hex(r))
        };
        forks += 1;
        if forks <= 10 {
            p("log", "secure", reason);
        }
    }
    if forks > 10 {
        p(
            "log",
            "secure",
            format!("… and {} more published tree heads that the log does not extend", forks - 10),
        );
    }
    let clean = problems.is_empty();
    AuditReport { records: total, checked, log_size: size, bytes_checked, problems, clean }
}

/// Why `rec`'s newest document timestamp needs attention: its TSA certificate has ended (or its
/// end is unreadable) and no record renews it (asked of the `Renews` index, so no set of renewed
/// ids is kept). `None` when it has no timestamp end, or is fine.
fn timestamp_ended(archive: &Archive, rec: &Record, now: i64) -> Option<String> {
    let until = &rec.metadata.timestamp_until;
    if until.is_empty() {
        return None;
    }
    let end = time::OffsetDateTime::parse(until, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp());
    if end.is_ok_and(|e| e > now) || super::index::renewed(archive, &rec.id) {
        return None;
    }
    Some(format!("its newest document timestamp's TSA certificate ended at {until} and no renewal follows it (run `zhengyin archive renew` before the end)"))
}
