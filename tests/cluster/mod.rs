//! Helpers for tests that run several regions at once: real `zhengyin serve` processes on
//! loopback (killed on drop) and the `zhengyin` CLI on homes made by `api_support::init_home`.
//! Used by tests/province.rs, tests/cross_region_proofs.rs and the cross-region attack in
//! tests/attacks.rs; needs `mod api_support;` beside it.
#![allow(dead_code)]

use std::path::Path;

use serde_json::Value;
use zhengyin::config::Home;

use crate::api_support::{repo, spawn_binary_args};
/// A `zhengyin serve` child process (see `api_support::spawn_binary_with_log`), killed on drop.
pub struct Served {
    child: std::process::Child,
    pub url: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The real `zhengyin serve` for `home` on a free loopback port, its log in `log`.
pub fn serve_binary(home: &Home, log: &Path) -> Served {
    serve_binary_args(home, log, &[])
}

/// [`serve_binary`] with further `serve` arguments.
pub fn serve_binary_args(home: &Home, log: &Path, extra: &[&str]) -> Served {
    let (child, url) = spawn_binary_args(home, log, extra);
    assert!(url.starts_with("http://127.0.0.1:"), "serve printed {url}");
    Served { child, url }
}

/// Run the `zhengyin` binary with `args` (no ZHENGYIN_HOME from the environment).
pub fn cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_zhengyin"))
        .args(args)
        .env_remove("ZHENGYIN_HOME")
        .output()
        .expect("run zhengyin")
}

/// stdout and stderr of a run, for assertion messages.
pub fn both(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// [`cli`], asserting exit 0; its stdout.
pub fn cli_ok(args: &[&str]) -> String {
    let o = cli(args);
    assert!(o.status.success(), "{args:?}\n{}", both(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The home directory as a CLI argument.
pub fn h(home: &Home) -> &str {
    home.dir.to_str().expect("utf-8 path")
}

/// SHA-256 of the home's current region root: what other regions pin.
pub fn root_pin(home: &Home) -> String {
    let root = zhengyin::pki::keys::read_certs_der(&home.ca_cert("root")).expect("root").remove(0);
    zhengyin::trust::list::fingerprint(&root)
}

/// `zhengyin issue` of `template`'s sample data in `home` (optionally `--seal DEPT`) to `out`.
pub fn issue_cli(home: &Home, template: &str, seal: Option<&str>, out: &Path) {
    let data = repo().join("fixtures/data").join(format!("{template}.json"));
    let mut args = vec![
        "issue",
        "--home",
        h(home),
        "--template",
        template,
        "--data",
        data.to_str().expect("utf-8"),
        "-o",
        out.to_str().expect("utf-8"),
    ];
    if let Some(d) = seal {
        args.extend(["--seal", d]);
    }
    cli_ok(&args);
}

/// `zhengyin verify --home HOME --json PDF`: exit code and report.
pub fn verify_cli(home: &Home, pdf: &Path) -> (i32, Value) {
    let o = cli(&["verify", "--home", h(home), "--json", pdf.to_str().expect("utf-8")]);
    (o.status.code().unwrap_or(-1), serde_json::from_slice(&o.stdout).unwrap_or(Value::Null))
}
