//! Archive speed (issue 4): durable ingest rate with group commit for 10,000 licences, the audit's
//! fixity pass against `sha256sum` over the same bytes, and proof generation at 1,000,000 leaves.
//!
//! Run: `cargo bench --bench archive` (about two and a half minutes on 2 cores). One-shot measurements are
//! printed as `RESULT name value unit`; proof generation runs under criterion.

use std::collections::HashMap;
use std::time::Instant;

use criterion::{black_box, Criterion};
use zhengyin::archive::audit;
use zhengyin::archive::merkle::{self, Hash, NodeSource};
use zhengyin::archive::{Archive, Metadata};

const LICENCES: usize = 10_000;
const LEAVES: u64 = 1_000_000;

/// A sealed licence from the CLI fixture home, or a synthetic PDF-sized blob when none exists.
fn sample_pdf() -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = zhengyin::config::Home { dir: dir.path().join("home") };
    let data: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/data/business-licence.json")).expect("data");
    zhengyin::pki::init(&home, zhengyin::config::DEFAULT_REGION, std::path::Path::new("taian.toml"), true)
        .expect("init");
    zhengyin::licence::issue(&home, "business-licence", &data, None).expect("issue").pdf
}

fn meta(i: usize) -> Metadata {
    Metadata {
        kind: "licence".into(),
        title: format!("营业执照 {i}"),
        identifier: format!("id-{i}"),
        signers: vec!["scjg".into()],
        verification: "TOTAL-PASSED".into(),
        ..Default::default()
    }
}

fn ingest(pdf: &[u8]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = Archive::open(dir.path()).expect("open");
    // Distinct documents: the licence with a numbered trailing comment (content addressing).
    let docs: Vec<Vec<u8>> = (0..LICENCES).map(|i| [pdf, format!("%{i}\n").as_bytes()].concat()).collect();
    let t = Instant::now();
    archive
        .append_many(docs.iter().enumerate().map(|(i, d)| (d.as_slice(), meta(i))).collect())
        .expect("append");
    archive.flush().expect("flush");
    let s = t.elapsed().as_secs_f64();
    println!("RESULT ingest_group_commit_10000 {:.0} records/s ({:.2} s, one flush)", LICENCES as f64 / s, s);

    // The same work acknowledged one document at a time (a flush each), on 500 documents.
    let dir2 = tempfile::tempdir().expect("tempdir");
    let a2 = Archive::open(dir2.path()).expect("open");
    let t = Instant::now();
    for (i, d) in docs.iter().take(500).enumerate() {
        a2.append(d, meta(i)).expect("append");
        a2.flush().expect("flush");
    }
    let s = t.elapsed().as_secs_f64();
    println!("RESULT ingest_flush_each_500 {:.0} records/s", 500.0 / s);

    // Audit fixity pass (no document re-verification) against sha256sum over the same bytes.
    let total: usize = docs.iter().map(Vec::len).sum();
    let root = archive.root(archive.size()).map(|r| (archive.size(), r));
    let noop = |_: &[u8]| (Ok(()), Ok(()));
    let t = Instant::now();
    let report = audit::audit(&archive, root, &[], &noop, None, &mut |_, _| {});
    let s = t.elapsed().as_secs_f64();
    assert!(report.clean, "{:?}", report.problems.first());
    let ours = total as f64 / s / 1e6;
    let file = dir.path().join("all.bin");
    std::fs::write(&file, docs.concat()).expect("write");
    let t = Instant::now();
    let ok = std::process::Command::new("sha256sum")
        .arg(&file)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let s2 = t.elapsed().as_secs_f64();
    println!("RESULT audit_fixity {ours:.0} MB/s over {} MB", total / 1_000_000);
    if ok {
        let theirs = total as f64 / s2 / 1e6;
        println!("RESULT sha256sum {theirs:.0} MB/s; audit/sha256sum = {:.0}%", ours / theirs * 100.0);
    }
}

struct Mem(HashMap<(u32, u64), Hash>);
impl NodeSource for Mem {
    fn node(&self, l: u32, i: u64) -> Option<Hash> {
        self.0.get(&(l, i)).copied()
    }
}

fn proofs(c: &mut Criterion) {
    let mut m = Mem(HashMap::new());
    for i in 0..LEAVES {
        let h = merkle::hash_leaf(&i.to_be_bytes());
        for (l, j, x) in merkle::nodes_for_append(&m, i, h).expect("nodes") {
            m.0.insert((l, j), x);
        }
    }
    // The same nodes in sled, written as ingest writes them: in append order (node (l, i) is
    // completed by leaf (i+1)·2^l − 1), 512 at a time (≈ one 256-record chunk). One batch of all
    // 2·10⁶ nodes — what this bench did before 2026-11-25 — leaves sled with oversized pages: 6 s to
    // reopen and ~65 ms per cold page, which no real archive has.
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = Archive::open(dir.path()).expect("open");
    let mut order: Vec<(&(u32, u64), &Hash)> = m.0.iter().collect();
    order.sort_by_key(|((l, i), _)| ((i + 1) << l, *l));
    for chunk in order.chunks(512) {
        let mut batch = sled::Batch::default();
        for ((l, i), h) in chunk {
            let mut k = [0u8; 12];
            k[..4].copy_from_slice(&l.to_be_bytes());
            k[4..].copy_from_slice(&i.to_be_bytes());
            batch.insert(&k[..], &h[..]);
        }
        archive.nodes.apply_batch(batch).expect("batch");
    }
    archive.flush().expect("flush");
    drop(archive);
    // Proofs for pseudo-random leaves, so the in-memory memo of upper nodes helps only as much as
    // it would for a service answering requests for arbitrary records.
    let state = std::cell::Cell::new(777_777u64);
    let next = || {
        state
            .set(state.get().wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407));
        (state.get() >> 24) % LEAVES
    };
    // Cold: the first proofs after opening (empty memo, sled pages not yet cached).
    let t = Instant::now();
    let archive = Archive::open(dir.path()).expect("reopen");
    println!("RESULT open_1m_leaves {:.0} ms (reopening the archive)", t.elapsed().as_secs_f64() * 1e3);
    for k in 1..=3 {
        let t = Instant::now();
        black_box(merkle::inclusion_proof(&archive, next(), LEAVES).expect("proof"));
        println!(
            "RESULT inclusion_cold_{k} {:.0} µs (proof number {k} after opening the archive)",
            t.elapsed().as_secs_f64() * 1e6
        );
    }
    let mut g = c.benchmark_group("proof_1m_leaves");
    g.bench_function("inclusion_memory", |b| {
        b.iter(|| merkle::inclusion_proof(&m, black_box(777_777), LEAVES))
    });
    g.bench_function("inclusion_sled_no_memo_random_leaf", |b| {
        b.iter(|| merkle::inclusion_proof(&archive.stored(), black_box(next()), LEAVES))
    });
    g.bench_function("inclusion_sled_random_leaf", |b| {
        b.iter(|| merkle::inclusion_proof(&archive, black_box(next()), LEAVES))
    });
    g.bench_function("inclusion_sled_leaf_777777", |b| {
        b.iter(|| merkle::inclusion_proof(&archive, black_box(777_777), LEAVES))
    });
    g.bench_function("consistency_sled", |b| {
        b.iter(|| merkle::consistency_proof(&archive, black_box(654_321), LEAVES))
    });
    g.finish();
}

fn main() {
    let pdf = sample_pdf();
    ingest(&pdf);
    let mut c = Criterion::default().sample_size(30).configure_from_args();
    proofs(&mut c);
    c.final_summary();
}
