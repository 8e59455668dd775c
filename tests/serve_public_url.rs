//! Which base URL `zhengyin serve` announces (issue 14, the trust list other regions import): by
//! default region.toml's `public_url` — the one certificates' CRL distribution points and QR codes
//! name — and, when the URL served differs from it, a clear warning at start. Real `serve`
//! processes on loopback; their trust lists read over HTTP.

mod api_support;
mod cluster;

use api_support::{call, init_home};
use cluster::{cli_ok, h, serve_binary_args};
use serde_json::Value;
use zhengyin::config::Home;

const CONFIGURED: &str = "http://zw.taian.example.test";

/// A Tai'an home made with `init --public-url CONFIGURED`.
fn configured_home(dir: &std::path::Path) -> Home {
    let config = api_support::repo().join("fixtures/region/taian.toml");
    let home = Home { dir: dir.join("ta") };
    cli_ok(&[
        "init",
        "--home",
        h(&home),
        "--config",
        config.to_str().expect("utf-8"),
        "--public-url",
        CONFIGURED,
    ]);
    home
}

fn trust_list(url: &str) -> Value {
    let r = call("GET", &format!("{url}/v1/trust-list"), None, None, None);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

/// Without `--public-url`, serve announces region.toml's public_url (behind a proxy, the listen
/// address is not where others reach it) and does not warn.
#[test]
fn serve_announces_region_public_url_by_default() {
    let tmp = tempfile::tempdir().expect("tmp");
    let home = configured_home(tmp.path());
    let log = tmp.path().join("serve.log");
    let served = serve_binary_args(&home, &log, &[]);
    let l = trust_list(&served.url);
    assert_eq!(l["url"], format!("{CONFIGURED}/v1/trust-list"), "{l:#}");
    assert_eq!(l["crl_urls"]["city"], format!("{CONFIGURED}/v1/crl/city"), "{l:#}");
    drop(served);
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(!text.contains("differs from region.toml"), "{text}");
    assert!(!text.contains("zhengyin: warning: serving with public URL"), "{text}");
}

/// An explicit `--public-url` that differs from region.toml's is used, and serve warns at start,
/// naming both URLs and what each is used for.
#[test]
fn serve_warns_when_its_public_url_differs_from_region_toml() {
    let tmp = tempfile::tempdir().expect("tmp");
    let home = configured_home(tmp.path());
    let log = tmp.path().join("serve.log");
    let other = "http://other.example.test";
    let served = serve_binary_args(&home, &log, &["--public-url", other]);
    let l = trust_list(&served.url);
    assert_eq!(l["crl_urls"]["city"], format!("{other}/v1/crl/city"), "{l:#}");
    drop(served);
    let text = std::fs::read_to_string(&log).expect("log");
    let warning = text
        .lines()
        .find(|l| l.starts_with("zhengyin: warning: serving with public URL"))
        .unwrap_or_else(|| panic!("no warning at start: {text}"));
    assert!(warning.contains(other) && warning.contains(CONFIGURED), "{warning}");
    assert!(warning.contains("CRL distribution points and QR codes"), "{warning}");
}

/// A home made without a public URL (init's placeholder http://127.0.0.1:8080) announces the
/// address it listens on, as before, and warns that certificates name the placeholder.
#[test]
fn placeholder_public_url_falls_back_to_the_listen_address() {
    let tmp = tempfile::tempdir().expect("tmp");
    let home = init_home(&tmp.path().join("ta"), "taian");
    let log = tmp.path().join("serve.log");
    let served = serve_binary_args(&home, &log, &[]);
    let l = trust_list(&served.url);
    assert_eq!(l["crl_urls"]["city"], format!("{}/v1/crl/city", served.url), "{l:#}");
    drop(served);
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(text.contains("region.toml's public_url is http://127.0.0.1:8080"), "{text}");
}
