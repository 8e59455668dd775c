//! The audit's memory does not grow with the archive (issue 16 §2, docs/BENCHMARKS.md "Archive
//! lookups and the audit at scale"): the audit streams the records, and sled's page cache stays
//! within what it is given. Measured as the heap the audit holds above the archive just opened,
//! counted by this test binary's allocator (bytes live, not RSS: the same run gives the same count,
//! whatever the machine's load), on an archive of 2,000 records and one of twelve times as many.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use zhengyin::archive::{audit, Archive, Metadata};

/// The system allocator, counting the bytes live now and the most live since the last reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; only counters are updated beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        grew(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// sled's page cache in this test (as the vendored sled counts it: about the pages' size in
/// memory). Both archives below are several times larger, so the cache is full in both.
const CACHE: u64 = 1 << 20;

/// Small synthetic records like the bench's (one identifier per two records, 500 holders).
fn meta(i: usize) -> Metadata {
    Metadata {
        kind: "licence".into(),
        title: format!("营业执照 {i}"),
        identifier: format!("1.2.156.3005.2.TEST.{:08}.001", i / 2),
        holder_code: format!("H{:06}", i % 500),
        verification: "TOTAL-PASSED".into(),
        ..Default::default()
    }
}

/// Build an archive of `n` records in `dir`.
fn build(dir: &std::path::Path, n: usize) {
    let archive = Archive::open(dir).unwrap();
    for start in (0..n).step_by(1_000) {
        let docs: Vec<Vec<u8>> = (start..start + 1_000).map(|i| format!("record {i}").into_bytes()).collect();
        let batch = docs.iter().enumerate().map(|(k, d)| (d.as_slice(), meta(start + k))).collect();
        archive.append_many(batch).unwrap();
    }
    archive.flush().unwrap();
}

/// The archive in `dir`, audited by a fresh process (this binary, running only
/// [`audit_child`]), so that nothing of the build is live: the heap the audit held at its peak
/// above the archive just opened, in bytes.
fn audit_heap(dir: &std::path::Path, n: usize) -> usize {
    build(dir, n);
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "audit_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // The harness prints the test's name on the same line, before the figure.
    let held = text.split("HELD ").nth(1).and_then(|v| v.split_whitespace().next()?.parse().ok());
    held.unwrap_or_else(|| {
        panic!("no figure from the audit child: {text} {}", String::from_utf8_lossy(&out.stderr))
    })
}

/// Where [`audit_child`] finds the archive to audit; unset, it does nothing.
const CHILD_DIR: &str = "ZY_AUDIT_MEMORY_DIR";

/// (Run by [`audit_heap`] in a child process.) Open the archive with the small cache, audit it,
/// check it is clean, and print the heap held above the open archive.
#[test]
fn audit_child() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else { return };
    zhengyin::archive::set_cache_bytes(CACHE);
    // The parent has just closed the archive; sled's background writes may hold its lock a moment.
    let open = || Archive::open(std::path::Path::new(&dir));
    let mut archive = open();
    for _ in 0..50 {
        if archive.is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        archive = open();
    }
    let archive = archive.unwrap();
    let opened = LIVE.load(Ordering::Relaxed);
    PEAK.store(opened, Ordering::Relaxed);
    let report = audit::audit(&archive, None, &[], &|_| (Ok(()), Ok(())), None, &mut |_, _| {});
    let held = PEAK.load(Ordering::Relaxed).saturating_sub(opened);
    // No signed tree head in this archive: that is the only finding.
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    println!("HELD {held}");
}

/// Twelve times the records, about the same audit heap: no per-record state in the audit, and
/// sled's cache counts every page it reads (vendored sled: the LRU's shards are at least 1 MiB,
/// its access queues 16 deep). Measured: 2.2 MB at 2,000 records and 4.7 MB at 24,000; with
/// sled's LRU as published, which left up to 16,000 read pages uncounted, 17 MB at 16,000 records
/// already (with a 256 KiB cache).
#[test]
fn audit_heap_does_not_grow_with_the_archive() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let small = audit_heap(a.path(), 2_000);
    let large = audit_heap(b.path(), 24_000);
    eprintln!("audit heap above open: {small} bytes at 2,000 records, {large} at 24,000");
    // Holding the records would add 22,000 × ~500 bytes = 11 MB; sled's LRU as published, more.
    assert!(large < small + (8 << 20), "audit heap grew from {small} to {large} bytes");
}
