//! Connections of `zhengyin serve`: the accept loop over tokio's `TcpListener`, serving HTTP/1.1
//! with hyper, with the limits a public service needs against slow and many connections
//! (slowloris): a header-read timeout, a cap on open connections, and a cap per peer IP address.
//!
//! - **Header timeout.** A connection must deliver a complete request head within
//!   `header_timeout` of starting it — also when it sits idle between keep-alive requests — or
//!   hyper closes it (`http1::Builder::header_read_timeout` with tokio's timer). Bodies are
//!   bounded by the per-request timeout and the body limit (`limits`).
//! - **Connection cap.** A semaphore of `max_connections` permits; the loop takes one before it
//!   accepts, so at the cap new connections wait in the kernel's listen backlog and the process
//!   never holds more than the cap in sockets (no `EMFILE`, and the ones already open keep being
//!   served, /healthz included).
//! - **Per-IP cap.** At most `max_per_ip` open connections per peer address; one more is answered
//!   with a 503 problem (written without waiting) and closed at once.
//!
//! Each request carries the peer address as `ConnectInfo<SocketAddr>` (the rate limit keys on it).
//! Graceful shutdown: stop accepting, ask every connection to finish its request and close, wait
//! until all have. Knows sockets and HTTP/1.1; nothing of routes or roles.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

/// Connection limits (flags of `zhengyin serve`, docs/api.md).
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// Time a client has to send a complete request head.
    pub header_timeout: Duration,
    /// Open connections at most, all clients together.
    pub max_connections: usize,
    /// Open connections at most from one IP address.
    pub max_per_ip: usize,
}

/// Upper bound of `--max-connections` (far above any file-descriptor limit in practice).
pub const MAX_CONNECTIONS: usize = 1 << 20;

/// File descriptors kept free for everything else (sled, packs, pack writes, CRL reads, logs).
const FD_RESERVE: u64 = 128;

/// Make room for `wanted` connections within the process's open-file limit: raise the soft limit
/// towards the hard one if needed, and return the cap that fits (lower than `wanted` only if the
/// hard limit is too low; the caller logs that).
pub fn fit_fd_limit(wanted: usize) -> usize {
    let need = u64::try_from(wanted).unwrap_or(u64::MAX).saturating_add(FD_RESERVE);
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed by reference.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return wanted;
    }
    if lim.rlim_cur < need {
        let raised = libc::rlimit { rlim_cur: need.min(lim.rlim_max), rlim_max: lim.rlim_max };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            lim.rlim_cur = raised.rlim_cur;
        }
    }
    usize::try_from(lim.rlim_cur.saturating_sub(FD_RESERVE)).unwrap_or(wanted).clamp(1, wanted.max(1))
}

/// Connections the kernel queues for us once `max_connections` are open (Linux caps it at
/// `net.core.somaxconn`, 4096 by default). tokio's `TcpListener::bind` asks for 128 only.
pub const LISTEN_BACKLOG: u32 = 1024;

/// Bind `addr` for [`serve`] with [`LISTEN_BACKLOG`]. Call within a tokio runtime.
pub fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let sock =
        if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    sock.set_reuseaddr(true)?;
    sock.bind(addr)?;
    sock.listen(LISTEN_BACKLOG)
}

/// Open connections per peer IP.
#[derive(Default)]
struct PerIp(Mutex<HashMap<IpAddr, usize>>);

/// One connection's place in [`PerIp`]; given back on drop.
struct IpSlot {
    table: Arc<PerIp>,
    ip: IpAddr,
}

impl PerIp {
    fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<IpSlot> {
        let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = t.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(IpSlot { table: self.clone(), ip })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut t = self.table.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = t.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                t.remove(&self.ip);
            }
        }
    }
}

/// Errors of one connection that say nothing about the server (the peer went away).
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(e.kind(), K::ConnectionRefused | K::ConnectionAborted | K::ConnectionReset)
}

/// The answer to a connection over the per-IP cap, written without waiting, then closed.
fn refuse(stream: &tokio::net::TcpStream, max: usize) {
    let body = format!(
        "{{\"type\":\"urn:zhengyin:problem:too-many-connections\",\"title\":\"Too many connections\",\"status\":503,\"detail\":\"this address already has {max} connections open; close some and retry\"}}"
    );
    let head = format!("HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n", body.len());
    // A fresh socket's send buffer is empty: this either writes it all or the peer is gone.
    let _ = stream.try_write(format!("{head}{body}").as_bytes());
}

/// Serve `app` on `listener` with `limits` until `shutdown` resolves, then drain.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let max = limits.max_connections.clamp(1, MAX_CONNECTIONS);
    let max_per_ip = limits.max_per_ip.max(1);
    let permits = Arc::new(Semaphore::new(max));
    let per_ip = Arc::new(PerIp::default());
    let (stop_tx, stop_rx) = watch::channel(());
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.map_err(std::io::Error::other)?,
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // E.g. EMFILE from files opened elsewhere in the process: wait, then retry.
                    tracing::error!(error = %e, "accept error");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = per_ip.take(peer.ip(), max_per_ip) else {
            tracing::debug!(peer = %peer.ip(), limit = max_per_ip, "connection refused: too many from this address");
            refuse(&stream, max_per_ip);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req)
        });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            let (_permit, _slot) = (permit, slot);
            let mut conn = std::pin::pin!(conn);
            let done = tokio::select! {
                r = conn.as_mut() => Some(r),
                _ = stop.changed() => None,
            };
            let r = match done {
                Some(r) => r,
                None => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = r {
                tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    drop(stop_tx);
    // Every connection holds a permit until it ends: all of them back means all closed.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let _ = permits.acquire_many(all).await;
    Ok(())
}
