//! The log key's high-water mark: size and root of the newest tree head the key signed, kept
//! next to the key (`pki/private/log.state`, 0600), OUTSIDE the archive directory, so restoring
//! an old copy of the archive cannot reset it. The key refuses to sign a tree that is smaller than
//! the mark or does not extend it (a fork), and appends are refused while the archive is behind.
//!
//! The mark is written atomically (temporary file, fsync, rename, fsync of the directory) before
//! a new signature is released. Knows files and Merkle roots; nothing of records or PDF.
//! C2SP tlog-checkpoint: a log must never sign two different roots for one size.

use std::io::Write;
use std::path::Path;

use super::merkle::{self, Hash, NodeSource};
use crate::error::{ArchiveError, Result};
use crate::hex::encode as hex;

/// First line of the state file.
const VERSION: &str = "zhengyin-log-state/v1";

/// Size and root of the newest tree head signed by the log key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub size: u64,
    pub root: Hash,
}

/// Read the mark; `None` when no tree head was ever signed with the state kept (a new home, or
/// one from before the mark existed). A damaged file is an error, never a reset.
pub fn load(path: &Path) -> Result<Option<Mark>> {
    let text = match std::fs::read(path) {
        Ok(b) if b.len() <= 4096 => String::from_utf8_lossy(&b).into_owned(),
        Ok(_) => return Err(bad(path, "larger than 4 KiB")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(path, &e.to_string())),
    };
    let lines: Vec<&str> = text.lines().collect();
    let [VERSION, size, root] = lines.as_slice() else {
        return Err(bad(path, "expected 3 lines starting with the version"));
    };
    let size = size.parse().map_err(|_| bad(path, "size is not a number"))?;
    let root = crate::hex::decode32(root).ok_or_else(|| bad(path, "root is not 64 hex digits"))?;
    Ok(Some(Mark { size, root }))
}

fn bad(path: &Path, why: &str) -> crate::Error {
    ArchiveError::Store(format!(
        "the log key's state file {} is unreadable ({why}); refusing to sign without it",
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    ))
    .into()
}

/// Write the mark durably: temporary file 0600, fsync, rename over the old one, fsync the directory.
pub fn store(path: &Path, mark: &Mark) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let io = |e: std::io::Error| {
        crate::Error::from(ArchiveError::Store(format!("cannot write the log key's state: {e}")))
    };
    let tmp = dir.join(".log.state.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    f.write_all(format!("{VERSION}\n{}\n{}\n", mark.size, hex(&mark.root)).as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io)?;
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    Ok(())
}

/// Does a tree of `size` leaves (nodes from `src`) extend the mark? `Behind` when it is smaller,
/// `Fork` when its prefix of the mark's size has another root.
pub fn check(src: &dyn NodeSource, size: u64, mark: &Mark) -> Result<()> {
    if size < mark.size {
        return Err(ArchiveError::Behind { signed: mark.size, size }.into());
    }
    let have = merkle::root(src, mark.size)
        .ok_or_else(|| ArchiveError::Store(format!("log nodes missing for size {}", mark.size)))?;
    if have != mark.root {
        return Err(ArchiveError::Fork {
            size: mark.size,
            signed_root: hex(&mark.root),
            archive_root: hex(&have),
        }
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mark survives a round trip, a missing file is `None`, a damaged one is an error.
    #[test]
    fn round_trip_and_damage() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("log.state");
        assert_eq!(load(&p).unwrap(), None);
        let m = Mark { size: 7, root: [9; 32] };
        store(&p, &m).unwrap();
        assert_eq!(load(&p).unwrap(), Some(m));
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::write(&p, "zhengyin-log-state/v1\n7\nzz\n").unwrap();
        assert!(load(&p).is_err());
    }
}
