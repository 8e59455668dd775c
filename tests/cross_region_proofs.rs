//! Cross-region proofs (跨区域核验, issue 14 point 4) between two real `zhengyin serve` processes
//! on loopback: Jinan's (B) 行政审批服务局 asks Tai'an's (A) 人社局 for a social-insurance proof
//! through its own server, with the credential Tai'an issued to it. A's list of uses names the
//! Jinan department by region and USCC; the answer verifies in Jinan through Tai'an's imported
//! trust list; both archives record the use, A's naming Jinan's department. An unlisted
//! department or matter is refused, and A records the refusal.

mod api_support;
mod cluster;

use std::path::Path;

use api_support::*;
use cluster::*;
use serde_json::{json, Value};
use zhengyin::api::auth::Role;
use zhengyin::config::Home;

const ALICE: &str = "370902199001011235"; // fixtures/holders: social insurance 正常
const SI_MATTER: &str = "370900-XK-0001"; // social-insurance, listed for Jinan's jn-xzsp below
const OTHER_MATTER: &str = "370900-GG-0007"; // social-insurance, not listed for Jinan
const JN_XZSP: &str = "11370100MB28631015"; // fixtures/region/jinan.toml jn-xzsp
const JN_SCJG: &str = "11370100MB28631028"; // fixtures/region/jinan.toml jn-scjg (not listed)

/// Tai'an's list of uses with Jinan's jn-xzsp allowed to ask for social insurance for SI_MATTER.
fn taian_uses(a: &Home) {
    let text = std::fs::read_to_string(repo().join("fixtures/region/uses.toml")).expect("uses");
    let listed = "matter = \"370900-XK-0001\"\nname = \"人力资源服务许可\"\nby = [\"xzsp\", \"dy-xzsp\"]\n";
    assert!(text.contains(listed), "the shipped list changed");
    let foreign = format!(
        "{listed}foreign = [{{ region = \"jinan\", uscc = \"{JN_XZSP}\", name = \"济南市行政审批服务局\" }}]\n"
    );
    std::fs::write(a.dir.join("uses.toml"), text.replacen(listed, &foreign, 1)).expect("write uses");
}

/// A credential of Tai'an for a Jinan department (USCC), stored in Jinan for `dept`.
fn issue_credential(a: &Home, b: &Home, a_url: &str, uscc: &str, dept: &str, tmp: &Path) {
    let token = cli_ok(&[
        "token",
        "create",
        "--home",
        h(a),
        "--role",
        "foreign",
        "--region",
        "jinan",
        "--uscc",
        uscc,
    ]);
    let f = tmp.join(format!("{dept}.token"));
    std::fs::write(&f, token.trim()).expect("token file");
    cli_ok(&[
        "proof",
        "credential",
        "add",
        "--home",
        h(b),
        "--region",
        "taian",
        "--url",
        a_url,
        "--dept",
        dept,
        "--token-file",
        f.to_str().expect("utf-8"),
    ]);
}

fn uses_of(url: &str, archivist: &str) -> Vec<Value> {
    let r = post_json(&format!("{url}/v1/uses/query"), Some(archivist), &json!({"subject": ALICE}));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    v.as_array().or_else(|| v["uses"].as_array()).cloned().unwrap_or_else(|| panic!("uses: {v}"))
}

/// A listed foreign department gets a proof that verifies in its region; an unlisted department
/// or matter is refused, and every outcome is recorded on both sides (A's records name B's
/// department by region and USCC).
#[test]
fn cross_region_proofs_between_two_servers() {
    let tmp = tempfile::tempdir().expect("tmp");
    let a = init_home(&tmp.path().join("taian"), "taian");
    let b = init_home(&tmp.path().join("jinan"), "jinan");
    let holders = repo().join("fixtures/holders/rs-social-insurance.csv");
    cli_ok(&["data", "load", "--home", h(&a), "--dept", "rs", holders.to_str().expect("utf-8")]);
    taian_uses(&a);
    let sa = serve_binary(&a, &tmp.path().join("taian.log"));

    // Jinan imports Tai'an's trust list (pinned) and the credentials Tai'an issued.
    let fp = cli_ok(&["trust", "fingerprint", "--home", h(&a)]);
    cli_ok(&[
        "trust",
        "add",
        "--home",
        h(&b),
        "--from",
        &format!("{}/v1/trust-list", sa.url),
        "--pin",
        fp.trim(),
    ]);
    issue_credential(&a, &b, &sa.url, JN_XZSP, "jn-xzsp", tmp.path());
    issue_credential(&a, &b, &sa.url, JN_SCJG, "jn-scjg", tmp.path());
    let sb = serve_binary(&b, &tmp.path().join("jinan.log"));
    let (xzsp, scjg) = (
        token(&b, Role::Department { dept: "jn-xzsp".into() }),
        token(&b, Role::Department { dept: "jn-scjg".into() }),
    );
    let (arch_a, arch_b) = (token(&a, Role::Archivist), token(&b, Role::Archivist));
    let ask = |tok: &str, matter: &str| {
        post_json(
            &format!("{}/v1/proofs/remote", sb.url),
            Some(tok),
            &json!({"region": "taian", "kind": "social-insurance", "subject": ALICE, "purpose": matter}),
        )
    };

    // Listed: answered by Tai'an's rs, filed in both archives.
    let r = ask(&xzsp, SI_MATTER);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let got = r.json();
    assert_eq!(got["holder"], "rs", "{got}");
    assert_eq!(got["region"], "taian", "{got}");
    assert!(got["answer"].as_str().is_some_and(|s| s.contains("正常")), "{got}");
    let in_a = uses_of(&sa.url, &arch_a);
    let rec_a = in_a.iter().find(|u| u["type"] == "use-record").unwrap_or_else(|| panic!("A: {in_a:?}"));
    assert_eq!((rec_a["by_region"].as_str(), rec_a["by_uscc"].as_str()), (Some("jinan"), Some(JN_XZSP)));
    assert_eq!(rec_a["answer_id"], got["id"]);
    let in_b = uses_of(&sb.url, &arch_b);
    let rec_b =
        in_b.iter().find(|u| u["type"] == "cross-region-use").unwrap_or_else(|| panic!("B: {in_b:?}"));
    assert_eq!((rec_b["by"].as_str(), rec_b["region"].as_str()), (Some("jn-xzsp"), Some("taian")));
    assert_eq!(rec_b["remote_use_record"], got["remote_use_record"]);

    // The token verifies in Jinan through Tai'an's trust list.
    let check =
        post_json(&format!("{}/v1/proofs/verify", sb.url), None, &json!({"token": got["token"]})).json();
    assert_eq!(check["valid"], true, "{check}");
    assert_eq!(check["region"], "taian", "{check}");

    // Unlisted department, unlisted matter: refused, recorded by Tai'an (and by Jinan).
    for (tok, matter, who) in [(&scjg, SI_MATTER, JN_SCJG), (&xzsp, OTHER_MATTER, JN_XZSP)] {
        let p = ask(tok, matter).problem(403);
        assert!(p["record_id"].as_str().is_some_and(|s| !s.is_empty()), "{p}");
        let refused = uses_of(&sa.url, &arch_a);
        let rec = refused
            .iter()
            .find(|u| u["type"] == "use-refusal" && u["by_uscc"] == who && u["purpose"] == matter)
            .unwrap_or_else(|| panic!("A recorded no refusal of {who} for {matter}: {refused:?}"));
        assert_eq!(rec["by_region"], "jinan");
    }
    let refused_b = uses_of(&sb.url, &arch_b);
    assert_eq!(refused_b.iter().filter(|u| u["type"] == "cross-region-refusal").count(), 2, "{refused_b:?}");

    // The credential is scoped: it asks only at /v1/proofs/foreign; a department token of A's own
    // region cannot ask there.
    let cred = std::fs::read_to_string(tmp.path().join("jn-xzsp.token")).expect("token");
    let body = json!({"kind": "social-insurance", "subject": ALICE, "purpose": SI_MATTER});
    post_json(&format!("{}/v1/proofs", sa.url), Some(cred.trim()), &body).problem(403);
    let own = token(&a, Role::Department { dept: "xzsp".into() });
    post_json(&format!("{}/v1/proofs/foreign", sa.url), Some(&own), &body).problem(403);

    // The CLI asks the same way (B's server stopped: the CLI opens B's archive itself).
    drop(sb);
    let out = tmp.path().join("proof.pdf");
    cli_ok(&[
        "proof",
        "request",
        "--home",
        h(&b),
        "--from-region",
        &sa.url,
        "--by",
        "jn-xzsp",
        "--kind",
        "social-insurance",
        "--subject",
        ALICE,
        "--purpose",
        SI_MATTER,
        "-o",
        out.to_str().expect("utf-8"),
    ]);
    let (code, report) = verify_cli(&b, &out);
    assert_eq!(code, 0, "a foreign proof verifies in Jinan, its plan complete: {report:#}");
    assert_eq!(report["seal_plan"]["complete"], true, "{report:#}");
    assert_eq!(report["seal_plan"]["present_ids"][0], "taian/11370900MB2857005A", "{report:#}");
    let sig = &report["signatures"][0];
    assert_eq!(sig["indication"], "TOTAL-PASSED", "{report:#}");
    assert!(sig.to_string().contains("trust list of taian"), "{sig:#}");
    let jws = out.with_extension("jws");
    let t: Value = serde_json::from_str(&cli_ok(&[
        "proof",
        "verify",
        jws.to_str().expect("utf-8"),
        "--home",
        h(&b),
        "--json",
    ]))
    .expect("token check");
    assert_eq!(t["valid"], true, "{t:#}");
}
