//! Opening the sled store at its boundary: the archive directory is private (directories 0700,
//! files 0600 — sled's own files and the packs, which hold proof answers and holder names; an
//! existing home is tightened on every open and flush), a store held by another process is told
//! apart from a damaged one, and a panic inside sled while it reads a damaged file is caught here
//! and reported as "archive is corrupt: …", never an abort.
//!
//! Knows sled 0.34's error kinds and POSIX modes; nothing of records, the log or PDF.

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{ArchiveError, Result};

/// Mode of every directory under the archive.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file under the archive.
pub const FILE_MODE: u32 = 0o600;

/// Serialises the swap of the panic hook around a guarded sled call.
static HOOK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Run a sled call that reads stored bytes; a panic (sled asserts on some damaged files) becomes
/// [`ArchiveError::StoreCorrupt`] instead of unwinding through the caller.
pub(super) fn guarded<T>(dir: &Path, f: impl FnOnce() -> sled::Result<T>) -> Result<T> {
    let outcome = {
        let _one = HOOK.lock().unwrap_or_else(|p| p.into_inner());
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        std::panic::set_hook(previous);
        r
    };
    match outcome {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(classify(dir, e).into()),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the store failed while reading it".into());
            Err(ArchiveError::StoreCorrupt { path: dir.to_path_buf(), message: what }.into())
        }
    }
}

/// Bytes of sled's page cache (as the vendored sled counts them: a page's size on disk plus 64
/// bytes per key, about what it takes in memory), for archives this process opens from now on.
static CACHE_BYTES: AtomicU64 = AtomicU64::new(128 << 20);

/// The page cache of a process that reads the whole archive once (`zhengyin audit`): a larger one
/// would only keep pages the pass does not come back to, so memory would grow with the archive up
/// to the cap (docs/BENCHMARKS.md, "Archive lookups and the audit at scale").
pub const ONE_PASS_CACHE_BYTES: u64 = 32 << 20;

/// Give archives this process opens from now on a page cache of `bytes` (as sled counts them).
pub fn set_cache_bytes(bytes: u64) {
    CACHE_BYTES.store(bytes, Ordering::Relaxed);
}

/// How long an open waits for a store held by another opener before reporting it in use.
const LOCK_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Open the sled database in `dir` (created 0700 when missing) and make the directory private.
pub(super) fn open_db(dir: &Path) -> Result<sled::Db> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(|e| ArchiveError::Open { path: dir.to_path_buf(), message: e.to_string() })?;
    // sled's page cache is bounded (its default is 1 GiB), so a pass over every record (the
    // audit, an index rebuild) keeps at most this much of the store cached.
    let open = || {
        guarded(dir, || {
            sled::Config::new()
                .path(dir)
                .flush_every_ms(None)
                .cache_capacity(CACHE_BYTES.load(Ordering::Relaxed))
                .open()
        })
    };
    // A holder that is closing (a command just finished, a test's handle just dropped: sled's
    // background flusher keeps the lock a moment) lets go within LOCK_GRACE; a running
    // `zhengyin serve` does not, and that is reported as in use.
    let start = std::time::Instant::now();
    let db = loop {
        match open() {
            Err(crate::error::Error::Archive(ArchiveError::Locked { .. }))
                if start.elapsed() < LOCK_GRACE =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => break other?,
        }
    };
    release_freed_memory();
    make_private(dir).map_err(|e| ArchiveError::Open {
        path: dir.to_path_buf(),
        message: format!("cannot make it private (0700/0600): {e}"),
    })?;
    Ok(db)
}

/// Hand the heap freed at open back to the OS. sled reads its snapshot (a record of every page)
/// to build its page table and then frees it, but glibc keeps freed heap mapped: at 10⁶ records
/// that was 80 MB resident for the life of the process (docs/BENCHMARKS.md).
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim takes no pointer; it only returns free pages of the heap to the OS.
        unsafe { libc::malloc_trim(0) };
    }
}

/// A sled error at open or read, as the user should see it: held by another process, damaged,
/// or a plain I/O failure.
fn classify(dir: &Path, e: sled::Error) -> ArchiveError {
    match e {
        sled::Error::Io(_) if held_by_another(dir) => ArchiveError::Locked { path: dir.to_path_buf() },
        // An error from the OS (permissions, missing files, a full disk) is not damage; short reads
        // and malformed contents (no errno) are.
        sled::Error::Io(io) if io.raw_os_error().is_some() => {
            ArchiveError::Open { path: dir.to_path_buf(), message: io.to_string() }
        }
        other => ArchiveError::StoreCorrupt { path: dir.to_path_buf(), message: other.to_string() },
    }
}

/// Whether another open file description holds sled's exclusive lock on `dir/db` (probed with a
/// non-blocking `flock`, released at once).
fn held_by_another(dir: &Path) -> bool {
    use std::os::fd::AsRawFd;
    let Ok(f) = std::fs::OpenOptions::new().read(true).write(true).open(dir.join("db")) else { return false };
    // SAFETY: flock on a descriptor we own; the lock (if taken) goes with `f` when it is dropped.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    r != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EWOULDBLOCK)
}

/// Directories 0700 and files 0600, for `dir` and two levels below it (sled's `blobs/`, `packs/`).
/// Only entries whose mode differs are changed.
pub(super) fn make_private(dir: &Path) -> std::io::Result<()> {
    tighten(dir, 2)
}

fn tighten(path: &Path, depth: u32) -> std::io::Result<()> {
    let md = std::fs::symlink_metadata(path)?;
    if md.file_type().is_symlink() {
        return Ok(());
    }
    let want = if md.is_dir() { DIR_MODE } else { FILE_MODE };
    if md.permissions().mode() & 0o777 != want {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(want))?;
    }
    if md.is_dir() && depth > 0 {
        for e in std::fs::read_dir(path)? {
            tighten(&e?.path(), depth - 1)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An archive directory made 0755/0644 by an older version is made 0700/0600 on open.
    #[test]
    fn open_tightens_an_existing_home() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("archive");
        std::fs::create_dir_all(dir.join("packs")).unwrap();
        std::fs::write(dir.join("packs/000000.pack"), b"x").unwrap();
        for (p, m) in
            [(dir.clone(), 0o755), (dir.join("packs"), 0o755), (dir.join("packs/000000.pack"), 0o644)]
        {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(m)).unwrap();
        }
        let db = open_db(&dir).unwrap();
        drop(db);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("packs")), 0o700);
        assert_eq!(mode(&dir.join("packs/000000.pack")), 0o600);
        assert_eq!(mode(&dir.join("db")), 0o600);
    }

    /// A store whose holder lets go within the grace (a command ending) opens instead of being
    /// reported in use; one held past the grace is reported in use, not corrupt.
    #[test]
    fn open_waits_for_a_holder_that_is_closing() {
        use std::os::fd::AsRawFd;
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("archive");
        drop(open_db(&dir).unwrap());
        let hold = || {
            let f = std::fs::OpenOptions::new().read(true).write(true).open(dir.join("db")).unwrap();
            // SAFETY: flock on a descriptor we own (blocking: sled's flusher may still hold it).
            assert_eq!(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) }, 0);
            f
        };
        let held = hold();
        let closing = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(held);
        });
        drop(open_db(&dir).expect("the holder let go within the grace"));
        closing.join().unwrap();
        let _held = hold();
        let err = open_db(&dir).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("in use by another process"), "{err}");
    }
}
