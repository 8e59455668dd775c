//! A damaged sled store (issue 10 point 7): flipped bytes in the stored values and in sled's own
//! files never make `archive list` or `audit` abort or allocate without bound — each run is a child
//! under `ulimit -v` (2 GB), so an attempt at a huge allocation fails the test — and the audit
//! names the damaged record. A store held by another process is told apart from a corrupt one.

mod api_support;
mod common;

use std::path::Path;

use common::*;
use zhengyin::archive::Archive;

/// Virtual memory limit of every child, in KiB (2 GB).
const LIMIT_KB: &str = "2000000";

/// Run the CLI under `ulimit -v`.
fn limited(r: &Region, args: &[&str]) -> Run {
    let mut a = vec!["-c", "ulimit -v \"$0\" && exec \"$@\"", LIMIT_KB, BIN];
    a.extend_from_slice(args);
    run_in(r.dir.path(), "sh", &a)
}

/// Exit 0, 1 or 2 with no panic and no failed allocation.
fn assert_bounded(run: &Run, what: &str) {
    assert!([0, 1, 2].contains(&run.code), "{what}: exit {} (killed or aborted?)\n{}", run.code, run.both());
    for bad in ["panicked", "memory allocation", "capacity overflow"] {
        assert!(!run.stderr.contains(bad), "{what}: {bad}\n{}", run.both());
    }
}

/// Put the pristine archive back.
fn restore(r: &Region, pristine: &Path) {
    let dir = r.home.join("archive");
    std::fs::remove_dir_all(&dir).unwrap();
    copy_dir(pristine, &dir);
}

/// A home with three issued licences and a pristine copy of its archive.
fn setup() -> (Region, std::path::PathBuf, Vec<String>) {
    let r = Region::init();
    for i in 0..3 {
        r.issue("business-licence", None, &format!("l{i}.pdf"));
    }
    let list = r.zy(&["archive", "list", "--home", s(&r.home)]);
    list.assert_code(0);
    let ids: Vec<String> =
        list.stdout.lines().filter_map(|l| l.split_whitespace().next().map(str::to_string)).collect();
    assert_eq!(ids.len(), 3, "{}", list.both());
    let pristine = r.path("pristine");
    copy_dir(&r.home.join("archive"), &pristine);
    (r, pristine, ids)
}

/// The record a damaged value belongs to: records are keyed by id, blobs and by_hash by SHA-256,
/// leaf nodes by index (the record at that leaf); everything else is the log's.
fn owner(tree: &str, key: &[u8], value: &[u8], leaf_owner: &dyn Fn(u64) -> String) -> String {
    match tree {
        // Both map to the record id (by_hash: its bytes, or the file as received; index: lookups).
        "by_hash" | "index" => String::from_utf8_lossy(value).into_owned(),
        "records" => String::from_utf8_lossy(key).into_owned(),
        "blobs" => format!("ZY{}", String::from_utf8_lossy(&key[..20]).to_uppercase()),
        "nodes" if key[..4] == [0, 0, 0, 0] => leaf_owner(u64::from_be_bytes(key[4..12].try_into().unwrap())),
        _ => "log".into(),
    }
}

/// Every Nth byte of every stored value (records, blob locations, the hash index, log nodes, the
/// size and the signed tree head) flipped one at a time: list and audit stay bounded, the audit
/// exits 1 and names the damaged record.
#[test]
fn flipped_stored_values_are_reported_with_their_record() {
    let (r, pristine, _) = setup();
    // (tree, key, value) of the pristine store, and the record at each leaf.
    let mut values: Vec<(&str, Vec<u8>, Vec<u8>)> = Vec::new();
    let mut leaf_ids = std::collections::BTreeMap::new();
    {
        let a = Archive::open(&r.home.join("archive")).unwrap();
        for rec in a.list() {
            let rec = rec.unwrap();
            leaf_ids.insert(rec.leaf_index, rec.id);
        }
        for (name, tree) in [
            ("records", &a.records),
            ("blobs", &a.blobs),
            ("by_hash", &a.by_hash),
            ("nodes", &a.nodes),
            ("meta", &a.meta),
            ("checkpoints", &a.checkpoints),
            ("index", &a.index),
        ] {
            for kv in tree.iter() {
                let (k, v) = kv.unwrap();
                if k.as_ref() == b"index_version" {
                    continue; // derived: a damaged version makes open rebuild the index
                }
                values.push((name, k.to_vec(), v.to_vec()));
            }
        }
    }
    let leaf_owner = |i: u64| leaf_ids.get(&i).cloned().unwrap_or_else(|| "log".into());
    let mut cases = 0;
    for (tree, key, value) in &values {
        let step = if *tree == "records" {
            97
        } else if *tree == "index" {
            64 // one flip per entry: each names its record
        } else if value.len() > 64 {
            41
        } else {
            7
        };
        for at in (0..value.len()).step_by(step) {
            restore(&r, &pristine);
            {
                let a = Archive::open(&r.home.join("archive")).unwrap();
                let mut v = value.clone();
                v[at] ^= 0x80; // never valid UTF-8 inside JSON; changes every number it touches
                let t = match *tree {
                    "records" => &a.records,
                    "blobs" => &a.blobs,
                    "by_hash" => &a.by_hash,
                    "nodes" => &a.nodes,
                    "checkpoints" => &a.checkpoints,
                    "index" => &a.index,
                    _ => &a.meta,
                };
                t.insert(key.as_slice(), v).unwrap();
                a.flush().unwrap();
            }
            let what = format!("{tree} {} byte {at}", String::from_utf8_lossy(key));
            let list = limited(&r, &["archive", "list", "--home", s(&r.home)]);
            assert_bounded(&list, &format!("list, {what}"));
            let audit = limited(&r, &["audit", "--home", s(&r.home), "--json"]);
            assert_bounded(&audit, &format!("audit, {what}"));
            assert_eq!(audit.code, 1, "audit must find the damage ({what})\n{}", audit.both());
            let want = owner(tree, key, value, &leaf_owner);
            let named =
                audit.json()["problems"].as_array().unwrap().iter().any(|p| p["record"] == want.as_str());
            assert!(named, "audit must name {want} ({what})\n{}", audit.both());
            cases += 1;
        }
    }
    assert!(cases > 40, "only {cases} cases");
}

/// Every Nth byte of sled's own files flipped one at a time: list and audit exit 0, 1 or 2 with a
/// message, never abort; a store that cannot be opened is called corrupt, not "another process".
#[test]
fn flipped_bytes_in_sled_files_never_abort() {
    let (r, pristine, _) = setup();
    let mut files: Vec<(String, usize)> = Vec::new();
    for e in std::fs::read_dir(&pristine).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().unwrap().is_file() {
            // The db file is mostly zero padding after its used part.
            let used = std::fs::read(e.path()).unwrap().iter().rposition(|b| *b != 0).map_or(0, |p| p + 1);
            files.push((name, used));
        }
    }
    let (mut corrupt, mut cases) = (0, 0);
    for (name, used) in &files {
        let step = if name == "db" { 53 } else { 17 };
        for at in (0..*used).step_by(step) {
            restore(&r, &pristine);
            let p = r.home.join("archive").join(name);
            let mut b = std::fs::read(&p).unwrap();
            b[at] ^= 0x5a;
            std::fs::write(&p, b).unwrap();
            for cmd in [&["archive", "list"][..], &["audit"][..]] {
                let mut args = cmd.to_vec();
                args.extend(["--home", s(&r.home)]);
                let run = limited(&r, &args);
                let what = format!("{cmd:?}, {name} byte {at}");
                assert_bounded(&run, &what);
                if run.code == 2 {
                    assert!(
                        !run.stderr.contains("another"),
                        "{what}: a damaged store is not a lock\n{}",
                        run.both()
                    );
                    assert!(
                        run.stderr.contains("corrupt"),
                        "{what}: the error must say the archive is corrupt\n{}",
                        run.both()
                    );
                    corrupt += 1;
                }
            }
            cases += 1;
        }
    }
    assert!(cases > 40 && corrupt > 0, "{cases} cases, {corrupt} refused as corrupt");
}

/// A store held by another process is reported as in use, not as corrupt.
#[test]
fn a_store_held_elsewhere_is_named_in_use() {
    let (r, _, _) = setup();
    let held = Archive::open(&r.home.join("archive")).unwrap();
    let run = r.zy(&["archive", "list", "--home", s(&r.home)]);
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("in use by another process"), "{}", run.both());
    assert!(!run.stderr.contains("corrupt"), "{}", run.both());
    drop(held);
}

/// A damaged blob location (a huge length) on a running server: POST /v1/audit answers with the
/// damaged record named, and the server keeps answering /healthz.
#[test]
fn server_audit_survives_a_damaged_store() {
    let (r, _, ids) = setup();
    {
        let a = Archive::open(&r.home.join("archive")).unwrap();
        let rec = a.get(&ids[0]).unwrap();
        let mut loc = a.blobs.get(rec.sha256.as_bytes()).unwrap().unwrap().to_vec();
        loc[12] ^= 0x80; // length ≈ 2⁶³
        a.blobs.insert(rec.sha256.as_bytes(), loc).unwrap();
        a.flush().unwrap();
    }
    let home = zhengyin::config::Home { dir: r.home.clone() };
    let server = api_support::start(&home, zhengyin::api::ServeConfig::default(), None);
    let token = api_support::token(&home, zhengyin::api::auth::Role::Archivist);
    let audit =
        api_support::post_json(&format!("{}/v1/audit", server.url), Some(&token), &serde_json::json!({}));
    assert_eq!(audit.status, 200, "{}", String::from_utf8_lossy(&audit.body));
    let v = audit.json();
    assert!(v["problems"].as_array().unwrap().iter().any(|p| p["record"] == ids[0].as_str()), "{v}");
    assert_eq!(api_support::call("GET", &format!("{}/healthz", server.url), None, None, None).status, 200);
}

/// A use record whose stored bytes were altered is not read back as if intact: `proof uses`
/// fails naming the record's fixity, instead of answering from the altered bytes.
#[test]
fn altered_use_record_fails_its_fixity_check() {
    let r = Region::init();
    let home = s(&r.home);
    let csv = repo().join("fixtures/holders/rs-social-insurance.csv");
    r.zy(&["data", "load", "--home", home, "--dept", "rs", s(&csv)]).assert_code(0);
    // Synthetic subject from fixtures/holders/rs-social-insurance.csv.
    let subject = "370902199001011235";
    let pdf = r.path("proof.pdf");
    r.zy(&[
        "proof",
        "request",
        "--home",
        home,
        "--by",
        "xzsp",
        "--kind",
        "social-insurance",
        "--subject",
        subject,
        "--purpose",
        "370900-XK-0001",
        "-o",
        s(&pdf),
    ])
    .assert_code(0);
    r.zy(&["proof", "uses", "--home", home, "--subject", subject]).assert_code(0);
    let id = {
        let a = Archive::open(&r.home.join("archive")).unwrap();
        let rec = a
            .list()
            .into_iter()
            .filter_map(|x| x.ok())
            .find(|x| x.metadata.kind == "use-record")
            .expect("a use record");
        let (pack, offset, len) = a.blob_location(&rec.sha256).unwrap();
        let mut b = std::fs::read(&pack).unwrap();
        let k = usize::try_from(offset + len / 2).unwrap();
        b[k] ^= 0x01;
        std::fs::write(&pack, b).unwrap();
        rec.id
    };
    let run = r.zy(&["proof", "uses", "--home", home, "--subject", subject]);
    assert_ne!(run.code, 0, "{}", run.both());
    assert!(run.stderr.contains("fixity") && run.stderr.contains(&id), "{}", run.both());
}
