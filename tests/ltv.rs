//! Long-term validation (PAdES B-LT, issue 12 points 3 and 6) end to end through the CLI and the
//! real server: every kind of sealed PDF carries a DSS that lets pyHanko's AdES validation pass
//! offline with revocation checking on; certificates name a CRL URL `serve` really answers; a
//! stale CRL is INDETERMINATE (soft-fail only on request) until `crl refresh` or a running
//! `serve` re-signs it; CRL numbers strictly increase; a DSS update that also changes the page
//! is refused by zhengyin and pyHanko.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};

use lopdf::Object;

use common::*;

/// Nothing listens here: a validator that tries to fetch a CRL instead of using the DSS fails.
const DEAD_URL: &str = "http://127.0.0.1:9";

const ALICE: &str = "370902199001011235";

/// A home whose certificates name an unreachable CRL URL (so validation is offline).
fn offline_region() -> Region {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    zy(dir.path(), &["init", "--home", s(&home), "--public-url", DEAD_URL]).assert_code(0);
    Region { dir, home }
}

fn load_holders(r: &Region) {
    for (dept, f) in [("rs", "rs-social-insurance.csv"), ("bdc", "bdc-real-estate.json")] {
        let file = repo().join("fixtures/holders").join(f);
        r.zy(&["data", "load", "--home", s(&r.home), "--dept", dept, s(&file)]).assert_code(0);
    }
}

/// zhengyin with only the exported root (no home CRLs) checks revocation from the DSS alone (an
/// annotated copy's maker cannot be confirmed without the region, so only REVOCATION is asserted).
fn assert_dss_revocation(r: &Region, pdf: &Path) {
    let root = r.export_root("root.pem");
    let v = r.zy(&["verify", "--trust", s(&root), "--json", s(pdf)]);
    let j = v.json();
    for sig in j["signatures"].as_array().expect("signatures") {
        assert_eq!(check_status(sig, "REVOCATION"), "PASSED", "{}", v.both());
        assert_eq!(sig["revocation"]["origin"], "document DSS", "{}", v.both());
    }
}

fn joint(r: &Region) -> PathBuf {
    let (a1, _) = r.issue("joint-approval", None, "j1.pdf");
    let (a2, a3) = (r.path("j2.pdf"), r.path("j3.pdf"));
    r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "scjg", s(&a1), "-o", s(&a2)]).assert_code(0);
    r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "xzsp", s(&a2), "-o", s(&a3)]).assert_code(0);
    a3
}

/// A new licence, a three-seal joint licence, a proof, an annotated copy and a commitment each pass
/// `pyhanko sign adesverify` with revocation checking on and no network (the DSS suffices), and
/// pyHanko validate, pdfsig and qpdf; zhengyin with only the root takes revocation from the DSS.
#[test]
fn every_kind_of_document_passes_adesverify_offline() {
    let r = offline_region();
    load_holders(&r);
    let (licence, _) = r.issue("business-licence", None, "licence.pdf");
    assert_ades_passes(&r, &licence, 1);
    assert_dss_revocation(&r, &licence);
    let root = r.export_root("root.pem");
    r.zy(&["verify", "--trust", s(&root), s(&licence)]).assert_code(0);

    let j3 = joint(&r);
    assert_ades_passes(&r, &j3, 3);
    assert_dss_revocation(&r, &j3);

    let (proof, _) = r.request_proof("proof.pdf", &[]);
    assert_ades_passes(&r, &proof, 1);

    let copy = r.path("copy.pdf");
    r.zy(&[
        "licence",
        "use",
        "--home",
        s(&r.home),
        s(&j3),
        "--by",
        "xzsp",
        "--purpose",
        "370900-XK-0001",
        "--valid-until",
        "2099-12-31",
        "-o",
        s(&copy),
    ])
    .assert_code(0);
    assert_ades_passes(&r, &copy, 4);
    assert_dss_revocation(&r, &copy);

    let statement = r.path("statement.txt");
    std::fs::write(&statement, "本人承诺：本人社会保险参保状态正常，如有不实，愿承担相应法律责任。\n")
        .expect("write statement");
    let commitment = r.path("commitment.pdf");
    r.zy(&[
        "commit",
        "--home",
        s(&r.home),
        "--by",
        "xzsp",
        "--subject",
        ALICE,
        "--matter",
        "370900-XK-0001",
        "--statement",
        s(&statement),
        "-o",
        s(&commitment),
    ])
    .assert_code(0);
    assert_ades_passes(&r, &commitment, 1);
}

/// The DSS holds the chain (root included) and one CRL per CA on the path (county seal: three).
#[test]
fn dss_holds_the_chain_and_a_crl_per_ca_on_the_path() {
    let r = offline_region();
    let (pdf, _) = r.issue("joint-approval", None, "county.pdf");
    let bytes = std::fs::read(&pdf).expect("read");
    let doc = lopdf::Document::load_mem(&bytes).expect("lopdf");
    let dss = zhengyin::pades::ltv::read(&doc, &mut zhengyin::pades::budget::Budget::default()).expect("dss");
    assert_eq!(dss.certs.len(), 4, "seal, daiyue, city, root");
    assert_eq!(dss.crls.len(), 3, "CRLs of daiyue, city and root");
    for ca in ["daiyue", "city", "root"] {
        let der = std::fs::read(r.home.join("crl").join(format!("{ca}.crl"))).expect("crl");
        assert!(dss.crls.contains(&der), "the DSS lacks the current CRL of {ca}");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// `zhengyin serve` (the binary, optionally under faketime `offset`) on `port`; killed on drop.
struct Serve(std::process::Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(home: &Path, port: u16, offset: Option<&str>, crl_check_secs: &str) -> Serve {
    use std::io::BufRead;
    let mut cmd = std::process::Command::new(BIN);
    cmd.args(["serve", "--refresh-secs", "0", "--crl-check-secs", crl_check_secs, "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--home")
        .arg(home)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    if let Some(o) = offset {
        cmd.env("LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1").env("FAKETIME", o);
    }
    let mut child = cmd.spawn().expect("spawn zhengyin serve");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("first line");
    assert!(line.contains("serving"), "serve did not start: {line}");
    Serve(child)
}

fn get(url: &str) -> (u16, String, Vec<u8>) {
    match ureq::get(url).call() {
        Ok(r) => {
            let (code, ct) = (r.status(), r.content_type().to_string());
            let mut body = Vec::new();
            r.into_reader().take(1 << 20).read_to_end(&mut body).expect("body");
            (code, ct, body)
        }
        Err(ureq::Error::Status(code, r)) => (code, r.content_type().to_string(), Vec::new()),
        Err(e) => panic!("GET {url}: {e}"),
    }
}

/// The CRL distribution point URL of a PEM certificate.
fn dp_of(pem: &Path) -> String {
    let der = zhengyin::pki::keys::read_certs_der(pem).expect("cert").remove(0);
    let (_, c) = x509_parser::parse_x509_certificate(&der).expect("x509");
    for ext in c.extensions() {
        if let x509_parser::extensions::ParsedExtension::CRLDistributionPoints(dps) = ext.parsed_extension() {
            for dp in dps.iter() {
                if let Some(x509_parser::extensions::DistributionPointName::FullName(names)) =
                    &dp.distribution_point
                {
                    for n in names {
                        if let x509_parser::extensions::GeneralName::URI(u) = n {
                            return u.to_string();
                        }
                    }
                }
            }
        }
    }
    panic!("no CRL distribution point in {}", pem.display());
}

/// `init --public-url` is stored in region.toml; seal and CA certificates name
/// `<public-url>/crl/<issuer>.crl`, and `serve` answers exactly that URL with the DER CRL
/// (application/pkix-crl); the default is http://127.0.0.1:8080.
#[test]
fn crl_distribution_points_name_what_serve_publishes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let home = dir.path().join("home");
    zy(dir.path(), &["init", "--home", s(&home), "--public-url", &url]).assert_code(0);
    let region = std::fs::read_to_string(home.join("region.toml")).expect("region.toml");
    assert!(region.contains(&format!("public_url = \"{url}\"")), "{region}");
    let seal_dp = dp_of(&home.join("seals/scjg.crt.pem"));
    assert_eq!(seal_dp, format!("{url}/crl/city.crl"));
    assert_eq!(dp_of(&home.join("pki/daiyue.crt.pem")), format!("{url}/crl/city.crl"));
    assert_eq!(dp_of(&home.join("pki/city.crt.pem")), format!("{url}/crl/root.crl"));
    let _server = serve(&home, port, None, "0");
    for (dp, ca) in [(seal_dp, "city"), (dp_of(&home.join("pki/city.crt.pem")), "root")] {
        let (code, ct, body) = get(&dp);
        assert_eq!(code, 200, "{dp}");
        assert_eq!(ct, "application/pkix-crl", "{dp}");
        assert_eq!(body, std::fs::read(home.join(format!("crl/{ca}.crl"))).expect("crl"), "{dp}");
    }
    assert_eq!(get(&format!("{url}/crl/nosuch.crl")).0, 404);

    let plain = Region::init();
    assert_eq!(dp_of(&plain.home.join("seals/scjg.crt.pem")), "http://127.0.0.1:8080/crl/city.crl");
    plain
        .zy(&["init", "--home", s(&plain.home), "--force", "--public-url", "ftp://x"])
        .assert_one_line_error(2);
}

/// (cRLNumber, nextUpdate as Unix seconds) of a CRL file.
fn crl_facts(path: &Path) -> (Vec<u8>, i64) {
    let der = std::fs::read(path).expect("crl");
    let (_, l) = x509_parser::parse_x509_crl(&der).expect("crl parses");
    let n = l.crl_number().expect("cRLNumber").to_bytes_be();
    (n, l.next_update().expect("nextUpdate").timestamp())
}

fn num_gt(a: &[u8], b: &[u8]) -> bool {
    (a.len(), a) > (b.len(), b)
}

fn faketime(r: &Region, offset: &str, args: &[&str]) -> Run {
    let mut all = vec!["-f", offset, BIN];
    all.extend_from_slice(args);
    run_in(r.dir.path(), "faketime", &all)
}

/// Ten days on, every CRL (the home's and the embedded ones) is past its nextUpdate: verify of a
/// licence without proof of existence (B-B, from a home without TSA) is INDETERMINATE /
/// TRY_LATER, exit 1 (`--revocation soft-fail` restores exit 0 with a warning), while a B-T
/// licence passes on its embedded CRLs (issued after its timestamp) and that timestamp;
/// `zhengyin crl refresh` re-signs the CRLs with a higher cRLNumber and verify passes again; and
/// later still, a `serve` left running under faketime re-signs them by itself.
#[test]
fn stale_crl_is_indeterminate_until_refreshed_by_cron_or_serve() {
    if !have_tool("faketime") {
        return;
    }
    let r = offline_region();
    r.drop_tsa();
    let (pdf, _) = r.issue("business-licence", None, "licence.pdf");
    r.zy(&["init", "--home", s(&r.home), "--add-tsa"]).assert_code(0);
    let (b_t, _) = r.issue("business-licence", None, "licence-b-t.pdf");
    let v = faketime(&r, "+10d", &["verify", "--home", s(&r.home), "--json", s(&b_t)]);
    v.assert_code(0);
    let j = v.json();
    assert_eq!(j["indication"], "TOTAL-PASSED", "{}", v.both());
    assert_eq!(first_sig(&j)["poe"][0]["source"], "signature timestamp", "{}", v.both());
    let city = r.home.join("crl/city.crl");
    let (n0, next0) = crl_facts(&city);

    let v = faketime(&r, "+10d", &["verify", "--home", s(&r.home), "--json", s(&pdf)]);
    v.assert_code(1);
    let j = v.json();
    assert_eq!(j["indication"], "INDETERMINATE", "{}", v.both());
    assert_eq!(j["sub_indication"], "TRY_LATER", "{}", v.both());
    assert_eq!(check_status(first_sig(&j), "REVOCATION"), "INDETERMINATE", "{}", v.both());
    assert_eq!(first_sig(&j)["revocation"]["stale"], true, "{}", v.both());
    let soft = faketime(&r, "+10d", &["verify", "--home", s(&r.home), "--revocation", "soft-fail", s(&pdf)]);
    soft.assert_code(0);
    assert!(soft.stdout.contains("warn REVOCATION"), "{}", soft.both());

    // The HTTP equivalent, on a server that does not re-sign (--crl-check-secs 0).
    {
        let port = free_port();
        let _server = serve(&r.home, port, Some("+10d"), "0");
        let body = std::fs::read(&pdf).expect("read");
        let post = |q: &str| {
            let url = format!("http://127.0.0.1:{port}/v1/verify{q}");
            let r = match ureq::post(&url).set("Content-Type", "application/pdf").send_bytes(&body) {
                Ok(r) => r,
                Err(ureq::Error::Status(_, r)) => r,
                Err(e) => panic!("POST {url}: {e}"),
            };
            let code = r.status();
            let mut text = String::new();
            r.into_reader().take(1 << 22).read_to_string(&mut text).expect("body");
            (code, serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default())
        };
        let (code, strict) = post("");
        assert_eq!((code, strict["sub_indication"].as_str()), (200, Some("TRY_LATER")), "{strict}");
        let (code, soft) = post("?revocation=soft-fail");
        assert_eq!((code, soft["indication"].as_str()), (200, Some("TOTAL-PASSED")), "{soft}");
        assert_eq!(post("?revocation=sometimes").0, 400);
    }
    let c = faketime(&r, "+10d", &["crl", "refresh", "--home", s(&r.home)]);
    c.assert_code(0);
    assert!(c.stdout.contains("re-signed"), "{}", c.both());
    let (n1, next1) = crl_facts(&city);
    assert!(num_gt(&n1, &n0), "the cRLNumber must increase");
    assert!(next1 > next0 + 9 * 86400, "nextUpdate moved on");
    faketime(&r, "+10d", &["verify", "--home", s(&r.home), s(&pdf)]).assert_code(0);
    // Nothing is due right after a refresh.
    let again = faketime(&r, "+10d", &["crl", "refresh", "--home", s(&r.home)]);
    assert!(!again.stdout.contains("re-signed"), "{}", again.both());
    assert_eq!(crl_facts(&city).0, n1);

    // Twenty days on, stale again; a server started then re-signs at start.
    faketime(&r, "+20d", &["verify", "--home", s(&r.home), s(&pdf)]).assert_code(1);
    let port = free_port();
    let _server = serve(&r.home, port, Some("+20d"), "3600");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while crl_facts(&city).0 == n1 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let (n2, _) = crl_facts(&city);
    assert!(num_gt(&n2, &n1), "serve did not re-sign the stale CRL");
    let (_, _, served) = get(&format!("http://127.0.0.1:{port}/crl/city.crl"));
    assert_eq!(served, std::fs::read(&city).expect("crl"), "serve publishes the fresh CRL");
    faketime(&r, "+20d", &["verify", "--home", s(&r.home), s(&pdf)]).assert_code(0);
}

/// cRLNumbers strictly increase across `crl refresh --force`, `revoke` and another refresh.
#[test]
fn crl_numbers_strictly_increase() {
    let r = Region::init();
    let city = r.home.join("crl/city.crl");
    let mut last = crl_facts(&city).0;
    for step in 0..3 {
        if step == 1 {
            let serial = {
                let der = zhengyin::pki::keys::read_certs_der(&r.home.join("seals/dsjzx.crt.pem"))
                    .expect("cert")
                    .remove(0);
                let (_, c) = x509_parser::parse_x509_certificate(&der).expect("x509");
                c.raw_serial().iter().map(|b| format!("{b:02x}")).collect::<String>()
            };
            r.zy(&["revoke", "--home", s(&r.home), &serial]).assert_code(0);
        } else {
            r.zy(&["crl", "refresh", "--home", s(&r.home), "--force"]).assert_code(0);
        }
        let n = crl_facts(&city).0;
        assert!(num_gt(&n, &last), "step {step}: {n:?} is not above {last:?}");
        last = n;
    }
    let show = r.zy(&["crl", "show", "--home", s(&r.home)]);
    show.assert_code(0);
    assert_eq!(show.stdout.lines().count(), 3, "{}", show.both());
}

/// The catalog's DSS object number and the first page's content stream object number.
fn dss_and_content(pdf: &[u8]) -> (u32, u32, String) {
    let doc = lopdf::Document::load_mem(pdf).expect("lopdf");
    let catalog = doc.catalog().expect("catalog");
    let dss = catalog.get(b"DSS").and_then(Object::as_reference).expect("indirect /DSS").0;
    let dss_text =
        String::from_utf8(zhengyin::pades::write::to_bytes(doc.get_object((dss, 0)).expect("DSS object")))
            .expect("DSS is ASCII");
    let page = *doc.get_pages().get(&1).expect("page 1");
    let contents = doc
        .get_dictionary(page)
        .expect("page")
        .get(b"Contents")
        .and_then(Object::as_reference)
        .expect("page /Contents reference")
        .0;
    (dss, contents, dss_text)
}

/// An incremental update adding one CRL stream to the DSS (a pure DSS update), and the same plus
/// a replaced page content stream.
fn dss_updates(pdf: &[u8], other_crl: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (dss, contents, text) = dss_and_content(pdf);
    let n = next_object_number(pdf);
    let new_dss = text.replacen("/CRLs [", &format!("/CRLs [{n} 0 R "), 1);
    assert_ne!(new_dss, text, "the DSS has a /CRLs array");
    let hex: String = other_crl.iter().map(|b| format!("{b:02X}")).collect();
    let crl = format!("<< /Length {} /Filter /ASCIIHexDecode >>\nstream\n{hex}>\nendstream", hex.len() + 1);
    let dss_only = incremental_update(pdf, &[(dss as usize, new_dss.clone()), (n, crl.clone())], None);
    let ink = "q 1 0 0 rg 100 100 200 200 re f Q";
    let page = format!("<< /Length {} >>\nstream\n{ink}\nendstream", ink.len() + 1);
    let with_content =
        incremental_update(pdf, &[(dss as usize, new_dss), (n, crl), (contents as usize, page)], None);
    (dss_only, with_content)
}

/// A revision that only adds to the DSS is accepted by zhengyin and pyHanko (also after the lock
/// of a complete joint licence); a DSS revision that also replaces the page content is refused by
/// zhengyin (MODIFICATIONS names the content stream) and by pyHanko.
#[test]
fn dss_update_with_a_content_change_is_refused() {
    let r = offline_region();
    let (licence, _) = r.issue("business-licence", None, "licence.pdf");
    let j3 = joint(&r);
    // Another current CRL of the region (as a DSS update would add): the root's, re-signed.
    r.zy(&["crl", "refresh", "--home", s(&r.home), "--force"]).assert_code(0);
    let fresh_crl = std::fs::read(r.home.join("crl/root.crl")).expect("crl");
    for (name, pdf, sigs) in [("licence", &licence, 1usize), ("joint", &j3, 3)] {
        let bytes = std::fs::read(pdf).expect("read");
        let (dss_only, attack) = dss_updates(&bytes, &fresh_crl);
        let (ok_path, bad_path) = (r.path(&format!("{name}-dss.pdf")), r.path(&format!("{name}-attack.pdf")));
        std::fs::write(&ok_path, &dss_only).expect("write");
        std::fs::write(&bad_path, &attack).expect("write");

        let v = r.verify_json(&ok_path);
        v.assert_code(0);
        for sig in v.json()["signatures"].as_array().expect("signatures") {
            assert_eq!(check_status(sig, "MODIFICATIONS"), "PASSED", "{name}: {}", v.both());
        }
        let v = r.verify_json(&bad_path);
        v.assert_code(1);
        let j = v.json();
        assert_eq!(j["indication"], "TOTAL-FAILED", "{name}: {}", v.both());
        for sig in j["signatures"].as_array().expect("signatures") {
            assert_eq!(check_status(sig, "MODIFICATIONS"), "FAILED", "{name}: {}", v.both());
        }
        if !have_tool("pyhanko") {
            continue;
        }
        let root = r.export_root("root.pem");
        let good = run_in(
            r.dir.path(),
            "pyhanko",
            &["sign", "validate", "--soft-revocation-check", "--trust", s(&root), s(&ok_path)],
        );
        assert_eq!(good.code, 0, "{name}: pyHanko on a DSS-only update\n{}", good.both());
        assert_eq!(good.stdout.matches(":INTACT:TRUSTED").count(), sigs, "{}", good.both());
        assert_eq!(adesverify(&r, &ok_path, &[]).code, 0, "{name}: adesverify on a DSS-only update");
        let bad = run_in(
            r.dir.path(),
            "pyhanko",
            &["sign", "validate", "--soft-revocation-check", "--trust", s(&root), s(&bad_path)],
        );
        assert_ne!(
            bad.code,
            0,
            "{name}: pyHanko accepted a DSS update with new page content\n{}",
            bad.both()
        );
        let ades = adesverify(&r, &bad_path, &[]);
        assert_ne!(ades.code, 0, "{name}: adesverify accepted the content change\n{}", ades.both());
    }
}
