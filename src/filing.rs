//! Filing documents into the archive: verify them, derive DA/T 46 / GB/T 36903 metadata from the
//! verification report, append (one sled transaction each), flush once per batch (group commit),
//! then sign a new tree head. Also the document checks the audit re-runs.
//!
//! The one place where `verify` and `archive` meet.

use std::time::SystemTime;

use crate::archive::{audit, checkpoint, highwater, merkle, Archive, Metadata, Record};
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

/// Sign and store a checkpoint for the archive's current size. The log key first checks the tree
/// extends the newest head it ever signed (its high-water mark, kept outside the archive) and
/// records the new mark durably before the signature is released; every published head is kept.
pub fn sign_tree_head(home: &Home, archive: &Archive) -> Result<String> {
    let size = archive.size();
    let root = archive.root(size).ok_or_else(|| ArchiveError::Store("log nodes missing".into()))?;
    let key = checkpoint::load_or_create_key(&log_key_path(home))?;
    let state = log_state_path(home);
    let mark = highwater::load(&state)?;
    if let Some(m) = &mark {
        highwater::check(archive, size, m)?;
    }
    let new = highwater::Mark { size, root };
    if mark != Some(new) {
        highwater::store(&state, &new)?;
    }
    archive.set_signed_floor(Some(new));
    let now = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0);
    let note =
        checkpoint::sign_timed(&checkpoint::Checkpoint { origin: origin(home)?, size, root }, now, &key);
    let mut kept = size.to_be_bytes().to_vec();
    kept.extend_from_slice(&root);
    // The first head kept for a size stays: its clock cosignature is the earliest proof of
    // existence for the leaves it includes (`archive::evidence`); re-signing must not move it later.
    archive
        .checkpoints
        .compare_and_swap(kept, None as Option<&[u8]>, Some(note.as_bytes()))
        .map_err(|e| ArchiveError::Store(e.to_string()))?
        .ok();
    archive.meta.insert("checkpoint", note.as_bytes()).map_err(|e| ArchiveError::Store(e.to_string()))?;
    archive.flush()?;
    Ok(note)
}

fn signed_size(home: &Home, archive: &Archive) -> Option<u64> {
    let (note, vkey) = tree_head(home, archive).ok()?;
    checkpoint::open(&note, &vkey).ok().map(|c| c.size)
}

/// The latest signed tree head and the verifier key to check it.
pub fn tree_head(home: &Home, archive: &Archive) -> Result<(String, String)> {
    let note = archive
        .meta
        .get("checkpoint")
        .map_err(|e| ArchiveError::Store(e.to_string()))?
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default();
    let key = checkpoint::load_or_create_key(&log_key_path(home))?;
    Ok((note, checkpoint::verifier_key(&origin(home)?, &key)))
}

/// The verifier key of the home's log key, without creating a key (`archive tree-head` prints it).
pub fn log_verifier_key(home: &Home) -> Result<String> {
    let path = log_key_path(home);
    if !path.exists() {
        return Err(ArchiveError::BadProof(
            "this home has no archive log key yet (nothing was filed)".into(),
        )
        .into());
    }
    Ok(checkpoint::verifier_key(&origin(home)?, &checkpoint::load_or_create_key(&path)?))
}

/// The archive's own proof of existence for a record's exact `bytes`: the earliest timestamped
/// checkpoint that includes its leaf (the audit trusts its own log key).
fn archive_poe(archive: &Archive, vkey: &str, bytes: &[u8]) -> Option<crate::archive::evidence::Proven> {
    let sha = crate::pades::cms::sha256(bytes);
    let id = archive.by_hash.get(crate::archive::store::hex(&sha)).ok()??;
    let rec = archive.get(&String::from_utf8_lossy(&id)).ok()?;
    let (size, _, time) = crate::archive::evidence::earliest_timed_head(archive, rec.leaf_index, vkey)?;
    Some(crate::archive::evidence::Proven {
        record: rec.id,
        content_sha256: sha,
        time: i64::try_from(time).ok()?,
        tree_size: size,
    })
}

/// The evidence record of record `id` (`archive::evidence`), checkable offline.
pub fn evidence(home: &Home, archive: &Archive, id: &str) -> Result<crate::archive::evidence::Evidence> {
    let (_, vkey) = tree_head(home, archive)?;
    crate::archive::evidence::build(archive, id, &vkey)
}

/// Inclusion proof JSON for a record, checkable offline with `check_proof`.
pub fn proof(home: &Home, archive: &Archive, id: &str) -> Result<serde_json::Value> {
    let rec = archive.get(id)?;
    let (note, vkey) = tree_head(home, archive)?;
    let cp = checkpoint::open(&note, &vkey)?;
    let path = merkle::inclusion_proof(archive, rec.leaf_index, cp.size)
        .ok_or_else(|| ArchiveError::Store("cannot build the proof".into()))?;
    Ok(serde_json::json!({
        "record": id,
        "leaf_index": rec.leaf_index,
        "leaf_hash": crate::archive::store::hex(&merkle::hash_leaf(&rec.entry())),
        "entry": String::from_utf8_lossy(&rec.entry()),
        "tree_size": cp.size,
        "inclusion_path": path.iter().map(|h| crate::archive::store::hex(h)).collect::<Vec<_>>(),
        "checkpoint": note,
        "verifier_key": vkey,
    }))
}

/// Consistency proof between `old` and the current signed size.
pub fn consistency(home: &Home, archive: &Archive, old: u64) -> Result<serde_json::Value> {
    let (note, vkey) = tree_head(home, archive)?;
    let cp = checkpoint::open(&note, &vkey)?;
    let proof = merkle::consistency_proof(archive, old, cp.size)
        .ok_or_else(|| ArchiveError::BadProof(format!("old size {old} must be 1..={}", cp.size)))?;
    let old_root = archive.root(old).ok_or_else(|| ArchiveError::Store("log nodes missing".into()))?;
    Ok(serde_json::json!({
        "old_size": old, "old_root": crate::archive::store::hex(&old_root),
        "new_size": cp.size, "new_root": crate::archive::store::hex(&cp.root),
        "consistency_path": proof.iter().map(|h| crate::archive::store::hex(h)).collect::<Vec<_>>(),
        "checkpoint": note, "verifier_key": vkey,
    }))
}

/// Check an inclusion or consistency proof JSON offline (checkpoint signature included). With
/// `trusted_key`, the checkpoint must be signed by that key, not merely the one in the file.
pub fn check_proof(v: &serde_json::Value, trusted_key: Option<&str>) -> Result<String> {
    let bad = |m: &str| ArchiveError::BadProof(m.to_string());
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).ok_or_else(|| bad(&format!("missing `{k}`")));
    let n = |k: &str| v.get(k).and_then(|x| x.as_u64()).ok_or_else(|| bad(&format!("missing `{k}`")));
    let hashes = |k: &str| -> Result<Vec<merkle::Hash>> {
        v.get(k)
            .and_then(|x| x.as_array())
            .ok_or_else(|| bad(&format!("missing `{k}`")))?
            .iter()
            .map(|h| h.as_str().and_then(crate::hex::decode32).ok_or_else(|| bad("bad hash").into()))
            .collect()
    };
    let cp = checkpoint::open(s("checkpoint")?, trusted_key.unwrap_or(s("verifier_key")?))?;
    if let Ok(path) = hashes("inclusion_path") {
        let entry = s("entry")?;
        // The receipt's record is the one the checked leaf names (entry line 2), not a free field.
        let mut lines = entry.split('\n');
        if lines.next() != Some(crate::archive::store::ENTRY_VERSION) {
            return Err(bad("the entry is not a zhengyin-archive/v1 leaf entry").into());
        }
        if lines.next() != Some(s("record")?) {
            return Err(bad("`record` is not the record the entry names").into());
        }
        let leaf = merkle::hash_leaf(entry.as_bytes());
        if let Some(h) = v.get("leaf_hash") {
            if h.as_str().and_then(crate::hex::decode32) != Some(leaf) {
                return Err(bad("`leaf_hash` is not the hash of `entry`").into());
            }
        }
        let (index, size) = (n("leaf_index")?, n("tree_size")?);
        if size != cp.size {
            return Err(bad("tree_size differs from the checkpoint").into());
        }
        return if merkle::verify_inclusion(&leaf, index, size, &path, &cp.root) {
            Ok(format!(
                "inclusion proof OK: record {} is leaf {index} of the signed tree of size {size}",
                s("record")?
            ))
        } else {
            Err(bad("inclusion proof does not lead to the signed root").into())
        };
    }
    let path = hashes("consistency_path")?;
    let old_root = crate::hex::decode32(s("old_root")?).ok_or_else(|| bad("bad old_root"))?;
    let (old, new) = (n("old_size")?, n("new_size")?);
    if new != cp.size {
        return Err(bad("new_size differs from the checkpoint").into());
    }
    if merkle::verify_consistency(old, new, &old_root, &cp.root, &path) {
        Ok(format!("consistency proof OK: size {old} is a prefix of the signed tree of size {new}"))
    } else {
        Err(bad("consistency proof does not verify").into())
    }
}

/// Run the DA/T 70 audit with signature re-verification and PDF usability checks.
pub fn run_audit(
    home: &Home,
    sample: Option<usize>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<audit::AuditReport> {
    let archive = open_archive(home)?;
    run_audit_in(home, &archive, sample, progress)
}

/// [`run_audit`] on an archive the caller holds open.
pub fn run_audit_in(
    home: &Home,
    archive: &Archive,
    sample: Option<usize>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<audit::AuditReport> {
    crate::pki::crl::refresh_due(home);
    let trust = TrustStore::from_home(home)?;
    let signed = match tree_head(home, archive) {
        Ok((note, vkey)) if !note.is_empty() => checkpoint::open(&note, &vkey).ok().map(|c| (c.size, c.root)),
        _ => None,
    };
    let vkey = tree_head(home, archive).ok().map(|(_, k)| k);
    let check = |bytes: &[u8]| -> (std::result::Result<(), String>, std::result::Result<(), String>) {
        // Tokens and JSON log entries of the no-proof workflows (src/proofs) are not PDFs.
        if let Some(r) = crate::proofs::audit_check(bytes, &trust) {
            return r;
        }
        let usable = match crate::pades::parse::load(bytes) {
            Ok(doc) if doc.get_pages().is_empty() => Err("the PDF has no pages".to_string()),
            Ok(doc) => match doc.extract_text(&[1]) {
                Ok(t) if !t.trim().is_empty() => Ok(()),
                _ => Err("no text can be extracted from page 1".to_string()),
            },
            Err(e) => Err(format!("the PDF does not parse: {e}")),
        };
        // The archive's own log is proof of existence for its records (ETSI EN 319 102-1 §5.6):
        // a seal whose certificate has since expired or was revoked later still verifies.
        // Looked up only when the seals do not verify today (most records need no past validation).
        let verified = crate::verify::verify(bytes, &trust, SystemTime::now()).and_then(|r| {
            match vkey.as_deref().filter(|_| !r.passed()).and_then(|k| archive_poe(archive, k, bytes)) {
                Some(poe) => {
                    let options = crate::verify::Options { evidence: vec![poe] };
                    crate::verify::verify_opts(bytes, &trust, SystemTime::now(), &options)
                }
                None => Ok(r),
            }
        });
        let authentic = match verified {
            Ok(r) if r.passed() => Ok(()),
            Ok(r) => Err(format!(
                "signatures no longer verify: {}{}",
                r.indication.as_str(),
                r.sub_indication.map(|s| format!(" / {s}")).unwrap_or_default()
            )),
            Err(e) => Err(format!("cannot verify: {e}")),
        };
        (authentic, usable)
    };
    let (published, unreadable) = published_heads(home, archive)?;
    let mut report = audit::audit(archive, signed, &published, &check, sample, progress);
    for reason in unreadable {
        report.problems.push(audit::Problem { record: "log".into(), property: "secure", reason });
    }
    // Every lifecycle transition has its sealed version, and the status index says what the log says.
    for (record, reason) in crate::licence::status_audit::audit(archive) {
        report.problems.push(audit::Problem { record, property: "intact", reason });
    }
    report.clean = report.problems.is_empty();
    Ok(report)
}

/// Every tree head the log key is known to have signed: each kept checkpoint (its signature
/// checked), the latest one, and the key's high-water mark (outside the archive, so a restored
/// copy cannot hide it). Second: reasons for kept checkpoints that do not verify.
/// A note whose signature lines are not exactly the log key's signature and, when present, its
/// valid clock cosignature: a line was altered (the time a proof of existence rests on) or added.
fn clock_broken(note: &str, vkey: &str) -> bool {
    let lines = note.split_once("\n\n").map(|(_, sigs)| sigs.lines().filter(|l| !l.is_empty()).count());
    let expected = 1 + usize::from(checkpoint::cosigned_time(note, vkey).is_some());
    lines.is_some_and(|n| n != expected)
}

/// Published tree heads (source, size, root).
type Heads = Vec<(String, u64, merkle::Hash)>;

fn published_heads(home: &Home, archive: &Archive) -> Result<(Heads, Vec<String>)> {
    let (latest, vkey) = tree_head(home, archive)?;
    let (mut heads, mut bad) = (Vec::new(), Vec::new());
    let kept = archive.checkpoints.iter().map(|kv| {
        kv.map(|(k, v)| {
            (
                k.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()).map_or(u64::MAX, u64::from_be_bytes),
                String::from_utf8_lossy(&v).into_owned(),
            )
        })
    });
    for kv in kept {
        let (size, note) = kv.map_err(|e| ArchiveError::Store(e.to_string()))?;
        match checkpoint::open(&note, &vkey) {
            Ok(_) if clock_broken(&note, &vkey) => {
                bad.push(format!("kept tree head of size {size}: its clock cosignature does not verify"))
            }
            Ok(c) if c.size == size => {
                heads.push((format!("published tree head of size {size}"), c.size, c.root))
            }
            Ok(c) => bad.push(format!("kept tree head filed under size {size} says size {}", c.size)),
            Err(e) => bad.push(format!("kept tree head of size {size} does not verify: {e}")),
        }
    }
    if let Ok(c) = checkpoint::open(&latest, &vkey) {
        heads.push(("the latest signed tree head".into(), c.size, c.root));
    }
    if clock_broken(&latest, &vkey) {
        bad.push("the latest signed tree head: its clock cosignature does not verify".into());
    }
    match highwater::load(&log_state_path(home)) {
        Ok(Some(m)) => heads.push(("the log key's newest signature (log.state)".into(), m.size, m.root)),
        Ok(None) => {}
        Err(e) => bad.push(e.to_string()),
    }
    Ok((heads, bad))
}
