//! `zhengyin archive renew` killed part-way (SIGKILL) and run again: every renewal it acknowledged
//! survives, each record ends renewed exactly once, nothing is lost, and the audit is clean.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use common::*;

/// Licences in the archive, and records per durable group (so that one run has many groups).
const N: usize = 40;
const GROUP: &str = "4";

/// The archive's records: id → the id it renews ("" for an original).
fn renews(home: &Path) -> BTreeMap<String, String> {
    let a = zhengyin::archive::Archive::open(&home.join("archive")).expect("open the archive");
    a.list().into_iter().map(|r| r.expect("record")).map(|r| (r.id, r.metadata.renews)).collect()
}

/// `renewed OLD -> NEW` lines.
fn pairs(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("renewed ")?.split_once(" -> "))
        .map(|(o, n)| (o.to_string(), n.to_string()))
        .collect()
}

/// SIGKILL during `archive renew --batch 4` (right after its first acknowledged group, or after
/// its third), then a rerun: every acknowledged renewal is in the archive, every original licence
/// is renewed by exactly one record (none twice, none left), the log holds each record once and
/// the audit is clean; at least one kill landed part-way.
#[test]
fn renew_killed_part_way_then_rerun_renews_each_record_once() {
    let r = Region::init();
    let line = serde_json::to_string(&sample_data("business-licence")).unwrap();
    let recs = r.path("records.jsonl");
    std::fs::write(&recs, format!("{line}\n").repeat(N)).unwrap();
    let out = r.path("issued");
    let issue = ["issue", "--home", s(&r.home), "--template", "business-licence", "--batch", s(&recs)];
    r.zy(&[&issue[..], &["--out-dir", s(&out)]].concat()).assert_code(0);
    let originals: BTreeSet<String> = renews(&r.home).into_keys().collect();
    assert_eq!(originals.len(), N);

    let mut part_way = 0;
    for (iter, acks_before_kill) in [1usize, 3].into_iter().enumerate() {
        let home = r.path(&format!("home-{iter}"));
        copy_dir(&r.home, &home);
        let (mut child, mut stdout) =
            r.spawn_reading(&["archive", "renew", "--home", s(&home), "--before", "0", "--batch", GROUP]);
        let mut acked = String::new();
        let lines = acks_before_kill * GROUP.parse::<usize>().unwrap();
        for _ in 0..lines {
            if std::io::BufRead::read_line(&mut stdout, &mut acked).unwrap_or(0) == 0 {
                break;
            }
        }
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut acked);
        let acked = pairs(&acked);
        let after_kill = renews(&home);
        let renewed = after_kill.values().filter(|o| !o.is_empty()).count();
        eprintln!("kill {iter}: exit {:?}, {renewed} renewed, {} acknowledged", status.code(), acked.len());
        if status.code().is_none() && renewed > 0 && renewed < N {
            part_way += 1;
        }
        for (old, new) in &acked {
            assert_eq!(
                after_kill.get(new),
                Some(old),
                "acknowledged renewal {old} -> {new} lost (kill {iter})"
            );
        }

        let rerun = r.zy(&["archive", "renew", "--home", s(&home), "--before", "0", "--batch", GROUP]);
        rerun.assert_code(0);
        let after = renews(&home);
        assert_eq!(after.len(), 2 * N, "one new record per licence (kill {iter})\n{}", rerun.both());
        let renewed: Vec<&String> = after.values().filter(|o| !o.is_empty()).collect();
        let once: BTreeSet<&String> = renewed.iter().copied().collect();
        assert_eq!(renewed.len(), N, "no licence renewed twice (kill {iter})");
        assert_eq!(once, originals.iter().collect(), "every licence renewed (kill {iter})");
        let again = r.zy(&["archive", "renew", "--home", s(&home), "--before", "0"]);
        assert!(again.stdout.contains("0 of 40 current records renewed"), "{}", again.both());
        let audit = r.zy(&["audit", "--home", s(&home)]);
        assert_eq!(audit.code, 0, "audit after the rerun (kill {iter})\n{}", audit.both());
    }
    assert!(part_way >= 1, "no kill landed part-way through the renewal");
}
