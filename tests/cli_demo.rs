//! `zhengyin demo --out DIR`: the whole slice in one command.

mod common;

use common::*;

/// demo --out DIR exits 0, writes both licences and a home, and the licences verify against DIR/home.
#[test]
fn demo_writes_licences_that_verify() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let run = zy(tmp.path(), &["demo", "--out", s(&out)]);
    run.assert_code(0);
    assert!(run.stdout.contains("TOTAL-PASSED"), "demo should report its verification\n{}", run.both());
    let home = out.join("home");
    assert!(home.join("pki/root.crt.pem").is_file(), "demo did not create DIR/home\n{}", run.both());
    for (template, holder_key, _, _) in TEMPLATES {
        let pdf = out.join(format!("{template}.pdf"));
        assert!(pdf.is_file(), "demo did not write {}\n{}", pdf.display(), run.both());
        assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"), "{} is not a PDF", pdf.display());
        let v = zy(tmp.path(), &["verify", s(&pdf), "--home", s(&home), "--json"]);
        v.assert_code(0);
        let j = v.json();
        assert_eq!(j["indication"], "TOTAL-PASSED", "{template}: {}", v.both());
        let holder = sample_data(template)[holder_key].as_str().unwrap().to_string();
        assert_eq!(j["licence"]["czzt"], holder.as_str(), "{template}: demo should use the sample data");
    }
    // The no-proof-city steps: a proof answered by rs, a refusal recorded, an annotated copy.
    let proof = zy(tmp.path(), &["proof", "verify", s(&out.join("proof.pdf")), "--home", s(&home), "--json"]);
    proof.assert_code(0);
    assert!(run.stdout.contains("refused and recorded"), "{}", run.both());
    let copy = zy(
        tmp.path(),
        &["verify", s(&out.join("business-licence-annotated.pdf")), "--home", s(&home), "--json"],
    );
    copy.assert_code(0);
    assert_eq!(copy.json()["annotated_copy"]["user"], "泰安市行政审批服务局", "{}", copy.both());
    // A copy for one matter is usable for the default period (30 days), not for decades.
    let until = copy.json()["annotated_copy"]["valid_until"].as_str().unwrap_or_default().to_string();
    let year: i32 = until.get(..4).and_then(|y| y.parse().ok()).unwrap_or(0);
    let this_year = time::OffsetDateTime::now_utc().year();
    assert!(year == this_year || year == this_year + 1, "demo copy valid until {until}");
    assert!(!out.join("rs-social-insurance.csv").exists(), "the demo leaves no raw holder data behind");
}

/// demo run from a directory without the repository's fixtures still works (nothing is read from the CWD).
#[test]
fn demo_does_not_depend_on_working_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path().join("elsewhere");
    std::fs::create_dir(&cwd).unwrap();
    let out = tmp.path().join("d");
    zy(&cwd, &["demo", "--out", s(&out)]).assert_code(0);
    let left: Vec<_> = std::fs::read_dir(&cwd).unwrap().collect();
    assert!(left.is_empty(), "demo wrote into the working directory");
    let v = zy(&cwd, &["verify", s(&out.join("business-licence.pdf")), "--home", s(&out.join("home"))]);
    v.assert_code(0);
}
