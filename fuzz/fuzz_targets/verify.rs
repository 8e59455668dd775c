//! Whole-file verification of untrusted PDF bytes: `zhengyin::verify::verify`.
//!
//! The trust store is the test region that produced the seeds in `fuzz/seeds/verify/` (its root
//! certificate, CRLs and region file are in `fuzz/trust/`), so mutated seeds get past FORMAT and
//! reach CMS, chain, revocation, department and modification checks. Any `Err` or failed check is
//! fine; only a panic, abort, timeout or OOM is a finding.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use zhengyin::config::RegionConfig;
use zhengyin::trust::{Anchor, Crl, TrustStore};

/// 2027-01-15T08:00:00Z: inside the test certificates' validity.
const AT_UNIX: u64 = 1_800_000_000;

fn pem_to_der(pem: &str) -> Vec<Vec<u8>> {
    // Minimal PEM reader so the target has no dependency but zhengyin.
    let mut out = Vec::new();
    let mut b64 = String::new();
    let mut inside = false;
    for line in pem.lines() {
        let line = line.trim();
        if line.starts_with("-----BEGIN CERTIFICATE") {
            inside = true;
            b64.clear();
        } else if line.starts_with("-----END CERTIFICATE") {
            inside = false;
            out.push(decode_b64(&b64));
        } else if inside {
            b64.push_str(line);
        }
    }
    out
}

fn decode_b64(s: &str) -> Vec<u8> {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut acc, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in s.bytes().filter(|&c| c != b'=') {
        let Some(v) = A.iter().position(|&a| a == c) else { continue };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn store() -> &'static TrustStore {
    static STORE: OnceLock<TrustStore> = OnceLock::new();
    STORE.get_or_init(|| {
        let region_text = include_str!("../trust/region.toml");
        let region = RegionConfig::parse(region_text, Path::new("fuzz/trust/region.toml")).expect("fuzz/trust/region.toml parses");
        let anchors = pem_to_der(include_str!("../trust/root.crt.pem"))
            .into_iter()
            .map(|der| Anchor { source: "fuzz/trust/root.crt.pem".into(), der })
            .collect::<Vec<_>>();
        assert!(!anchors.is_empty(), "fuzz/trust/root.crt.pem holds a certificate");
        let crls = [
            ("fuzz/trust/root.crl", &include_bytes!("../trust/root.crl")[..]),
            ("fuzz/trust/city.crl", &include_bytes!("../trust/city.crl")[..]),
            ("fuzz/trust/daiyue.crl", &include_bytes!("../trust/daiyue.crl")[..]),
        ]
        .into_iter()
        .map(|(source, der)| Crl { source: source.into(), der: der.to_vec(), region: String::new() })
        .collect();
        TrustStore { anchors, crls, region: Some(region), ..Default::default() }
    })
}

fuzz_target!(|data: &[u8]| {
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(AT_UNIX);
    let _ = zhengyin::verify::verify(data, store(), at);
});
