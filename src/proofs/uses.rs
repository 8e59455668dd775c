//! The list of uses (用证清单): which proof kinds may be asked for which matters, by whom.
//! Read from `<home>/uses.toml` when present, else the shipped fixtures/region/uses.toml.

use serde::Deserialize;

use crate::config::Home;
use crate::error::{ConfigError, ProofError, Result};

/// The shipped list for the 泰安市 test region.
pub const DEFAULT_USES: &str = include_str!("../../fixtures/region/uses.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UseList {
    #[serde(rename = "kind")]
    pub kinds: Vec<Kind>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Kind {
    pub id: String,
    pub name: String,
    /// The department holding the data and sealing the answer.
    pub holder: String,
    pub answer: Vec<AnswerField>,
    pub commitment: Option<CommitmentRule>,
    #[serde(rename = "use", default)]
    pub uses: Vec<Use>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerField {
    pub field: String,
    pub label: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitmentRule {
    pub field: String,
    pub expect: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Use {
    /// 事项 code.
    pub matter: String,
    pub name: String,
    /// Departments allowed to ask.
    pub by: Vec<String>,
}

impl UseList {
    /// Parse a list; every kind, holder and asking department must be an identifier and every
    /// matter a matter code (`super::fields`), the formats requests are checked against.
    pub fn parse(text: &str) -> Result<Self> {
        let bad =
            |message: String| ConfigError::Toml { path: "uses.toml".into(), what: "a list of uses", message };
        let list: Self = toml::from_str(text).map_err(|e| bad(e.message().to_string()))?;
        use super::fields::{is_ident, is_matter};
        for k in &list.kinds {
            if !is_ident(&k.id) || !is_ident(&k.holder) {
                return Err(bad(format!(
                    "kind `{}` (holder `{}`): ids are lower-case letters, digits and `-`",
                    k.id, k.holder
                ))
                .into());
            }
            for u in &k.uses {
                if !is_matter(&u.matter) || !u.by.iter().all(|b| is_ident(b)) {
                    return Err(bad(format!(
                        "kind `{}`, matter `{}`: matter codes look like 370900-XK-0001, departments are ids",
                        k.id, u.matter
                    ))
                    .into());
                }
            }
        }
        Ok(list)
    }

    pub fn load(home: &Home) -> Result<Self> {
        let p = home.dir.join("uses.toml");
        if p.exists() {
            let text = std::fs::read_to_string(&p).map_err(crate::error::io_at(&p))?;
            Self::parse(&text)
        } else {
            Self::parse(DEFAULT_USES)
        }
    }

    pub fn kind(&self, id: &str) -> Option<&Kind> {
        self.kinds.iter().find(|k| k.id == id)
    }

    /// The kinds (and the use) that allow `by` to use proofs for `matter`.
    pub fn matter(&self, matter: &str) -> Vec<(&Kind, &Use)> {
        self.kinds
            .iter()
            .flat_map(|k| k.uses.iter().filter(move |u| u.matter == matter).map(move |u| (k, u)))
            .collect()
    }

    /// Check one request against the list: Ok((kind, use)) or a refusal with its reason.
    pub fn allow(
        &self,
        by: &str,
        kind: &str,
        matter: &str,
    ) -> std::result::Result<(&Kind, &Use), ProofError> {
        let k = self.kind(kind).ok_or_else(|| {
            ProofError::Refused(format!(
                "proof kind `{kind}` is not on the list of uses (known: {})",
                self.kinds.iter().map(|k| k.id.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })?;
        let u = k.uses.iter().find(|u| u.matter == matter).ok_or_else(|| {
            ProofError::Refused(format!("matter `{matter}` is not a listed use of `{kind}`"))
        })?;
        if !u.by.iter().any(|d| d == by) {
            return Err(ProofError::Refused(format!(
                "department `{by}` may not ask for `{kind}` for matter `{matter}` (allowed: {})",
                u.by.join(", ")
            )));
        }
        Ok((k, u))
    }
}
