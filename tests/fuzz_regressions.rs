//! Every input the fuzzers found interesting (fuzz/regressions/, fuzz/seeds/) goes through the
//! public parsers without a panic. A crash found by `cargo fuzz` is committed to
//! fuzz/regressions/ and this test keeps it fixed (docs/fuzzing.md).

use std::path::Path;

fn inputs(dir: &str) -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().map(|x| x != "md").unwrap_or(true) {
                out.push(p);
            }
        }
    }
    out
}

/// verify(), CMS parsing, time-stamp tokens and replies, identifier parsing and the proof-token check never panic on the fuzz corpus and regressions.
#[test]
fn fuzz_inputs_do_not_panic() {
    // The same trust the fuzz target compiles in (fuzz/trust/), so inputs reach the chain checks.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/trust");
    let mut store = zhengyin::trust::TrustStore::default();
    for e in std::fs::read_dir(&dir).expect("fuzz/trust").flatten() {
        let p = e.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        if name.ends_with(".pem") {
            store.add_pem(&p).expect("root");
        } else if name.ends_with(".crl") {
            store.crls.push(zhengyin::trust::Crl {
                source: name,
                der: std::fs::read(&p).expect("crl"),
                region: String::new(),
            });
        } else if name == "region.toml" {
            let text = std::fs::read_to_string(&p).expect("region");
            store.region = zhengyin::config::RegionConfig::parse(&text, &p).ok();
        }
    }
    assert!(!store.anchors.is_empty(), "fuzz/trust holds the seeds' root");
    let at = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
    let files: Vec<_> = inputs("fuzz/regressions").into_iter().chain(inputs("fuzz/seeds")).collect();
    assert!(!files.is_empty(), "the fuzz seeds are part of the repository");
    for f in files {
        let data = std::fs::read(&f).expect("read");
        let _ = zhengyin::verify::verify(&data, &store, at);
        let _ = zhengyin::pades::cms::parse(&data);
        let imprint = zhengyin::trust::timestamp::Imprint::Data(&[b"data"]);
        let _ = zhengyin::trust::timestamp::verify_token(&data, imprint, &store, at);
        let _ = zhengyin::pki::tsa::reply::decode(&data);
        if let Ok(s) = std::str::from_utf8(&data) {
            let _ = s.parse::<zhengyin::document::LicenceId>();
            let _ = zhengyin::proofs::token::verify_jws(s, &store, at);
        }
    }
}
