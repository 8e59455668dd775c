//! Licence templates (fixtures/templates/*.toml): the fields a licence type carries, how they are
//! checked, which department seals it by default, and the GB/T 36903 metadata mapping.
//!
//! Knows nothing of PDF drawing or signatures; `render` consumes a checked [`LicenceData`].

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::Home;
use crate::error::{ConfigError, DataError, Result};

/// Templates shipped with the product, installed into every new home.
pub const BUILTIN: &[(&str, &str)] = &[
    ("business-licence", include_str!("../../fixtures/templates/business-licence.toml")),
    ("food-business-licence", include_str!("../../fixtures/templates/food-business-licence.toml")),
    ("joint-approval", include_str!("../../fixtures/templates/joint-approval.toml")),
    ("proof", include_str!("../../fixtures/templates/proof.toml")),
    ("commitment", include_str!("../../fixtures/templates/commitment.toml")),
    ("audit-report", include_str!("../../fixtures/templates/audit-report.toml")),
];

/// Templates that a workflow of src/proofs/ loads by name: always internal, whatever their file says.
pub const WORKFLOW_TEMPLATES: &[&str] = &["proof", "commitment", "audit-report"];

/// Longest accepted field value, in characters (keeps layout and metadata bounded).
pub const MAX_FIELD_CHARS: usize = 200;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub id: String,
    /// Licence name (证照名称), e.g. 营业执照.
    pub name: String,
    /// Title printed on the licence (may be letter-spaced).
    pub title: String,
    /// 21-character licence type code (证照类型代码): definer USCC + 3-digit sequence.
    pub type_code: String,
    /// Department that seals when `--seal` is not given.
    pub default_seal: String,
    /// Field holding the number printed on the licence (证照编号).
    pub number_field: String,
    /// Field holding the holder's name (持证主体).
    pub holder_field: String,
    /// Field holding the holder's code (持证主体代码).
    pub holder_code_field: String,
    /// Holder code type code: `001` USCC, `111` resident ID (GB/T 36903 practice).
    pub holder_code_type: String,
    pub valid_from_field: Option<String>,
    pub valid_until_field: Option<String>,
    /// Departments that must seal, in order (joint seals, 多部门联合签章); the last one locks the
    /// document. Empty means a single seal by `default_seal`.
    #[serde(default)]
    pub seal_plan: Vec<String>,
    /// Made only by its own workflow (src/proofs/: proofs, commitments), never by `zhengyin issue`
    /// or POST /v1/licences (config/authority.rs). The workflows' templates are internal even in
    /// homes whose copies predate this flag ([`WORKFLOW_TEMPLATES`]).
    #[serde(default)]
    pub internal: bool,
    /// The licence may be suspended and resumed (`zhengyin licence suspend|resume`,
    /// licence/lifecycle.rs); cancel, revoke, change, renew and reissue apply to every licence.
    #[serde(default)]
    pub suspendable: bool,
    /// Label before the issuing department's name [default: 发证机关].
    #[serde(default)]
    pub issuer_label: Option<String>,
    /// Legal note at the foot of the page [default: the licence's note on electronic seals]; the
    /// renderer adds how to verify (the QR code or the verification address).
    #[serde(default)]
    pub footer: Option<String>,
    /// The applicant's line beside the issuer block (a commitment's 承诺人), if any.
    #[serde(default)]
    pub applicant: Option<Applicant>,
    #[serde(rename = "field")]
    pub fields: Vec<Field>,
}

/// The applicant's line: `label：<value of field>`, and `日期：<date field>` under it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Applicant {
    pub label: String,
    pub field: String,
    #[serde(default)]
    pub date_field: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub kind: FieldKind,
    #[serde(default = "yes")]
    pub required: bool,
    /// Show on the licence face (false: metadata only).
    #[serde(default = "yes")]
    pub shown: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FieldKind {
    #[default]
    Text,
    /// Unified social credit code with its GB 32100 check character.
    Uscc,
    /// `YYYY-MM-DD`.
    Date,
    /// `YYYY-MM-DD` or 长期 (long-term).
    DateOrLongTerm,
}

/// Data checked against its template: every required field present, every value well-formed.
#[derive(Debug, Clone)]
pub struct LicenceData {
    pub values: BTreeMap<String, String>,
}

impl Template {
    pub fn parse(text: &str, name: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| {
            ConfigError::Toml {
                path: format!("templates/{name}.toml").into(),
                what: "a template",
                message: e.message().to_string(),
            }
            .into()
        })
    }

    /// Load a template by name from the home (templates/NAME.toml).
    pub fn load(home: &Home, name: &str) -> Result<Self> {
        let dir = home.templates_dir();
        let valid_name =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let path = dir.join(format!("{name}.toml"));
        if !valid_name || !path.exists() {
            if !home.region_file().exists() {
                return Err(ConfigError::NotInitialised { home: home.dir.clone() }.into());
            }
            let mut known: Vec<String> = std::fs::read_dir(&dir)
                .map(|d| {
                    d.filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".toml").map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            known.sort();
            return Err(ConfigError::UnknownTemplate { name: name.into(), known: known.join(", ") }.into());
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|source| ConfigError::Read { path: path.clone(), source })?;
        Self::parse(&text, name)
    }

    /// Made only by a workflow: flagged `internal`, or one of [`WORKFLOW_TEMPLATES`] (by file name
    /// or id).
    pub fn is_internal(&self, name: &str) -> bool {
        self.internal || WORKFLOW_TEMPLATES.contains(&name) || WORKFLOW_TEMPLATES.contains(&self.id.as_str())
    }

    /// The seal plan: the listed departments, or just the default sealing department.
    pub fn plan(&self) -> Vec<String> {
        if self.seal_plan.is_empty() {
            vec![self.default_seal.clone()]
        } else {
            self.seal_plan.clone()
        }
    }

    fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// Check a JSON object against the fields: unknown, missing and malformed values are errors.
    pub fn check(&self, json: &serde_json::Value) -> Result<LicenceData> {
        let obj = json
            .as_object()
            .ok_or_else(|| DataError::NotJson("expected an object of field: value".into()))?;
        for key in obj.keys() {
            if self.field(key).is_none() {
                let expected = self.fields.iter().map(|f| f.key.as_str()).collect::<Vec<_>>().join(", ");
                return Err(
                    DataError::Unknown { template: self.id.clone(), field: key.clone(), expected }.into()
                );
            }
        }
        let mut values = BTreeMap::new();
        for f in &self.fields {
            let invalid =
                |reason: String| DataError::Invalid { field: f.key.clone(), label: f.label.clone(), reason };
            let v = match obj.get(&f.key) {
                None | Some(serde_json::Value::Null) => {
                    if f.required {
                        return Err(DataError::Missing {
                            template: self.id.clone(),
                            field: f.key.clone(),
                            label: f.label.clone(),
                        }
                        .into());
                    }
                    continue;
                }
                Some(serde_json::Value::String(s)) => s.trim().to_string(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                Some(_) => return Err(invalid("must be a string".into()).into()),
            };
            if v.is_empty() && f.required {
                return Err(DataError::Missing {
                    template: self.id.clone(),
                    field: f.key.clone(),
                    label: f.label.clone(),
                }
                .into());
            }
            if v.chars().count() > MAX_FIELD_CHARS {
                return Err(invalid(format!("longer than {MAX_FIELD_CHARS} characters")).into());
            }
            if v.chars().any(|c| c.is_control()) {
                return Err(invalid("contains control characters".into()).into());
            }
            match f.kind {
                FieldKind::Text => {}
                FieldKind::Uscc => {
                    if !super::identifier::uscc_is_valid(&v) {
                        return Err(invalid(format!("`{v}` is not an 18-character unified social credit code with a valid check character")).into());
                    }
                }
                FieldKind::Date => parse_date(&v).map_err(invalid)?,
                FieldKind::DateOrLongTerm => {
                    if v != "长期" {
                        parse_date(&v).map_err(invalid)?
                    }
                }
            }
            values.insert(f.key.clone(), v);
        }
        Ok(LicenceData { values })
    }
}

fn parse_date(v: &str) -> std::result::Result<(), String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(v, &fmt).map(|_| ()).map_err(|_| format!("`{v}` is not a date in YYYY-MM-DD form"))
}

impl LicenceData {
    pub fn get(&self, key: &str) -> &str {
        self.values.get(key).map(String::as_str).unwrap_or("")
    }
}

/// Copy the built-in templates into a home (existing files are kept: they may be customised).
pub fn install_defaults(home: &Home) -> Result<()> {
    let dir = home.templates_dir();
    crate::pki::keys::make_dir(&dir, 0o755)?;
    for (name, text) in BUILTIN {
        let path = dir.join(format!("{name}.toml"));
        if !path.exists() {
            crate::pki::keys::write_file(&path, text.as_bytes(), 0o644)?;
        }
    }
    Ok(())
}
