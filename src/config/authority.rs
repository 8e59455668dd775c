//! Authority (发证权限): which departments may issue, and seal, which licence type.
//!
//! The region configuration's `[authority]` table names, per template, the departments that may
//! issue it (make its first seal). A template the table does not name may be issued only by the
//! first department of its own seal plan: the safe default for homes made before the table
//! existed. Internal templates (`internal = true`: proof, commitment) are never issued directly;
//! their workflows (src/proofs/) make them, sealed by the departments the list of uses names (the
//! data holders for proofs, the accepting departments for commitments). Seals after the first
//! follow the template's seal plan, position by position.
//!
//! [`Authority`] is that catalogue, resolved and keyed by licence type code (the type segment of
//! the GB/T 36904 identifier = GB/T 36903 ZZLXDM). `licence` asks [`Authority::may_issue`] before
//! rendering; `verify` asks [`Authority::may_seal`] for every seal of a document.
//!
//! The rules know nothing of PDF, CMS or HTTP; only [`Authority::from_home`] reads files (the
//! home's templates and list of uses) to build the catalogue.

use std::collections::BTreeMap;

use super::{Home, RegionConfig};
use crate::document::template::{Template, BUILTIN, WORKFLOW_TEMPLATES};
use crate::error::{AuthorityError, ConfigError, Result};
use crate::proofs::uses::UseList;

/// Where a licence type's issuers come from (for messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The region's `[authority]` table.
    Table,
    /// No table entry: the first department of the template's seal plan.
    SealPlan,
    /// An internal template: its workflow's departments, from the list of uses.
    Workflow,
}

/// One template's authority.
#[derive(Debug, Clone)]
pub struct LicenceType {
    pub template: String,
    /// 证照名称, e.g. 营业执照.
    pub name: String,
    pub type_code: String,
    pub internal: bool,
    /// Departments that may make the first (issuing) seal.
    pub issuers: Vec<String>,
    /// The seals after the first, in order (joint seals).
    pub co_sealers: Vec<String>,
    pub rule: Rule,
}

/// The region's catalogue of licence types and who may seal them.
#[derive(Debug, Clone, Default)]
pub struct Authority {
    types: Vec<LicenceType>,
    /// Department id → USCC (the identifier's issuer segment).
    uscc: BTreeMap<String, String>,
}

/// What the workflow behind an internal template lets seal it, from the list of uses.
fn workflow_signers(template: &str, uses: &UseList) -> Vec<String> {
    let mut out: Vec<String> = match template {
        "proof" => uses.kinds.iter().map(|k| k.holder.clone()).collect(),
        "commitment" => uses
            .kinds
            .iter()
            .filter(|k| k.commitment.is_some())
            .flat_map(|k| k.uses.iter().flat_map(|u| u.by.iter().cloned()))
            .collect(),
        // The archive's keeper seals the DA/T 70 audit reports (src/audit_report.rs).
        "audit-report" => vec![crate::proofs::annotate::PLATFORM.to_string()],
        _ => Vec::new(),
    };
    out.sort();
    out.dedup();
    out
}

/// Who `workflow` describes, for the refusal of an internal template.
fn workflow_of(template: &str) -> &'static str {
    match template {
        "proof" => "`zhengyin proof request` / POST /v1/proofs",
        "commitment" => "`zhengyin commit` / POST /v1/commitments",
        "audit-report" => "`zhengyin audit --report`",
        _ => "its own workflow",
    }
}

impl Authority {
    /// Resolve the catalogue from the region, its templates (file name, template) and its list of
    /// uses. Table entries for unknown or internal templates are ignored (internal templates are
    /// governed by the list of uses).
    pub fn build(region: &RegionConfig, templates: &[(String, Template)], uses: &UseList) -> Self {
        let known = |d: &String| region.departments.iter().any(|x| &x.id == d);
        let types = templates
            .iter()
            .map(|(name, t)| {
                let plan = t.plan();
                let internal = t.is_internal(name);
                let (issuers, rule) = if internal {
                    (workflow_signers(name, uses), Rule::Workflow)
                } else if let Some(listed) = region.authority.get(name) {
                    (listed.clone(), Rule::Table)
                } else {
                    (plan.first().into_iter().filter(|d| known(d)).cloned().collect(), Rule::SealPlan)
                };
                let co_sealers = if internal { Vec::new() } else { plan.iter().skip(1).cloned().collect() };
                LicenceType {
                    template: name.clone(),
                    name: t.name.clone(),
                    type_code: t.type_code.clone(),
                    internal,
                    issuers,
                    co_sealers,
                    rule,
                }
            })
            .collect();
        let uscc = region.departments.iter().map(|d| (d.id.clone(), d.uscc.clone())).collect();
        Authority { types, uscc }
    }

    /// The home's catalogue: every template in templates/ (and the workflows' built-in templates
    /// when the home has no copy), the region's table and the home's list of uses (passed in:
    /// the trust store has already loaded it).
    pub fn from_home(home: &Home, region: &RegionConfig, uses: &UseList) -> Result<Self> {
        let dir = home.templates_dir();
        let mut names: Vec<String> = match std::fs::read_dir(&dir) {
            Ok(d) => d
                .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".toml").map(String::from))
                .collect(),
            Err(source) if source.kind() != std::io::ErrorKind::NotFound => {
                return Err(ConfigError::Read { path: dir, source }.into())
            }
            Err(_) => Vec::new(),
        };
        names.sort();
        let mut templates = Vec::new();
        for name in &names {
            templates.push((name.clone(), Template::load(home, name)?));
        }
        for (name, text) in
            BUILTIN.iter().filter(|(n, _)| WORKFLOW_TEMPLATES.contains(n) && !names.iter().any(|m| m == n))
        {
            templates.push((name.to_string(), Template::parse(text, name)?));
        }
        Ok(Self::build(region, &templates, uses))
    }

    pub fn types(&self) -> &[LicenceType] {
        &self.types
    }

    fn template(&self, name: &str) -> Option<&LicenceType> {
        self.types.iter().find(|t| t.template == name)
    }

    fn of_code<'a>(&'a self, type_code: &'a str) -> impl Iterator<Item = &'a LicenceType> + 'a {
        self.types.iter().filter(move |t| t.type_code == type_code)
    }

    /// May `dept` issue `template` through `zhengyin issue` or POST /v1/licences?
    pub fn may_issue(&self, template: &str, dept: &str) -> std::result::Result<(), AuthorityError> {
        let Some(t) = self.template(template) else {
            return Err(AuthorityError::NotAuthorised {
                dept: dept.into(),
                template: template.into(),
                named: "no department".into(),
                note: " (the template is not in the region's catalogue)".into(),
            });
        };
        // A copy of an internal template under another name is internal too: same type code.
        if let Some(i) = self.of_code(&t.type_code).find(|x| x.internal) {
            let via = if i.template == t.template {
                String::new()
            } else {
                format!(" (it has the type code of internal template {})", i.template)
            };
            return Err(AuthorityError::Internal {
                template: t.template.clone(),
                via,
                workflow: workflow_of(&i.template).into(),
            });
        }
        if t.issuers.iter().any(|d| d == dept) {
            return Ok(());
        }
        Err(AuthorityError::NotAuthorised {
            dept: dept.into(),
            template: t.template.clone(),
            named: names(&t.issuers),
            note: note(t.rule).into(),
        })
    }

    /// May `dept` make seal number `position` (0 = the issuing seal) of a document of licence type
    /// `type_code`? `Ok` says what it is authorised as; `Err` names the rule it breaks.
    pub fn may_seal(
        &self,
        type_code: &str,
        position: usize,
        dept: &str,
    ) -> std::result::Result<String, String> {
        let types: Vec<&LicenceType> = self.of_code(type_code).collect();
        if types.is_empty() {
            return Err(format!(
                "licence type {type_code} is not in this region's catalogue, so no department may seal it"
            ));
        }
        if position == 0 {
            if let Some(t) = types.iter().find(|t| t.issuers.iter().any(|d| d == dept)) {
                return Ok(format!("authorised to issue {} ({}){}", t.name, t.template, note(t.rule)));
            }
            let t = types[0];
            let verb = if t.internal { "make" } else { "issue" };
            return Err(format!(
                "{dept} may not {verb} {} ({}): the region names {}{}",
                t.template,
                t.name,
                names(&t.issuers),
                note(t.rule)
            ));
        }
        if let Some(t) = types.iter().find(|t| t.co_sealers.get(position - 1).is_some_and(|d| d == dept)) {
            return Ok(format!("seal {} of {}'s seal plan", position + 1, t.name));
        }
        let t = types[0];
        match t.co_sealers.get(position - 1) {
            Some(want) => Err(format!(
                "{dept} may not make seal {} of {} ({}): its seal plan names {want}",
                position + 1,
                t.template,
                t.name
            )),
            None => Err(format!(
                "{} ({}) has {} seal(s) in its plan; {dept}'s is seal {}",
                t.template,
                t.name,
                t.co_sealers.len() + 1,
                position + 1
            )),
        }
    }

    /// The seal plan a document of `type_code` issued by `issuer` must record.
    pub fn plan(&self, type_code: &str, issuer: &str) -> Option<Vec<String>> {
        let t = self.of_code(type_code).find(|t| t.issuers.iter().any(|d| d == issuer))?;
        Some(std::iter::once(issuer.to_string()).chain(t.co_sealers.iter().cloned()).collect())
    }

    /// The USCC of a department of the region.
    pub fn uscc(&self, dept: &str) -> Option<&str> {
        self.uscc.get(dept).map(String::as_str)
    }
}

fn names(depts: &[String]) -> String {
    if depts.is_empty() {
        "no department".into()
    } else {
        depts.join(", ")
    }
}

fn note(rule: Rule) -> &'static str {
    match rule {
        Rule::Table => "",
        Rule::SealPlan => " (the template's seal plan; region.toml has no [authority] entry for it)",
        Rule::Workflow => " (from the list of uses)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue(with_table: bool) -> Authority {
        let mut region =
            RegionConfig::parse(super::super::DEFAULT_REGION, std::path::Path::new("taian.toml")).unwrap();
        if !with_table {
            region.authority.clear();
        }
        let templates: Vec<(String, Template)> =
            BUILTIN.iter().map(|(n, t)| (n.to_string(), Template::parse(t, n).unwrap())).collect();
        Authority::build(&region, &templates, &UseList::parse(crate::proofs::uses::DEFAULT_USES).unwrap())
    }

    /// Without a table, only the first department of the seal plan may issue; internal templates never.
    #[test]
    fn default_is_the_seal_plan() {
        for a in [catalogue(false), catalogue(true)] {
            assert!(a.may_issue("business-licence", "scjg").is_ok());
            let e = a.may_issue("business-licence", "rs").unwrap_err().to_string();
            assert!(e.starts_with("rs may not issue business-licence: the region names scjg"), "{e}");
            assert!(a.may_issue("joint-approval", "dy-xzsp").is_ok());
            assert!(a.may_issue("joint-approval", "scjg").is_err());
            for t in ["proof", "commitment"] {
                assert!(matches!(a.may_issue(t, "rs"), Err(AuthorityError::Internal { .. })), "{t}");
            }
        }
    }

    /// Seals follow the plan by position; proofs may be made by the data holders only.
    #[test]
    fn seals_by_position() {
        let a = catalogue(false);
        let bl = "11100000MB0341032Y001";
        assert!(a.may_seal(bl, 0, "scjg").is_ok());
        assert!(a.may_seal(bl, 0, "rs").unwrap_err().contains("rs may not issue business-licence"));
        assert!(a.may_seal(bl, 1, "xzsp").is_err());
        let ja = "11100000MB0341032Y003";
        assert!(a.may_seal(ja, 1, "scjg").is_ok() && a.may_seal(ja, 2, "xzsp").is_ok());
        assert!(a.may_seal(ja, 1, "xzsp").is_err());
        let proof = "11100000MB0341032Y101";
        for d in ["rs", "scjg", "bdc"] {
            assert!(a.may_seal(proof, 0, d).is_ok(), "{d}");
        }
        assert!(a.may_seal(proof, 0, "xzsp").is_err());
        assert!(a.may_seal("11100000MB0341032Y999", 0, "scjg").is_err());
        assert_eq!(a.plan(ja, "dy-xzsp").unwrap(), ["dy-xzsp", "scjg", "xzsp"]);
    }
}
