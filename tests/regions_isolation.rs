//! Each region's trust is its own (issue 14, point 0), through the real CLI on scratch homes:
//! an impersonating region, a county-issued OU=scjg, replayed lists and CRLs, cross-region CRL
//! injection, an unpinned second root and a region-id collision are all refused; a genuine Tai'an
//! licence verifies in Jinan with its department named by region and USCC and its plan complete.

mod api_support;
mod cluster;
mod common;

use std::path::{Path, PathBuf};

use api_support::init_home;
// The CLI helpers every multi-region test shares (tests/cluster), under this file's short names.
use cluster::{both as err, cli as zy, cli_ok, h, issue_cli as issue, root_pin as pin, verify_cli as verify};
use serde_json::Value;
use zhengyin::config::Home;
use zhengyin::trust::list::{self, TrustList};

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Write `home`'s signed trust list (published under `base`, a file:// URL) into `dir`.
fn publish(home: &Home, base: &Path, at: i64) -> PathBuf {
    let url = format!("file://{}", base.display());
    let l = list::build(home, Some(&url), at).unwrap();
    write_list(base, &l)
}

fn write_list(base: &Path, l: &TrustList) -> PathBuf {
    std::fs::create_dir_all(base.join("v1/crl")).unwrap();
    let p = base.join("v1/trust-list");
    std::fs::write(&p, serde_json::to_vec(l).unwrap()).unwrap();
    p
}

/// Copy `home`'s CRLs where its published list says they are.
fn publish_crls(home: &Home, base: &Path) {
    for ca in ["root", "city", "daiyue", "lixia"] {
        if let Ok(b) = std::fs::read(home.crl(ca)) {
            std::fs::write(base.join("v1/crl").join(ca), b).unwrap();
        }
    }
}

/// Re-sign a modified list with `home`'s root key (what a malicious region can do).
fn resign(home: &Home, mut l: TrustList) -> TrustList {
    let key = zhengyin::pki::keys::read_key_der(&home.ca_key("root")).unwrap();
    l.signature =
        zhengyin::trust::pivot::sign_with(&key, &zhengyin::trust::pivot::canonical(&l).unwrap()).unwrap();
    l
}

fn dept_check(rep: &Value, sig: usize) -> Value {
    rep["signatures"][sig]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "DEPARTMENT")
        .unwrap()
        .clone()
}

/// A home made from a region file text (for the impersonating and colliding regions).
fn init_custom(dir: &Path, text: &str) -> Home {
    let home = Home { dir: dir.to_path_buf() };
    let path = dir.with_extension("toml");
    std::fs::write(&path, text).unwrap();
    zhengyin::pki::init(&home, text, &path, false).expect("init");
    home
}

/// Jinan verifies Tai'an's single-seal and joint licences after `trust add`: exit 0, each seal
/// named by region and USCC, the seal plans complete.
#[test]
fn jinan_verifies_taian_single_and_joint_licences() {
    let tmp = tempfile::tempdir().unwrap();
    let ta = init_home(&tmp.path().join("ta"), "taian");
    let jn = init_home(&tmp.path().join("jn"), "jinan");
    let single = tmp.path().join("single.pdf");
    issue(&ta, "business-licence", None, &single);
    let j1 = tmp.path().join("j1.pdf");
    issue(&ta, "joint-approval", None, &j1);
    let (j2, j3) = (tmp.path().join("j2.pdf"), tmp.path().join("j3.pdf"));
    for (dept, from, to) in [("scjg", &j1, &j2), ("xzsp", &j2, &j3)] {
        let o = zy(&[
            "seal",
            "add",
            "--home",
            h(&ta),
            "--dept",
            dept,
            from.to_str().unwrap(),
            "-o",
            to.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", err(&o));
    }
    let list = publish(&ta, &tmp.path().join("pub-ta"), now());
    let o = zy(&["trust", "add", "--home", h(&jn), "--from", list.to_str().unwrap(), "--pin", &pin(&ta)]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(err(&o).contains("6 department(s)"), "{}", err(&o));

    let (code, rep) = verify(&jn, &single);
    assert_eq!(code, 0, "{rep:#}");
    let d = &rep["signatures"][0]["department"];
    assert_eq!(
        (d["region"].as_str(), d["uscc"].as_str(), d["id"].as_str()),
        (Some("taian"), Some("11370900MB28570021"), Some("scjg")),
        "{rep:#}"
    );
    assert_eq!(dept_check(&rep, 0)["status"], "PASSED", "{rep:#}");
    assert_eq!(rep["seal_plan"]["complete"], true, "{rep:#}");
    assert_eq!(rep["seal_plan"]["required_ids"][0], "taian/11370900MB28570021", "{rep:#}");

    let (code, rep) = verify(&jn, &j3);
    assert_eq!(code, 0, "{rep:#}");
    assert_eq!(rep["seal_plan"]["complete"], true, "{rep:#}");
    let ids: Vec<&str> =
        rep["seal_plan"]["present_ids"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert_eq!(
        ids,
        ["taian/11370911MB28570045", "taian/11370900MB28570021", "taian/11370900MB2857001X"],
        "{rep:#}"
    );
    // The human report names the departments by region and USCC too.
    let o = zy(&["verify", "--home", h(&jn), j3.to_str().unwrap()]);
    assert!(
        err(&o).contains("taian, USCC 11370900MB28570021") && err(&o).contains("(complete)"),
        "{}",
        err(&o)
    );
}

/// pyHanko (with pdfsig and qpdf) still validates each region's documents with that region's own
/// root, USCCs (organizationIdentifier) in their seal certificates: Tai'an's single-seal and joint
/// licences, and a Jinan licence sealed by its jn-scjg.
#[test]
fn each_region_document_passes_outside_validators_with_its_root() {
    let tmp = tempfile::tempdir().unwrap();
    let ta = init_home(&tmp.path().join("ta"), "taian");
    let jn = init_home(&tmp.path().join("jn"), "jinan");
    let (single, jinan) = (tmp.path().join("ta.pdf"), tmp.path().join("jn.pdf"));
    issue(&ta, "business-licence", None, &single);
    // Jinan's departments are jn-…: its copy of the built-in template names its own issuer.
    let template = jn.templates_dir().join("business-licence.toml");
    let text = std::fs::read_to_string(&template).unwrap();
    std::fs::write(&template, text.replace("default_seal = \"scjg\"", "default_seal = \"jn-scjg\"")).unwrap();
    issue(&jn, "business-licence", None, &jinan);
    let joint = tmp.path().join("j1.pdf");
    issue(&ta, "joint-approval", None, &joint);
    let mut last = joint.clone();
    for dept in ["scjg", "xzsp"] {
        let next = tmp.path().join(format!("joint-{dept}.pdf"));
        cli_ok(&[
            "seal",
            "add",
            "--home",
            h(&ta),
            "--dept",
            dept,
            last.to_str().unwrap(),
            "-o",
            next.to_str().unwrap(),
        ]);
        last = next;
    }
    for (home, pdf, seals) in [(&ta, &single, 1), (&ta, &last, 3), (&jn, &jinan, 1)] {
        let root = tmp.path().join("root.pem");
        cli_ok(&["trust", "export", "--home", h(home), "-o", root.to_str().unwrap()]);
        common::assert_outside_validators_with(tmp.path(), &root, pdf, seals);
    }
}

/// A region that names a department 泰安市市场监督管理局 / scjg (with Tai'an's USCC) is still its
/// own region: after Tai'an imports its list, its seal is refused as Tai'an's department.
#[test]
fn impersonating_region_is_not_taian() {
    let tmp = tempfile::tempdir().unwrap();
    let ta = init_home(&tmp.path().join("ta"), "taian");
    let text = std::fs::read_to_string(api_support::repo().join("fixtures/region/taian.toml"))
        .unwrap()
        .replace("id = \"taian\"", "id = \"evil\"")
        .replace("电子印章根CA（测试）", "电子印章根CA（冒充）");
    let evil = init_custom(&tmp.path().join("evil"), &text);
    let pdf = tmp.path().join("evil.pdf");
    issue(&evil, "business-licence", None, &pdf);
    let list = publish(&evil, &tmp.path().join("pub-evil"), now());
    let o = zy(&["trust", "add", "--home", h(&ta), "--from", list.to_str().unwrap(), "--pin", &pin(&evil)]);
    assert!(o.status.success(), "{}", err(&o));
    let (code, rep) = verify(&ta, &pdf);
    assert_eq!(code, 1, "{rep:#}");
    let c = dept_check(&rep, 0);
    assert_eq!(c["status"], "FAILED", "{rep:#}");
    let detail = c["detail"].as_str().unwrap();
    assert!(detail.contains("region evil") && detail.contains("a department of this region"), "{detail}");
    assert_ne!(rep["seal_plan"]["complete"], true, "{rep:#}");
}

/// Inside one region, a certificate with OU=scjg issued by the county CA is not the city's scjg.
#[test]
fn county_issued_scjg_is_not_the_city_scjg() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(api_support::repo().join("fixtures/region/taian.toml")).unwrap();
    let county = text.replacen(
        "id = \"scjg\"\nname = \"泰安市市场监督管理局\"\nuscc = \"11370900MB28570021\"\nlevel = \"city\"\nca = \"city\"",
        "id = \"scjg\"\nname = \"泰安市市场监督管理局\"\nuscc = \"11370900MB28570021\"\nlevel = \"city\"\nca = \"daiyue\"",
        1,
    );
    assert_ne!(county, text);
    let ta = init_custom(&tmp.path().join("ta"), &county);
    let pdf = tmp.path().join("county.pdf");
    issue(&ta, "business-licence", None, &pdf);
    // The region configuration says the city CA issues scjg's seal.
    std::fs::write(ta.region_file(), &text).unwrap();
    let (code, rep) = verify(&ta, &pdf);
    assert_eq!(code, 1, "{rep:#}");
    let c = dept_check(&rep, 0);
    assert_eq!(c["status"], "FAILED", "{rep:#}");
    assert!(c["detail"].as_str().unwrap().contains("configured CA `city`"), "{c}");
}

/// An older trust list than the stored one (a replay) is refused by `trust add` with a clear message.
#[test]
fn replayed_trust_list_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let ta = init_home(&tmp.path().join("ta"), "taian");
    let jn = init_home(&tmp.path().join("jn"), "jinan");
    let old = publish(&ta, &tmp.path().join("old"), now() - 60);
    let new = publish(&ta, &tmp.path().join("new"), now());
    let o = zy(&["trust", "add", "--home", h(&jn), "--from", new.to_str().unwrap(), "--pin", &pin(&ta)]);
    assert!(o.status.success(), "{}", err(&o));
    let o = zy(&["trust", "add", "--home", h(&jn), "--from", old.to_str().unwrap(), "--pin", &pin(&ta)]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(
        err(&o).contains("older than the stored number") && err(&o).contains("replayed list"),
        "{}",
        err(&o)
    );
    assert_eq!(err(&o).lines().count(), 1, "{}", err(&o));
}

/// A replayed CRL from before a revocation is refused, in `trust add` and in the refresh `serve`
/// runs; the revoked seal stays revoked.
#[test]
fn replayed_crl_is_refused_and_the_revocation_stands() {
    let tmp = tempfile::tempdir().unwrap();
    let ta = init_home(&tmp.path().join("ta"), "taian");
    let jn = init_home(&tmp.path().join("jn"), "jinan");
    let pdf = tmp.path().join("lic.pdf");
    issue(&ta, "business-licence", None, &pdf);
    let base = tmp.path().join("pub");
    let list = publish(&ta, &base, now());
    let before = std::fs::read(ta.crl("city")).unwrap();
    let o = zy(&["revoke", "--home", h(&ta), &api_support::seal_serial(&ta, "scjg")]);
    assert!(o.status.success(), "{}", err(&o));
    publish_crls(&ta, &base);
    let o = zy(&["trust", "add", "--home", h(&jn), "--from", list.to_str().unwrap(), "--pin", &pin(&ta)]);
    assert!(o.status.success(), "{}", err(&o));
    // REVOKED in the report; the verdict depends on whether the revocation's second came after
    // the signature timestamp (then the seal existed before it: valid in the past, ETSI §5.6).
    let (before_code, rep) = verify(&jn, &pdf);
    assert_eq!(rep["signatures"][0]["revocation"]["status"], "REVOKED", "{rep:#}");
    // The old CRL comes back: refused by the store, in `trust add` (stderr warns) and in refresh.
    std::fs::write(base.join("v1/crl/city"), &before).unwrap();
    let stored = std::fs::read(jn.dir.join("trust/taian-crl/city.crl")).unwrap();
    let e = zhengyin::trust::imports::store_crl(&jn, "taian", "city", &before).unwrap_err().to_string();
    assert!(e.contains("older than the stored one") && e.contains("replayed CRL"), "{e}");
    let o = zy(&["trust", "add", "--home", h(&jn), "--from", list.to_str().unwrap(), "--pin", &pin(&ta)]);
    assert!(err(&o).contains("replayed CRL"), "{}", err(&o));
    let refreshed = zhengyin::api::refresh::refresh_once(&jn);
    assert_eq!(refreshed, ["taian"]);
    assert_eq!(std::fs::read(jn.dir.join("trust/taian-crl/city.crl")).unwrap(), stored);
    let (code, rep) = verify(&jn, &pdf);
    assert_eq!(
        (code, &rep["signatures"][0]["revocation"]["status"]),
        (before_code, &Value::from("REVOKED")),
        "{rep:#}"
    );
}

/// Region E's list carrying region D's CA is refused; and a CRL of D's stored under E never decides
/// for D's chains (CRLs are looked up within the region that owns the CA).
#[test]
fn cross_region_ca_and_crl_injection_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = init_home(&tmp.path().join("d"), "taian");
    let e = init_home(&tmp.path().join("e"), "jinan");
    let me = init_custom(
        &tmp.path().join("me"),
        &std::fs::read_to_string(api_support::repo().join("fixtures/region/jinan.toml"))
            .unwrap()
            .replace("id = \"jinan\"", "id = \"me\"")
            .replace("济南市电子印章根CA（测试）", "第三方根CA（测试）"),
    );
    let pdf = tmp.path().join("d.pdf");
    issue(&d, "business-licence", None, &pdf);
    let stale = std::fs::read(d.crl("city")).unwrap();
    // Compromised an hour ago: revoked before the seal's timestamp, whatever second it is now.
    let serial = api_support::seal_serial(&d, "scjg");
    let since = api_support::an_hour_ago();
    let o =
        zy(&["revoke", "--home", h(&d), &serial, "--reason", "keyCompromise", "--compromised-at", &since]);
    assert!(o.status.success(), "{}", err(&o));
    // E's list with D's city CA in it: refused as a whole.
    let mut l = list::build(&e, Some("file:///nonexistent"), now()).unwrap();
    l.cas.push(std::fs::read_to_string(d.ca_cert("city")).unwrap());
    let bad = write_list(&tmp.path().join("bad-e"), &resign(&e, l));
    let o = zy(&["trust", "add", "--home", h(&me), "--from", bad.to_str().unwrap(), "--pin", &pin(&e)]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("does not chain to its pinned root"), "{}", err(&o));
    // D and E imported honestly (D's CRLs not reachable yet); D's stale CRL planted in E's CRL
    // directory does not speak for D: only the CRL embedded in the document itself (its DSS,
    // checked against D's chain) can clear the seal, never the planted one in the trust store.
    let dl = publish(&d, &tmp.path().join("pub-d"), now());
    let el = publish(&e, &tmp.path().join("pub-e"), now());
    for (l, p) in [(&dl, pin(&d)), (&el, pin(&e))] {
        let o = zy(&["trust", "add", "--home", h(&me), "--from", l.to_str().unwrap(), "--pin", &p]);
        assert!(o.status.success(), "{}", err(&o));
    }
    std::fs::create_dir_all(me.dir.join("trust/jinan-crl")).unwrap();
    std::fs::write(me.dir.join("trust/jinan-crl/city.crl"), &stale).unwrap();
    let (_, rep) = verify(&me, &pdf);
    let rev = &rep["signatures"][0]["revocation"];
    assert!(rev["status"] == "UNKNOWN" || rev["origin"] == "document DSS", "{rep:#}");
    assert_ne!(rev["origin"], "trust store", "E's planted CRL decided for D:\n{rep:#}");
    // Once D's own CRL is fetched, D's revoked seal is revoked.
    publish_crls(&d, &tmp.path().join("pub-d"));
    let o = zy(&["trust", "add", "--home", h(&me), "--from", dl.to_str().unwrap(), "--pin", &pin(&d)]);
    assert!(o.status.success(), "{}", err(&o));
    let (code, rep) = verify(&me, &pdf);
    assert_eq!(code, 1, "{rep:#}");
    assert_eq!(rep["signatures"][0]["revocation"]["status"], "REVOKED", "{rep:#}");
}

/// A second root in a list that is neither pinned nor announced by a pivot is refused.
#[test]
fn unpinned_second_root_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let ta = init_home(&tmp.path().join("ta"), "taian");
    let jn = init_home(&tmp.path().join("jn"), "jinan");
    let other = init_home(&tmp.path().join("other"), "taian");
    let mut l = list::build(&ta, Some("file:///nonexistent"), now()).unwrap();
    l.roots.push(std::fs::read_to_string(other.ca_cert("root")).unwrap());
    let bad = write_list(&tmp.path().join("bad"), &resign(&ta, l));
    let o = zy(&["trust", "add", "--home", h(&jn), "--from", bad.to_str().unwrap(), "--pin", &pin(&ta)]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("neither pinned nor announced by a pivot"), "{}", err(&o));
    assert!(!jn.dir.join("trust/taian.json").exists());
}

/// A list claiming a region id already imported under another pin is refused; the stored list and
/// pin are unchanged.
#[test]
fn region_id_collision_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let ta = init_home(&tmp.path().join("ta"), "taian");
    let jn = init_home(&tmp.path().join("jn"), "jinan");
    let impostor = init_home(&tmp.path().join("imp"), "taian");
    let good = publish(&ta, &tmp.path().join("good"), now());
    let o = zy(&["trust", "add", "--home", h(&jn), "--from", good.to_str().unwrap(), "--pin", &pin(&ta)]);
    assert!(o.status.success(), "{}", err(&o));
    let before = std::fs::read(jn.dir.join("trust/taian.source")).unwrap();
    let imp = publish(&impostor, &tmp.path().join("imp-pub"), now() + 1);
    let o =
        zy(&["trust", "add", "--home", h(&jn), "--from", imp.to_str().unwrap(), "--pin", &pin(&impostor)]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("already imported under pin"), "{}", err(&o));
    assert_eq!(std::fs::read(jn.dir.join("trust/taian.source")).unwrap(), before);
}
