//! Headless Chromium for the page tests (verify page, 亮证 scans, dashboard): whether the tools are
//! here, where screenshots go, and tests/support/verify_page.py run with the licences' font.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use super::s;

/// Where a browser test saves its screenshots: target/test-artifacts/<topic>/.
pub fn artifacts(topic: &str) -> PathBuf {
    let d = super::repo().join("target/test-artifacts").join(topic);
    std::fs::create_dir_all(&d).expect("artifacts dir");
    d
}

/// Run tests/support/verify_page.py on `url` (scratch files in `dir`, screenshots
/// `<topic>/<name>-{desktop,phone}.png`); its JSON.
pub fn browse(dir: &Path, topic: &str, url: &str, name: &str, extra: &[&str]) -> serde_json::Value {
    // Chromium finds Chinese glyphs through fontconfig: add the font the licences embed.
    let conf = dir.join("fonts.conf");
    std::fs::write(
        &conf,
        format!(
            "<?xml version=\"1.0\"?><!DOCTYPE fontconfig SYSTEM \"fonts.dtd\"><fontconfig>\
             <include ignore_missing=\"yes\">/etc/fonts/fonts.conf</include><dir>{}</dir>\
             <cachedir>{}</cachedir></fontconfig>",
            super::repo().join("fixtures/fonts").display(),
            dir.join("fc-cache").display()
        ),
    )
    .expect("fonts.conf");
    let script = super::repo().join("tests/support/verify_page.py");
    let shots = artifacts(topic);
    let out = Command::new("python3")
        .arg(&script)
        .args([url, s(&shots), name])
        .args(extra)
        .env("FONTCONFIG_FILE", &conf)
        .env("HOME", dir)
        .output()
        .expect("python3");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "browser script failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// Whether pdftoppm, zbarimg, chromium, chromedriver and selenium are installed (in CI they
/// must be).
pub fn ready() -> bool {
    let tools = ["pdftoppm", "zbarimg", "chromium", "chromedriver"];
    let ok = tools.iter().all(|t| {
        Command::new("sh").args(["-c", &format!("command -v {t}")]).output().is_ok_and(|o| o.status.success())
    }) && Command::new("python3")
        .args(["-c", "import selenium"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !super::in_ci(),
            "CI=true but pdftoppm, zbarimg, chromium, chromedriver or selenium is missing"
        );
        eprintln!("note: browser tools missing; skipping the Chromium test");
    }
    ok && super::have_tool("pdftoppm")
}
