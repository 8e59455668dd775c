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
    /// Departments of other regions allowed to ask (跨区域核验), by region id and USCC; they
    /// authenticate with a credential this region issued (`token create --role foreign`).
    #[serde(default)]
    pub foreign: Vec<ForeignDept>,
}

/// A department of another region, as the list of uses names it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ForeignDept {
    /// The other region's id (as in its trust list).
    pub region: String,
    /// The department's 统一社会信用代码 (GB 32100).
    pub uscc: String,
    /// Its name, for the records and the proof page.
    #[serde(default)]
    pub name: String,
}

impl ForeignDept {
    /// How a token's `aud` and the records name it: `region:USCC`.
    pub fn audience(&self) -> String {
        format!("{}:{}", self.region, self.uscc)
    }
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
                let foreign_ok = u
                    .foreign
                    .iter()
                    .all(|f| is_ident(&f.region) && crate::document::identifier::uscc_is_valid(&f.uscc));
                if !foreign_ok {
                    return Err(bad(format!(
                        "kind `{}`, matter `{}`: a foreign department is a region id and a valid USCC",
                        k.id, u.matter
                    ))
                    .into());
                }
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

    /// Check a request of a department of another region (`region`, `uscc`) against the list.
    pub fn allow_foreign(
        &self,
        region: &str,
        uscc: &str,
        kind: &str,
        matter: &str,
    ) -> std::result::Result<(&Kind, &Use, &ForeignDept), ProofError> {
        let (k, u) = self.listed(kind, matter)?;
        let f = u.foreign.iter().find(|f| f.region == region && f.uscc == uscc).ok_or_else(|| {
            ProofError::Refused(format!(
                "department {uscc} of region `{region}` may not ask for `{kind}` for matter `{matter}` \
                 (other regions' departments allowed: {})",
                if u.foreign.is_empty() {
                    "none".to_string()
                } else {
                    u.foreign.iter().map(ForeignDept::audience).collect::<Vec<_>>().join(", ")
                }
            ))
        })?;
        Ok((k, u, f))
    }

    /// A token's `aud`: a department of this region (`allow`) or `region:USCC` (`allow_foreign`).
    pub fn allow_audience(&self, aud: &str, kind: &str, matter: &str) -> std::result::Result<(), ProofError> {
        match aud.split_once(':') {
            Some((region, uscc)) => self.allow_foreign(region, uscc, kind, matter).map(|_| ()),
            None => self.allow(aud, kind, matter).map(|_| ()),
        }
    }

    fn listed(&self, kind: &str, matter: &str) -> std::result::Result<(&Kind, &Use), ProofError> {
        let k = self.kind(kind).ok_or_else(|| {
            ProofError::Refused(format!(
                "proof kind `{kind}` is not on the list of uses (known: {})",
                self.kinds.iter().map(|k| k.id.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })?;
        let u = k.uses.iter().find(|u| u.matter == matter).ok_or_else(|| {
            ProofError::Refused(format!("matter `{matter}` is not a listed use of `{kind}`"))
        })?;
        Ok((k, u))
    }

    /// Check one request against the list: Ok((kind, use)) or a refusal with its reason.
    pub fn allow(
        &self,
        by: &str,
        kind: &str,
        matter: &str,
    ) -> std::result::Result<(&Kind, &Use), ProofError> {
        let (k, u) = self.listed(kind, matter)?;
        if !u.by.iter().any(|d| d == by) {
            return Err(ProofError::Refused(format!(
                "department `{by}` may not ask for `{kind}` for matter `{matter}` (allowed: {})",
                u.by.join(", ")
            )));
        }
        Ok((k, u))
    }
}
