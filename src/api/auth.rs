//! API tokens: random bearer tokens shown once at creation; only their SHA-256 is stored, in
//! `<home>/tokens.toml` (0600), with the role they carry — a department (may issue and seal with
//! its own seal), an archivist (reads and audits the archive), a CA operator (revokes
//! certificates its CA issued) or a holder's app (makes 亮证 presentations). Why tokens and not mTLS: docs/api.md.
//!
//! Knows the home and the roles; knows nothing of routes. Raw tokens are never stored or logged.

use std::path::PathBuf;

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::config::Home;
use crate::error::{ApiError, ConfigError, Result};

/// Prefix of every token (so leaked tokens are easy to grep for).
pub const TOKEN_PREFIX: &str = "zy_";

/// What a token may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "kebab-case")]
pub enum Role {
    /// Issues and seals with its own seal only; reads the archive.
    Department { dept: String },
    /// Reads and audits the archive; cannot issue or seal.
    Archivist,
    /// Revokes certificates issued by CA `ca`.
    CaOperator { ca: String },
    /// A department of another region (跨区域核验), by region id and USCC: may only ask for
    /// proofs through POST /v1/proofs/foreign, as far as the list of uses names it.
    Foreign { region: String, uscc: String },
    /// A holder's app (亮证, outside this product, which authenticates the citizen or company):
    /// may only make presentations of licences (POST /v1/licences/{id}/presentations).
    HolderApp,
}

impl Role {
    pub fn describe(&self) -> String {
        match self {
            Role::Department { dept } => format!("department {dept}"),
            Role::Archivist => "archivist".into(),
            Role::CaOperator { ca } => format!("operator of CA {ca}"),
            Role::Foreign { region, uscc } => format!("department {uscc} of region {region}"),
            Role::HolderApp => "holder app".into(),
        }
    }
}

/// One stored token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenEntry {
    /// Public id (safe to log).
    pub id: String,
    /// SHA-256 of the token, hex.
    pub sha256: String,
    pub created: String,
    #[serde(flatten)]
    pub role: Role,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub token_id: String,
    pub role: Role,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TokenFile {
    #[serde(default, rename = "token")]
    tokens: Vec<TokenEntry>,
}

pub fn tokens_path(home: &Home) -> PathBuf {
    home.dir.join("tokens.toml")
}

fn sha256_hex(s: &str) -> String {
    crate::hex::encode(&crate::pades::cms::sha256(s.as_bytes()))
}

fn load(home: &Home) -> Result<TokenFile> {
    let path = tokens_path(home);
    match std::fs::read_to_string(&path) {
        Ok(t) => toml::from_str(&t).map_err(|e| {
            ConfigError::Toml { path, what: "API tokens", message: e.message().to_string() }.into()
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TokenFile::default()),
        Err(source) => Err(ConfigError::Read { path, source }.into()),
    }
}

/// Create a token for `role`; returns (id, raw token). The raw token is not stored anywhere.
pub fn create(home: &Home, role: Role) -> Result<(String, String)> {
    let region = home.region()?;
    match &role {
        Role::Department { dept } => {
            region.department(dept)?;
        }
        Role::CaOperator { ca } if region.ca(ca).is_none() => {
            return Err(ConfigError::Inconsistent(format!(
                "unknown CA `{ca}` (known: {})",
                region.cas.iter().map(|c| c.id.as_str()).collect::<Vec<_>>().join(", ")
            ))
            .into());
        }
        Role::Foreign { region: other, uscc } => {
            crate::proofs::fields::ident("region", other)?;
            if *other == region.region.id {
                return Err(ConfigError::Inconsistent(format!(
                    "`{other}` is this region; its departments use --role department"
                ))
                .into());
            }
            if !crate::document::identifier::uscc_is_valid(uscc) {
                return Err(
                    ConfigError::Inconsistent(format!("`{uscc}` is not a valid USCC (GB 32100)")).into()
                );
            }
        }
        _ => {}
    }
    let secret = crate::document::render::random_bytes::<32>()?;
    let raw = format!("{TOKEN_PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
    let id_bytes = crate::document::render::random_bytes::<6>()?;
    let id = format!("tok-{}", crate::hex::encode(&id_bytes));
    let mut file = load(home)?;
    let created = crate::trust::rfc3339(::time::OffsetDateTime::now_utc().unix_timestamp());
    file.tokens.push(TokenEntry { id: id.clone(), sha256: sha256_hex(&raw), created, role });
    let text = toml::to_string_pretty(&file).map_err(|e| ConfigError::Inconsistent(e.to_string()))?;
    crate::pki::keys::write_file(&tokens_path(home), text.as_bytes(), 0o600)?;
    Ok((id, raw))
}

/// The stored tokens (hashes and roles only).
pub fn list(home: &Home) -> Result<Vec<TokenEntry>> {
    Ok(load(home)?.tokens)
}

/// Authenticate an `Authorization` header value. Re-reads tokens.toml so new tokens work at once.
pub fn authenticate(home: &Home, header: Option<&str>) -> Result<Principal> {
    let raw = header
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| t.starts_with(TOKEN_PREFIX))
        .ok_or(ApiError::Unauthenticated)?;
    let want = sha256_hex(raw);
    let file = load(home)?;
    // Comparing hashes of high-entropy secrets: timing reveals nothing useful about the token.
    file.tokens
        .into_iter()
        .find(|t| t.sha256 == want)
        .map(|t| Principal { token_id: t.id, role: t.role })
        .ok_or_else(|| ApiError::Unauthenticated.into())
}
