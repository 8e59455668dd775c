//! The offline status list at scale (docs/BENCHMARKS.md): build and sign the list for N licence
//! versions (default 1,000,000; 5 % not in force), then check it and look every 100th identifier
//! up. Prints the list's size in bytes and the times. `cargo bench --bench status_list [-- N]`.

use std::time::Instant;

use zhengyin::document::identifier::LicenceId;
use zhengyin::licence::answer::StatusSigner;
use zhengyin::licence::status_list::{self, Lookup};

fn main() {
    let n: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1_000_000);
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = zhengyin::config::Home { dir: tmp.path().join("h") };
    let region = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/region/taian.toml");
    let text = std::fs::read_to_string(&region).expect("region fixture");
    zhengyin::pki::init(&home, &text, &region, false).expect("init");
    let signer = StatusSigner::load(&home).expect("status key");
    let entries: Vec<(String, bool)> = (0..n)
        .map(|i| {
            let id =
                LicenceId::new("11100000MB0341032Y001", "11370900MB28570021", &format!("20261130{i:010}"), 1)
                    .expect("identifier");
            (id.to_string(), i % 20 == 0)
        })
        .collect();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let t = Instant::now();
    let list = status_list::build_entries(&signer, &entries, now).expect("build");
    let built = t.elapsed();
    let trust = zhengyin::trust::TrustStore::from_home(&home).expect("trust");
    let t = Instant::now();
    let checked = status_list::verify(&list, &trust, now).expect("verify");
    let verified = t.elapsed();
    let t = Instant::now();
    let mut wrong = 0;
    for (id, off) in entries.iter().step_by(100) {
        let want = if *off { Lookup::NotInForce } else { Lookup::InForce };
        if checked.lookup(id, Some(now - 1)) != want {
            wrong += 1;
        }
    }
    let looked = t.elapsed();
    println!(
        "status list: {n} versions ({} not in force): {} bytes ({:.1} KB, {:.3} bits/version); build+sign {:.0} ms, verify {:.0} ms, {} lookups {:.1} µs each, {wrong} wrong",
        n / 20,
        list.len(),
        list.len() as f64 / 1000.0,
        list.len() as f64 * 8.0 / n as f64,
        built.as_secs_f64() * 1e3,
        verified.as_secs_f64() * 1e3,
        n.div_ceil(100),
        looked.as_secs_f64() * 1e6 / n.div_ceil(100) as f64
    );
    assert_eq!(wrong, 0);
}
