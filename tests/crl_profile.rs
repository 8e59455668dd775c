//! The CRL profile (RFC 5280 §5.2, §5.3, §6.3.3), end to end: a CRL signed with the CA's real key
//! but breaking a rule of the profile never makes REVOCATION pass; a genuine one still does; CRL
//! numbers increase; a stale CRL that lists the signer names the signer, not "a CA certificate".

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::Value;

/// A home with a business licence sealed by scjg (CA `city`), and the licence's path.
fn sealed() -> (Region, PathBuf) {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "licence.pdf");
    (r, pdf)
}

/// Replace the city CA's CRL in the home with one made by tests/support/bad_crl.py.
/// None when python's `cryptography` is missing (outside CI).
fn install_crl(r: &Region, kind: &str, serial: Option<&str>) -> Option<()> {
    let have = run_in(r.dir.path(), "python3", &["-c", "import cryptography"]).code == 0;
    if !have {
        assert!(!in_ci(), "python3 with `cryptography` is required in CI");
        eprintln!("note: python3 `cryptography` missing; skipping");
        return None;
    }
    let script = repo().join("tests/support/bad_crl.py");
    let out = r.home.join("crl/city.crl");
    let mut args = vec![s(&script), s(&r.home), "city", kind, s(&out)];
    args.extend(serial);
    let run = run_in(r.dir.path(), "python3", &args);
    assert_eq!(run.code, 0, "bad_crl.py\n{}", run.both());
    Some(())
}

fn check<'a>(sig: &'a Value, name: &str) -> &'a Value {
    sig["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check {name}:\n{sig:#}"))
}

/// Verify and assert REVOCATION did not pass, the signature is INDETERMINATE and the detail
/// names `why`.
fn assert_refused(kind: &str, why: &str) {
    let (r, pdf) = sealed();
    let Some(()) = install_crl(&r, kind, None) else { return };
    let run = r.verify_json(&pdf);
    let rep = run.json();
    let sig = first_sig(&rep);
    let rev = check(sig, "REVOCATION");
    assert_ne!(rev["status"], "PASSED", "a {kind} CRL must not clear the seal:\n{sig:#}");
    assert_eq!(rev["status"], "INDETERMINATE", "{sig:#}");
    assert!(rev["detail"].as_str().unwrap_or("").contains(why), "REVOCATION should say `{why}`:\n{rev:#}");
    assert_eq!(sig["indication"], "INDETERMINATE", "{sig:#}");
    assert_eq!(sig["revocation"]["status"], "REFUSED", "{sig:#}");
    run.assert_code(1);
}

/// Control: a CRL made the same way, breaking no rule, still gives REVOCATION PASSED.
#[test]
fn genuine_python_crl_passes() {
    let (r, pdf) = sealed();
    let Some(()) = install_crl(&r, "genuine", None) else { return };
    let run = r.verify_json(&pdf);
    let rep = run.json();
    assert_eq!(check(first_sig(&rep), "REVOCATION")["status"], "PASSED", "{rep:#}");
    run.assert_code(0);
}

/// A CRL whose thisUpdate is in the future is not used (RFC 5280 §5.1.2.4).
#[test]
fn future_this_update_is_refused() {
    assert_refused("future", "in the future");
}

/// A delta CRL is not a complete CRL (§5.2.4).
#[test]
fn delta_crl_is_refused() {
    assert_refused("delta", "delta CRL");
}

/// A CRL with an unknown critical CRL extension is refused (§5.2).
#[test]
fn unknown_critical_crl_extension_is_refused() {
    assert_refused("critical", "unknown critical extension 1.3.6.1.4.1.55555.8");
}

/// A CRL with an unknown critical entry extension is refused (§5.3).
#[test]
fn unknown_critical_entry_extension_is_refused() {
    assert_refused("critical-entry", "unknown critical extension 1.3.6.1.4.1.55555.7");
}

/// A CRL scoped to CA certificates (onlyContainsCACerts) does not decide a seal certificate.
#[test]
fn ca_only_crl_is_refused_for_a_seal() {
    assert_refused("ca-only", "onlyContainsCACerts");
}

/// A CRL listing a revocation dated after its own thisUpdate is refused.
#[test]
fn revocation_after_this_update_is_refused() {
    assert_refused("revoked-after", "after its own thisUpdate");
}

/// A stale CRL that lists the signer reports the seal certificate as revoked, naming it, not
/// "a CA certificate of the chain".
#[test]
fn stale_crl_listing_the_signer_names_the_signer() {
    let (r, pdf) = sealed();
    let rep = r.verify_json(&pdf).json();
    let serial: String =
        first_sig(&rep)["signer"]["serial"].as_str().expect("serial").chars().filter(|c| *c != ':').collect();
    let Some(()) = install_crl(&r, "stale", Some(&serial)) else { return };
    let run = r.verify_json(&pdf);
    let rep = run.json();
    let sig = first_sig(&rep);
    let text = sig.to_string();
    assert!(!text.contains("a CA certificate"), "the signer is revoked, not a CA:\n{sig:#}");
    assert_eq!(check(sig, "REVOCATION")["status"], "FAILED", "{sig:#}");
    assert_eq!(sig["revocation"]["status"], "REVOKED", "{sig:#}");
    assert!(check(sig, "CHAIN")["detail"].as_str().unwrap_or("").contains("the seal certificate"), "{sig:#}");
    run.assert_code(1);
}

/// The cRLNumber of the CA's CRL increases with every revoke (RFC 5280 §5.2.3), and the
/// re-signed CRL is still usable (its thisUpdate is not before the revocation it lists).
#[test]
fn crl_numbers_increase_and_revocations_still_verify() {
    // A B-B seal (home without TSA): with a timestamp, a revocation after it would pass
    // (validation in the past, tests/lta.rs); without one it is judged now.
    let r = Region::init();
    r.drop_tsa();
    let (pdf, _) = r.issue("business-licence", None, "licence.pdf");
    let number = || -> Vec<u8> {
        let der = std::fs::read(r.home.join("crl/city.crl")).expect("read CRL");
        crl_number(&der).expect("the CRL has a cRLNumber")
    };
    let first = number();
    let rep = r.verify_json(&pdf).json();
    let serial = first_sig(&rep)["signer"]["serial"].as_str().expect("serial").to_string();
    let other = r.home.join("seals/xzsp.crt.pem");
    let xzsp = other_serial(&r, &other);
    r.zy(&["revoke", "--home", s(&r.home), &xzsp]).assert_code(0);
    let second = number();
    let since = an_hour_ago();
    // A compromise time in the future, or without keyCompromise, is a usage error; nothing revoked.
    r.zy(&[
        "revoke",
        "--home",
        s(&r.home),
        "--reason",
        "keyCompromise",
        "--compromised-at",
        "2999-01-01",
        &serial,
    ])
    .assert_one_line_error(2);
    r.zy(&["revoke", "--home", s(&r.home), "--reason", "superseded", "--compromised-at", &since, &serial])
        .assert_one_line_error(2);
    assert_eq!(number(), second, "a refused revoke re-signs nothing");
    r.zy(&["revoke", "--home", s(&r.home), "--reason", "keyCompromise", "--compromised-at", &since, &serial])
        .assert_code(0);
    let third = number();
    assert!(
        greater(&second, &first) && greater(&third, &second),
        "CRL numbers must increase: {first:02x?} {second:02x?} {third:02x?}"
    );
    let run = r.verify_json(&pdf);
    let rep = run.json();
    let sig = first_sig(&rep);
    assert_eq!(sig["revocation"]["status"], "REVOKED", "{sig:#}");
    assert_eq!(check(sig, "REVOCATION")["status"], "FAILED", "{sig:#}");
}

/// The serial (hex) of the certificate in a PEM file (openssl).
fn other_serial(r: &Region, pem: &std::path::Path) -> String {
    let run = run_in(r.dir.path(), "openssl", &["x509", "-in", s(pem), "-noout", "-serial"]);
    assert_eq!(run.code, 0, "{}", run.both());
    run.stdout.trim().trim_start_matches("serial=").to_string()
}

/// a > b for big-endian unsigned numbers.
fn greater(a: &[u8], b: &[u8]) -> bool {
    let strip = |x: &[u8]| x.iter().skip_while(|v| **v == 0).copied().collect::<Vec<u8>>();
    let (a, b) = (strip(a), strip(b));
    (a.len(), a) > (b.len(), b)
}

/// The cRLNumber extension's value (big-endian bytes), found by its DER encoding:
/// OID 2.5.29.20, then an OCTET STRING wrapping an INTEGER.
fn crl_number(der: &[u8]) -> Option<Vec<u8>> {
    let oid = [0x06, 0x03, 0x55, 0x1d, 0x14];
    let at = find(der, &oid, 0)? + oid.len();
    let rest = der.get(at..)?;
    // Optional critical BOOLEAN, then OCTET STRING (04 len) containing INTEGER (02 len value).
    let rest = if rest.first() == Some(&0x01) { rest.get(3..)? } else { rest };
    if rest.first() != Some(&0x04) || rest.get(2) != Some(&0x02) {
        return None;
    }
    let len = usize::from(*rest.get(3)?);
    rest.get(4..4 + len).map(<[u8]>::to_vec)
}

/// A proof token is not valid while the only CRL of its signer's CA breaks the profile: a
/// refused CRL cannot clear the signer, for tokens as for PDFs (CLI `proof verify` exit 1).
#[test]
fn refused_crl_makes_a_proof_token_not_valid() {
    let r = Region::init();
    let (_, jws) = r.request_proof("proof.pdf", &[]);
    r.zy(&["proof", "verify", "--home", s(&r.home), s(&jws)]).assert_code(0);
    let Some(()) = install_crl(&r, "delta", None) else { return };
    let run = r.zy(&["proof", "verify", "--home", s(&r.home), s(&jws)]);
    run.assert_code(1);
    assert!(run.both().contains("delta CRL"), "the refusal names the CRL rule:\n{}", run.both());
}
