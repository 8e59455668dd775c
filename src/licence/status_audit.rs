//! The audit's licence-status check (`zhengyin audit`, filing::run_audit_in): every lifecycle
//! transition in the archive log acts on a version filed before it; every transition that seals
//! a new version (change, renew, reissue) has that sealed version in the archive, by its SHA-256
//! and carrying the new identifier; and the status index agrees with a replay of the log.
//!
//! Streams: records are read one at a time, and what a check needs of one identifier's history
//! (its licence records and transitions, in log order) is read through the archive's identifier
//! index, so memory does not grow with the number of licences (docs/BENCHMARKS.md).
//! Reads the archive and the index (`status`); nothing of PDF, signatures or HTTP.

use super::status::{get_json, tree, vkey, State, VersionEntry};
use super::transition::{Transition, KIND};
use crate::archive::index::By;
use crate::archive::{Archive, Record};
use crate::document::identifier::LicenceId;

/// The audit's checks: every transition in the log names an archived version; every transition
/// that seals a new version has that sealed version in the archive (by its SHA-256, carrying the
/// new identifier); and the index agrees with a replay of the log. (record, reason) per problem.
pub fn audit(archive: &Archive) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let index = tree(archive).ok();
    for rec in archive.records_iter().filter_map(|r| r.ok()) {
        let identifier = if rec.metadata.kind == "licence" {
            rec.metadata.identifier.clone()
        } else if let Some(tr) = transition(archive, &rec) {
            transitions(archive, &rec, &tr, &mut problems);
            tr.identifier
        } else {
            continue;
        };
        // Each identifier's state once: at the first record of its history.
        if let Some(t) = &index {
            if identifier.parse::<LicenceId>().is_ok()
                && history(archive, &identifier).next().is_some_and(|(first, _)| first.id == rec.id)
            {
                state(archive, t, &identifier, &mut problems);
            }
        }
    }
    problems
}

/// The transition `rec` files, when it is one and its entry reads.
fn transition(archive: &Archive, rec: &Record) -> Option<Transition> {
    if rec.metadata.kind != KIND {
        return None;
    }
    serde_json::from_slice(&archive.bytes(rec).ok()?).ok()
}

/// The licence records of `identifier` and the transitions acting on it, in log order (through
/// the identifier index; unreadable records are skipped: the archive audit reports them).
fn history<'a>(
    archive: &'a Archive,
    identifier: &'a str,
) -> impl Iterator<Item = (Record, Option<Transition>)> + 'a {
    archive.find_iter(By::Identifier, identifier).filter_map(|r| r.ok()).filter_map(move |rec| {
        if rec.metadata.kind == "licence" {
            return Some((rec, None));
        }
        let tr = transition(archive, &rec).filter(|tr| tr.identifier == identifier)?;
        Some((rec, Some(tr)))
    })
}

/// The checks of one transition `tr` (filed as `rec`): an earlier record files the version it acts
/// on, and a sealed new version is in the archive.
fn transitions(archive: &Archive, rec: &Record, tr: &Transition, problems: &mut Vec<(String, String)>) {
    let filed_before =
        history(archive, &tr.identifier).any(|(r, t)| t.is_none() && r.leaf_index < rec.leaf_index);
    if !filed_before {
        problems.push((
            rec.id.clone(),
            format!("transition {} acts on {}, which no earlier record files", tr.id, tr.identifier),
        ));
    }
    if !tr.action.new_version() {
        return;
    }
    let sealed = tr.new_sha256.as_ref().and_then(|h| {
        let id = archive.by_hash.get(h.as_bytes()).ok()??;
        archive.get(&String::from_utf8_lossy(&id)).ok()
    });
    match (sealed, &tr.new_identifier) {
        (Some(r), Some(n)) if &r.metadata.identifier == n && r.metadata.kind == "licence" => {}
        (Some(r), n) => problems.push((
            rec.id.clone(),
            format!(
                "transition {} ({}) names sealed version {} but the filed record {} is {}",
                tr.id,
                tr.action.as_str(),
                n.as_deref().unwrap_or("(none)"),
                r.id,
                r.metadata.identifier
            ),
        )),
        (None, n) => problems.push((
            rec.id.clone(),
            format!(
                "transition {} ({}) has no sealed version {} in the archive",
                tr.id,
                tr.action.as_str(),
                n.as_deref().unwrap_or("(none)")
            ),
        )),
    }
}

/// The index must say what the log says of `identifier`: the state its last transition left, or
/// valid when none acted on it.
fn state(archive: &Archive, t: &sled::Tree, identifier: &str, problems: &mut Vec<(String, String)>) {
    let want =
        history(archive, identifier).filter_map(|(_, tr)| tr).last().map_or(State::Valid, |tr| tr.state);
    match get_json::<VersionEntry>(t, &vkey(identifier)) {
        Ok(Some(e)) if e.state == want => {}
        Ok(Some(e)) => problems.push((
            e.archive_id,
            format!(
                "the status index says {} is {}, the log says {}",
                identifier,
                e.state.as_str(),
                want.as_str()
            ),
        )),
        _ => problems
            .push(("licence-status".into(), format!("the status index has no entry for {identifier}"))),
    }
}
