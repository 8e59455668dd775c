//! The document-level verdict: valid / not valid / incomplete, and the rule that decided it,
//! beside the ETSI EN 319 102-1 signature indication. The indication says whether the signatures
//! are intact and trusted; the verdict says whether the document may be relied on as a licence.
//! A TOTAL-PASSED document whose seal plan is incomplete, or whose licence has been cancelled, is
//! not fit for use, and the verdict says so (docs/verification-report.md).
//!
//! Rules, first match decides: `SIGNATURES` (the indication is not TOTAL-PASSED: not valid),
//! `LICENCE_STATUS` (the licence is superseded, cancelled, revoked or suspended: not valid),
//! `VALIDITY` (a proof or an annotated copy past its last day of use: not valid, `validity`),
//! `SEAL_PLAN` (planned seals missing: incomplete; present out of plan order: not valid), else
//! `ALL_CHECKS` (valid),
//! with warnings for what could not be checked (licence status unknown, validity end passed).
//! Knows the report only.

use serde::Serialize;

use super::report::{Indication, Report};

/// The verdict's three values.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub enum Outcome {
    #[serde(rename = "valid")]
    Valid,
    #[serde(rename = "not valid")]
    NotValid,
    #[serde(rename = "incomplete")]
    Incomplete,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Valid => "valid",
            Outcome::NotValid => "not valid",
            Outcome::Incomplete => "incomplete",
        }
    }
}

/// The document verdict.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Verdict {
    pub result: Outcome,
    /// The rule that decided: SIGNATURES | LICENCE_STATUS | VALIDITY | SEAL_PLAN | ALL_CHECKS.
    pub rule: &'static str,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Default for Verdict {
    fn default() -> Self {
        Verdict {
            result: Outcome::NotValid,
            rule: "SIGNATURES",
            detail: "not verified".into(),
            warnings: Vec::new(),
        }
    }
}

/// Decide the verdict of a finished report.
pub fn decide(r: &Report) -> Verdict {
    let mut warnings = Vec::new();
    if let Some(s) = &r.licence_status {
        if s.in_force.is_none() {
            warnings.push(format!("LICENCE_STATUS: {}", s.detail));
        }
        if s.expired {
            warnings.push("VALIDITY: the licence's validity end (有效期) has passed".into());
        }
    }
    let v = |result, rule, detail: String| Verdict { result, rule, detail, warnings: warnings.clone() };
    if r.signatures.is_empty() {
        return v(Outcome::NotValid, "SIGNATURES", "the document carries no signature".into());
    }
    if r.indication != Indication::TotalPassed {
        return v(
            Outcome::NotValid,
            "SIGNATURES",
            format!(
                "the signatures are {}{}",
                r.indication.as_str(),
                r.sub_indication.map(|s| format!(" / {s}")).unwrap_or_default()
            ),
        );
    }
    if let Some(s) = r.licence_status.as_ref().filter(|s| s.in_force == Some(false)) {
        let id = r.licence.as_ref().map(|l| l.zzbs.as_str()).unwrap_or("the licence");
        return v(
            Outcome::NotValid,
            "LICENCE_STATUS",
            format!(
                "licence {id} is {}{}{}{} (according to {}); its signatures are intact, but it is no longer in force",
                s.status,
                s.since.as_deref().map(|t| format!(" since {t}")).unwrap_or_default(),
                s.reason.as_deref().map(|t| format!(", reason: {t}")).unwrap_or_default(),
                s.current_version
                    .as_deref()
                    .filter(|c| *c != id)
                    .map(|c| format!("; the current version is {c}"))
                    .unwrap_or_default(),
                s.source
            ),
        );
    }
    if let Some(d) = r.validity.as_ref().filter(|d| d.expired) {
        return v(
            Outcome::NotValid,
            "VALIDITY",
            format!(
                "the {} may be used until {} (有效期至) and the validation day is later; its signatures are intact, but it is no longer fit for use",
                d.document,
                if d.valid_until.is_empty() { "an unstated day" } else { d.valid_until.as_str() }
            ),
        );
    }
    if let Some(p) = r.seal_plan.as_ref().filter(|p| !(p.complete && p.in_order)) {
        // Seals present out of plan order (or another department's seal in a planned place) are
        // never "incomplete": no later seal can put them right.
        return v(
            if p.in_order { Outcome::Incomplete } else { Outcome::NotValid },
            "SEAL_PLAN",
            format!(
                "{} of {} planned seals present{} ({})",
                p.present.len(),
                p.required.len(),
                if p.in_order { "" } else { ", not in plan order" },
                p.required.join(" → ")
            ),
        );
    }
    v(Outcome::Valid, "ALL_CHECKS", "every signature is valid and the seal plan is complete".into())
}
