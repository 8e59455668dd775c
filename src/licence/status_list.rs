//! The signed offline status list: one status bit per licence version of a region (in force, or
//! not: superseded, cancelled, revoked or suspended), for verifiers that download it once and
//! check licences offline — the W3C Bitstring Status List idea (one bit per credential, signed,
//! with a validity period, everyone downloads the whole list: herd privacy) adapted to licences
//! that carry no list index: the bits sit in an exact retrieval table keyed by the identifier
//! (`retrieval`), about 1.23 bits per licence version (≈ 154 KB for 1,000,000).
//!
//! File format (`application/vnd.zhengyin.status-list`, docs/api.md): one line holding a compact
//! JWS (ES256, `typ` [`TYP`], x5c = the region's status certificate) whose claims are
//! [`ListClaims`], a line feed, then the table's bytes, whose SHA-256 the claims name. The table
//! itself is pseudo-random (it does not compress); nothing else is added.
//!
//! A list covers the versions filed up to `covers_until`; a licence signed after that is not in
//! it and the list says nothing about it ([`Lookup::NotCovered`]). A list past its `next_update`
//! is refused. Knows the status index, the status key and files; nothing of HTTP or PDF.

use serde::{Deserialize, Serialize};

use super::answer::{open_jws, StatusSigner};
use super::retrieval::Table;
use super::status;
use crate::archive::Archive;
use crate::config::Home;
use crate::error::{PkiError, Result, StatusError};
use crate::trust::TrustStore;

/// The only accepted `typ` of a status list.
pub const TYP: &str = "zhengyin-status-list+jwt";
/// How long a list may be relied on, seconds (one day).
pub const LIST_VALIDITY_SECS: i64 = 24 * 3600;
/// Largest list accepted, bytes (a list for 10,000,000 licences is about 1.6 MB).
pub const MAX_LIST_BYTES: usize = 8 << 20;
/// The table encoding named in the claims.
pub const ENCODING: &str = "xor3-1bit-sha256";

/// The signed claims of a list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ListClaims {
    pub iss: String,
    /// `not-in-force`: a set bit means the version is superseded, cancelled, revoked or suspended.
    pub status_purpose: String,
    pub encoding: String,
    pub issued_at: String,
    pub iat: i64,
    pub next_update: String,
    pub exp: i64,
    /// Every version filed before this time is in the table (RFC 3339) and Unix seconds.
    pub covers_until: String,
    pub covers_until_unix: i64,
    /// Licence versions in the table, and how many of them are not in force.
    pub count: u64,
    pub not_in_force: u64,
    pub seed: u64,
    pub slots: u64,
    pub table_sha256: String,
}

/// A checked list.
#[derive(Debug, Clone)]
pub struct StatusList {
    pub claims: ListClaims,
    pub table: Table,
    /// The trust anchor the status certificate chains to ("region root", "trust list of …").
    pub anchor: String,
    /// The issuer (the region root) of the status certificate, RFC 4514.
    pub root_subject: String,
}

/// What a list says about one identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    InForce,
    NotInForce,
    /// Signed after the list was made: the list does not know it.
    NotCovered,
}

/// Where this home publishes its own list.
pub fn own_path(home: &Home) -> std::path::PathBuf {
    home.dir.join("status").join("list.zsl")
}

/// Where a list fetched from region `region` is kept.
pub fn imported_path(home: &Home, region: &str) -> std::path::PathBuf {
    crate::trust::list::dir(home).join(format!("{region}-status.zsl"))
}

/// Build and sign the list of every version in the archive's status index, at `now`.
pub fn build(signer: &StatusSigner, archive: &Archive, now: i64) -> Result<Vec<u8>> {
    let all: Vec<(String, bool)> =
        status::all(archive)?.into_iter().map(|(id, st)| (id, !st.in_force())).collect();
    build_entries(signer, &all, now)
}

/// Build and sign a list of (identifier, not in force) entries at `now` (benches/status_list.rs
/// measures it at 1,000,000 entries).
pub fn build_entries(signer: &StatusSigner, all: &[(String, bool)], now: i64) -> Result<Vec<u8>> {
    let keys: Vec<(&[u8], bool)> = all.iter().map(|(id, off)| (id.as_bytes(), *off)).collect();
    let table = Table::build(&keys).ok_or_else(|| {
        StatusError::List("the retrieval table could not be built (duplicate keys?)".into())
    })?;
    let rfc = crate::trust::rfc3339;
    let claims = ListClaims {
        iss: signer.region.clone(),
        status_purpose: "not-in-force".into(),
        encoding: ENCODING.into(),
        issued_at: rfc(now),
        iat: now,
        next_update: rfc(now + LIST_VALIDITY_SECS),
        exp: now + LIST_VALIDITY_SECS,
        covers_until: rfc(now),
        covers_until_unix: now,
        count: all.len() as u64,
        not_in_force: keys.iter().filter(|(_, b)| *b).count() as u64,
        seed: table.seed,
        slots: table.slots,
        table_sha256: crate::hex::encode(&crate::pades::cms::sha256(&table.bits)),
    };
    let jws = signer.sign(TYP, &serde_json::to_value(&claims).map_err(|e| PkiError::Sign(e.to_string()))?)?;
    let mut out = jws.into_bytes();
    out.push(b'\n');
    out.extend_from_slice(&table.bits);
    Ok(out)
}

/// Build the home's list and write it to [`own_path`]; returns the path and its size.
pub fn publish(home: &Home, archive: &Archive) -> Result<(std::path::PathBuf, usize)> {
    let signer = StatusSigner::load(home)?;
    let bytes = build(&signer, archive, time::OffsetDateTime::now_utc().unix_timestamp())?;
    let path = own_path(home);
    crate::pki::keys::make_dir(&home.dir.join("status"), 0o755)?;
    crate::pki::keys::write_file(&path, &bytes, 0o644)?;
    Ok((path, bytes.len()))
}

fn bad(m: impl Into<String>) -> crate::Error {
    StatusError::List(m.into()).into()
}

/// Check a list at `now`: the JWS (ES256, status key chained to a trusted root with the status
/// EKU), not past its nextUpdate, the table's digest and shape.
pub fn verify(bytes: &[u8], trust: &TrustStore, now: i64) -> Result<StatusList> {
    if bytes.len() > MAX_LIST_BYTES {
        return Err(bad(format!("larger than {MAX_LIST_BYTES} bytes")));
    }
    let nl = bytes.iter().position(|b| *b == b'\n').ok_or_else(|| bad("no JWS line"))?;
    let (head, rest) = bytes.split_at(nl);
    let table_bytes = rest.get(1..).unwrap_or_default();
    let jws = std::str::from_utf8(head).map_err(|_| bad("the JWS line is not text"))?;
    let (payload, anchor, ee) = open_jws(jws, TYP, trust, now, |m| StatusError::List(m).into())?;
    let claims: ListClaims =
        serde_json::from_slice(&payload).map_err(|e| bad(format!("claims unreadable: {e}")))?;
    if claims.exp < now {
        return Err(bad(format!(
            "it is past its nextUpdate ({}); fetch a fresh list (`zhengyin trust refresh` or the server's refresh)",
            claims.next_update
        )));
    }
    if claims.encoding != ENCODING {
        return Err(bad(format!(
            "unknown encoding `{}`",
            claims.encoding.chars().take(40).collect::<String>()
        )));
    }
    if crate::hex::encode(&crate::pades::cms::sha256(table_bytes)) != claims.table_sha256 {
        return Err(bad("the table does not match the signed digest"));
    }
    let table = Table { seed: claims.seed, slots: claims.slots, bits: table_bytes.to_vec() };
    if !table.well_formed() {
        return Err(bad("the table's size does not match its slot count"));
    }
    let root_subject =
        x509_parser::parse_x509_certificate(&ee).map(|(_, c)| c.issuer().to_string()).unwrap_or_default();
    Ok(StatusList { claims, table, anchor, root_subject })
}

impl StatusList {
    /// What the list says about `identifier`, whose first signature claims `signed_at` (Unix).
    pub fn lookup(&self, identifier: &str, signed_at: Option<i64>) -> Lookup {
        if signed_at.is_none_or(|t| t > self.claims.covers_until_unix) {
            return Lookup::NotCovered;
        }
        if self.table.get(identifier.as_bytes()) {
            Lookup::NotInForce
        } else {
            Lookup::InForce
        }
    }
}

/// Every list this home holds: its own, then the imported ones, each checked at `now`; lists that
/// fail are returned as (path, reason) so the caller can say why.
pub fn held(home: &Home, trust: &TrustStore, now: i64) -> (Vec<StatusList>, Vec<(String, String)>) {
    let mut paths = vec![own_path(home)];
    if let Ok(rd) = std::fs::read_dir(crate::trust::list::dir(home)) {
        let mut more: Vec<_> =
            rd.flatten().map(|e| e.path()).filter(|p| p.to_string_lossy().ends_with("-status.zsl")).collect();
        more.sort();
        paths.extend(more);
    }
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    for p in paths {
        let Ok(bytes) = std::fs::read(&p) else { continue };
        match verify(&bytes, trust, now) {
            Ok(l) => ok.push(l),
            Err(e) => bad.push((
                p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                e.to_string(),
            )),
        }
    }
    (ok, bad)
}

/// The status lists a home holds, as a status source for `verify`: the list whose status
/// certificate was issued by the root the licence chains to speaks for it.
pub struct ListSource {
    pub lists: Vec<StatusList>,
    /// Lists held but refused (file, reason): named when no list speaks.
    pub refused: Vec<(String, String)>,
}

impl ListSource {
    /// The lists held by `home`, checked at `now`.
    pub fn held(home: &Home, trust: &TrustStore, now: i64) -> Self {
        let (lists, refused) = held(home, trust, now);
        ListSource { lists, refused }
    }
}

impl crate::verify::status::StatusSource for ListSource {
    fn status_of(
        &self,
        s: &crate::verify::status::Subject<'_>,
    ) -> Option<crate::verify::status::LicenceStatus> {
        use crate::verify::status::LicenceStatus;
        let root = s.root?;
        let Some(l) = self.lists.iter().find(|l| l.root_subject == root) else {
            return (!self.refused.is_empty()).then(|| {
                LicenceStatus::unknown(
                    "none",
                    format!(
                        "no usable status list: {}",
                        self.refused
                            .iter()
                            .map(|(f, why)| format!("{f}: {why}"))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                )
            });
        };
        let source = format!(
            "status list of {} issued {} (next update {})",
            l.claims.iss, l.claims.issued_at, l.claims.next_update
        );
        let mut st = LicenceStatus::unknown(&source, "");
        match l.lookup(s.identifier, s.signed_at) {
            Lookup::NotCovered => {
                st.detail = format!(
                    "the licence was signed after the list was made (it covers versions filed until {}); ask online or refresh",
                    l.claims.covers_until
                )
            }
            Lookup::InForce => {
                st.status = "valid".into();
                st.in_force = Some(true);
                st.detail = "in force according to the status list".into();
            }
            Lookup::NotInForce => {
                st.status = "not-in-force".into();
                st.in_force = Some(false);
                st.detail = "superseded, cancelled, revoked or suspended according to the status list (ask online for which)".into();
            }
        }
        Some(st)
    }
}
