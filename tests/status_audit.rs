//! Licence status in the archive: `archive list` and `archive show` name each licence record's
//! status (valid, superseded, cancelled), and `audit` checks every lifecycle transition in the
//! log against its sealed version and the status index against the log — a deleted sealed
//! version, a sealed version swapped for another record, and an edited index entry are found.

mod common;

use common::*;
use serde_json::Value;
use zhengyin::archive::Archive;

/// Issue a business licence and change it: (old identifier, new identifier).
fn issued_and_changed(r: &Region) -> (String, String) {
    let (_, run) = r.issue("business-licence", None, "v1.pdf");
    let old = run.line_value("identifier");
    let mut d = sample_data("business-licence");
    d.insert("address".into(), Value::String("山东省泰安市泰山区示例路7号".into()));
    let data = r.path("changed.json");
    std::fs::write(&data, serde_json::to_vec(&Value::Object(d)).unwrap()).unwrap();
    let run = r.zy(&[
        "licence",
        "change",
        &old,
        "--home",
        s(&r.home),
        "--data",
        s(&data),
        "--reason",
        "住所变更",
        "-o",
        s(&r.path("v2.pdf")),
    ]);
    run.assert_code(0);
    (old, run.line_value("new version"))
}

fn status_of(r: &Region, identifier: &str) -> Value {
    r.zy(&["licence", "status", identifier, "--home", s(&r.home), "--json"]).json()
}

fn open_archive(r: &Region) -> Archive {
    Archive::open(&r.home.join("archive")).expect("open the archive (no CLI may be running)")
}

/// `audit --json`: exit 1, and a problem of property `intact` whose reason contains `part`.
fn audit_finds(r: &Region, part: &str) {
    let run = r.zy(&["audit", "--home", s(&r.home), "--json"]);
    run.assert_code(1);
    let v = run.json();
    let found = v["problems"].as_array().unwrap().iter().any(|p| {
        p["property"] == "intact" && p["reason"].as_str().is_some_and(|reason| reason.contains(part))
    });
    assert!(found, "no `intact` problem mentioning {part:?}\n{}", run.both());
}

/// `archive list` prints each licence record's status (superseded, cancelled; `-` for the
/// transition entries) and `archive show` adds the version's status to the record.
#[test]
fn archive_list_and_show_name_each_records_status() {
    let r = Region::init();
    let (old, new) = issued_and_changed(&r);
    r.zy(&["licence", "cancel", &new, "--home", s(&r.home), "--reason", "申请注销"]).assert_code(0);
    let list = r.zy(&["archive", "list", "--home", s(&r.home)]);
    list.assert_code(0);
    let status_column = |identifier: &str| {
        list.stdout
            .lines()
            .find(|l| l.contains(identifier) && !l.contains(" - "))
            .and_then(|l| l.split_whitespace().nth(4))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no licence line for {identifier}\n{}", list.both()))
    };
    assert_eq!(status_column(&old), "superseded");
    assert_eq!(status_column(&new), "cancelled");
    assert_eq!(
        list.stdout.lines().filter(|l| l.split_whitespace().nth(4) == Some("-")).count(),
        2,
        "two transitions\n{}",
        list.stdout
    );

    let id = status_of(&r, &new)["archive_id"].as_str().unwrap().to_string();
    let show = r.zy(&["archive", "show", &id, "--home", s(&r.home)]);
    show.assert_code(0);
    let v = show.json();
    assert_eq!(v["metadata"]["identifier"], new.as_str());
    assert_eq!(v["licence_status"]["status"], "cancelled", "{v}");
    assert_eq!(v["licence_status"]["reason"], "申请注销");
    let id = status_of(&r, &old)["archive_id"].as_str().unwrap().to_string();
    let v = r.zy(&["archive", "show", &id, "--home", s(&r.home)]).json();
    assert_eq!(
        (v["licence_status"]["status"].as_str(), v["licence_status"]["successor"].as_str()),
        (Some("superseded"), Some(new.as_str()))
    );
    r.zy(&["audit", "--home", s(&r.home)]).assert_code(0);
}

/// A change whose sealed version was deleted from the archive: the audit names the transition
/// that has no sealed version.
#[test]
fn audit_finds_a_transition_without_its_sealed_version() {
    let r = Region::init();
    let (_, new) = issued_and_changed(&r);
    r.zy(&["audit", "--home", s(&r.home)]).assert_code(0);
    let id = status_of(&r, &new)["archive_id"].as_str().unwrap().to_string();
    {
        let a = open_archive(&r);
        let rec = a.get(&id).unwrap();
        a.records.remove(id.as_bytes()).unwrap();
        a.by_hash.remove(rec.sha256.as_bytes()).unwrap();
        a.flush().unwrap();
    }
    audit_finds(&r, "has no sealed version");
}

/// A change whose sealed version's hash now leads to another record (the old version): the audit
/// says the transition's sealed version is not the record filed.
#[test]
fn audit_finds_a_swapped_sealed_version() {
    let r = Region::init();
    let (old, new) = issued_and_changed(&r);
    let new_id = status_of(&r, &new)["archive_id"].as_str().unwrap().to_string();
    let old_id = status_of(&r, &old)["archive_id"].as_str().unwrap().to_string();
    {
        let a = open_archive(&r);
        let rec = a.get(&new_id).unwrap();
        a.by_hash.insert(rec.sha256.as_bytes(), old_id.as_bytes()).unwrap();
        a.flush().unwrap();
    }
    audit_finds(&r, "but the filed record");
}

/// Edits the status index entry of version `id` to say `state` (what a tamperer with the store would do).
fn set_index_state(r: &Region, id: &str, state: &str) {
    let a = open_archive(r);
    let t = zhengyin::licence::status::tree(&a).unwrap();
    let key = [b"v\0".as_slice(), id.as_bytes()].concat();
    let mut e: Value = serde_json::from_slice(&t.get(&key).unwrap().unwrap()).unwrap();
    e["state"] = Value::String(state.into());
    t.insert(key, serde_json::to_vec(&e).unwrap()).unwrap();
    a.flush().unwrap();
}

/// An index entry edited to say a superseded version is valid again: the audit compares the
/// index with a replay of the log and names the difference.
#[test]
fn audit_finds_an_index_that_disagrees_with_the_log() {
    let r = Region::init();
    let (old, _) = issued_and_changed(&r);
    set_index_state(&r, &old, "valid");
    assert_eq!(status_of(&r, &old)["status"], "valid", "the edit took");
    audit_finds(&r, "the status index says");
}

/// A transition whose licence record was deleted: the audit (reading the version's history
/// through the identifier index) says no earlier record files the version it acts on.
#[test]
fn audit_finds_a_transition_on_a_version_no_record_files() {
    let r = Region::init();
    let (old, _) = issued_and_changed(&r);
    let id = status_of(&r, &old)["archive_id"].as_str().unwrap().to_string();
    {
        let a = open_archive(&r);
        a.records.remove(id.as_bytes()).unwrap();
        a.flush().unwrap();
    }
    audit_finds(&r, &format!("acts on {old}, which no earlier record files"));
}

/// A version with a licence record and a transition whose index entry was edited is reported
/// once: each identifier's state is checked at the first record of its history only.
#[test]
fn audit_reports_an_edited_index_entry_once() {
    let r = Region::init();
    let (old, _) = issued_and_changed(&r);
    set_index_state(&r, &old, "cancelled");
    let run = r.zy(&["audit", "--home", s(&r.home), "--json"]);
    run.assert_code(1);
    let reasons: Vec<String> = run.json()["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["reason"].as_str().map(str::to_string))
        .collect();
    let want = format!("the status index says {old} is cancelled, the log says superseded");
    assert_eq!(reasons, vec![want], "{}", run.both());
}
