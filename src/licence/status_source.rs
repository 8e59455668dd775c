//! The home's own archive as a licence-status source for `verify` and POST /v1/verify
//! (`verify::status::StatusSource`): exact and current for this region's licences. Knows the
//! status index (`status::current`) and trust anchors; nothing of PDF or HTTP.

use super::status::current;
use crate::archive::Archive;

/// The home's own archive as a status source for `verify`: it speaks for licences that chain to
/// this region's root (`root`: that root's subject), exactly and always current.
pub struct ArchiveSource<'a> {
    pub archive: &'a Archive,
    pub root: String,
}

impl crate::verify::status::StatusSource for ArchiveSource<'_> {
    fn status_of(
        &self,
        s: &crate::verify::status::Subject<'_>,
    ) -> Option<crate::verify::status::LicenceStatus> {
        if s.root != Some(self.root.as_str()) {
            return None;
        }
        let source = "this region's archive".to_string();
        Some(match current(self.archive, s.identifier) {
            Ok(Some(v)) => crate::verify::status::LicenceStatus {
                status: v.status.as_str().into(),
                in_force: Some(v.status.in_force()),
                source,
                current_version: Some(v.current_version),
                reason_code: v.reason_code,
                reason: v.reason,
                since: Some(v.time),
                expired: v.expired,
                detail: format!("{} ({})", v.status.as_str(), v.status_zh),
            },
            Ok(None) => crate::verify::status::LicenceStatus::unknown(
                &source,
                "this region's archive holds no licence with this identifier",
            ),
            Err(e) => {
                crate::verify::status::LicenceStatus::unknown(&source, format!("status lookup failed: {e}"))
            }
        })
    }
}

/// The subject of the home's region root (as verification reports name anchors).
pub fn own_root_subject(trust: &crate::trust::TrustStore) -> Option<String> {
    trust.anchors.iter().find(|a| a.source == "region root").map(|a| crate::trust::subject_of(&a.der))
}
