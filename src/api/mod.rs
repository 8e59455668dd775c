//! The HTTP service (`zhengyin serve`): departments issue and seal, anyone verifies, CA operators
//! revoke, archivists read and audit, other regions fetch this region's trust list and CRLs.
//! axum on tokio; heavy work (render, seal, verify, audit) runs in `spawn_blocking`.
//!
//! Knows routes, roles and HTTP; every decision about licences, seals, trust and the archive is a
//! call into the library. Routes and their OpenAPI description come from one list,
//! [`api_routes`] ([`openapi`]); docs/api.md.

pub mod auth;
pub mod bodies;
mod commitments;
pub mod conn;
mod consistency;
pub mod crl_refresh;
pub mod dashboard;
mod external_seal;
mod foreign;
mod handlers;
mod jobs;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod presentations;
pub mod problem;
mod proofs;
mod records;
pub mod refresh;
mod share;
pub mod status;
pub mod trust_reload;
mod tsa;

use std::sync::{Arc, Mutex};

use axum::extract::DefaultBodyLimit;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::archive::Archive;
use crate::config::{Home, RegionConfig};
use crate::error::Result;
use crate::trust::TrustStore;
pub(crate) use jobs::{blocking, blocking_cancellable};

/// Settings of one server.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Largest request body, bytes.
    pub body_limit: usize,
    /// Requests per second per client (token or IP); 0 = unlimited.
    pub rate_per_sec: f64,
    /// Bucket size of the rate limit.
    pub rate_burst: f64,
    /// Per-request timeout, seconds.
    pub timeout_secs: u64,
    /// Time a client has to send a request's head (request line and headers), seconds.
    pub header_timeout_secs: u64,
    /// Open connections at most (all clients).
    pub max_connections: usize,
    /// Open connections at most from one IP address.
    pub max_connections_per_ip: usize,
    /// Base URL other regions reach this one at (CRL and trust-list URLs in the trust list).
    pub public_url: Option<String>,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            body_limit: 16 << 20,
            rate_per_sec: 50.0,
            rate_burst: 100.0,
            timeout_secs: 30,
            header_timeout_secs: 10,
            max_connections: 512,
            max_connections_per_ip: 64,
            public_url: None,
        }
    }
}

/// Everything handlers share.
pub struct AppState {
    pub home: Home,
    pub region: RegionConfig,
    /// Rebuilt after a revocation, a trust-list refresh, or when the CRL files change on disk.
    pub trust: trust_reload::Trust,
    /// The one open archive (sled allows one opener per process).
    pub archive: Arc<Archive>,
    /// Serialises writes to the archive (filing, tree heads).
    pub write_lock: Mutex<()>,
    pub metrics: metrics::Metrics,
    pub limiter: limits::RateLimiter,
    pub config: ServeConfig,
    /// Departments' holder data for proofs (sled: one opener per process, so opened once here).
    pub holders: Arc<crate::proofs::holders::Holders>,
    /// Short-lived single-use download links of `/v1/share/links`.
    pub share_links: share::Links,
    /// The region's time-stamping authority (POST /v1/tsa); `None` for a home without one.
    pub tsa: Option<Arc<crate::pki::tsa::Tsa>>,
}

impl AppState {
    /// Open the home's region, trust store and archive.
    pub fn open(home: Home, config: ServeConfig) -> Result<Arc<Self>> {
        let region = home.region()?;
        let trust = trust_reload::Trust::load(&home)?;
        let archive = crate::filing::open_archive(&home)?;
        let holders = crate::proofs::holders::Holders::open(&home)?;
        let tsa = crate::pki::tsa::Tsa::load_optional(&home)?.map(Arc::new);
        Ok(Arc::new(AppState {
            tsa,
            home,
            region,
            trust,
            archive: Arc::new(archive),
            write_lock: Mutex::new(()),
            metrics: metrics::Metrics::default(),
            limiter: limits::RateLimiter::new(config.rate_per_sec, config.rate_burst),
            config,
            holders: Arc::new(holders),
            share_links: share::Links::default(),
        }))
    }

    /// The current trust store (reloaded first if the home's CRLs changed: [`trust_reload`]).
    pub fn trust(&self) -> Arc<TrustStore> {
        self.trust.current(&self.home)
    }

    /// Re-read the trust store from the home (after a revocation or refresh).
    pub fn reload_trust(&self) -> Result<()> {
        self.trust.reload(&self.home)
    }
}

/// Every described route, each registered together with its OpenAPI operation (utoipa-axum):
/// the router ([`router`]) and /openapi.json ([`openapi::spec`]) are both made from this list.
pub fn api_routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::with_openapi(openapi::frame())
        .routes(routes!(handlers::issue))
        .routes(routes!(handlers::add_seal))
        .routes(routes!(external_seal::prepare))
        .routes(routes!(external_seal::complete))
        .routes(routes!(presentations::create))
        .routes(routes!(status::transition, status::show))
        .routes(routes!(status::answer))
        .routes(routes!(status::list))
        .routes(routes!(handlers::verify))
        .routes(routes!(records::revoke))
        .routes(routes!(records::crl))
        // The CRL distribution point certificates name (`<public_url>/crl/<ca>.crl`).
        .routes(routes!(records::crl_distribution_point))
        .routes(routes!(records::trust_list))
        .routes(routes!(records::province_list))
        .routes(routes!(records::tree_head))
        .routes(routes!(consistency::check))
        .routes(routes!(records::archive_get))
        .routes(routes!(records::archive_proof))
        .routes(routes!(records::audit))
        .routes(routes!(proofs::request))
        .routes(routes!(proofs::verify))
        .routes(routes!(foreign::answer))
        .routes(routes!(foreign::remote))
        .routes(routes!(proofs::uses))
        .routes(routes!(proofs::uses_query))
        .routes(routes!(commitments::commit))
        .routes(routes!(commitments::check))
        .routes(routes!(share::query))
        .routes(routes!(share::link))
        .routes(routes!(share::download))
        .routes(routes!(share::verify))
        .routes(routes!(tsa::stamp))
        .routes(routes!(dashboard::get))
        .routes(routes!(records::healthz))
        .routes(routes!(records::metrics))
        .routes(routes!(records::openapi))
        .merge(pages::routes())
}

/// The router with every route and layer.
pub fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.body_limit;
    let (described, _) = api_routes().split_for_parts();
    described
        .merge(pages::assets())
        .fallback(records::no_route)
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn_with_state(state.clone(), limits::guard))
        .with_state(state)
}

/// Serve on `listener` until `shutdown` resolves (tests bind 127.0.0.1:0), with the connection
/// limits of the config ([`conn`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let c = &state.config;
    let limits = conn::ConnLimits {
        header_timeout: std::time::Duration::from_secs(c.header_timeout_secs.max(1)),
        max_connections: c.max_connections,
        max_per_ip: c.max_connections_per_ip,
    };
    conn::serve(listener, router(state), limits, shutdown).await
}
