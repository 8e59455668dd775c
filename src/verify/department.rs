//! DEPARTMENT: whose seal this is. The seal's /Name must be the certificate's organisation, and
//! the certificate's unit must be a department of the trusting region with that name (GB/T 38540
//! binds a seal to its owner; the region configuration says who the owners are).
//!
//! Reads the region configuration through `trust`; knows nothing of seal plans (see `plan`).

use x509_parser::prelude::*;

use super::report::Indication::Indeterminate;
use super::report::{self, check, fail, Check, SignatureReport, Status};
use super::signature::Context;
use crate::pades::ParsedSignature;
use crate::trust::TrustStore;

/// Name the department that sealed, or say why it cannot be named.
pub fn run(ctx: &Context<'_>, cert: &X509Certificate<'_>, r: &mut SignatureReport) {
    let c = department_check(&mut r.department, cert, ctx.sig, ctx.trust);
    r.checks.push(c);
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
    // /Name is the signer as its certificate names it: O (zhengyin, pyHanko) or CN (pdfsig).
    let cn = cert.subject().iter_common_name().next().and_then(|a| a.as_str().ok()).unwrap_or("");
    if let Some(name) = &sig.name {
        if *name != org && name != cn {
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
