//! The verification report: independent facets per signature (checks), one derived indication per
//! signature and one for the document, in the ETSI EN 319 102-1 vocabulary that EU DSS reports
//! (TOTAL-PASSED / TOTAL-FAILED / INDETERMINATE + sub-indication). JSON for machines
//! (docs/verification-report.md), a short table for people.

use serde::Serialize;

use crate::document::LicenceMetadata;
use crate::trust::Revocation;

pub const REPORT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum Indication {
    #[serde(rename = "TOTAL-PASSED")]
    TotalPassed,
    #[serde(rename = "INDETERMINATE")]
    Indeterminate,
    #[serde(rename = "TOTAL-FAILED")]
    TotalFailed,
}

impl Indication {
    pub fn as_str(self) -> &'static str {
        match self {
            Indication::TotalPassed => "TOTAL-PASSED",
            Indication::Indeterminate => "INDETERMINATE",
            Indication::TotalFailed => "TOTAL-FAILED",
        }
    }
}

/// Outcome of one check.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Passed,
    Failed,
    /// Could not tell (missing information, unsupported algorithm).
    Indeterminate,
    /// Passed with something the reader should know.
    Warning,
    /// Not run because an earlier check failed.
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: Status,
    pub detail: String,
    /// ETSI sub-indication this check implies when it does not pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_indication: Option<&'static str>,
    #[serde(skip)]
    pub indication: Option<Indication>,
}

/// How much of the file a signature's byte range covers (ordered: more is better).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Coverage {
    /// The range does not end at a revision boundary.
    Partial,
    /// The range covers a whole earlier revision; later revisions follow.
    EntireRevision,
    /// The range covers every byte of the file but /Contents.
    EntireFile,
}

#[derive(Debug, Clone, Serialize)]
pub struct Department {
    /// The local id in its region (`scjg`).
    pub id: String,
    pub name: String,
    pub level: String,
    /// The region the department belongs to (the home's own or an imported one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Its 统一社会信用代码 (GB 32100): the identity that travels across regions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
}

impl Department {
    /// `<region>/<USCC>`, the key seal plans name departments by (None without both).
    pub fn plan_id(&self) -> Option<String> {
        Some(format!("{}/{}", self.region.as_ref()?, self.uscc.as_ref()?))
    }

    /// Whether this department is the seal plan's entry `want` (`<region>/<USCC>`, local id
    /// `local`): by region and USCC; a department named only by its certificate (an explicit
    /// root, no region) by its USCC, or, with no USCC in the certificate, by its local id.
    pub fn fills(&self, want: &str, local: Option<&str>) -> bool {
        match (self.plan_id(), &self.uscc) {
            (Some(id), _) => id == want,
            (None, Some(u)) => want.rsplit('/').next() == Some(u.as_str()),
            (None, None) => local == Some(self.id.as_str()),
        }
    }

    /// How a seal plan names this department: `<region>/<USCC>`, or `?/<USCC or local id>`.
    pub fn plan_key(&self) -> String {
        self.plan_id().unwrap_or_else(|| format!("?/{}", self.uscc.as_deref().unwrap_or(&self.id)))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Signer {
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: String,
    pub not_after: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignatureReport {
    pub index: usize,
    pub field: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<Department>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<Signer>,
    pub signing_time_claimed: Option<String>,
    pub sub_filter: String,
    pub certifies: Option<i64>,
    pub byte_range: Option<[usize; 4]>,
    pub coverage: Option<Coverage>,
    /// Bytes of the file after the end of this signature's revision.
    pub bytes_after: usize,
    /// What later revisions changed, object by object.
    pub changes_after: Vec<String>,
    pub chain: Vec<String>,
    /// The region whose root the chain reaches (the home's own, an imported one, or empty for
    /// `--trust`); departments are bound in that region only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_region: Option<String>,
    pub revocation: Option<Revocation>,
    /// The verified signature timestamp (PAdES B-T): its genTime proves the signature existed
    /// then. `null` without one, or when it did not verify (see the TIMESTAMP check).
    pub timestamp: Option<super::timestamp::TimestampInfo>,
    /// Proofs of existence covering this signature, earliest first (`poe`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub poe: Vec<super::poe::Poe>,
    pub checks: Vec<Check>,
    pub indication: Indication,
    pub sub_indication: Option<&'static str>,
}

/// Whether the seals the document's plan requires are all present, in order.
#[derive(Debug, Clone, Serialize)]
pub struct SealPlanStatus {
    /// Department ids that must seal, in order (recorded in the document at issue).
    pub required: Vec<String>,
    /// Department ids whose seals are present, in signing order.
    pub present: Vec<String>,
    /// The plan by region and USCC (`taian/11370900MB28570021`), when the document records it:
    /// what decides `in_order` and `complete` (local ids mean nothing in another region).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub required_ids: Vec<String>,
    /// Region and USCC of the valid seals present, in signing order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub present_ids: Vec<String>,
    pub in_order: bool,
    pub complete: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileInfo {
    pub sha256: String,
    pub size: usize,
    pub revisions: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub report_version: u32,
    pub validation_time: String,
    pub file: FileInfo,
    pub licence: Option<LicenceMetadata>,
    pub signatures: Vec<SignatureReport>,
    /// PAdES B-LTA document timestamps (not signatures of the document: proofs of existence).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub document_timestamps: Vec<super::doc_timestamps::DocTimestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seal_plan: Option<SealPlanStatus>,
    /// Present when the file is an annotated copy (加注件) of a licence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotated_copy: Option<super::annotation::AnnotatedCopy>,
    /// Present when the file is a proof or an annotated copy: its use period (`validity`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validity: Option<super::validity::Validity>,
    pub indication: Indication,
    pub sub_indication: Option<&'static str>,
    pub summary: String,
    /// What the issuing region says about the licence itself (`status`), when it was asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence_status: Option<super::status::LicenceStatus>,
    /// The document verdict (valid / not valid / incomplete) and the rule that decided it, beside
    /// the ETSI indication (`verdict`).
    pub verdict: super::verdict::Verdict,
}

impl SignatureReport {
    /// The verdict from the checks: the worst indication wins, its first sub-indication leads.
    pub fn conclude(&mut self) {
        // `max_by_key` keeps the last maximum: search backwards so the first worst check leads.
        let worst = self
            .checks
            .iter()
            .rev()
            .filter_map(|c| c.indication.map(|i| (i, c.sub_indication)))
            .max_by_key(|(i, _)| *i);
        (self.indication, self.sub_indication) = match worst {
            Some((i, sub)) if i != Indication::TotalPassed => (i, sub),
            _ => (Indication::TotalPassed, None),
        };
    }
}

impl Report {
    /// Every signature valid and trusted, nothing disallowed after them.
    pub fn passed(&self) -> bool {
        self.indication == Indication::TotalPassed
    }

    /// Valid, and the seals present follow the document's seal plan in order, though later ones
    /// may still be missing: what `verify --allow-incomplete` accepts between joint seals. A seal
    /// of another department (or another region's department of the same name) in a planned
    /// place is never "incomplete", it is out of order.
    pub fn passed_in_plan_order(&self) -> bool {
        self.passed() && self.seal_plan.as_ref().map(|p| p.in_order).unwrap_or(true)
    }

    /// Valid and, where the document records a seal plan, every planned seal present in order.
    pub fn complete(&self) -> bool {
        self.passed() && self.seal_plan.as_ref().map(|p| p.complete && p.in_order).unwrap_or(true)
    }

    /// A short table for people.
    pub fn human(&self) -> String {
        let mut s = String::new();
        if let Some(l) = &self.licence {
            s.push_str(&format!(
                "licence   {} — {}\nidentifier {}\nholder    {} ({})\nissuer    {}  issued {}\n\n",
                l.zzmc, l.zzbh, l.zzbs, l.czzt, l.czztdm, l.zzbfjg, l.zzbfrq
            ));
        }
        for sig in &self.signatures {
            let who = sig
                .department
                .as_ref()
                .map(|d| match (&d.region, &d.uscc) {
                    (Some(region), Some(uscc)) => {
                        format!("{} {} ({}, {region}, USCC {uscc})", d.id, d.name, d.level)
                    }
                    _ => format!("{} {} ({})", d.id, d.name, d.level),
                })
                .unwrap_or_else(|| {
                    sig.signer.as_ref().map(|s| s.subject.clone()).unwrap_or_else(|| "unknown signer".into())
                });
            s.push_str(&format!("signature {} [{}]  {}\n", sig.index, sig.field, who));
            s.push_str(&format!(
                "  {}{}\n",
                sig.indication.as_str(),
                sig.sub_indication.map(|x| format!(" / {x}")).unwrap_or_default()
            ));
            for c in &sig.checks {
                let mark = match c.status {
                    Status::Passed => "ok  ",
                    Status::Warning => "warn",
                    Status::Failed => "FAIL",
                    Status::Indeterminate => "??  ",
                    Status::Skipped => "skip",
                };
                s.push_str(&format!("  {mark} {:<20} {}\n", c.name, c.detail));
            }
        }
        if let Some(p) = &self.seal_plan {
            s.push_str(&format!(
                "\nseal plan {}: {} of {} seals present{}{}\n",
                if p.required_ids.is_empty() {
                    p.required.join(" → ")
                } else {
                    p.required
                        .iter()
                        .zip(&p.required_ids)
                        .map(|(id, full)| format!("{id} ({full})"))
                        .collect::<Vec<_>>()
                        .join(" → ")
                },
                p.present.len(),
                p.required.len(),
                if p.complete { " (complete)" } else { " (INCOMPLETE)" },
                if p.in_order { "" } else { ", NOT in plan order" }
            ));
        }
        if let Some(a) = &self.annotated_copy {
            s.push_str(&format!(
                "\nannotated copy (加注件) for {} {} by {}, made by {} at {}, valid until {}{}\n",
                a.purpose,
                a.purpose_name,
                a.user,
                a.maker,
                a.time,
                a.valid_until,
                if a.expired { " — EXPIRED: the copy may no longer be used" } else { "" }
            ));
        }
        if let Some(v) = self.validity.as_ref().filter(|v| v.document == "proof") {
            s.push_str(&format!(
                "\nproof (数据核验证明) valid until {}{}\n",
                v.valid_until,
                if v.expired { " — EXPIRED: the proof may no longer be used" } else { "" }
            ));
        }
        if let Some(l) = &self.licence_status {
            s.push_str(&format!(
                "\nlicence status: {}{}{} — {} [{}]\n",
                l.status,
                l.since.as_deref().map(|t| format!(" since {t}")).unwrap_or_default(),
                l.reason.as_deref().map(|t| format!(", reason: {t}")).unwrap_or_default(),
                l.detail,
                l.source
            ));
        }
        s.push_str(&format!(
            "\nverdict: {} (rule {}) — {}\n",
            self.verdict.result.as_str().to_uppercase(),
            self.verdict.rule,
            self.verdict.detail
        ));
        for w in &self.verdict.warnings {
            s.push_str(&format!("  warn {w}\n"));
        }
        s.push_str(&format!(
            "\nresult: {}{} — {}\n",
            self.indication.as_str(),
            self.sub_indication.map(|x| format!(" / {x}")).unwrap_or_default(),
            self.summary
        ));
        s
    }
}

pub fn check(name: &'static str, status: Status, detail: impl Into<String>) -> Check {
    Check { name, status, detail: detail.into(), sub_indication: None, indication: None }
}

/// A check that did not pass, with what it implies for the signature.
pub fn fail(
    name: &'static str,
    status: Status,
    indication: Indication,
    sub: &'static str,
    detail: impl Into<String>,
) -> Check {
    Check { name, status, detail: detail.into(), sub_indication: Some(sub), indication: Some(indication) }
}
