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

/// Longest detail of a JSON refusal, characters (serde names unknown fields and variants).
const MAX_DETAIL_CHARS: usize = 200;

/// The routes whose bodies are JSON, in a fixed order (the fuzz target's first byte picks one).
pub const JSON_ROUTES: [&str; 11] = [
    "/v1/licences",
    "/v1/licences/{id}/seals",
    "/v1/certificates/{serial}/revoke",
    "/v1/audit",
    "/v1/proofs",
    "/v1/proofs/verify",
    "/v1/uses/query",
    "/v1/commitments",
    "/v1/commitments/check",
    "/v1/share/query",
    "/v1/share/links",
];

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

/// An optional body: empty (or whitespace) is the default.
pub(crate) fn parse_or_default<T: for<'de> Deserialize<'de> + Default>(body: &[u8]) -> Result<T, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
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

/// Parse `body` as the JSON body of `route` (one of [`JSON_ROUTES`]) and run the checks made
/// before any state is touched. `Ok` means the handler would go on to authorisation and work.
pub fn check(route: &str, body: &[u8]) -> Result<(), Problem> {
    use super::{handlers, proofs, records, share};
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
            range("valid_days", r.valid_days.map(u64::from), 1, 366)?;
            field(fields::ident("kind", &r.kind))?;
            field(fields::matter("purpose", &r.purpose))?;
            field(fields::subject("subject", &r.subject))?;
            subject_number(&r.subject)?;
        }
        "/v1/proofs/verify" => {
            parse::<proofs::TokenBody>(body)?;
        }
        "/v1/uses/query" => {
            let r: proofs::UsesBody = parse(body)?;
            field(fields::subject("subject", &r.subject))?;
        }
        "/v1/commitments" => {
            let r: proofs::CommitBody = parse(body)?;
            if let Some(by) = &r.by {
                field(fields::ident("by", by))?;
            }
            range("check_days", r.check_days.map(u64::from), 1, 3650)?;
            field(fields::matter("matter", &r.matter))?;
            field(fields::subject("subject", &r.subject))?;
            field(fields::statement("statement", &r.statement))?;
        }
        "/v1/commitments/check" => {
            let r: proofs::CheckBody = parse_or_default(body)?;
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
        _ => return Err(ApiError::NotFound("no JSON route of that name".into()).into()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_short_and_do_not_echo() {
        let long_key = format!("{{\"{}\": 1}}", "k".repeat(100_000));
        for route in JSON_ROUTES {
            for body in [&b"{"[..], b"[]", b"{\"template\": 5}", long_key.as_bytes(), b"\xff\xfe"] {
                if let Err(p) = check(route, body) {
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
}
