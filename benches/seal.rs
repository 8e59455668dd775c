//! Throughput of issuing (render + seal), sealing alone and verifying one business licence, with
//! the raw cryptographic floor (ring ECDSA P-256 sign/verify, SHA-256 of the sealed file) beside it.
//!
//! Run: `cargo bench --bench seal` (about a minute on 2 idle cores; longer on a busy machine).
//! Filter: `cargo bench --bench seal -- verify`. Numbers and analysis: docs/BENCHMARKS.md.
//!
//! Two clocks. The groups `issue_and_seal`, `render_only`, `seal_only`, `verify` and `raw` measure
//! wall time, one licence at a time. lopdf parses objects on the rayon pool, so one licence can use
//! more than one core; the `cpu` group repeats the main cases on process CPU time (all threads,
//! `CLOCK_PROCESS_CPUTIME_ID`), which is what bounds licences/s when every core is busy and which
//! stays meaningful when the machine is shared. `breakdown` (parsing, deflate, seal appearance:
//! where the time goes) uses CPU time too. Sealing reuses a department's seal appearance and
//! verification remembers certificate/CRL signature checks within a process (a long-running
//! service's steady state); `cpu/verify_cold_trust_memo` and `breakdown/seal_appearance` show
//! what the first licence of a department costs on top.
//!
//! Side effect, for `benches/compare.sh` and `benches/pyhanko_bench.py`: the bench leaves in
//! `$ZHENGYIN_BENCH_DIR` (default `target/bench-data`) the initialised home (`home/`), the unsigned
//! rendered licence (`unsigned.pdf`) and one sealed licence (`sealed.pdf`), so that pyHanko signs and
//! validates exactly the bytes measured here.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING,
};

use zhengyin::config::Home;
use zhengyin::document::{self, RenderInput, Template};
use zhengyin::pades::{self, SealRequest};
use zhengyin::pki::SealSigner;
use zhengyin::trust::TrustStore;

const TEMPLATE: &str = "business-licence";
const SEAL: &str = "scjg";

/// Everything the benchmarks share, made once.
struct Fixture {
    home: Home,
    data: serde_json::Value,
    unsigned: Vec<u8>,
    sealed: Vec<u8>,
}

fn bench_dir() -> PathBuf {
    std::env::var_os("ZHENGYIN_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/bench-data"))
}

fn fixture() -> Fixture {
    let dir = bench_dir();
    std::fs::create_dir_all(&dir).expect("create bench dir");
    let home = Home { dir: dir.join("home") };
    // A fresh home each run: new keys, and nothing left from earlier runs (e.g. CLI archive filings).
    let _ = std::fs::remove_dir_all(&home.dir);
    zhengyin::pki::init(&home, zhengyin::config::DEFAULT_REGION, Path::new("taian.toml"), true)
        .expect("init home");
    let data_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/data/business-licence.json");
    let data: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&data_path).expect("read sample data"))
            .expect("sample data is JSON");

    let unsigned = render_unsigned(&home, &data);
    let issued = zhengyin::licence::issue(&home, TEMPLATE, &data, None).expect("issue");
    let store = TrustStore::from_home(&home).expect("trust store");
    let report = zhengyin::verify::verify(&issued.pdf, &store, SystemTime::now()).expect("verify");
    assert!(report.passed(), "the freshly issued licence must verify");
    assert_eq!(issued.sealed_by, SEAL, "the business licence's first seal");

    std::fs::write(dir.join("unsigned.pdf"), &unsigned).expect("write unsigned.pdf");
    std::fs::write(dir.join("sealed.pdf"), &issued.pdf).expect("write sealed.pdf");
    Fixture { home, data, unsigned, sealed: issued.pdf }
}

/// Render the licence the way `licence::issue` does, without sealing it.
fn render_unsigned(home: &Home, json: &serde_json::Value) -> Vec<u8> {
    let region = home.region().expect("region");
    let t = Template::load(home, TEMPLATE).expect("template");
    let data = t.check(json).expect("data fits the template");
    let plan = t.plan();
    let dept = region.department(&plan[0]).expect("department").clone();
    let rendered = document::render(&RenderInput {
        template: &t,
        data: &data,
        issuer: &dept,
        region: &region.region,
        issue_date: "2025-01-01".into(),
        serial: "BENCH00001".into(),
        version: 1,
        plan: plan.iter().map(|d| region.department(d).expect("department").clone()).collect(),
    })
    .expect("render");
    rendered.pdf
}

/// The fixture, made once for both criterion groups.
fn shared() -> &'static Fixture {
    static FX: OnceLock<Fixture> = OnceLock::new();
    FX.get_or_init(fixture)
}

/// The decompressed content of the largest stream in `pdf` (for a licence: the font subset).
fn largest_stream(pdf: &[u8]) -> Vec<u8> {
    let doc = lopdf::Document::load_mem(pdf).expect("load");
    doc.objects
        .values()
        .filter_map(|o| o.as_stream().ok())
        .map(|st| st.decompressed_content().unwrap_or_else(|_| st.content.clone()))
        .max_by_key(Vec::len)
        .expect("a stream")
}

fn deflate(data: &[u8], level: u32) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(level));
    e.write_all(data).expect("deflate");
    e.finish().expect("deflate")
}

/// `pdf` with every signature's /Contents (the byte-range gap) replaced by `<>` and spaces.
fn blank_contents(pdf: &[u8]) -> Vec<u8> {
    let doc = lopdf::Document::load_mem(pdf).expect("load");
    let (sigs, _) = zhengyin::pades::parse::signatures(pdf, &doc).expect("signatures");
    assert!(!sigs.is_empty(), "a sealed licence has a signature");
    let mut out = pdf.to_vec();
    for s in &sigs {
        let (start, end) = (s.byte_range[1], s.byte_range[2]);
        out[start] = b'<';
        out[start + 1] = b'>';
        out[start + 2..end].fill(b' ');
    }
    out
}

/// Where the time goes (parsing, compression), on the clock of `c`: CPU time on Linux.
fn breakdown<M: Measurement>(c: &mut Criterion<M>, fx: &Fixture) {
    // Where the time goes: parsing alone (lopdf, which parses objects on the rayon pool).
    let mut g = c.benchmark_group("breakdown");
    g.throughput(Throughput::Elements(1));
    g.bench_function("lopdf_load_unsigned", |b| {
        b.iter(|| lopdf::Document::load_mem(black_box(&fx.unsigned)).expect("load"))
    });
    g.bench_function("lopdf_load_sealed", |b| {
        b.iter(|| lopdf::Document::load_mem(black_box(&fx.sealed)).expect("load"))
    });
    // The same file with the signature's /Contents hex string blanked in place (`<>` + spaces,
    // offsets unchanged): the difference is what parsing the hex-encoded CMS costs.
    let blanked = blank_contents(&fx.sealed);
    g.bench_function("lopdf_load_sealed_contents_blanked", |b| {
        b.iter(|| lopdf::Document::load_mem(black_box(&blanked)).expect("load"))
    });
    // lopdf's Stream::compress deflates at level 9 (Compression::best). The rendered licence's
    // largest stream, its embedded font subset, at three levels:
    let font = largest_stream(&fx.unsigned);
    for (name, level) in [("deflate_font_best", 9), ("deflate_font_default", 6), ("deflate_font_fast", 1)] {
        let size = deflate(&font, level).len();
        eprintln!("breakdown/{name}: {} B -> {size} B", font.len());
        g.bench_function(name, |b| b.iter(|| deflate(black_box(&font), level)));
    }
    // The visible seal (font subset + deflate): `pades::appearance` builds it once per department
    // and process, so this is what the first licence of a department costs on top of `seal_only`.
    let dept = fx.home.region().expect("region").department(SEAL).expect("department").clone();
    let slot = document::seal_slot(0, 1);
    let w = slot.x2 - slot.x1;
    g.bench_function("seal_appearance", |b| {
        b.iter(|| {
            let mut enc = zhengyin::document::font::TextEncoder::new().expect("font");
            let content = zhengyin::document::seal::appearance(&mut enc, &dept.name, &dept.seal_text, w)
                .expect("appearance");
            let mut n = 0u32;
            let font = enc.finish(&mut |o| {
                n += 1;
                black_box(o);
                (n, 0)
            });
            (content, font.expect("font subset"))
        })
    });
    g.finish();
}

/// Joint seals (issue 3): adding the second seal to a joint approval (which verifies the first
/// seal before sealing), and verifying the complete three-seal licence. Leaves `joint-a1.pdf` and
/// `joint-a3.pdf` in the bench directory for pyHanko (`benches/compare.sh`).
fn joint_seals(c: &mut Criterion, fx: &Fixture, store: &TrustStore) {
    let data: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/data/joint-approval.json")).expect("data");
    let a1 = zhengyin::licence::issue(&fx.home, "joint-approval", &data, None).expect("issue").pdf;
    let a2 = zhengyin::licence::add_seal(&fx.home, &a1, "scjg").expect("seal add").pdf;
    let a3 = zhengyin::licence::add_seal(&fx.home, &a2, "xzsp").expect("seal add").pdf;
    let _ = std::fs::write(bench_dir().join("joint-a1.pdf"), &a1);
    let _ = std::fs::write(bench_dir().join("joint-a3.pdf"), &a3);
    let mut g = c.benchmark_group("joint_seals");
    g.throughput(Throughput::Elements(1));
    g.bench_function("seal_add_second_of_three", |b| {
        b.iter(|| zhengyin::licence::add_seal(&fx.home, black_box(&a1), "scjg").expect("seal add").pdf)
    });
    g.bench_function("verify_three_seals", |b| {
        b.iter(|| {
            let r = zhengyin::verify::verify(black_box(&a3), store, SystemTime::now()).expect("verify");
            assert!(r.complete());
            r
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let fx = shared();
    let signer = SealSigner::load(&fx.home, SEAL).expect("seal signer");
    let store = TrustStore::from_home(&fx.home).expect("trust store");

    {
        let mut g = c.benchmark_group("issue_and_seal");
        g.throughput(Throughput::Elements(1));
        // Everything `zhengyin issue` does in-process: load region/template/key, render, seal.
        g.bench_function("business_licence", |b| {
            b.iter(|| {
                zhengyin::licence::issue(&fx.home, TEMPLATE, black_box(&fx.data), None).expect("issue").pdf
            })
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("render_only");
        g.throughput(Throughput::Elements(1));
        g.bench_function("business_licence", |b| b.iter(|| render_unsigned(&fx.home, black_box(&fx.data))));
        g.finish();
    }
    {
        let mut g = c.benchmark_group("seal_only");
        g.throughput(Throughput::Elements(1));
        let req = SealRequest {
            signer: &signer,
            rect: document::seal_slot(0, 1),
            // The field `render` pre-created for the first seal, as `licence::issue` fills it.
            field_name: document::seal_field_name(0, SEAL),
            reason: "bench".into(),
            location: "bench".into(),
            certify: true,
            lock: false,
            appearance: zhengyin::pades::Appearance::Seal,
            extra: Vec::new(),
        };
        let once = pades::seal(&fx.unsigned, &req).expect("seal");
        assert!(
            zhengyin::verify::verify(&once, &store, SystemTime::now()).expect("verify").passed(),
            "seal_only output must verify"
        );
        // Signer loaded once (as a long-running sealing service would).
        g.bench_function("business_licence", |b| {
            b.iter(|| pades::seal(black_box(&fx.unsigned), &req).expect("seal"))
        });
        // The same seal as PAdES B-B: the signer without its TSA (no signature timestamp, no
        // ledger write), to show what B-T costs.
        let mut bb = SealSigner::load(&fx.home, SEAL).expect("signer");
        bb.tsa = None;
        let req_bb = SealRequest {
            signer: &bb,
            rect: document::seal_slot(0, 1),
            field_name: document::seal_field_name(0, SEAL),
            reason: "bench".into(),
            location: "bench".into(),
            certify: true,
            lock: false,
            appearance: zhengyin::pades::Appearance::Seal,
            extra: Vec::new(),
        };
        g.bench_function("business_licence_b_b", |b| {
            b.iter(|| pades::seal(black_box(&fx.unsigned), &req_bb).expect("seal"))
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("verify");
        g.throughput(Throughput::Elements(1));
        // Trust store built once (as a verification service would); one sealed licence per iteration.
        g.bench_function("business_licence", |b| {
            b.iter(|| {
                let r = zhengyin::verify::verify(black_box(&fx.sealed), &store, SystemTime::now())
                    .expect("verify");
                assert!(r.passed());
                r
            })
        });
        // Including the trust store load from the home (what one `zhengyin verify` process does).
        g.bench_function("business_licence_with_store_load", |b| {
            b.iter(|| {
                let store = TrustStore::from_home(&fx.home).expect("trust store");
                zhengyin::verify::verify(black_box(&fx.sealed), &store, SystemTime::now())
                    .expect("verify")
                    .passed()
            })
        });
        g.finish();
    }
    joint_seals(c, fx, &store);
    #[cfg(not(target_os = "linux"))]
    breakdown(c, fx);
    {
        let mut g = c.benchmark_group("raw");
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("keygen");
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).expect("key");
        let msg = [0x5au8; 32];
        let sig = key.sign(&rng, &msg).expect("sign");
        let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, key.public_key().as_ref().to_vec());
        g.throughput(Throughput::Elements(1));
        g.bench_function("ecdsa_p256_sign_32B", |b| {
            b.iter(|| key.sign(&rng, black_box(&msg)).expect("sign"))
        });
        g.bench_function("ecdsa_p256_verify_32B", |b| {
            b.iter(|| public.verify(black_box(&msg), sig.as_ref()).expect("verify"))
        });
        g.throughput(Throughput::Bytes(fx.sealed.len() as u64));
        g.bench_function("sha256_sealed_pdf", |b| {
            b.iter(|| ring::digest::digest(&ring::digest::SHA256, black_box(&fx.sealed)))
        });
        // The floor for verifying one signature: hash the file, verify one ECDSA signature.
        g.throughput(Throughput::Elements(1));
        g.bench_function("sha256_sealed_pdf_plus_ecdsa_verify", |b| {
            b.iter(|| {
                let d = ring::digest::digest(&ring::digest::SHA256, black_box(&fx.sealed));
                public.verify(d.as_ref(), sig.as_ref()).is_ok()
            })
        });
        g.finish();
    }
}

/// Process CPU time (all threads) in nanoseconds, from `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`.
#[cfg(target_os = "linux")]
fn process_cpu_ns() -> u64 {
    #[repr(C)]
    struct Timespec {
        tv_sec: std::ffi::c_long,
        tv_nsec: std::ffi::c_long,
    }
    extern "C" {
        fn clock_gettime(clock: std::ffi::c_int, tp: *mut Timespec) -> std::ffi::c_int;
    }
    const CLOCK_PROCESS_CPUTIME_ID: std::ffi::c_int = 2;
    let mut ts = Timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes into it.
    let rc = unsafe { clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID)");
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

/// Criterion measurement: CPU time consumed by the whole process (rayon workers included).
#[cfg(target_os = "linux")]
struct CpuTime;

#[cfg(target_os = "linux")]
impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        process_cpu_ns()
    }
    fn end(&self, start: u64) -> u64 {
        process_cpu_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        // Values are nanoseconds, like wall time: reuse its formatting.
        static WALL: WallTime = WallTime;
        WALL.formatter()
    }
}

/// The same work as above, on the CPU-time clock (results under `target/criterion/cpu/`).
#[cfg(target_os = "linux")]
fn cpu_benches(c: &mut Criterion<CpuTime>) {
    let fx = shared();
    let signer = SealSigner::load(&fx.home, SEAL).expect("seal signer");
    let store = TrustStore::from_home(&fx.home).expect("trust store");
    let req = SealRequest {
        signer: &signer,
        rect: document::seal_slot(0, 1),
        field_name: document::seal_field_name(0, SEAL),
        reason: "bench".into(),
        location: "bench".into(),
        certify: true,
        lock: false,
        appearance: zhengyin::pades::Appearance::Seal,
        extra: Vec::new(),
    };
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("keygen");
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng).expect("key");
    let msg = [0x5au8; 32];
    let sig = key.sign(&rng, &msg).expect("sign");
    let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, key.public_key().as_ref().to_vec());

    let mut g = c.benchmark_group("cpu");
    g.throughput(Throughput::Elements(1));
    g.bench_function("issue_and_seal", |b| {
        b.iter(|| zhengyin::licence::issue(&fx.home, TEMPLATE, black_box(&fx.data), None).expect("issue").pdf)
    });
    g.bench_function("seal_only", |b| b.iter(|| pades::seal(black_box(&fx.unsigned), &req).expect("seal")));
    g.bench_function("verify", |b| {
        b.iter(|| {
            zhengyin::verify::verify(black_box(&fx.sealed), &store, SystemTime::now())
                .expect("verify")
                .passed()
        })
    });
    // The same with the memo of certificate and CRL signature checks emptied first: the first
    // licence a verifier sees from a given seal certificate.
    g.bench_function("verify_cold_trust_memo", |b| {
        b.iter(|| {
            zhengyin::trust::verified::clear();
            zhengyin::verify::verify(black_box(&fx.sealed), &store, SystemTime::now())
                .expect("verify")
                .passed()
        })
    });
    g.bench_function("raw_ecdsa_p256_sign_32B", |b| {
        b.iter(|| key.sign(&rng, black_box(&msg)).expect("sign"))
    });
    g.bench_function("raw_sha256_sealed_pdf_plus_ecdsa_verify", |b| {
        b.iter(|| {
            let d = ring::digest::digest(&ring::digest::SHA256, black_box(&fx.sealed));
            public.verify(d.as_ref(), sig.as_ref()).is_ok()
        })
    });
    g.finish();
    breakdown(c, fx);
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

#[cfg(target_os = "linux")]
fn cpu_config() -> Criterion<CpuTime> {
    Criterion::default()
        .with_measurement(CpuTime)
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group! { name = seal; config = config(); targets = benches }
#[cfg(target_os = "linux")]
criterion_group! { name = cpu; config = cpu_config(); targets = cpu_benches }

#[cfg(target_os = "linux")]
criterion_main!(seal, cpu);
#[cfg(not(target_os = "linux"))]
criterion_main!(seal);
