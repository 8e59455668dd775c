//! Bulk issuance (`zhengyin issue --template T --batch records.jsonl --out-dir DIR`): one licence
//! per line of a JSON-lines file, issued, sealed and verified on every core, archived in durable
//! groups (one flush per group), written as `DIR/NNNNNN.pdf` (the line number), with a resumable
//! journal (`journal`) so a killed run restarts where it stopped with no duplicates and no gaps.
//! A line that cannot be issued (not JSON, data the template refuses, …) is rejected with its
//! line number and reason, and nothing is issued for it.
//!
//! Knows the order of the durable steps; rendering is `issue::Prepared`, filing `crate::filing`.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use super::issue::Prepared;
use super::journal::{self, Done, Header, Journal};
use crate::archive::{Archive, Metadata};
use crate::config::Home;
use crate::document::font::SharedFont;
use crate::error::{DataError, Result};
use crate::hex::encode as hex;

/// A records file bigger than this is refused (it is read whole).
pub const MAX_RECORDS_FILE: u64 = 1 << 30;
/// A line longer than this is rejected without parsing.
pub const MAX_LINE: usize = 1 << 20;
/// Licences archived per durable group by default (`Batch::group`): one pending note, one TSA
/// ledger sync, one archive flush, one signed tree head and one done note per group.
pub const GROUP: usize = 128;
/// How far issuing may run ahead of archiving, per worker thread (bounds memory).
const AHEAD_PER_THREAD: usize = 64;
/// One line in this many (the first of each run) is verified in full before filing; the others
/// get `pades::self_check` (`--verify-all` verifies every one).
pub const VERIFY_EVERY: usize = 32;
/// Glyphs a font subset shared by consecutive lines may hold beyond the template's own that one
/// of its licences does not draw: each licence then carries at most this many glyphs it does not
/// draw (about 12 KB in the embedded font), and one subset serves many licences instead of one
/// subset and deflate each (`font_chunks`).
const SHARED_EXTRA: usize = 96;

/// What to issue.
pub struct Batch<'a> {
    pub template: &'a str,
    pub seal: Option<&'a str>,
    pub records: &'a Path,
    pub out_dir: &'a Path,
    pub threads: usize,
    /// Verify every licence in full before filing it (else one in [`VERIFY_EVERY`], and a
    /// self-check of each: `make`).
    pub verify_all: bool,
    /// Licences per durable group ([`GROUP`]): a kill loses at most the group in flight (its
    /// lines are issued again on resume); larger groups spread the per-group syncs and tree head
    /// over more licences.
    pub group: usize,
}

/// A line for which nothing was issued.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rejected {
    pub line: usize,
    pub reason: String,
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Lines issued by this run.
    pub issued: usize,
    /// Lines a killed run had archived, recovered from the archive by this one.
    pub recovered: usize,
    /// Lines finished by earlier runs.
    pub already: usize,
    pub rejected: Vec<Rejected>,
}

/// A licence made by a worker, not yet archived.
struct Made {
    line: usize,
    pdf: Vec<u8>,
    /// SHA-256 of `pdf`: journaled (hex) and handed to the archive, which does not hash again.
    sha256: [u8; 32],
    identifier: String,
    metadata: Metadata,
}

/// Issue the batch. `progress(done, total)` follows the lines this run works on; `ack` receives
/// each line once it is durable (archived, written, journaled).
pub fn issue_batch(
    home: &Home,
    b: &Batch<'_>,
    progress: &mut dyn FnMut(usize, usize),
    ack: &mut dyn FnMut(&Done),
) -> Result<Outcome> {
    let text = read_records(b.records)?;
    let seal = b.seal.unwrap_or_default().to_string();
    let header =
        Header { batch_sha256: hex(&crate::pades::cms::sha256(&text)), template: b.template.into(), seal };
    std::fs::create_dir_all(b.out_dir).map_err(crate::error::io_at(b.out_dir))?;
    // Everything that can refuse the whole batch comes before the journal is touched.
    let archive = crate::filing::open_archive(home)?;
    crate::pki::crl::refresh_due(home);
    let trust = crate::trust::TrustStore::from_home(home)?;
    let prepared = Prepared::new(home, b.template, b.seal)?;
    // Each group's tokens are made durable in its commit, before the group is archived.
    prepared.defer_ledger_sync();
    let mut journal = Journal::open(b.out_dir, &header)?;
    let mut out = Outcome { already: journal.done.len(), ..Default::default() };
    for (line, sha) in journal.pending.clone() {
        if let Some(d) = recover(&archive, b.out_dir, line, &sha)? {
            journal.done(std::slice::from_ref(&d))?;
            ack(&d);
            out.recovered += 1;
        }
    }
    let done = journal.done_lines();
    let todo: Vec<(usize, &[u8])> = text
        .split(|c| *c == b'\n')
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(n, l)| !done.contains(n) && !l.iter().all(u8::is_ascii_whitespace))
        .collect();
    let total = todo.len();
    let base = prepared.template_chars();
    let (chunk_of, chunk_chars) = font_chunks(&todo, &base);
    let fonts: Vec<OnceLock<Option<Arc<SharedFont>>>> = chunk_chars.iter().map(|_| OnceLock::new()).collect();
    let font_for = |i: usize| -> Option<Arc<SharedFont>> {
        let k = *chunk_of.get(i)?;
        let chars = chunk_chars.get(k)?;
        fonts
            .get(k)?
            .get_or_init(|| SharedFont::new(base.iter().chain(chars.iter()).copied()).ok().map(Arc::new))
            .clone()
    };
    let group_size = b.group.max(1);
    let mut group: Vec<Made> = Vec::with_capacity(group_size);
    let mut failure = None;
    let mut seen = 0;
    crate::parallel::ordered_ahead(
        todo,
        b.threads,
        b.threads.max(1) * AHEAD_PER_THREAD,
        |i, (line, bytes)| {
            make(&prepared, &trust, line, bytes, font_for(i), b.verify_all || i % VERIFY_EVERY == 0)
        },
        |i, made| {
            if failure.is_some() {
                return false;
            }
            seen += 1;
            match made {
                Ok(m) => group.push(m),
                Err(r) => out.rejected.push(r),
            }
            if group.len() >= group_size || i + 1 == total {
                let group = std::mem::take(&mut group);
                match commit(home, &archive, &prepared, b.out_dir, &mut journal, group, ack) {
                    Ok(n) => out.issued += n,
                    Err(e) => {
                        failure = Some(e);
                        return false;
                    }
                }
            }
            progress(seen, total);
            true
        },
    );
    if let Some(e) = failure {
        return Err(e);
    }
    // Lines of licences made but not archived (a failure, a rejected self-check) were never
    // handed out; synced anyway, so that the ledger does not keep unsynced lines behind.
    prepared.sync_ledger()?;
    crate::filing::sign_tree_head(home, &archive)?;
    let report: String =
        out.rejected.iter().filter_map(|r| serde_json::to_string(r).ok()).map(|l| l + "\n").collect();
    super::write_output(&b.out_dir.join("rejected.jsonl"), report.as_bytes())?;
    Ok(out)
}

/// The records file, refused from its size when too big.
fn read_records(path: &Path) -> Result<Vec<u8>> {
    let size = std::fs::metadata(path).map_err(crate::error::io_at(path))?.len();
    if size > MAX_RECORDS_FILE {
        return Err(DataError::Batch(format!(
            "{}: {size} bytes, over the limit of {MAX_RECORDS_FILE} bytes; split it",
            path.display()
        ))
        .into());
    }
    std::fs::read(path).map_err(crate::error::io_at(path))
}

/// Split the lines into runs that share one font subset: the template's characters and those of
/// the run's lines, such that no line of a run misses more than [`SHARED_EXTRA`] of the run's
/// characters beyond the template's (unless one line alone has more): the run's characters less
/// those every one of its lines has bounds what any of them carries without drawing it. Lines
/// that share most of their text (the same address and business scope, names from one pool)
/// share one subset however many there are. Returns each line's run and each run's characters
/// beyond the template's. A line's characters are read from its raw text: one written as a
/// JSON `\u` escape is missed, and that licence is drawn with its own subset.
fn font_chunks(todo: &[(usize, &[u8])], base: &BTreeSet<char>) -> (Vec<usize>, Vec<Vec<char>>) {
    // Each set a sorted vector without repeats, searched by bisection: a tree set's node walks
    // and allocations were ~2 % of a bulk licence's CPU.
    let base: Vec<char> = base.iter().copied().collect();
    let mut runs: Vec<Vec<char>> = vec![Vec::new()];
    // The characters every line of the last run has (None: the run is empty).
    let mut common: Option<Vec<char>> = None;
    let mut of = Vec::with_capacity(todo.len());
    let mut own: Vec<char> = Vec::new();
    for (_, bytes) in todo {
        own.clear();
        own.extend(String::from_utf8_lossy(bytes).chars());
        own.sort_unstable();
        own.dedup();
        own.retain(|c| base.binary_search(c).is_err());
        let run = runs.last().map(Vec::as_slice).unwrap_or_default();
        let union = run.len() + own.iter().filter(|c| run.binary_search(c).is_err()).count();
        let shared =
            common.as_ref().map_or(own.len(), |c| c.iter().filter(|x| own.binary_search(x).is_ok()).count());
        if union.saturating_sub(shared) > SHARED_EXTRA && common.is_some() {
            runs.push(Vec::new());
            common = None;
        }
        match common.as_mut() {
            Some(c) => c.retain(|x| own.binary_search(x).is_ok()),
            None => common = Some(own.clone()),
        }
        if let Some(r) = runs.last_mut() {
            let new: Vec<char> = own.iter().copied().filter(|c| r.binary_search(c).is_err()).collect();
            if !new.is_empty() {
                r.extend(new);
                r.sort_unstable();
            }
        }
        of.push(runs.len() - 1);
    }
    (of, runs)
}

/// One line: parse, issue and seal, check for filing: verified in full (`full`: parsed,
/// signature, timestamp, chain, revocation, modifications, as any filing is), or checked from
/// its bytes (`pades::self_check`: the seal's byte range and signer against the department's
/// certificate, whose key was paired with it when loaded) with its description derived from
/// what was rendered, which every full verification compares with the one read back. Runs on a
/// worker thread.
fn make(
    prepared: &Prepared,
    trust: &crate::trust::TrustStore,
    line: usize,
    bytes: &[u8],
    font: Option<Arc<SharedFont>>,
    full: bool,
) -> std::result::Result<Made, Rejected> {
    let reject = |reason: String| Rejected { line, reason };
    if bytes.len() > MAX_LINE {
        return Err(reject(format!("the line is over {MAX_LINE} bytes")));
    }
    let data: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| reject(format!("not JSON: {e}")))?;
    if !data.is_object() {
        return Err(reject("not a JSON object of field: value".into()));
    }
    let issued = prepared.issue_with(&data, None, 1, font).map_err(|e| reject(e.to_string()))?;
    let (cert, timestamped) = prepared.seal_certificate();
    let has_dss = crate::filing::has_dss(&issued.pdf);
    let derived = crate::filing::sealed_metadata(
        issued.metadata.clone(),
        "licence",
        prepared.department(),
        timestamped,
        has_dss,
    );
    if !full {
        // The self-check's pass over the file also gives the file's SHA-256.
        use crate::pades::self_check::{check_own, Value};
        let sha256 = check_own(&issued.pdf, cert, Value::Trust)
            .map_err(|e| reject(format!("the sealed licence does not check: {e}")))?;
        return Ok(Made { line, sha256, pdf: issued.pdf, identifier: issued.identifier, metadata: derived });
    }
    let name = journal::pdf_name(line);
    let metadata = crate::filing::verified_metadata(&name, &issued.pdf, trust, "licence")
        .map_err(|e| reject(e.to_string()))?;
    if metadata != derived {
        return Err(reject(format!(
            "the archive description read back from the verified licence differs from the one issued ({metadata:?} ≠ {derived:?})"
        )));
    }
    let sha256 = crate::pades::cms::sha256(&issued.pdf);
    Ok(Made { line, pdf: issued.pdf, sha256, identifier: issued.identifier, metadata })
}

/// Archive one group durably, then write its PDFs and journal it: pending → TSA ledger sync
/// (the group's timestamp tokens) → archive + flush → files → done. Returns how many lines it
/// finished.
fn commit(
    home: &Home,
    archive: &Archive,
    prepared: &Prepared,
    dir: &Path,
    journal: &mut Journal,
    group: Vec<Made>,
    ack: &mut dyn FnMut(&Done),
) -> Result<usize> {
    if group.is_empty() {
        return Ok(0);
    }
    journal.pending(&group.iter().map(|m| (m.line, hex(&m.sha256))).collect::<Vec<_>>())?;
    prepared.sync_ledger()?;
    let hashes: Vec<[u8; 32]> = group.iter().map(|m| m.sha256).collect();
    let filed = crate::filing::append_verified_hashed(
        home,
        archive,
        group.iter().map(|m| (m.pdf.as_slice(), m.metadata.clone())).collect(),
        Some(&hashes),
    )?;
    archive.flush()?;
    let mut done = Vec::with_capacity(group.len());
    for (m, f) in group.iter().zip(&filed) {
        let file = journal::pdf_name(m.line);
        done.push(Done { line: m.line, record: f.record.id.clone(), identifier: m.identifier.clone(), file });
    }
    journal::write_pdfs(dir, group.iter().zip(&done).map(|(m, d)| (d.file.as_str(), m.pdf.as_slice())))?;
    journal.done(&done)?;
    for d in &done {
        ack(d);
    }
    Ok(done.len())
}

/// A pending line of a killed run: archived (found by its SHA-256) → its PDF rewritten from the
/// archive; not archived → `None` (it is issued again).
fn recover(archive: &Archive, dir: &Path, line: usize, sha256: &str) -> Result<Option<Done>> {
    let Some(id) = archive.by_hash.get(sha256.as_bytes()).map_err(|e| DataError::Batch(e.to_string()))?
    else {
        return Ok(None);
    };
    let record = archive.get(&String::from_utf8_lossy(&id))?;
    let bytes = archive.bytes(&record)?;
    let file = journal::pdf_name(line);
    super::write_output(&dir.join(&file), &bytes)?;
    Ok(Some(Done { line, record: record.id, identifier: record.metadata.identifier, file }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Characters U+4E00 + `from`..`to`.
    fn cjk(from: u32, to: u32) -> String {
        (from..to).filter_map(|i| char::from_u32(0x4E00 + i)).collect()
    }

    /// Lines sharing a long common text and names drawn from a 40-character pool share one
    /// subset however many there are; lines with little in common are split so that no line
    /// misses more than `SHARED_EXTRA` of its run's characters.
    #[test]
    fn runs_bound_the_glyphs_a_line_does_not_draw() {
        let common = cjk(0, 80);
        let pool: Vec<char> = cjk(100, 140).chars().collect();
        let lines: Vec<String> = (0..500)
            .map(|i| {
                let name: String = (0..6).map(|k| pool[(i * 7 + k * 13) % pool.len()]).collect();
                format!("{{\"name\":\"{name}\",\"scope\":\"{common}\"}}")
            })
            .collect();
        let todo: Vec<(usize, &[u8])> =
            lines.iter().enumerate().map(|(i, l)| (i + 1, l.as_bytes())).collect();
        let (of, runs) = font_chunks(&todo, &BTreeSet::new());
        assert_eq!(runs.len(), 1);
        assert!(of.iter().all(|r| *r == 0));

        let apart: Vec<String> = (0..20).map(|i| cjk(200 + 60 * i, 260 + 60 * i)).collect();
        let todo: Vec<(usize, &[u8])> =
            apart.iter().enumerate().map(|(i, l)| (i + 1, l.as_bytes())).collect();
        let (of, runs) = font_chunks(&todo, &BTreeSet::new());
        assert!(runs.len() >= 10, "{} runs", runs.len());
        for ((_, line), run) in todo.iter().zip(&of) {
            let own: BTreeSet<char> = String::from_utf8_lossy(line).chars().collect();
            assert!(runs[*run].windows(2).all(|w| w[0] < w[1]), "a run is sorted, without repeats");
            assert!(runs[*run].iter().filter(|c| !own.contains(c)).count() <= SHARED_EXTRA);
        }
    }
}
