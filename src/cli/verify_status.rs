//! `zhengyin verify --status online|offline|off`: where a verification's licence status comes
//! from, opened once per run and shared by every file of a batch. With `--status-url`, the
//! issuing region's signed online answer first (when none can be had, the offline sources still
//! speak); then this home's archive for its own region's licences; then the status lists the home
//! holds (its own and those fetched with other regions'
//! trust lists). The finding itself and the verdict are `zhengyin::verify::status`.
//!
//! Knows the CLI's homes and URLs; the lookups are `zhengyin::licence`.

use zhengyin::archive::Archive;
use zhengyin::config::Home;
use zhengyin::licence::answer::OnlineSource;
use zhengyin::licence::status_list::ListSource;
use zhengyin::licence::status_source::{own_root_subject, ArchiveSource};
use zhengyin::trust::TrustStore;
use zhengyin::verify::report::Report;
use zhengyin::verify::status::StatusSource;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusMode {
    Online,
    Offline,
    Off,
}

/// The status sources of one run.
pub struct Sources<'a> {
    off: bool,
    online: Option<OnlineSource<'a>>,
    /// This home's archive and its region root's subject (opened only if the home has one and no
    /// server holds it).
    own: Option<(Archive, String)>,
    lists: Option<ListSource>,
}

impl<'a> Sources<'a> {
    pub fn open(
        mode: StatusMode,
        url: Option<&str>,
        store: &'a TrustStore,
        home: Option<&Home>,
    ) -> Result<Self, String> {
        if mode == StatusMode::Off {
            return Ok(Sources { off: true, online: None, own: None, lists: None });
        }
        if mode == StatusMode::Online && url.is_none() {
            return Err("--status online needs --status-url URL (the issuing region's service)".into());
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let own = home
            .filter(|h| h.dir.join("archive").is_dir())
            .and_then(|h| zhengyin::filing::open_archive(h).ok())
            .and_then(|a| own_root_subject(store).map(|root| (a, root)));
        Ok(Sources {
            off: false,
            online: url.map(|base| OnlineSource { base: base.to_string(), trust: store }),
            own,
            lists: home.map(|h| ListSource::held(h, store, now)),
        })
    }

    /// Record the licence status in `report` and re-decide its verdict (nothing with `off`).
    pub fn apply(&self, report: &mut Report) {
        if self.off {
            return;
        }
        let own = self.own.as_ref().map(|(archive, root)| ArchiveSource { archive, root: root.clone() });
        let mut offline: Vec<&dyn StatusSource> = Vec::new();
        if let Some(o) = &own {
            offline.push(o);
        }
        if let Some(l) = &self.lists {
            offline.push(l);
        }
        let Some(online) = &self.online else {
            zhengyin::verify::status::apply(report, &offline);
            return;
        };
        // Online first. When no answer can be had (unreachable, refused: replayed, wrong signer)
        // the offline sources still speak: a blocked request must not hide a cancellation the
        // home's archive or lists know. If they know nothing either, the online reason stays.
        zhengyin::verify::status::apply(report, &[online as &dyn StatusSource]);
        let asked = report.licence_status.clone();
        if offline.is_empty() || asked.as_ref().is_none_or(|s| s.in_force.is_some()) {
            return;
        }
        zhengyin::verify::status::apply(report, &offline);
        if let (Some(mut first), Some(then)) = (asked, report.licence_status.as_ref()) {
            if then.in_force.is_none() {
                first.detail = format!("{}; offline: {}", first.detail, then.detail);
                report.licence_status = Some(first);
                report.verdict = zhengyin::verify::verdict::decide(report);
            }
        }
    }
}
