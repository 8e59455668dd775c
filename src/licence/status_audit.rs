//! The audit's licence-status check (`zhengyin audit`, filing::run_audit_in): every lifecycle
//! transition in the archive log acts on a version filed before it; every transition that seals
//! a new version (change, renew, reissue) has that sealed version in the archive, by its SHA-256
//! and carrying the new identifier; and the status index agrees with a replay of the log.
//! Reads the archive and the index (`status`); nothing of PDF, signatures or HTTP.

use super::status::{get_json, replay, tree, vkey, State, VersionEntry};
use crate::archive::Archive;
use crate::document::identifier::LicenceId;

/// The audit's checks: every transition in the log names an archived version; every transition
/// that seals a new version has that sealed version in the archive (by its SHA-256, carrying the
/// new identifier); and the index agrees with a replay of the log. (record, reason) per problem.
pub fn audit(archive: &Archive) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let replayed = match replay(archive) {
        Ok(r) => r,
        Err(e) => return vec![("licence-status".into(), format!("cannot replay the log: {e}"))],
    };
    let mut known = std::collections::BTreeSet::new();
    for (rec, tr) in &replayed {
        match tr {
            None => {
                known.insert(rec.metadata.identifier.clone());
            }
            Some(tr) => {
                if !known.contains(&tr.identifier) {
                    problems.push((
                        rec.id.clone(),
                        format!(
                            "transition {} acts on {}, which no earlier record files",
                            tr.id, tr.identifier
                        ),
                    ));
                }
                if tr.action.new_version() {
                    let sealed = tr.new_sha256.as_ref().and_then(|h| {
                        let id = archive.by_hash.get(h.as_bytes()).ok()??;
                        archive.get(&String::from_utf8_lossy(&id)).ok()
                    });
                    match (sealed, &tr.new_identifier) {
                        (Some(r), Some(n)) if &r.metadata.identifier == n && r.metadata.kind == "licence" => {
                        }
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
            }
        }
    }
    // The index must say what the log says.
    let mut states: std::collections::BTreeMap<String, State> = std::collections::BTreeMap::new();
    for (rec, tr) in &replayed {
        match tr {
            None => {
                states.entry(rec.metadata.identifier.clone()).or_insert(State::Valid);
            }
            Some(tr) => {
                states.insert(tr.identifier.clone(), tr.state);
            }
        }
    }
    if let Ok(t) = tree(archive) {
        for (identifier, want) in states {
            if identifier.parse::<LicenceId>().is_err() {
                continue;
            }
            match get_json::<VersionEntry>(&t, &vkey(&identifier)) {
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
                _ => problems.push((
                    "licence-status".into(),
                    format!("the status index has no entry for {identifier}"),
                )),
            }
        }
    }
    problems
}
