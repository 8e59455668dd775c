//! Trust across many regions (issue 14, Speed): verifying a Tai'an licence in a home that imported
//! 50 regions' trust lists (about 500 departments in their registries) against a home that imported
//! Tai'an alone, and refreshing all 50 lists with their CRLs and status lists over HTTP.
//!
//! The 49 other regions are generated (`r01` … `r49`, ten departments each, synthetic names and
//! GB 32100-valid codes) and published as files behind a minimal HTTP/1.1 file server on
//! 127.0.0.1 in this process, so a refresh fetches every list, CRL and status list over loopback
//! as `serve` does. Verification uses a trust store built once (a server's steady state);
//! `trust_store_from_home` is what a reload after a refresh costs. Before criterion, both stores
//! are also timed in one interleaved loop in CPU time (`paired`): on the shared machine wall time
//! mostly measures the other processes.
//!
//! Run: `cargo bench --bench regions` (setup about 20 s, then about a minute on 2 cores).
//! Numbers: docs/BENCHMARKS.md ("Trust across regions").

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use criterion::{black_box, Criterion};
use zhengyin::config::Home;
use zhengyin::trust::TrustStore;

const REGIONS: usize = 50;
const DEPARTMENTS: usize = 10;
const CHARSET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";

/// `body` (17 characters) with the GB 32100 check character that makes it valid.
fn uscc(body: &str) -> String {
    CHARSET
        .chars()
        .map(|c| format!("{body}{c}"))
        .find(|u| zhengyin::document::identifier::uscc_is_valid(u))
        .expect("a check character exists")
}

/// Region file of generated region `i` (ids `rNN`, ten city departments under one city CA).
fn region_text(i: usize) -> String {
    let mut t = format!(
        "[region]\nid = \"r{i:02}\"\nname = \"测试{i}市\"\narea_code = \"37{i:02}00\"\n\
         verify_url = \"http://127.0.0.1:1/verify\"\ncrl_url = \"http://127.0.0.1:1/v1/crl\"\n\n\
         [[ca]]\nid = \"root\"\nname = \"测试{i}市电子印章根CA（测试）\"\nlevel = \"region\"\n\n\
         [[ca]]\nid = \"city\"\nname = \"测试{i}市市级电子印章CA（测试）\"\nlevel = \"city\"\nparent = \"root\"\n"
    );
    for d in 0..DEPARTMENTS {
        t.push_str(&format!(
            "\n[[department]]\nid = \"d{d}\"\nname = \"测试{i}市第{d}局\"\nuscc = \"{}\"\nlevel = \"city\"\n\
             ca = \"city\"\nseal_text = \"专用章\"\n",
            uscc(&format!("1137{i:02}00MB28{d:02}000"))
        ));
    }
    t
}

fn init(dir: &Path, text: &str) -> Home {
    let home = Home { dir: dir.to_path_buf() };
    zhengyin::pki::init(&home, text, &dir.with_extension("toml"), true).expect("init");
    home
}

/// Publish `home`'s trust list, CRLs and status list under `<root>/<id>/v1/…`, as its server would
/// at `<base>/<id>`; returns the trust list's URL.
fn publish(home: &Home, root: &Path, base: &str) -> String {
    let id = home.region().expect("region").region.id;
    let url = format!("{base}/{id}");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let list = zhengyin::trust::list::build(home, Some(&url), now).expect("list");
    let dir = root.join(&id).join("v1");
    std::fs::create_dir_all(dir.join("crl")).expect("mkdir");
    std::fs::write(dir.join("trust-list"), serde_json::to_vec(&list).expect("json")).expect("write");
    for ca in list.crl_urls.keys() {
        std::fs::copy(home.crl(ca), dir.join("crl").join(ca)).expect("copy CRL");
    }
    let archive = zhengyin::filing::open_archive(home).expect("archive");
    let (status, _) = zhengyin::licence::status_list::publish(home, &archive).expect("status list");
    std::fs::copy(status, dir.join("status-list")).expect("copy status list");
    format!("{url}/v1/trust-list")
}

/// A minimal HTTP/1.1 file server for `root` on 127.0.0.1 (GET only, one thread per connection,
/// `Connection: close`); returns its base URL. Enough for ureq and a benchmark, nothing more.
fn file_server(root: PathBuf) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(&stream);
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").trim_start_matches('/');
                let body = (!path.contains("..")).then(|| std::fs::read(root.join(path)).ok()).flatten();
                let mut out = &stream;
                let _ = match body {
                    Some(b) => out
                        .write_all(
                            format!(
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                b.len()
                            )
                            .as_bytes(),
                        )
                        .and_then(|_| out.write_all(&b)),
                    None => out.write_all(
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    ),
                };
            });
        }
    });
    base
}

fn pin(home: &Home) -> String {
    let root = zhengyin::pki::keys::read_certs_der(&home.ca_cert("root")).expect("root").remove(0);
    zhengyin::trust::list::fingerprint(&root)
}

/// CPU time of this process (CLOCK_PROCESS_CPUTIME_ID: every thread, the PDF parser thread too;
/// the file server is idle while verifying): what a verification costs, whatever else the shared
/// machine runs (wall time under load mostly measures the other processes).
fn process_cpu() -> Duration {
    cpu_clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// CPU time of the calling thread only (the trust work; the PDF parser thread is not in it).
fn thread_cpu() -> Duration {
    cpu_clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

fn cpu_clock(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime only writes the timespec it is given.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    Duration::new(u64::try_from(ts.tv_sec).unwrap_or(0), u32::try_from(ts.tv_nsec).unwrap_or(0))
}

/// Both stores measured in one run, interleaved: `rounds` rounds, each one verification with every
/// store (the order alternating), timed in process and calling-thread CPU time and in wall time. Prints the medians and
/// the median of the per-round ratios (the 50-region store against the 1-region store).
fn paired(pdf: &[u8], stores: &[(&str, TrustStore); 2], rounds: usize) {
    // Milliseconds per verification, by store.
    type Times = [Vec<f64>; 2];
    let (mut cpu, mut thread, mut wall): (Times, Times, Times) = Default::default();
    for round in 0..rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let (c0, t0, w0) = (process_cpu(), thread_cpu(), std::time::Instant::now());
            black_box(
                zhengyin::verify::verify(black_box(pdf), &stores[i].1, SystemTime::now()).expect("verify"),
            );
            cpu[i].push((process_cpu() - c0).as_secs_f64() * 1e3);
            thread[i].push((thread_cpu() - t0).as_secs_f64() * 1e3);
            wall[i].push(w0.elapsed().as_secs_f64() * 1e3);
        }
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let ratios = |m: &[Vec<f64>; 2]| -> Vec<f64> { m[1].iter().zip(&m[0]).map(|(b, a)| b / a).collect() };
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!(
        "paired, {rounds} rounds, load average {}",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    for (what, m) in [("process CPU", &cpu), ("thread CPU", &thread), ("wall", &wall)] {
        eprintln!(
            "  {what}: {} {:.2} ms, {} {:.2} ms, median ratio {:.3}",
            stores[0].0,
            median(&m[0]),
            stores[1].0,
            median(&m[1]),
            median(&ratios(m))
        );
    }
}

fn main() {
    let mut c =
        Criterion::default().configure_from_args().sample_size(20).measurement_time(Duration::from_secs(8));
    let tmp = tempfile::tempdir().expect("tempdir");
    let p = tmp.path();
    let publ = p.join("pub");
    let base = file_server(publ.clone());
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let jinan = std::fs::read_to_string(repo.join("fixtures/region/jinan.toml")).expect("jinan.toml");
    let (one, fifty) = (init(&p.join("one"), &jinan), init(&p.join("fifty"), &jinan));
    let taian = init(&p.join("taian"), zhengyin::config::DEFAULT_REGION);
    let data: serde_json::Value = serde_json::from_slice(
        &std::fs::read(repo.join("fixtures/data/business-licence.json")).expect("data"),
    )
    .expect("json");
    let pdf = zhengyin::licence::issue(&taian, "business-licence", &data, None).expect("issue").pdf;

    let taian_url = publish(&taian, &publ, &base);
    for home in [&one, &fifty] {
        zhengyin::api::refresh::import(home, &taian_url, &pin(&taian)).expect("import taian");
    }
    for i in 1..REGIONS {
        let r = init(&p.join(format!("r{i:02}")), &region_text(i));
        let url = publish(&r, &publ, &base);
        zhengyin::api::refresh::import(&fifty, &url, &pin(&r)).expect("import");
    }
    let departments: usize = zhengyin::trust::imports::imported(&fifty)
        .iter()
        .map(|(l, _)| l.departments.as_ref().map_or(0, Vec::len))
        .sum();
    eprintln!("imported {REGIONS} regions with {departments} departments in their registries");

    let stores = [
        ("1_region", TrustStore::from_home(&one).expect("trust")),
        ("50_regions", TrustStore::from_home(&fifty).expect("trust")),
    ];
    for (name, store) in &stores {
        let r = zhengyin::verify::verify(&pdf, store, SystemTime::now()).expect("verify");
        assert!(r.complete(), "{name}: the Tai'an licence must verify with its plan complete");
    }
    paired(&pdf, &stores, 150);
    let mut g = c.benchmark_group("regions");
    for (name, store) in &stores {
        g.bench_function(format!("verify_imported_{name}"), |b| {
            b.iter(|| zhengyin::verify::verify(black_box(&pdf), store, SystemTime::now()).expect("verify"))
        });
    }
    g.bench_function("trust_store_from_home_50_regions", |b| {
        b.iter(|| TrustStore::from_home(black_box(&fifty)).expect("trust"))
    });
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("refresh_50_regions_http", |b| {
        b.iter(|| {
            let done = zhengyin::api::refresh::refresh_once(black_box(&fifty));
            assert_eq!(done.len(), REGIONS);
        })
    });
    g.finish();
    c.final_summary();
}
