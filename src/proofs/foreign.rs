//! Cross-region proofs (跨区域核验): a department of region B asks region A's holding department
//! for a proof, server to server. A's list of uses names the foreign departments it answers, by
//! region id and USCC (`uses::ForeignDept`); B authenticates with a scoped credential A issued to
//! that department (`token create --role foreign`, docs/api.md says why not mTLS). B keeps the
//! credentials it holds in `<home>/remote-credentials.toml` (0600), checks the answer — the
//! sealed PDF and the JWS — against A's imported trust list, and files both with a use record;
//! A files its own records (naming B's department) when it answers or refuses.
//!
//! This module is B's side and the foreign-token rules; A's side is `proof::prepare_as`. Knows
//! HTTP only as a client (ureq, blocking); no routes, no PDF layout.

use std::path::PathBuf;

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::holders;
use crate::archive::{Archive, Metadata};
use crate::config::Home;
use crate::error::{ConfigError, ProofError, Result};

/// Longest answer body read from another region (a proof PDF is about 100 KiB, base64 in JSON).
const MAX_ANSWER_BYTES: u64 = 8 << 20;

/// A credential region `region` (at `url`) issued to our department `dept`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credential {
    pub region: String,
    /// Base URL of the other region's server, e.g. `https://zhengyin.taian.example`.
    pub url: String,
    /// Our department the credential was issued to.
    pub dept: String,
    /// The bearer token (secret; the file is 0600).
    pub token: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct CredentialFile {
    #[serde(default, rename = "credential")]
    credentials: Vec<Credential>,
}

pub fn credentials_path(home: &Home) -> PathBuf {
    home.dir.join("remote-credentials.toml")
}

fn load(home: &Home) -> Result<CredentialFile> {
    let path = credentials_path(home);
    match std::fs::read_to_string(&path) {
        Ok(t) => toml::from_str(&t).map_err(|e| {
            ConfigError::Toml { path, what: "remote credentials", message: e.message().to_string() }.into()
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(CredentialFile::default()),
        Err(source) => Err(ConfigError::Read { path, source }.into()),
    }
}

/// Store (or replace) the credential of `dept` for `region`.
pub fn add_credential(home: &Home, cred: Credential) -> Result<()> {
    super::fields::ident("region", &cred.region)?;
    home.region()?.department(&cred.dept)?;
    if !(cred.url.starts_with("http://") || cred.url.starts_with("https://")) {
        return Err(ProofError::Data("the region URL must start with http:// or https://".into()).into());
    }
    let mut file = load(home)?;
    file.credentials.retain(|c| !(c.region == cred.region && c.dept == cred.dept));
    file.credentials.push(cred);
    let text = toml::to_string_pretty(&file).map_err(|e| ConfigError::Inconsistent(e.to_string()))?;
    crate::pki::keys::write_file(&credentials_path(home), text.as_bytes(), 0o600)
}

/// The credential `dept` holds for the region at `url` (or with id `url`).
pub fn credential_for(home: &Home, url: &str, dept: &str) -> Result<Credential> {
    let want = url.trim_end_matches('/');
    load(home)?
        .credentials
        .into_iter()
        .find(|c| (c.url.trim_end_matches('/') == want || c.region == want) && c.dept == dept)
        .ok_or_else(|| {
            ProofError::Data(format!(
                "department `{dept}` holds no credential for {want} (`zhengyin proof credential add`)"
            ))
            .into()
        })
}

/// What B got: A's answer, checked and filed in B's archive; or A's refusal, recorded on both sides.
pub enum RemoteOutcome {
    Refused { reason: String, record_id: String, remote_record: String },
    Answered(Box<RemoteAnswer>),
}

pub struct RemoteAnswer {
    pub jti: String,
    pub found: bool,
    pub answer: String,
    pub holder: String,
    pub region: String,
    pub subject_code: String,
    pub pdf: Vec<u8>,
    pub jws: String,
    pub pdf_record: String,
    pub token_record: String,
    pub use_record: String,
    pub remote_use_record: String,
}

/// What to ask another region for.
pub struct RemoteRequest<'a> {
    pub kind: &'a str,
    /// Raw ID number or USCC: sent to the holding region (which needs it to look the subject up),
    /// turned into our own holder code for our records, never stored.
    pub subject: &'a str,
    pub purpose: &'a str,
    pub valid_days: u32,
}

/// B's side, all of it: [`fetch`] then [`file`].
pub fn request_remote(
    home: &Home,
    archive: &Archive,
    trust: &crate::trust::TrustStore,
    cred: &Credential,
    req: &RemoteRequest<'_>,
) -> Result<RemoteOutcome> {
    file(home, archive, fetch(home, trust, cred, req)?)
}

/// An answer (or refusal) fetched and checked, not yet archived.
pub enum Fetched {
    Refused { reason: String, remote_record: String, code: String, asker: String, entry: Value },
    Answer(Box<FetchedAnswer>),
}

pub struct FetchedAnswer {
    answer: RemoteAnswer,
    pdf_meta: Metadata,
    token_meta: Metadata,
    entry: Value,
    asker: String,
}

/// Phase 1 (no archive): ask region `cred.region` for a proof for our department `cred.dept` and
/// check the answer against its imported trust list.
pub fn fetch(
    home: &Home,
    trust: &crate::trust::TrustStore,
    cred: &Credential,
    req: &RemoteRequest<'_>,
) -> Result<Fetched> {
    let RemoteRequest { kind, subject, purpose, valid_days } = *req;
    super::fields::ident("kind", kind)?;
    super::fields::matter("purpose", purpose)?;
    super::fields::subject("subject", subject)?;
    let region = home.region()?;
    let by = region.department(&cred.dept)?.clone();
    let id = holders::normalise_id(subject).ok_or_else(|| {
        ProofError::Data(
            "the subject is neither a valid ID number (GB 11643) nor a valid USCC (GB 32100)".into(),
        )
    })?;
    let code = holders::holder_code(&holders::region_key(home)?, &id);
    let url = format!("{}/v1/proofs/foreign", cred.url.trim_end_matches('/'));
    let sent = ureq::post(&url)
        .set("Authorization", &format!("Bearer {}", cred.token))
        .set("Content-Type", "application/json")
        .timeout(std::time::Duration::from_secs(60))
        .send_string(
            &json!({"kind": kind, "subject": id, "purpose": purpose, "valid_days": valid_days}).to_string(),
        );
    let (now_s, _) = super::now();
    let body = match sent {
        Ok(resp) => read_json(resp)?,
        Err(ureq::Error::Status(403, resp)) => {
            let problem = read_json(resp).unwrap_or(Value::Null);
            let reason = text(&problem, "detail");
            let remote_record = text(&problem, "record_id");
            let entry = json!({"type": "cross-region-refusal", "id": super::random_id("RF")?, "at": now_s,
                "by": by.id, "by_name": by.name, "region": cred.region, "kind": kind, "purpose": purpose,
                "subject_code": code, "reason": reason, "remote_record": remote_record});
            return Ok(Fetched::Refused { reason, remote_record, code, asker: by.name, entry });
        }
        Err(ureq::Error::Status(status, resp)) => {
            let problem = read_json(resp).unwrap_or(Value::Null);
            return Err(ProofError::Other(format!(
                "region `{}` answered HTTP {status}: {}",
                cred.region,
                text(&problem, "detail").chars().take(300).collect::<String>()
            ))
            .into());
        }
        Err(e) => {
            return Err(
                ProofError::Other(format!("cannot reach region `{}` at {url}: {e}", cred.region)).into()
            )
        }
    };
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(text(&body, "pdf_base64"))
        .map_err(|_| ProofError::Other(format!("region `{}` sent no readable proof PDF", cred.region)))?;
    let jws = text(&body, "token");
    let jti = text(&body, "id");

    // The PDF: valid here, through the other region's imported trust list only.
    let pdf_meta = crate::filing::verified_metadata(&format!("{jti}.pdf"), &pdf, trust, "proof")?;
    let report = crate::verify::verify(&pdf, trust, std::time::SystemTime::now())?;
    let anchor = format!("(trust list of {})", cred.region);
    let anchored = report
        .signatures
        .iter()
        .all(|s| s.checks.iter().any(|c| c.name == "CHAIN" && c.detail.ends_with(&anchor)));
    if !anchored {
        return Err(ProofError::Other(format!(
            "the proof PDF is not sealed through the trust list of region `{}`",
            cred.region
        ))
        .into());
    }
    // The token: the foreign-token rules, addressed to our department, for what we asked.
    let check = super::token::verify_jws(&jws, trust, std::time::SystemTime::now())?;
    let claims = &check.claims;
    let claim = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let mut problems = check.problems.clone();
    let aud = format!("{}:{}", region.region.id, by.uscc);
    for (k, want) in [("aud", aud.as_str()), ("kind", kind), ("purpose", purpose), ("jti", jti.as_str())] {
        if claim(k) != want {
            problems.push(format!("{k}: the token says `{}`, expected `{want}`", claim(k)));
        }
    }
    if check.region.as_deref() != Some(cred.region.as_str()) {
        problems
            .push(format!("iss: the token is not sealed through the trust list of region `{}`", cred.region));
    }
    if !problems.is_empty() {
        return Err(
            ProofError::Other(format!("the proof token does not verify: {}", problems.join("; "))).into()
        );
    }
    let (issued, _) = super::now();
    let token_meta = Metadata {
        kind: "proof-token".into(),
        title: format!("{} {jti}", claim("kind")),
        identifier: jti.clone(),
        holder: String::new(),
        holder_code: code.clone(),
        issuer: claim("iss_name"),
        issue_date: issued.get(..10).unwrap_or_default().to_string(),
        valid_until: claims
            .get("exp")
            .and_then(Value::as_i64)
            .map(crate::document::china_date)
            .unwrap_or_default(),
        retention: "永久".into(),
        format: "JWS".into(),
        format_version: "RFC 7515 compact, ES256".into(),
        signers: vec![claim("iss")],
        verification: "TOTAL-PASSED".into(),
        ..Default::default()
    };
    let remote_use_record = text(&body, "use_record");
    let entry = json!({"type": "cross-region-use", "id": super::random_id("UR")?, "at": now_s,
        "by": by.id, "by_name": by.name, "region": cred.region, "holder": claim("iss"), "holder_name": claim("iss_name"),
        "kind": kind, "purpose": purpose, "subject_code": code, "answer_id": jti, "found": claims.get("found"),
        "remote_use_record": remote_use_record});
    Ok(Fetched::Answer(Box::new(FetchedAnswer {
        answer: RemoteAnswer {
            jti,
            found: claims.get("found").and_then(Value::as_bool).unwrap_or(false),
            answer: claim("answer"),
            holder: claim("iss"),
            region: cred.region.clone(),
            subject_code: code,
            pdf,
            jws,
            pdf_record: String::new(),
            token_record: String::new(),
            use_record: String::new(),
            remote_use_record,
        },
        pdf_meta,
        token_meta,
        entry,
        asker: by.name,
    })))
}

/// Phase 2: file the refusal, or the PDF, the token and a use record naming the other region;
/// one flush and one signed tree head. Callers serialise it with other archive writes.
pub fn file(home: &Home, archive: &Archive, f: Fetched) -> Result<RemoteOutcome> {
    let d = match f {
        Fetched::Refused { reason, remote_record, code, asker, entry } => {
            let rec =
                super::append_event(archive, "use-refusal", &code, &text(&entry, "id"), &asker, &entry)?;
            archive.flush()?;
            crate::filing::sign_tree_head(home, archive)?;
            return Ok(RemoteOutcome::Refused { reason, record_id: rec.id, remote_record });
        }
        Fetched::Answer(d) => *d,
    };
    let mut a = d.answer;
    let filed = crate::filing::append_verified(
        home,
        archive,
        vec![(a.pdf.as_slice(), d.pdf_meta), (a.jws.as_bytes(), d.token_meta)],
    )?;
    a.pdf_record = filed.first().map(|f| f.record.id.clone()).unwrap_or_default();
    a.token_record = filed.get(1).map(|f| f.record.id.clone()).unwrap_or_default();
    let mut entry = d.entry;
    if let Some(o) = entry.as_object_mut() {
        o.insert("pdf_record".into(), json!(a.pdf_record));
        o.insert("token_record".into(), json!(a.token_record));
    }
    a.use_record = super::append_event(archive, "use-record", &a.subject_code, &a.jti, &d.asker, &entry)?.id;
    archive.flush()?;
    crate::filing::sign_tree_head(home, archive)?;
    Ok(RemoteOutcome::Answered(Box::new(a)))
}

fn read_json(resp: ureq::Response) -> Result<Value> {
    use std::io::Read;
    let mut buf = Vec::new();
    resp.into_reader()
        .take(MAX_ANSWER_BYTES)
        .read_to_end(&mut buf)
        .map_err(|e| ProofError::Other(format!("reading the other region's answer: {e}")))?;
    serde_json::from_slice(&buf)
        .map_err(|e| ProofError::Other(format!("the other region's answer is not JSON: {e}")).into())
}

fn text(v: &Value, k: &str) -> String {
    v.get(k).and_then(Value::as_str).unwrap_or_default().to_string()
}

/// The foreign-token rules (a token sealed through an imported trust list, read in B): `iss` is
/// the department the certificate names (OU; O = `iss_name`), and `aud` is `region:USCC` of a
/// department of this home's region. The list of uses that allowed it is the other region's.
pub fn foreign_claim_problems(claims: &Value, leaf: &[u8], trust: &crate::trust::TrustStore) -> Vec<String> {
    use x509_parser::prelude::*;
    let mut out = Vec::new();
    let claim = |k: &str| claims.get(k).and_then(Value::as_str).unwrap_or_default();
    let Ok((_, cert)) = X509Certificate::from_der(leaf) else {
        return vec!["iss: the signer certificate cannot be parsed".into()];
    };
    let attr = |it: &mut dyn Iterator<Item = &AttributeTypeAndValue<'_>>| {
        it.next().and_then(|a| a.as_str().ok()).unwrap_or("").to_string()
    };
    let unit = attr(&mut cert.subject().iter_organizational_unit());
    let org = attr(&mut cert.subject().iter_organization());
    if claim("iss") != unit || claim("iss_name") != org {
        out.push(format!("iss: the token claims `{}` but is signed by {org} (`{unit}`)", claim("iss")));
    }
    match trust.region.as_ref() {
        None => {
            out.push("aud: no region configuration to check the audience against (verify with a home)".into())
        }
        Some(r) => {
            let ours = r.departments.iter().any(|d| format!("{}:{}", r.region.id, d.uscc) == claim("aud"));
            if !ours {
                out.push(format!("aud: `{}` is not a department of region {}", claim("aud"), r.region.id));
            }
        }
    }
    out
}
