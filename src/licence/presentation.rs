//! 亮证 (统一亮码): a short-lived signed presentation of a licence that a holder's app shows as a QR
//! code and a clerk scans (`GET /verify?p=…`). A compact JWS (RFC 7515, ES256) signed by the
//! region's licence status key (pki/status_key.rs), with header `kid` (the base64url SHA-256 of the
//! status certificate, RFC 7638-style thumbprint of the cert) instead of `x5c`, so the QR code
//! stays small. Claims: issuer region, identifier (`sub`), version, the fields the holder chose
//! and only those, `iat`, `exp` (at most [`MAX_TTL_SECS`] after `iat`) and a random `nonce`
//! the scanning server records so that each code is shown once.
//!
//! Security model (docs/api.md "Presentations"): a screenshot is a bearer copy until `exp`, and
//! only for its first scan; after that it is refused as replayed, after `exp` as expired.
//! Knows JWS and archive metadata; nothing of HTTP, sled or pages.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::answer::StatusSigner;
use crate::archive::Metadata;
use crate::error::{PkiError, Result};

/// The only accepted `typ` of a presentation.
pub const TYP: &str = "zhengyin-presentation+jwt";
/// Longest life of a presentation, seconds (the issue's "5 minutes or less").
pub const MAX_TTL_SECS: i64 = 300;
/// Clock skew allowed for an `iat` in the future, seconds.
pub const CLOCK_SKEW_SECS: i64 = 60;
/// Longest presentation accepted, bytes (a QR code cannot carry more anyway).
pub const MAX_BYTES: usize = 4096;

/// The fields a holder may choose, with their Chinese labels, in display order.
pub const FIELDS: &[(&str, &str)] = &[
    ("licence_type", "证照类型"),
    ("holder", "持证主体"),
    ("holder_code", "主体代码"),
    ("issuer", "签发部门"),
    ("issue_date", "签发日期"),
    ("valid_until", "有效期至"),
];

/// The label of a field name, if it is one of [`FIELDS`].
pub fn label(field: &str) -> Option<&'static str> {
    FIELDS.iter().find(|(f, _)| *f == field).map(|(_, l)| *l)
}

/// The claims of a presentation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    /// The region that signed it.
    pub iss: String,
    /// The licence identifier (the version presented).
    pub sub: String,
    /// That version, e.g. `001`.
    pub ver: String,
    /// The chosen fields only, by name ([`FIELDS`]).
    pub fields: BTreeMap<String, String>,
    pub iat: i64,
    pub exp: i64,
    /// 128 random bits, hex: the scan records it (single use).
    pub nonce: String,
}

/// Why a presentation is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the presentation is malformed: {0}")]
    Malformed(String),
    #[error("the presentation's signature does not verify with this region's status key")]
    BadSignature,
    /// Authentic but past its `exp` (the claims, so the scan can still be recorded).
    #[error("the presentation expired at {}", crate::trust::rfc3339(.0.exp))]
    Expired(Box<Claims>),
}

/// The licence type: the title minus the holder (titles are `<type> <holder>`).
pub fn licence_type(m: &Metadata) -> &str {
    let t = m.title.trim();
    t.strip_suffix(m.holder.trim()).map(str::trim).filter(|s| !s.is_empty()).unwrap_or(t)
}

/// The value of one field of a licence's archived metadata.
fn value(m: &Metadata, field: &str) -> Option<String> {
    Some(match field {
        "licence_type" => licence_type(m).to_string(),
        "holder" => m.holder.clone(),
        "holder_code" => m.holder_code.clone(),
        "issuer" => m.issuer.clone(),
        "issue_date" => m.issue_date.clone(),
        "valid_until" => m.valid_until.clone(),
        _ => return None,
    })
}

/// The chosen fields of `m`: each must be one of [`FIELDS`], at least one, no repeats.
pub fn choose(m: &Metadata, chosen: &[String]) -> std::result::Result<BTreeMap<String, String>, String> {
    if chosen.is_empty() {
        return Err("choose at least one field to show".into());
    }
    let mut out = BTreeMap::new();
    for f in chosen {
        let v = value(m, f).ok_or_else(|| {
            format!(
                "unknown field `{}` (known: {})",
                f.chars().take(40).collect::<String>(),
                FIELDS.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", ")
            )
        })?;
        if out.insert(f.clone(), v).is_some() {
            return Err(format!("field `{f}` chosen twice"));
        }
    }
    Ok(out)
}

/// The `kid` of a status certificate: base64url(SHA-256(DER)).
pub fn kid(cert_der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(crate::pades::cms::sha256(cert_der))
}

/// Sign a presentation of licence `m` with `fields`, valid `ttl` seconds (1..=[`MAX_TTL_SECS`])
/// from `now`. Returns the JWS and its claims.
pub fn sign(
    signer: &StatusSigner,
    m: &Metadata,
    fields: BTreeMap<String, String>,
    ttl: i64,
    now: i64,
) -> Result<(String, Claims)> {
    let ver =
        m.identifier.parse::<crate::document::identifier::LicenceId>().map(|i| i.version).unwrap_or_default();
    let nonce = crate::hex::encode(&crate::document::render::random_bytes::<16>()?);
    let claims = Claims {
        iss: signer.region.clone(),
        sub: m.identifier.clone(),
        ver,
        fields,
        iat: now,
        exp: now + ttl.clamp(1, MAX_TTL_SECS),
        nonce,
    };
    let value = serde_json::to_value(&claims).map_err(|e| PkiError::Sign(e.to_string()))?;
    let header = json!({"alg": "ES256", "typ": TYP, "kid": kid(&signer.cert)});
    Ok((signer.sign_with_header(&header, &value)?, claims))
}

/// Check a presentation against this region's status certificate at `now`: header, signature,
/// claims, life. The nonce is the caller's to record.
pub fn open(token: &str, cert_der: &[u8], now: i64) -> std::result::Result<Claims, Refusal> {
    let bad = |m: &str| Refusal::Malformed(m.to_string());
    if token.len() > MAX_BYTES {
        return Err(bad("too long"));
    }
    let parts: Vec<&str> = token.trim().split('.').collect();
    let [h, p, s] = parts.as_slice() else { return Err(bad("not a compact JWS")) };
    let header: Value = URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("header is not base64url JSON"))?;
    if header.get("alg").and_then(Value::as_str) != Some("ES256")
        || header.get("typ").and_then(Value::as_str) != Some(TYP)
        || header.get("crit").is_some()
    {
        return Err(bad("not a presentation (alg ES256, typ zhengyin-presentation+jwt)"));
    }
    if header.get("kid").and_then(Value::as_str) != Some(kid(cert_der).as_str()) {
        return Err(Refusal::BadSignature);
    }
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad("signature is not base64url"))?;
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der).map_err(|_| Refusal::BadSignature)?;
    signature::UnparsedPublicKey::new(
        &signature::ECDSA_P256_SHA256_FIXED,
        &cert.public_key().subject_public_key.data,
    )
    .verify(format!("{h}.{p}").as_bytes(), &sig)
    .map_err(|_| Refusal::BadSignature)?;
    let payload = URL_SAFE_NO_PAD.decode(p).map_err(|_| bad("payload is not base64url"))?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| bad("claims unreadable"))?;
    if claims.exp - claims.iat > MAX_TTL_SECS || claims.iat > now + CLOCK_SKEW_SECS {
        return Err(bad("its life is longer than allowed or it starts in the future"));
    }
    if now > claims.exp {
        return Err(Refusal::Expired(Box::new(claims)));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Metadata {
        Metadata {
            title: "营业执照 泰安市示例云岭科技有限公司".into(),
            holder: "泰安市示例云岭科技有限公司".into(),
            holder_code: "91370900MA3C00001T".into(),
            issuer: "泰安市市场监督管理局".into(),
            ..Metadata::default()
        }
    }

    #[test]
    fn only_known_fields_are_chosen_once() {
        let m = meta();
        let f = choose(&m, &["licence_type".into(), "holder".into()]).expect("fields");
        assert_eq!(f.get("licence_type").map(String::as_str), Some("营业执照"));
        assert_eq!(f.len(), 2);
        assert!(choose(&m, &[]).is_err());
        assert!(choose(&m, &["password".into()]).is_err());
        assert!(choose(&m, &["holder".into(), "holder".into()]).is_err());
    }
}
