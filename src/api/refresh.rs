//! Importing and refreshing other regions' trust lists and CRLs over HTTP (ureq, blocking):
//! `zhengyin trust add --from URL_OR_FILE --pin SHA256` and the periodic refresh `serve` runs,
//! with each region's signed licence status list (published beside its trust list).
//! Every list is checked against its pin; every CRL against the list's CA certificates, before
//! it is stored. A fetch that fails keeps what was stored before (and is logged).
//!
//! Knows URLs and files; the checks are `trust::list`. No PDF, no routes.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use crate::config::Home;
use crate::error::{PkiError, Result};
use crate::trust::imports::{self, Source};
use crate::trust::list::{self, TrustList};

/// Largest trust list or CRL accepted, bytes.
pub const FETCH_LIMIT: u64 = 8 << 20;

pub fn fetch(from: &str) -> Result<Vec<u8>> {
    let bad = |m: String| PkiError::TrustList(m);
    if from.starts_with("http://") || from.starts_with("https://") {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build();
        let resp = agent.get(from).call().map_err(|e| bad(format!("cannot fetch {from}: {e}")))?;
        let mut out = Vec::new();
        resp.into_reader()
            .take(FETCH_LIMIT + 1)
            .read_to_end(&mut out)
            .map_err(|e| bad(format!("cannot read {from}: {e}")))?;
        if out.len() as u64 > FETCH_LIMIT {
            return Err(bad(format!("{from} is larger than {FETCH_LIMIT} bytes")).into());
        }
        Ok(out)
    } else {
        let path = from.strip_prefix("file://").unwrap_or(from);
        std::fs::read(path).map_err(crate::error::io_at(path))
    }
}

fn now() -> i64 {
    ::time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Fetch every CRL the list names, check and store it; returns how many were stored.
fn fetch_crls(home: &Home, l: &TrustList) -> usize {
    let mut n = 0;
    for (ca, url) in &l.crl_urls {
        let got = fetch(url)
            .and_then(|der| list::check_crl(l, &der).map(|_| der))
            .and_then(|der| imports::store_crl(home, &l.region, ca, &der));
        match got {
            Ok(()) => n += 1,
            Err(e) => {
                tracing::warn!(region = %l.region, ca = %ca, url = %url, error = %e, "CRL not refreshed")
            }
        }
    }
    n
}

/// Fetch region `l`'s signed status list (licence/status_list.rs) from where its trust list says
/// it is published (`status_list.url`), check it against that region's own roots only (with the
/// status EKU, not past nextUpdate) and store it. A list that names none (an older home, or
/// one built without a public URL) is logged, not an error.
fn fetch_status_list(home: &Home, l: &TrustList) -> bool {
    let Some(url) = l.status_list.as_ref().map(|p| p.url.clone()) else {
        tracing::info!(region = %l.region, "the trust list names no status list");
        return false;
    };
    let anchors = l
        .roots
        .iter()
        .filter_map(|pem| crate::pki::keys::pem_certs(pem.as_bytes()).ok()?.into_iter().next())
        .map(|der| crate::trust::Anchor {
            source: format!("trust list of {}", l.region),
            der,
            region: l.region.clone(),
        })
        .collect();
    let trust = crate::trust::TrustStore { anchors, ..Default::default() };
    let got = fetch(&url)
        .and_then(|b| crate::licence::status_list::verify(&b, &trust, now()).map(|_| b))
        .and_then(|b| {
            crate::pki::keys::make_dir(&list::dir(home), 0o755)?;
            imports::write_if_changed(&crate::licence::status_list::imported_path(home, &l.region), &b)
        });
    match got {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(region = %l.region, url = %url, error = %e, "status list not refreshed");
            false
        }
    }
}

/// Import a region's trust list from a URL or file, checked against `pin` (SHA-256 of its root
/// certificate), with its CRLs. Refuses a list for this home's own region, a region already
/// imported under another pin, a root already trusted for another region, and a list or CRL
/// older than the one stored (`trust::imports`).
pub fn import(home: &Home, from: &str, pin: &str) -> Result<(TrustList, usize)> {
    let own = home.region()?.region.id;
    let bytes = fetch(from)?;
    if crate::trust::province::is_province_list(&bytes) {
        return Err(PkiError::TrustList(format!("{from} is a province list; use import_any")).into());
    }
    let checked = list::verify_pins(&bytes, &[pin.to_string()], now())?;
    if checked.list.region == own {
        return Err(PkiError::TrustList(format!("the list is for this home's own region `{own}`")).into());
    }
    imports::store(home, &checked, from, pin, None)?;
    let n = fetch_crls(home, &checked.list);
    fetch_status_list(home, &checked.list);
    Ok((checked.list, n))
}

/// Fetch, check and store one imported region's list again, from where it was imported (the URL
/// or file given to `trust add`, or the URL its province lists), under its stored pins and the
/// roots pivots announced since. A file is read again: to follow a region's published list, import
/// it from its URL (`trust add` says so).
fn refresh_region(home: &Home, old: &TrustList, src: &Source) -> Result<TrustList> {
    let from = &src.from;
    let checked = list::verify_pins(&fetch(from)?, &src.all_pins(), now())?;
    if checked.list.region != old.region {
        return Err(PkiError::TrustList(format!(
            "the list at {from} is now for region `{}`, not `{}`",
            checked.list.region, old.region
        ))
        .into());
    }
    imports::store(home, &checked, &src.from, &src.pin, src.province.as_deref())?;
    Ok(checked.list)
}

/// Refresh every imported list and its CRLs and status list, once each; returns the regions
/// refreshed. Regions that came from a province list are refreshed through it (`province`), when
/// that province list could be fetched; their own lists are not fetched a second time.
pub fn refresh_once(home: &Home) -> Vec<String> {
    let provinces = crate::trust::province::refresh_provinces(home, &fetch, now());
    let mut done = Vec::new();
    for (old, source) in imports::imported(home) {
        let Some(src) = source else {
            tracing::warn!(region = %old.region, "imported list has no source; CRLs only");
            fetch_crls(home, &old);
            continue;
        };
        let through_province = src.province.as_ref().is_some_and(|p| provinces.contains(p));
        let l = if through_province {
            old
        } else {
            match refresh_region(home, &old, &src) {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(region = %old.region, error = %e, "trust list not refreshed; CRLs refreshed from the stored list");
                    old
                }
            }
        };
        fetch_crls(home, &l);
        fetch_status_list(home, &l);
        done.push(l.region);
    }
    done
}

/// Refresh imported lists and CRLs every `every`, reloading the server's trust store each time.
pub async fn run(state: Arc<super::AppState>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let st = state.clone();
        let res = tokio::task::spawn_blocking(move || {
            let regions = refresh_once(&st.home);
            st.reload_trust().map(|_| regions)
        })
        .await;
        match res {
            Ok(Ok(regions)) => tracing::info!(?regions, "trust lists refreshed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "trust store not reloaded"),
            Err(e) => tracing::warn!(error = %e, "refresh task failed"),
        }
    }
}

/// What `trust add` imported: one region's list, or a province's list of lists.
pub enum Imported {
    Region(Box<TrustList>, usize),
    Province(crate::trust::province::Outcome, usize),
}

/// `trust add --from URL --pin FP`: a region's trust list, or a province list (every region it
/// lists, each checked against the pins the province gives), with their CRLs.
pub fn import_any(home: &Home, from: &str, pin: &str) -> Result<Imported> {
    let bytes = fetch(from)?;
    if !crate::trust::province::is_province_list(&bytes) {
        return import(home, from, pin).map(|(l, n)| Imported::Region(Box::new(l), n));
    }
    let out = crate::trust::province::import(home, from, pin, &bytes, &fetch, now())?;
    let mut crls = 0;
    for r in &out.imported {
        if let Some((l, _)) = imports::stored(home, r) {
            crls += fetch_crls(home, &l);
        }
    }
    Ok(Imported::Province(out, crls))
}
