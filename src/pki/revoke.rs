//! Revocation: find which of the region's CAs issued a certificate (by serial), record the
//! revocation in `crl/<ca>.revoked.json`, and re-sign `crl/<ca>.crl` with that CA's key.
//!
//! Knows the home layout and rcgen; knows nothing of PDF, HTTP or verification (the verifier reads
//! the regenerated CRL through `trust::TrustStore::from_home`). RFC 5280 §5 (CRLs), §5.3.1
//! (reason codes).

use ::time::{Duration, OffsetDateTime};
use rcgen::{
    CertificateRevocationListParams, KeyIdMethod, RevocationReason, RevokedCertParams, SerialNumber,
};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

use crate::config::Home;
use crate::error::{PkiError, Result};

use super::keys;

/// One revoked certificate as recorded in `crl/<ca>.revoked.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RevokedEntry {
    /// Serial, lowercase hex without leading zeros.
    pub serial: String,
    /// Unix seconds.
    pub revoked_at: i64,
    /// RFC 5280 reason name in camelCase (`keyCompromise`, …), if any.
    pub reason: Option<String>,
    /// The certificate subject, for people reading the file.
    #[serde(default)]
    pub subject: String,
    /// Unix seconds since when the key is known or suspected to be compromised: the CRL entry's
    /// revocation date is backdated to it, so seals time-stamped after it do not count although
    /// they predate the revocation itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compromised_at: Option<i64>,
}

impl RevokedEntry {
    /// The time the CRL states: the key-compromise time when one was given (the CA backdates the
    /// revocation to it, RFC 5280 §5.3.2 leaves that to the CA), otherwise when it was recorded.
    pub fn effective(&self) -> i64 {
        self.compromised_at.map_or(self.revoked_at, |c| c.min(self.revoked_at))
    }
}

/// The result of [`revoke`].
#[derive(Debug, Clone, Serialize)]
pub struct Revoked {
    pub serial: String,
    pub ca: String,
    pub subject: String,
    /// RFC 3339.
    pub revoked_at: String,
    pub reason: Option<String>,
    /// Whether the serial was already revoked (the first revocation is kept).
    pub already: bool,
}

/// Normalise a hex serial: drop `:`/spaces, lowercase, strip leading zeros. `None` if not hex.
pub fn normalise_serial(s: &str) -> Option<String> {
    let h: String =
        s.chars().filter(|c| *c != ':' && !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    if h.is_empty() || h.len() > 80 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let t = h.trim_start_matches('0');
    Some(if t.is_empty() { "0".into() } else { t.to_string() })
}

fn reason_of(name: &str) -> Option<RevocationReason> {
    Some(match name {
        "unspecified" => RevocationReason::Unspecified,
        "keyCompromise" => RevocationReason::KeyCompromise,
        "caCompromise" => RevocationReason::CaCompromise,
        "affiliationChanged" => RevocationReason::AffiliationChanged,
        "superseded" => RevocationReason::Superseded,
        "cessationOfOperation" => RevocationReason::CessationOfOperation,
        "certificateHold" => RevocationReason::CertificateHold,
        "privilegeWithdrawn" => RevocationReason::PrivilegeWithdrawn,
        _ => return None,
    })
}

/// The reason names [`revoke`] accepts.
pub const REASONS: &[&str] = &[
    "unspecified",
    "keyCompromise",
    "caCompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
    "certificateHold",
    "privilegeWithdrawn",
];

use crate::hex::encode as hex;

/// A serial number's bytes from its hex (an odd number of digits has a leading zero implied).
fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 == 1 {
        crate::hex::decode(format!("0{s}"))
    } else {
        crate::hex::decode(s)
    }
}

/// The CA (by id) that issued the certificate with `serial`, and that certificate's subject.
/// Looks at department seal certificates (`seals/*.crt.pem`) and the CA certificates.
pub fn find_issuer(home: &Home, serial: &str) -> Result<(String, String)> {
    let want = normalise_serial(serial).ok_or_else(|| PkiError::UnknownSerial(serial.to_string()))?;
    let region = home.region()?;
    // Current and retired seal certificates (pki renew-seal), current and retired CA certificates
    // (pki roll-ca): a retired key's certificates stay revocable.
    let files_in = |dir: std::path::PathBuf| -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir)
            .map(|d| d.take(10_000).filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default()
    };
    let mut candidates = files_in(home.dir.join("seals"));
    candidates.extend(files_in(home.dir.join("seals").join("retired")));
    let mut ca_certs: Vec<(String, Vec<u8>)> = Vec::new();
    for c in &region.cas {
        candidates.push(home.ca_cert(&c.id));
        candidates.extend(super::ca_keys::retired(home, &c.id).into_iter().map(|r| r.cert));
        if let Some(der) = keys::read_certs_der(&home.ca_cert(&c.id)).ok().and_then(|v| v.into_iter().next())
        {
            ca_certs.push((c.id.clone(), der));
        }
    }
    for path in candidates {
        let Ok(ders) = keys::read_certs_der(&path) else { continue };
        for der in ders {
            let Ok((_, cert)) = X509Certificate::from_der(&der) else { continue };
            if normalise_serial(&hex(cert.raw_serial())).as_deref() != Some(want.as_str()) {
                continue;
            }
            // Every key of a CA has the CA's name (RFC 5280 §5: a CRL's issuer is that name).
            for (id, ca_der) in &ca_certs {
                let Ok((_, ca_cert)) = X509Certificate::from_der(ca_der) else { continue };
                if ca_cert.subject().as_raw() == cert.issuer().as_raw()
                    && ca_cert.subject().as_raw() != cert.subject().as_raw()
                {
                    return Ok((id.clone(), cert.subject().to_string()));
                }
            }
        }
    }
    Err(PkiError::UnknownSerial(want).into())
}

fn ledger_path(home: &Home, ca: &str) -> std::path::PathBuf {
    home.dir.join("crl").join(format!("{ca}.revoked.json"))
}

/// The revocations recorded for `ca` (empty when none).
pub fn ledger(home: &Home, ca: &str) -> Result<Vec<RevokedEntry>> {
    let path = ledger_path(home, ca);
    match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b).map_err(|e| {
            PkiError::BadCertificate { path, message: format!("revocation ledger is not valid JSON: {e}") }
                .into()
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(crate::error::io_at(path)(e)),
    }
}

/// Revoke the certificate with hex `serial`: record it and re-sign its CA's CRL.
/// `compromised_at` (Unix s, keyCompromise only) backdates the CRL entry (see [`RevokedEntry::effective`]).
pub fn revoke(
    home: &Home,
    serial: &str,
    reason: Option<&str>,
    compromised_at: Option<i64>,
) -> Result<Revoked> {
    if compromised_at.is_some() && reason != Some("keyCompromise") {
        return Err(
            PkiError::Refused("a compromise time goes with --reason keyCompromise only".into()).into()
        );
    }
    if compromised_at.is_some_and(|t| t > OffsetDateTime::now_utc().unix_timestamp()) {
        return Err(PkiError::Refused("the compromise time is in the future".into()).into());
    }
    if compromised_at.is_some_and(|t| t < 0) {
        return Err(PkiError::Refused("the compromise time is before 1970".into()).into());
    }
    if let Some(r) = reason {
        if reason_of(r).is_none() {
            return Err(PkiError::Refused(format!(
                "unknown revocation reason `{r}` (known: {})",
                REASONS.join(", ")
            ))
            .into());
        }
    }
    let (ca, subject) = find_issuer(home, serial)?;
    let serial = normalise_serial(serial).unwrap_or_default();
    let mut entries = ledger(home, &ca)?;
    let already = entries.iter().find(|e| e.serial == serial).cloned();
    let entry = match &already {
        Some(e) => e.clone(),
        None => {
            let e = RevokedEntry {
                serial: serial.clone(),
                revoked_at: OffsetDateTime::now_utc().unix_timestamp(),
                reason: reason.map(String::from),
                subject: subject.clone(),
                compromised_at,
            };
            entries.push(e.clone());
            let json = serde_json::to_vec_pretty(&entries).map_err(|e| PkiError::Sign(e.to_string()))?;
            keys::write_file(&ledger_path(home, &ca), &json, 0o644)?;
            e
        }
    };
    regenerate_crl(home, &ca)?;
    tracing::info!(ca = %ca, serial = %serial, "certificate revoked");
    Ok(Revoked {
        serial,
        ca,
        subject,
        revoked_at: crate::trust::rfc3339(entry.effective()),
        reason: entry.reason,
        already: already.is_some(),
    })
}

/// Re-sign `crl/<ca>.crl` from the ledger (valid [`super::crl::validity_days`]; `serve` and
/// `zhengyin crl refresh` re-sign it when half of that is gone), holding the CA's CRL lock.
pub fn regenerate_crl(home: &Home, ca: &str) -> Result<()> {
    super::crl::with_lock(home, ca, || regenerate_crl_locked(home, ca))
}

/// [`regenerate_crl`] for a caller that already holds the CA's CRL lock.
pub(crate) fn regenerate_crl_locked(home: &Home, ca: &str) -> Result<()> {
    regenerate_crl_since(home, ca, None)
}

/// [`regenerate_crl_locked`] with thisUpdate no earlier than `since` (Unix seconds, not after
/// now): a CRL that speaks about a signature made at `since` (`crl::issued_since`). Every key of
/// the CA signs one (`ca_keys`: a retired key's CRL covers the certificates it issued), with the
/// same ledger, thisUpdate and cRLNumber.
pub(crate) fn regenerate_crl_since(home: &Home, ca: &str, since: Option<i64>) -> Result<()> {
    let issuers = super::ca_keys::issuers(home, ca)?;
    let mut revoked = Vec::new();
    for e in ledger(home, ca)? {
        let Some(bytes) = unhex(&e.serial) else { continue };
        revoked.push(RevokedCertParams {
            serial_number: SerialNumber::from_slice(&bytes),
            revocation_time: OffsetDateTime::from_unix_timestamp(e.effective())
                .unwrap_or_else(|_| OffsetDateTime::now_utc()),
            reason_code: e.reason.as_deref().and_then(reason_of),
            // rcgen 0.13 writes invalidityDate as UTCTime where RFC 5280 §5.3.2 requires
            // GeneralizedTime; the compromise time goes into revocationDate instead (above).
            invalidity_date: None,
        });
    }
    let now = OffsetDateTime::now_utc();
    // thisUpdate is never earlier than a revocation the CRL lists (verifiers refuse such a CRL).
    let latest = revoked.iter().map(|r| r.revocation_time).max();
    let mut this_update = latest.map_or(now - Duration::minutes(5), |l| l.max(now - Duration::minutes(5)));
    if let Some(t) = since.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok()) {
        this_update = this_update.max(t.min(now));
    }
    // Nor earlier than the CRL it replaces: verifiers that hold the previous one (another region's
    // refresh, trust::imports) refuse an older thisUpdate as a replay.
    if let Some(prev) = previous_this_update(home, ca) {
        this_update = this_update.max(prev.min(now));
    }
    let number = next_crl_number(home, ca);
    let next_update = now + Duration::days(super::crl::validity_days(home, ca));
    for (name, super::Issuer { cert, key }) in issuers {
        let crl = CertificateRevocationListParams {
            this_update,
            next_update,
            crl_number: number.clone(),
            issuing_distribution_point: None,
            revoked_certs: revoked.iter().map(copy_entry).collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&cert, &key)
        .map_err(|e| PkiError::Generate { what: format!("CRL {name} of {ca}"), message: e.to_string() })?;
        keys::write_file(&home.crl_file(&name), crl.der(), 0o644)?;
    }
    Ok(())
}

fn copy_entry(r: &RevokedCertParams) -> RevokedCertParams {
    RevokedCertParams {
        serial_number: r.serial_number.clone(),
        revocation_time: r.revocation_time,
        reason_code: r.reason_code,
        invalidity_date: r.invalidity_date,
    }
}

/// The CRLs of every key of `ca` that can be read.
fn current_crls(home: &Home, ca: &str) -> Vec<Vec<u8>> {
    super::ca_keys::crl_names(home, ca).iter().filter_map(|n| std::fs::read(home.crl_file(n)).ok()).collect()
}

/// The latest thisUpdate of the CRLs of `ca`, if there is a readable one.
fn previous_this_update(home: &Home, ca: &str) -> Option<OffsetDateTime> {
    current_crls(home, ca)
        .iter()
        .filter_map(|der| {
            let (_, list) = CertificateRevocationList::from_der(der).ok()?;
            OffsetDateTime::from_unix_timestamp(list.last_update().timestamp()).ok()
        })
        .max()
}

/// The cRLNumber for the next CRL of `ca` (RFC 5280 §5.2.3: monotonically increasing): one more
/// than the current CRL's, and at least the current Unix time, so a deleted CRL file does not
/// restart the sequence below numbers already published.
pub(crate) fn next_crl_number(home: &Home, ca: &str) -> SerialNumber {
    let previous = current_crls(home, ca)
        .iter()
        .filter_map(|der| {
            let (_, list) = CertificateRevocationList::from_der(der).ok()?;
            list.crl_number().map(|n| n.to_bytes_be())
        })
        .reduce(|a, b| max_be(&a, &b));
    let now = u64::try_from(OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0).to_be_bytes();
    let next = match previous {
        Some(p) => max_be(&increment_be(&p), &now),
        None => now.to_vec(),
    };
    SerialNumber::from_slice(&next)
}

/// `n + 1` for a big-endian unsigned number.
fn increment_be(n: &[u8]) -> Vec<u8> {
    let mut out = n.to_vec();
    for b in out.iter_mut().rev() {
        let (v, carry) = b.overflowing_add(1);
        *b = v;
        if !carry {
            return out;
        }
    }
    out.insert(0, 1);
    out
}

/// The larger of two big-endian unsigned numbers.
fn max_be(a: &[u8], b: &[u8]) -> Vec<u8> {
    let strip = |x: &[u8]| {
        x.iter().position(|&v| v != 0).map_or(Vec::new(), |i| x.get(i..).unwrap_or_default().to_vec())
    };
    let (a, b) = (strip(a), strip(b));
    if (a.len(), &a) >= (b.len(), &b) {
        a
    } else {
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_normalise() {
        assert_eq!(normalise_serial("00:AB:cd").as_deref(), Some("abcd"));
        assert_eq!(normalise_serial("000").as_deref(), Some("0"));
        assert_eq!(normalise_serial("xyz"), None);
    }

    /// CRL numbers count up, across carries and from a timestamp floor.
    #[test]
    fn crl_numbers_increase() {
        assert_eq!(increment_be(&[0x01, 0xff]), vec![0x02, 0x00]);
        assert_eq!(increment_be(&[0xff]), vec![0x01, 0x00]);
        assert_eq!(max_be(&[0, 0, 5], &[4]), vec![5]);
        assert_eq!(max_be(&[5], &[1, 0]), vec![1, 0]);
        assert_eq!(normalise_serial(""), None);
    }
}
