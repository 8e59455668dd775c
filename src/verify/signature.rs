//! One signature through the checks of ETSI EN 319 102-1 basic validation, in order: format,
//! integrity of the byte range, the CMS signature value, the signing-certificate binding, key
//! usage, then (in their own modules) chain and revocation, department and authority, coverage and
//! modifications. Each check is one function appending to the signature's report; the pipeline
//! stops early only where later checks would have nothing to look at (pyHanko composes its
//! validation the same way).
//!
//! Knows `pades` (the parsed signature and CMS) and `trust` (through `chain`); nothing of HTTP,
//! the archive or the document's layout.

use rustls_pki_types::UnixTime;
use x509_parser::prelude::*;

use super::report::Indication::{Indeterminate, TotalFailed};
use super::report::{check, fail, Check, SignatureReport, Signer, Status};
use super::{authority, chain, department, modifications};
use crate::error::Result;
use crate::pades::algorithms::{self, SignatureCheck};
use crate::pades::budget::Budget;
use crate::pades::{cms, ParsedSignature};
use crate::trust::TrustStore;

/// Everything the checks of one signature may look at. Built once per signature by
/// [`super::verify_with`]; the checks only read it.
pub struct Context<'a> {
    /// 1-based position of the signature in the document.
    pub index: usize,
    pub sig: &'a ParsedSignature,
    /// The file as received.
    pub pdf: &'a [u8],
    /// The bytes lopdf parsed (/Contents hex blanked in place): revisions are re-read from these.
    pub parsed_bytes: &'a [u8],
    /// The whole document as parsed.
    pub doc: &'a lopdf::Document,
    /// Offsets just past each revision's %%EOF.
    pub revisions: &'a [usize],
    /// The earlier revisions, each parsed once for all signatures (`revisions`).
    pub earlier: &'a super::revisions::Revisions<'a>,
    /// Every signature of the document, in order.
    pub all: &'a [ParsedSignature],
    pub trust: &'a TrustStore,
    /// CRLs the document carries in its /DSS (PAdES B-LT), read once per document (`ltv`).
    pub embedded_crls: &'a [Vec<u8>],
    /// The validation time.
    pub at: UnixTime,
    /// Proofs of existence from outside the signature (archive evidence records, document
    /// timestamps); the signature's own timestamp is added by `poe`.
    pub poes: &'a [super::poe::Poe],
}

/// The signer's certificate, once found: its DER and the parsed view of it.
pub struct SignerCert<'a> {
    pub der: &'a [u8],
    pub cert: X509Certificate<'a>,
}

/// Run every check on one signature and conclude its indication.
pub fn verify_one(ctx: &Context<'_>, budget: &mut Budget) -> Result<SignatureReport> {
    let mut r = empty_report(ctx.index, &ctx.sig.field_name);
    r.signing_time_claimed = ctx.sig.signing_time.clone();
    r.sub_filter = ctx.sig.sub_filter.clone();
    r.byte_range = Some(ctx.sig.byte_range);
    r.certifies = ctx.sig.docmdp;

    let Some(parsed) = format(ctx.sig, &mut r.checks) else {
        r.conclude();
        return Ok(r);
    };
    integrity(ctx, &parsed, &mut r.checks);
    let Some(signer_der) = signer_der(&parsed, &mut r.checks) else {
        r.conclude();
        return Ok(r);
    };
    let Some(signer) = signer_cert(&signer_der, &mut r) else {
        r.conclude();
        return Ok(r);
    };
    r.checks.push(signature_check(&parsed, &signer.cert));
    r.checks.push(signing_certificate_check(&parsed, signer.der));
    r.checks.push(key_usage_check(&signer.cert));
    super::timestamp::run(ctx, &parsed, &mut r, budget)?;
    chain::run(ctx, &parsed, &signer, &mut r);
    // Validation in the past before the department is named: a chain valid at the POE time
    // binds the seal to its region's department as a chain valid now would.
    super::poe::apply(&mut r, ctx.sig, ctx.poes, ctx.trust);
    department::run(ctx, &signer, &mut r);
    authority::apply(&mut r.checks, r.department.as_ref(), ctx.sig, ctx.all, ctx.doc, ctx.trust);
    modifications::run(ctx, &mut r, budget)?;
    r.conclude();
    Ok(r)
}

/// FORMAT: a supported SubFilter carrying a CMS SignedData over id-data.
fn format(sig: &ParsedSignature, checks: &mut Vec<Check>) -> Option<cms::ParsedCms> {
    if sig.sub_filter != "ETSI.CAdES.detached" && sig.sub_filter != "adbe.pkcs7.detached" {
        checks.push(fail(
            "FORMAT",
            Status::Indeterminate,
            Indeterminate,
            "FORMAT_FAILURE",
            format!("SubFilter /{} is not supported", sig.sub_filter),
        ));
        return None;
    }
    let parsed = match cms::parse(&sig.contents) {
        Ok(p) => p,
        Err(e) => {
            checks.push(fail("FORMAT", Status::Failed, TotalFailed, "FORMAT_FAILURE", e));
            return None;
        }
    };
    if !parsed.content_type_is_data {
        checks.push(fail(
            "FORMAT",
            Status::Failed,
            TotalFailed,
            "FORMAT_FAILURE",
            "the content-type signed attribute is missing or not id-data",
        ));
        return None;
    }
    checks.push(check(
        "FORMAT",
        Status::Passed,
        format!(
            "/{} with a CMS SignedData{}; byte range checked against the file",
            sig.sub_filter,
            if parsed.ber {
                " (BER with indefinite lengths, read as DER; signed attributes DER)"
            } else {
                ""
            }
        ),
    ));
    Some(parsed)
}

/// INTEGRITY: the digest of the signed bytes equals the message-digest attribute.
fn integrity(ctx: &Context<'_>, parsed: &cms::ParsedCms, checks: &mut Vec<Check>) {
    let [_, a1, b0, b1] = ctx.sig.byte_range;
    let alg = algorithms::Hash::from_oid(parsed.digest_alg);
    let second = b0.checked_add(b1).and_then(|end| ctx.pdf.get(b0..end));
    checks.push(match (alg, &parsed.message_digest, ctx.pdf.get(..a1), second) {
        (Ok(alg), Some(md), Some(first), Some(second)) => {
            if alg.digest(&[first, second]) == *md {
                check(
                    "INTEGRITY",
                    Status::Passed,
                    format!(
                        "the {} digest of the signed bytes matches the message-digest attribute",
                        alg.name()
                    ),
                )
            } else {
                fail(
                    "INTEGRITY",
                    Status::Failed,
                    TotalFailed,
                    "HASH_FAILURE",
                    "the signed bytes were changed: their digest does not match the signature",
                )
            }
        }
        (Err(outside), ..) => {
            fail("INTEGRITY", Status::Indeterminate, Indeterminate, "CRYPTO_CONSTRAINTS_FAILURE", outside.0)
        }
        (_, None, ..) => fail(
            "INTEGRITY",
            Status::Failed,
            TotalFailed,
            "FORMAT_FAILURE",
            "no message-digest signed attribute",
        ),
        _ => fail("INTEGRITY", Status::Failed, TotalFailed, "FORMAT_FAILURE", "byte range out of bounds"),
    });
}

/// The signer's certificate as carried in the signature.
fn signer_der(parsed: &cms::ParsedCms, checks: &mut Vec<Check>) -> Option<Vec<u8>> {
    let found = parsed.signer.and_then(|i| parsed.certificates.get(i)).cloned();
    if found.is_none() {
        checks.push(fail(
            "SIGNATURE",
            Status::Indeterminate,
            Indeterminate,
            "NO_SIGNING_CERTIFICATE_FOUND",
            "the signer's certificate is not in the signature",
        ));
    }
    found
}

/// Parse the signer's certificate and name the signer in the report.
fn signer_cert<'a>(der: &'a [u8], r: &mut SignatureReport) -> Option<SignerCert<'a>> {
    let Ok((_, cert)) = X509Certificate::from_der(der) else {
        r.checks.push(fail(
            "SIGNATURE",
            Status::Failed,
            TotalFailed,
            "FORMAT_FAILURE",
            "the signer's certificate cannot be parsed",
        ));
        return None;
    };
    r.signer = Some(Signer {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: cert.raw_serial_as_string(),
        not_before: crate::trust::rfc3339(cert.validity().not_before.timestamp()),
        not_after: crate::trust::rfc3339(cert.validity().not_after.timestamp()),
    });
    Some(SignerCert { der, cert })
}

/// SIGNING_CERTIFICATE: signing-certificate-v2 binds the signature to this certificate (PAdES B-B).
fn signing_certificate_check(parsed: &cms::ParsedCms, signer_der: &[u8]) -> Check {
    let cert_hash = cms::sha256(signer_der).to_vec();
    if parsed.signing_cert_hashes.contains(&cert_hash) {
        let note = if parsed.has_signing_time {
            "; note: a CMS signing-time attribute is present (PAdES forbids it)"
        } else {
            ""
        };
        check(
            "SIGNING_CERTIFICATE",
            if note.is_empty() { Status::Passed } else { Status::Warning },
            format!("signing-certificate-v2 matches the signer certificate{note}"),
        )
    } else if parsed.signing_cert_hashes.is_empty() {
        fail(
            "SIGNING_CERTIFICATE",
            Status::Indeterminate,
            Indeterminate,
            "FORMAT_FAILURE",
            "no signing-certificate-v2 attribute (required by PAdES baseline)",
        )
    } else {
        fail(
            "SIGNING_CERTIFICATE",
            Status::Failed,
            Indeterminate,
            "NO_SIGNING_CERTIFICATE_FOUND",
            "signing-certificate-v2 names a different certificate",
        )
    }
}

/// SIGNATURE: the signature value verifies with the signer's public key.
fn signature_check(parsed: &cms::ParsedCms, cert: &X509Certificate<'_>) -> Check {
    let spki = cert.public_key().raw;
    match algorithms::verify_signature(
        parsed.signature_alg,
        parsed.signature_params.as_deref(),
        parsed.digest_alg,
        spki,
        &parsed.signed_attrs,
        &parsed.signature,
    ) {
        SignatureCheck::Valid(suite) => check(
            "SIGNATURE",
            Status::Passed,
            format!("the signature value is valid for the signer's public key ({suite})"),
        ),
        SignatureCheck::Invalid(suite) => fail(
            "SIGNATURE",
            Status::Failed,
            TotalFailed,
            "SIG_CRYPTO_FAILURE",
            format!("the signature value does not verify with the signer's public key ({suite})"),
        ),
        SignatureCheck::Outside(o) => {
            fail("SIGNATURE", Status::Indeterminate, Indeterminate, "CRYPTO_CONSTRAINTS_FAILURE", o.0)
        }
    }
}

/// KEY_USAGE: the signer certificate may make signatures.
fn key_usage_check(cert: &X509Certificate<'_>) -> Check {
    match cert.key_usage() {
        Ok(Some(ku)) if ku.value.digital_signature() || ku.value.non_repudiation() => {
            check("KEY_USAGE", Status::Passed, format!("key usage allows signing ({})", ku.value))
        }
        Ok(None) => check("KEY_USAGE", Status::Warning, "the certificate has no key usage extension"),
        _ => fail(
            "KEY_USAGE",
            Status::Failed,
            Indeterminate,
            "CHAIN_CONSTRAINTS_FAILURE",
            "the certificate's key usage does not allow signatures",
        ),
    }
}

/// A report with no checks yet.
pub fn empty_report(index: usize, field: &str) -> SignatureReport {
    SignatureReport {
        index,
        field: field.to_string(),
        department: None,
        signer: None,
        signing_time_claimed: None,
        sub_filter: String::new(),
        certifies: None,
        byte_range: None,
        coverage: None,
        bytes_after: 0,
        changes_after: Vec::new(),
        chain: Vec::new(),
        chain_region: None,
        revocation: None,
        timestamp: None,
        poe: Vec::new(),
        checks: Vec::new(),
        indication: Indeterminate,
        sub_indication: None,
    }
}
