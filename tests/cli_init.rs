//! `zhengyin init`: key files, permissions, refusal to overwrite, --force.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777
}

fn assert_key_modes(r: &Region) {
    let private = r.home.join("pki/private");
    assert_eq!(mode(&private), 0o700, "pki/private must be 0700");
    let files = r.private_files();
    for k in KEY_FILES {
        assert!(
            files.contains_key(k),
            "missing private key {k}; have {:?}",
            files.keys().collect::<Vec<_>>()
        );
    }
    for (name, bytes) in &files {
        assert_eq!(mode(&private.join(name)), 0o600, "{name} must be 0600");
        if name == "log.state" {
            continue; // the log key's signed-size mark (docs/archive.md), not a key
        }
        let text = String::from_utf8_lossy(bytes);
        assert!(text.contains("-----BEGIN PRIVATE KEY-----"), "{name} is not a PKCS#8 PEM key");
    }
}

/// init creates every CA and seal key as a 0600 PKCS#8 PEM in a 0700 pki/private, plus the certificates.
#[test]
fn init_creates_private_keys_with_strict_modes() {
    let r = Region::init();
    assert_key_modes(&r);
    for cert in [
        "pki/root.crt.pem",
        "pki/city.crt.pem",
        "pki/daiyue.crt.pem",
        "seals/scjg.crt.pem",
        "seals/dy-xzsp.crt.pem",
        "region.toml",
    ] {
        assert!(r.home.join(cert).is_file(), "init did not write {cert}");
    }
}

/// Key modes are set explicitly, not inherited from a permissive umask.
#[test]
fn init_key_modes_do_not_depend_on_umask() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let script = format!("umask 000; exec '{BIN}' init --home '{}'", s(&home));
    run_in(dir.path(), "sh", &["-c", &script]).assert_code(0);
    let r = Region { dir, home };
    assert_key_modes(&r);
}

/// A second init without --force exits 2 with one error line and leaves every key byte-identical.
#[test]
fn second_init_refuses_and_keeps_keys() {
    let r = Region::init();
    let before = r.private_files();
    let root_before = std::fs::read(r.home.join("pki/root.crt.pem")).unwrap();
    let again = r.zy(&["init", "--home", s(&r.home)]);
    again.assert_one_line_error(2);
    assert!(again.stderr.contains("--force"), "the refusal should mention --force\n{}", again.both());
    assert_eq!(r.private_files(), before, "keys changed although init refused");
    assert_eq!(
        std::fs::read(r.home.join("pki/root.crt.pem")).unwrap(),
        root_before,
        "root certificate changed although init refused"
    );
    assert_key_modes(&r);
}

/// init --force replaces every key (still 0600/0700), and licences sealed by the old keys no longer verify.
#[test]
fn init_force_replaces_keys() {
    let r = Region::init();
    let (old_pdf, _) = r.issue("business-licence", None, "old.pdf");
    let before = r.private_files();
    r.zy(&["init", "--home", s(&r.home), "--force"]).assert_code(0);
    let after = r.private_files();
    assert_key_modes(&r);
    for k in KEY_FILES {
        assert_ne!(before.get(k), after.get(k), "--force did not replace {k}");
    }
    // The old seal chains to the old root, which the home no longer trusts.
    let v = r.verify_json(&old_pdf);
    v.assert_code(1);
    assert_ne!(v.json()["indication"], "TOTAL-PASSED", "{}", v.both());
    // And the new keys work.
    let (new_pdf, _) = r.issue("business-licence", None, "new.pdf");
    r.verify_json(&new_pdf).assert_code(0);
}

/// init with an unreadable or invalid --config exits 2 with one line and creates no keys.
#[test]
fn init_rejects_bad_config() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "this is = = not toml [").unwrap();
    for cfg in [bad, dir.path().join("missing.toml")] {
        let home = dir.path().join("home");
        zy(dir.path(), &["init", "--home", s(&home), "--config", s(&cfg)]).assert_one_line_error(2);
        assert!(!home.join("pki/private").exists(), "a failed init left keys behind");
    }
}
