//! The licence lifecycle after issue: 变更 change, 延续 renew, 补发/换发 reissue (each seals a new
//! version: same identifier stem, next version `.002` …, GB/T 36904 check character recomputed),
//! 注销 cancel, 吊销 revoke, and suspend/resume where the template allows it.
//!
//! One transition = authorise (the licence's issuing department, or a department the region's
//! authority table names for its licence type: config/authority.rs), check the state allows it,
//! seal the new version if one is due, then file the new version and the transition entry in one
//! archive batch (one flush, one signed tree head), then update the status index. A refused
//! transition files nothing.
//!
//! Knows the status index, issuing and filing; nothing of HTTP or of how status is published.

use super::status::{self, Action, State, Transition, VersionEntry};
use crate::archive::{Archive, Metadata};
use crate::config::Home;
use crate::document::identifier::LicenceId;
use crate::error::{Result, StatusError};

/// Longest reason text kept, in characters.
pub const MAX_REASON_CHARS: usize = 200;

/// A transition request.
pub struct Request<'a> {
    pub identifier: &'a str,
    pub action: Action,
    /// The acting department.
    pub by: &'a str,
    pub reason: Option<&'a str>,
    /// Licence data for the new version (change, renew, reissue).
    pub data: Option<&'a serde_json::Value>,
}

/// A transition made.
pub struct Outcome {
    pub transition: Transition,
    /// Archive id of the transition entry.
    pub record: String,
    /// The new version (change, renew, reissue): its sealed PDF and archive id.
    pub new_pdf: Option<Vec<u8>>,
    pub new_record: Option<String>,
    /// The tree size after filing (log leaves).
    pub log_size: u64,
}

fn refuse(m: impl Into<String>) -> crate::Error {
    StatusError::Refused(m.into()).into()
}

/// The licence type (template name) of an identifier, from the region's authority catalogue.
fn template_of(
    authority: &crate::config::authority::Authority,
    id: &LicenceId,
) -> Option<(String, Vec<String>)> {
    authority
        .types()
        .iter()
        .find(|t| t.type_code == id.type_code && !t.internal)
        .map(|t| (t.template.clone(), t.issuers.clone()))
}

/// May `by` change the status of `entry`? The department that issued it may; so may any
/// department the region names as an issuer of its licence type.
fn authorise(by: &str, entry: &VersionEntry, issuers: &[String]) -> Result<()> {
    if by == entry.issuer_dept || issuers.iter().any(|d| d == by) {
        return Ok(());
    }
    let mut named: Vec<&str> = std::iter::once(entry.issuer_dept.as_str())
        .chain(issuers.iter().map(String::as_str))
        .filter(|d| !d.is_empty())
        .collect();
    named.dedup();
    Err(StatusError::NotAuthorised {
        dept: by.to_string(),
        identifier: entry.identifier.clone(),
        allowed: named.join(", "),
    }
    .into())
}

/// Whether `action` may follow state `state`.
fn allowed(action: Action, state: State) -> bool {
    match action {
        Action::Resume => state == State::Suspended,
        Action::Cancel | Action::Revoke => matches!(state, State::Valid | State::Suspended),
        _ => state == State::Valid,
    }
}

/// Make one transition. The archive must be the home's (held open by the caller).
pub fn transition(home: &Home, archive: &Archive, req: &Request<'_>) -> Result<Outcome> {
    let id: LicenceId = req
        .identifier
        .trim()
        .parse()
        .map_err(|e: String| StatusError::BadIdentifier(format!("`{}`: {e}", short(req.identifier))))?;
    let identifier = id.to_string();
    let entry =
        status::entry(archive, &identifier)?.ok_or_else(|| StatusError::Unknown(identifier.clone()))?;
    let region = home.region()?;
    region.department(req.by)?;
    let uses = crate::proofs::uses::UseList::load(home)?;
    let authority = crate::config::authority::Authority::from_home(home, &region, &uses)?;
    let (template, issuers) = template_of(&authority, &id)
        .ok_or_else(|| refuse(format!("licence type {} is not in the region's catalogue", id.type_code)))?;
    authorise(req.by, &entry, &issuers)?;
    let view =
        status::current(archive, &identifier)?.ok_or_else(|| StatusError::Unknown(identifier.clone()))?;
    if view.current_version != identifier {
        return Err(refuse(format!(
            "{identifier} is not the current version ({} is); act on the current version",
            view.current_version
        )));
    }
    if !allowed(req.action, entry.state) {
        return Err(refuse(format!(
            "{identifier} is {}; it cannot be {}",
            entry.state.as_str(),
            match req.action {
                Action::Resume => "resumed (only a suspended licence can)".to_string(),
                a => format!("the subject of `{}`", a.as_str()),
            }
        )));
    }
    if matches!(req.action, Action::Suspend | Action::Resume) {
        let t = crate::document::Template::load(home, &template)?;
        if !t.suspendable {
            return Err(refuse(format!(
                "template `{template}` does not allow suspension (set `suspendable = true` in templates/{template}.toml)"
            )));
        }
    }
    let reason = req.reason.map(|r| r.trim().chars().take(MAX_REASON_CHARS).collect::<String>());
    if matches!(req.action, Action::Cancel | Action::Revoke | Action::Suspend)
        && reason.as_deref().is_none_or(str::is_empty)
    {
        return Err(refuse(format!("`{}` needs a reason (--reason)", req.action.as_str())));
    }

    // Seal the new version first (nothing is filed if it fails).
    let new = if req.action.new_version() {
        let data = req
            .data
            .ok_or_else(|| refuse(format!("`{}` needs the licence data (--data)", req.action.as_str())))?;
        let next = id
            .version
            .parse::<u16>()
            .unwrap_or(1)
            .checked_add(1)
            .filter(|v| *v <= 999)
            .ok_or_else(|| refuse(format!("{identifier} is at the last version (999)")))?;
        // The new version is sealed by the department that issued the stem, whose USCC the
        // identifier carries; the acting department must be that one for a new version.
        let sealer = if region.department(req.by)?.uscc == id.issuer_code {
            req.by.to_string()
        } else {
            return Err(refuse(format!(
                "a new version of {identifier} must be sealed by the department with USCC {} (the identifier's issuer); `{}` may cancel or revoke it but not seal a new version",
                id.issuer_code, req.by
            )));
        };
        let issued = super::issue_version(home, &template, data, Some(&sealer), Some(&id.serial), next)?;
        Some(issued)
    } else {
        None
    };

    let (at, _) = crate::proofs::now();
    let mut tr = Transition {
        format: status::ENTRY_FORMAT.into(),
        id: crate::proofs::random_id("ST")?,
        action: req.action,
        identifier: identifier.clone(),
        new_identifier: new.as_ref().map(|n| n.identifier.clone()),
        new_sha256: new.as_ref().map(|n| crate::hex::encode(&crate::pades::cms::sha256(&n.pdf))),
        state: req.action.leaves(),
        reason_code: req.action.reason_code().into(),
        reason,
        by: req.by.to_string(),
        at: at.clone(),
    };
    if tr.reason.as_deref() == Some("") {
        tr.reason = None;
    }
    let json = serde_json::to_vec(&tr).map_err(|e| refuse(e.to_string()))?;
    let trust = crate::trust::TrustStore::from_home(home)?;
    let mut batch: Vec<(&[u8], Metadata)> = Vec::new();
    if let Some(n) = &new {
        let meta =
            crate::filing::verified_metadata(&format!("{}.pdf", n.identifier), &n.pdf, &trust, "licence")?;
        batch.push((n.pdf.as_slice(), meta));
    }
    let meta = Metadata {
        kind: status::KIND.into(),
        title: format!("{} {} {}", req.action.as_str(), entry.title, identifier),
        identifier: identifier.clone(),
        holder: entry.holder.clone(),
        holder_code: String::new(),
        issuer: entry.issuer.clone(),
        issue_date: at.get(..10).unwrap_or("").to_string(),
        valid_until: String::new(),
        retention: "永久".into(),
        format: "JSON".into(),
        format_version: status::ENTRY_FORMAT.into(),
        signers: vec![req.by.to_string()],
        verification: "N/A".into(),
        ..Default::default()
    };
    batch.push((json.as_slice(), meta));
    let filed = crate::filing::append_verified(home, archive, batch)?;
    archive.flush()?;
    crate::filing::sign_tree_head(home, archive)?;
    let record = filed.last().map(|f| f.record.id.clone()).unwrap_or_default();
    status::apply(archive, &tr, &record)?;
    Ok(Outcome {
        record,
        new_record: new.as_ref().and(filed.first().map(|f| f.record.id.clone())),
        new_pdf: new.map(|n| n.pdf),
        transition: tr,
        log_size: archive.size(),
    })
}

fn short(s: &str) -> String {
    s.chars().take(80).collect()
}
