//! The journal of a bulk issuance (`issue --batch`), `<out-dir>/batch.journal`: what makes a
//! killed run resumable with no duplicates and no gaps. JSON lines, appended and fsynced:
//! - a header naming the batch (SHA-256 of the records file, template, sealing department), so a
//!   journal is never continued with another batch;
//! - `pending`: the lines of a group and the SHA-256 of the licence made for each, written
//!   **before** the group goes into the archive;
//! - `done`: one per line once its archive record is durable and its PDF is written.
//!
//! On resume a pending line without `done` is looked up in the archive by its SHA-256: found, it
//! is recovered (PDF rewritten from the archived bytes); not found, it was never archived and is
//! issued again. A torn last line (the kill hit mid-write) is ignored.
//!
//! It also writes a group's PDFs under their names ([`write_pdfs`]). Knows nothing of rendering
//! or the archive: the caller does the lookups.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};

/// The journal's file name inside the out-dir.
pub const FILE: &str = "batch.journal";
/// A journal bigger than this is not read (a million lines of a few hundred bytes fit).
const MAX_JOURNAL: u64 = 1 << 30;

/// Which batch a journal belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub batch_sha256: String,
    pub template: String,
    pub seal: String,
}

/// One journal line.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Entry {
    Header(Header),
    /// (line, SHA-256 of the licence) of a group about to be archived.
    Pending(Vec<(usize, String)>),
    Done(Done),
}

/// A line issued, archived and written.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Done {
    pub line: usize,
    pub record: String,
    pub identifier: String,
    pub file: String,
}

/// An open journal: what earlier runs did, and the file to append to.
pub struct Journal {
    path: PathBuf,
    file: std::fs::File,
    /// Lines finished by any run.
    pub done: BTreeMap<usize, Done>,
    /// Lines pending without `done`: line → SHA-256 of the licence that may be archived.
    pub pending: BTreeMap<usize, String>,
}

impl Journal {
    /// Open (or start) the journal in `dir` for the batch `header`; refuses another batch's journal.
    pub fn open(dir: &Path, header: &Header) -> Result<Journal> {
        let path = dir.join(FILE);
        let bad = |why: String| DataError::Batch(format!("{}: {why}", path.display()));
        let (mut done, mut pending) = (BTreeMap::new(), BTreeMap::new());
        let mut started = false;
        // Bytes after the last newline: a torn write, cut before appending.
        let mut keep = None;
        if path.exists() {
            let size = std::fs::metadata(&path).map_err(crate::error::io_at(&path))?.len();
            if size > MAX_JOURNAL {
                return Err(bad(format!("over {MAX_JOURNAL} bytes")).into());
            }
            let text = std::fs::read(&path).map_err(crate::error::io_at(&path))?;
            if !text.ends_with(b"\n") {
                keep = Some(text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1) as u64);
            }
            let lines: Vec<&[u8]> = text.split(|b| *b == b'\n').filter(|l| !l.is_empty()).collect();
            let last = lines.len().saturating_sub(1);
            for (n, l) in lines.iter().enumerate() {
                let entry: Entry = match serde_json::from_slice(l) {
                    Ok(e) => e,
                    // A torn final line: the kill came mid-write, before its fsync returned.
                    Err(_) if n == last && !text.ends_with(b"\n") => break,
                    Err(e) => return Err(bad(format!("line {} unreadable: {e}", n + 1)).into()),
                };
                match entry {
                    Entry::Header(h) if n == 0 => {
                        if &h != header {
                            return Err(bad(format!(
                                "it belongs to another batch (records file SHA-256 {}, template {}, seal {}); use another --out-dir",
                                h.batch_sha256, h.template, h.seal
                            ))
                            .into());
                        }
                        started = true;
                    }
                    Entry::Header(_) => return Err(bad(format!("a second header at line {}", n + 1)).into()),
                    _ if !started => return Err(bad("no header".into()).into()),
                    Entry::Pending(p) => pending.extend(p),
                    Entry::Done(d) => {
                        done.insert(d.line, d);
                    }
                }
            }
        }
        pending.retain(|line, _| !done.contains_key(line));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(crate::error::io_at(&path))?;
        if let Some(len) = keep {
            file.set_len(len).map_err(crate::error::io_at(&path))?;
        }
        let mut j = Journal { path, file, done, pending };
        if !started {
            // A torn header (or an empty file) starts over.
            j.file.set_len(0).map_err(crate::error::io_at(&j.path))?;
            j.append(&[Entry::Header(header.clone())])?;
        }
        Ok(j)
    }

    /// Durably note that the licences `(line, sha256)` are about to be archived.
    pub fn pending(&mut self, group: &[(usize, String)]) -> Result<()> {
        self.pending.extend(group.iter().cloned());
        self.append(&[Entry::Pending(group.to_vec())])
    }

    /// Durably note finished lines.
    pub fn done(&mut self, finished: &[Done]) -> Result<()> {
        for d in finished {
            self.pending.remove(&d.line);
            self.done.insert(d.line, d.clone());
        }
        self.append(&finished.iter().cloned().map(Entry::Done).collect::<Vec<_>>())
    }

    /// Lines done by any run.
    pub fn done_lines(&self) -> BTreeSet<usize> {
        self.done.keys().copied().collect()
    }

    fn append(&mut self, entries: &[Entry]) -> Result<()> {
        let mut buf = Vec::new();
        for e in entries {
            serde_json::to_writer(&mut buf, e).map_err(|e| DataError::Batch(e.to_string()))?;
            buf.push(b'\n');
        }
        self.file.write_all(&buf).map_err(crate::error::io_at(&self.path))?;
        self.file.sync_data().map_err(crate::error::io_at(&self.path))?;
        Ok(())
    }
}

/// The PDF file name for records-file line `line` (1-based).
pub fn pdf_name(line: usize) -> String {
    format!("{line:06}.pdf")
}

/// Output files written before they are synced together ([`write_pdfs`]; bounds open files).
const SYNC_TOGETHER: usize = 64;

/// Write a group's licences under their final names (created or truncated), syncing them
/// [`SYNC_TOGETHER`] at a time, then the folder. On a journalling file system one commit then
/// covers many files' creation (a sync after each file made one commit per licence). No temporary
/// file and rename as `issue -o` does: until the group's done note is written its lines are
/// pending, and a resumed run rewrites each pending line's file from the archive
/// (`batch::recover`), so a file torn by a crash is never left as done.
pub fn write_pdfs<'a>(dir: &Path, files: impl Iterator<Item = (&'a str, &'a [u8])>) -> Result<()> {
    let files: Vec<(&str, &[u8])> = files.collect();
    for chunk in files.chunks(SYNC_TOGETHER) {
        let mut written = Vec::with_capacity(chunk.len());
        for (name, bytes) in chunk {
            let path = dir.join(name);
            // O_NOFOLLOW: a symbolic link planted under a licence's name is refused, not written through.
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&path)
                .map_err(crate::error::io_at(&path))?;
            f.write_all(bytes).map_err(crate::error::io_at(&path))?;
            written.push((f, path));
        }
        for (f, path) in &written {
            f.sync_all().map_err(crate::error::io_at(path))?;
        }
    }
    // The files' names: without this a crash could lose a file whose line is journalled done.
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(crate::error::io_at(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header { batch_sha256: "ab".into(), template: "t".into(), seal: "d".into() }
    }

    /// A reopened journal knows done and pending lines, ignores a torn last line and refuses
    /// another batch's header.
    #[test]
    fn reopen_done_pending_torn_and_foreign() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(dir.path(), &header()).unwrap();
        j.pending(&[(1, "h1".into()), (2, "h2".into())]).unwrap();
        j.done(&[Done { line: 1, record: "R1".into(), identifier: "I1".into(), file: pdf_name(1) }]).unwrap();
        drop(j);
        let path = dir.path().join(FILE);
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"done\":{\"line\":2,").unwrap();
        let j = Journal::open(dir.path(), &header()).unwrap();
        assert_eq!(j.done_lines(), BTreeSet::from([1]));
        assert_eq!(j.pending, BTreeMap::from([(2, "h2".to_string())]));
        let other = Header { batch_sha256: "cd".into(), ..header() };
        assert!(Journal::open(dir.path(), &other).is_err());
    }
}
