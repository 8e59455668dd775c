//! Proof of existence and validation in the past (ETSI EN 319 102-1 §5.6), end to end through the
//! CLI with Debian's `faketime` moving the clock: archive evidence records (RFC 4998-style),
//! `verify --at`, `verify --evidence`, and the audit using the archive's own log as POE.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

/// A moment after every 5-year seal certificate of a home made today has ended.
const Y2032: &str = "2032-06-01 00:00:00";

/// Run `zhengyin args…` with the clock at `when` (faketime's absolute form).
fn zy_at(cwd: &Path, when: &str, args: &[&str]) -> Run {
    let mut all = vec![when, BIN];
    all.extend_from_slice(args);
    run_in(cwd, "faketime", &all)
}

/// `archive evidence` of the record `issue` printed for `pdf`, written next to it.
fn evidence_for(r: &Region, home: &Path, issue_run: &Run, name: &str) -> PathBuf {
    let id = issue_run
        .stdout
        .lines()
        .find_map(|l| {
            l.trim().strip_prefix("archived").map(|x| x.split_whitespace().next().unwrap().to_string())
        })
        .unwrap_or_else(|| panic!("issue did not name its record\n{}", issue_run.both()));
    let out = r.path(name);
    r.zy(&["archive", "evidence", "--home", s(home), &id, "-o", s(&out)]).assert_code(0);
    out
}

/// A home as made before the TSA existed: its seals are PAdES B-B (no signature timestamp).
fn sig_of(report: &Value) -> &Value {
    first_sig(report)
}

fn check_detail<'a>(sig: &'a Value, name: &str) -> &'a str {
    sig["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .and_then(|c| c["detail"].as_str())
        .unwrap_or_else(|| panic!("no {name} check in {sig:#}"))
}

fn skip_without_faketime() -> bool {
    if have_tool("faketime") {
        return false;
    }
    eprintln!("note: faketime not installed; skipping");
    true
}

/// At 2032 a B-B licence from an older home (no TSA) whose seal certificate has ended is
/// INDETERMINATE / OUT_OF_BOUNDS_NO_POE without proof of existence, and TOTAL-PASSED with its
/// archive evidence record, which the report names (source, time); `--at` gives the same answers
/// without faketime.
#[test]
fn evidence_record_is_poe_after_the_certificate_ended() {
    if skip_without_faketime() {
        return;
    }
    let r = Region::init();
    r.drop_tsa();
    let (pdf, issued) = r.issue("business-licence", None, "licence.pdf");
    let ev = evidence_for(&r, &r.home, &issued, "licence.evidence.json");
    let evidence: Value = serde_json::from_str(&std::fs::read_to_string(&ev).unwrap()).unwrap();
    assert_eq!(evidence["version"], "zhengyin-evidence/v1");
    assert!(
        evidence["checkpoint"].as_str().unwrap().contains("/clock "),
        "no clock cosignature\n{evidence:#}"
    );

    let bare = zy_at(r.dir.path(), Y2032, &["verify", s(&pdf), "--home", s(&r.home), "--json"]);
    assert_eq!(bare.code, 1, "{}", bare.both());
    let rep = bare.json();
    assert_eq!(rep["indication"], "INDETERMINATE", "{rep:#}");
    assert_eq!(rep["sub_indication"], "OUT_OF_BOUNDS_NO_POE", "{rep:#}");

    let with = zy_at(
        r.dir.path(),
        Y2032,
        &["verify", s(&pdf), "--home", s(&r.home), "--evidence", s(&ev), "--json"],
    );
    assert_eq!(with.code, 0, "{}", with.both());
    let rep = with.json();
    assert_eq!(rep["indication"], "TOTAL-PASSED", "{rep:#}");
    let sig = sig_of(&rep);
    assert_eq!(sig["poe"][0]["source"], "archive evidence record", "{sig:#}");
    assert_eq!(sig["poe"][0]["time"], evidence["time"], "{sig:#}");
    assert!(check_detail(sig, "POE").contains("validated in the past"), "{sig:#}");
    assert!(check_detail(sig, "CHAIN").contains("at the proof-of-existence time"), "{sig:#}");

    // The same without faketime, with --at.
    let at = r.zy(&["verify", s(&pdf), "--home", s(&r.home), "--at", "2032-06-01T00:00:00Z", "--json"]);
    assert_eq!(at.code, 1, "{}", at.both());
    assert_eq!(at.json()["sub_indication"], "OUT_OF_BOUNDS_NO_POE");
    let at = r.zy(&["verify", s(&pdf), "--home", s(&r.home), "--at", "2032-06-01", "--evidence", s(&ev)]);
    assert_eq!(at.code, 0, "{}", at.both());
    assert!(at.stdout.contains("archive evidence record"), "{}", at.both());
    // An evidence record is no POE for a time before it.
    let early = r.zy(&[
        "verify",
        s(&pdf),
        "--home",
        s(&r.home),
        "--at",
        "2020-01-01",
        "--evidence",
        s(&ev),
        "--json",
    ]);
    assert_eq!(early.code, 1, "{}", early.both());
}

/// An evidence record that was altered, names other bytes, or is checked against another
/// archive's key is refused with a one-line error (exit 2), never taken as POE.
#[test]
fn altered_evidence_records_are_refused() {
    let r = Region::init();
    let (pdf, issued) = r.issue("business-licence", None, "licence.pdf");
    let ev = evidence_for(&r, &r.home, &issued, "ev.json");
    let good: Value = serde_json::from_str(&std::fs::read_to_string(&ev).unwrap()).unwrap();
    let flip = |s: &str| {
        let mut c: Vec<char> = s.chars().collect();
        c[0] = if c[0] == 'a' { 'b' } else { 'a' };
        c.into_iter().collect::<String>()
    };
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut v = good.clone();
    v["content_sha256"] = Value::String(flip(v["content_sha256"].as_str().unwrap()));
    cases.push(("content hash", v));
    let mut v = good.clone();
    let entry = v["entry"].as_str().unwrap().to_string();
    let sha = good["content_sha256"].as_str().unwrap();
    v["entry"] = Value::String(entry.replace(sha, &flip(sha)));
    v["content_sha256"] = Value::String(flip(sha));
    cases.push(("entry", v));
    let mut v = good.clone();
    v["leaf_index"] = Value::from(v["leaf_index"].as_u64().unwrap() + 1);
    cases.push(("leaf index", v));
    let mut v = good.clone();
    let note = v["checkpoint"].as_str().unwrap().to_string();
    v["checkpoint"] =
        Value::String(note.lines().filter(|l| !l.contains("/clock ")).collect::<Vec<_>>().join("\n") + "\n");
    cases.push(("clock cosignature", v));
    for (what, v) in cases {
        let bad = r.path("bad.json");
        std::fs::write(&bad, serde_json::to_string(&v).unwrap()).unwrap();
        let run = r.zy(&["verify", s(&pdf), "--home", s(&r.home), "--evidence", s(&bad)]);
        run.assert_one_line_error(2);
        assert!(run.stderr.contains("bad.json"), "{what}: {}", run.both());
    }
    // Another region's archive key: the record's own key is never trusted.
    let other = Region::init();
    other.issue("business-licence", None, "x.pdf");
    let run = r.zy(&["verify", s(&pdf), "--home", s(&other.home), "--evidence", s(&ev)]);
    run.assert_one_line_error(2);
}

/// The audit at 2032 uses the archive's own log as proof of existence: clean for B-B licences of
/// an older home (no timestamps), although every seal certificate has ended (it reported every
/// record as not authentic before).
#[test]
fn audit_is_clean_in_2032() {
    if skip_without_faketime() {
        return;
    }
    let r = Region::init();
    r.drop_tsa();
    r.issue("business-licence", None, "a.pdf");
    r.issue("food-business-licence", None, "b.pdf");
    let run = zy_at(r.dir.path(), Y2032, &["audit", "--home", s(&r.home)]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stdout.contains("clean"), "{}", run.both());
}

/// Revocation and POE (B-T licences): one revoked after its signature timestamp passes at 2032,
/// naming that timestamp as its POE; one sealed after its seal certificate was revoked is still
/// refused (TOTAL-FAILED), even with an evidence record (every POE comes after the revocation).
#[test]
fn revoked_after_poe_passes_sealed_after_revocation_refused() {
    if skip_without_faketime() {
        return;
    }
    let r = Region::init();
    let (a, issued_a) = r.issue("business-licence", None, "a.pdf");
    let ev_a = evidence_for(&r, &r.home, &issued_a, "a.ev.json");
    // A copy of the home before the revocation keeps sealing with the same key (a stolen key).
    let stale_home = r.path("stale-home");
    copy_dir(&r.home, &stale_home);
    let serial =
        r.verify_json(&a).json()["signatures"][0]["signer"]["serial"].as_str().unwrap().replace(':', "");
    zy_at(r.dir.path(), "2027-03-01 00:00:00", &["revoke", "--home", s(&r.home), &serial]).assert_code(0);
    let b = r.path("b.pdf");
    let issued_b = zy_at(
        r.dir.path(),
        "2027-06-01 00:00:00",
        &[
            "issue",
            "--home",
            s(&stale_home),
            "--template",
            "business-licence",
            "--data",
            s(&data_file("business-licence")),
            "-o",
            s(&b),
        ],
    );
    issued_b.assert_code(0);
    let ev_b = evidence_for(&r, &stale_home, &issued_b, "b.ev.json");

    let ok = zy_at(r.dir.path(), Y2032, &["verify", s(&a), "--home", s(&r.home), "--json"]);
    assert_eq!(ok.code, 0, "revoked after its POE must pass\n{}", ok.both());
    let rep = ok.json();
    let sig = sig_of(&rep);
    assert!(check_detail(sig, "REVOCATION").contains("after the proof of existence"), "{sig:#}");
    assert!(
        sig["poe"].as_array().is_some_and(|a| a.iter().any(|p| p["source"] == "signature timestamp")),
        "{sig:#}"
    );
    // With the evidence record too, still valid (the earliest POE leads).
    let both = zy_at(r.dir.path(), Y2032, &["verify", s(&a), "--home", s(&r.home), "--evidence", s(&ev_a)]);
    assert_eq!(both.code, 0, "{}", both.both());

    let refused = zy_at(
        r.dir.path(),
        Y2032,
        &["verify", s(&b), "--home", s(&r.home), "--evidence", s(&ev_b), "--json"],
    );
    assert_eq!(refused.code, 1, "sealed after revocation must be refused\n{}", refused.both());
    assert_eq!(refused.json()["indication"], "TOTAL-FAILED", "{}", refused.both());
}
