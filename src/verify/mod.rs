//! Verification of signed PDFs: for every signature, in order — format, integrity of its byte
//! range, the CMS signature, signing-certificate binding, key usage, chain to a trusted root,
//! revocation, department binding, coverage and what changed after it — then one verdict.
//!
//! Reads PDFs only through `pades::parse`; trust decisions come from `trust`. ETSI EN 319 102-1
//! (validation model and indications), ETSI EN 319 142-1 (PAdES), ISO 32000-1 §12.8.

pub mod annotation;
pub mod authority;
pub mod changes;
pub mod report;

use std::time::SystemTime;

use rustls_pki_types::UnixTime;
use x509_parser::prelude::*;

use crate::document::LicenceMetadata;
use crate::error::Result;
use crate::pades::algorithms::{self, SignatureCheck};
use crate::pades::budget::Budget;
use crate::pades::{cms, parse, ParsedSignature};
use crate::trust::{ChainOutcome, Revocation, TrustStore};
use report::{check, fail, Check, Coverage, Indication, Report, SignatureReport, Signer, Status};

use Indication::{Indeterminate, TotalFailed};

/// Verify `pdf` against `trust` at time `at`. Errors only when the bytes are not a readable PDF
/// (or reading them takes more work than one document may: `pades::budget`).
pub fn verify(pdf: &[u8], trust: &TrustStore, at: SystemTime) -> Result<Report> {
    verify_with(pdf, trust, at, &mut Budget::default())
}

/// [`verify`] charging every parse and object walk to `budget`, which also carries the job's
/// cancellation.
pub fn verify_with(pdf: &[u8], trust: &TrustStore, at: SystemTime, budget: &mut Budget) -> Result<Report> {
    let loaded = parse::load_for_verify(pdf, budget)?;
    let (sigs, bad) = parse::signatures_loaded(pdf, &loaded, budget)?;
    let doc = &loaded.doc;
    // The bytes lopdf parsed (/Contents hex replaced in place): revisions are re-read from these.
    let parsed_bytes = loaded.blanked.bytes();
    let revisions = parse::revision_ends(pdf);
    let licence = info_dict(doc).and_then(LicenceMetadata::from_info);
    let unix = UnixTime::since_unix_epoch(at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default());

    let mut reports = Vec::new();
    let mut seen: Vec<usize> = Vec::new();
    for (i, sig) in sigs.iter().enumerate() {
        if let Some(first) = seen.iter().position(|e| *e == sig.signed_end()) {
            let mut r = empty_report(i + 1, &sig.field_name);
            r.checks.push(fail(
                "FORMAT",
                Status::Failed,
                TotalFailed,
                "FORMAT_FAILURE",
                format!("claims the same revision as signature {} (a copied signature)", first + 1),
            ));
            r.conclude();
            reports.push(r);
            continue;
        }
        seen.push(sig.signed_end());
        budget.check_cancel()?;
        reports.push(verify_one(i + 1, sig, pdf, parsed_bytes, doc, &revisions, &sigs, trust, unix, budget)?);
    }
    for b in bad {
        let mut r = empty_report(reports.len() + 1, &b.field_name);
        r.checks.push(fail("FORMAT", Status::Failed, TotalFailed, "FORMAT_FAILURE", b.reason));
        r.conclude();
        reports.push(r);
    }
    annotation::bind(&mut reports, &sigs, doc, trust);
    let seal_plan = info_dict(doc)
        .and_then(|i| i.get(crate::document::render::SEAL_PLAN_KEY.as_bytes()).ok())
        .and_then(crate::document::metadata::decode_text)
        .map(|plan| {
            let required: Vec<String> =
                plan.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect();
            // Seals of the plan only: annotated-copy seals (加注件, fields `Annot…`) come after it.
            // A seal counts as present only when its signature is valid.
            let present: Vec<String> = reports
                .iter()
                .filter(|r| !r.field.starts_with("Annot") && r.indication == report::Indication::TotalPassed)
                .filter_map(|r| r.department.as_ref().map(|d| d.id.clone()))
                .collect();
            let in_order =
                required.iter().zip(present.iter()).all(|(a, b)| a == b) && present.len() <= required.len();
            report::SealPlanStatus {
                complete: in_order && present.len() == required.len(),
                required,
                present,
                in_order,
            }
        });
    let (indication, sub, mut summary) = overall(&reports);
    if let Some(p) = &seal_plan {
        summary.push_str(&format!(
            "; seal plan {} of {} present{}",
            p.present.len(),
            p.required.len(),
            if p.complete { "" } else { " (incomplete)" }
        ));
    }
    let today = crate::document::china_date(i64::try_from(unix.as_secs()).unwrap_or(0));
    let annotated_copy = annotation::read(doc, &today, budget)?;
    if let Some(a) = annotated_copy.as_ref().filter(|a| a.expired) {
        summary.push_str(&format!("; annotated copy expired on {}", a.valid_until));
    }
    Ok(Report {
        report_version: report::REPORT_VERSION,
        validation_time: crate::trust::rfc3339(i64::try_from(unix.as_secs()).unwrap_or(0)),
        file: report::FileInfo {
            sha256: hex(&cms::sha256(pdf)),
            size: pdf.len(),
            revisions: revisions.len(),
        },
        licence,
        signatures: reports,
        seal_plan,
        annotated_copy,
        indication,
        sub_indication: sub,
        summary,
    })
}

fn overall(reports: &[SignatureReport]) -> (Indication, Option<&'static str>, String) {
    if reports.is_empty() {
        return (Indeterminate, Some("SIGNED_DATA_NOT_FOUND"), "the document carries no signatures".into());
    }
    let passed = reports.iter().filter(|r| r.indication == Indication::TotalPassed).count();
    // The first signature with the worst indication leads (max_by_key keeps the last maximum).
    let worst = reports
        .iter()
        .rev()
        .max_by_key(|r| r.indication)
        .map(|r| (r.indication, r.sub_indication))
        .unwrap_or((Indeterminate, None));
    let summary = format!("{passed} of {} signatures valid", reports.len());
    (worst.0, worst.1, summary)
}

fn info_dict(doc: &lopdf::Document) -> Option<&lopdf::Dictionary> {
    doc.trailer.get(b"Info").ok().and_then(|i| i.as_reference().ok()).and_then(|r| doc.get_dictionary(r).ok())
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn empty_report(index: usize, field: &str) -> SignatureReport {
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
        revocation: None,
        checks: Vec::new(),
        indication: Indeterminate,
        sub_indication: None,
    }
}

#[allow(clippy::too_many_arguments)]
fn verify_one(
    index: usize,
    sig: &ParsedSignature,
    pdf: &[u8],
    parsed_bytes: &[u8],
    doc: &lopdf::Document,
    revisions: &[usize],
    all: &[ParsedSignature],
    trust: &TrustStore,
    at: UnixTime,
    budget: &mut Budget,
) -> Result<SignatureReport> {
    let mut r = empty_report(index, &sig.field_name);
    r.signing_time_claimed = sig.signing_time.clone();
    r.sub_filter = sig.sub_filter.clone();
    r.byte_range = Some(sig.byte_range);
    r.certifies = sig.docmdp;
    let checks = &mut r.checks;

    if sig.sub_filter != "ETSI.CAdES.detached" && sig.sub_filter != "adbe.pkcs7.detached" {
        checks.push(fail(
            "FORMAT",
            Status::Indeterminate,
            Indeterminate,
            "FORMAT_FAILURE",
            format!("SubFilter /{} is not supported", sig.sub_filter),
        ));
        r.conclude();
        return Ok(r);
    }
    let parsed = match cms::parse(&sig.contents) {
        Ok(p) => p,
        Err(e) => {
            checks.push(fail("FORMAT", Status::Failed, TotalFailed, "FORMAT_FAILURE", e));
            r.conclude();
            return Ok(r);
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
        r.conclude();
        return Ok(r);
    }
    checks.push(check(
        "FORMAT",
        Status::Passed,
        format!("/{} with a CMS SignedData; byte range checked against the file", sig.sub_filter),
    ));

    // Integrity: the digest of the signed bytes equals the message-digest attribute.
    let [_, a1, b0, b1] = sig.byte_range;
    let alg = algorithms::Hash::from_oid(parsed.digest_alg);
    match (alg, &parsed.message_digest, pdf.get(..a1), pdf.get(b0..b0 + b1)) {
        (Ok(alg), Some(md), Some(first), Some(second)) => {
            if alg.digest(&[first, second]) == *md {
                checks.push(check(
                    "INTEGRITY",
                    Status::Passed,
                    format!(
                        "the {} digest of the signed bytes matches the message-digest attribute",
                        alg.name()
                    ),
                ));
            } else {
                checks.push(fail(
                    "INTEGRITY",
                    Status::Failed,
                    TotalFailed,
                    "HASH_FAILURE",
                    "the signed bytes were changed: their digest does not match the signature",
                ));
            }
        }
        (Err(outside), ..) => checks.push(fail(
            "INTEGRITY",
            Status::Indeterminate,
            Indeterminate,
            "CRYPTO_CONSTRAINTS_FAILURE",
            outside.0,
        )),
        (_, None, ..) => checks.push(fail(
            "INTEGRITY",
            Status::Failed,
            TotalFailed,
            "FORMAT_FAILURE",
            "no message-digest signed attribute",
        )),
        _ => checks.push(fail(
            "INTEGRITY",
            Status::Failed,
            TotalFailed,
            "FORMAT_FAILURE",
            "byte range out of bounds",
        )),
    }

    // The signer certificate and the signature value.
    let Some(signer_der) = parsed.signer.and_then(|i| parsed.certificates.get(i)).cloned() else {
        checks.push(fail(
            "SIGNATURE",
            Status::Indeterminate,
            Indeterminate,
            "NO_SIGNING_CERTIFICATE_FOUND",
            "the signer's certificate is not in the signature",
        ));
        r.conclude();
        return Ok(r);
    };
    let Ok((_, cert)) = X509Certificate::from_der(&signer_der) else {
        checks.push(fail(
            "SIGNATURE",
            Status::Failed,
            TotalFailed,
            "FORMAT_FAILURE",
            "the signer's certificate cannot be parsed",
        ));
        r.conclude();
        return Ok(r);
    };
    r.signer = Some(Signer {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: cert.raw_serial_as_string(),
        not_before: crate::trust::rfc3339(cert.validity().not_before.timestamp()),
        not_after: crate::trust::rfc3339(cert.validity().not_after.timestamp()),
    });
    let checks = &mut r.checks;
    checks.push(signature_check(&parsed, &cert));

    // signing-certificate-v2 binds the signature to this certificate (PAdES B-B).
    let cert_hash = cms::sha256(&signer_der).to_vec();
    if parsed.signing_cert_hashes.iter().any(|h| *h == cert_hash) {
        let note = if parsed.has_signing_time {
            "; note: a CMS signing-time attribute is present (PAdES forbids it)"
        } else {
            ""
        };
        checks.push(check(
            "SIGNING_CERTIFICATE",
            if note.is_empty() { Status::Passed } else { Status::Warning },
            format!("signing-certificate-v2 matches the signer certificate{note}"),
        ));
    } else if parsed.signing_cert_hashes.is_empty() {
        checks.push(fail(
            "SIGNING_CERTIFICATE",
            Status::Indeterminate,
            Indeterminate,
            "FORMAT_FAILURE",
            "no signing-certificate-v2 attribute (required by PAdES baseline)",
        ));
    } else {
        checks.push(fail(
            "SIGNING_CERTIFICATE",
            Status::Failed,
            Indeterminate,
            "NO_SIGNING_CERTIFICATE_FOUND",
            "signing-certificate-v2 names a different certificate",
        ));
    }
    checks.push(key_usage_check(&cert));

    // Chain to a trusted root, and revocation.
    let others: Vec<Vec<u8>> = parsed.certificates.iter().filter(|c| **c != signer_der).cloned().collect();
    let (outcome, revocation) = trust.validate(&signer_der, &others, at);
    match outcome {
        ChainOutcome::Trusted { path, anchor } => {
            checks.push(check(
                "CHAIN",
                Status::Passed,
                format!("chains to trusted root {} ({anchor})", path.last().cloned().unwrap_or_default()),
            ));
            r.chain = path;
        }
        ChainOutcome::Failed { sub_indication, reason } => {
            let ind = if sub_indication == "FORMAT_FAILURE" { TotalFailed } else { Indeterminate };
            // A revoked signer is reported by REVOCATION (with its date); a revoked CA only here.
            let signer_revoked = matches!(revocation, Revocation::Revoked { .. });
            match sub_indication {
                "REVOKED" if signer_revoked => checks.push(check("CHAIN", Status::Failed, reason)),
                "REVOKED" => {
                    checks.push(fail("CHAIN", Status::Failed, Indeterminate, "REVOKED_CA_NO_POE", reason))
                }
                _ => checks.push(fail("CHAIN", Status::Failed, ind, sub_indication, reason)),
            }
        }
    }
    checks.push(revocation_check(&revocation, sig.signing_time.as_deref()));
    r.revocation = Some(revocation);
    checks.push(department_check(&mut r.department, &cert, sig, trust));
    authority::apply(checks, r.department.as_ref(), sig, all, doc, trust);

    // Coverage and what changed after.
    let end = sig.signed_end();
    r.bytes_after = pdf.len() - end;
    let coverage = if end == pdf.len() {
        Coverage::EntireFile
    } else if revisions.contains(&end) {
        Coverage::EntireRevision
    } else {
        Coverage::Partial
    };
    r.coverage = Some(coverage);
    let checks = &mut r.checks;
    match coverage {
        Coverage::EntireFile => {
            checks.push(check("COVERAGE", Status::Passed, "the signature covers the whole file"))
        }
        Coverage::Partial => checks.push(fail(
            "COVERAGE",
            Status::Failed,
            TotalFailed,
            "FORMAT_FAILURE",
            format!("the byte range ends at {end}, not at the end of a revision"),
        )),
        Coverage::EntireRevision => {
            let after = revisions.iter().filter(|e| **e > end).count();
            checks.push(check(
                "COVERAGE",
                Status::Passed,
                format!("covers its revision; {} bytes in {after} later revision(s) follow", pdf.len() - end),
            ));
        }
    }
    let locked_by = if sig.locks || sig.docmdp == Some(1) { Some(sig.field_name.clone()) } else { None };
    // After a lock, the only revisions allowed are signatures filling the fields it left open
    // (the reserved annotation field of a 加注件); everything else is refused here.
    let open_only =
        |e: &usize| all.iter().any(|o| o.signed_end() == *e && sig.lock_exclude.contains(&o.field_name));
    let after_lock_ok = sig.docmdp != Some(1)
        && !sig.lock_exclude.is_empty()
        && revisions.iter().filter(|e| **e > end).all(open_only);
    if let (Some(field), Coverage::EntireRevision, false) = (&locked_by, coverage, after_lock_ok) {
        checks.push(fail(
            "MODIFICATIONS",
            Status::Failed,
            TotalFailed,
            "FORMAT_FAILURE",
            format!("signature {field} locked the document, yet later revisions follow"),
        ));
        r.conclude();
        return Ok(r);
    }
    if coverage == Coverage::EntireRevision {
        // The signed revision alone, from the same bytes as `doc` (offsets and markers agree).
        let old = match parsed_bytes.get(..end) {
            Some(bytes) => match parse::load_revision(bytes, budget) {
                Ok(old) => Some(old),
                Err(crate::error::Error::Pdf(
                    e @ (crate::error::PdfError::WorkLimit { .. } | crate::error::PdfError::Cancelled),
                )) => return Err(e.into()),
                Err(_) => None,
            },
            None => None,
        };
        let mut changes = match old {
            Some(old) => changes::disallowed_changes(&old, doc, budget)?,
            None => vec!["the signed revision cannot be read on its own".to_string()],
        };
        for n in parse::freed_objects(pdf.get(end..).unwrap_or_default()) {
            changes.push(format!("object {n} was freed (deleted) after signing"));
        }
        let last = revisions.last().copied().unwrap_or(pdf.len());
        if pdf.get(last..).map(|t| t.iter().any(|b| !b.is_ascii_whitespace())).unwrap_or(false) {
            changes.push(format!("{} bytes after the last %%EOF are not a PDF revision", pdf.len() - last));
        }
        if changes.is_empty() {
            checks.push(check("MODIFICATIONS", Status::Passed, "later revisions only add signatures"));
        } else {
            checks.push(fail(
                "MODIFICATIONS",
                Status::Failed,
                TotalFailed,
                "FORMAT_FAILURE",
                format!("changed after signing: {}", changes.join("; ")),
            ));
        }
        r.changes_after = changes;
    } else if coverage == Coverage::EntireFile {
        checks.push(check("MODIFICATIONS", Status::Passed, "nothing was added after this signature"));
    }
    r.conclude();
    Ok(r)
}

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

fn revocation_check(rev: &Revocation, claimed: Option<&str>) -> Check {
    match rev {
        Revocation::Good { source, .. } => {
            check("REVOCATION", Status::Passed, format!("not revoked according to {source}"))
        }
        Revocation::Unknown { detail } => {
            check("REVOCATION", Status::Warning, format!("revocation not checked: {detail}"))
        }
        Revocation::Refused { detail, .. } => fail(
            "REVOCATION",
            Status::Indeterminate,
            Indeterminate,
            "TRY_LATER",
            format!("revocation status unknown: {detail}"),
        ),
        Revocation::Revoked { source, revoked_at, .. } => {
            // B-B has no proof of time: a claimed signing time after revocation still fails outright,
            // otherwise ETSI says REVOKED_NO_POE (cannot tell whether it was signed before).
            let claimed_after = claimed
                .and_then(pdf_date_to_rfc3339)
                .map(|c| c.as_str() >= revoked_at.as_str())
                .unwrap_or(false);
            let (ind, sub) =
                if claimed_after { (TotalFailed, "REVOKED") } else { (Indeterminate, "REVOKED_NO_POE") };
            fail(
                "REVOCATION",
                Status::Failed,
                ind,
                sub,
                format!("the seal certificate was revoked at {revoked_at} ({source})"),
            )
        }
    }
}

fn department_check(
    out: &mut Option<report::Department>,
    cert: &X509Certificate<'_>,
    sig: &ParsedSignature,
    trust: &TrustStore,
) -> Check {
    let org =
        cert.subject().iter_organization().next().and_then(|a| a.as_str().ok()).unwrap_or("").to_string();
    let unit = cert
        .subject()
        .iter_organizational_unit()
        .next()
        .and_then(|a| a.as_str().ok())
        .unwrap_or("")
        .to_string();
    if let Some(name) = &sig.name {
        if *name != org {
            return fail(
                "DEPARTMENT",
                Status::Failed,
                Indeterminate,
                "SIG_CONSTRAINTS_FAILURE",
                format!("the seal names {name} but the certificate belongs to {org}"),
            );
        }
    }
    match trust.region.as_ref().and_then(|r| r.department(&unit).ok()) {
        Some(d) if d.name == org => {
            *out =
                Some(report::Department { id: d.id.clone(), name: d.name.clone(), level: d.level.clone() });
            check("DEPARTMENT", Status::Passed, format!("seal of {} ({}, {} level)", d.name, d.id, d.level))
        }
        Some(d) => fail(
            "DEPARTMENT",
            Status::Failed,
            Indeterminate,
            "SIG_CONSTRAINTS_FAILURE",
            format!("certificate unit {unit} is {} in this region, not {org}", d.name),
        ),
        None if trust.region.is_none() && !unit.is_empty() => {
            // Trusted through an explicit root only: name the department as its certificate does.
            *out = Some(report::Department { id: unit.clone(), name: org.clone(), level: "unknown".into() });
            check("DEPARTMENT", Status::Warning, format!("seal of {org} ({unit}), as named by its certificate; no region configuration to confirm it"))
        }
        None => check(
            "DEPARTMENT",
            Status::Warning,
            format!("seal of {org}; not a department of the trusting region"),
        ),
    }
}

/// `D:YYYYMMDDHHmmSS+08'00'` → RFC 3339 in UTC, for comparisons.
fn pdf_date_to_rfc3339(d: &str) -> Option<String> {
    let s = d.strip_prefix("D:")?;
    let digits = |a: usize, b: usize| s.get(a..b)?.parse::<u32>().ok();
    let (y, mo, da, h, mi, se) =
        (digits(0, 4)?, digits(4, 6)?, digits(6, 8)?, digits(8, 10)?, digits(10, 12)?, digits(12, 14)?);
    let sign = if s.get(14..15) == Some("-") { -1 } else { 1 };
    let (oh, om) =
        (digits(15, 17).unwrap_or(0), s.get(18..20).and_then(|x| x.parse::<u32>().ok()).unwrap_or(0));
    let date = ::time::Date::from_calendar_date(
        i32::try_from(y).ok()?,
        ::time::Month::try_from(u8::try_from(mo).ok()?).ok()?,
        u8::try_from(da).ok()?,
    )
    .ok()?;
    let t =
        ::time::Time::from_hms(u8::try_from(h).ok()?, u8::try_from(mi).ok()?, u8::try_from(se).ok()?).ok()?;
    let off = ::time::UtcOffset::from_whole_seconds(sign * i32::try_from(oh * 3600 + om * 60).ok()?).ok()?;
    let ts = ::time::PrimitiveDateTime::new(date, t).assume_offset(off).unix_timestamp();
    Some(crate::trust::rfc3339(ts))
}
