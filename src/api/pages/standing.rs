//! The licence a QR code names, as the verification page shows it: the archived record of its
//! current version and its standing (有效 / 已变更 / 已注销 / 已吊销 / 已过期).
//!
//! One function, [`lookup`], so that the page does not care where the status comes from. Until the
//! lifecycle's status records exist it derives what the archive alone can tell: a later version of
//! the same identifier stem (type, issuer, serial) means superseded, a past validity end means
//! expired. Knows the archive's metadata and the GB/T 36904 identifier; knows nothing of HTML.

use crate::archive::{Archive, Record};
use crate::document::identifier::LicenceId;
use crate::error::Result;

/// Where a licence stands (the page's large colour mark).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// 有效
    Valid,
    /// 已变更: a later version replaced this one.
    Superseded,
    /// 已注销
    Cancelled,
    /// 已吊销
    Revoked,
    /// 已过期: the validity period has ended.
    Expired,
    /// 已中止 (suspended), where a template allows it.
    Suspended,
}

impl State {
    /// The word shown on the page.
    pub fn text(self) -> &'static str {
        match self {
            State::Valid => "有效",
            State::Superseded => "已变更",
            State::Cancelled => "已注销",
            State::Revoked => "已吊销",
            State::Expired => "已过期",
            State::Suspended => "已中止",
        }
    }

    /// The CSS class of the colour mark.
    pub fn class(self) -> &'static str {
        match self {
            State::Valid => "valid",
            State::Superseded => "superseded",
            State::Cancelled => "cancelled",
            State::Revoked => "revoked",
            State::Expired => "expired",
            State::Suspended => "suspended",
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
    /// When the state began and why (status records only).
    pub since: Option<String>,
    pub reason: Option<String>,
}

/// Today in China (YYYY-MM-DD), the calendar validity dates are written in.
pub fn today() -> String {
    crate::document::china_date(time::OffsetDateTime::now_utc().unix_timestamp())
}

/// The standing of `id`, or `None` when the archive holds no licence with that identifier.
pub fn lookup(archive: &Archive, id: &LicenceId, today: &str) -> Result<Option<Standing>> {
    let stem = format!(
        "{}.{}.{}.{}.",
        crate::document::identifier::ROOT_OID,
        id.type_code,
        id.issuer_code,
        id.serial
    );
    let wanted = id.to_string();
    // Every filing of every version of this licence: the wanted version's latest filing, and the
    // highest version filed.
    let mut asked: Option<Record> = None;
    let mut newest: Option<(String, String)> = None;
    for kv in archive.records.iter() {
        let Ok((_, v)) = kv else { continue };
        // Cheap filter before parsing: the stem must occur in the record's JSON.
        if !contains(&v, stem.as_bytes()) {
            continue;
        }
        let Ok(rec) = serde_json::from_slice::<Record>(&v) else { continue };
        let Some(rest) = rec.metadata.identifier.strip_prefix(&stem) else { continue };
        let version = rest.split('.').next().unwrap_or_default().to_string();
        if newest.as_ref().map_or(true, |(v, _)| version > *v) {
            newest = Some((version, rec.metadata.identifier.clone()));
        }
        if rec.metadata.identifier == wanted && asked.as_ref().map_or(true, |a| rec.leaf_index > a.leaf_index)
        {
            asked = Some(rec);
        }
    }
    let Some(record) = asked else { return Ok(None) };
    let current = newest.map(|(_, ident)| ident).unwrap_or_else(|| wanted.clone());
    let state = if current != wanted {
        State::Superseded
    } else if expired(&record.metadata.valid_until, today) {
        State::Expired
    } else {
        State::Valid
    };
    Ok(Some(Standing { state, record, current, since: None, reason: None }))
}

/// A validity end (`YYYY-MM-DD` or 长期) before `today`.
pub fn expired(valid_until: &str, today: &str) -> bool {
    let d = valid_until.trim();
    d.len() == 10 && d.as_bytes().get(4) == Some(&b'-') && d < today
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::expired;

    #[test]
    fn validity_end_compares_by_calendar_date() {
        assert!(expired("2026-11-29", "2026-11-30"));
        assert!(!expired("2026-11-30", "2026-11-30"));
        assert!(!expired("长期", "2026-11-30"));
        assert!(!expired("", "2026-11-30"));
    }
}
