//! DEPARTMENT: whose seal this is. The seal's /Name must be the certificate's organisation, and
//! the certificate must bind to a department of the region whose root its chain reaches: the
//! home's own through its root AND the CA region.toml names for that department; an imported
//! region's through the department registry of its signed trust list (`trust::department::bind`).
//! A foreign region's seal is that region's department, named by region and USCC — never one of
//! this home's departments, whatever its OU or O say. Certificates without organizationIdentifier
//! (made before USCCs) bind by OU with a warning.
//!
//! Reads the region configuration and registries through `trust`; knows nothing of seal plans
//! (see `plan`). ETSI EN 319 412-1 §5.1.4 (organizationIdentifier), GB/T 38540 (a seal's owner).

use super::report::Indication::Indeterminate;
use super::report::{self, check, fail, Check, SignatureReport, Status};
use super::signature::{Context, SignerCert};
use crate::trust::registry;

/// Name the department that sealed, or say why it cannot be named.
pub fn run(ctx: &Context<'_>, signer: &SignerCert<'_>, r: &mut SignatureReport) {
    // The earliest proof that the seal existed (a retired seal certificate counts before its retirement).
    let existed_by = r.poe.iter().map(|p| p.unix).min();
    let c = department_check(&mut r.department, signer, ctx, r.chain_region.as_deref(), existed_by);
    r.checks.push(c);
}

fn department_check(
    out: &mut Option<report::Department>,
    signer: &SignerCert<'_>,
    ctx: &Context<'_>,
    chain_region: Option<&str>,
    existed_by: Option<i64>,
) -> Check {
    let cert = &signer.cert;
    let (org, unit) = registry::org_and_unit(cert);
    let uscc = registry::uscc_of(cert);
    // /Name is the signer as its certificate names it: O (zhengyin, pyHanko) or CN (pdfsig).
    let cn = cert.subject().iter_common_name().next().and_then(|a| a.as_str().ok()).unwrap_or("");
    if let Some(name) = &ctx.sig.name {
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
    let trust = ctx.trust;
    // Roots given explicitly (`--trust`, a further `--home`) name departments by certificate only.
    let known = chain_region.is_some_and(|c| {
        trust.region.as_ref().is_some_and(|r| r.region.id == c) || trust.regions.iter().any(|r| r.id == c)
    });
    if trust.region.is_none() || (chain_region.is_some() && !known) {
        if unit.is_empty() {
            return check(
                "DEPARTMENT",
                Status::Warning,
                format!("seal of {org}; no region configuration to name its department"),
            );
        }
        // Trusted through an explicit root only: name the department as its certificate does.
        *out = Some(report::Department {
            id: unit.clone(),
            name: org.clone(),
            level: "unknown".into(),
            region: None,
            uscc: uscc.clone(),
        });
        let usc = uscc.map(|u| format!(", USCC {u}")).unwrap_or_default();
        return check(
            "DEPARTMENT",
            Status::Warning,
            format!("seal of {org} ({unit}{usc}), as named by its certificate; no region configuration to confirm it"),
        );
    }
    let Some(region) = chain_region.filter(|r| !r.is_empty()) else {
        return check(
            "DEPARTMENT",
            Status::Warning,
            format!("seal of {org}; not bound to a department: its certificate does not chain to a trusted region root"),
        );
    };
    if let Some(imported) = trust.regions.iter().find(|r| r.id == region && r.departments.is_none()) {
        return check(
            "DEPARTMENT",
            Status::Warning,
            format!(
                "seal of {org} of {} ({}), as named by its certificate; that region's trust list carries no department registry, so it does not count for a seal plan",
                imported.name, imported.id
            ),
        );
    }
    match crate::trust::department::bind(trust, signer.der, region, existed_by) {
        Ok(b) => {
            *out = Some(report::Department {
                id: b.id.clone(),
                name: b.name.clone(),
                level: b.level.clone(),
                region: Some(b.region.clone()),
                uscc: Some(b.uscc.clone()),
            });
            let who = if b.home {
                format!("seal of {} ({}, {} level, USCC {})", b.name, b.id, b.level, b.uscc)
            } else {
                let name =
                    trust.regions.iter().find(|r| r.id == b.region).map(|r| r.name.as_str()).unwrap_or("");
                format!(
                    "seal of {} of {name} ({}/{}, {} level, USCC {}), from that region's signed registry",
                    b.name, b.region, b.id, b.level, b.uscc
                )
            };
            if b.uscc_in_cert {
                check("DEPARTMENT", Status::Passed, who)
            } else {
                check(
                    "DEPARTMENT",
                    Status::Warning,
                    format!("{who}; the certificate carries no organizationIdentifier (USCC), so it was bound by its unit `{unit}` only (a certificate made before USCCs)"),
                )
            }
        }
        Err(reason) => fail(
            "DEPARTMENT",
            Status::Failed,
            Indeterminate,
            "SIG_CONSTRAINTS_FAILURE",
            format!("seal of {org} is not a department of region {region}: {reason}"),
        ),
    }
}
