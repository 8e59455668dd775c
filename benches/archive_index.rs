//! Archive lookups at scale (issue 16 §2): lookups by identifier and by holder code through the
//! secondary indexes at 10⁵ and 10⁶ records, and the audit's peak memory at both sizes (each
//! audit in a fresh process, so the build's memory does not count).
//!
//! Run: `cargo bench --bench archive_index` (about three minutes on 2 cores, 1 GB of disk in a
//! temporary directory). Results are printed as `RESULT name value unit`. `ZY_SIZES=100000,300000`
//! picks the sizes; `ZY_KEEP=DIR` builds into DIR/N and reuses an archive already there
//! (`ZY_BUILD_ONLY=1`: only build); `ZY_CACHE_MB` sets the audit's page cache (default: 32 MiB,
//! as `zhengyin audit`).

use std::time::Instant;

use zhengyin::archive::index::By;
use zhengyin::archive::{audit, Archive, Metadata};

const HOLDERS: usize = 50_000;

fn meta(i: usize) -> Metadata {
    Metadata {
        kind: if i.is_multiple_of(10) { "use-record".into() } else { "licence".into() },
        title: format!("营业执照 {i}"),
        identifier: format!("1.2.156.3005.2.TEST.{:08}.001", i / 2),
        holder_code: format!("H{:06}", i % HOLDERS),
        verification: "TOTAL-PASSED".into(),
        ..Default::default()
    }
}

/// Build an archive of `n` small records in `dir` (batches of 10,000, one flush each).
fn build(dir: &std::path::Path, n: usize) {
    let archive = Archive::open(dir).expect("open");
    let t = Instant::now();
    for start in (0..n).step_by(10_000) {
        let docs: Vec<Vec<u8>> =
            (start..(start + 10_000).min(n)).map(|i| format!("record {i}").into_bytes()).collect();
        archive
            .append_many(docs.iter().enumerate().map(|(k, d)| (d.as_slice(), meta(start + k))).collect())
            .expect("append");
        archive.flush().expect("flush");
    }
    println!("RESULT build_{n} {:.0} records/s", n as f64 / t.elapsed().as_secs_f64());
}

fn lookups(dir: &std::path::Path, n: usize) {
    let archive = Archive::open(dir).expect("open");
    let probes = 2_000;
    let t = Instant::now();
    let mut found = 0;
    for k in 0..probes {
        let i = (k * 7919) % n;
        found += archive.find(By::Identifier, &meta(i).identifier).expect("find").len();
    }
    let per = t.elapsed().as_secs_f64() / probes as f64;
    println!("RESULT lookup_identifier_{n} {:.3} ms ({found} records for {probes} lookups)", per * 1e3);
    let t = Instant::now();
    let mut found = 0;
    for k in 0..probes {
        found += archive.find(By::Holder, &format!("H{:06}", (k * 7919) % HOLDERS)).expect("find").len();
    }
    let per = t.elapsed().as_secs_f64() / probes as f64;
    println!("RESULT lookup_holder_{n} {:.3} ms ({} records per holder)", per * 1e3, found / probes);
}

/// A memory figure of this process from /proc/self/status, kB (Linux): `VmHWM` (peak resident)
/// or `VmRSS` (resident now).
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(String::from))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn peak_kb() -> u64 {
    status_kb("VmHWM:")
}

/// In a child process: open the archive, run the audit (fixity, index and log checks; no PDF
/// checks: the records are not PDFs) and print the peak memory.
fn audit_child(dir: &str) {
    // `ZY_CACHE_MB`: sled's page cache for this audit (default: what `zhengyin audit` uses).
    let mb = std::env::var("ZY_CACHE_MB").ok().and_then(|v| v.parse::<u64>().ok());
    zhengyin::archive::set_cache_bytes(mb.map_or(zhengyin::archive::ONE_PASS_CACHE_BYTES, |m| m << 20));
    let archive = Archive::open(std::path::Path::new(dir)).expect("open");
    let (opened, resident) = (peak_kb(), status_kb("VmRSS:"));
    let t = Instant::now();
    let report = audit::audit(&archive, None, &[], &|_| (Ok(()), Ok(())), None, &mut |_, _| {});
    println!("{} {} {:.1} {opened} {resident}", report.records, peak_kb(), t.elapsed().as_secs_f64());
}

fn main() {
    // `ZY_AUDIT_CHILD=DIR`: only open and audit the archive in DIR (also to measure an archive
    // kept from an earlier run; its first open by a newer zhengyin may migrate its index).
    if let Some(dir) = std::env::var_os("ZY_AUDIT_CHILD") {
        audit_child(&dir.to_string_lossy());
        return;
    }
    let sizes: Vec<usize> = std::env::var("ZY_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000, 1_000_000]);
    for n in sizes {
        // `ZY_KEEP=DIR`: build into DIR/N and keep it; an archive already there is reused.
        let kept = std::env::var_os("ZY_KEEP").map(|d| std::path::PathBuf::from(d).join(n.to_string()));
        let temp = tempfile::tempdir().expect("tempdir");
        let dir = kept.as_deref().unwrap_or(temp.path());
        if !dir.join("db").exists() {
            build(dir, n);
        }
        if std::env::var_os("ZY_BUILD_ONLY").is_some() {
            continue;
        }
        lookups(dir, n);
        let out = std::process::Command::new(std::env::current_exe().expect("exe"))
            .env("ZY_AUDIT_CHILD", dir)
            .output()
            .expect("audit child");
        let line = String::from_utf8_lossy(&out.stdout);
        let f: Vec<&str> = line.split_whitespace().collect();
        if let [records, peak, secs, opened, resident] = f.as_slice() {
            println!(
                "RESULT audit_{n} peak {peak} kB (open: peak {opened} kB, then {resident} kB resident), {secs} s for {records} records"
            );
        } else {
            println!("RESULT audit_{n} failed: {line} {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}
