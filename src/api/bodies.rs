//! The JSON request bodies of the HTTP API: the one parser every handler uses ([`parse`]: a
//! refusal's detail says where the JSON went wrong, never repeats what was sent, and is short),
//! and [`check`], which takes a body for a route through the same parse and the same stateless
//! field checks its handler and the library run before any work (`proofs::fields`, ranges of
//! `valid_days`, `check_days`, `ttl_secs`, revocation reasons). `check` is the entry point of the
//! `http_json` fuzz target (fuzz/fuzz_targets/http_json.rs; docs/fuzzing.md).
//!
//! Knows the body types; no state, no I/O, no tokens. RFC 8259 via serde_json.

use serde::Deserialize;

use super::problem::Problem;
use crate::error::{ApiError, ProofError};
use crate::proofs::fields;

/// The refusal of [`check`] for a route it has no arm for.
const NO_ROUTE: &str = "no JSON route of that name";

/// Longest detail of a JSON refusal, characters (serde names unknown fields and variants).
const MAX_DETAIL_CHARS: usize = 200;

/// The routes whose request bodies are JSON, in the order of /openapi.json: derived from the
/// description (`api::openapi::json_body_routes`), so a new JSON route is fuzzed, and must have an
/// arm in [`check`] (tested below). The fuzz target's first byte picks one.
pub fn json_routes() -> &'static [String] {
    static ROUTES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(super::openapi::json_body_routes)
}

/// Parse a JSON body; errors say where and what, never echo values, and stay short.
pub(crate) fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest("the body is empty; send the JSON request".into()).into());
    }
    serde_json::from_slice(body).map_err(|e| {
        let mut msg = short_names(&super::proofs::redact(&e.to_string()));
        if let Some((cut, _)) = msg.char_indices().nth(MAX_DETAIL_CHARS) {
            msg.truncate(cut);
            msg.push('…');
        }
        Problem::from(ApiError::BadRequest(format!("the body is not the expected JSON: {msg}")))
    })
}

/// serde quotes names in backticks (`unknown field `…``): keep the short ones (the expected
/// fields), hide the long ones (whatever the client sent).
fn short_names(msg: &str) -> String {
    msg.split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 && part.chars().count() > 32 { "…" } else { part })
        .collect::<Vec<_>>()
        .join("`")
}

/// An optional body: empty (or whitespace), or the JSON `null` the description allows for it, is
/// the default.
pub(crate) fn parse_or_default<T: for<'de> Deserialize<'de> + Default>(body: &[u8]) -> Result<T, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) || body.trim_ascii() == b"null" {
        Ok(T::default())
    } else {
        parse(body)
    }
}

fn field(r: Result<(), ProofError>) -> Result<(), Problem> {
    r.map_err(|e| super::proofs::problem(e.into()))
}

fn range(name: &str, v: Option<u64>, lo: u64, hi: u64) -> Result<(), Problem> {
    match v {
        Some(n) if !(lo..=hi).contains(&n) => {
            Err(ApiError::BadRequest(format!("{name} must be between {lo} and {hi}")).into())
        }
        _ => Ok(()),
    }
}

/// A subject must be a valid ID number (GB 11643) or USCC (GB 32100); 422 otherwise.
fn subject_number(v: &str) -> Result<(), Problem> {
    match crate::proofs::holders::normalise_id(v) {
        Some(_) => Ok(()),
        None => field(Err(ProofError::Data(
            "the subject is neither a valid ID number (GB 11643) nor a valid USCC (GB 32100)".into(),
        ))),
    }
}

/// The fields of a proof request (local or from another region), checked as the library does.
fn asked(kind: &str, purpose: &str, subject: &str, valid_days: Option<u32>) -> Result<(), Problem> {
    range("valid_days", valid_days.map(u64::from), 1, 366)?;
    field(fields::ident("kind", kind))?;
    field(fields::matter("purpose", purpose))?;
    field(fields::subject("subject", subject))?;
    subject_number(subject)
}

/// Parse `body` as the JSON body of `route` (one of [`json_routes`]) and run the checks made
/// before any state is touched. `Ok` means the handler would go on to authorisation and work.
pub fn check(route: &str, body: &[u8]) -> Result<(), Problem> {
    use super::{
        commitments, external_seal, foreign, handlers, presentations, proofs, records, share, status,
    };
    match route {
        "/v1/licences" => {
            let r: handlers::IssueRequest = parse(body)?;
            if let Some(s) = &r.seal {
                field(fields::ident("seal", s))?;
            }
        }
        "/v1/licences/{id}/seals" => {
            let r: handlers::SealRequest = parse_or_default(body)?;
            if let Some(s) = &r.seal {
                field(fields::ident("seal", s))?;
            }
        }
        "/v1/licences/{id}/seals/prepare" => {
            let r: external_seal::PrepareBody = parse_or_default(body)?;
            range("ttl_seconds", r.ttl_seconds, 1, crate::licence::external::MAX_TTL)?;
        }
        "/v1/licences/{id}/seals/complete" => {
            parse::<external_seal::CompleteBody>(body)?;
        }
        "/v1/licences/{id}/status" => {
            parse::<status::StatusRequest>(body)?;
        }
        "/v1/licences/{id}/presentations" => {
            let r: presentations::PresentRequest = parse(body)?;
            range("ttl_secs", r.ttl_secs.map(|t| u64::try_from(t).unwrap_or(0)), 1, 300)?;
        }
        "/v1/archive/consistency" => {
            if body.len() > crate::consistency::MAX_INPUT {
                return Err(ApiError::TooLarge { limit: crate::consistency::MAX_INPUT }.into());
            }
            std::str::from_utf8(body)
                .map_err(|_| ApiError::BadRequest("the body is not UTF-8 text".into()))?;
        }
        "/v1/proofs/foreign" => {
            let r: foreign::ForeignBody = parse(body)?;
            asked(&r.kind, &r.purpose, &r.subject, r.valid_days)?;
        }
        "/v1/proofs/remote" => {
            let r: foreign::RemoteBody = parse(body)?;
            asked(&r.kind, &r.purpose, &r.subject, r.valid_days)?;
        }
        "/v1/certificates/{serial}/revoke" => {
            let r: records::RevokeRequest = parse_or_default(body)?;
            if let Some(reason) = &r.reason {
                if !crate::pki::revoke::REASONS.contains(&reason.as_str()) {
                    return Err(ApiError::BadRequest("unknown revocation reason".into()).into());
                }
            }
        }
        "/v1/audit" => {
            parse_or_default::<records::AuditRequest>(body)?;
        }
        "/v1/proofs" => {
            let r: proofs::ProofBody = parse(body)?;
            if let Some(by) = &r.by {
                field(fields::ident("by", by))?;
            }
            asked(&r.kind, &r.purpose, &r.subject, r.valid_days)?;
        }
        "/v1/proofs/verify" => {
            parse::<proofs::TokenBody>(body)?;
        }
        "/v1/uses" | "/v1/uses/query" => {
            let r: proofs::UsesBody = parse(body)?;
            field(fields::subject("subject", &r.subject))?;
        }
        "/v1/commitments" => {
            let r: commitments::CommitBody = parse(body)?;
            if let Some(by) = &r.by {
                field(fields::ident("by", by))?;
            }
            range("check_days", r.check_days.map(u64::from), 1, 3650)?;
            field(fields::matter("matter", &r.matter))?;
            field(fields::subject("subject", &r.subject))?;
            field(fields::statement("statement", &r.statement))?;
        }
        "/v1/commitments/check" => {
            let r: commitments::CheckBody = parse_or_default(body)?;
            if let Some(id) = &r.id {
                field(fields::identifier("id", id))?;
            }
        }
        "/v1/share/query" => {
            let r: share::QueryBody = parse(body)?;
            field(fields::subject("holder", &r.holder))?;
            subject_number(&r.holder)?;
            if let Some(p) = &r.purpose {
                field(fields::matter("purpose", p))?;
            }
        }
        "/v1/share/links" => {
            let r: share::LinkBody = parse(body)?;
            field(fields::identifier("identifier", &r.identifier))?;
            if let Some(p) = &r.purpose {
                field(fields::matter("purpose", p))?;
            }
            range("ttl_secs", r.ttl_secs, 1, 900)?;
            range("valid_days", r.valid_days.map(u64::from), 1, 366)?;
        }
        _ => return Err(ApiError::NotFound(NO_ROUTE.into()).into()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every JSON route of /openapi.json has an arm in `check`; its refusals are short 4xx.
    #[test]
    fn refusals_are_short_and_do_not_echo() {
        assert!(json_routes().len() >= 19, "JSON routes from /openapi.json: {:?}", json_routes());
        let long_key = format!("{{\"{}\": 1}}", "k".repeat(100_000));
        for route in json_routes() {
            for body in [&b"{"[..], b"[]", b"{\"template\": 5}", long_key.as_bytes(), b"\xff\xfe"] {
                if let Err(p) = check(route, body) {
                    assert_ne!(
                        p.detail, NO_ROUTE,
                        "{route}: a JSON route of /openapi.json without an arm in check"
                    );
                    assert!((400..500).contains(&p.status), "{route}: {}", p.status);
                    assert!(
                        p.detail.chars().count() < 400,
                        "{route}: detail of {} chars",
                        p.detail.chars().count()
                    );
                }
            }
        }
    }

    /// An optional body may be absent, whitespace or `null` (what /openapi.json allows); a required
    /// one sent as `null` is a 400 saying what was expected.
    #[test]
    fn null_is_an_absent_optional_body_only() {
        for body in [&b""[..], b"  \n", b"null", b" null\n"] {
            let r: Result<super::super::records::AuditRequest, _> = parse_or_default(body);
            assert!(r.is_ok(), "optional body {:?} refused", String::from_utf8_lossy(body));
        }
        let r: Result<super::super::status::StatusRequest, _> = parse(b"null");
        assert_eq!(r.err().map(|p| p.status), Some(400));
    }

    /// Each seed of the fuzz target (fuzz/seeds/http_json, first byte = route index) is a body
    /// its route accepts, so the seeds still match the routes after the list changes.
    #[test]
    fn fuzz_seeds_are_valid_bodies_of_their_routes() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/http_json");
        let mut seen = std::collections::BTreeSet::new();
        for entry in std::fs::read_dir(&dir).expect("seed directory") {
            let bytes = std::fs::read(entry.expect("seed").path()).expect("read seed");
            let Some((&pick, body)) = bytes.split_first() else { continue };
            let route = &json_routes()[usize::from(pick) % json_routes().len()];
            if let Err(p) = check(route, body) {
                panic!("seed for {route} is refused: {}", p.detail);
            }
            seen.insert(route.clone());
        }
        assert_eq!(seen.len(), json_routes().len(), "a JSON route without a seed: {:?}", json_routes());
    }
}
