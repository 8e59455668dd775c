//! The CRL profile: whether one CRL, already known to be signed by a certificate's issuer, may
//! decide that certificate's revocation status at a given time. A CRL that fails here is not
//! used at all (not for the signer, not for the chain), and the report says why.
//!
//! Knows nothing of PDF, files or reports; x509-parser reads the extensions. RFC 5280 §5.1.2.4
//! and §5.1.2.5 (thisUpdate, nextUpdate), §5.2 (CRL extensions: unknown critical ones refuse
//! the CRL, deltaCRLIndicator, issuingDistributionPoint), §5.3 (entry extensions), §6.3.3 (b)
//! (scope: the CRL must cover the kind of certificate checked).

use std::fmt;

use x509_parser::prelude::*;

/// The kind of certificate whose status is asked (RFC 5280 §6.3.3 (b)(2)(ii)/(iii)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A seal (end-entity) certificate.
    EndEntity,
    /// A CA certificate of the chain.
    Ca,
    /// Any: only the checks that do not depend on the certificate (for webpki, which scopes
    /// CRLs itself).
    Any,
}

/// Why a CRL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// thisUpdate is after the validation time (§5.1.2.4).
    NotYetIssued { this_update: String },
    /// nextUpdate is before the validation time (§5.1.2.5). Checked last: a stale CRL passed
    /// every other rule.
    Stale { next_update: String },
    /// A delta CRL (deltaCRLIndicator, §5.2.4) is not a complete CRL.
    Delta,
    /// A critical extension this verifier does not process (§5.2, §5.3).
    UnknownCritical { oid: String, entry: Option<String> },
    /// issuingDistributionPoint limits the CRL to other certificates (§5.2.5).
    OutOfScope(&'static str),
    /// An entry revoked after the CRL was issued: the CRL's dates cannot be right.
    RevokedAfterIssue { serial: String, revoked_at: String, this_update: String },
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unusable::NotYetIssued { this_update } => {
                write!(f, "its thisUpdate {this_update} is in the future")
            }
            Unusable::Stale { next_update } => write!(f, "it is past its next update ({next_update})"),
            Unusable::Delta => write!(f, "it is a delta CRL (deltaCRLIndicator), not a complete CRL"),
            Unusable::UnknownCritical { oid, entry: None } => {
                write!(f, "it has an unknown critical extension {oid}")
            }
            Unusable::UnknownCritical { oid, entry: Some(s) } => {
                write!(f, "its entry for serial {s} has an unknown critical extension {oid}")
            }
            Unusable::OutOfScope(what) => write!(f, "its issuingDistributionPoint {what}"),
            Unusable::RevokedAfterIssue { serial, revoked_at, this_update } => {
                write!(f, "it lists serial {serial} as revoked at {revoked_at}, after its own thisUpdate {this_update}")
            }
        }
    }
}

/// CRL extensions this verifier knows (RFC 5280 §5.2): authorityKeyIdentifier, issuerAltName,
/// cRLNumber, issuingDistributionPoint, freshestCRL, authorityInfoAccess. deltaCRLIndicator is
/// known and refused.
const KNOWN_CRL_EXTENSIONS: &[&str] =
    &["2.5.29.35", "2.5.29.18", "2.5.29.20", "2.5.29.28", "2.5.29.46", "1.3.6.1.5.5.7.1.1"];
const DELTA_CRL_INDICATOR: &str = "2.5.29.27";
/// CRL entry extensions this verifier knows (§5.3): reasonCode, holdInstructionCode,
/// invalidityDate. certificateIssuer (2.5.29.29, indirect CRLs) is not supported.
const KNOWN_ENTRY_EXTENSIONS: &[&str] = &["2.5.29.21", "2.5.29.23", "2.5.29.24"];

/// Whether `list` may decide the status of a certificate of kind `scope` at `at` (Unix seconds).
/// The time-validity rules come last, so `Err(Stale)` means every other rule held.
pub fn check(list: &CertificateRevocationList<'_>, at: i64, scope: Scope) -> Result<(), Unusable> {
    let this_update = list.last_update().timestamp();
    for ext in list.extensions() {
        let oid = ext.oid.to_id_string();
        if oid == DELTA_CRL_INDICATOR {
            return Err(Unusable::Delta);
        }
        if let ParsedExtension::IssuingDistributionPoint(idp) = ext.parsed_extension() {
            scope_check(idp, scope)?;
        } else if oid == "2.5.29.28" || (ext.critical && !KNOWN_CRL_EXTENSIONS.contains(&oid.as_str())) {
            // An issuingDistributionPoint that does not parse counts as unknown.
            return Err(Unusable::UnknownCritical { oid, entry: None });
        }
    }
    for entry in list.iter_revoked_certificates() {
        for ext in entry.extensions() {
            let oid = ext.oid.to_id_string();
            if ext.critical && !KNOWN_ENTRY_EXTENSIONS.contains(&oid.as_str()) {
                return Err(Unusable::UnknownCritical { oid, entry: Some(entry.raw_serial_as_string()) });
            }
        }
        if entry.revocation_date.timestamp() > this_update {
            return Err(Unusable::RevokedAfterIssue {
                serial: entry.raw_serial_as_string(),
                revoked_at: super::rfc3339(entry.revocation_date.timestamp()),
                this_update: super::rfc3339(this_update),
            });
        }
    }
    if this_update > at {
        return Err(Unusable::NotYetIssued { this_update: super::rfc3339(this_update) });
    }
    match list.next_update() {
        Some(n) if n.timestamp() < at => Err(Unusable::Stale { next_update: super::rfc3339(n.timestamp()) }),
        _ => Ok(()),
    }
}

fn scope_check(idp: &IssuingDistributionPoint<'_>, scope: Scope) -> Result<(), Unusable> {
    if idp.only_contains_attribute_certs {
        return Err(Unusable::OutOfScope("covers attribute certificates only"));
    }
    if idp.indirect_crl {
        return Err(Unusable::OutOfScope("makes it an indirect CRL (not supported)"));
    }
    if idp.only_some_reasons.is_some() {
        return Err(Unusable::OutOfScope("covers only some revocation reasons (not a complete CRL)"));
    }
    match scope {
        Scope::EndEntity if idp.only_contains_ca_certs => Err(Unusable::OutOfScope(
            "covers CA certificates only (onlyContainsCACerts), not a seal certificate",
        )),
        Scope::Ca if idp.only_contains_user_certs => Err(Unusable::OutOfScope(
            "covers end-entity certificates only (onlyContainsUserCerts), not a CA certificate",
        )),
        _ => Ok(()),
    }
}

/// The entry for `serial` in `list`, if listed.
pub fn entry_for<'a, 'b>(
    list: &'b CertificateRevocationList<'a>,
    serial: &[u8],
) -> Option<&'b RevokedCertificate<'a>> {
    list.iter_revoked_certificates().find(|r| r.raw_serial() == serial)
}

/// When an entry's revocation takes effect for validation in the past: its invalidityDate
/// (RFC 5280 §5.3.2, when the key is known or suspected to have been compromised) if that is
/// earlier than its revocationDate.
pub fn effective_revocation(entry: &RevokedCertificate<'_>) -> i64 {
    let revoked = entry.revocation_date.timestamp();
    entry
        .extensions()
        .iter()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::InvalidityDate(t) => Some(t.timestamp()),
            _ => None,
        })
        .map_or(revoked, |invalid| invalid.min(revoked))
}

/// A name for a CRL in reports: its issuer and when it was issued (never a file path).
pub fn describe(list: &CertificateRevocationList<'_>) -> String {
    format!("the CRL of {} issued {}", list.issuer(), super::rfc3339(list.last_update().timestamp()))
}
