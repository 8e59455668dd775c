//! Proof-request speed (issue 6): requests answered per second, end to end in the library (list
//! check, holder lookup, proof PDF render + seal, ES256 token, archive of both plus the use
//! record, one fsync group and a signed tree head), and the two halves on their own: the token
//! (sign, verify) and the sealed proof PDF. Also an annotated copy (加注件) of a sealed licence.
//!
//! Run: `cargo bench --bench proofs` (about a minute on 2 cores). Requests/s = 1 / time per
//! iteration; docs/BENCHMARKS.md keeps the numbers.

use std::time::Duration;

use criterion::{black_box, Criterion};
use serde_json::json;
use zhengyin::archive::Archive;
use zhengyin::config::Home;
use zhengyin::proofs::holders::{self, Holders};
use zhengyin::proofs::proof::{self, Outcome, Request};
use zhengyin::proofs::{annotate, open_archive};

const SUBJECT: &str = "370902199001011235"; // synthetic, in fixtures/holders/rs-social-insurance.csv
const MATTER: &str = "370900-XK-0001";

fn home() -> (tempfile::TempDir, Home) {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = Home { dir: dir.path().join("home") };
    zhengyin::pki::init(&home, zhengyin::config::DEFAULT_REGION, std::path::Path::new("taian.toml"), true)
        .expect("init");
    (dir, home)
}

fn load_holders(home: &Home) -> Holders {
    let holders = Holders::open(home).expect("holders");
    let rows = holders::read_rows(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/holders/rs-social-insurance.csv"
    )))
    .expect("rows");
    holders.load(home, "rs", &rows).expect("load");
    holders
}

fn request(home: &Home, archive: &Archive, holders: &Holders) -> usize {
    let req =
        Request { by: "xzsp", kind: "social-insurance", subject: SUBJECT, purpose: MATTER, valid_days: 30 };
    match proof::request_in(home, archive, holders, &req).expect("request") {
        Outcome::Answered(a) => a.pdf.len() + a.jws.len(),
        Outcome::Refused { reason, .. } => panic!("refused: {reason}"),
    }
}

fn main() {
    let mut c =
        Criterion::default().configure_from_args().sample_size(20).measurement_time(Duration::from_secs(8));
    let (_dir, home) = home();
    let holders = load_holders(&home);
    let archive = open_archive(&home).expect("archive");
    let trust = zhengyin::trust::TrustStore::from_home(&home).expect("trust");
    let signer = zhengyin::pki::SealSigner::load(&home, "rs").expect("signer");
    let claims = json!({"iss": "rs", "sub": "HC00000000000000000000000000000000", "kind": "social-insurance", "purpose": MATTER, "aud": "xzsp", "answer": "参保状态：正常；参保起始：2019-03", "found": true, "iat": 1_790_000_000i64, "exp": 4_000_000_000i64, "jti": "ZM0000000000000000"});
    let token = proof::sign_jws(&signer, &claims).expect("token");

    let mut g = c.benchmark_group("proofs");
    g.bench_function("request_full_pdf_token_archive", |b| {
        b.iter(|| black_box(request(&home, &archive, &holders)))
    });
    g.bench_function("token_sign_es256", |b| {
        b.iter(|| black_box(proof::sign_jws(&signer, &claims).expect("sign")))
    });
    g.bench_function("token_verify_chain_crl", |b| {
        b.iter(|| {
            black_box(proof::verify_jws(&token, &trust, std::time::SystemTime::now()).expect("verify").valid)
        })
    });
    let t = proof::template(&home).expect("template");
    let region = home.region().expect("region");
    let dept = region.department("rs").expect("dept").clone();
    let data = t
        .check(&json!({"proof_no": "ZM0000000000000000", "subject": "测试员甲", "subject_id": "3709**********1235", "subject_code": "code", "proof_kind": "社会保险参保证明", "requester": "泰安市行政审批服务局", "matter": MATTER, "answer": "参保状态：正常；参保起始：2019-03", "issued": "2026-11-25", "valid_until": "2026-12-25"}))
        .expect("data");
    g.bench_function("pdf_render_and_seal", |b| {
        b.iter(|| {
            let input = zhengyin::document::RenderInput {
                template: &t,
                data: &data,
                issuer: &dept,
                region: &region.region,
                issue_date: "2026-11-25".into(),
                serial: "20261125000000000000".into(),
                version: 1,
                plan: vec![dept.clone()],
            };
            black_box(
                zhengyin::licence::render_and_seal(&input, &signer, "bench".into()).expect("seal").0.len(),
            )
        })
    });
    let licence = {
        let data: serde_json::Value =
            serde_json::from_str(include_str!("../fixtures/data/business-licence.json")).expect("data");
        zhengyin::licence::issue(&home, "business-licence", &data, None).expect("issue").pdf
    };
    g.bench_function("annotated_copy_full", |b| {
        b.iter(|| {
            black_box(
                annotate::annotate(&home, &archive, &licence, "xzsp", "370900-XK-0012", "2099-12-31")
                    .expect("annotate")
                    .pdf
                    .len(),
            )
        })
    });
    g.finish();
    c.final_summary();
}
