//! The TSA's ledger: one JSON line per issued token (serial, genTime, message imprint, nonce,
//! requester, SHA-256 of the token), appended and synced before the token is handed out, each line
//! chained to the one before by SHA-256 so that an edited, removed or reordered line shows.
//!
//! Serial numbers come from the ledger under an exclusive file lock (flock), so the server and a
//! CLI on the same home never issue the same serial; they never go below 1000 × the Unix time,
//! so a ledger lost or restored from a backup cannot make serials repeat either.
//!
//! Knows files and JSON; nothing of ASN.1. RFC 3161 §2.4.2 (serialNumber unique per TSA);
//! ETSI EN 319 421 §7.12 (the TSA keeps records of its tokens).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, Result, TsaError};

/// Bytes read from the end of the ledger to find the last line (a line is ~400 bytes).
const TAIL: u64 = 16 * 1024;
/// Longest requester string kept.
const MAX_REQUESTER: usize = 200;
/// `prev` of the first line.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One issued token, as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub serial: u64,
    /// genTime, RFC 3339 UTC.
    pub gen_time: String,
    /// Digest algorithm of the imprint (SHA-256, SHA-384, SHA-512).
    pub hash: String,
    /// The message imprint, lowercase hex.
    pub imprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// Who asked ("seal scjg", "http 127.0.0.1").
    pub requester: String,
    /// SHA-256 of the token (ContentInfo DER).
    pub token_sha256: String,
    /// SHA-256 of the previous line's bytes (without its newline); zeros for the first line.
    pub prev: String,
}

/// The ledger file of one TSA.
pub struct Ledger {
    path: PathBuf,
    /// Serialises appends within the process (flock serialises processes), and remembers where
    /// this process's last append left the file: when the file still has that length, no one
    /// appended since and its tail need not be read again.
    lock: Mutex<Option<Tail>>,
    /// Appends are written but not synced until [`Ledger::sync`] (bulk issuance syncs once per
    /// group, before any of the group's tokens leaves the process).
    deferred: AtomicBool,
    /// Lines written since the last sync (deferred mode).
    owed: AtomicBool,
}

/// The end of the ledger as this process last wrote it.
#[derive(Clone)]
struct Tail {
    len: u64,
    serial: u64,
    prev: String,
}

fn damaged(path: &Path, line: usize, reason: impl Into<String>) -> crate::error::Error {
    TsaError::Ledger { path: path.to_path_buf(), line, reason: reason.into() }.into()
}

fn line_hash(line: &[u8]) -> String {
    crate::hex::encode(&crate::pades::cms::sha256(line))
}

impl Ledger {
    pub fn new(path: PathBuf) -> Self {
        Ledger {
            path,
            lock: Mutex::new(None),
            deferred: AtomicBool::new(false),
            owed: AtomicBool::new(false),
        }
    }

    /// From now on, write appended lines without syncing them: the caller promises to call
    /// [`Ledger::sync`] before any token appended since leaves the process.
    pub fn defer_sync(&self) {
        self.deferred.store(true, Ordering::SeqCst);
    }

    /// Make every line appended so far durable (deferred mode; a no-op when nothing is owed).
    pub fn sync(&self) -> Result<()> {
        if !self.owed.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
        let io = |source| crate::error::Error::from(ConfigError::Write { path: self.path.clone(), source });
        let synced = OpenOptions::new().append(true).open(&self.path).and_then(|f| f.sync_data());
        if let Err(e) = synced {
            self.owed.store(true, Ordering::SeqCst);
            return Err(io(e));
        }
        Ok(())
    }

    /// Append one entry: `make(serial, unix_now)` builds the token and its entry while the ledger
    /// is locked; the line is written and synced before the token is returned.
    pub fn append<T>(&self, make: impl FnOnce(u64, i64) -> Result<(T, Entry)>) -> Result<T> {
        let mut make = Some(make);
        let mut out = self.append_many(1, |serial, now| match make.take() {
            Some(f) => f(serial, now),
            None => Err(damaged(&self.path, 0, "one entry asked twice")),
        })?;
        out.pop().ok_or_else(|| damaged(&self.path, 0, "no entry written"))
    }

    /// Append `n` entries under one lock and one sync (batch re-timestamping): `make(serial,
    /// unix_now)` builds each token and its entry, serials increasing; nothing is returned
    /// before every line is durable.
    pub fn append_many<T>(
        &self,
        n: usize,
        mut make: impl FnMut(u64, i64) -> Result<(T, Entry)>,
    ) -> Result<Vec<T>> {
        let mut memo = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        let io = |source| crate::error::Error::from(ConfigError::Write { path: self.path.clone(), source });
        let mut f = OpenOptions::new().read(true).append(true).create(true).open(&self.path).map_err(io)?;
        // Released when `f` is closed at the end of this function.
        lock_exclusive(&f).map_err(io)?;
        let len = f.metadata().map_err(io)?.len();
        let (last_serial, mut prev) = match memo.take().filter(|t| t.len == len) {
            Some(t) => (t.serial, t.prev),
            None => {
                let (serial, prev, valid_len) = self.tail(&mut f)?;
                if valid_len < len {
                    // A line torn by a crash was never synced, so its token was never handed out.
                    f.set_len(valid_len).map_err(io)?;
                }
                (serial, prev)
            }
        };
        let now = i64::try_from(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs(),
        )
        .unwrap_or(0);
        let floor = u64::try_from(now).unwrap_or(0).saturating_mul(1000);
        let mut serial = last_serial.saturating_add(1).max(floor);
        let mut lines = Vec::new();
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let (t, mut entry) = make(serial, now)?;
            entry.prev = prev;
            entry.requester = entry.requester.chars().take(MAX_REQUESTER).collect();
            let line = serde_json::to_vec(&entry).map_err(|e| damaged(&self.path, 0, e.to_string()))?;
            prev = line_hash(&line);
            lines.extend_from_slice(&line);
            lines.push(b'\n');
            out.push(t);
            serial = serial.saturating_add(1);
        }
        f.write_all(&lines).map_err(io)?;
        if self.deferred.load(Ordering::SeqCst) {
            self.owed.store(true, Ordering::SeqCst);
        } else {
            f.sync_data().map_err(io)?;
        }
        let len = f.metadata().map_err(io)?.len();
        *memo = Some(Tail { len, serial: serial.saturating_sub(1), prev });
        Ok(out)
    }

    /// The last complete line's serial and hash, and the length up to its end.
    fn tail(&self, f: &mut File) -> Result<(u64, String, u64)> {
        let io = |source| crate::error::Error::from(ConfigError::Read { path: self.path.clone(), source });
        let len = f.metadata().map_err(io)?.len();
        let start = len.saturating_sub(TAIL);
        f.seek(SeekFrom::Start(start)).map_err(io)?;
        let mut buf = Vec::new();
        f.take(TAIL).read_to_end(&mut buf).map_err(io)?;
        let Some(end) = buf.iter().rposition(|&b| b == b'\n') else {
            return if start == 0 {
                Ok((0, GENESIS.into(), 0))
            } else {
                Err(damaged(&self.path, 0, "no line end in the last 16 KiB"))
            };
        };
        let body = buf.get(..end).unwrap_or_default();
        let from = body.iter().rposition(|&b| b == b'\n').map(|p| p + 1).unwrap_or(0);
        if from == 0 && start != 0 {
            return Err(damaged(&self.path, 0, "last line longer than 16 KiB"));
        }
        let last = body.get(from..).unwrap_or_default();
        let entry: Entry =
            serde_json::from_slice(last).map_err(|e| damaged(&self.path, 0, format!("last line: {e}")))?;
        let valid_len = start + u64::try_from(end + 1).unwrap_or(0);
        Ok((entry.serial, line_hash(last), valid_len))
    }
}

/// Read and check the whole ledger: every line parses, chains to the one before, and serials
/// increase. A missing ledger is empty.
pub fn read(path: &Path) -> Result<Vec<Entry>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(ConfigError::Read { path: path.to_path_buf(), source }.into()),
    };
    let mut out: Vec<Entry> = Vec::new();
    let mut prev = GENESIS.to_string();
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    for (i, line) in lines.iter().enumerate() {
        if line.is_empty() && i + 1 == lines.len() {
            break;
        }
        let n = i + 1;
        let e: Entry = serde_json::from_slice(line).map_err(|e| damaged(path, n, e.to_string()))?;
        if e.prev != prev {
            return Err(damaged(
                path,
                n,
                "does not chain to the line before (a line was edited, removed or reordered)",
            ));
        }
        if out.last().is_some_and(|l| l.serial >= e.serial) {
            return Err(damaged(path, n, format!("serial {} does not increase", e.serial)));
        }
        prev = line_hash(line);
        out.push(e);
    }
    Ok(out)
}

/// Take an exclusive flock(2) on `f`; it is released when `f` is closed.
fn lock_exclusive(f: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::io::AsRawFd;
        // SAFETY: flock on a file descriptor `f` owns and keeps open for the call.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    let _ = f;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(requester: &str) -> Entry {
        Entry {
            serial: 0,
            gen_time: "2026-11-30T00:00:00Z".into(),
            hash: "SHA-256".into(),
            imprint: "00".repeat(32),
            nonce: None,
            requester: requester.into(),
            token_sha256: "11".repeat(32),
            prev: String::new(),
        }
    }

    /// Two ledgers on one file (two processes) interleave appends, one of them deferring its
    /// syncs: each notices the other's lines (its remembered tail no longer matches), so the
    /// chain holds and serials increase; a deferred line is written at once and `sync` settles it.
    #[test]
    fn interleaved_appends_keep_the_chain_with_deferred_sync() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ledger.jsonl");
        let (a, b) = (Ledger::new(path.clone()), Ledger::new(path.clone()));
        a.defer_sync();
        let append = |l: &Ledger, who: &str| {
            l.append(|serial, _| Ok((serial, Entry { serial, ..entry(who) }))).expect("append")
        };
        for who in ["a1", "a2", "b1", "a3", "b2", "b3", "a4"] {
            append(if who.starts_with('a') { &a } else { &b }, who);
        }
        assert!(a.owed.load(Ordering::SeqCst));
        a.sync().expect("sync");
        assert!(!a.owed.load(Ordering::SeqCst));
        let all = read(&path).expect("intact");
        let who: Vec<&str> = all.iter().map(|e| e.requester.as_str()).collect();
        assert_eq!(who, ["a1", "a2", "b1", "a3", "b2", "b3", "a4"]);
    }

    /// A line torn by a crash (never synced, so its token was never handed out) is cut off by the
    /// next append; the chain and the increasing serials stay intact.
    #[test]
    fn a_torn_last_line_is_dropped_and_the_chain_continues() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ledger.jsonl");
        let l = Ledger::new(path.clone());
        let append =
            |who: &str| l.append(|serial, _| Ok((serial, Entry { serial, ..entry(who) }))).expect("append");
        let first = append("a");
        let mut f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(b"{\"serial\":99999999999999,\"gen_ti").expect("torn write");
        drop(f);
        let second = append("b");
        assert!(second > first);
        let all = read(&path).expect("intact");
        assert_eq!(all.iter().map(|e| e.requester.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    }
}
