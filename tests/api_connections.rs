//! Slow and many connections (slowloris) against the real server on 127.0.0.1: the header-read
//! timeout closes clients that never finish a request head, the per-IP cap refuses one address's
//! extra connections while other addresses (127.0.0.2 is loopback too) are served, and the global
//! cap keeps the process's open files bounded however many clients connect.

mod api_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use api_support::*;
use zhengyin::api::ServeConfig;

fn addr_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://").parse().expect("server address")
}

/// Connect to `to` from the loopback address `from` (127.0.0.x).
fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let s = rt.block_on(async {
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.bind(format!("{from}:0").parse().unwrap()).unwrap();
        sock.connect(to).await.unwrap()
    });
    let s = s.into_std().unwrap();
    s.set_nonblocking(false).unwrap();
    s
}

/// GET `path` over a fresh connection; the raw response, or None if the connection was closed or reset without one.
fn raw_get(mut c: TcpStream, path: &str) -> Option<String> {
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    if c.write_all(format!("GET {path} HTTP/1.1\r\nHost: zy\r\nConnection: close\r\n\r\n").as_bytes())
        .is_err()
    {
        return None;
    }
    let mut out = Vec::new();
    match c.read_to_end(&mut out) {
        Ok(_) if !out.is_empty() => Some(String::from_utf8_lossy(&out).into_owned()),
        _ if !out.is_empty() => Some(String::from_utf8_lossy(&out).into_owned()),
        _ => None,
    }
}

fn healthz_ok(from: &str, to: SocketAddr) -> bool {
    raw_get(connect_from(from, to), "/healthz").is_some_and(|r| r.starts_with("HTTP/1.1 200"))
}

/// Retry `f` for up to 20 s (the server frees a connection's slot when it sees it close).
fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("never happened: {what}");
}

/// A connection that has started a request head and is still open (slowloris).
fn slow_client(to: SocketAddr) -> TcpStream {
    let mut c = TcpStream::connect(to).unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: zy\r\n").unwrap();
    c
}

/// Has the server closed `c`? Trickles one more header line, then waits briefly for EOF.
fn closed_by_server(c: &mut TcpStream, i: usize) -> bool {
    if c.write_all(format!("X-Slow-{i}: a\r\n").as_bytes()).is_err() {
        return true;
    }
    c.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut buf = [0u8; 512];
    match c.read(&mut buf) {
        Ok(0) => true,
        Ok(n) => {
            let head = String::from_utf8_lossy(&buf[..n]);
            assert!(!head.starts_with("HTTP/1.1 200"), "an incomplete request was answered: {head}");
            true
        }
        Err(e) => !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
    }
}

/// A client trickling header lines (and one sending nothing) is disconnected after the header timeout.
#[test]
fn slow_request_heads_are_cut_off_after_the_header_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    let home = init_home(&tmp.path().join("h"), "taian");
    let s =
        start(&home, ServeConfig { header_timeout_secs: 1, rate_per_sec: 0.0, ..Default::default() }, None);
    let to = addr_of(&s.url);
    let mut trickle = slow_client(to);
    let mut silent = TcpStream::connect(to).unwrap();
    // 100 lines, one every ~200 ms: 20 s of headers, far past the 1 s timeout.
    let cut = (0..100).any(|i| closed_by_server(&mut trickle, i));
    assert!(cut, "the slow client was never disconnected");
    silent.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut buf = [0u8; 64];
    assert!(matches!(silent.read(&mut buf), Ok(0) | Err(_)), "a silent connection was kept open");
    assert!(healthz_ok("127.0.0.1", to));
}

/// Past the per-IP cap an address's next connection is refused (503 or closed), other addresses are served, and it is served again once its slow connections go.
#[test]
fn per_ip_connection_cap_refuses_one_address_but_not_others() {
    let tmp = tempfile::tempdir().unwrap();
    let home = init_home(&tmp.path().join("h"), "taian");
    let cfg = ServeConfig {
        header_timeout_secs: 30,
        max_connections_per_ip: 3,
        rate_per_sec: 0.0,
        ..Default::default()
    };
    let s = start(&home, cfg, None);
    let to = addr_of(&s.url);
    let slow: Vec<TcpStream> = (0..3).map(|_| slow_client(to)).collect();
    // Wait until the server holds all three (a fourth may race their accept otherwise).
    eventually("the server refuses a fourth connection from 127.0.0.1", || {
        match raw_get(connect_from("127.0.0.1", to), "/healthz") {
            None => true,
            Some(r) if r.starts_with("HTTP/1.1 503") => {
                assert!(r.contains("application/problem+json") && r.contains("too-many-connections"), "{r}");
                true
            }
            Some(r) => {
                assert!(r.starts_with("HTTP/1.1 200"), "{r}");
                false
            }
        }
    });
    // Another address is not affected.
    assert!(healthz_ok("127.0.0.2", to), "127.0.0.2 was refused because of 127.0.0.1's connections");
    drop(slow);
    eventually("127.0.0.1 is served again after its slow connections closed", || healthz_ok("127.0.0.1", to));
}

/// The `zhengyin serve` process started on a fresh home; stopped (by its pid) on drop.
struct Serve {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_bin(home: &std::path::Path, extra: &[&str]) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zhengyin"))
        .args(["serve", "--home"])
        .arg(home)
        .args(["--listen", "127.0.0.1:0", "--refresh-secs", "0", "--rate-limit", "0"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = Vec::new();
    let mut out = child.stdout.take().unwrap();
    let mut b = [0u8; 1];
    while out.read(&mut b).unwrap_or(0) == 1 && b[0] != b'\n' {
        line.push(b[0]);
    }
    let line = String::from_utf8_lossy(&line).into_owned();
    let addr = line
        .rsplit("http://")
        .next()
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    Serve { child, addr }
}

fn open_files(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map(|d| d.count()).unwrap_or(0)
}

/// Under 300 slow connections with `--max-connections 100` the server holds at most about 100 sockets and answers again once they go.
#[test]
fn open_files_stay_bounded_under_many_slow_connections() {
    let tmp = tempfile::tempdir().unwrap();
    let home = init_home(&tmp.path().join("h"), "taian");
    let srv = serve_bin(
        &home.dir,
        &["--max-connections", "100", "--max-connections-per-ip", "1000", "--header-timeout-secs", "60"],
    );
    let pid = srv.child.id();
    assert!(healthz_ok("127.0.0.1", srv.addr));
    let baseline = open_files(pid);

    let slow: Vec<TcpStream> = (0..300).map(|_| slow_client(srv.addr)).collect();
    // Sample the server's open files while the 300 are connected.
    let mut most = 0;
    eventually("the server accepts up to its cap", || {
        most = most.max(open_files(pid));
        most >= baseline + 95
    });
    for _ in 0..20 {
        most = most.max(open_files(pid));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        most <= baseline + 100 + 8,
        "{most} open files with 300 slow clients (baseline {baseline}, cap 100)"
    );

    drop(slow);
    eventually("/healthz answers after the slow clients left", || healthz_ok("127.0.0.1", srv.addr));
    eventually("the server's open files fall back to the baseline", || open_files(pid) <= baseline + 8);
}
