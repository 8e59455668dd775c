//! No-proof workflows end to end through the CLI (docs/proofs.md): holder data, listed and unlisted
//! requests, "no record" answers, tokens, use records, and no raw ID number anywhere in the home.

mod common;

use common::*;

const ALICE: &str = "370902199001011235"; // 测试员甲, enrolled
const NOBODY: &str = "370902197809094564"; // valid check digit, in no data file
const ALL_IDS: [&str; 4] =
    ["370902199001011235", "370902198503152340", "370902199207203451", "370902197809094564"];

fn load(r: &Region) {
    for (dept, f) in
        [("rs", "rs-social-insurance.csv"), ("bdc", "bdc-real-estate.json"), ("scjg", "scjg-compliance.csv")]
    {
        let file = repo().join("fixtures/holders").join(f);
        r.zy(&["data", "load", "--home", s(&r.home), "--dept", dept, s(&file)]).assert_code(0);
    }
}

fn request(r: &Region, by: &str, kind: &str, subject: &str, purpose: &str, out: &str) -> Run {
    let o = r.path(out);
    r.zy(&[
        "proof",
        "request",
        "--home",
        s(&r.home),
        "--by",
        by,
        "--kind",
        kind,
        "--subject",
        subject,
        "--purpose",
        purpose,
        "-o",
        s(&o),
    ])
}

#[test]
fn listed_request_answers_with_sealed_pdf_and_token_and_records_the_use() {
    let r = Region::init();
    load(&r);
    let run = request(&r, "xzsp", "social-insurance", ALICE, "370900-XK-0001", "p1.pdf");
    run.assert_code(0);
    assert!(run.stdout.contains("参保状态：正常；参保起始：2019-03"), "{}", run.both());
    let pdf = r.path("p1.pdf");
    let jws = r.path("p1.jws");
    r.zy(&["proof", "verify", "--home", s(&r.home), s(&pdf)]).assert_code(0);
    r.zy(&["verify", "--home", s(&r.home), s(&pdf)]).assert_code(0);
    let v = r.zy(&["proof", "verify", "--home", s(&r.home), "--json", s(&jws)]);
    v.assert_code(0);
    let j = v.json();
    assert_eq!(j["claims"]["iss"], "rs");
    assert_eq!(j["claims"]["purpose"], "370900-XK-0001");
    assert_eq!(j["revocation"]["status"], "GOOD");
    // A tampered token does not verify.
    let mut t = std::fs::read_to_string(&jws).expect("read jws");
    let cut = t.find('.').expect("dot") + 5;
    let c = if &t[cut..cut + 1] == "A" { "B" } else { "A" };
    t.replace_range(cut..cut + 1, c);
    let bad = r.path("bad.jws");
    std::fs::write(&bad, t).expect("write");
    assert_ne!(r.zy(&["proof", "verify", "--home", s(&r.home), s(&bad)]).code, 0);
    // The use is listed for the subject.
    let u = r.zy(&["proof", "uses", "--home", s(&r.home), "--subject", ALICE, "--json"]);
    u.assert_code(0);
    let list = u.json();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{}", u.both());
    r.zy(&["audit", "--home", s(&r.home)]).assert_code(0);
    assert_eq!(list[0]["type"], "use-record");
    assert_eq!(list[0]["by"], "xzsp");
    // Proofs sealed by `rs` (social insurance) and by `bdc` (real estate) pass qpdf, pdfsig and
    // pyHanko (untouched: a proof is final when issued).
    request(&r, "xzsp", "real-estate", ALICE, "370900-GG-0021", "re.pdf").assert_code(0);
    for f in ["p1.pdf", "re.pdf"] {
        assert_outside_validators(&r, &r.path(f), 1);
    }
    if have_tool("pyhanko") {
        let root = r.home.join("pki/root.crt.pem");
        for f in ["p1.pdf", "re.pdf"] {
            let p = run_in(
                r.dir.path(),
                "pyhanko",
                &["sign", "validate", "--soft-revocation-check", "--trust", s(&root), s(&r.path(f))],
            );
            assert!(
                p.stdout
                    .replace("TIMESTAMP_TOKEN<INTACT:TRUSTED>,", "")
                    .contains("INTACT:TRUSTED,EXTENDED_WITH_LTA_UPDATES,ACCEPTABLE_MODIFICATIONS"),
                "pyHanko does not accept {f}\n{}",
                p.both()
            );
        }
    }
}

#[test]
fn unlisted_purpose_or_department_is_refused_and_recorded() {
    let r = Region::init();
    load(&r);
    let run = request(&r, "xzsp", "social-insurance", ALICE, "370900-XX-9999", "no.pdf");
    run.assert_code(2);
    assert!(run.stderr.contains("refused") && run.stderr.lines().count() == 1, "{}", run.both());
    assert!(!r.path("no.pdf").exists());
    request(&r, "scjg", "social-insurance", ALICE, "370900-XK-0001", "no2.pdf").assert_code(2);
    let u = r.zy(&["proof", "uses", "--home", s(&r.home), "--subject", ALICE, "--json"]);
    let list = u.json();
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 2, "{}", u.both());
    assert!(list.iter().all(|x| x["type"] == "use-refusal"));
    // The refusals are in the Merkle-logged archive and the archive still audits clean.
    r.zy(&["audit", "--home", s(&r.home)]).assert_code(0);
}

#[test]
fn unknown_subject_gets_a_signed_no_record_answer() {
    let r = Region::init();
    load(&r);
    let run = request(&r, "xzsp", "social-insurance", NOBODY, "370900-XK-0001", "none.pdf");
    run.assert_code(0);
    assert!(run.stdout.contains("无此记录"), "{}", run.both());
    r.zy(&["proof", "verify", "--home", s(&r.home), s(&r.path("none.pdf"))]).assert_code(0);
    assert_outside_validators(&r, &r.path("none.pdf"), 1);
    let v = r.zy(&["proof", "verify", "--home", s(&r.home), "--json", s(&r.path("none.jws"))]);
    v.assert_code(0);
    assert_eq!(v.json()["claims"]["found"], false);
}

#[test]
fn raw_id_numbers_never_reach_the_home() {
    let r = Region::init();
    load(&r);
    request(&r, "xzsp", "social-insurance", ALICE, "370900-XK-0001", "a.pdf").assert_code(0);
    request(&r, "xzsp", "real-estate", ALICE, "370900-GG-0021", "b.pdf").assert_code(0);
    request(&r, "xzsp", "social-insurance", NOBODY, "370900-XK-0001", "c.pdf").assert_code(0);
    request(&r, "scjg", "social-insurance", ALICE, "370900-XK-0001", "d.pdf").assert_code(2);
    r.zy(&["proof", "uses", "--home", s(&r.home), "--subject", ALICE]).assert_code(0);
    assert_no_raw_ids(&r.home, &ALL_IDS);
    // The check sees text a byte search cannot: the footer printed on every proof page (compressed,
    // glyph-encoded, in no metadata) is found by it.
    let seen = std::panic::catch_unwind(|| assert_no_raw_ids(&r.home, &["扫码核验"]));
    let message = seen.err().and_then(|e| e.downcast_ref::<String>().cloned()).unwrap_or_default();
    assert!(message.contains("pdftotext"), "page text must be visible to the raw-ID check: {message}");
    // The outputs show the IDs only masked.
    for out in ["a.pdf", "a.jws", "c.jws"] {
        let bytes = std::fs::read(r.path(out)).expect("read");
        assert!(
            find(&bytes, ALICE.as_bytes(), 0).is_none() && find(&bytes, NOBODY.as_bytes(), 0).is_none(),
            "{out}"
        );
    }
}

#[test]
fn licence_use_makes_an_annotated_copy_that_keeps_the_original_seal() {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "bl.pdf");
    let out = r.path("bl-use.pdf");
    r.zy(&[
        "licence",
        "use",
        "--home",
        s(&r.home),
        s(&pdf),
        "--by",
        "xzsp",
        "--purpose",
        "370900-XK-0012",
        "-o",
        s(&out),
    ])
    .assert_code(0);
    let v = r.verify_json(&out);
    v.assert_code(0);
    let j = v.json();
    let sigs = j["signatures"].as_array().expect("signatures");
    assert_eq!(sigs.len(), 2, "{}", v.both());
    assert!(sigs.iter().all(|s| s["indication"] == "TOTAL-PASSED"), "{}", v.both());
    // Not a listed use for this department → refused.
    r.zy(&[
        "licence",
        "use",
        "--home",
        s(&r.home),
        s(&pdf),
        "--by",
        "scjg",
        "--purpose",
        "370900-XK-0012",
        "-o",
        s(&r.path("x.pdf")),
    ])
    .assert_code(2);
}
