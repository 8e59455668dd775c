//! The licence a QR code names, as the verification page shows it: the archived record of the
//! version asked for and its standing (有效 / 已变更 / 已注销 / 已吊销 / 已暂停 / 已过期).
//!
//! One function, [`lookup`], over the licence status index (`licence::status::current`, the
//! lookup GET /v1/status and `zhengyin verify` use too), so the page never derives a status of
//! its own. Adds only what a page needs: the archived record (seals, holder code) and the
//! expired state, a valid licence past its validity end. Knows nothing of HTML.

use crate::archive::{Archive, Record};
use crate::document::identifier::LicenceId;
use crate::error::Result;
use crate::licence::status::{self, State as Indexed};

/// Where a licence stands (the page's large colour mark).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Valid,
    Superseded,
    Cancelled,
    Revoked,
    Suspended,
    /// In force by its record, but the validity period has ended.
    Expired,
}

impl State {
    /// The word shown on the page (the index's words; 已过期 for an ended validity period).
    pub fn text(self) -> &'static str {
        match self {
            State::Expired => "已过期",
            s => s.indexed().map(Indexed::label_zh).unwrap_or("已过期"),
        }
    }

    fn indexed(self) -> Option<Indexed> {
        Some(match self {
            State::Valid => Indexed::Valid,
            State::Superseded => Indexed::Superseded,
            State::Cancelled => Indexed::Cancelled,
            State::Revoked => Indexed::Revoked,
            State::Suspended => Indexed::Suspended,
            State::Expired => return None,
        })
    }

    /// The CSS class of the colour mark (and `data-state`).
    pub fn class(self) -> &'static str {
        match self {
            State::Expired => "expired",
            s => s.indexed().map(Indexed::as_str).unwrap_or("expired"),
        }
    }
}

/// What the page knows of one identifier.
#[derive(Debug, Clone)]
pub struct Standing {
    pub state: State,
    /// The archived record of the version asked for (its latest filing: joint seals refile).
    pub record: Record,
    /// The current version's identifier (equal to the one asked for unless superseded).
    pub current: String,
    /// When the state began (RFC 3339) and why, for a state other than valid.
    pub since: Option<String>,
    pub reason: Option<String>,
}

/// The standing of `id`, or `None` when no licence of this region has that identifier.
pub fn lookup(archive: &Archive, id: &LicenceId) -> Result<Option<Standing>> {
    let Some(v) = status::current(archive, &id.to_string())? else { return Ok(None) };
    let record = archive.get(&v.archive_id)?;
    let state = match v.status {
        Indexed::Valid if v.expired => State::Expired,
        Indexed::Valid => State::Valid,
        Indexed::Superseded => State::Superseded,
        Indexed::Cancelled => State::Cancelled,
        Indexed::Revoked => State::Revoked,
        Indexed::Suspended => State::Suspended,
    };
    let changed = !matches!(state, State::Valid | State::Expired);
    Ok(Some(Standing {
        state,
        record,
        current: v.current_version,
        since: changed.then(|| v.time.clone()),
        reason: if changed { v.reason.clone().or(v.reason_code.as_deref().map(reason_zh)) } else { None },
    }))
}

/// A transition's reason code (docs/api.md) in words, when no reason text was given.
fn reason_zh(code: &str) -> String {
    match code {
        "changed" => "证照变更",
        "renewed" => "证照延续",
        "reissued" => "证照补发/换发",
        "cancelled" => "证照注销",
        "revoked" => "证照吊销",
        "suspended" => "暂停使用",
        other => other,
    }
    .to_string()
}
