//! Shared helpers for the HTTP tests: make a region home, start the real server in-process on
//! 127.0.0.1:0 (its own tokio runtime on a thread), and talk to it with a real HTTP client (ureq).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use zhengyin::api::auth::Role;
use zhengyin::api::{AppState, ServeConfig};
use zhengyin::config::Home;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Initialise a home from a region file in fixtures/region.
pub fn init_home(dir: &Path, region: &str) -> Home {
    let home = Home { dir: dir.to_path_buf() };
    let path = repo().join("fixtures/region").join(format!("{region}.toml"));
    let text = std::fs::read_to_string(&path).expect("region fixture");
    zhengyin::pki::init(&home, &text, &path, false).expect("init");
    home
}

pub fn token(home: &Home, role: Role) -> String {
    zhengyin::api::auth::create(home, role).expect("token").1
}

/// A running server; stopped on drop.
pub struct Server {
    pub url: String,
    pub state: Arc<AppState>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Start the server for `home`; `refresh`: run the trust-list refresh every so often.
pub fn start(home: &Home, mut config: ServeConfig, refresh: Option<Duration>) -> Server {
    let rt =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let url = format!("http://{addr}");
    config.public_url.get_or_insert_with(|| url.clone());
    let state = AppState::open(home.clone(), config).expect("state");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let st = state.clone();
    let thread = std::thread::spawn(move || {
        rt.block_on(async move {
            if let Some(every) = refresh {
                tokio::spawn(zhengyin::api::refresh::run(st.clone(), every));
            }
            let _ = zhengyin::api::serve(listener, st, async move {
                let _ = rx.await;
            })
            .await;
        });
    });
    Server { url, state, stop: Some(tx), thread: Some(thread) }
}

/// A response: status, content type, body.
pub struct Resp {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    /// Asserts an RFC 9457 problem with this status, and returns it.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", String::from_utf8_lossy(&self.body));
        assert!(
            self.content_type.starts_with("application/problem+json"),
            "content type {}",
            self.content_type
        );
        let v = self.json();
        for k in ["type", "title", "detail"] {
            assert!(v[k].as_str().is_some_and(|s| !s.is_empty()), "problem lacks {k}: {v}");
        }
        assert_eq!(v["status"], status);
        v
    }
}

/// Send a request; `token`, `body` and `content_type` optional.
pub fn call(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<(&str, &[u8])>,
    accept: Option<&str>,
) -> Resp {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
    let mut req = agent.request(method, url);
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    if let Some(a) = accept {
        req = req.set("Accept", a);
    }
    let res = match body {
        Some((ct, b)) => req.set("Content-Type", ct).send_bytes(b),
        None => req.call(),
    };
    let r = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = r.status();
    let content_type = r.header("content-type").unwrap_or_default().to_string();
    let mut body = Vec::new();
    std::io::Read::read_to_end(&mut r.into_reader(), &mut body).expect("body");
    Resp { status, content_type, body }
}

pub fn post_json(url: &str, token: Option<&str>, v: &Value) -> Resp {
    call("POST", url, token, Some(("application/json", &serde_json::to_vec(v).expect("json"))), None)
}

/// The issue request for the shipped business licence data.
pub fn business_licence() -> Value {
    let data: Value = serde_json::from_slice(
        &std::fs::read(repo().join("fixtures/data/business-licence.json")).expect("data"),
    )
    .expect("json");
    serde_json::json!({ "template": "business-licence", "data": data })
}

pub fn pdf_of(v: &Value) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(v["pdf_base64"].as_str().expect("pdf_base64"))
        .expect("base64")
}

/// Hex serial of a department's seal certificate.
/// An hour ago in RFC 3339: a key-compromise time before any seal a test made (see `revoke
/// --compromised-at`): the revocation then counts against seals time-stamped before it.
pub fn an_hour_ago() -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    t.format(&time::format_description::well_known::Rfc3339).expect("format a time")
}

pub fn seal_serial(home: &Home, dept: &str) -> String {
    let der = zhengyin::pki::keys::read_certs_der(&home.seal_cert(dept)).expect("cert").remove(0);
    let (_, c) = x509_parser::parse_x509_certificate(&der).expect("x509");
    c.raw_serial().iter().map(|b| format!("{b:02x}")).collect()
}

/// The named check of the first signature in a report.
pub fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["signatures"][0]["checks"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no {name} check in {report}"))
}

/// The real `zhengyin serve` binary on a free loopback port with `ZHENGYIN_LOG=debug`, its log
/// written to `log`; returns the child and its base URL (read from the first stdout line).
pub fn spawn_binary_with_log(home: &Home, log: &Path) -> (std::process::Child, String) {
    spawn_binary_args(home, log, &[])
}

/// [`spawn_binary_with_log`] with further `serve` arguments (`--public-url …`).
pub fn spawn_binary_args(home: &Home, log: &Path, extra: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_zhengyin"))
        .args(["serve", "--listen", "127.0.0.1:0", "--refresh-secs", "0", "--home"])
        .arg(&home.dir)
        .args(extra)
        .env("ZHENGYIN_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(log).expect("serve log"))
        .spawn()
        .expect("spawn zhengyin serve");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("first line");
    let url = line.split_whitespace().last().unwrap_or_default().to_string();
    (child, url)
}
