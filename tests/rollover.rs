//! Rollover: renewing a department's seal certificate (`zhengyin pki renew-seal`). Documents
//! sealed before keep verifying (their CMS carries the old certificate, which still chains to
//! the region root); new seals use the new key; the old key and certificate are retired, not lost.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::*;

/// After `pki renew-seal scjg`, a licence sealed before and one sealed after both verify (ours
/// and the outside validators), with different seal certificates; the old key is kept 0600 under
/// `pki/private/retired/`, and the audit stays clean.
#[test]
fn renewed_seal_keeps_old_documents_valid_and_new_seals_use_the_new_key() {
    let r = Region::init();
    let (before, _) = r.issue("business-licence", None, "before.pdf");
    let old_key = std::fs::read(r.home.join("pki/private/seal-scjg.key.pem")).unwrap();
    let run = r.zy(&["pki", "renew-seal", "--home", s(&r.home), "scjg"]);
    run.assert_code(0);
    assert!(run.stdout.contains("renewed the seal certificate of scjg"), "{}", run.both());
    let new_key = std::fs::read(r.home.join("pki/private/seal-scjg.key.pem")).unwrap();
    assert_ne!(old_key, new_key, "renew-seal must make a new key");
    let retired: Vec<_> =
        std::fs::read_dir(r.home.join("pki/private/retired")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(retired.len(), 1, "{retired:?}");
    assert_eq!(std::fs::read(&retired[0]).unwrap(), old_key, "the old key is kept as it was");
    assert_eq!(std::fs::metadata(&retired[0]).unwrap().permissions().mode() & 0o777, 0o600);

    let (after, _) = r.issue("business-licence", None, "after.pdf");
    let serial = |pdf: &std::path::Path| {
        let run = r.verify_json(pdf);
        assert_eq!(run.code, 0, "{}", run.both());
        run.json()["signatures"][0]["signer"]["serial"].as_str().unwrap().to_string()
    };
    assert_ne!(serial(&before), serial(&after), "new seals use the new certificate");
    assert_outside_validators(&r, &before, 1);
    assert_outside_validators(&r, &after, 1);
    let audit = r.zy(&["audit", "--home", s(&r.home)]);
    assert_eq!(audit.code, 0, "{}", audit.both());
    // An unknown department is a one-line error.
    r.zy(&["pki", "renew-seal", "--home", s(&r.home), "nope"]).assert_one_line_error(2);
}
