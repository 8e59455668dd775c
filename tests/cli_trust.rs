//! Trust: a seal from another home (a throwaway CA with its own keys) is not trusted by this
//! home's root, and is trusted once that home's exported root is given with --trust.

mod common;

use std::path::PathBuf;

use common::*;

/// Home A, and a licence issued by a separately initialised home B (same region config, new keys).
fn two_homes() -> (Region, Region, PathBuf) {
    let a = Region::init();
    let b = Region::init();
    let (pdf, _) = b.issue("business-licence", None, "from-b.pdf");
    (a, b, pdf)
}

/// A seal from another home's CA verified against this home: exit 1, INDETERMINATE, CHAIN failed.
#[test]
fn throwaway_ca_is_not_trusted() {
    let (a, _b, pdf) = two_homes();
    let v = a.verify_json(&pdf);
    v.assert_code(1);
    let j = v.json();
    assert_eq!(j["indication"], "INDETERMINATE", "{}", v.both());
    let sig = first_sig(&j);
    assert_eq!(sig["indication"], "INDETERMINATE", "{}", v.both());
    assert_eq!(check_status(sig, "CHAIN"), "FAILED", "{}", v.both());
    // The document itself is intact: only trust is missing.
    assert_eq!(check_status(sig, "INTEGRITY"), "PASSED", "{}", v.both());
    assert_eq!(check_status(sig, "SIGNATURE"), "PASSED", "{}", v.both());
    assert!(
        sig["chain"].as_array().is_none_or(Vec::is_empty),
        "no trusted chain should be reported\n{}",
        v.both()
    );
}

/// The sub-indication for a seal whose chain does not reach any trusted root is NO_CERTIFICATE_CHAIN_FOUND.
#[test]
fn throwaway_ca_sub_indication_is_no_chain_found() {
    let (a, _b, pdf) = two_homes();
    let v = a.verify_json(&pdf);
    v.assert_code(1);
    let j = v.json();
    assert_eq!(j["sub_indication"], "NO_CERTIFICATE_CHAIN_FOUND", "{}", v.both());
    assert_eq!(first_sig(&j)["sub_indication"], "NO_CERTIFICATE_CHAIN_FOUND", "{}", v.both());
}

/// A region whose CAs have other names: its seals are NO_CERTIFICATE_CHAIN_FOUND for this home.
#[test]
fn differently_named_region_is_no_chain_found() {
    let a = Region::init();
    let cfg_dir = tempfile::tempdir().unwrap();
    let cfg = cfg_dir.path().join("other.toml");
    let text = std::fs::read_to_string(repo().join("fixtures/region/taian.toml")).unwrap();
    let other = text
        .replace("电子印章根CA（测试）", "电子印章根CA（另一测试）")
        .replace("市级电子印章CA（测试）", "市级电子印章CA（另一测试）")
        .replace("岱岳区电子印章CA（测试）", "岱岳区电子印章CA（另一测试）");
    assert_ne!(text, other, "the region fixture changed: update this test's CA renames");
    std::fs::write(&cfg, other).unwrap();
    let b = Region::init_with_config(&cfg);
    let (pdf, _) = b.issue("business-licence", None, "from-other.pdf");
    b.verify_json(&pdf).assert_code(0);
    let v = a.verify_json(&pdf);
    v.assert_code(1);
    let j = v.json();
    assert_eq!(j["indication"], "INDETERMINATE", "{}", v.both());
    assert_eq!(j["sub_indication"], "NO_CERTIFICATE_CHAIN_FOUND", "{}", v.both());
}

/// Verifying with --trust set to the issuing home's exported root (and no home) gives TOTAL-PASSED
/// with a passed CHAIN, exit 0 with --allow-incomplete; this home's own root does not.
#[test]
fn exported_root_as_trust_anchor_passes() {
    let (a, b, pdf) = two_homes();
    let root_b = b.export_root("root-b.pem");
    // Run from A's directory: nothing of B but its exported root is used.
    let v = a.zy(&["verify", s(&pdf), "--trust", s(&root_b), "--allow-incomplete", "--json"]);
    v.assert_code(0);
    let j = v.json();
    assert_eq!(j["indication"], "TOTAL-PASSED", "{}", v.both());
    assert_eq!(check_status(first_sig(&j), "CHAIN"), "PASSED", "{}", v.both());
    // And A's own root given the same way does not.
    let root_a = a.export_root("root-a.pem");
    let w = a.zy(&["verify", s(&pdf), "--trust", s(&root_a), "--allow-incomplete", "--json"]);
    w.assert_code(1);
    assert_ne!(w.json()["indication"], "TOTAL-PASSED", "{}", w.both());
}

/// Plain `verify --trust ROOT.pem` (no home) exits 0 for a valid single-seal licence.
#[test]
fn exported_root_as_trust_anchor_exits_0() {
    let (a, b, pdf) = two_homes();
    let root_b = b.export_root("root-b.pem");
    let v = a.zy(&["verify", s(&pdf), "--trust", s(&root_b), "--json"]);
    v.assert_code(0);
    assert_eq!(v.json()["indication"], "TOTAL-PASSED", "{}", v.both());
}

/// With no --home and no --trust, verify uses $ZHENGYIN_HOME; an unknown home is exit 2.
#[test]
fn verify_without_trust_uses_default_home() {
    let (a, _b, _) = two_homes();
    let (pdf, _) = a.issue("business-licence", None, "own.pdf");
    // Default home is ./zhengyin-home relative to the working directory: not initialised here.
    let v = a.zy(&["verify", s(&pdf)]);
    v.assert_one_line_error(2);
    let out = std::process::Command::new(BIN)
        .args(["verify", s(&pdf)])
        .env("ZHENGYIN_HOME", &a.home)
        .current_dir(a.dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "ZHENGYIN_HOME should be trusted by default: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Trusting two regions (two --home, or --home plus --trust) verifies a seal from either,
/// whatever the order they are given in.
#[test]
fn two_trusted_regions_any_order() {
    let (a, b, pdf) = two_homes();
    let root_b = b.export_root("root-b.pem");
    for args in [
        vec!["verify", s(&pdf), "--home", s(&a.home), "--home", s(&b.home), "--json"],
        vec!["verify", s(&pdf), "--home", s(&b.home), "--home", s(&a.home), "--json"],
        vec!["verify", s(&pdf), "--home", s(&a.home), "--trust", s(&root_b), "--json"],
    ] {
        let v = a.zy(&args);
        v.assert_code(0);
        assert_eq!(v.json()["indication"], "TOTAL-PASSED", "{}", v.both());
    }
}
