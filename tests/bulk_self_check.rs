//! The self-check bulk issuance runs on each licence between full verifications
//! (`pades::self_check::check_own`): it accepts a licence as sealed, and catches a wrong
//! signature value, a byte changed in the signed range, and a certificate that is not the
//! seal's, each with its reason.

mod common;

use zhengyin::pades::self_check::{check_own, Value};

use common::*;

/// The issued licence, the business licence's sealing department's certificate, and another's.
fn sealed() -> (Region, Vec<u8>, Vec<u8>, Vec<u8>) {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "a.pdf");
    let home = zhengyin::config::Home::resolve(Some(r.home.clone()));
    let prepared = zhengyin::licence::Prepared::new(&home, "business-licence", None).expect("prepared");
    let (cert, _) = prepared.seal_certificate();
    let other = zhengyin::pki::SealSigner::load(&home, "xzsp").expect("xzsp signer").cert;
    (r, std::fs::read(pdf).unwrap(), cert.to_vec(), other)
}

/// The /Contents of the last signature, decoded, and where its hex starts in the file.
fn contents(pdf: &[u8]) -> (Vec<u8>, usize) {
    let key = b"/Contents <";
    let at = pdf.windows(key.len()).rposition(|w| w == key).unwrap() + key.len();
    let end = at + pdf[at..].iter().position(|b| *b == b'>').unwrap();
    let hex = std::str::from_utf8(&pdf[at..end]).unwrap();
    let bytes = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    (bytes, at)
}

/// `pdf` with byte `at` of its last CMS (`cms`, whose hex starts at `hex_at`) changed in the hex.
fn flip_cms_byte(pdf: &[u8], cms: &[u8], hex_at: usize, at: usize) -> Vec<u8> {
    let mut bad = pdf.to_vec();
    let flipped = format!("{:02X}", cms[at] ^ 0x01);
    bad[hex_at + 2 * at..hex_at + 2 * at + 2].copy_from_slice(flipped.as_bytes());
    bad
}

/// A licence as sealed passes (and gives the file's SHA-256); the same licence with its ECDSA signature value changed (still
/// well-formed DER), with one byte of the signed range changed, or checked against another
/// department's certificate, fails with the reason.
#[test]
fn self_check_catches_a_wrong_signature_digest_or_signer() {
    let (_r, pdf, cert, other) = sealed();
    let whole = check_own(&pdf, &cert, Value::Verify).expect("the licence as sealed checks");
    // The file's SHA-256 (the archive's fixity value) comes from the check's own pass.
    assert_eq!(whole, zhengyin::pades::cms::sha256(&pdf));

    // The signature value: its last byte (the end of s) changed in the hex of /Contents.
    let (cms, hex_at) = contents(&pdf);
    let parsed = zhengyin::pades::cms::parse(&cms).unwrap();
    let sig_at = cms.windows(parsed.signature.len()).position(|w| w == parsed.signature.as_slice()).unwrap();
    let last = sig_at + parsed.signature.len() - 1;
    let e = check_own(&flip_cms_byte(&pdf, &cms, hex_at, last), &cert, Value::Verify).unwrap_err();
    assert!(e.contains("signature value does not verify"), "{e}");

    // One byte of the signed range (in the page's title area of the first revision).
    let mut bad = pdf.clone();
    let i = pdf.windows(7).position(|w| w == b"/Title ").unwrap() + 8;
    bad[i] ^= 0x01;
    let e = check_own(&bad, &cert, Value::Verify).unwrap_err();
    assert!(e.contains("message digest"), "{e}");

    let e = check_own(&pdf, &other, Value::Verify).unwrap_err();
    assert!(e.contains("does not name the seal's certificate"), "{e}");

    // The signer's serial number in the SignerInfo changed (the certificate itself still in the
    // CMS): the signer is named by issuer and serial, so this is another signer.
    let serial = x509_parser::parse_x509_certificate(&cert).unwrap().1.tbs_certificate.raw_serial().to_vec();
    // Its occurrences: in the certificate, in the SignerInfo's sid, in the signed attributes.
    let sid_at =
        cms.windows(serial.len()).enumerate().filter(|(_, w)| *w == serial.as_slice()).nth(1).unwrap().0;
    let e = check_own(&flip_cms_byte(&pdf, &cms, hex_at, sid_at), &cert, Value::Verify).unwrap_err();
    assert!(e.contains("does not name the seal's certificate"), "{e}");

    // A non-zero byte in the reserved space after the CMS.
    let mut bad = pdf.clone();
    let pad = hex_at + 2 * cms.iter().rposition(|b| *b != 0).unwrap() + 4;
    assert_eq!(&bad[pad..pad + 2], b"00");
    bad[pad + 1] = b'1';
    let e = check_own(&bad, &cert, Value::Verify).unwrap_err();
    assert!(e.contains("non-zero bytes after the CMS"), "{e}");
}

/// Bulk issuance trusts the signature value of the licences it does not verify in full
/// (`Value::Trust`): the check still catches a byte changed in the signed range and a CMS that
/// names another signer, and the value is not verified (the key's pairing with its certificate
/// is what stands for it: the next test).
#[test]
fn trusting_the_value_still_checks_digest_and_signer() {
    let (_r, pdf, cert, other) = sealed();
    assert_eq!(check_own(&pdf, &cert, Value::Trust).unwrap(), zhengyin::pades::cms::sha256(&pdf));
    let mut bad = pdf.clone();
    let i = pdf.windows(7).position(|w| w == b"/Title ").unwrap() + 8;
    bad[i] ^= 0x01;
    assert!(check_own(&bad, &cert, Value::Trust).unwrap_err().contains("message digest"));
    assert!(check_own(&pdf, &other, Value::Trust).unwrap_err().contains("does not name"));
    let (cms, hex_at) = contents(&pdf);
    let parsed = zhengyin::pades::cms::parse(&cms).unwrap();
    let sig_at = cms.windows(parsed.signature.len()).position(|w| w == parsed.signature.as_slice()).unwrap();
    let flipped = flip_cms_byte(&pdf, &cms, hex_at, sig_at + parsed.signature.len() - 1);
    assert!(check_own(&flipped, &cert, Value::Trust).is_ok());
}

/// A department's key file that is not the key of its seal certificate (here another
/// department's, copied over it) is refused when the key is loaded: a bulk run stops before its
/// first line (exit 2, one line naming the key file), and so does a single issue; nothing is
/// issued or archived.
#[test]
fn a_key_that_is_not_its_certificates_is_refused_before_sealing() {
    let r = Region::init();
    let home = zhengyin::config::Home::resolve(Some(r.home.clone()));
    let prepared = zhengyin::licence::Prepared::new(&home, "business-licence", None).expect("prepared");
    let dept = prepared.department().to_string();
    drop(prepared);
    let key = home.seal_key(&dept);
    std::fs::copy(home.seal_key("xzsp"), &key).unwrap();
    let records = r.path("records.jsonl");
    let line = serde_json::to_string(&sample_data("business-licence")).unwrap();
    std::fs::write(&records, format!("{line}\n{line}\n")).unwrap();
    let out = r.path("out");
    let run = r.issue_batch(&records, &out, &[]);
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("does not belong to the seal certificate"), "{}", run.both());
    assert!(run.stderr.contains(key.file_name().unwrap().to_str().unwrap()), "{}", run.both());
    let pdfs = std::fs::read_dir(&out)
        .map(|d| {
            d.filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "pdf"))).count()
        })
        .unwrap_or(0);
    assert_eq!(pdfs, 0, "nothing written to the output folder");
    let (single, run) = r.try_issue("business-licence", None, "single.pdf");
    run.assert_one_line_error(2);
    assert!(!single.exists());
    let listed = r.zy(&["archive", "list", "--home", s(&r.home)]);
    assert_eq!(listed.stdout.lines().filter(|l| l.starts_with("ZY")).count(), 0, "{}", listed.both());
}
