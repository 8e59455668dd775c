//! The proof token profile: a compact JWS (RFC 7515) whose claims are bound to the key that signs
//! them. Signing makes `{alg: ES256, typ: zhengyin-proof+jwt, x5c}`; checking refuses anything
//! else and ties every claim to the signer:
//!
//! - header: `alg` exactly ES256, `typ` exactly [`TYP`] (so a JWT of another kind cannot be
//!   replayed as a proof), no `crit` (we understand no extension, RFC 7515 §4.1.11), no other
//!   parameters; `x5c` 1..=[`MAX_X5C`] entries, every one base64 DER X.509 (none is skipped);
//! - the ES256 signature (raw r‖s) by the first x5c certificate; its chain to a trusted root at the
//!   validation time, and its revocation (CRL);
//! - `iss` is the department the certificate belongs to in the home's own region, issued through
//!   its configured CA (`trust::department`);
//! - `kind` is a proof kind that `iss` holds, and `aud` + `purpose` a listed use of it (uses.toml);
//! - `sub` is a holder code (`HC` + 32 hex), never a raw ID;
//! - `exp` not passed, `iat` and `nbf` not in the future beyond [`CLOCK_SKEW_SECS`].
//!
//! Knows nothing of PDF or of the archive. RFC 7515 (JWS), RFC 7519 §4.1 (registered claims),
//! RFC 8725 §3.11 (explicit typing), RFC 7518 §3.4 (ES256 signature format).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::signature;
use serde_json::{json, Value};

use crate::error::{ProofError, Result};
use crate::pki::SealSigner;
use crate::trust::{ChainOutcome, Revocation, TrustStore};

/// The only accepted `typ` (RFC 8725 §3.11 explicit typing; compared case-insensitively).
pub const TYP: &str = "zhengyin-proof+jwt";
/// The only accepted `alg`.
pub const ALG: &str = "ES256";
/// Clock skew allowed for `iat` and `nbf` in the future, seconds.
pub const CLOCK_SKEW_SECS: i64 = 300;
/// Most certificates an x5c may carry (seal certificate + CAs up to the region root).
pub const MAX_X5C: usize = 4;
/// Longest token accepted, bytes (a genuine token is about 3 KB).
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;
/// Header parameters a proof token may carry.
const HEADER_PARAMS: [&str; 3] = ["alg", "typ", "x5c"];

/// Compact JWS with [`ALG`] and [`TYP`], the seal certificate and intermediates as x5c.
pub fn sign_jws(signer: &SealSigner, claims: &Value) -> Result<String> {
    let x5c: Vec<String> =
        std::iter::once(&signer.cert).chain(signer.chain.iter()).map(|c| STANDARD.encode(c)).collect();
    let header = json!({"alg": ALG, "typ": TYP, "x5c": x5c});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = signer.sign_raw(input.as_bytes())?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

/// The result of checking a token.
#[derive(Debug, serde::Serialize)]
pub struct TokenCheck {
    pub valid: bool,
    /// Each problem starts with the rule it breaks (`typ:`, `crit:`, `iss:`, `aud/purpose:` …);
    /// an expired token's problem starts with `expired at`.
    pub problems: Vec<String>,
    pub signer: String,
    /// The department of the home's region the signer certificate belongs to, if any (for a
    /// token of another region: the department its certificate names).
    pub department: Option<String>,
    /// The other region whose imported trust list the chain ends in (跨区域核验), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub chain: Vec<String>,
    pub revocation: Revocation,
    pub claims: Value,
}

/// Check a compact JWS against the profile above at time `at`. `Err` only when the token cannot
/// be read at all (not three base64url parts of JSON).
pub fn verify_jws(token: &str, trust: &TrustStore, at: std::time::SystemTime) -> Result<TokenCheck> {
    let bad = |m: &str| ProofError::Token(m.to_string());
    let token = token.trim();
    if token.len() > MAX_TOKEN_BYTES {
        return Err(bad(&format!(
            "{} bytes is longer than a proof token may be ({MAX_TOKEN_BYTES})",
            token.len()
        ))
        .into());
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [h, p, s] = parts.as_slice() else {
        return Err(bad("not a compact JWS (three dot-separated parts)").into());
    };
    let header: Value = URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("header is not base64url JSON"))?;
    let claims: Value = URL_SAFE_NO_PAD
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("payload is not base64url JSON"))?;
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad("signature is not base64url"))?;
    let (Some(header), Some(_)) = (header.as_object(), claims.as_object()) else {
        return Err(bad("header and payload must be JSON objects").into());
    };

    let mut problems = header_problems(header);
    let certs = match x5c(header) {
        Ok(c) => c,
        Err(e) => {
            problems.push(format!("x5c: {e}"));
            return Ok(TokenCheck {
                valid: false,
                problems,
                signer: String::new(),
                department: None,
                region: None,
                chain: Vec::new(),
                revocation: Revocation::Unknown { detail: "no usable x5c".into(), stale: false },
                claims,
            });
        }
    };
    let Some((ee, inter)) = certs.split_first() else {
        return Err(bad("no x5c certificate chain in the header").into());
    };
    let signer = crate::trust::subject_of(ee);
    if let Ok((_, cert)) = x509_parser::parse_x509_certificate(ee) {
        let spk = cert.public_key().subject_public_key.data.to_vec();
        if signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, spk)
            .verify(format!("{h}.{p}").as_bytes(), &sig)
            .is_err()
        {
            problems.push("signature: the ES256 signature does not match the x5c certificate".into());
        }
    }
    let unix = at.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (chain, revocation) = trust.validate(
        ee,
        inter,
        rustls_pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(unix)),
    );
    let (path, foreign) = match chain {
        ChainOutcome::Trusted { path, anchor, .. } => {
            (path, anchor.strip_prefix("trust list of ").map(String::from))
        }
        ChainOutcome::Failed { sub_indication, reason } => {
            problems.push(format!("chain: {sub_indication}: {reason}"));
            (Vec::new(), None)
        }
    };
    match &revocation {
        Revocation::Revoked { revoked_at, .. } => {
            problems.push(format!("revocation: the signing certificate was revoked at {revoked_at}"))
        }
        // A CRL that breaks the RFC 5280 profile cannot clear the signer (as REVOCATION in verify).
        Revocation::Refused { detail, .. } => problems.push(format!("revocation: {detail}")),
        _ => {}
    }
    let department = if foreign.is_some() {
        // Sealed through another region's list: that region's rules (`proofs::foreign`).
        let before = problems.len();
        problems.extend(super::foreign::foreign_claim_problems(&claims, ee, trust));
        (problems.len() == before)
            .then(|| claims.get("iss").and_then(Value::as_str).map(String::from))
            .flatten()
    } else {
        match crate::trust::department::department_of(trust, ee) {
            Ok(d) => Some(d.id),
            Err(e) => {
                problems.push(format!("iss: {e}"));
                None
            }
        }
    };
    problems.extend(claim_problems(
        &claims,
        department.as_deref(),
        trust,
        i64::try_from(unix).unwrap_or(i64::MAX),
        foreign.is_none(),
    ));
    Ok(TokenCheck {
        valid: problems.is_empty(),
        problems,
        signer,
        department,
        region: foreign,
        chain: path,
        revocation,
        claims,
    })
}

/// `alg`, `typ`, `crit` and unknown parameters.
fn header_problems(header: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    match header.get("alg").and_then(Value::as_str) {
        Some(ALG) => {}
        other => out.push(format!(
            "alg: {} is not {ALG}, the only algorithm of proof tokens",
            other.unwrap_or("(none)")
        )),
    }
    match header.get("typ").and_then(Value::as_str) {
        Some(t) if t.eq_ignore_ascii_case(TYP) => {}
        other => out.push(format!(
            "typ: `{}` is not `{TYP}`; only proof tokens are accepted",
            other.unwrap_or("(none)")
        )),
    }
    if let Some(c) = header.get("crit") {
        out.push(format!("crit: the token marks {c} as critical; this verifier understands no JWS extension (RFC 7515 §4.1.11)"));
    }
    for k in header.keys().filter(|k| !HEADER_PARAMS.contains(&k.as_str()) && k.as_str() != "crit") {
        out.push(format!(
            "header: parameter `{}` is not part of the proof token profile",
            k.chars().take(40).collect::<String>()
        ));
    }
    out
}

/// The x5c certificates, each decoded and parsed; any malformed entry refuses the whole chain.
fn x5c(header: &serde_json::Map<String, Value>) -> std::result::Result<Vec<Vec<u8>>, String> {
    let list = header.get("x5c").and_then(Value::as_array).ok_or("the header carries no x5c array")?;
    if list.is_empty() || list.len() > MAX_X5C {
        return Err(format!("{} certificates; a proof token carries 1..={MAX_X5C}", list.len()));
    }
    let mut out = Vec::new();
    for (i, c) in list.iter().enumerate() {
        let der = c
            .as_str()
            .and_then(|c| STANDARD.decode(c).ok())
            .ok_or_else(|| format!("entry {} is not a base64 string", i + 1))?;
        match x509_parser::parse_x509_certificate(&der) {
            Ok(([], _)) => out.push(der),
            _ => return Err(format!("entry {} is not a DER X.509 certificate", i + 1)),
        }
    }
    Ok(out)
}

/// The claims bound to the signer and (for this region's tokens, `local`) the list of uses, and
/// the times.
fn claim_problems(
    claims: &Value,
    signer_dept: Option<&str>,
    trust: &TrustStore,
    now: i64,
    local: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    let text = |k: &str| claims.get(k).and_then(Value::as_str);
    let short = |v: Option<&str>| {
        v.map(|s| s.chars().take(40).collect::<String>()).unwrap_or_else(|| "(none)".into())
    };
    for k in ["iss", "sub", "kind", "purpose", "aud", "answer", "jti"] {
        if text(k).is_none() {
            out.push(format!("{k}: missing or not a string"));
        }
    }
    let is_code = |c: &str| {
        c.len() == 34
            && c.starts_with("HC")
            && c.bytes().skip(2).all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b))
    };
    if text("sub").is_some_and(|c| !is_code(c)) {
        out.push(
            "sub: not a holder code (HC + 32 hex); a proof token never names its subject otherwise".into(),
        );
    }
    let (iss, kind, aud, purpose) = (text("iss"), text("kind"), text("aud"), text("purpose"));
    if let (Some(iss), Some(dept)) = (iss, signer_dept) {
        if iss != dept {
            out.push(format!(
                "iss: the token claims `{}` but is signed by `{dept}`'s certificate",
                short(Some(iss))
            ));
        }
    }
    match trust.uses.as_ref().filter(|_| local) {
        None if !local => {}
        None => out.push("kind: no list of uses to check the claims against (verify with a home)".into()),
        Some(list) => match kind.and_then(|k| list.kind(k)) {
            None => out.push(format!("kind: `{}` is not a proof kind on the list of uses", short(kind))),
            Some(k) => {
                if iss.is_some_and(|i| i != k.holder) {
                    out.push(format!("kind: `{}` is held by `{}`, not by `{}`", k.id, k.holder, short(iss)));
                }
                if let Err(e) = list.allow_audience(aud.unwrap_or(""), &k.id, purpose.unwrap_or("")) {
                    let why = match e {
                        ProofError::Refused(r) => r,
                        other => other.to_string(),
                    };
                    out.push(format!(
                        "aud/purpose: not a listed use: {}",
                        why.chars().take(200).collect::<String>()
                    ));
                }
            }
        },
    }
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if exp < now => out.push(format!("expired at {}", crate::trust::rfc3339(exp))),
        Some(_) => {}
        None => out.push("exp: missing or not a number".into()),
    }
    match claims.get("iat").map(Value::as_i64) {
        Some(Some(iat)) if iat > now + CLOCK_SKEW_SECS => {
            out.push(format!("iat: issued in the future ({})", crate::trust::rfc3339(iat)))
        }
        Some(Some(_)) => {}
        _ => out.push("iat: missing or not a number".into()),
    }
    match claims.get("nbf").map(Value::as_i64) {
        None => {}
        Some(Some(nbf)) if nbf > now + CLOCK_SKEW_SECS => {
            out.push(format!("nbf: not valid before {}", crate::trust::rfc3339(nbf)))
        }
        Some(Some(_)) => {}
        Some(None) => out.push("nbf: not a number".into()),
    }
    if claims.get("found").and_then(Value::as_bool).is_none() {
        out.push("found: missing or not a boolean".into());
    }
    out
}
