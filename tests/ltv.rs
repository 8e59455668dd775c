//! Long-term validation (issue 12 points 3 and 6) end to end through the CLI and the real
//! server: certificates name a CRL URL `serve` really answers; CRL numbers strictly increase.

mod common;

use std::io::Read;
use std::path::Path;

use common::*;

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
