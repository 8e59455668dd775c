//! Request limits and the outer middleware: body size (413 before the body is read when
//! Content-Length says so; axum's `DefaultBodyLimit` otherwise), a per-client token-bucket rate
//! limit (429; the client is its valid token's id, or else its IP address), a per-request
//! timeout (503), problem+json for every framework error, and latency metrics per route.
//!
//! Knows nothing of handlers or roles. PDF parsing limits come from the library (`pades::parse`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::problem::{fixup, Problem};
use super::AppState;
use crate::error::ApiError;

/// A token bucket per client.
pub struct RateLimiter {
    per_sec: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    /// `per_sec` 0 disables the limit.
    pub fn new(per_sec: f64, burst: f64) -> Self {
        RateLimiter { per_sec, burst: burst.max(1.0), buckets: Mutex::new(HashMap::new()) }
    }

    /// Take one token for `client`; `Err(seconds to wait)` when empty.
    pub fn take(&self, client: &str) -> Result<(), u64> {
        if self.per_sec <= 0.0 {
            return Ok(());
        }
        let now = Instant::now();
        let Ok(mut b) = self.buckets.lock() else { return Ok(()) };
        if b.len() > 100_000 {
            // Bound memory: forget clients whose bucket has refilled.
            let (rate, burst) = (self.per_sec, self.burst);
            b.retain(|_, (t, at)| *t + now.duration_since(*at).as_secs_f64() * rate < burst);
        }
        let e = b.entry(client.to_string()).or_insert((self.burst, now));
        e.0 = (e.0 + now.duration_since(e.1).as_secs_f64() * self.per_sec).min(self.burst);
        e.1 = now;
        if e.0 >= 1.0 {
            e.0 -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - e.0) / self.per_sec).ceil().max(1.0) as u64)
        }
    }
}

/// The rate-limit bucket of a request: the token id when the bearer token is valid, else the peer
/// IP. An invalid or made-up `Authorization` header counts as its IP, so a fresh header per request
/// does not buy a fresh bucket.
fn client_key(st: &AppState, req: &Request) -> String {
    if let Some(auth) = req.headers().get(header::AUTHORIZATION) {
        if let Ok(p) = super::auth::authenticate(&st.home, auth.to_str().ok()) {
            return format!("tok:{}", p.token_id);
        }
    }
    match req.extensions().get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(a)) => format!("ip:{}", a.ip()),
        None => "ip:unknown".into(),
    }
}

/// The outer middleware (see the module doc).
pub async fn guard(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let limit = st.config.body_limit;
    let too_big = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > limit as u64);
    // The HTML pages answer their refusals as pages (super::pages), the API as problem+json.
    let page = super::pages::is_page(req.uri().path());
    let refuse = |e: ApiError| {
        let p = Problem::from(e);
        if page {
            super::pages::refusal(&p)
        } else {
            p.into_response()
        }
    };
    let response = if too_big {
        refuse(ApiError::TooLarge { limit })
    } else if let Err(retry_after) = st.limiter.take(&client_key(&st, &req)) {
        refuse(ApiError::RateLimited { retry_after })
    } else {
        let secs = st.config.timeout_secs;
        match tokio::time::timeout(Duration::from_secs(secs), next.run(req)).await {
            Ok(r) => fixup(r),
            Err(_) => refuse(ApiError::Timeout { secs }),
        }
    };
    st.metrics.record_request(&method, &route, response.status().as_u16(), start.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_and_refuses() {
        let l = RateLimiter::new(1.0, 2.0);
        assert!(l.take("a").is_ok());
        assert!(l.take("a").is_ok());
        assert!(l.take("a").is_err());
        assert!(l.take("b").is_ok());
        assert!(RateLimiter::new(0.0, 1.0).take("a").is_ok());
    }
}
