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

/// The CRL name the new key publishes under, from `pki roll-ca`'s output.
fn new_crl_name(run: &Run) -> String {
    run.stdout
        .lines()
        .find_map(|l| {
            l.trim().strip_prefix("new key's CRL")?.trim().strip_prefix("/crl/")?.strip_suffix(".crl")
        })
        .map(String::from)
        .unwrap_or_else(|| panic!("no new CRL name\n{}", run.both()))
}

/// `openssl verify` of `cert` against `ca` alone (partial chain): did `ca`'s key issue it?
fn issued_by(r: &Region, cert: &std::path::Path, ca: &std::path::Path) -> bool {
    run_in(r.dir.path(), "openssl", &["verify", "-partial_chain", "-CAfile", s(ca), s(cert)]).code == 0
}

/// After `pki roll-ca city`: a licence, a proof and half a joint licence made before keep
/// verifying (ours, and pyHanko's AdES validation with revocation checking on, pdfsig, qpdf); the
/// joint licence's next seal and every new seal chain through the new CA key (also through
/// daiyue, re-certified under it); the retired key is kept 0600 and keeps signing the CRL the
/// old certificates name, so a seal certificate revoked after the roll is still seen as revoked.
#[test]
fn ca_key_rollover_keeps_old_documents_valid_and_new_seals_use_the_new_ca_key() {
    let r = Region::init();
    let (before, _) = r.issue("business-licence", None, "before.pdf");
    let (half, _) = r.issue("joint-approval", None, "half.pdf");
    let (_, jws) = r.request_proof("proof.pdf", &[]);
    let old_key = std::fs::read(r.home.join("pki/private/city.key.pem")).unwrap();

    let run = r.zy(&["pki", "roll-ca", "--home", s(&r.home), "city"]);
    run.assert_code(0);
    assert!(run.stdout.contains("rolled CA city over to a new key"), "{}", run.both());
    assert!(run.stdout.contains("re-certified CA daiyue"), "{}", run.both());
    let new_crl = new_crl_name(&run);
    assert_ne!(std::fs::read(r.home.join("pki/private/city.key.pem")).unwrap(), old_key);
    let retired_key = r.home.join("pki/private/retired/ca-city.key.pem");
    assert_eq!(std::fs::read(&retired_key).unwrap(), old_key, "the old CA key is kept as it was");
    assert_eq!(std::fs::metadata(&retired_key).unwrap().permissions().mode() & 0o777, 0o600);
    let (old_ca, new_ca) = (r.home.join("pki/retired/city/city.crt.pem"), r.home.join("pki/city.crt.pem"));
    // New seal certificates come from the new key; the old key's CRL keeps its name.
    let scjg = r.home.join("seals/scjg.crt.pem");
    assert!(issued_by(&r, &scjg, &new_ca) && !issued_by(&r, &scjg, &old_ca));
    let (old_crl, newer_crl) = (r.home.join("crl/city.crl"), r.home.join(format!("crl/{new_crl}.crl")));
    for (crl, ca) in [(&old_crl, &old_ca), (&newer_crl, &new_ca)] {
        let v = run_in(
            r.dir.path(),
            "openssl",
            &["crl", "-inform", "DER", "-in", s(crl), "-noout", "-CAfile", s(ca)],
        );
        assert!(v.both().contains("verify OK"), "{} by {}\n{}", crl.display(), ca.display(), v.both());
    }

    let half2 = r.path("half2.pdf");
    let joint = r.path("joint.pdf");
    r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "scjg", s(&half), "-o", s(&half2)]).assert_code(0);
    r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "xzsp", s(&half2), "-o", s(&joint)]).assert_code(0);
    let (after, _) = r.issue("business-licence", None, "after.pdf");
    let (joint_after, _) = r.issue("joint-approval", None, "joint-after.pdf");
    let scjg_serial = |pdf: &std::path::Path, i: usize| {
        let v = r.verify_json(pdf);
        assert_eq!(v.code, 0, "{}\n{}", pdf.display(), v.both());
        v.json()["signatures"][i]["signer"]["serial"].as_str().unwrap().replace(':', "")
    };
    let new_scjg = scjg_serial(&after, 0);
    assert_ne!(scjg_serial(&before, 0), new_scjg, "new seals use the new seal certificate");
    assert_eq!(scjg_serial(&joint, 1), new_scjg, "the joint licence's next seal is a new-key seal");
    for (pdf, sigs) in [(&before, 1), (&joint, 3), (&after, 1), (&joint_after, 1)] {
        assert_ades_passes(&r, pdf, sigs);
    }
    // dy-xzsp's chain runs through daiyue's new certificate (the seal plan is still open: exit 1).
    let v = r.verify_json(&joint_after);
    assert_eq!(first_sig(&v.json())["indication"], "TOTAL-PASSED", "{}", v.both());
    r.zy(&["proof", "verify", "--home", s(&r.home), s(&jws)]).assert_code(0);

    // Revoking a certificate the retired key issued reaches the retired key's CRL: the licence it
    // sealed (time-stamped before) passes, with the revocation in its report.
    let old_serial = scjg_serial(&before, 0);
    r.zy(&["revoke", "--home", s(&r.home), &old_serial]).assert_code(0);
    let v = r.verify_json(&before);
    assert_eq!(v.code, 0, "{}", v.both());
    assert_eq!(first_sig(&v.json())["revocation"]["status"], "REVOKED", "{}", v.both());
    let audit = r.zy(&["audit", "--home", s(&r.home)]);
    assert_eq!(audit.code, 0, "{}", audit.both());
    // The root rolls with `trust rotate-root`; an unknown CA is a one-line error.
    r.zy(&["pki", "roll-ca", "--home", s(&r.home), "root"]).assert_one_line_error(2);
    r.zy(&["pki", "roll-ca", "--home", s(&r.home), "nope"]).assert_one_line_error(2);
}
