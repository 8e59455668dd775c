//! Filing documents into the archive: verify them, derive DA/T 46 / GB/T 36903 metadata from the
//! verification report, append (one sled transaction each), flush once per batch (group commit),
//! then sign a new tree head (`log`). The audit that re-runs the document checks is `audit`.
//!
//! The one place where `verify` and `archive` meet.

mod audit;
mod log;

pub use audit::{run_audit, run_audit_in};
use log::signed_size;
pub use log::{check_proof, consistency, evidence, log_verifier_key, proof, sign_tree_head, tree_head};

use std::time::SystemTime;

use crate::archive::{highwater, Archive, Metadata, Record};
use crate::config::Home;
use crate::document::LicenceMetadata;
use crate::error::{ArchiveError, Result};
use crate::trust::TrustStore;
use crate::verify::report::Report;

/// Where the archive lives in a home.
pub fn archive_dir(home: &Home) -> std::path::PathBuf {
    home.dir.join("archive")
}

fn log_key_path(home: &Home) -> std::path::PathBuf {
    home.private_dir().join("log.key.pem")
}

/// The log key's high-water mark (`crate::archive::highwater`), next to the key.
pub fn log_state_path(home: &Home) -> std::path::PathBuf {
    home.private_dir().join("log.state")
}

/// Open the home's archive — once per command or server — with the log key's signed floor set,
/// so a restored copy is never appended to.
pub fn open_archive(home: &Home) -> Result<Archive> {
    home.region()?;
    let archive = Archive::open(&archive_dir(home))?;
    // A damaged mark does not stop reading (the audit reports it); signing re-reads it and refuses.
    archive.set_signed_floor(highwater::load(&log_state_path(home)).ok().flatten());
    Ok(archive)
}

/// The log's origin line: `zhengyin/<region>/archive`.
pub fn origin(home: &Home) -> Result<String> {
    Ok(format!("zhengyin/{}/archive", home.region()?.region.id))
}

/// Metadata for a verified document.
pub fn metadata(report: &Report, kind: &str) -> Metadata {
    metadata_of(report, kind, false)
}

/// The PAdES baseline level a verified document reaches (ETSI EN 319 142-1 §6): B-LTA with a
/// valid document timestamp, B-LT when every seal is time-stamped and the file carries a DSS,
/// B-T when every seal is time-stamped, else B-B.
fn level(all_t: bool, has_dss: bool, timestamped: bool) -> String {
    let level = match (timestamped, all_t, has_dss) {
        (true, _, _) => return crate::lta::FORMAT_VERSION.into(),
        (false, true, true) => "B-LT",
        (false, true, false) => "B-T",
        _ => "B-B",
    };
    format!("PDF 1.7; ETSI EN 319 142-1 {level}")
}

fn metadata_of(report: &Report, kind: &str, has_dss: bool) -> Metadata {
    let l = report.licence.clone().unwrap_or_default();
    // B-LTA: until when the newest valid document timestamp can be validated offline (what
    // `archive renew` watches): its TSA certificate's end, or a year after its time (the root CRL
    // its DSS may carry is valid that long, `pki::crl::ROOT_VALIDITY_DAYS`), whichever is sooner.
    let newest = report
        .document_timestamps
        .iter()
        .rev()
        .find(|t| t.status == "PASSED")
        .and_then(|t| {
            let crl_end = t
                .time
                .as_deref()
                .and_then(|g| {
                    time::OffsetDateTime::parse(g, &time::format_description::well_known::Rfc3339).ok()
                })
                .map(|g| {
                    crate::trust::rfc3339(g.unix_timestamp() + crate::pki::crl::ROOT_VALIDITY_DAYS * 86_400)
                });
            match (t.tsa_valid_until.clone(), crl_end) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        })
        .unwrap_or_default();
    let all_t = !report.signatures.is_empty() && report.signatures.iter().all(|s| s.timestamp.is_some());
    let signers = report
        .signatures
        .iter()
        .map(|s| {
            s.department
                .as_ref()
                .map(|d| d.id.clone())
                .or_else(|| s.signer.as_ref().map(|x| x.subject.clone()))
                .unwrap_or_default()
        })
        .collect();
    Metadata {
        format_version: level(all_t, has_dss, !newest.is_empty()),
        timestamp_until: newest,
        verification: report.indication.as_str().to_string(),
        ..describe(l, kind, signers)
    }
}

/// The archive description of a document from its licence items, kind and signers.
fn describe(l: LicenceMetadata, kind: &str, signers: Vec<String>) -> Metadata {
    Metadata {
        kind: kind.to_string(),
        title: if l.zzmc.is_empty() { "未命名文件".into() } else { format!("{} {}", l.zzmc, l.czzt) },
        identifier: l.zzbs,
        holder: l.czzt,
        holder_code: l.czztdm,
        issuer: l.zzbfjg,
        issue_date: l.zzbfrq,
        valid_until: l.zzyxqjzrq,
        retention: "永久".into(),
        format: "PDF/PAdES".into(),
        signers,
        ..Default::default()
    }
}

/// The metadata [`verified_metadata`] gives a licence zhengyin has just sealed once, when it
/// verifies, derived from what was rendered instead of from a verification report: its items
/// `l`, its one seal by `signer` (time-stamped when `timestamped`), a DSS when `has_dss`, no
/// document timestamp. Bulk issuance files with it between full verifications, and checks on
/// every licence it verifies in full that both give the same (`licence::batch`).
pub fn sealed_metadata(
    l: LicenceMetadata,
    kind: &str,
    signer: &str,
    timestamped: bool,
    has_dss: bool,
) -> Metadata {
    Metadata {
        format_version: level(timestamped, has_dss, false),
        verification: crate::verify::report::Indication::TotalPassed.as_str().to_string(),
        ..describe(l, kind, vec![signer.to_string()])
    }
}

/// Result of filing one document.
pub struct Filed {
    pub record: Record,
    pub new: bool,
    /// The bytes as archived, when filing changed them (a document timestamp added, `lta`):
    /// what the caller hands out.
    pub archived: Option<Vec<u8>>,
}

/// How many documents one durable group of [`file_batch`] holds.
pub const GROUP: usize = 8;

/// Verify every document of `docs` (name, bytes), then file them in durable groups of [`GROUP`]:
/// after each group is flushed to disk, `durable` receives its records (the acknowledgement), so
/// a crash loses at most the unacknowledged group. One signed tree head at the end (a crash
/// before it leaves leaves the next write integrates). A refused document files nothing at all.
/// `progress(done, total)` is called as each document is verified, while the work runs.
pub fn file_batch(
    home: &Home,
    docs: &[(String, Vec<u8>)],
    kind: &str,
    progress: &mut dyn FnMut(usize, usize),
    durable: &mut dyn FnMut(&[Filed]),
) -> Result<Vec<Filed>> {
    let archive = open_archive(home)?;
    let trust = TrustStore::from_home(home)?;
    let mut verified = Vec::with_capacity(docs.len());
    for (i, (name, bytes)) in docs.iter().enumerate() {
        verified.push((bytes.as_slice(), verified_metadata(name, bytes, &trust, kind)?));
        progress(i + 1, docs.len());
    }
    let stamped =
        crate::lta::at_filing(home, &archive, verified.into_iter().map(|(b, m)| (b.to_vec(), m)).collect())?;
    let mut out = Vec::with_capacity(docs.len());
    let mut rest =
        stamped.iter().zip(docs).map(|((b, m), (_, orig))| (b.as_slice(), m.clone(), b != orig)).peekable();
    while rest.peek().is_some() {
        let group: Vec<(&[u8], Metadata, bool)> = rest.by_ref().take(GROUP).collect();
        let changed: Vec<Option<Vec<u8>>> = group.iter().map(|(b, _, c)| c.then(|| b.to_vec())).collect();
        let mut filed = append_verified(home, &archive, group.into_iter().map(|(b, m, _)| (b, m)).collect())?;
        for (f, c) in filed.iter_mut().zip(changed) {
            f.archived = c;
        }
        archive.flush()?;
        durable(&filed);
        out.extend(filed);
    }
    sign_tree_head(home, &archive)?;
    Ok(out)
}

/// Verify one document for filing: its archive metadata, or a refusal naming `name`.
pub fn verified_metadata(name: &str, bytes: &[u8], trust: &TrustStore, kind: &str) -> Result<Metadata> {
    let refused = |reason: String| ArchiveError::Refused { path: name.to_string(), reason };
    let report =
        crate::verify::verify(bytes, trust, SystemTime::now()).map_err(|e| refused(e.to_string()))?;
    if !report.passed() {
        return Err(refused(format!(
            "it does not verify ({}{})",
            report.indication.as_str(),
            report.sub_indication.map(|s| format!(" / {s}")).unwrap_or_default()
        ))
        .into());
    }
    Ok(metadata_of(&report, kind, has_dss(bytes)))
}

/// Whether the file has a /DSS key (the catalog's, PAdES B-LT); a byte search, as the level it
/// decides is descriptive.
pub fn has_dss(bytes: &[u8]) -> bool {
    // From the end: a DSS is written in the last updates.
    memchr::memmem::rfind_iter(bytes, b"/DSS").any(|at| matches!(bytes.get(at + 4), Some(b' ' | b'<')))
}

/// Append documents already checked by [`verified_metadata`] (or, for tokens and log entries,
/// checked by their maker). Not flushed: the caller flushes and signs the tree head once.
pub fn append_verified(home: &Home, archive: &Archive, batch: Vec<(&[u8], Metadata)>) -> Result<Vec<Filed>> {
    append_verified_hashed(home, archive, batch, None)
}

/// [`append_verified`]; with `sha256`, the caller's SHA-256 of each document (computed while
/// writing it: `archive renew`), which the archive then does not compute again.
pub fn append_verified_hashed(
    home: &Home,
    archive: &Archive,
    batch: Vec<(&[u8], Metadata)>,
    sha256: Option<&[[u8; 32]]>,
) -> Result<Vec<Filed>> {
    // A crash between a durable append and its tree head leaves leaves the head does not cover;
    // the next batch integrates them first (they are verified records: nothing is lost).
    if signed_size(home, archive) != Some(archive.size()) && archive.size() > 0 {
        sign_tree_head(home, archive)?;
    }
    let appended = match sha256 {
        Some(h) => archive.append_many_hashed(batch, h)?,
        None => archive.append_many(batch)?,
    };
    let out: Vec<Filed> =
        appended.into_iter().map(|(record, new)| Filed { record, new, archived: None }).collect();
    // The licence status index (licence/status.rs) follows every filed licence version.
    let records: Vec<Record> = out.iter().map(|f| f.record.clone()).collect();
    crate::licence::status::note_filed(archive, &records)?;
    Ok(out)
}

/// [`file_batch`] on an archive the caller holds open (sled allows one opener per process).
pub fn file_batch_in(
    home: &Home,
    archive: &Archive,
    docs: &[(String, Vec<u8>)],
    kind: &str,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Filed>> {
    crate::pki::crl::refresh_due(home);
    let trust = TrustStore::from_home(home)?;
    // Verify the whole batch before appending anything: a refused batch archives nothing.
    let verified = docs
        .iter()
        .map(|(name, bytes)| verified_metadata(name, bytes, &trust, kind))
        .collect::<Result<Vec<_>>>()?;
    // Licences issued or sealed here are filed as sealed (B-LT); `archive renew` adds their first
    // document timestamp (B-LTA). Ingested documents get theirs at filing (`file_batch`).
    let batch: Vec<(&[u8], Metadata)> = docs.iter().map(|(_, b)| b.as_slice()).zip(verified).collect();
    let out = append_verified(home, archive, batch)?;
    progress(docs.len(), docs.len());
    archive.flush()?;
    sign_tree_head(home, archive)?;
    Ok(out)
}
