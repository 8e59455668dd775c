//! PAdES B-LTA and renewal (issue 12 point 4, the LTA half of point 5) end to end through the CLI
//! with Debian's `faketime`: filing adds a document timestamp that verify checks and names as
//! POE; a document-timestamp revision that also changes the page, an annotation or a form value
//! is refused; `archive renew` re-timestamps before the first TSA certificate ends, so that at
//! 2032 and at 2045 a licence still verifies (and pyHanko agrees), the audit is clean, a seal
//! revoked after its timestamp passes, one sealed after its revocation is refused, and a B-B
//! licence without POE stays INDETERMINATE.

mod common;

use std::path::{Path, PathBuf};

use lopdf::{dictionary, Object, ObjectId};
use serde_json::Value;

use common::*;

/// A yearly `archive renew` (cron) before 2032: the root CRL in the newest document timestamp's DSS
/// is then still current at 2032-06-01, as an offline validator needs.
const Y2031: &str = "@2031-09-01 00:00:00";
const Y2032: &str = "@2032-06-01 00:00:00";
/// Half a year before the first TSA key's period of use (10 years from today) ends.
const Y2036: &str = "@2036-06-01 00:00:00";
/// The renewal run before 2045 (with the second TSA certificate).
const Y2044: &str = "@2044-06-01 00:00:00";
const Y2045: &str = "@2045-01-01 00:00:00";

/// `verify --json` of `pdf` with the clock at `when` (None: now).
fn verify_at(r: &Region, when: Option<&str>, pdf: &Path) -> Run {
    let args = ["verify", s(pdf), "--home", s(&r.home), "--json"];
    match when {
        Some(w) => r.zy_at(w, &args),
        None => r.zy(&args),
    }
}

/// The record id `issue` (or `seal add`) printed.
fn record_of(run: &Run) -> String {
    run.stdout
        .lines()
        .find_map(|l| {
            l.trim().strip_prefix("archived").map(|x| x.split_whitespace().next().unwrap_or("").to_string())
        })
        .unwrap_or_else(|| panic!("no archived record named\n{}", run.both()))
}

/// The record `archive renew` filed for `old` (its output line `renewed OLD -> NEW`).
fn renewed(run: &Run, old: &str) -> String {
    run.stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("renewed {old} -> ")).map(String::from))
        .unwrap_or_else(|| panic!("{old} was not renewed\n{}", run.both()))
}

/// pyHanko's AdES validation (revocation checking on, only our root trusted, no network),
/// optionally at `when` (a faketime `@YYYY-MM-DD hh:mm:ss`: pyHanko then runs under faketime with
/// that `--validation-time`, as a user would in that year); every one of `sigs` signatures must
/// be INTACT:TRUSTED.
fn assert_adesverify(r: &Region, pdf: &Path, sigs: usize, when: Option<&str>) {
    if !have_tool("pyhanko") {
        return;
    }
    let root = r.export_root("root.pem");
    let iso = when.map(|w| format!("{}T{}+00:00", w.get(1..11).unwrap_or(""), w.get(12..).unwrap_or("")));
    let mut args = vec!["sign", "adesverify", "--trust-replace", "--trust", s(&root)];
    if let Some(t) = &iso {
        args.extend(["--validation-time", t.as_str()]);
    }
    args.push(s(pdf));
    let o = match when {
        Some(w) => {
            let mut all = vec!["-f", w, "pyhanko"];
            all.extend(args);
            run_in(r.dir.path(), "faketime", &all)
        }
        None => run_in(r.dir.path(), "pyhanko", &args),
    };
    assert_eq!(o.code, 0, "adesverify {when:?}\n{}", o.both());
    assert_eq!(o.stdout.matches(":INTACT:TRUSTED").count(), sigs, "adesverify {when:?}\n{}", o.both());
    // The document timestamp gives every certificate and CRL of the DSS a proof of existence, so
    // the AdES past-validation time slide succeeds (without it pyHanko warns it cannot).
    assert!(!o.stderr.contains("Failed to get control time"), "adesverify {when:?}\n{}", o.both());
}

fn poe_sources(sig: &Value) -> Vec<String> {
    sig["poe"]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["source"].as_str().map(String::from)).collect())
        .unwrap_or_default()
}

/// `archive renew` gives a filed licence its first document timestamp over the whole file (a new
/// record, B-LTA): verify checks the timestamp and names it as POE, pyHanko's AdES validation and
/// pdfsig/qpdf accept it, the record's metadata names the TSA certificate's end, and filing the
/// same file again finds the same record.
#[test]
fn filing_adds_a_document_timestamp_that_verify_names_as_poe() {
    let r = Region::init();
    let (_, issued) = r.issue("business-licence", None, "licence.pdf");
    let renew = r.zy(&["archive", "renew", "--home", s(&r.home), "--before", "0"]);
    renew.assert_code(0);
    let id = renewed(&renew, &record_of(&issued));
    let pdf = get(&r, &id, "licence-lta.pdf");
    let v = r.verify_json(&pdf);
    v.assert_code(0);
    let j = v.json();
    assert_eq!(j["indication"], "TOTAL-PASSED", "{}", v.both());
    let ts = j["document_timestamps"].as_array().expect("document_timestamps");
    assert_eq!(ts.len(), 1, "{}", v.both());
    assert_eq!(ts[0]["status"], "PASSED", "{}", v.both());
    assert!(ts[0]["tsa"].as_str().unwrap_or("").contains("时间戳服务"), "{}", v.both());
    assert_eq!(j["signatures"].as_array().map(Vec::len), Some(1), "a document timestamp is no seal");
    let sig = first_sig(&j);
    assert!(poe_sources(sig).contains(&"document timestamp".to_string()), "{sig:#}");
    assert_eq!(check_status(sig, "MODIFICATIONS"), "PASSED", "{sig:#}");
    assert_outside_validators(&r, &pdf, 1);
    assert_adesverify(&r, &pdf, 1, None);

    let show = r.zy(&["archive", "show", "--home", s(&r.home), &id]);
    show.assert_code(0);
    let meta = &show.json()["metadata"];
    assert!(meta["format_version"].as_str().unwrap_or("").contains("B-LTA"), "{}", show.both());
    assert!(meta["timestamp_until"].as_str().unwrap_or("").starts_with("20"), "{}", show.both());
    let again = r.zy(&["archive", "ingest", "--home", s(&r.home), s(&pdf)]);
    again.assert_code(0);
    assert!(again.stdout.contains("(already archived)") && again.stdout.contains(&id), "{}", again.both());
}

/// Proofs, annotated copies and commitments are archived like licences and get the same long-term
/// treatment: `archive renew` adds a DSS update and a document timestamp to each (a new record of
/// the same kind naming the old one), zhengyin names that timestamp as POE and pyHanko's AdES
/// validation (revocation checking on, no network needed) accepts the result.
#[test]
fn proofs_annotated_copies_and_commitments_are_renewed_like_licences() {
    let r = Region::init();
    let (licence, _) = r.issue("business-licence", None, "licence.pdf");
    r.request_proof("proof.pdf", &[]);
    let copy = r.path("copy.pdf");
    r.zy(&[
        "licence",
        "use",
        "--home",
        s(&r.home),
        s(&licence),
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
    let statement = r.path("statement.txt");
    std::fs::write(&statement, "本人承诺：本人社会保险参保状态正常，如有不实，愿承担相应法律责任。\n")
        .expect("write");
    r.zy(&[
        "commit",
        "--home",
        s(&r.home),
        "--by",
        "xzsp",
        "--subject",
        PROOF_SUBJECT,
        "--matter",
        "370900-XK-0001",
        "--statement",
        s(&statement),
        "-o",
        s(&r.path("commitment.pdf")),
    ])
    .assert_code(0);
    let renew = r.zy(&["archive", "renew", "--home", s(&r.home), "--before", "0"]);
    renew.assert_code(0);
    let mut kinds = Vec::new();
    for (i, line) in renew.stdout.lines().filter_map(|l| l.strip_prefix("renewed ")).enumerate() {
        let (old, new) = line.split_once(" -> ").expect("renewed OLD -> NEW");
        let show = r.zy(&["archive", "show", "--home", s(&r.home), new]);
        show.assert_code(0);
        let meta = show.json()["metadata"].clone();
        assert_eq!(meta["renews"], old, "{}", show.both());
        let kind = meta["kind"].as_str().unwrap_or("").to_string();
        let pdf = get(&r, new, &format!("renewed-{i}.pdf"));
        let v = r.verify_json(&pdf);
        v.assert_code(0);
        let j = v.json();
        assert_eq!(j["document_timestamps"][0]["status"], "PASSED", "{kind}: {}", v.both());
        for sig in j["signatures"].as_array().expect("signatures") {
            assert!(poe_sources(sig).contains(&"document timestamp".to_string()), "{kind}: {sig:#}");
        }
        if kind != "licence" {
            let sigs = j["signatures"].as_array().map(Vec::len).unwrap_or(0);
            assert_adesverify(&r, &pdf, sigs, None);
        }
        kinds.push(kind);
    }
    for kind in ["licence", "proof", "annotated-copy", "commitment"] {
        assert!(kinds.iter().any(|k| k == kind), "no renewed {kind} among {kinds:?}\n{}", renew.both());
    }
}

/// Object ids of the catalog, the first page, its content stream and the AcroForm's first
/// unsigned field (the reserved annotation field of a licence).
fn ids(pdf: &[u8]) -> (lopdf::Document, ObjectId, ObjectId, Option<ObjectId>) {
    let doc = lopdf::Document::load_mem(pdf).expect("lopdf");
    let page = *doc.get_pages().get(&1).expect("page 1");
    let contents = doc
        .get_dictionary(page)
        .expect("page")
        .get(b"Contents")
        .and_then(Object::as_reference)
        .expect("contents ref");
    let field = doc.catalog().ok().and_then(|c| c.get(b"AcroForm").ok()).and_then(|f| match f {
        Object::Reference(r) => doc.get_dictionary(*r).ok(),
        Object::Dictionary(d) => Some(d),
        _ => None,
    });
    let unsigned = field.and_then(|f| f.get(b"Fields").ok()).and_then(|a| a.as_array().ok()).and_then(|a| {
        a.iter()
            .filter_map(|o| o.as_reference().ok())
            .find(|id| doc.get_dictionary(*id).map(|d| d.get(b"V").is_err()).unwrap_or(false))
    });
    (doc, page, contents, unsigned)
}

/// A document timestamp from the home's own TSA over `pdf`, with `extra` objects in its revision.
fn doc_timestamp_with(home: &Path, pdf: &[u8], extra: &[(ObjectId, Object)]) -> Vec<u8> {
    let tsa =
        zhengyin::pki::tsa::Tsa::load(&zhengyin::config::Home { dir: home.to_path_buf() }).expect("tsa");
    zhengyin::pades::doc_timestamp::add(pdf, extra, &mut |digest| {
        let req = zhengyin::pki::tsa::StampRequest {
            hash: const_oid::db::rfc5912::ID_SHA_256,
            digest,
            nonce: None,
            cert_req: true,
            requester: "test",
        };
        Ok(tsa.stamp(&req)?.token)
    })
    .expect("document timestamp")
}

/// A further document timestamp alone is accepted; one whose revision also replaces the page
/// content, adds an annotation or fills a form field is refused by zhengyin (the seal's
/// MODIFICATIONS names the change, the document is TOTAL-FAILED although the timestamp itself
/// verifies) and by pyHanko.
#[test]
fn doc_timestamp_revision_changing_content_annotations_or_form_values_is_refused() {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "licence.pdf");
    let bytes = std::fs::read(&pdf).expect("read");
    let (doc, page, contents, unsigned) = ids(&bytes);
    let next = u32::try_from(next_object_number(&bytes)).expect("object number") + 10;

    let plain = doc_timestamp_with(&r.home, &bytes, &[]);
    let ok = r.path("two-timestamps.pdf");
    std::fs::write(&ok, &plain).expect("write");
    let v = r.verify_json(&ok);
    v.assert_code(0);
    assert_eq!(v.json()["document_timestamps"].as_array().map(Vec::len), Some(1), "{}", v.both());

    let ink = "q 1 0 0 rg 100 100 200 200 re f Q";
    let content = Object::Stream(lopdf::Stream::new(lopdf::Dictionary::new(), ink.as_bytes().to_vec()));
    let mut with_note = doc.get_dictionary(page).expect("page").clone();
    let note = dictionary! {
        "Type" => "Annot", "Subtype" => "Square", "Rect" => vec![100.into(), 100.into(), 300.into(), 300.into()],
        "C" => vec![1.into(), 0.into(), 0.into()],
    };
    let mut annots = match with_note.get(b"Annots") {
        Ok(Object::Array(a)) => a.clone(),
        Ok(Object::Reference(r)) => {
            doc.get_object(*r).and_then(Object::as_array).cloned().unwrap_or_default()
        }
        _ => Vec::new(),
    };
    annots.push(Object::Reference((next, 0)));
    with_note.set("Annots", annots);
    let mut attacks: Vec<(&str, Vec<(ObjectId, Object)>)> = vec![
        ("content", vec![(contents, content)]),
        ("annotation", vec![(page, Object::Dictionary(with_note)), ((next, 0), Object::Dictionary(note))]),
    ];
    if let Some(field) = unsigned {
        // The reserved field turned into a text field holding a value.
        let mut filled = doc.get_dictionary(field).expect("field").clone();
        filled.set("FT", Object::Name(b"Tx".to_vec()));
        filled.set("V", Object::string_literal("forged value"));
        attacks.push(("form value", vec![(field, Object::Dictionary(filled))]));
    }
    assert_eq!(attacks.len(), 3, "the licence has an unsigned field to fill");
    let root = r.export_root("root.pem");
    for (what, extra) in attacks {
        let bad = r.path(&format!("attack-{}.pdf", what.replace(' ', "-")));
        std::fs::write(&bad, doc_timestamp_with(&r.home, &bytes, &extra)).expect("write");
        let v = r.verify_json(&bad);
        v.assert_code(1);
        let j = v.json();
        assert_eq!(j["indication"], "TOTAL-FAILED", "{what}: {}", v.both());
        assert_eq!(check_status(first_sig(&j), "MODIFICATIONS"), "FAILED", "{what}: {}", v.both());
        let ts = j["document_timestamps"].as_array().expect("document_timestamps");
        assert_eq!(
            ts.last().map(|t| &t["status"]),
            Some(&Value::from("PASSED")),
            "{what}: the token itself is fine"
        );
        if have_tool("pyhanko") {
            let o = run_in(
                r.dir.path(),
                "pyhanko",
                &["sign", "validate", "--soft-revocation-check", "--trust", s(&root), s(&bad)],
            );
            assert!(
                o.code != 0 || o.stdout.contains("ILLEGAL") || !o.stdout.contains(":INTACT:TRUSTED"),
                "{what}: pyHanko accepted the change\n{}",
                o.both()
            );
        }
    }
}

/// Copy the record `id`'s bytes out of the archive.
fn get(r: &Region, id: &str, name: &str) -> PathBuf {
    let out = r.path(name);
    r.zy(&["archive", "get", "--home", s(&r.home), id, "-o", s(&out)]).assert_code(0);
    out
}

/// `audit --json` at `when` is clean.
fn assert_audit_clean(r: &Region, when: &str) {
    let a = r.zy_at(when, &["audit", "--home", s(&r.home), "--json"]);
    a.assert_code(0);
    assert_eq!(a.json()["clean"], Value::Bool(true), "audit at {when}\n{}", a.both());
}

/// Over decades, with `archive renew` run under faketime as a yearly cron would (2031, 2036 with a
/// new TSA certificate before the first ends, 2044): at 2032 and at 2045 a B-LTA licence is
/// TOTAL-PASSED naming its POE and pyHanko's `adesverify --validation-time` (revocation checking
/// on, no network) agrees, the audit is clean, a seal revoked after its timestamp passes, one
/// sealed after its revocation is refused and a B-B licence without POE is INDETERMINATE; each
/// renewal is a new record linked to the old one that extends its bytes.
#[test]
fn renewal_keeps_licences_verifiable_in_2032_and_2045() {
    if !have_tool("faketime") {
        return;
    }
    let r = Region::init();
    let (_, issued_a) = r.issue("business-licence", None, "a.pdf");
    let (_, issued_b) = r.issue("business-licence", None, "b.pdf");
    // Their first document timestamps (B-LTA), as a cron job would add them.
    let first = r.zy(&["archive", "renew", "--home", s(&r.home), "--before", "0"]);
    first.assert_code(0);
    let (a1, b1) = (renewed(&first, &record_of(&issued_a)), renewed(&first, &record_of(&issued_b)));
    let b = get(&r, &b1, "b1.pdf");
    // A copy of the home before the revocation keeps sealing with the same key (a stolen key).
    let stale_home = r.path("stale-home");
    copy_dir(&r.home, &stale_home);
    let serial = verify_at(&r, None, &b).json()["signatures"][0]["signer"]["serial"]
        .as_str()
        .expect("serial")
        .replace(':', "");
    r.zy_at("@2027-03-01 00:00:00", &["revoke", "--home", s(&r.home), &serial]).assert_code(0);
    let c = r.path("c.pdf");
    let data = data_file("business-licence");
    r.zy_at(
        "@2027-06-01 00:00:00",
        &[
            "issue",
            "--home",
            s(&stale_home),
            "--template",
            "business-licence",
            "--data",
            s(&data),
            "-o",
            s(&c),
        ],
    )
    .assert_code(0);
    // A B-B licence from an older home (no TSA, so no timestamp and no document timestamp).
    let old = Region::init();
    old.drop_tsa();
    let (bb, _) = old.issue("business-licence", None, "bb.pdf");

    let check = |when: &str, a: &Path, b: &Path| {
        let v = verify_at(&r, Some(when), a);
        v.assert_code(0);
        let j = v.json();
        assert_eq!(j["indication"], "TOTAL-PASSED", "{when}: {}", v.both());
        let sig = first_sig(&j);
        assert!(poe_sources(sig).contains(&"document timestamp".to_string()), "{when}: {sig:#}");
        assert!(check_status(sig, "POE") == "PASSED", "{when}: {sig:#}");
        let v = verify_at(&r, Some(when), b);
        v.assert_code(0);
        let detail = first_sig(&v.json())["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["name"] == "REVOCATION"))
            .and_then(|c| c["detail"].as_str().map(String::from))
            .unwrap_or_default();
        assert!(
            detail.contains("after the proof of existence"),
            "{when}: revoked after its POE\n{}",
            v.both()
        );
        let v = verify_at(&r, Some(when), &c);
        v.assert_code(1);
        assert_eq!(v.json()["indication"], "TOTAL-FAILED", "{when}: sealed after revocation\n{}", v.both());
        let v = old.zy_at(when, &["verify", s(&bb), "--home", s(&old.home), "--json"]);
        v.assert_code(1);
        assert_eq!(v.json()["indication"], "INDETERMINATE", "{when}: B-B without POE\n{}", v.both());
        assert_audit_clean(&r, when);
        // pyHanko's AdES validation at that time, revocation checking on: the root CRL in the
        // newest document timestamp's DSS covers the TSA certificate then.
        assert_adesverify(&r, a, 1, Some(when));
    };
    // The yearly renewal (the newest timestamp's root CRL ends within the year).
    let renew = r.zy_at(Y2031, &["archive", "renew", "--home", s(&r.home), "--before", "365"]);
    renew.assert_code(0);
    let (a, b) = (get(&r, &renewed(&renew, &a1), "a15.pdf"), get(&r, &renewed(&renew, &b1), "b15.pdf"));
    let (a1, b1) = (renewed(&renew, &a1), renewed(&renew, &b1));
    check(Y2032, a.as_path(), b.as_path());

    // Half a year before the first TSA certificate ends: the TSA certificate itself is due, so
    // renew refuses until a new one is issued; then every current record is renewed.
    let refused = r.zy_at(Y2036, &["archive", "renew", "--home", s(&r.home), "--before", "365"]);
    refused.assert_one_line_error(2);
    r.zy_at(Y2036, &["init", "--home", s(&r.home), "--add-tsa", "--force"]).assert_code(0);
    let renew = r.zy_at(Y2036, &["archive", "renew", "--home", s(&r.home), "--before", "365"]);
    renew.assert_code(0);
    let (a2_id, b2_id) = (renewed(&renew, &a1), renewed(&renew, &b1));
    let old_a = std::fs::read(&a).expect("read");
    let new_a = std::fs::read(get(&r, &a2_id, "a2.pdf")).expect("read");
    assert!(new_a.starts_with(&old_a), "the renewed record extends the old bytes");
    // Nothing is due right after a renewal.
    let again = r.zy_at(Y2036, &["archive", "renew", "--home", s(&r.home), "--before", "300"]);
    again.assert_code(0);
    assert!(again.stdout.starts_with("0 of "), "{}", again.both());

    let (a2, b2) = (a2_id, b2_id);
    // The yearly renewal before 2045 (with the second TSA key).
    let renew = r.zy_at(Y2044, &["archive", "renew", "--home", s(&r.home), "--before", "365"]);
    renew.assert_code(0);
    let (a3, b3) = (get(&r, &renewed(&renew, &a2), "a3.pdf"), get(&r, &renewed(&renew, &b2), "b3.pdf"));
    check(Y2045, a3.as_path(), b3.as_path());
    let v = verify_at(&r, Some(Y2045), &a3).json();
    assert_eq!(v["document_timestamps"].as_array().map(Vec::len), Some(4), "{v:#}");
}
