//! `zhengyin serve`: the HTTP service (docs/api.md); `zhengyin token create|list`: API tokens;
//! `zhengyin revoke`: revoke a certificate by serial and re-sign its CA's CRL.
//!
//! Thin shells over `zhengyin::api` and `zhengyin::pki::revoke`; knows no route or PKI detail.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use zhengyin::api::auth::Role;
use zhengyin::api::{AppState, ServeConfig};

use super::{fail, HomeArg};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    home: HomeArg,
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Base URL other regions reach this service at (CRL, status-list and trust-list URLs in the
    /// trust list; QR codes of presentations) [default: region.toml's public_url, or
    /// http://<listen> while that is still init's placeholder http://127.0.0.1:8080]
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
    /// Refresh imported trust lists and CRLs every N seconds (0: never)
    #[arg(long, default_value_t = 300)]
    refresh_secs: u64,
    /// Check this region's own CRLs every N seconds and re-sign those with less than half of
    /// their validity left (also once at start; 0: never)
    #[arg(long, default_value_t = 3600)]
    crl_check_secs: u64,
    /// Largest request body in bytes
    #[arg(long, default_value_t = 16 << 20)]
    body_limit: usize,
    /// Requests per second per client (valid token, else IP address); 0: unlimited
    #[arg(long, default_value_t = 50.0)]
    rate_limit: f64,
    /// Burst size of the rate limit
    #[arg(long, default_value_t = 100.0)]
    rate_burst: f64,
    /// Per-request timeout in seconds
    #[arg(long, default_value_t = 30)]
    timeout_secs: u64,
    /// Seconds a client has to send a request head (also between keep-alive requests)
    #[arg(long, default_value_t = 10)]
    header_timeout_secs: u64,
    /// Open connections at most; more wait in the listen backlog
    #[arg(long, default_value_t = 512)]
    max_connections: usize,
    /// Open connections at most per IP address; more are answered 503 and closed
    #[arg(long, default_value_t = 64)]
    max_connections_per_ip: usize,
}

pub fn run(a: Args) -> ExitCode {
    let home = a.home.home();
    // Every thread of the runtime (async workers and the blocking pool the CPU-bound jobs run
    // on) gets the parser's stack, so a verification parses each revision on its own thread
    // instead of starting one per revision. Reserved address space, committed as touched.
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(zhengyin::parallel::WORKER_STACK)
        .on_thread_start(zhengyin::parallel::mark_worker_stack)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    rt.block_on(async move {
        let listener = match zhengyin::api::conn::listen(a.listen) {
            Ok(l) => l,
            Err(e) => return fail(format!("cannot listen on {}: {e}", a.listen)),
        };
        let configured = match home.region() {
            Ok(r) => r.region.public_url,
            Err(e) => return fail(e),
        };
        let local = listener.local_addr().map(|x| x.to_string()).unwrap_or_else(|_| a.listen.to_string());
        let config = ServeConfig {
            body_limit: a.body_limit,
            rate_per_sec: a.rate_limit,
            rate_burst: a.rate_burst,
            timeout_secs: a.timeout_secs.max(1),
            header_timeout_secs: a.header_timeout_secs.max(1),
            max_connections: max_connections(a.max_connections),
            max_connections_per_ip: a.max_connections_per_ip.max(1),
            public_url: Some(public_url(a.public_url, configured.as_deref(), &local)),
        };
        let state = match AppState::open(home, config) {
            Ok(s) => s,
            Err(e) => return fail(e),
        };
        if a.refresh_secs > 0 {
            tokio::spawn(zhengyin::api::refresh::run(state.clone(), Duration::from_secs(a.refresh_secs)));
        }
        if a.crl_check_secs > 0 {
            tokio::spawn(zhengyin::api::crl_refresh::run(
                state.clone(),
                Duration::from_secs(a.crl_check_secs),
            ));
        }
        println!("zhengyin serving region {} on http://{local}", state.region.region.id);
        tracing::info!(listen = %local, "serving");
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        match zhengyin::api::serve(listener, state, shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(format!("server error: {e}")),
        }
    })
}

/// The base URL the service announces: `--public-url`, else region.toml's `public_url` (what
/// certificates' CRL distribution points and QR codes already name), else — while region.toml
/// holds only init's placeholder — the address it listens on. When the result differs from
/// region.toml's, say so at start: other regions would fetch CRLs from one place while the
/// certificates name another.
fn public_url(given: Option<String>, configured: Option<&str>, local: &str) -> String {
    let configured = configured.map(|u| u.trim_end_matches('/'));
    let placeholder = configured.is_none_or(|u| u == zhengyin::config::DEFAULT_PUBLIC_URL);
    let url = match (given, configured) {
        (Some(u), _) => u.trim_end_matches('/').to_string(),
        (None, Some(c)) if !placeholder => c.to_string(),
        _ => format!("http://{local}"),
    };
    if let Some(c) = configured.filter(|c| *c != url) {
        tracing::warn!(public_url = %url, region_public_url = %c, "the served public URL differs from region.toml's");
        eprintln!(
            "zhengyin: warning: serving with public URL {url}, but region.toml's public_url is {c}: \
             certificates' CRL distribution points and QR codes name {c}, the trust list names {url}; \
             make them one (serve --public-url {c}, or `zhengyin init --public-url` for a new region)"
        );
    }
    url
}

/// The connection cap that fits the open-file limit (logged when lower than asked).
fn max_connections(wanted: usize) -> usize {
    let wanted = wanted.clamp(1, zhengyin::api::conn::MAX_CONNECTIONS);
    let fits = zhengyin::api::conn::fit_fd_limit(wanted);
    if fits < wanted {
        tracing::warn!(
            wanted,
            fits,
            "the open-file limit (ulimit -n) is too low for --max-connections; using the lower cap"
        );
        eprintln!("zhengyin: warning: --max-connections {wanted} lowered to {fits} to fit the open-file limit (ulimit -n)");
    }
    fits
}

#[derive(clap::Subcommand)]
pub enum TokenCommand {
    /// Create an API token; it is printed once and only its SHA-256 is kept (tokens.toml, 0600)
    Create {
        #[command(flatten)]
        home: HomeArg,
        /// department | archivist | ca-operator | holder-app (亮证) | foreign (a department of another region)
        #[arg(long)]
        role: String,
        /// The other region's id (for --role foreign)
        #[arg(long, value_name = "REGION")]
        region: Option<String>,
        /// The other region's department, by its USCC (for --role foreign)
        #[arg(long, value_name = "USCC")]
        uscc: Option<String>,
        /// The department (for --role department)
        #[arg(long, value_name = "DEPT")]
        dept: Option<String>,
        /// The CA (for --role ca-operator)
        #[arg(long, value_name = "CA")]
        ca: Option<String>,
    },
    /// List tokens (ids and roles, never the tokens)
    List {
        #[command(flatten)]
        home: HomeArg,
    },
}

pub fn token(c: TokenCommand) -> ExitCode {
    match c {
        TokenCommand::Create { home, role, dept, ca, region, uscc } => {
            let role =
                match (role.as_str(), dept, ca, region, uscc) {
                    ("department", Some(dept), None, None, None) => Role::Department { dept },
                    ("archivist", None, None, None, None) => Role::Archivist,
                    ("holder-app", None, None, None, None) => Role::HolderApp,
                    ("ca-operator", None, Some(ca), None, None) => Role::CaOperator { ca },
                    ("foreign", None, None, Some(region), Some(uscc)) => Role::Foreign { region, uscc },
                    _ => return fail(
                        "use --role department --dept DEPT, --role archivist, --role ca-operator --ca CA, \
                     --role holder-app, or --role foreign --region REGION --uscc USCC",
                    ),
                };
            match zhengyin::api::auth::create(&home.home(), role.clone()) {
                Ok((id, raw)) => {
                    eprintln!("created {id} for {} (shown once; store it now)", role.describe());
                    println!("{raw}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        TokenCommand::List { home } => match zhengyin::api::auth::list(&home.home()) {
            Ok(list) => {
                for t in list {
                    println!("{}  {}  {}", t.id, t.created, t.role.describe());
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
    }
}

#[derive(clap::Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    home: HomeArg,
    /// Serial number of the certificate, hexadecimal (colons allowed)
    serial: String,
    /// RFC 5280 reason: keyCompromise, superseded, cessationOfOperation, …
    #[arg(long)]
    reason: Option<String>,
    /// With keyCompromise: since when the key is known or suspected to be compromised (RFC 3339
    /// or YYYY-MM-DD; the CRL entry's revocation date is backdated to it). Seals time-stamped after it are refused
    /// even though they predate the revocation itself.
    #[arg(long, value_name = "TIME")]
    compromised_at: Option<String>,
}

pub fn revoke(a: RevokeArgs) -> ExitCode {
    let compromised_at = match a.compromised_at.as_deref().map(super::proof::parse_time).transpose() {
        Ok(t) => t.map(|t| {
            i64::try_from(t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0))
                .unwrap_or(i64::MAX)
        }),
        Err(e) => return fail(format!("--compromised-at: {e}")),
    };
    match zhengyin::pki::revoke::revoke(&a.home.home(), &a.serial, a.reason.as_deref(), compromised_at) {
        Ok(r) => {
            println!(
                "revoked {} ({}) issued by CA {}, since {}{}",
                r.serial,
                r.subject,
                r.ca,
                r.revoked_at,
                if r.already { " (already revoked)" } else { "" }
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}
