//! Free fields of the no-certificate workflows are checked for format and size before they go
//! anywhere (issue 10 points 5 and 14, docs/api.md "Field formats"): a 15 MiB or ID-number
//! `purpose`, an oversized `by`, `kind`, `holder`, `identifier` or `id` is a small 422 problem that
//! names the field and its size, adds nothing to the archive and stays out of the server log and
//! the home; commitment statements holding anything like an ID number or USCC (full-width, a
//! third party's, a company's) are refused by the CLI and over HTTP.

mod api_support;
mod common;

use std::process::Command;

use api_support::{init_home, post_json, repo, token, Resp};
use serde_json::{json, Value};
use zhengyin::api::auth::Role;
use zhengyin::config::Home;

const ALICE: &str = "370902199001011235"; // synthetic, fixtures/holders/rs-social-insurance.csv
const OTHER: &str = "370902197809094564"; // synthetic, valid check digit, in no data file
const SI_MATTER: &str = "370900-XK-0001";

fn home_with_data(dir: &std::path::Path) -> Home {
    let home = init_home(dir, "taian");
    let out = Command::new(env!("CARGO_BIN_EXE_zhengyin"))
        .args(["data", "load", "--home"])
        .arg(&home.dir)
        .args(["--dept", "rs"])
        .arg(repo().join("fixtures/holders/rs-social-insurance.csv"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    home
}

fn size(url: &str) -> u64 {
    let r = api_support::call("GET", &format!("{url}/v1/archive/tree-head"), None, None, None);
    r.json()["size"].as_u64().expect("tree size")
}

/// A 422 invalid-field problem naming `field`, small, echoing nothing of `sent`.
fn refused(r: &Resp, field: &str, sent: &str) -> Value {
    assert!(r.body.len() < 1024, "problem body is {} bytes", r.body.len());
    let p = r.problem(422);
    assert_eq!(p["type"], "urn:zhengyin:problem:invalid-field", "{p}");
    let detail = p["detail"].as_str().unwrap_or("");
    assert!(detail.contains(&format!("{field}: malformed, {} bytes", sent.len())), "{detail}");
    assert!(!String::from_utf8_lossy(&r.body).contains(sent), "the problem echoes the value");
    p
}

/// Oversized and malformed fields get a small 422 before anything is recorded or logged.
#[test]
fn malformed_fields_are_refused_before_they_reach_archive_log_or_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let home = home_with_data(&tmp.path().join("h"));
    let xzsp = token(&home, Role::Department { dept: "xzsp".into() });
    let log = tmp.path().join("serve.log");
    let (mut child, url) = api_support::spawn_binary_with_log(&home, &log);
    let huge = "9".repeat(15 << 20);
    let run = std::panic::catch_unwind(|| {
        let before = size(&url);
        let proofs = format!("{url}/v1/proofs");
        // 15 MiB purpose: refused as a field (or, under a smaller body limit, as too large).
        let r = post_json(
            &proofs,
            Some(&xzsp),
            &json!({"kind": "social-insurance", "subject": ALICE, "purpose": huge}),
        );
        match r.status {
            413 => assert!(r.body.len() < 1024),
            _ => drop(refused(&r, "purpose", &huge)),
        }
        let mid = "9".repeat(64 << 10);
        refused(
            &post_json(
                &proofs,
                Some(&xzsp),
                &json!({"kind": "social-insurance", "subject": ALICE, "purpose": mid}),
            ),
            "purpose",
            &mid,
        );
        // A raw ID number where a matter code belongs.
        refused(
            &post_json(
                &proofs,
                Some(&xzsp),
                &json!({"kind": "social-insurance", "subject": ALICE, "purpose": OTHER}),
            ),
            "purpose",
            OTHER,
        );
        let long_kind = "k".repeat(65);
        refused(
            &post_json(
                &proofs,
                Some(&xzsp),
                &json!({"kind": long_kind, "subject": ALICE, "purpose": SI_MATTER}),
            ),
            "kind",
            &long_kind,
        );
        refused(
            &post_json(
                &proofs,
                Some(&xzsp),
                &json!({"kind": "social-insurance", "subject": ALICE, "purpose": SI_MATTER, "by": OTHER}),
            ),
            "by",
            OTHER,
        );
        let long_subject = "3".repeat(4096);
        refused(
            &post_json(
                &proofs,
                Some(&xzsp),
                &json!({"kind": "social-insurance", "subject": long_subject, "purpose": SI_MATTER}),
            ),
            "subject",
            &long_subject,
        );
        refused(
            &post_json(
                &format!("{url}/v1/commitments"),
                Some(&xzsp),
                &json!({"subject": ALICE, "matter": OTHER, "statement": "本人承诺。"}),
            ),
            "matter",
            OTHER,
        );
        refused(
            &post_json(
                &format!("{url}/v1/share/query"),
                Some(&xzsp),
                &json!({"holder": ALICE, "purpose": OTHER}),
            ),
            "purpose",
            OTHER,
        );
        refused(
            &post_json(
                &format!("{url}/v1/share/query"),
                Some(&xzsp),
                &json!({"holder": long_subject, "purpose": SI_MATTER}),
            ),
            "holder",
            &long_subject,
        );
        let long_ident = "Z".repeat(4096);
        refused(
            &post_json(
                &format!("{url}/v1/share/links"),
                Some(&xzsp),
                &json!({"identifier": long_ident, "purpose": SI_MATTER}),
            ),
            "identifier",
            &long_ident,
        );
        refused(
            &post_json(&format!("{url}/v1/commitments/check"), Some(&xzsp), &json!({"id": long_ident})),
            "id",
            &long_ident,
        );
        // A statement holding a third party's ID number in full width: 422 invalid-commitment, not echoed.
        let wide: String =
            OTHER.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap()).collect();
        let r = post_json(
            &format!("{url}/v1/commitments"),
            Some(&xzsp),
            &json!({"subject": ALICE, "matter": SI_MATTER, "statement": format!("本人承诺，另一申请人{wide}参保正常。")}),
        );
        assert_eq!(r.problem(422)["type"], "urn:zhengyin:problem:invalid-commitment");
        assert!(!String::from_utf8_lossy(&r.body).contains(&wide));
        assert_eq!(size(&url), before, "a malformed request added records to the archive");
        // A well-formed, unlisted matter is still refused and recorded (403), as before.
        let r = post_json(
            &proofs,
            Some(&xzsp),
            &json!({"kind": "social-insurance", "subject": ALICE, "purpose": "370900-XX-9999"}),
        );
        r.problem(403);
        assert_eq!(size(&url), before + 1);
    });
    let _ = child.kill();
    let _ = child.wait();
    if let Err(e) = run {
        std::panic::resume_unwind(e);
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.len() < 1 << 20, "the server log is {} bytes", text.len());
    for v in [OTHER, "9999999999999999"] {
        assert!(!text.contains(v), "`{v}` in the server log");
    }
    common::assert_no_raw_ids(&home.dir, &[OTHER, ALICE]);
    let archive: u64 = walk_size(&home.dir.join("archive"));
    assert!(archive < 4 << 20, "the archive holds {archive} bytes");
}

fn walk_size(dir: &std::path::Path) -> u64 {
    let mut files = Vec::new();
    common::walk(dir, &mut files);
    files.iter().filter_map(|f| f.metadata().ok()).map(|m| m.len()).sum()
}

/// The CLI refuses the same fields with one line and exit 2, recording nothing.
#[test]
fn the_cli_refuses_malformed_fields_with_one_line() {
    let r = common::Region::init();
    let h = common::s(&r.home);
    let out = r.path("p.pdf");
    let o = common::s(&out);
    let long = "9".repeat(100_000);
    // `proof request` with one malformed field each: (kind, purpose) and which field is named.
    let request = |kind: &'static str, purpose: &str| -> Vec<String> {
        ["proof", "request", "--home", h, "--by", "xzsp", "--kind", kind, "--subject", ALICE, "--purpose"]
            .iter()
            .map(|a| a.to_string())
            .chain([purpose.to_string(), "-o".into(), o.to_string()])
            .collect()
    };
    let owned: Vec<(Vec<String>, &str)> = vec![
        (request("social-insurance", OTHER), "purpose"),
        (request("social-insurance", &long), "purpose"),
        (request("Social Insurance", SI_MATTER), "kind"),
    ];
    for (args, field) in
        owned.iter().map(|(a, f)| (a.iter().map(String::as_str).collect::<Vec<_>>(), *f)).chain([(
            vec!["licence", "use", "--home", h, "ZZ", "--by", "xzsp", "--purpose", OTHER, "-o", o],
            "purpose",
        )])
    {
        let run = r.zy(&args);
        run.assert_one_line_error(2);
        assert!(run.stderr.contains(&format!("{field}: malformed")), "{}", run.both());
        assert!(!run.stderr.contains(OTHER) && run.stderr.len() < 300, "{}", run.both());
    }
    let uses = r.zy(&["proof", "uses", "--home", h, "--subject", ALICE, "--json"]);
    uses.assert_code(0);
    assert_eq!(uses.json().as_array().map(Vec::len), Some(0), "{}", uses.both());
    common::assert_no_raw_ids(&r.home, &[OTHER]);
}

/// Commitment statements holding a full-width ID number, a third party's ID number or a USCC
/// are refused (CLI exit 2, HTTP 422) and leave no trace of the number in the home.
#[test]
fn statements_with_any_id_number_or_uscc_are_refused() {
    let r = common::Region::init();
    let h = common::s(&r.home);
    let full_width: String =
        ALICE.chars().map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap()).collect();
    let statements = [
        format!("本人承诺，证件号{full_width}，参保正常。"),
        format!("本人承诺，另一申请人（{OTHER}）亦参保正常。"),
        "本人承诺，本人所在企业91370900MA3C00001T未列入经营异常名录。".to_string(),
        format!("本人承诺，证件号 {} {} {}。", &OTHER[..6], &OTHER[6..14], &OTHER[14..]),
    ];
    for (i, text) in statements.iter().enumerate() {
        let f = r.path(&format!("s{i}.txt"));
        std::fs::write(&f, text).unwrap();
        let run = r.zy(&[
            "commit",
            "--home",
            h,
            "--by",
            "xzsp",
            "--subject",
            ALICE,
            "--matter",
            SI_MATTER,
            "--statement",
            common::s(&f),
            "-o",
            common::s(&r.path("c.pdf")),
        ]);
        run.assert_one_line_error(2);
        assert!(run.stderr.contains("must not contain an ID number or USCC"), "{}", run.both());
        std::fs::remove_file(&f).unwrap();
    }
    let ok = r.path("ok.txt");
    std::fs::write(&ok, "本人承诺：本人社会保险参保状态正常，2024年01月01日起连续缴费。").unwrap();
    r.zy(&[
        "commit",
        "--home",
        h,
        "--by",
        "xzsp",
        "--subject",
        ALICE,
        "--matter",
        SI_MATTER,
        "--statement",
        common::s(&ok),
        "-o",
        common::s(&r.path("c.pdf")),
    ])
    .assert_code(0);
    common::assert_no_raw_ids(&r.home, &[OTHER, "91370900MA3C00001T", &full_width]);
}
