//! Departments' holder data (synthetic fixtures) in a sled database under `<home>/holders`, keyed by
//! pseudonymous holder codes (居民码/企业码 style): HMAC-SHA-256 of the ID number or USCC under the
//! region secret (`<home>/pki/private/region-secret`, 0600, created once, never overwritten).
//!
//! The raw ID never reaches the database, a log line or an error message: only its code and a
//! masked form (3709**********123X).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use ring::hmac;
use serde::{Deserialize, Serialize};

use crate::config::Home;
use crate::error::{ProofError, Result};

/// One department's record about one holder, as stored (no raw ID).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HolderRecord {
    pub code: String,
    pub masked: String,
    pub name: String,
    pub kind: String,
    pub dept: String,
    pub fields: BTreeMap<String, String>,
    pub loaded_at: String,
}

pub fn holders_dir(home: &Home) -> PathBuf {
    home.dir.join("holders")
}

pub fn secret_path(home: &Home) -> PathBuf {
    home.private_dir().join("region-secret")
}

/// The region secret as an HMAC key; created (32 random bytes, 0600) on first use, never replaced.
pub fn region_key(home: &Home) -> Result<hmac::Key> {
    let path = secret_path(home);
    if !path.exists() {
        if !home.region_file().exists() {
            return Err(crate::error::ConfigError::NotInitialised { home: home.dir.clone() }.into());
        }
        crate::pki::keys::make_dir(&home.private_dir(), 0o700)?;
        let bytes = crate::document::render::random_bytes::<32>()?;
        use std::os::unix::fs::OpenOptionsExt;
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path) {
            Ok(mut f) => {
                f.write_all(crate::hex::encode(&bytes).as_bytes()).map_err(crate::error::io_at(&path))?;
                f.sync_all().map_err(crate::error::io_at(&path))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(crate::error::io_at(&path)(e)),
        }
    }
    let text = std::fs::read_to_string(&path).map_err(crate::error::io_at(&path))?;
    let text = text.trim();
    if text.len() < 32 {
        return Err(ProofError::Other(format!("{}: region secret too short", path.display())).into());
    }
    Ok(hmac::Key::new(hmac::HMAC_SHA256, text.as_bytes()))
}

/// Normalise an ID number / USCC (trim, upper-case) and check it (GB 11643 or GB 32100).
pub fn normalise_id(raw: &str) -> Option<String> {
    let id = raw.trim().to_ascii_uppercase();
    if resident_id_is_valid(&id) || crate::document::identifier::uscc_is_valid(&id) {
        Some(id)
    } else {
        None
    }
}

/// GB 11643 citizen ID number: 17 digits + MOD 11-2 check character.
pub fn resident_id_is_valid(id: &str) -> bool {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const C: &[u8; 11] = b"10X98765432";
    let b = id.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b[..17].iter().zip(W).map(|(d, w)| u32::from(d - b'0') * w).sum();
    C.get(usize::try_from(sum % 11).unwrap_or(0)) == b.get(17)
}

/// The holder code: `HC` + first 32 hex characters (upper case) of HMAC-SHA-256(secret, ID).
pub fn holder_code(key: &hmac::Key, id: &str) -> String {
    let tag = hmac::sign(key, id.trim().to_ascii_uppercase().as_bytes());
    format!("HC{}", crate::hex::encode(&tag.as_ref()[..16]).to_uppercase())
}

/// 3709**********123X: first four and last four characters.
pub fn mask(id: &str) -> String {
    let c: Vec<char> = id.trim().chars().collect();
    if c.len() <= 8 {
        return "*".repeat(c.len());
    }
    let n = c.len();
    format!(
        "{}{}{}",
        c[..4].iter().collect::<String>(),
        "*".repeat(n - 8),
        c[n - 4..].iter().collect::<String>()
    )
}

/// Read a CSV (header row; no quoted commas) or JSON (array of objects) data file into rows.
pub fn read_rows(path: &Path) -> Result<Vec<BTreeMap<String, String>>> {
    let text = std::fs::read_to_string(path).map_err(crate::error::io_at(path))?;
    let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('[');
    if is_json {
        let v: Vec<serde_json::Map<String, serde_json::Value>> =
            serde_json::from_str(&text).map_err(|e| {
                ProofError::Data(format!(
                    "{}: not a JSON array of objects: line {} column {}",
                    path.display(),
                    e.line(),
                    e.column()
                ))
            })?;
        return Ok(v
            .into_iter()
            .map(|o| {
                o.into_iter()
                    .map(|(k, v)| (k, v.as_str().map(String::from).unwrap_or_else(|| v.to_string())))
                    .collect()
            })
            .collect());
    }
    let mut lines = text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let header: Vec<String> = lines
        .next()
        .ok_or_else(|| ProofError::Data(format!("{}: empty file", path.display())))?
        .split(',')
        .map(|s| s.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    let mut rows = Vec::new();
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        if cells.len() != header.len() {
            return Err(ProofError::Data(format!(
                "{}: row {} has {} cells, the header {}",
                path.display(),
                i + 2,
                cells.len(),
                header.len()
            ))
            .into());
        }
        rows.push(header.iter().cloned().zip(cells.into_iter().map(String::from)).collect());
    }
    Ok(rows)
}

/// The holder database (one sled DB; one tree per department).
pub struct Holders {
    db: sled::Db,
}

fn db_err(e: impl std::fmt::Display) -> crate::error::Error {
    ProofError::Data(e.to_string()).into()
}

fn key(kind: &str, code: &str) -> Vec<u8> {
    format!("{kind}/{code}").into_bytes()
}

impl Holders {
    pub fn open(home: &Home) -> Result<Self> {
        let dir = holders_dir(home);
        crate::pki::keys::make_dir(&dir, 0o700)?;
        Ok(Holders { db: sled::open(&dir).map_err(db_err)? })
    }

    /// Load rows for `dept`; each needs `id` (ID number or USCC) and `kind` (a kind `dept` holds).
    /// Returns the number of records stored. Errors name rows, never the raw ID.
    pub fn load(&self, home: &Home, dept: &str, rows: &[BTreeMap<String, String>]) -> Result<usize> {
        home.region()?.department(dept)?;
        let list = super::uses::UseList::load(home)?;
        let secret = region_key(home)?;
        let tree = self.db.open_tree(dept).map_err(db_err)?;
        let (t, _) = super::now();
        let mut batch = sled::Batch::default();
        for (i, row) in rows.iter().enumerate() {
            let bad = |m: &str| ProofError::Data(format!("record {}: {m}", i + 1));
            let raw = row.get("id").ok_or_else(|| bad("no `id` column"))?;
            let id = normalise_id(raw).ok_or_else(|| {
                bad("`id` is neither a valid ID number (GB 11643) nor a valid USCC (GB 32100)")
            })?;
            let kind = row.get("kind").ok_or_else(|| bad("no `kind` column"))?;
            let k =
                list.kind(kind).ok_or_else(|| bad(&format!("kind `{kind}` is not on the list of uses")))?;
            if k.holder != dept {
                return Err(bad(&format!("kind `{kind}` is held by `{}`, not `{dept}`", k.holder)).into());
            }
            let code = holder_code(&secret, &id);
            let rec = HolderRecord {
                code: code.clone(),
                masked: mask(&id),
                name: row.get("name").cloned().unwrap_or_default(),
                kind: kind.clone(),
                dept: dept.to_string(),
                fields: row
                    .iter()
                    .filter(|(k, _)| !matches!(k.as_str(), "id" | "name" | "kind"))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                loaded_at: t.clone(),
            };
            batch.insert(key(kind, &code), serde_json::to_vec(&rec).map_err(db_err)?);
        }
        tree.apply_batch(batch).map_err(db_err)?;
        self.db.flush().map_err(db_err)?;
        Ok(rows.len())
    }

    /// The record `dept` holds about `code` for `kind`.
    pub fn get(&self, dept: &str, kind: &str, code: &str) -> Result<Option<HolderRecord>> {
        let tree = self.db.open_tree(dept).map_err(db_err)?;
        match tree.get(key(kind, code)).map_err(db_err)? {
            Some(v) => Ok(Some(serde_json::from_slice(&v).map_err(db_err)?)),
            None => Ok(None),
        }
    }
}
