//! The server's trust store, reloaded when the home's CRLs or imported trust lists change on disk:
//! a `zhengyin revoke` on the same home (or any other writer of `crl/`, `trust/`) is seen by the
//! next verification, whatever `--refresh-secs` says.
//!
//! How: each [`Trust::current`] takes a cheap stamp of the files (one `stat` per file in `crl/`,
//! `trust/` and `trust/<region>-crl/`: length, mtime to the nanosecond, inode — writers replace
//! files by rename, so a new inode shows even within one mtime tick) and rebuilds the store only
//! when the stamp differs from the one it was built from. No file watcher, no polling thread.
//! Knows file names and the trust store's constructor; the CRLs themselves are checked by `trust`.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use crate::config::Home;
use crate::error::Result;
use crate::trust::TrustStore;

/// Files looked at per directory, at most (a home holds a handful; this bounds a hostile one).
const MAX_FILES: usize = 4096;

/// What the trust files looked like: (path, length, mtime s, mtime ns, inode), sorted.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Stamp(Vec<(PathBuf, u64, i64, i64, u64)>);

fn add_dir(dir: &Path, out: &mut Vec<(PathBuf, u64, i64, i64, u64)>, subdirs: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten().take(MAX_FILES) {
        let Ok(m) = e.metadata() else { continue };
        if m.is_dir() {
            subdirs.push(e.path());
        } else {
            out.push((e.path(), m.len(), m.mtime(), m.mtime_nsec(), m.ino()));
        }
    }
}

/// Stamp the home's CRLs (`crl/`) and imported lists and CRLs (`trust/`, one level down).
pub fn stamp(home: &Home) -> Stamp {
    let mut files = Vec::new();
    let mut ignored = Vec::new();
    add_dir(&home.dir.join("crl"), &mut files, &mut ignored);
    let mut subdirs = Vec::new();
    add_dir(&crate::trust::list::dir(home), &mut files, &mut subdirs);
    for d in subdirs.iter().take(MAX_FILES) {
        add_dir(d, &mut files, &mut ignored);
    }
    files.sort();
    Stamp(files)
}

/// The current trust store and the stamp it was built from.
pub struct Trust {
    store: RwLock<Arc<TrustStore>>,
    /// Held while checking and rebuilding, so concurrent requests rebuild once.
    stamp: Mutex<Stamp>,
}

impl Trust {
    /// Build from the home.
    pub fn load(home: &Home) -> Result<Self> {
        let s = stamp(home);
        Ok(Trust { store: RwLock::new(Arc::new(TrustStore::from_home(home)?)), stamp: Mutex::new(s) })
    }

    fn get(&self) -> Arc<TrustStore> {
        match self.store.read() {
            Ok(t) => t.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn rebuild(&self, home: &Home, built_from: &mut Stamp) -> Result<()> {
        let s = stamp(home);
        let t = Arc::new(TrustStore::from_home(home)?);
        match self.store.write() {
            Ok(mut g) => *g = t,
            Err(p) => *p.into_inner() = t,
        }
        *built_from = s;
        Ok(())
    }

    /// The store, rebuilt first if the trust files changed since it was built. A rebuild that
    /// fails (region file or root unreadable) keeps the old store and logs why.
    pub fn current(&self, home: &Home) -> Arc<TrustStore> {
        let mut guard = match self.stamp.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let now = stamp(home);
        if now != *guard {
            match self.rebuild(home, &mut guard) {
                Ok(()) => tracing::info!("trust files changed on disk; trust store reloaded"),
                Err(e) => {
                    tracing::error!(error = %e, "trust files changed but the trust store could not be rebuilt; keeping the old one");
                    *guard = now;
                }
            }
        }
        drop(guard);
        self.get()
    }

    /// Rebuild now (after a revocation or a trust-list refresh).
    pub fn reload(&self, home: &Home) -> Result<()> {
        let mut guard = match self.stamp.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        self.rebuild(home, &mut guard)
    }
}
