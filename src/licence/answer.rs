//! The signed online status answer of GET /v1/status/{identifier}: a compact JWS (RFC 7515, ES256
//! = ECDSA P-256 with SHA-256, raw r‖s) with `typ` [`TYP`] and the region's status certificate as
//! `x5c`, after OCSP's single answers (RFC 6960: thisUpdate / nextUpdate): the claims say the
//! licence's status, its current version, the reason code, when the state began
//! (`changed_at`), when the answer was made (`produced_at`, also `iat`) and until when it may be
//! relied on (`next_update`, also `exp`). An answer past its nextUpdate is refused, so an old
//! answer cannot be replayed as a fresh one.
//!
//! Checking refuses anything but ES256 and [`TYP`], a signer whose certificate does not chain to a
//! trusted region root with the licence status EKU (pki/status_key.rs) — a department's seal key
//! cannot speak for licence status — and a `produced_at` in the future.
//! Knows JWS and certificates; nothing of HTTP or the archive.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::status::StatusView;
use crate::config::Home;
use crate::error::{PkiError, Result, StatusError};
use crate::pki::status_key::{self, EKU_LICENCE_STATUS_DER};
use crate::trust::TrustStore;

/// The only accepted `typ` of a status answer.
pub const TYP: &str = "zhengyin-status+jwt";
/// How long an answer may be relied on, seconds.
pub const ANSWER_VALIDITY_SECS: i64 = 300;
/// Clock skew allowed for `produced_at` in the future, seconds.
pub const CLOCK_SKEW_SECS: i64 = 300;
/// Longest answer accepted, bytes.
pub const MAX_ANSWER_BYTES: usize = 32 * 1024;

/// The status key loaded for signing (load once per server).
pub struct StatusSigner {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    /// The status certificate (DER).
    pub cert: Vec<u8>,
    pub region: String,
}

impl StatusSigner {
    /// Load the home's status key; a clear error for homes made before it existed.
    pub fn load(home: &Home) -> Result<Self> {
        if !status_key::exists(home) {
            return Err(StatusError::Refused(format!(
                "home {} has no licence status key: run `zhengyin init --home {} --add-status-key`",
                home.dir.display(),
                home.dir.display()
            ))
            .into());
        }
        let path = status_key::key_path(home);
        let der = crate::pki::keys::read_key_der(&path)?;
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng)
            .map_err(|e| PkiError::BadKey { path: path.clone(), message: e.to_string() })?;
        let cert = crate::pki::keys::read_certs_der(&status_key::cert_path(home))?
            .into_iter()
            .next()
            .ok_or_else(|| PkiError::Sign("empty status certificate".into()))?;
        Ok(StatusSigner { key, rng, cert, region: home.region()?.region.id })
    }

    /// A compact JWS over `claims` with `typ`.
    pub fn sign(&self, typ: &str, claims: &Value) -> Result<String> {
        self.sign_with_header(
            &json!({"alg": "ES256", "typ": typ, "x5c": [STANDARD.encode(&self.cert)]}),
            claims,
        )
    }

    /// A compact JWS over `claims` with the given protected header (which must say ES256).
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> Result<String> {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = self
            .key
            .sign(&self.rng, input.as_bytes())
            .map_err(|_| PkiError::Sign("ES256 signing failed".into()))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref())))
    }
}

/// The claims of a status answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AnswerClaims {
    /// The answering region's id.
    pub iss: String,
    /// The identifier asked about.
    pub sub: String,
    /// `valid` | `superseded` | `cancelled` | `revoked` | `suspended` | `unknown`.
    pub status: String,
    #[serde(default)]
    pub in_force: bool,
    #[serde(default)]
    pub expired: bool,
    #[serde(default)]
    pub current_version: Option<String>,
    #[serde(default)]
    pub current_status: Option<String>,
    #[serde(default)]
    pub reason_code: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    /// When the state began (RFC 3339).
    #[serde(default)]
    pub changed_at: Option<String>,
    /// The answer's own time (RFC 3339) and Unix seconds.
    pub produced_at: String,
    pub iat: i64,
    /// Until when the answer may be relied on (RFC 3339) and Unix seconds.
    pub next_update: String,
    pub exp: i64,
}

/// Sign the answer for `identifier` (`view`: its status, `None`: unknown to this region) at `now`.
pub fn sign_answer(
    signer: &StatusSigner,
    identifier: &str,
    view: Option<&StatusView>,
    now: i64,
) -> Result<String> {
    let rfc = crate::trust::rfc3339;
    let claims = match view {
        Some(v) => AnswerClaims {
            iss: signer.region.clone(),
            sub: v.identifier.clone(),
            status: v.status.as_str().into(),
            in_force: v.in_force,
            expired: v.expired,
            current_version: Some(v.current_version.clone()),
            current_status: Some(v.current_status.as_str().into()),
            reason_code: v.reason_code.clone(),
            reason: v.reason.clone(),
            changed_at: Some(v.time.clone()),
            produced_at: rfc(now),
            iat: now,
            next_update: rfc(now + ANSWER_VALIDITY_SECS),
            exp: now + ANSWER_VALIDITY_SECS,
        },
        None => AnswerClaims {
            iss: signer.region.clone(),
            sub: identifier.chars().take(200).collect(),
            status: "unknown".into(),
            in_force: false,
            expired: false,
            current_version: None,
            current_status: None,
            reason_code: None,
            reason: None,
            changed_at: None,
            produced_at: rfc(now),
            iat: now,
            next_update: rfc(now + ANSWER_VALIDITY_SECS),
            exp: now + ANSWER_VALIDITY_SECS,
        },
    };
    signer.sign(TYP, &serde_json::to_value(&claims).map_err(|e| PkiError::Sign(e.to_string()))?)
}

fn bad(m: impl Into<String>) -> crate::Error {
    StatusError::Answer(m.into()).into()
}

/// Split a compact JWS with header `typ` = `typ`, check its ES256 signature by its x5c
/// certificate and that certificate's chain to one of `trust`'s anchors with the licence status
/// EKU, at `now`. Returns the payload bytes and the anchor's source.
pub fn open_jws(
    token: &str,
    typ: &str,
    trust: &TrustStore,
    now: i64,
    what: fn(String) -> crate::Error,
) -> Result<(Vec<u8>, String, Vec<u8>)> {
    let parts: Vec<&str> = token.trim().split('.').collect();
    let [h, p, s] = parts.as_slice() else {
        return Err(what("not a compact JWS (three dot-separated parts)".into()));
    };
    let header: Value = URL_SAFE_NO_PAD
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| what("header is not base64url JSON".into()))?;
    if header.get("alg").and_then(Value::as_str) != Some("ES256") {
        return Err(what("alg must be ES256".into()));
    }
    if !header.get("typ").and_then(Value::as_str).is_some_and(|t| t.eq_ignore_ascii_case(typ)) {
        return Err(what(format!("typ must be {typ}")));
    }
    if header.get("crit").is_some() {
        return Err(what("crit: no JWS extension is understood (RFC 7515 §4.1.11)".into()));
    }
    let x5c: Vec<Vec<u8>> = header
        .get("x5c")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty() && a.len() <= 4)
        .ok_or_else(|| what("x5c must carry 1 to 4 certificates".into()))?
        .iter()
        .map(|c| c.as_str().and_then(|c| STANDARD.decode(c).ok()))
        .collect::<Option<_>>()
        .ok_or_else(|| what("an x5c entry is not base64".into()))?;
    let Some((ee, inter)) = x5c.split_first() else { return Err(what("x5c is empty".into())) };
    let payload = URL_SAFE_NO_PAD.decode(p).map_err(|_| what("payload is not base64url".into()))?;
    let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| what("signature is not base64url".into()))?;
    let (_, cert) =
        x509_parser::parse_x509_certificate(ee).map_err(|_| what("x5c[0] is not a certificate".into()))?;
    signature::UnparsedPublicKey::new(
        &signature::ECDSA_P256_SHA256_FIXED,
        &cert.public_key().subject_public_key.data,
    )
    .verify(format!("{h}.{p}").as_bytes(), &sig)
    .map_err(|_| what("the ES256 signature does not match the x5c certificate".into()))?;
    let anchor = status_chain(trust, ee, inter, now).map_err(what)?;
    Ok((payload, anchor, ee.clone()))
}

/// The status certificate's chain to a trusted root, with the licence status EKU required.
/// Ok: the anchor's source ("region root", "trust list of <region>").
pub fn status_chain(
    trust: &TrustStore,
    ee: &[u8],
    inter: &[Vec<u8>],
    now: i64,
) -> std::result::Result<String, String> {
    let ee_der = CertificateDer::from(ee);
    let cert = webpki::EndEntityCert::try_from(&ee_der)
        .map_err(|e| format!("signer certificate unreadable: {e}"))?;
    let inters: Vec<CertificateDer<'_>> = inter.iter().map(|d| CertificateDer::from(d.as_slice())).collect();
    let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(u64::try_from(now).unwrap_or(0)));
    let mut last = "no trusted region root".to_string();
    for a in &trust.anchors {
        let Ok(ta) =
            webpki::anchor_from_trusted_cert(&CertificateDer::from(a.der.as_slice())).map(|t| t.to_owned())
        else {
            continue;
        };
        match cert.verify_for_usage(
            crate::trust::verified::algorithms(),
            &[ta],
            &inters,
            at,
            webpki::KeyUsage::required(EKU_LICENCE_STATUS_DER),
            None,
            None,
        ) {
            Ok(_) => return Ok(a.source.clone()),
            Err(webpki::Error::RequiredEkuNotFoundContext(_)) => {
                return Err(format!(
                    "the signing certificate ({}) is not a licence status key: it lacks the licence status EKU {}",
                    crate::trust::subject_of(ee),
                    status_key::EKU_LICENCE_STATUS
                ))
            }
            Err(webpki::Error::UnknownIssuer) | Err(webpki::Error::InvalidSignatureForPublicKey) => {}
            Err(e) => last = format!("the signing certificate's chain fails: {e}"),
        }
    }
    Err(format!("{last} for the signing certificate {}", crate::trust::subject_of(ee)))
}

/// Check a status answer at `now`: signature, status key chain and EKU, freshness.
pub fn verify_answer(token: &str, trust: &TrustStore, now: i64) -> Result<AnswerClaims> {
    if token.len() > MAX_ANSWER_BYTES {
        return Err(bad(format!("longer than {MAX_ANSWER_BYTES} bytes")));
    }
    let (payload, _, _) = open_jws(token, TYP, trust, now, |m| StatusError::Answer(m).into())?;
    let claims: AnswerClaims =
        serde_json::from_slice(&payload).map_err(|e| bad(format!("claims unreadable: {e}")))?;
    if claims.exp < now {
        return Err(bad(format!(
            "it is past its nextUpdate ({}); an old answer cannot stand for the current status — ask again",
            claims.next_update
        )));
    }
    if claims.iat > now + CLOCK_SKEW_SECS {
        return Err(bad(format!("produced_at {} is in the future", claims.produced_at)));
    }
    Ok(claims)
}

/// An online status service as a status source for `verify`: GET `{base}/v1/status/{identifier}`,
/// the answer checked with [`verify_answer`] against the verifier's trust anchors. A refused or
/// unreachable answer gives "unknown" naming why (never a status).
pub struct OnlineSource<'a> {
    pub base: String,
    pub trust: &'a TrustStore,
}

impl crate::verify::status::StatusSource for OnlineSource<'_> {
    fn status_of(
        &self,
        s: &crate::verify::status::Subject<'_>,
    ) -> Option<crate::verify::status::LicenceStatus> {
        use crate::verify::status::LicenceStatus;
        let url = format!("{}/v1/status/{}", self.base.trim_end_matches('/'), s.identifier);
        let source = format!("online answer from {url}");
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let got = ureq::AgentBuilder::new()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .get(&url)
            .call()
            .map_err(|e| e.to_string())
            .and_then(|r| r.into_string().map_err(|e| e.to_string()))
            .and_then(|t| serde_json::from_str::<Value>(&t).map_err(|e| e.to_string()))
            .and_then(|v| {
                v.get("answer")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| "no answer in the response".to_string())
            })
            .and_then(|jws| verify_answer(&jws, self.trust, now).map_err(|e| e.to_string()));
        Some(match got {
            Ok(c) => LicenceStatus {
                in_force: (c.status != "unknown").then_some(c.status == "valid"),
                status: c.status.clone(),
                source: format!("{source} produced {} (next update {})", c.produced_at, c.next_update),
                current_version: c.current_version,
                reason_code: c.reason_code,
                reason: c.reason,
                since: c.changed_at,
                expired: c.expired,
                detail: format!("{} according to the signed answer", c.status),
            },
            Err(e) => LicenceStatus::unknown(&source, format!("no acceptable online answer: {e}")),
        })
    }
}
