//! `zhengyin proof verify` on both forms of a proof, as a relying party would try them: valid now,
//! expired later (`--at`), and invalid for both forms once the holder department's seal
//! certificate is revoked.

mod common;

use common::*;

fn proof(r: &Region) -> (std::path::PathBuf, std::path::PathBuf) {
    r.request_proof("p.pdf", &["--valid-days", "30"])
}

fn seal_serial(r: &Region, dept: &str) -> String {
    let home = zhengyin::config::Home { dir: r.home.clone() };
    let der = zhengyin::pki::keys::read_certs_der(&home.seal_cert(dept)).expect("cert").remove(0);
    let (_, c) = x509_parser::parse_x509_certificate(&der).expect("x509");
    c.raw_serial().iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_token_is_valid_now_and_expired_after_its_validity() {
    let r = Region::init();
    let (_, jws) = proof(&r);
    let now = r.zy(&["proof", "verify", "--home", s(&r.home), "--json", s(&jws)]);
    now.assert_code(0);
    assert_eq!(now.json()["valid"], true, "{}", now.both());
    assert_eq!(now.json()["claims"]["purpose"], "370900-XK-0001");
    // 40 days on, the 30-day token has expired (its CRLs are stale too by then).
    let later = (time::OffsetDateTime::now_utc() + time::Duration::days(40)).date();
    let at = format!("{:04}-{:02}-{:02}", later.year(), u8::from(later.month()), later.day());
    let v = r.zy(&["proof", "verify", "--home", s(&r.home), "--json", "--at", &at, s(&jws)]);
    v.assert_code(1);
    let problems = v.json()["problems"].to_string();
    assert!(problems.contains("expired at"), "{}", v.both());
    // A bad --at is a one-line usage error.
    r.zy(&["proof", "verify", "--home", s(&r.home), "--at", "next tuesday", s(&jws)]).assert_code(2);
}

#[test]
fn revoking_the_holder_seal_invalidates_token_and_pdf() {
    let r = Region::init();
    let (pdf, jws) = proof(&r);
    r.zy(&["proof", "verify", "--home", s(&r.home), s(&pdf)]).assert_code(0);
    let serial = seal_serial(&r, "rs");
    r.zy(&[
        "revoke",
        "--home",
        s(&r.home),
        "--reason",
        "keyCompromise",
        "--compromised-at",
        &an_hour_ago(),
        &serial,
    ])
    .assert_code(0);
    let t = r.zy(&["proof", "verify", "--home", s(&r.home), "--json", s(&jws)]);
    t.assert_code(1);
    assert!(t.json()["problems"].to_string().contains("revoked"), "{}", t.both());
    let p = r.zy(&["proof", "verify", "--home", s(&r.home), "--json", s(&pdf)]);
    p.assert_code(1);
    assert_eq!(p.json()["indication"], "TOTAL-FAILED", "{}", p.both());
    assert!(
        p.json()["signatures"][0]["sub_indication"].as_str().unwrap_or("").contains("REVOKED"),
        "{}",
        p.both()
    );
}
