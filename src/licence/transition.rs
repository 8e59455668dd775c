//! The licence lifecycle's vocabulary: a version's [`State`] (valid, superseded, cancelled,
//! revoked, suspended), the [`Action`]s that move it (变更, 延续, 补发/换发, 注销, 吊销, 暂停,
//! 恢复), and the [`Transition`] entry the lifecycle files in the archive log for each one
//! (docs/archive.md). Plain data: knows nothing of the archive, the index or HTTP.

use serde::{Deserialize, Serialize};

/// Archive record kind of a transition entry.
pub const KIND: &str = "licence-status";
/// `format` of a transition entry (bump on any change: docs/archive.md).
pub const ENTRY_FORMAT: &str = "zhengyin-licence-status/v1";

/// A licence version's state.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// In force (有效).
    Valid,
    /// A newer version replaced it (变更, 延续 or 补发/换发: 已变更/已换发).
    Superseded,
    /// Cancelled (注销).
    Cancelled,
    /// Revoked (吊销).
    Revoked,
    /// Suspended (暂停), for templates that allow it; `resume` makes it valid again.
    Suspended,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Valid => "valid",
            State::Superseded => "superseded",
            State::Cancelled => "cancelled",
            State::Revoked => "revoked",
            State::Suspended => "suspended",
        }
    }
    /// The word the national platforms show on scan.
    pub fn label_zh(self) -> &'static str {
        match self {
            State::Valid => "有效",
            State::Superseded => "已变更",
            State::Cancelled => "已注销",
            State::Revoked => "已吊销",
            State::Suspended => "已暂停",
        }
    }
    pub fn in_force(self) -> bool {
        self == State::Valid
    }
}

/// A lifecycle verb.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// 变更: new data, new version.
    Change,
    /// 延续: new validity, new version.
    Renew,
    /// 补发/换发: the same data sealed again, new version.
    Reissue,
    /// 注销.
    Cancel,
    /// 吊销.
    Revoke,
    Suspend,
    Resume,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Change => "change",
            Action::Renew => "renew",
            Action::Reissue => "reissue",
            Action::Cancel => "cancel",
            Action::Revoke => "revoke",
            Action::Suspend => "suspend",
            Action::Resume => "resume",
        }
    }
    /// Whether the action seals a new version (and supersedes the old one).
    pub fn new_version(self) -> bool {
        matches!(self, Action::Change | Action::Renew | Action::Reissue)
    }
    /// The state the acted-on version is left in.
    pub fn leaves(self) -> State {
        match self {
            Action::Change | Action::Renew | Action::Reissue => State::Superseded,
            Action::Cancel => State::Cancelled,
            Action::Revoke => State::Revoked,
            Action::Suspend => State::Suspended,
            Action::Resume => State::Valid,
        }
    }
    /// The reason code carried in status answers and lists (docs/api.md).
    pub fn reason_code(self) -> &'static str {
        match self {
            Action::Change => "changed",
            Action::Renew => "renewed",
            Action::Reissue => "reissued",
            Action::Cancel => "cancelled",
            Action::Revoke => "revoked",
            Action::Suspend => "suspended",
            Action::Resume => "resumed",
        }
    }
}

impl std::str::FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s {
            "change" => Action::Change,
            "renew" => Action::Renew,
            "reissue" => Action::Reissue,
            "cancel" => Action::Cancel,
            "revoke" => Action::Revoke,
            "suspend" => Action::Suspend,
            "resume" => Action::Resume,
            other => {
                return Err(format!(
                    "unknown action `{}` (change, renew, reissue, cancel, revoke, suspend, resume)",
                    other.chars().take(30).collect::<String>()
                ))
            }
        })
    }
}

/// One transition as filed in the archive log (kind [`KIND`], the JSON bytes of this struct).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Transition {
    pub format: String,
    /// Random id (`ST` + 16 hex), so two equal transitions stay distinct leaves.
    pub id: String,
    pub action: Action,
    /// The version acted on.
    pub identifier: String,
    /// The version sealed by this transition (change, renew, reissue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_identifier: Option<String>,
    /// SHA-256 of the new version's sealed PDF, as filed in the same batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_sha256: Option<String>,
    /// The acted-on version's state afterwards.
    pub state: State,
    pub reason_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The department that made the transition.
    pub by: String,
    /// RFC 3339 (UTC).
    pub at: String,
}
