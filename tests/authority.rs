//! Authority (发证权限, issue 10 point 3): which departments may issue, and seal, which licence
//! type. Issuing outside the region's `[authority]` table, or an internal template (proof,
//! commitment) at all, is refused by the CLI (exit 2) and the service (403). A licence sealed by
//! the wrong department with its real key, outside zhengyin (the library's signing function or
//! pyHanko), fails `verify` on DEPARTMENT and names the rule; genuine licences still pass ours and
//! pyHanko's validation.

mod api_support;
mod common;

use std::path::{Path, PathBuf};

use common::{check_status, first_sig, have_tool, run_in, s, Region};
use serde_json::json;
use zhengyin::api::auth::Role;
use zhengyin::api::ServeConfig;
use zhengyin::config::Home;

fn archive_size(home: &Path) -> u64 {
    let home = Home { dir: home.to_path_buf() };
    zhengyin::archive::Archive::open(&zhengyin::filing::archive_dir(&home)).expect("open archive").size()
}

/// The DEPARTMENT check of the first signature.
fn department(report: &serde_json::Value) -> (String, String) {
    let c = first_sig(report)["checks"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == "DEPARTMENT"))
        .cloned()
        .expect("DEPARTMENT check");
    (
        c["status"].as_str().unwrap_or_default().to_string(),
        c["detail"].as_str().unwrap_or_default().to_string(),
    )
}

/// Render `template` with its sample data as if `issuer` issued it (plan: `plan`, default just
/// the issuer) and seal it with `signer`'s real key through the library's own signing function:
/// what a department holding its key can do outside `zhengyin issue`.
fn sealed_outside(
    r: &Region,
    template: &str,
    issuer: &str,
    signer: &str,
    plan: Option<Vec<String>>,
    out: &str,
) -> PathBuf {
    let home = Home { dir: r.home.clone() };
    let region = home.region().unwrap();
    let t = zhengyin::document::Template::load(&home, template).unwrap();
    let data = t.check(&serde_json::Value::Object(common::sample_data(template))).unwrap();
    let dept = region.department(issuer).unwrap().clone();
    let input = zhengyin::document::RenderInput {
        template: &t,
        data: &data,
        issuer: &dept,
        region: &region.region,
        issue_date: "2026-11-20".into(),
        serial: "20261120OUTSIDE01".into(),
        version: 1,
        plan: plan
            .unwrap_or_else(|| vec![issuer.to_string()])
            .iter()
            .map(|d| region.department(d).unwrap().clone())
            .collect(),
    };
    let key = zhengyin::pki::SealSigner::load(&home, signer).unwrap();
    let (pdf, _) = zhengyin::licence::render_and_seal(&input, &key, "outside zhengyin issue".into()).unwrap();
    let path = r.path(out);
    std::fs::write(&path, pdf).unwrap();
    path
}

fn issue_args<'a>(
    r: &'a Region,
    template: &'a str,
    data: &'a Path,
    out: &'a Path,
    seal: &'a str,
) -> Vec<&'a str> {
    vec![
        "issue",
        "--home",
        s(&r.home),
        "--template",
        template,
        "--data",
        s(data),
        "-o",
        s(out),
        "--seal",
        seal,
    ]
}

/// `zhengyin issue` by a department the region does not name for the template: exit 2 naming the
/// rule, no PDF, no receipt, nothing archived.
#[test]
fn cli_issue_refused_for_an_unauthorised_department() {
    let r = Region::init();
    let out = r.path("forged.pdf");
    let data = common::data_file("business-licence");
    let run = r.zy(&issue_args(&r, "business-licence", &data, &out, "rs"));
    run.assert_one_line_error(2);
    assert!(
        run.stderr.contains("rs may not issue business-licence: the region names scjg"),
        "{}",
        run.both()
    );
    assert!(!out.exists() && !r.path("forged.receipt.json").exists(), "a refused issue left output behind");
    assert_eq!(archive_size(&r.home), 0, "a refused issue was archived");
    // The named department still issues.
    r.issue("business-licence", Some("scjg"), "ok.pdf");
}

/// Internal templates (proof, commitment) are never issued by `zhengyin issue`, whoever asks, even
/// when the home's copy of the template predates the `internal` flag.
#[test]
fn cli_issue_refuses_internal_templates() {
    let r = Region::init();
    let data = r.path("any.json");
    std::fs::write(&data, "{}").unwrap();
    for (template, seal) in
        [("proof", "rs"), ("proof", "scjg"), ("commitment", "xzsp"), ("commitment", "scjg")]
    {
        let out = r.path(&format!("{template}-{seal}.pdf"));
        let run = r.zy(&issue_args(&r, template, &data, &out, seal));
        run.assert_one_line_error(2);
        assert!(run.stderr.contains(&format!("{template} is an internal template")), "{}", run.both());
        assert!(!out.exists());
    }
    let proof = r.home.join("templates/proof.toml");
    let old = std::fs::read_to_string(&proof).unwrap().replace("internal = true\n", "");
    std::fs::write(&proof, old).unwrap();
    let run = r.zy(&issue_args(&r, "proof", &data, &r.path("p.pdf"), "rs"));
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("proof is an internal template"), "{}", run.both());
    // A renamed copy keeps the internal type code, so it is internal too.
    let copy = std::fs::read_to_string(&proof).unwrap().replace("id = \"proof\"", "id = \"my-proof\"");
    std::fs::write(r.home.join("templates/my-proof.toml"), copy).unwrap();
    let run = r.zy(&issue_args(&r, "my-proof", &data, &r.path("p.pdf"), "rs"));
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("type code of internal template proof"), "{}", run.both());
    assert_eq!(archive_size(&r.home), 0);
}

/// A home whose region.toml has no [authority] table (made before it existed) keeps working with
/// the safe default: only the first department of each template's seal plan issues it.
#[test]
fn homes_without_an_authority_table_use_the_seal_plan() {
    let r = Region::init();
    let region = r.home.join("region.toml");
    let text = std::fs::read_to_string(&region).unwrap();
    let start = text.find("[authority]").expect("init writes an [authority] table");
    let end = start + text[start..].find("\n\n").unwrap();
    std::fs::write(&region, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let (pdf, _) = r.issue("business-licence", None, "scjg.pdf");
    let v = r.verify_json(&pdf);
    v.assert_code(0);
    let (status, detail) = department(&v.json());
    assert_eq!(status, "PASSED", "{detail}");
    assert!(detail.contains("authorised to issue 营业执照"), "{detail}");
    let out = r.path("rs.pdf");
    let run = r.zy(&issue_args(&r, "business-licence", &common::data_file("business-licence"), &out, "rs"));
    run.assert_one_line_error(2);
    assert!(
        run.stderr
            .contains("rs may not issue business-licence: the region names scjg (the template's seal plan"),
        "{}",
        run.both()
    );
    let (joint, _) = r.issue("joint-approval", None, "j1.pdf");
    r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "scjg", s(&joint), "-o", s(&r.path("j2.pdf"))])
        .assert_code(0);
}

/// `seal add` by a department outside the document's seal plan is refused (exit 2), and nothing
/// is written.
#[test]
fn cli_seal_add_outside_the_plan_is_refused() {
    let r = Region::init();
    let (joint, _) = r.issue("joint-approval", None, "j1.pdf");
    let out = r.path("j2.pdf");
    let run = r.zy(&["seal", "add", "--home", s(&r.home), "--dept", "rs", s(&joint), "-o", s(&out)]);
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("`rs` is not in this document's seal plan"), "{}", run.both());
    assert!(!out.exists());
}

/// The service refuses, with 403 problem+json naming the rule and nothing archived: a 营业执照
/// under 人社局's seal, and scjg issuing the internal proof and commitment templates (the latter
/// with an unmasked ID number). A seal outside the plan is 403 too.
#[test]
fn http_refuses_issue_outside_the_authority() {
    use api_support::{call, init_home, post_json, start, token};
    let tmp = tempfile::tempdir().unwrap();
    let home = init_home(&tmp.path().join("h"), "taian");
    let dept = |d: &str| token(&home, Role::Department { dept: d.into() });
    let (rs, scjg, dy) = (dept("rs"), dept("scjg"), dept("dy-xzsp"));
    let srv = start(&home, ServeConfig::default(), None);
    let lic = format!("{}/v1/licences", srv.url);
    let before = srv.state.archive.size();

    let mut bl = api_support::business_licence();
    bl["seal"] = json!("rs");
    let p = post_json(&lic, Some(&rs), &bl).problem(403);
    assert!(
        p["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("rs may not issue business-licence: the region names scjg"),
        "{p:#}"
    );

    let proof = json!({"template": "proof", "seal": "scjg", "data": {
        "proof_no": "ZM0000000001", "subject": "示例甲", "subject_id": "370902199001011234", "subject_code": "X",
        "proof_kind": "社会保险参保证明", "requester": "泰安市市场监督管理局", "matter": "370900-XK-0001",
        "answer": "参保状态：正常", "issued": "2026-11-20", "valid_until": "2026-12-20"}});
    let p = post_json(&lic, Some(&scjg), &proof).problem(403);
    assert!(p["detail"].as_str().unwrap_or_default().contains("proof is an internal template"), "{p:#}");

    let commitment = json!({"template": "commitment", "seal": "scjg", "data": {
        "commitment_no": "CN0000000001", "subject_id": "370902199001011234", "subject_code": "X",
        "matter": "370900-XK-0012", "handler": "泰安市市场监督管理局", "statement": "本人承诺",
        "committed": "2026-11-20", "check_due": "2026-12-20"}});
    let p = post_json(&lic, Some(&scjg), &commitment).problem(403);
    assert!(p["detail"].as_str().unwrap_or_default().contains("commitment is an internal template"), "{p:#}");
    assert_eq!(srv.state.archive.size(), before, "a refused issue was archived");

    // A joint approval: rs is not in its seal plan.
    let data: serde_json::Value = serde_json::from_slice(
        &std::fs::read(api_support::repo().join("fixtures/data/joint-approval.json")).unwrap(),
    )
    .unwrap();
    let r = post_json(&lic, Some(&dy), &json!({"template": "joint-approval", "data": data}));
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["archive_id"].as_str().unwrap().to_string();
    let p = call(
        "POST",
        &format!("{}/v1/licences/{id}/seals", srv.url),
        Some(&rs),
        Some(("application/json", b"{}")),
        None,
    )
    .problem(403);
    assert!(p["detail"].as_str().unwrap_or_default().contains("not in this document's seal plan"), "{p:#}");
    // The template's department still issues.
    assert_eq!(post_json(&lic, Some(&scjg), &api_support::business_licence()).status, 201);
}

/// A 营业执照 sealed by 人社局 with its real key through the library's signing function (no
/// issue-time check) is not valid: DEPARTMENT fails naming the rule, exit 1, though the signature
/// itself is intact and trusted (pyHanko agrees on that much).
#[test]
fn licence_sealed_outside_by_an_unauthorised_department_fails_verify() {
    let r = Region::init();
    let pdf = sealed_outside(&r, "business-licence", "rs", "rs", None, "forged.pdf");
    let v = r.verify_json(&pdf);
    v.assert_code(1);
    let j = v.json();
    assert_ne!(j["indication"], "TOTAL-PASSED", "{}", v.both());
    assert_eq!(first_sig(&j)["sub_indication"], "SIG_CONSTRAINTS_FAILURE", "{}", v.both());
    let (status, detail) = department(&j);
    assert_eq!(status, "FAILED", "{detail}");
    assert!(
        detail.contains("rs may not issue business-licence (营业执照): the region names scjg"),
        "{detail}"
    );
    for c in ["INTEGRITY", "SIGNATURE", "CHAIN"] {
        assert_eq!(
            check_status(first_sig(&j), c),
            "PASSED",
            "{c}: the forgery uses the real key\n{}",
            v.both()
        );
    }
    let human = r.zy(&["verify", s(&pdf), "--home", s(&r.home)]);
    human.assert_code(1);
    assert!(human.stdout.contains("rs may not issue business-licence"), "{}", human.both());

    // The same licence claiming scjg as its issuer, sealed by rs: still refused.
    let pdf = sealed_outside(&r, "business-licence", "scjg", "rs", None, "forged2.pdf");
    let v = r.verify_json(&pdf);
    v.assert_code(1);
    assert_eq!(department(&v.json()).0, "FAILED", "{}", v.both());
    // The archive refuses to take it.
    let run = r.zy(&["archive", "ingest", "--home", s(&r.home), s(&pdf)]);
    assert_ne!(run.code, 0, "a forged licence was archived\n{}", run.both());

    if have_tool("pyhanko") {
        let root = r.export_root("root.pem");
        let o = run_in(
            r.dir.path(),
            "pyhanko",
            &["sign", "validate", "--soft-revocation-check", "--trust", s(&root), s(&r.path("forged.pdf"))],
        );
        assert!(
            o.stdout.contains("INTACT:TRUSTED"),
            "pyHanko sees a trusted signature (authority is ours to check)\n{}",
            o.both()
        );
    }
}

/// The same forgery signed by pyHanko (a different implementation) with rs's key and certificate
/// over an unsigned licence body fails our DEPARTMENT check too.
#[test]
fn licence_signed_by_pyhanko_with_an_unauthorised_key_fails_verify() {
    if !have_tool("pyhanko") {
        return;
    }
    let r = Region::init();
    let home = Home { dir: r.home.clone() };
    let region = home.region().unwrap();
    let t = zhengyin::document::Template::load(&home, "business-licence").unwrap();
    let data = t.check(&serde_json::Value::Object(common::sample_data("business-licence"))).unwrap();
    let dept = region.department("rs").unwrap().clone();
    let input = zhengyin::document::RenderInput {
        template: &t,
        data: &data,
        issuer: &dept,
        region: &region.region,
        issue_date: "2026-11-20".into(),
        serial: "20261120PYHANKO01".into(),
        version: 1,
        plan: vec![dept.clone()],
    };
    let body = zhengyin::document::render(&input).unwrap();
    let (unsigned, signed) = (r.path("body.pdf"), r.path("pyhanko.pdf"));
    std::fs::write(&unsigned, &body.pdf).unwrap();
    let field = zhengyin::document::seal_field_name(0, "rs");
    let (key, cert, chain) = (
        r.home.join("pki/private/seal-rs.key.pem"),
        r.home.join("seals/rs.crt.pem"),
        r.home.join("pki/city.crt.pem"),
    );
    let o = run_in(
        r.dir.path(),
        "pyhanko",
        &[
            "sign",
            "addsig",
            "--field",
            &field,
            "--use-pades",
            "pemder",
            "--key",
            s(&key),
            "--cert",
            s(&cert),
            "--chain",
            s(&chain),
            "--no-pass",
            s(&unsigned),
            s(&signed),
        ],
    );
    assert_eq!(o.code, 0, "pyHanko could not sign\n{}", o.both());
    let v = r.verify_json(&signed);
    v.assert_code(1);
    let j = v.json();
    assert_eq!(check_status(first_sig(&j), "CHAIN"), "PASSED", "{}", v.both());
    let (status, detail) = department(&j);
    assert_eq!(status, "FAILED", "{}", v.both());
    assert!(detail.contains("rs may not issue business-licence"), "{detail}");
}

/// A joint approval issued outside zhengyin by its rightful first department but recording a
/// shorter seal plan (so that one seal would look complete) fails; so does a second seal by a
/// department the plan does not name at that position.
#[test]
fn forged_seal_plans_fail_verify() {
    let r = Region::init();
    let pdf = sealed_outside(&r, "joint-approval", "dy-xzsp", "dy-xzsp", None, "short.pdf");
    let v = r.verify_json(&pdf);
    v.assert_code(1);
    let (status, detail) = department(&v.json());
    assert_eq!(status, "FAILED", "{}", v.both());
    assert!(detail.contains("must record dy-xzsp,scjg,xzsp"), "{detail}");
    // The full plan, sealed rightly, verifies (incomplete but valid).
    let plan = vec!["dy-xzsp".to_string(), "scjg".into(), "xzsp".into()];
    let pdf = sealed_outside(&r, "joint-approval", "dy-xzsp", "dy-xzsp", Some(plan), "full.pdf");
    let v = r.zy(&["verify", s(&pdf), "--home", s(&r.home), "--json", "--allow-incomplete"]);
    v.assert_code(0);
}

/// A genuine licence still passes: ours names the authority, pyHanko accepts it, and with only
/// `--trust root.pem` (no region configuration) DEPARTMENT warns rather than fails.
#[test]
fn genuine_licences_still_pass() {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "genuine.pdf");
    let v = r.verify_json(&pdf);
    v.assert_code(0);
    let (status, detail) = department(&v.json());
    assert_eq!(status, "PASSED");
    assert!(detail.contains("authorised to issue 营业执照 (business-licence)"), "{detail}");
    let root = r.export_root("root.pem");
    let t = r.zy(&["verify", s(&pdf), "--trust", s(&root), "--json"]);
    t.assert_code(0);
    let (status, detail) = department(&t.json());
    assert_eq!(status, "WARNING", "{detail}");
    assert!(detail.contains("not checked"), "{detail}");
    // Without a region, the forgery cannot be told apart: a warning, as for any seal.
    let forged = sealed_outside(&r, "business-licence", "rs", "rs", None, "forged.pdf");
    let t = r.zy(&["verify", s(&forged), "--trust", s(&root), "--json"]);
    assert_eq!(department(&t.json()).0, "WARNING", "{}", t.both());
    if have_tool("pyhanko") {
        let o = run_in(
            r.dir.path(),
            "pyhanko",
            &["sign", "validate", "--soft-revocation-check", "--trust", s(&root), s(&pdf)],
        );
        assert!(
            o.stdout
                .replace("TIMESTAMP_TOKEN<INTACT:TRUSTED>,", "")
                .contains("INTACT:TRUSTED,EXTENDED_WITH_LTA_UPDATES,ACCEPTABLE_MODIFICATIONS"),
            "pyHanko\n{}",
            o.both()
        );
    } // And qpdf --check and pdfsig, like every licence the CLI makes.
    common::assert_outside_validators(&r, &pdf, 1);
}
