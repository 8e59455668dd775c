//! End-to-end tests of the single-track archive: auto-archiving on issue, idempotent ingest,
//! inclusion and consistency proofs (checked by the CLI and by an independent RFC 9162 verifier
//! written here), DA/T 70 audits over deliberately damaged stores, refusal of documents that do
//! not verify, and crash safety of `archive ingest` under SIGKILL. See docs/archive.md.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine;
use serde_json::Value;

use common::*;
use zhengyin::archive::Archive;

/// Issue `n` business licences into `<dir>/<prefix>-<i>.pdf`; returns (paths, record ids).
fn issue_n(r: &Region, prefix: &str, n: usize) -> (Vec<PathBuf>, Vec<String>) {
    let (mut pdfs, mut ids) = (Vec::new(), Vec::new());
    for i in 0..n {
        let (pdf, run) = r.issue("business-licence", None, &format!("{prefix}-{i:03}.pdf"));
        let id = run
            .stdout
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("archived")
                    .map(|x| x.split_whitespace().next().unwrap_or("").to_string())
            })
            .unwrap_or_else(|| panic!("issue did not report an archived record\n{}", run.both()));
        pdfs.push(pdf);
        ids.push(id);
    }
    (pdfs, ids)
}

fn list_count(r: &Region, home: &Path) -> usize {
    let l = r.zy(&["archive", "list", "--home", s(home)]);
    l.assert_code(0);
    l.stdout.lines().filter(|x| !x.trim().is_empty()).count()
}

fn audit_json(r: &Region, home: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["audit", "--home", s(home), "--json"];
    args.extend_from_slice(extra);
    r.zy(&args)
}

/// Problems of an audit report as (record, property, reason).
fn problems(v: &Value) -> Vec<(String, String, String)> {
    v["problems"]
        .as_array()
        .expect("problems array")
        .iter()
        .map(|p| {
            (
                p["record"].as_str().unwrap_or("").to_string(),
                p["property"].as_str().unwrap_or("").to_string(),
                p["reason"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn open_archive(home: &Path) -> Archive {
    Archive::open(&home.join("archive")).expect("open the archive (no CLI may be running)")
}

fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut c = ring::digest::Context::new(&ring::digest::SHA256);
    for p in parts {
        c.update(p);
    }
    let mut h = [0u8; 32];
    h.copy_from_slice(c.finish().as_ref());
    h
}

fn unhex(s: &str) -> [u8; 32] {
    let v: Vec<u8> =
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect();
    v.try_into().expect("32-byte hash")
}

/// RFC 9162 §2.1.3.2, written from the RFC text (independent of src/archive/merkle.rs).
fn rfc9162_verify_inclusion(
    entry: &[u8],
    leaf_index: u64,
    tree_size: u64,
    path: &[[u8; 32]],
    root: &[u8; 32],
) -> bool {
    if leaf_index >= tree_size {
        return false;
    }
    let (mut fnn, mut sn) = (leaf_index, tree_size - 1);
    let mut r = sha256(&[&[0u8], entry]);
    for p in path {
        if sn == 0 {
            return false;
        }
        if fnn & 1 == 1 || fnn == sn {
            r = sha256(&[&[1u8], p, &r]);
            if fnn & 1 == 0 {
                while !(fnn & 1 == 1 || fnn == 0) {
                    fnn >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = sha256(&[&[1u8], &r, p]);
        }
        fnn >>= 1;
        sn >>= 1;
    }
    sn == 0 && &r == root
}

/// Change one hex character (0↔1 etc.) at the start of a hex string.
fn flip_hex(s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    c[0] = if c[0] == '0' { '1' } else { '0' };
    c.into_iter().collect()
}

/// A cheap random number (no rand dependency): hash of a fresh RandomState.
fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    h.finish()
}

/// Issued licences are auto-archived, listed, audit clean, and re-ingesting identical bytes adds no leaf.
#[test]
fn issue_archives_and_reingest_is_idempotent() {
    let r = Region::init();
    let (pdfs, ids) = issue_n(&r, "lic", 3);
    assert_eq!(
        ids.iter().collect::<std::collections::BTreeSet<_>>().len(),
        3,
        "three distinct records: {ids:?}"
    );
    assert_eq!(list_count(&r, &r.home), 3);
    let list = r.zy(&["archive", "list", "--home", s(&r.home)]);
    for id in &ids {
        assert!(list.stdout.contains(id.as_str()), "list lacks {id}\n{}", list.both());
    }
    let a = audit_json(&r, &r.home, &[]);
    a.assert_code(0);
    let v = a.json();
    assert_eq!(v["clean"], Value::Bool(true), "{}", a.both());
    assert_eq!(v["records"], 3);
    assert_eq!(v["log_size"], 3);

    let again = r.zy(&["archive", "ingest", "--home", s(&r.home), s(&pdfs[1])]);
    again.assert_code(0);
    assert!(again.stdout.contains("(already archived)"), "{}", again.both());
    assert!(again.stdout.contains(ids[1].as_str()), "{}", again.both());
    let th = r.zy(&["archive", "tree-head", "--home", s(&r.home)]);
    th.assert_code(0);
    assert_eq!(th.stdout.lines().nth(1), Some("3"), "log size must stay 3\n{}", th.both());
    assert!(th.stdout.lines().next().unwrap_or("").ends_with("/archive"), "{}", th.both());
    assert_eq!(list_count(&r, &r.home), 3);

    // `archive get` returns the exact bytes.
    let out = r.path("got.pdf");
    r.zy(&["archive", "get", "--home", s(&r.home), &ids[0], "-o", s(&out)]).assert_code(0);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&pdfs[0]).unwrap());
}

/// Inclusion and consistency proofs verify offline, fail when tampered, and match an independent RFC 9162 verifier.
#[test]
fn proofs_verify_and_tampering_is_detected() {
    let r = Region::init();
    let (_, ids) = issue_n(&r, "lic", 3);
    for (i, id) in ids.iter().enumerate() {
        let p = r.zy(&["archive", "proof", "--home", s(&r.home), id]);
        p.assert_code(0);
        let v = p.json();
        let file = r.path(&format!("proof-{i}.json"));
        std::fs::write(&file, &p.stdout).unwrap();
        r.zy(&["archive", "check-proof", s(&file)]).assert_code(0);

        // Independent check against the checkpoint's root (third line of the note).
        let note = v["checkpoint"].as_str().unwrap();
        let lines: Vec<&str> = note.lines().collect();
        assert!(lines[0].starts_with("zhengyin/") && lines[0].ends_with("/archive"), "origin: {note}");
        assert_eq!(lines[1], "3");
        let root: [u8; 32] =
            base64::engine::general_purpose::STANDARD.decode(lines[2]).unwrap().try_into().unwrap();
        let entry = v["entry"].as_str().unwrap();
        assert!(entry.starts_with(&format!("zhengyin-archive/v1\n{id}\n")), "entry: {entry:?}");
        assert_eq!(entry.lines().count(), 4);
        let path: Vec<[u8; 32]> =
            v["inclusion_path"].as_array().unwrap().iter().map(|h| unhex(h.as_str().unwrap())).collect();
        let (li, ts) = (v["leaf_index"].as_u64().unwrap(), v["tree_size"].as_u64().unwrap());
        assert_eq!(li, i as u64);
        assert_eq!(hex(&sha256(&[&[0u8], entry.as_bytes()])), v["leaf_hash"].as_str().unwrap());
        assert!(
            rfc9162_verify_inclusion(entry.as_bytes(), li, ts, &path, &root),
            "independent verifier rejects proof {i}"
        );
        assert!(!rfc9162_verify_inclusion(entry.as_bytes(), (li + 1) % 3, ts, &path, &root));

        // Tamper: one hex char of the first path entry.
        let mut t = v.clone();
        t["inclusion_path"][0] = Value::String(flip_hex(v["inclusion_path"][0].as_str().unwrap()));
        std::fs::write(&file, serde_json::to_string(&t).unwrap()).unwrap();
        r.zy(&["archive", "check-proof", s(&file)]).assert_code(1);
        // Tamper: the leaf index.
        let mut t = v.clone();
        t["leaf_index"] = Value::from((li + 1) % 3);
        std::fs::write(&file, serde_json::to_string(&t).unwrap()).unwrap();
        r.zy(&["archive", "check-proof", s(&file)]).assert_code(1);
    }

    let c = r.zy(&["archive", "consistency", "1", "--home", s(&r.home)]);
    c.assert_code(0);
    let v = c.json();
    let file = r.path("consistency.json");
    std::fs::write(&file, &c.stdout).unwrap();
    r.zy(&["archive", "check-proof", s(&file)]).assert_code(0);
    let mut t = v.clone();
    t["consistency_path"][0] = Value::String(flip_hex(v["consistency_path"][0].as_str().unwrap()));
    std::fs::write(&file, serde_json::to_string(&t).unwrap()).unwrap();
    r.zy(&["archive", "check-proof", s(&file)]).assert_code(1);
    let mut t = v.clone();
    t["old_root"] = Value::String(flip_hex(v["old_root"].as_str().unwrap()));
    std::fs::write(&file, serde_json::to_string(&t).unwrap()).unwrap();
    r.zy(&["archive", "check-proof", s(&file)]).assert_code(1);
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Audit names the record and property for each kind of damage: blob (intact), deleted record (secure), edited metadata (authentic), rewritten log node (secure).
#[test]
fn audit_detects_damage() {
    // Each case: set up a fresh home with 3 records, damage it, audit.
    let case = |damage: &dyn Fn(&Archive, &[String]),
                expect_record: &dyn Fn(&[String]) -> String,
                property: &str,
                reason_part: &str| {
        let r = Region::init();
        let (_, ids) = issue_n(&r, "lic", 3);
        {
            let a = open_archive(&r.home);
            damage(&a, &ids);
            a.flush().unwrap();
        }
        let run = audit_json(&r, &r.home, &[]);
        run.assert_code(1);
        let v = run.json();
        assert_eq!(v["clean"], Value::Bool(false));
        let want = expect_record(&ids);
        assert!(
            problems(&v)
                .iter()
                .any(|(rec, prop, reason)| *rec == want && prop == property && reason.contains(reason_part)),
            "expected a `{property}` problem for {want} mentioning {reason_part:?}\n{}",
            run.both()
        );
    };
    // Intact: flip a byte of a stored blob.
    case(
        &|a, ids| {
            let rec = a.get(&ids[1]).unwrap();
            let (pack, offset, len) = a.blob_location(&rec.sha256).unwrap();
            let mut b = std::fs::read(&pack).unwrap();
            let k = usize::try_from(offset + len / 2).unwrap();
            b[k] ^= 0x01;
            std::fs::write(&pack, b).unwrap();
        },
        &|ids| ids[1].clone(),
        "intact",
        "fixity",
    );
    // Secure: a record deleted from the records tree leaves its log leaf orphaned.
    case(
        &|a, ids| {
            a.records.remove(ids[0].as_bytes()).unwrap();
        },
        &|_| "log".to_string(),
        "secure",
        "has no record",
    );
    // Authentic: a metadata field edited in the record JSON no longer matches its leaf.
    case(
        &|a, ids| {
            let raw = a.records.get(ids[2].as_bytes()).unwrap().unwrap();
            let mut v: Value = serde_json::from_slice(&raw).unwrap();
            v["metadata"]["holder"] = Value::String("冒名顶替有限公司".into());
            a.records.insert(ids[2].as_bytes(), serde_json::to_vec(&v).unwrap()).unwrap();
        },
        &|ids| ids[2].clone(),
        "authentic",
        "differs from log leaf",
    );
    // Secure: the stored node at level 1 index 0 overwritten with random bytes.
    case(
        &|a, _| {
            let mut key = [0u8; 12];
            key[..4].copy_from_slice(&1u32.to_be_bytes());
            key[4..].copy_from_slice(&0u64.to_be_bytes());
            assert!(a.nodes.get(key).unwrap().is_some(), "node (1,0) exists with ≥ 2 records");
            let mut junk = [0u8; 32];
            for (i, c) in junk.chunks_mut(8).enumerate() {
                c.copy_from_slice(&(rand_u64() ^ i as u64).to_be_bytes());
            }
            a.nodes.insert(key, &junk[..]).unwrap();
        },
        &|_| "log".to_string(),
        "secure",
        "",
    );
}

/// Ingest refuses unsigned and tampered PDFs with one error line (exit 2) and adds nothing.
#[test]
fn ingest_refuses_documents_that_do_not_verify() {
    let r = Region::init();
    let (pdfs, _) = issue_n(&r, "lic", 1);
    let signed = std::fs::read(&pdfs[0]).unwrap();
    assert_eq!(list_count(&r, &r.home), 1);

    // Tampered: one byte inside the first signed byte range.
    let mut bad = signed.clone();
    let k = creation_date_digit(&bad);
    assert!(k < byte_range(&bad)[1]);
    bad[k] = if bad[k] == b'9' { b'8' } else { b'9' };
    let tampered = r.path("tampered.pdf");
    std::fs::write(&tampered, &bad).unwrap();
    let run = r.zy(&["archive", "ingest", "--home", s(&r.home), s(&tampered)]);
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("refusing to archive"), "{}", run.both());
    assert_eq!(list_count(&r, &r.home), 1);

    // Unsigned: a minimal, well-formed PDF with no signature at all.
    let unsigned = r.path("unsigned.pdf");
    std::fs::write(&unsigned, minimal_pdf()).unwrap();
    let run = r.zy(&["archive", "ingest", "--home", s(&r.home), s(&unsigned)]);
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("refusing to archive"), "{}", run.both());
    assert_eq!(list_count(&r, &r.home), 1);
    let th = r.zy(&["archive", "tree-head", "--home", s(&r.home)]);
    assert_eq!(th.stdout.lines().nth(1), Some("1"), "{}", th.both());
}

/// A minimal, well-formed, unsigned one-page PDF with correct xref offsets.
fn minimal_pdf() -> Vec<u8> {
    let objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        "<< /Length 35 >>\nstream\nBT /F1 12 Tf 20 100 Td (hi) Tj ET\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ];
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offs = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offs.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for o in offs {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objs.len() + 1).as_bytes(),
    );
    out
}

fn copy_tree(from: &Path, to: &Path, skip: &str) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_name() == skip {
            continue;
        }
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &t, "");
        } else {
            std::fs::copy(e.path(), &t).unwrap();
        }
    }
}

/// SIGKILL during `archive ingest DIR`, each time into a new archive, right after the first
/// durable group was acknowledged or at points spread over the later part of a whole run (where
/// the writes happen): every record a killed run acknowledged on
/// stdout survives, no listed record is missing, damaged or outside the log, the audit is fully
/// clean once the next run has recovered the archive and completed the batch, and at least one
/// kill really landed mid-batch (some but not all records written).
///
/// Right after a kill (before recovery) the only tolerated audit problem is the log having grown
/// past (or having no) signed tree head: records appended in their per-record transactions but
/// killed before the batch's tree head was signed; always records == log_size.
#[test]
fn ingest_survives_sigkill() {
    const N: usize = 60;
    const KILLS: u64 = 8;
    let a = Region::init();
    let docs = a.path("docs");
    std::fs::create_dir_all(&docs).unwrap();
    let (pdfs, ids) = issue_n(&a, "docs/doc", N);
    assert_eq!(pdfs.len(), N);
    assert_eq!(
        ids.iter().collect::<std::collections::BTreeSet<_>>().len(),
        N,
        "issued PDFs must be distinct"
    );
    let fresh_home = |name: &str| {
        let h = a.path(name);
        copy_tree(&a.home, &h, "archive");
        assert!(!h.join("archive").exists());
        // A new archive: its log key has signed nothing yet (log.state is A's mark).
        std::fs::remove_file(h.join("pki/private/log.state")).unwrap();
        h
    };
    // How long one whole run takes here, so the kills can be spread over it (not asserted).
    let scratch = fresh_home("home-scratch");
    let t0 = std::time::Instant::now();
    a.zy(&["archive", "ingest", "--home", s(&scratch), s(&docs)]).assert_code(0);
    let whole_ms = u64::try_from(t0.elapsed().as_millis()).unwrap_or(1000).max(20);

    let mut kills_mid_batch = 0;
    for iter in 0..KILLS {
        let home = fresh_home(&format!("home-{iter}"));
        let mut child = Command::new(BIN)
            .args(["archive", "ingest", "--home", s(&home), s(&docs)])
            .current_dir(a.dir.path())
            .env_remove("ZHENGYIN_HOME")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn ingest");
        // Even kills: right after the first durable group is acknowledged (the rest of the batch
        // is still being written). Odd kills: at a point from 45% to 100% of a whole run.
        let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut acknowledged: Vec<String> = Vec::new();
        let mut line = String::new();
        if iter % 2 == 0 {
            use std::io::BufRead;
            if stdout.read_line(&mut line).unwrap_or(0) > 0 {
                acknowledged.extend(line.split_whitespace().next().map(String::from));
            }
        } else {
            std::thread::sleep(Duration::from_millis(whole_ms * (9 + 2 * iter) / 24 + rand_u64() % 5));
        }
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        // Lines `<record id> <title> leaf N` are acknowledgements: their group was durable.
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut rest);
        acknowledged.extend(
            rest.lines()
                .filter(|l| l.contains(" leaf "))
                .filter_map(|l| l.split_whitespace().next().map(String::from)),
        );
        let run = audit_json(&a, &home, &["--sample", "1"]);
        assert!(run.code == 0 || run.code == 1, "audit could not run after kill {iter}\n{}", run.both());
        let v = run.json();
        assert_eq!(
            v["records"].as_u64(),
            v["log_size"].as_u64(),
            "every record in the log and every leaf with a record (iter {iter})\n{}",
            run.both()
        );
        for (rec, prop, reason) in problems(&v) {
            let tolerated = rec == "log"
                && prop == "secure"
                && (reason == "no signed tree head"
                    || reason.contains("differs from the last signed tree head"));
            assert!(tolerated, "after kill {iter}: {rec} {prop} {reason}\n{}", run.both());
        }
        let written = v["records"].as_u64().unwrap_or(0);
        eprintln!(
            "kill {iter}: exit {:?}, {written} of {N} records, {} acknowledged",
            status.code(),
            acknowledged.len()
        );
        if status.code().is_none() && written > 0 && written < N as u64 {
            kills_mid_batch += 1;
        }
        // Recovery: the next run integrates what the killed one left and completes the batch;
        // then the audit is clean with no tolerance, and every acknowledged record is there.
        a.zy(&["archive", "ingest", "--home", s(&home), s(&docs)]).assert_code(0);
        let run = audit_json(&a, &home, &[]);
        assert_eq!(run.code, 0, "audit after recovery from kill {iter} is clean\n{}", run.both());
        let v = run.json();
        assert_eq!((v["records"].as_u64(), v["log_size"].as_u64()), (Some(N as u64), Some(N as u64)));
        let listed = a.zy(&["archive", "list", "--home", s(&home)]);
        for id in &acknowledged {
            assert!(
                listed.stdout.contains(id.as_str()),
                "acknowledged record {id} was lost\n{}",
                listed.stdout
            );
        }
        assert_eq!(list_count(&a, &home), N);
    }
    assert!(
        kills_mid_batch >= 1,
        "no kill of {KILLS} landed mid-batch (whole run {whole_ms} ms): the test saw no crash"
    );
}
