//! Fresh CRLs: every CA's CRL is re-signed well before its nextUpdate, by `serve` (a background
//! task), by `zhengyin crl refresh` (cron, where no server runs) and before every seal (so the
//! sealed PDF's DSS carries current revocation data). Regeneration of one CA's CRL is serialised
//! by a lock file (`crl/<ca>.lock`), so the cRLNumber strictly increases across processes.
//!
//! Knows the home layout and the region's CAs; re-signing itself is `revoke::regenerate_crl`
//! (which keeps the revocation ledger). Knows nothing of PDF or HTTP. RFC 5280 §5.1.2.4–5
//! (thisUpdate, nextUpdate), §5.2.3 (cRLNumber).

use std::fs::OpenOptions;

use serde::Serialize;
use x509_parser::prelude::*;

use crate::config::Home;
use crate::error::Result;

/// How long a CRL of a level CA (it lists seal certificates) is valid (thisUpdate to nextUpdate),
/// in days.
pub const VALIDITY_DAYS: i64 = 7;

/// How long the region root's CRL is valid, in days. The root certifies only CAs, the TSA and the
/// status key, so its CRL is an authority revocation list, and a year is the usual ceiling for
/// one (CA/Browser Forum Baseline Requirements §4.9.7). A document timestamp's DSS carries it as
/// the revocation data of the TSA certificate; an offline validator (pyHanko `adesverify`)
/// accepts the newest document timestamp only while that CRL is current, so `archive renew`
/// re-timestamps a record before the CRL in its newest timestamp's DSS ends (`lta`).
pub const ROOT_VALIDITY_DAYS: i64 = 365;

/// The validity of the CRL of `ca`: [`ROOT_VALIDITY_DAYS`] for the region root, else
/// [`VALIDITY_DAYS`].
pub fn validity_days(home: &Home, ca: &str) -> i64 {
    if home.region().is_ok_and(|r| r.root().id == ca) {
        ROOT_VALIDITY_DAYS
    } else {
        VALIDITY_DAYS
    }
}

/// One CA's CRL after [`refresh`].
#[derive(Debug, Clone, Serialize)]
pub struct CrlState {
    pub ca: String,
    /// Whether this run re-signed it.
    pub refreshed: bool,
    /// cRLNumber, decimal.
    pub crl_number: String,
    /// RFC 3339.
    pub this_update: String,
    pub next_update: String,
}

/// Whether a CRL (DER, if any) should be re-signed at `now` (Unix seconds): missing, unreadable,
/// without nextUpdate, or with less than half of its validity left.
pub fn due(der: Option<&[u8]>, now: i64) -> bool {
    let Some((_, list)) = der.and_then(|d| CertificateRevocationList::from_der(d).ok()) else {
        return true;
    };
    let this = list.last_update().timestamp();
    let Some(next) = list.next_update().map(|n| n.timestamp()) else { return true };
    now >= next - (next - this) / 2 || this > now
}

/// Re-sign the CRL of every CA of the region that is [`due`] (all of them with `force`).
pub fn refresh(home: &Home, force: bool) -> Result<Vec<CrlState>> {
    let region = home.region()?;
    let mut out = Vec::new();
    for ca in &region.cas {
        let refreshed = refresh_one(home, &ca.id, force)?;
        out.push(state(home, &ca.id, refreshed));
    }
    Ok(out)
}

/// [`refresh`] what is due before work that verifies with the home's own CRLs (seal add,
/// annotated copies, archive ingest and audit), so a home without `serve` or cron does not find
/// its own CRLs stale; a failure is logged, not fatal (the verification then says what it finds).
pub fn refresh_due(home: &Home) {
    if let Err(e) = refresh(home, false) {
        tracing::warn!(error = %e, "CRLs not refreshed");
    }
}

/// Each CA's current CRL, without re-signing anything.
pub fn show(home: &Home) -> Result<Vec<CrlState>> {
    Ok(home.region()?.cas.iter().map(|ca| state(home, &ca.id, false)).collect())
}

/// Re-sign `ca`'s CRLs (one per key, `ca_keys`) if one is due (or `force`); true when re-signed.
pub fn refresh_one(home: &Home, ca: &str, force: bool) -> Result<bool> {
    with_lock(home, ca, || {
        let now = ::time::OffsetDateTime::now_utc().unix_timestamp();
        let names = super::ca_keys::crl_names(home, ca);
        if !force && !names.iter().any(|n| due(std::fs::read(home.crl_file(n)).ok().as_deref(), now)) {
            return Ok(false);
        }
        super::revoke::regenerate_crl_locked(home, ca)?;
        tracing::info!(ca, "CRL re-signed");
        Ok(true)
    })
}

/// The CRL of `ca` for a DSS next to a signature made by `t` (Unix seconds): the current one when
/// it was issued at or after `t` and is not due, else one re-signed now with thisUpdate `t`
/// (revocation data issued after the signing time, ETSI EN 319 102-1 §5.2.5.4). Within one
/// second every seal shares one CRL, so sealing in bulk re-signs about once a second.
pub fn issued_since(home: &Home, ca: &str, t: i64) -> Result<Vec<u8>> {
    with_lock(home, ca, || {
        let now = ::time::OffsetDateTime::now_utc().unix_timestamp();
        if let Ok(der) = std::fs::read(home.crl(ca)) {
            let issued =
                CertificateRevocationList::from_der(&der).ok().map(|(_, l)| l.last_update().timestamp());
            if issued.is_some_and(|i| i >= t) && !due(Some(&der), now) {
                return Ok(der);
            }
        }
        super::revoke::regenerate_crl_since(home, ca, Some(t.min(now)))?;
        let path = home.crl(ca);
        std::fs::read(&path).map_err(crate::error::io_at(&path))
    })
}

/// A CRL's thisUpdate (Unix seconds), if it parses.
pub fn this_update(der: &[u8]) -> Option<i64> {
    CertificateRevocationList::from_der(der).ok().map(|(_, l)| l.last_update().timestamp())
}

/// Make sure the CRLs of `ca` and of every CA above it are current (before a seal embeds them).
pub fn refresh_path(home: &Home, ca: &str) -> Result<()> {
    let region = home.region()?;
    let mut cur = region.ca(ca);
    let mut steps = 0;
    while let Some(c) = cur {
        refresh_one(home, &c.id, false)?;
        steps += 1;
        cur = c.parent.as_deref().and_then(|p| region.ca(p)).filter(|_| steps <= region.cas.len());
    }
    Ok(())
}

fn state(home: &Home, ca: &str, refreshed: bool) -> CrlState {
    let der = std::fs::read(home.crl(ca)).unwrap_or_default();
    let parsed = CertificateRevocationList::from_der(&der).ok();
    let list = parsed.as_ref().map(|(_, l)| l);
    CrlState {
        ca: ca.to_string(),
        refreshed,
        crl_number: list.and_then(|l| l.crl_number()).map(|n| n.to_string()).unwrap_or_default(),
        this_update: list.map(|l| crate::trust::rfc3339(l.last_update().timestamp())).unwrap_or_default(),
        next_update: list
            .and_then(|l| l.next_update())
            .map(|n| crate::trust::rfc3339(n.timestamp()))
            .unwrap_or_default(),
    }
}

/// Run `f` holding an exclusive lock on `crl/<ca>.lock` (released when the file closes).
pub(crate) fn with_lock<T>(home: &Home, ca: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let dir = home.dir.join("crl");
    let path = dir.join(format!("{ca}.lock"));
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(crate::error::io_at(&path))?;
    lock(&file).map_err(crate::error::io_at(&path))?;
    let r = f();
    drop(file);
    r
}

#[cfg(unix)]
fn lock(f: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock on a descriptor we own; the lock goes with `f` when it is dropped.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn lock(_: &std::fs::File) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CRL is due when missing or unreadable.
    #[test]
    fn missing_is_due() {
        assert!(due(None, 0));
        assert!(due(Some(b"not a crl"), 0));
    }
}
