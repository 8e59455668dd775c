//! The server's own CRLs stay fresh: a background task re-signs every CA's CRL of this region
//! when less than half of its validity is left (`pki::crl::refresh`), at start and then every
//! `--crl-check-secs`, and reloads the trust store when one was re-signed.
//!
//! Knows the schedule only; what "due" means and the signing are `pki::crl`. No routes.

use std::sync::Arc;
use std::time::Duration;

/// Check (and re-sign what is due) now, then every `every`.
pub async fn run(state: Arc<super::AppState>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let st = state.clone();
        let res = tokio::task::spawn_blocking(move || {
            let states = crate::pki::crl::refresh(&st.home, false)?;
            let refreshed: Vec<String> = states.into_iter().filter(|s| s.refreshed).map(|s| s.ca).collect();
            if !refreshed.is_empty() {
                st.reload_trust()?;
            }
            Ok::<_, crate::error::Error>(refreshed)
        })
        .await;
        match res {
            Ok(Ok(cas)) if cas.is_empty() => tracing::debug!("CRLs current"),
            Ok(Ok(cas)) => tracing::info!(?cas, "CRLs re-signed"),
            Ok(Err(e)) => tracing::warn!(error = %e, "CRLs not re-signed"),
            Err(e) => tracing::warn!(error = %e, "CRL refresh task failed"),
        }
    }
}
