//! Verification reports name trust anchors and CRLs by subject, issuer and thisUpdate, never by
//! a server file path: the public /v1/verify and `zhengyin verify --json` leak no part of the home.

mod api_support;

use api_support::*;
use zhengyin::api::auth::Role;
use zhengyin::api::ServeConfig;

/// POST /v1/verify on a real server: the JSON body holds no path of the home directory.
#[test]
fn public_verify_report_holds_no_server_path() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = init_home(&tmp.path().join("h"), "taian");
    let scjg = token(&home, Role::Department { dept: "scjg".into() });
    let s = start(&home, ServeConfig::default(), None);
    let pdf = pdf_of(&post_json(&format!("{}/v1/licences", s.url), Some(&scjg), &business_licence()).json());
    let resp = call("POST", &format!("{}/v1/verify", s.url), None, Some(("application/pdf", &pdf)), None);
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let body = String::from_utf8_lossy(&resp.body).into_owned();
    let rep = resp.json();
    assert_eq!(rep["indication"], "TOTAL-PASSED", "{rep:#}");
    assert_eq!(check(&rep, "REVOCATION")["status"], "PASSED", "{rep:#}");
    let home_path = home.dir.display().to_string();
    let tmp_path = tmp.path().display().to_string();
    for leak in [home_path.as_str(), tmp_path.as_str(), "crl/city.crl", "root.crt.pem"] {
        assert!(!body.contains(leak), "the public report contains `{leak}`:\n{body}");
    }
    // Named instead by issuer and date.
    let source =
        rep["signatures"][0]["revocation"]["source"].as_str().expect("revocation source").to_string();
    assert!(source.contains("CRL of") && source.contains("CN="), "{source}");

    // The CLI's JSON report is the same: no path either.
    let f = tmp.path().join("l.pdf");
    std::fs::write(&f, &pdf).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_zhengyin"))
        .args(["verify", "--json", "--home"])
        .arg(&home.dir)
        .arg(&f)
        .output()
        .expect("run verify");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains(&home_path) && !text.contains("crl/city.crl") && !text.contains("root.crt.pem"),
        "the CLI report contains a path:\n{text}"
    );
}
