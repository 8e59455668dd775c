//! The claims of docs/standards.md that no other test proved: each test here is named in the
//! table row it backs (GB/T 38540 seal binding, ETSI EN 319 142-1 signed attributes and DocMDP,
//! RFC 9336 EKU, ETSI EN 319 102-1 sub-indications, GB/T 36904 identifier parts), end to end
//! through the CLI where a user would meet them.

mod common;

use common::*;
use serde_json::Value;

/// The signatures of a `verify --json` run, or a panic naming the run.
fn sigs(run: &Run) -> Vec<Value> {
    run.json()["signatures"].as_array().cloned().unwrap_or_default()
}

fn non_passed(sig: &Value) -> String {
    sig["checks"]
        .as_array()
        .map(|c| c.iter().filter(|c| c["status"] != "PASSED").map(|c| c.to_string()).collect::<Vec<_>>())
        .unwrap_or_default()
        .join("\n")
}

/// The DER CMS of the `n`th signature (its /Contents, without the zero padding).
fn cms_of(pdf: &[u8], n: usize) -> Vec<u8> {
    let mut at = 0;
    let mut found = Vec::new();
    while let Some(i) = find(pdf, b"/Contents <", at) {
        let start = i + b"/Contents <".len();
        let end = find(pdf, b">", start).expect("closing > of /Contents");
        found.push((start, end));
        at = end;
    }
    let (start, end) = found[n];
    let hex = std::str::from_utf8(&pdf[start..end]).expect("hex");
    let der: Vec<u8> =
        (0..hex.len() / 2).map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap()).collect();
    assert_eq!(der[..2], [0x30, 0x82], "a CMS ContentInfo with a two-byte length");
    let len = usize::from(der[2]) << 8 | usize::from(der[3]);
    der[..len + 4].to_vec()
}

/// A seal whose /Name says one department while its key and certificate are another's is
/// refused: DEPARTMENT FAILED, INDETERMINATE / SIG_CONSTRAINTS_FAILURE, exit 1 (GB/T 38540: the
/// seal's owner is its certificate's).
#[test]
fn seal_naming_another_department_is_sig_constraints_failure() {
    let r = Region::init();
    let (pdf, _) = r.issue("joint-approval", None, "joint.pdf");
    let home = zhengyin::config::Home::resolve(Some(r.home.clone()));
    // scjg's key and certificate, but the seal dictionary names the 行政审批服务局.
    let mut signer = zhengyin::pki::SealSigner::load(&home, "scjg").expect("scjg signer");
    let other = home.region().expect("region").department("xzsp").expect("xzsp").name.clone();
    signer.department.name = other.clone();
    let out = zhengyin::pades::seal(
        &std::fs::read(&pdf).unwrap(),
        &zhengyin::pades::SealRequest {
            signer: &signer,
            rect: zhengyin::document::seal_slot(1, 3),
            field_name: zhengyin::document::seal_field_name(1, "scjg"),
            reason: "联合签章".into(),
            location: "泰安市".into(),
            certify: false,
            lock: false,
            appearance: zhengyin::pades::Appearance::Seal,
            extra: Vec::new(),
        },
    )
    .expect("seal");
    let forged = r.path("forged.pdf");
    std::fs::write(&forged, out).unwrap();
    let run = r.zy(&["verify", s(&forged), "--home", s(&r.home), "--json", "--allow-incomplete"]);
    run.assert_code(1);
    let sig = sigs(&run).get(1).cloned().expect("second signature");
    assert_eq!(sig["indication"], "INDETERMINATE", "{}", non_passed(&sig));
    assert_eq!(sig["sub_indication"], "SIG_CONSTRAINTS_FAILURE", "{}", non_passed(&sig));
    let dept = check_status(&sig, "DEPARTMENT");
    assert_eq!(dept, "FAILED", "{}", non_passed(&sig));
    assert!(non_passed(&sig).contains(&format!("the seal names {other}")), "{}", non_passed(&sig));
    // The first seal (dy-xzsp) is untouched by it.
    assert_eq!(sigs(&run)[0]["indication"], "TOTAL-PASSED");
}

/// Every seal's CMS signs content-type, message-digest and signing-certificate-v2, and no
/// signing-time; the claimed time is the dictionary's /M in UTC+8 (ETSI EN 319 142-1 §5.2.1,
/// PAdES B-B), as openssl reads it.
#[test]
fn signed_attributes_are_pades_baseline_and_m_is_utc_plus_8() {
    if !have_tool("openssl") {
        return;
    }
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "licence.pdf");
    let bytes = std::fs::read(&pdf).unwrap();
    let der = r.path("seal.cms.der");
    std::fs::write(&der, cms_of(&bytes, 0)).unwrap();
    let run =
        run_in(r.dir.path(), "openssl", &["cms", "-cmsout", "-print", "-inform", "DER", "-in", s(&der)]);
    run.assert_code(0);
    let text = &run.stdout;
    let signed =
        text.split("signedAttrs:").nth(1).and_then(|t| t.split("unsignedAttrs:").next()).unwrap_or("");
    for attr in [
        "contentType (1.2.840.113549.1.9.3)",
        "messageDigest",
        "signingCertificateV2 (1.2.840.113549.1.9.16.2.47)",
    ] {
        assert!(signed.contains(attr), "signed attributes lack {attr}:\n{signed}");
    }
    assert!(!signed.contains("signingTime"), "a PAdES seal carries no CMS signing-time:\n{signed}");
    assert!(text.contains("id-smime-aa-timeStampToken"), "B-T: an unsigned signature timestamp");
    let m = find(&bytes, b"/M (D:", 0).expect("/M in the signature dictionary");
    let claimed = std::str::from_utf8(&bytes[m + 4..m + 29]).unwrap_or("").trim();
    assert!(claimed.ends_with("+08'00')"), "the claimed time is in UTC+8: {claimed}");
}

/// The first seal certifies (DocMDP P=2, and the catalog's /Perms points at it); later seals of a
/// joint document do not (ISO 32000-2 §12.8.2.2); the report says which one certifies.
#[test]
fn first_seal_certifies_and_later_seals_do_not() {
    let r = Region::init();
    let (pdf, _) = r.issue("joint-approval", None, "joint-1.pdf");
    let two = r.path("joint-2.pdf");
    r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "scjg", s(&pdf), "-o", s(&two)]).assert_code(0);
    let doc = lopdf::Document::load(&two).expect("load");
    let catalog = doc.catalog().expect("catalog");
    let perms =
        catalog.get(b"Perms").and_then(|p| doc.dereference(p)).map(|(_, o)| o.clone()).expect("/Perms");
    let docmdp =
        perms.as_dict().and_then(|d| d.get(b"DocMDP")).and_then(|o| o.as_reference()).expect("/DocMDP");
    let sig = doc.get_dictionary(docmdp).expect("certifying signature dictionary");
    let reference = sig.get(b"Reference").and_then(|r| r.as_array()).expect("/Reference");
    let params = reference
        .first()
        .and_then(|r| doc.dereference(r).ok())
        .and_then(|(_, o)| o.as_dict().ok().cloned())
        .and_then(|d| d.get(b"TransformParams").ok().cloned())
        .and_then(|p| doc.dereference(&p).ok().map(|(_, o)| o.clone()))
        .expect("TransformParams");
    assert_eq!(
        params.as_dict().unwrap().get(b"P").unwrap().as_i64().unwrap(),
        2,
        "P=2: further signatures only"
    );
    let run = r.zy(&["verify", s(&two), "--home", s(&r.home), "--json", "--allow-incomplete"]);
    let sigs = sigs(&run);
    assert_eq!(sigs.len(), 2);
    assert_eq!(sigs[0]["certifies"], Value::from(2), "{}", sigs[0]);
    assert!(sigs[1]["certifies"].is_null(), "a later seal does not certify: {}", sigs[1]);
    let certifying = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| d.get(b"Type").and_then(|t| t.as_name()).ok() == Some(b"Sig".as_slice()))
        .filter(|d| d.has(b"Reference"))
        .count();
    assert_eq!(certifying, 1, "only the first seal's dictionary carries a DocMDP /Reference");
}

/// The RFC 9336 document-signing EKU is in every seal certificate `init` makes.
#[test]
fn seal_certificates_carry_the_document_signing_eku() {
    let r = Region::init();
    let mut n = 0;
    for e in std::fs::read_dir(r.home.join("seals")).unwrap() {
        let path = e.unwrap().path();
        if !path.to_string_lossy().ends_with(".crt.pem") {
            continue;
        }
        let pem = std::fs::read(&path).unwrap();
        let (_, p) = x509_parser::pem::parse_x509_pem(&pem).expect("PEM");
        let cert = p.parse_x509().expect("certificate");
        let eku = cert.extended_key_usage().expect("EKU readable").expect("an EKU extension");
        let doc_signing = x509_parser::der_parser::oid!(1.3.6 .1 .5 .5 .7 .3 .36);
        assert!(eku.value.other.contains(&doc_signing), "{} lacks id-kp-documentSigning", path.display());
        n += 1;
    }
    assert!(n >= 5, "every department has a seal certificate ({n})");
}

/// `seal add` refuses, with a one-line error and exit 2, a department out of plan order, one
/// that already sealed, and any seal once the plan is complete (the document is locked).
#[test]
fn seal_add_refuses_wrong_order_repeats_and_a_complete_plan() {
    let r = Region::init();
    let (one, _) = r.issue("joint-approval", None, "j1.pdf");
    let add = |dept: &str, from: &std::path::Path, to: &str| {
        r.zy(&["seal", "add", "--home", s(&r.home), "--dept", dept, s(from), "-o", s(&r.path(to))])
    };
    let e = add("xzsp", &one, "x.pdf");
    e.assert_one_line_error(2);
    assert!(e.stderr.contains("out of order") && e.stderr.contains("`scjg`"), "{}", e.both());
    let e = add("dy-xzsp", &one, "x.pdf");
    e.assert_one_line_error(2);
    assert!(e.stderr.contains("already sealed"), "{}", e.both());
    assert!(!r.path("x.pdf").exists(), "a refused seal writes nothing");
    add("scjg", &one, "j2.pdf").assert_code(0);
    add("xzsp", &r.path("j2.pdf"), "j3.pdf").assert_code(0);
    let e = add("scjg", &r.path("j3.pdf"), "x.pdf");
    e.assert_one_line_error(2);
    assert!(e.stderr.contains("already complete"), "{}", e.both());
}

/// A revoked CA on the path is CHAIN INDETERMINATE / REVOKED_CA_NO_POE; with the compromise
/// before the seal's timestamp, no POE cures it (ETSI EN 319 102-1 §5.2.6, RFC 5280 §6.3).
#[test]
fn revoked_city_ca_is_revoked_ca_no_poe() {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "licence.pdf");
    let pem = std::fs::read(r.home.join("pki/city.crt.pem")).unwrap();
    let (_, p) = x509_parser::pem::parse_x509_pem(&pem).expect("PEM");
    let serial = p.parse_x509().expect("certificate").raw_serial_as_string().replace(':', "");
    let since = an_hour_ago();
    r.zy(&["revoke", "--home", s(&r.home), "--reason", "keyCompromise", "--compromised-at", &since, &serial])
        .assert_code(0);
    let run = r.verify_json(&pdf);
    run.assert_code(1);
    let sig = sigs(&run).first().cloned().expect("signature");
    let chain = sig["checks"].as_array().unwrap().iter().find(|c| c["name"] == "CHAIN").cloned().unwrap();
    assert_eq!(chain["sub_indication"], "REVOKED_CA_NO_POE", "{}", non_passed(&sig));
    assert!(chain["detail"].as_str().unwrap_or("").contains("市级电子印章CA"), "{chain}");
    assert_ne!(sig["indication"], "TOTAL-PASSED", "{}", non_passed(&sig));
}

/// Verified at a time before its certificates begin (a clock moved back with faketime), a seal
/// is INDETERMINATE / NOT_YET_VALID, never passed.
#[test]
fn before_the_certificates_begin_is_not_yet_valid() {
    if !have_tool("faketime") {
        return;
    }
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "licence.pdf");
    let run = r.zy_at("-3d", &["verify", s(&pdf), "--home", s(&r.home), "--json"]);
    run.assert_code(1);
    let sig = sigs(&run).first().cloned().expect("signature");
    assert_eq!(sig["indication"], "INDETERMINATE", "{}", non_passed(&sig));
    assert_eq!(sig["sub_indication"], "NOT_YET_VALID", "{}", non_passed(&sig));
}

/// GB/T 36904 identifier parts as issued: the issuer code is the sealing department's USCC from
/// region.toml, the version starts at 001, and the holder-code type 001 is named
/// 统一社会信用代码 in the licence metadata; a malformed USCC in region.toml is refused at init.
#[test]
fn identifier_carries_the_department_uscc_and_holder_code_type() {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "licence.pdf");
    let rep = r.verify_json(&pdf).json();
    let lic = &rep["licence"];
    let home = zhengyin::config::Home::resolve(Some(r.home.clone()));
    let uscc = home.region().unwrap().department("scjg").unwrap().uscc.clone();
    let id = lic["zzbs"].as_str().unwrap_or("");
    let parts: Vec<&str> = id.split('.').collect();
    assert_eq!(lic["zzbfjgdm"], Value::from(uscc.clone()), "{lic}");
    assert!(parts.contains(&uscc.as_str()), "the identifier {id} names the issuer {uscc}");
    assert_eq!(parts.get(parts.len().saturating_sub(2)), Some(&"001"), "version 001: {id}");
    assert_eq!(
        (lic["czztdmlxdm"].as_str(), lic["czztdmlx"].as_str()),
        (Some("001"), Some("统一社会信用代码"))
    );

    let config = std::fs::read_to_string(repo().join("fixtures/region/taian.toml")).unwrap();
    let bad = r.path("bad-region.toml");
    std::fs::write(&bad, config.replacen(&uscc, "1137090", 1)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = zy(dir.path(), &["init", "--home", s(&dir.path().join("h")), "--config", s(&bad)]);
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("1137090") || run.stderr.to_lowercase().contains("uscc"), "{}", run.both());
}

/// The archive's format_version names the PAdES baseline level the filed file reaches (ETSI EN
/// 319 142-1 §6): an issued licence (signature timestamp and DSS) is B-LT; one sealed by a home
/// without a TSA is B-B.
#[test]
fn filed_format_version_names_the_pades_level() {
    for (drop_tsa, level) in [(false, "B-LT"), (true, "B-B")] {
        let r = Region::init();
        if drop_tsa {
            r.drop_tsa();
        }
        let (_, run) = r.issue("business-licence", None, "licence.pdf");
        let id = run.line_value("archived").split_whitespace().next().unwrap_or_default().to_string();
        let show = r.zy(&["archive", "show", "--home", s(&r.home), &id]);
        show.assert_code(0);
        let want = format!("\"format_version\": \"PDF 1.7; ETSI EN 319 142-1 {level}\"");
        assert!(show.stdout.contains(&want), "{want} expected:\n{}", show.stdout);
    }
}
