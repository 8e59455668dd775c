//! The region's RFC 3161 time-stamping authority end to end: `openssl ts` queries answered by a
//! real `zhengyin serve` on 127.0.0.1 and verified by `openssl ts -verify`; pyHanko signing with
//! `--timestamp-url` pointed at it and validating the timestamp; refusals of bad requests, of
//! tokens over other data and of tokens signed by a key that is not a TSA; `init --add-tsa` on a
//! home made before the TSA; the ledger of every token issued (docs/cli.md `tsa`, docs/api.md).

mod api_support;
mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{have_tool, in_ci, run_in, s, Region};
use der::Encode;
use serde_json::Value;
use zhengyin::config::Home;
use zhengyin::pki::tsa::reply::{self, FailureInfo as F};

/// A real `zhengyin serve` on a free loopback port; killed on drop.
struct Serve {
    child: std::process::Child,
    url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(r: &Region) -> Serve {
    let home = Home { dir: r.home.clone() };
    let (child, url) = api_support::spawn_binary_with_log(&home, &r.path("serve.log"));
    assert!(url.starts_with("http://127.0.0.1:"), "serve did not print its URL: {url}");
    Serve { child, url }
}

fn post_query(url: &str, ct: &str, body: &[u8]) -> api_support::Resp {
    api_support::call("POST", &format!("{url}/v1/tsa"), None, Some((ct, body)), None)
}

fn ledger(r: &Region) -> Vec<Value> {
    let out = r.zy(&["tsa", "log", "--json", "--home", s(&r.home)]);
    out.assert_code(0);
    out.stdout.lines().map(|l| serde_json::from_str(l).expect("ledger line is JSON")).collect()
}

fn sha256_hex(b: &[u8]) -> String {
    zhengyin::hex::encode(&zhengyin::pades::cms::sha256(b))
}

fn openssl_ok() -> bool {
    let ok = have_tool("openssl");
    if !ok {
        assert!(!in_ci(), "openssl is required in CI");
    }
    ok
}

/// `openssl ts -query` posted to a real `serve` is granted, `openssl ts -verify` accepts the reply
/// against the exported region root, and the ledger records the token with its imprint.
#[test]
fn openssl_query_over_http_is_granted_and_verified_by_openssl() {
    if !openssl_ok() {
        return;
    }
    let r = Region::init();
    let data = r.path("data.txt");
    std::fs::write(&data, "营业执照 370900200123456 — time-stamped\n").expect("data");
    let q = r.path("q.tsq");
    run_in(r.dir.path(), "openssl", &["ts", "-query", "-data", s(&data), "-sha256", "-cert", "-out", s(&q)])
        .assert_code(0);
    let srv = serve(&r);
    let resp = post_query(&srv.url, "application/timestamp-query", &std::fs::read(&q).expect("tsq"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.content_type, "application/timestamp-reply");
    let reply = r.path("r.tsr");
    std::fs::write(&reply, &resp.body).expect("tsr");
    let root = r.export_root("root.pem");
    let tsa_pem = r.home.join("tsa/tsa.crt.pem");
    for how in [["-data", s(&data)], ["-queryfile", s(&q)]] {
        let v = run_in(
            r.dir.path(),
            "openssl",
            &[
                "ts",
                "-verify",
                "-in",
                s(&reply),
                how[0],
                how[1],
                "-CAfile",
                s(&root),
                "-untrusted",
                s(&tsa_pem),
            ],
        );
        assert!(v.code == 0 && v.stdout.contains("Verification: OK"), "openssl ts -verify\n{}", v.both());
    }
    // The same reply over other data: openssl and zhengyin refuse it.
    let other = r.path("other.txt");
    std::fs::write(&other, "something else\n").expect("other");
    let v = run_in(
        r.dir.path(),
        "openssl",
        &[
            "ts",
            "-verify",
            "-in",
            s(&reply),
            "-data",
            s(&other),
            "-CAfile",
            s(&root),
            "-untrusted",
            s(&tsa_pem),
        ],
    );
    assert_ne!(v.code, 0, "openssl accepted a reply over other data\n{}", v.both());
    r.zy(&["tsa", "verify", "--home", s(&r.home), "--data", s(&data), s(&reply)]).assert_code(0);
    let bad = r.zy(&["tsa", "verify", "--home", s(&r.home), "--data", s(&other), s(&reply)]);
    bad.assert_code(1);
    assert!(bad.stdout.contains("message imprint does not match"), "{}", bad.both());

    let entries = ledger(&r);
    let mine = entries
        .iter()
        .find(|e| e["imprint"] == sha256_hex(&std::fs::read(&data).expect("data")))
        .unwrap_or_else(|| panic!("no ledger entry for the query: {entries:?}"));
    assert_eq!(mine["hash"], "SHA-256");
    assert_eq!(mine["requester"], "http 127.0.0.1");
    assert_eq!(mine["token_sha256"].as_str().map(str::len), Some(64));
}

/// Requests the TSA does not grant: a wrong content type and an oversize body are problem+json;
/// garbage, SHA-1 and a foreign policy are RFC 3161 rejections with their PKIFailureInfo; none
/// of them is recorded in the ledger.
#[test]
fn bad_requests_get_problems_or_rfc3161_rejections() {
    let r = Region::init();
    let srv = serve(&r);
    post_query(&srv.url, "application/octet-stream", b"0").problem(415);
    post_query(&srv.url, "application/timestamp-query", &vec![0x30; 5000]).problem(413);
    let rejected = |body: &[u8], why: &str| {
        let resp = post_query(&srv.url, "application/timestamp-query", body);
        assert_eq!(resp.status, 200, "{why}");
        assert_eq!(resp.content_type, "application/timestamp-reply", "{why}");
        let reply = reply::decode(&resp.body).expect("a DER TimeStampResp");
        assert_eq!(reply.status.status, cmpv2::status::PkiStatus::Rejection, "{why}");
        assert!(reply.time_stamp_token.is_none(), "{why}");
        reply.status.failures()
    };
    let bit = |f: F| vec![f as usize];
    assert_eq!(rejected(b"not DER at all", "garbage"), bit(F::BadDataFormat));
    // A SHA-1 request built with the same x509-tsp types.
    let req = |oid: &str, len: usize, policy: Option<&str>| {
        x509_tsp::TimeStampReq {
            version: x509_tsp::TspVersion::V1,
            message_imprint: x509_tsp::MessageImprint {
                hash_algorithm: spki::AlgorithmIdentifier {
                    oid: oid.parse().expect("oid"),
                    parameters: None,
                },
                hashed_message: der::asn1::OctetString::new(vec![7u8; len]).expect("octets"),
            },
            req_policy: policy.map(|p| p.parse().expect("policy")),
            nonce: None,
            cert_req: true,
            extensions: None,
        }
        .to_der()
        .expect("encode")
    };
    assert_eq!(rejected(&req("1.3.14.3.2.26", 20, None), "sha1"), bit(F::BadAlg));
    assert_eq!(rejected(&req("2.16.840.1.101.3.4.2.1", 20, None), "short"), bit(F::BadAlg));
    assert_eq!(
        rejected(&req("2.16.840.1.101.3.4.2.1", 32, Some("1.2.3.4")), "policy"),
        bit(F::UnacceptedPolicy)
    );
    // The good request is granted, and it is the only token recorded.
    let ok = post_query(&srv.url, "application/timestamp-query", &req("2.16.840.1.101.3.4.2.1", 32, None));
    let reply = reply::decode(&ok.body).expect("reply");
    assert_eq!(reply.status.status, cmpv2::status::PkiStatus::Accepted);
    assert_eq!(ledger(&r).len(), 1);
}

/// A token over other data, and a token made by a key whose certificate is a seal certificate
/// (EKU documentSigning, not timeStamping) are refused by `zhengyin tsa verify`.
#[test]
fn tokens_over_other_data_or_from_a_non_tsa_key_are_refused() {
    let r = Region::init();
    let data = r.path("data.txt");
    std::fs::write(&data, "data").expect("data");
    let q = r.path("q.tsq");
    std::fs::write(&q, query_for(b"data")).expect("tsq");
    // A home whose "TSA" is the scjg seal key and certificate.
    let rogue = r.path("rogue");
    common::copy_dir(&r.home, &rogue);
    std::fs::copy(r.home.join("pki/private/seal-scjg.key.pem"), rogue.join("pki/private/tsa.key.pem"))
        .expect("key");
    std::fs::copy(r.home.join("seals/scjg.crt.pem"), rogue.join("tsa/tsa.crt.pem")).expect("cert");
    let reply = r.path("rogue.tsr");
    r.zy(&["tsa", "reply", "--home", s(&rogue), "--query", s(&q), "-o", s(&reply)]).assert_code(0);
    let v = r.zy(&["tsa", "verify", "--home", s(&r.home), "--data", s(&data), s(&reply)]);
    v.assert_code(1);
    assert!(v.stdout.contains("not a time-stamping authority"), "{}", v.both());

    let good = r.path("good.tsr");
    r.zy(&["tsa", "reply", "--home", s(&r.home), "--query", s(&q), "-o", s(&good)]).assert_code(0);
    r.zy(&["tsa", "verify", "--home", s(&r.home), "--data", s(&data), s(&good)]).assert_code(0);
    std::fs::write(&data, "datb").expect("tamper");
    let v = r.zy(&["tsa", "verify", "--home", s(&r.home), "--data", s(&data), s(&good)]);
    v.assert_code(1);
    assert!(v.stdout.contains("message imprint does not match"), "{}", v.both());
    // Another region's root does not make the token trusted.
    let other = Region::init();
    let root = other.export_root("other-root.pem");
    std::fs::write(&data, "data").expect("restore");
    let v = r.zy(&["tsa", "verify", "--trust", s(&root), "--data", s(&data), s(&good)]);
    v.assert_code(1);
    assert!(v.stdout.contains("does not validate"), "{}", v.both());
}

/// A DER TimeStampReq for SHA-256 of `data` with a nonce, asking for the certificate.
fn query_for(data: &[u8]) -> Vec<u8> {
    x509_tsp::TimeStampReq {
        version: x509_tsp::TspVersion::V1,
        message_imprint: x509_tsp::MessageImprint {
            hash_algorithm: spki::AlgorithmIdentifier {
                oid: const_oid::db::rfc5912::ID_SHA_256,
                parameters: None,
            },
            hashed_message: der::asn1::OctetString::new(zhengyin::pades::cms::sha256(data).to_vec())
                .expect("octets"),
        },
        req_policy: None,
        nonce: Some(der::asn1::Int::new(&[0x12, 0x34, 0x56]).expect("nonce")),
        cert_req: true,
        extensions: None,
    }
    .to_der()
    .expect("encode")
}

/// Every file below `dir` with its SHA-256, by path relative to `dir`.
fn hashes(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = Vec::new();
    common::walk(dir, &mut files);
    files
        .into_iter()
        .map(|f| {
            let h = sha256_hex(&std::fs::read(&f).expect("read"));
            (f.strip_prefix(dir).expect("below").to_path_buf(), h)
        })
        .collect()
}

/// A home made before the TSA existed seals B-B with a warning; `init --add-tsa` adds a TSA
/// without changing any other file, refuses a second time without --force, and later seals carry
/// a signature timestamp.
#[test]
fn add_tsa_on_an_old_home_changes_no_other_file() {
    let r = Region::init();
    std::fs::remove_dir_all(r.home.join("tsa")).expect("rm tsa");
    std::fs::remove_file(r.home.join("pki/private/tsa.key.pem")).expect("rm key");
    let (old, run) = r.issue("business-licence", None, "old.pdf");
    assert!(run.stderr.contains("no time-stamping authority"), "no B-B warning\n{}", run.both());
    assert!(!has_signature_timestamp(&std::fs::read(&old).expect("pdf")), "an old home made a B-T seal");

    // Compare the home's files, except the archive (sled rewrites its own files on open).
    let keep = |m: BTreeMap<PathBuf, String>| -> BTreeMap<PathBuf, String> {
        m.into_iter().filter(|(p, _)| !p.starts_with("archive")).collect()
    };
    let before = keep(hashes(&r.home));
    let out = r.zy(&["init", "--add-tsa", "--home", s(&r.home)]);
    out.assert_code(0);
    let mut after = keep(hashes(&r.home));
    assert!(after.remove(Path::new("tsa/tsa.crt.pem")).is_some(), "no TSA certificate");
    assert!(after.remove(Path::new("pki/private/tsa.key.pem")).is_some(), "no TSA key");
    assert_eq!(before, after, "init --add-tsa changed other files");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            std::fs::metadata(r.home.join("pki/private/tsa.key.pem")).expect("key").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "TSA key mode");
    }

    let cert = std::fs::read(r.home.join("tsa/tsa.crt.pem")).expect("cert");
    r.zy(&["init", "--add-tsa", "--home", s(&r.home)]).assert_one_line_error(2);
    assert_eq!(
        std::fs::read(r.home.join("tsa/tsa.crt.pem")).expect("cert"),
        cert,
        "refusal replaced the TSA"
    );
    r.zy(&["init", "--add-tsa", "--force", "--home", s(&r.home)]).assert_code(0);
    assert_ne!(std::fs::read(r.home.join("tsa/tsa.crt.pem")).expect("cert"), cert, "--force kept the TSA");

    let (new, run) = r.issue("business-licence", None, "new.pdf");
    assert!(!run.stderr.contains("no time-stamping authority"), "{}", run.both());
    assert!(
        has_signature_timestamp(&std::fs::read(&new).expect("pdf")),
        "no signature timestamp after --add-tsa"
    );
    let old_report = r.verify_json(&old);
    old_report.assert_code(0);
    let old_sig = common::first_sig(&old_report.json()).clone();
    assert!(old_sig["timestamp"].is_null(), "a B-B seal reported a timestamp: {old_sig:#}");
    assert!(!old_sig.to_string().contains("\"TIMESTAMP\""), "a B-B seal got a TIMESTAMP check: {old_sig:#}");
    let new_report = r.verify_json(&new);
    new_report.assert_code(0);
    assert!(
        common::first_sig(&new_report.json())["timestamp"]["gen_time"].is_string(),
        "{}",
        new_report.both()
    );
}

/// Whether the PDF's last signature carries a signature-time-stamp-token (read with the
/// library's own CMS parser).
fn has_signature_timestamp(pdf: &[u8]) -> bool {
    let doc = zhengyin::pades::parse::load(pdf).expect("pdf");
    let (sigs, _) = zhengyin::pades::parse::signatures(pdf, &doc).expect("signatures");
    let sig = sigs.last().expect("a signature");
    zhengyin::pades::cms::parse(&sig.contents).expect("cms").signature_timestamp.is_some()
}

/// The ledger holds one line per token (seals and replies alike), serials strictly increase,
/// and an edited line makes `tsa log` report the damage (exit 1).
#[test]
fn the_ledger_records_every_token_and_shows_tampering() {
    let r = Region::init();
    let q = r.path("q.tsq");
    std::fs::write(&q, query_for(b"x")).expect("tsq");
    for i in 0..3 {
        r.zy(&[
            "tsa",
            "reply",
            "--home",
            s(&r.home),
            "--query",
            s(&q),
            "-o",
            s(&r.path(&format!("{i}.tsr"))),
        ])
        .assert_code(0);
    }
    r.issue("business-licence", None, "lic.pdf");
    let entries = ledger(&r);
    assert_eq!(entries.len(), 4, "{entries:?}");
    let serials: Vec<u64> = entries.iter().map(|e| e["serial"].as_u64().expect("serial")).collect();
    assert!(serials.windows(2).all(|w| w[0] < w[1]), "serials do not increase: {serials:?}");
    assert_eq!(entries.iter().filter(|e| e["requester"] == "cli").count(), 3);
    assert_eq!(entries.iter().filter(|e| e["requester"] == "seal scjg").count(), 1);
    assert_eq!(entries[0]["nonce"], "123456");

    let path = r.home.join("tsa/ledger.jsonl");
    let text = std::fs::read_to_string(&path).expect("ledger");
    std::fs::write(&path, text.replacen("\"requester\":\"cli\"", "\"requester\":\"clj\"", 1)).expect("edit");
    let out = r.zy(&["tsa", "log", "--home", s(&r.home)]);
    out.assert_code(1);
    assert!(out.stderr.contains("damaged at line 2"), "{}", out.both());
}

/// A minimal one-page PDF for pyHanko to sign.
fn minimal_pdf() -> Vec<u8> {
    let objs = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ];
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objs.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objs.len() + 1).as_bytes());
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objs.len() + 1).as_bytes(),
    );
    out
}

/// pyHanko signs with `--timestamp-url` pointed at a real `serve`, and `pyhanko sign validate`
/// with the region root trusted reports the timestamp as valid and trusted.
#[test]
fn pyhanko_timestamps_with_our_tsa() {
    if !have_tool("pyhanko") {
        assert!(!in_ci(), "pyhanko is required in CI");
        return;
    }
    let r = Region::init();
    let srv = serve(&r);
    let input = r.path("in.pdf");
    std::fs::write(&input, minimal_pdf()).expect("pdf");
    let out = r.path("signed.pdf");
    let url = format!("{}/v1/tsa", srv.url);
    let h = |p: &str| r.home.join(p).to_string_lossy().into_owned();
    let sign = run_in(
        r.dir.path(),
        "pyhanko",
        &[
            "sign",
            "addsig",
            "--field",
            "Sig1",
            "--use-pades",
            "--timestamp-url",
            &url,
            "pemder",
            "--key",
            &h("pki/private/seal-scjg.key.pem"),
            "--cert",
            &h("seals/scjg.crt.pem"),
            "--chain",
            &h("pki/city.crt.pem"),
            "--no-pass",
            s(&input),
            s(&out),
        ],
    );
    assert_eq!(sign.code, 0, "pyhanko addsig\n{}", sign.both());
    let root = r.export_root("root.pem");
    let v = run_in(
        r.dir.path(),
        "pyhanko",
        &["sign", "validate", "--soft-revocation-check", "--trust", s(&root), "--pretty-print", s(&out)],
    );
    assert_eq!(v.code, 0, "pyhanko validate\n{}", v.both());
    for needle in [
        "Signature timestamp token",
        "The timestamp token is cryptographically sound.",
        "The TSA certificate is trusted.",
        "The signature is judged VALID.",
    ] {
        assert!(v.stdout.contains(needle), "pyHanko did not say `{needle}`\n{}", v.both());
    }
    assert!(
        ledger(&r).iter().any(|e| e["requester"] == "http 127.0.0.1"),
        "pyHanko's token not in the ledger"
    );
}

/// A licence issued by `zhengyin issue` is PAdES B-T: pyHanko reports its signature timestamp
/// as backed by our TSA, trusted under the region root.
#[test]
fn issued_licence_has_a_signature_timestamp_pyhanko_accepts() {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "lic.pdf");
    assert!(has_signature_timestamp(&std::fs::read(&pdf).expect("pdf")));
    common::assert_outside_validators(&r, &pdf, 1);
    if !have_tool("pyhanko") {
        return;
    }
    let root = r.export_root("root.pem");
    let v = run_in(
        r.dir.path(),
        "pyhanko",
        &["sign", "validate", "--soft-revocation-check", "--trust", s(&root), "--pretty-print", s(&pdf)],
    );
    assert_eq!(v.code, 0, "{}", v.both());
    assert!(v.stdout.contains("This timestamp is backed by a time stamping authority."), "{}", v.both());
    assert!(v.stdout.contains("The TSA certificate is trusted."), "{}", v.both());
}
