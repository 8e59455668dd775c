//! The archive log cannot fork unseen (issue 11 point 3): the review's scenario (copy the archive,
//! issue F2, restore the copy, issue F3) is refused by the log key's high-water mark and flagged by
//! the audit; a whole-home rollback that gets past it is caught by the relying party holding F2's
//! receipt (`archive consistency --from`, CLI and HTTP), naming both roots; kept tree heads expose
//! a rewritten history in the audit; receipts bind their record id.

mod api_support;
mod common;

use std::path::Path;

use base64::Engine;
use common::*;
use serde_json::Value;

fn restore_dir(copy: &Path, dir: &Path) {
    std::fs::remove_dir_all(dir).unwrap();
    copy_dir(copy, dir);
}

/// The receipt written next to an issued PDF.
fn receipt(r: &Region, pdf: &str) -> Value {
    let p = r.path(pdf).with_extension("receipt.json");
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

/// The root of a receipt's checkpoint, hex (as the error messages name roots).
fn root_hex(receipt: &Value) -> String {
    let note = receipt["checkpoint"].as_str().unwrap();
    let b64 = note.lines().nth(2).unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn issue_run(r: &Region, out: &str) -> Run {
    r.zy(&[
        "issue",
        "--home",
        s(&r.home),
        "--template",
        "business-licence",
        "--data",
        s(&data_file("business-licence")),
        "-o",
        s(&r.path(out)),
    ])
}

/// Copy the archive, issue F2, restore the copy, issue F3: the log key refuses F3 (exit 2, no PDF
/// and no receipt left behind), the audit flags the rollback, and F2's receipt checked against
/// the archive exits 1.
#[test]
fn restored_archive_is_refused_and_flagged() {
    let r = Region::init();
    r.issue("business-licence", None, "f1.pdf");
    let archive = r.home.join("archive");
    copy_dir(&archive, &r.path("copy"));
    r.issue("business-licence", None, "f2.pdf");
    restore_dir(&r.path("copy"), &archive);

    let f3 = issue_run(&r, "f3.pdf");
    f3.assert_one_line_error(2);
    assert!(f3.stderr.contains("behind the log key's signed size 2"), "{}", f3.both());
    assert!(
        !r.path("f3.pdf").exists() && !r.path("f3.receipt.json").exists(),
        "a refused issue left output behind"
    );

    let audit = r.zy(&["audit", "--home", s(&r.home), "--json"]);
    audit.assert_code(1);
    let flagged = audit.json()["problems"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["record"] == "log" && p["reason"].as_str().unwrap().contains("signed size 2"));
    assert!(flagged, "audit must flag the rollback\n{}", audit.both());

    let f2 = receipt(&r, "f2.pdf");
    let c = r.zy(&["archive", "consistency", "--home", s(&r.home), "--from", s(&r.path("f2.receipt.json"))]);
    c.assert_code(1);
    assert!(c.stderr.contains(&root_hex(&f2)) && c.stderr.contains("forked"), "{}", c.both());

    // The same over HTTP: issuing is refused (503 archive-behind) and the log does not grow.
    let home = zhengyin::config::Home { dir: r.home.clone() };
    let server = api_support::start(&home, zhengyin::api::ServeConfig::default(), None);
    let scjg = api_support::token(&home, zhengyin::api::auth::Role::Department { dept: "scjg".into() });
    let refused = api_support::post_json(
        &format!("{}/v1/licences", server.url),
        Some(&scjg),
        &api_support::business_licence(),
    );
    let p = refused.problem(503);
    assert!(p["detail"].as_str().unwrap().contains("signed size 2"), "{p}");
    assert_eq!(server.state.archive.size(), 1);
}

/// A whole-home rollback (archive and log.state restored) lets F3 be signed at size 2 with another
/// root; the relying party holding F2's receipt sees the fork with `consistency --from` (receipt or
/// bare checkpoint; CLI exit 1, HTTP 409), both roots named, while F3's own receipt is consistent.
#[test]
fn relying_party_detects_a_whole_home_rollback() {
    let r = Region::init();
    r.issue("business-licence", None, "f1.pdf");
    let (archive, state) = (r.home.join("archive"), r.home.join("pki/private/log.state"));
    assert!(state.is_file(), "the log key keeps its signed size next to it");
    copy_dir(&archive, &r.path("copy"));
    let state_copy = std::fs::read(&state).unwrap();
    r.issue("business-licence", None, "f2.pdf");
    restore_dir(&r.path("copy"), &archive);
    std::fs::write(&state, state_copy).unwrap();
    r.issue("business-licence", None, "f3.pdf");

    let (f2, f3) = (receipt(&r, "f2.pdf"), receipt(&r, "f3.pdf"));
    assert_eq!((f2["tree_size"].as_u64(), f3["tree_size"].as_u64()), (Some(2), Some(2)));
    let (a, b) = (root_hex(&f2), root_hex(&f3));
    assert_ne!(a, b, "two roots for size 2");

    let note = r.path("f2.checkpoint");
    std::fs::write(&note, f2["checkpoint"].as_str().unwrap()).unwrap();
    for from in [r.path("f2.receipt.json"), note.clone()] {
        let c = r.zy(&["archive", "consistency", "--home", s(&r.home), "--from", s(&from)]);
        c.assert_code(1);
        assert!(c.stderr.contains(&a) && c.stderr.contains(&b), "both roots must be named\n{}", c.both());
    }
    let ok = r.zy(&["archive", "consistency", "--home", s(&r.home), "--from", s(&r.path("f3.receipt.json"))]);
    ok.assert_code(0);
    assert_eq!(ok.json()["consistent"], true);
    let proof = r.path("c.json");
    std::fs::write(&proof, &ok.stdout).unwrap();
    r.zy(&["archive", "check-proof", s(&proof)]).assert_code(0);

    let server = api_support::start(
        &zhengyin::config::Home { dir: r.home.clone() },
        zhengyin::api::ServeConfig::default(),
        None,
    );
    let url = format!("{}/v1/archive/consistency", server.url);
    let fork = api_support::call(
        "POST",
        &url,
        None,
        Some(("text/plain", f2["checkpoint"].as_str().unwrap().as_bytes())),
        None,
    );
    let p = fork.problem(409);
    let detail = p["detail"].as_str().unwrap();
    assert!(detail.contains(&a) && detail.contains(&b), "{p}");
    let fine = api_support::call(
        "POST",
        &url,
        None,
        Some(("application/json", serde_json::to_string(&f3).unwrap().as_bytes())),
        None,
    );
    assert_eq!(fine.status, 200, "{}", String::from_utf8_lossy(&fine.body));
    assert_eq!(fine.json()["consistent"], true);
    let junk = api_support::call("POST", &url, None, Some(("text/plain", b"not a checkpoint")), None);
    junk.problem(400);
}

/// History rewritten in place and re-signed after deleting the log key's mark: every tree head
/// published before (kept in the archive) is checked against the current tree, so the audit
/// reports the fork.
#[test]
fn audit_checks_every_published_tree_head() {
    let r = Region::init();
    for i in 0..3 {
        r.issue("business-licence", None, &format!("f{i}.pdf"));
    }
    let home = zhengyin::config::Home { dir: r.home.clone() };
    {
        let a = zhengyin::filing::open_archive(&home).unwrap();
        // Rewrite leaf 0 and the nodes above it, as an insider holding the store would.
        let mut k = [0u8; 12];
        let leaf = zhengyin::archive::merkle::hash_leaf(b"rewritten history");
        a.nodes.insert(k, &leaf[..]).unwrap();
        k[..4].copy_from_slice(&1u32.to_be_bytes());
        let right = zhengyin::archive::merkle::NodeSource::node(&a.stored(), 0, 1).unwrap();
        a.nodes.insert(k, &zhengyin::archive::merkle::hash_children(&leaf, &right)[..]).unwrap();
        std::fs::remove_file(r.home.join("pki/private/log.state")).unwrap();
        zhengyin::filing::sign_tree_head(&home, &a).unwrap();
    }
    let audit = r.zy(&["audit", "--home", s(&r.home), "--json"]);
    audit.assert_code(1);
    let forks: Vec<String> = audit.json()["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["reason"].as_str().filter(|r| r.contains("forked")).map(str::to_string))
        .collect();
    assert!(
        forks.iter().any(|f| f.contains("size 1")) && forks.iter().any(|f| f.contains("size 2")),
        "{}",
        audit.both()
    );
}

/// Receipts bind their record: editing `record` or `leaf_hash` makes check-proof fail (exit 1);
/// the genuine receipt passes with the archive's key; the genuine paths stay clean.
#[test]
fn edited_record_field_fails_check_proof() {
    let r = Region::init();
    let (_, one) = r.issue("business-licence", None, "f1.pdf");
    r.issue("business-licence", None, "f2.pdf");
    let vkey = receipt(&r, "f2.pdf")["verifier_key"].as_str().unwrap().to_string();
    let check = |v: &Value| {
        let p = r.path("edited.json");
        std::fs::write(&p, serde_json::to_string(v).unwrap()).unwrap();
        r.zy(&["archive", "check-proof", s(&p), "--key", &vkey])
    };
    let genuine = receipt(&r, "f2.pdf");
    check(&genuine).assert_code(0);
    let id1 = one
        .stdout
        .lines()
        .find_map(|l| {
            l.trim().strip_prefix("archived").map(|x| x.split_whitespace().next().unwrap().to_string())
        })
        .unwrap();
    let mut other = genuine.clone();
    other["record"] = Value::String(id1);
    let run = check(&other);
    run.assert_code(1);
    assert!(run.stderr.contains("record"), "{}", run.both());
    let mut hash = genuine.clone();
    hash["leaf_hash"] = Value::String("00".repeat(32));
    check(&hash).assert_code(1);
    r.zy(&["audit", "--home", s(&r.home)]).assert_code(0);
}
