//! A province list of lists and what travels through it (issue 14, points 2 and 3), between three
//! real `zhengyin serve` processes on loopback: Tai'an, Jinan and a province home (山东省,
//! fixtures/region/shandong.toml). Jinan pins the province once (`trust add --from PROVINCE_URL
//! --pin FP`) and imports Tai'an through it; it verifies Tai'an's single-seal and joint licences
//! with the departments named by region and USCC and the seal plans complete. One `zhengyin trust
//! refresh` in Jinan follows the province (a region added), Tai'an's revocations and registry
//! changes, and Tai'an's root rotation (a pivot, no new pin); a forged rotation and replayed
//! province and region lists are refused.

mod api_support;
mod cluster;

use std::path::{Path, PathBuf};

use api_support::*;
use cluster::*;
use serde_json::{json, Value};
use tempfile::TempDir;
use zhengyin::api::auth::Role;
use zhengyin::config::Home;
use zhengyin::trust::{list, pivot};

/// Three homes, each served by its own `zhengyin serve` (no periodic refresh: `trust refresh`
/// is the one refresh the tests run), and Tai'an's department tokens (its server owns its archive,
/// so Tai'an issues over HTTP). Servers are declared first so they stop before the directory is
/// removed.
struct Province {
    ta_s: Served,
    jn_s: Served,
    sd_s: Served,
    ta: Home,
    jn: Home,
    sd: Home,
    /// Tai'an's tokens for scjg, dy-xzsp, xzsp.
    tokens: [String; 3],
    tmp: TempDir,
}

impl Province {
    /// Tai'an, Jinan and the province home, served; the province lists Jinan only.
    fn start() -> Province {
        let tmp = tempfile::tempdir().expect("tmp");
        let home = |id: &str| init_home(&tmp.path().join(id), id);
        let (ta, jn, sd) = (home("taian"), home("jinan"), home("shandong"));
        let tokens = ["scjg", "dy-xzsp", "xzsp"].map(|d| token(&ta, Role::Department { dept: d.into() }));
        let serve = |home: &Home, id: &str| serve_binary(home, &tmp.path().join(format!("{id}.log")));
        let (ta_s, jn_s, sd_s) = (serve(&ta, "taian"), serve(&jn, "jinan"), serve(&sd, "shandong"));
        cli_ok(&["province", "init", "--home", h(&sd)]);
        let p = Province { ta_s, jn_s, sd_s, ta, jn, sd, tokens, tmp };
        p.add_region(&p.jn, &p.jn_s);
        p
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// Tai'an's server issues a business licence (sealed by scjg) to `<tmp>/<name>`.
    fn issue_single(&self, name: &str) -> PathBuf {
        let r =
            post_json(&format!("{}/v1/licences", self.ta_s.url), Some(&self.tokens[0]), &business_licence());
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        self.write(name, &r.json())
    }

    /// Tai'an's server issues a joint-approval licence and adds its two other seals (dy-xzsp,
    /// scjg, xzsp): `<tmp>/<name>-1.pdf` (first seal only) and `<tmp>/<name>-3.pdf` (all three).
    fn issue_joint(&self, name: &str) -> (PathBuf, PathBuf) {
        let data: Value = serde_json::from_slice(
            &std::fs::read(repo().join("fixtures/data/joint-approval.json")).expect("data"),
        )
        .expect("json");
        let url = format!("{}/v1/licences", self.ta_s.url);
        let mut r =
            post_json(&url, Some(&self.tokens[1]), &json!({"template": "joint-approval", "data": data}));
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let first = self.write(&format!("{name}-1.pdf"), &r.json());
        for tok in [&self.tokens[0], &self.tokens[2]] {
            assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
            let id = r.json()["archive_id"].as_str().expect("archive id").to_string();
            r = post_json(&format!("{url}/{id}/seals"), Some(tok), &json!({}));
        }
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        (first, self.write(&format!("{name}-3.pdf"), &r.json()))
    }

    fn write(&self, name: &str, answer: &Value) -> PathBuf {
        let out = self.path(name);
        std::fs::write(&out, pdf_of(answer)).expect("write pdf");
        out
    }

    /// `zhengyin province add-region` of `home`'s served trust list, pinned to its root.
    fn add_region(&self, home: &Home, served: &Served) -> String {
        let from = format!("{}/v1/trust-list", served.url);
        cli_ok(&["province", "add-region", "--home", h(&self.sd), "--from", &from, "--pin", &root_pin(home)])
    }

    /// Jinan pins the province and imports its list of lists; stdout.
    fn jinan_imports_province(&self) -> String {
        let from = format!("{}/v1/province-list", self.sd_s.url);
        cli_ok(&["trust", "add", "--home", h(&self.jn), "--from", &from, "--pin", &root_pin(&self.sd)])
    }

    /// The province lists Tai'an and Jinan imports it.
    fn with_taian_imported(&self) {
        self.add_region(&self.ta, &self.ta_s);
        let out = self.jinan_imports_province();
        assert!(out.contains("1 region(s) (taian)"), "{out}");
    }

    /// One refresh of everything Jinan imported.
    fn jinan_refreshes(&self) -> String {
        cli_ok(&["trust", "refresh", "--home", h(&self.jn)])
    }

    /// Jinan's server's report on `pdf` (POST /v1/verify).
    fn jinan_server_verifies(&self, pdf: &Path) -> Value {
        let bytes = std::fs::read(pdf).expect("pdf");
        let r = call(
            "POST",
            &format!("{}/v1/verify", self.jn_s.url),
            None,
            Some(("application/pdf", &bytes)),
            None,
        );
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        r.json()
    }
}

/// The seal plan ids of a report's present seals.
fn present_ids(rep: &Value) -> Vec<&str> {
    rep["seal_plan"]["present_ids"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The named check of signature `sig`.
fn sig_check<'a>(rep: &'a Value, sig: usize, name: &str) -> &'a Value {
    rep["signatures"][sig]["checks"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no {name} check in signature {sig}: {rep:#}"))
}

/// Exit 0 in Jinan's CLI, TOTAL-PASSED with the plan complete in Jinan's server, each seal
/// bound to a Tai'an department by USCC; returns the CLI report.
fn assert_valid_in_jinan(p: &Province, pdf: &Path, ids: &[&str]) -> Value {
    let (code, rep) = verify_cli(&p.jn, pdf);
    assert_eq!(code, 0, "{rep:#}");
    assert_eq!(rep["seal_plan"]["complete"], true, "{rep:#}");
    assert_eq!(present_ids(&rep), ids, "{rep:#}");
    for (i, id) in ids.iter().enumerate() {
        let d = &rep["signatures"][i]["department"];
        assert_eq!(
            format!("{}/{}", d["region"].as_str().unwrap_or("?"), d["uscc"].as_str().unwrap_or("?")),
            *id
        );
        assert_eq!(sig_check(&rep, i, "DEPARTMENT")["status"], "PASSED", "{rep:#}");
    }
    let served = p.jinan_server_verifies(pdf);
    assert_eq!(served["indication"], "TOTAL-PASSED", "{served:#}");
    assert_eq!(served["seal_plan"]["complete"], true, "{served:#}");
    rep
}

const TA_SCJG: &str = "taian/11370900MB28570021";
const TA_JOINT: [&str; 3] = ["taian/11370911MB28570045", TA_SCJG, "taian/11370900MB2857001X"];

/// Jinan imports Tai'an only through the province list: before the province lists Tai'an, Tai'an's
/// licence is not valid in Jinan; after the province adds Tai'an and Jinan refreshes once, Tai'an's
/// single-seal and joint licences verify (exit 0, departments by region and USCC, plans complete).
#[test]
fn province_list_carries_taian_to_jinan_and_refresh_follows() {
    let p = Province::start();
    let out = p.jinan_imports_province();
    assert!(out.contains("imported province list of shandong: 0 region(s)"), "{out}");
    let single = p.issue_single("single.pdf");
    let (_, joint) = p.issue_joint("joint");
    let (code, rep) = verify_cli(&p.jn, &single);
    assert_eq!(code, 1, "Tai'an is not imported yet: {rep:#}");

    let added = p.add_region(&p.ta, &p.ta_s);
    assert!(added.contains("added region taian"), "{added}");
    let refreshed = p.jinan_refreshes();
    assert!(refreshed.contains("taian"), "{refreshed}");
    let src: Value =
        serde_json::from_slice(&std::fs::read(p.jn.dir.join("trust/taian.source")).expect("source"))
            .expect("json");
    assert_eq!(src["province"], "shandong", "{src}");

    let rep = assert_valid_in_jinan(&p, &single, &[TA_SCJG]);
    assert_eq!(rep["signatures"][0]["department"]["id"], "scjg", "{rep:#}");
    assert!(rep["signatures"][0].to_string().contains("trust list of taian"), "{rep:#}");
    assert_valid_in_jinan(&p, &joint, &TA_JOINT);
    // The human report names the departments too.
    let o = cli(&["verify", "--home", h(&p.jn), joint.to_str().expect("utf-8")]);
    assert!(both(&o).contains("taian, USCC 11370900MB28570021"), "{}", both(&o));
}

/// Tai'an revokes scjg's seal certificate and withdraws xzsp from its registry: after one
/// refresh Jinan refuses a document scjg sealed after the revocation (REVOKED) and no longer
/// counts xzsp's seal; before the refresh Jinan still holds the old registry.
#[test]
fn revocation_and_registry_changes_reach_jinan_after_one_refresh() {
    let p = Province::start();
    p.with_taian_imported();
    let (first, joint) = p.issue_joint("joint");
    assert_valid_in_jinan(&p, &joint, &TA_JOINT);

    cli_ok(&["revoke", "--home", h(&p.ta), &seal_serial(&p.ta, "scjg")]);
    // A new document sealed with the revoked certificate (by whoever still holds its key).
    let base = std::fs::read(&first).expect("first seal");
    let added = zhengyin::licence::add_seal(&p.ta, &base, "scjg").expect("seal after revocation");
    let after = p.path("after-revocation.pdf");
    std::fs::write(&after, &added.pdf).expect("write");
    let region = p.ta.region_file();
    let text = std::fs::read_to_string(&region).expect("region.toml");
    let xzsp = "id = \"xzsp\"\nname = \"泰安市行政审批服务局\"\n";
    assert!(text.contains(xzsp), "the shipped region changed");
    std::fs::write(&region, text.replacen(xzsp, &format!("{xzsp}status = \"withdrawn\"\n"), 1))
        .expect("write");
    assert_eq!(verify_cli(&p.jn, &joint).0, 0, "Jinan keeps the stored registry until it refreshes");

    p.jinan_refreshes();
    let (_, rep) = verify_cli(&p.jn, &after);
    let sig = &rep["signatures"][1];
    assert_eq!(sig["revocation"]["status"], "REVOKED", "{rep:#}");
    assert_ne!(sig["indication"], "TOTAL-PASSED", "{rep:#}");
    let served = p.jinan_server_verifies(&after);
    assert_ne!(served["signatures"][1]["indication"], "TOTAL-PASSED", "{served:#}");
    let (code, rep) = verify_cli(&p.jn, &joint);
    assert_eq!(code, 1, "{rep:#}");
    let dept = sig_check(&rep, 2, "DEPARTMENT");
    assert_eq!(dept["status"], "FAILED", "{rep:#}");
    assert!(dept["detail"].as_str().is_some_and(|d| d.contains("withdrawn")), "{dept}");
    assert_ne!(rep["seal_plan"]["complete"], true, "{rep:#}");
}

/// Tai'an rotates its root (`trust rotate-root`, a pivot signed by the old root): after one
/// refresh Jinan verifies licences made before and after the rotation, with no new pin. A list
/// whose new root is announced by a pivot signed by an unpinned key is refused by `trust add`,
/// and what Jinan stored is untouched.
#[test]
fn root_rotation_is_followed_and_a_forged_rotation_is_refused() {
    let p = Province::start();
    p.with_taian_imported();
    let old = p.issue_single("old.pdf");
    let old_pin = root_pin(&p.ta);
    let old_root = std::fs::read_to_string(p.ta.ca_cert("root")).expect("root");

    let out = cli_ok(&["trust", "rotate-root", "--home", h(&p.ta)]);
    assert!(out.contains(&old_pin), "{out}");
    assert_ne!(root_pin(&p.ta), old_pin);
    let new = p.issue_single("new.pdf");
    p.jinan_refreshes();
    let src: Value =
        serde_json::from_slice(&std::fs::read(p.jn.dir.join("trust/taian.source")).expect("source"))
            .expect("json");
    assert!(src["pins"].to_string().contains(&root_pin(&p.ta)), "the pivot was not followed: {src}");
    assert_eq!(src["pin"], old_pin.as_str(), "{src}");
    for pdf in [&old, &new] {
        assert_valid_in_jinan(&p, pdf, &[TA_SCJG]);
    }

    // A forged rotation: an impostor's root, "announced" by a pivot that names Tai'an's old root
    // but is signed by the impostor's key.
    let evil = init_home(&p.path("evil"), "taian");
    let evil_key = zhengyin::pki::keys::read_key_der(&evil.ca_key("root")).expect("key");
    let evil_root = std::fs::read_to_string(evil.ca_cert("root")).expect("root");
    let old_der = zhengyin::pki::keys::pem_certs(old_root.as_bytes()).expect("pem").remove(0);
    let now = time::OffsetDateTime::now_utc().unix_timestamp() + 5;
    let mut l = list::build(&evil, Some("http://127.0.0.1:9"), now).expect("list");
    l.roots.push(old_root);
    l.pivots = vec![pivot::make("taian", &old_der, &evil_key, &evil_root, now).expect("pivot")];
    l.signature = pivot::sign_with(&evil_key, &pivot::canonical(&l).expect("canonical")).expect("sign");
    let forged = p.path("forged.json");
    std::fs::write(&forged, serde_json::to_vec(&l).expect("json")).expect("write");
    let stored = std::fs::read(p.jn.dir.join("trust/taian.json")).expect("stored");
    let o = cli(&[
        "trust",
        "add",
        "--home",
        h(&p.jn),
        "--from",
        forged.to_str().expect("utf-8"),
        "--pin",
        &old_pin,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(both(&o).contains("no pivot signed by a pinned root announces it"), "{}", both(&o));
    assert_eq!(std::fs::read(p.jn.dir.join("trust/taian.json")).expect("stored"), stored);
    assert_valid_in_jinan(&p, &new, &[TA_SCJG]);
}

/// Replays are refused in every refresh path, not only in `trust add`: an older province list
/// (`trust add` of a copy signed earlier), and an older region list in the file the home imported
/// it from (`trust refresh` reads that file, not the list's own URL, warns and keeps the stored list).
#[test]
fn replayed_province_and_region_lists_are_refused() {
    let p = Province::start();
    p.with_taian_imported();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let old = zhengyin::trust::province::build(&p.sd, now - 60).expect("older province list");
    let file = p.path("old-province.json");
    std::fs::write(&file, serde_json::to_vec(&old).expect("json")).expect("write");
    let o = cli(&["trust", "add", "--home", h(&p.jn), "--from", s(&file), "--pin", &root_pin(&p.sd)]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(both(&o).contains("replayed list is refused"), "{}", both(&o));

    // Tai'an imports Jinan's list from a file (the list names Jinan's served URL as its own); the
    // file is then replaced by an older list. Refresh reads the file it came from, not the URL.
    let list = p.path("jinan-list.json");
    let write = |at: i64| {
        let l = list::build(&p.jn, Some(&p.jn_s.url), at).expect("list");
        std::fs::write(&list, serde_json::to_vec(&l).expect("json")).expect("write");
    };
    write(now);
    let out = cli_ok(&["trust", "add", "--home", h(&p.ta), "--from", s(&list), "--pin", &root_pin(&p.jn)]);
    assert!(out.contains(&format!("refresh reads {} again", s(&list))), "{out}");
    assert!(out.contains(&format!("{}/v1/trust-list", p.jn_s.url)), "{out}");
    let stored = std::fs::read(p.ta.dir.join("trust/jinan.json")).expect("stored");
    write(now - 60);
    let o = cli(&["trust", "refresh", "--home", h(&p.ta)]);
    assert!(o.status.success(), "{}", both(&o));
    assert!(both(&o).contains("replayed list is refused"), "{}", both(&o));
    assert_eq!(std::fs::read(p.ta.dir.join("trust/jinan.json")).expect("stored"), stored);
}

/// How many GET /v1/trust-list `served` answered (from its /metrics).
fn trust_list_gets(served: &Served) -> u64 {
    let r = call("GET", &format!("{}/metrics", served.url), None, None, None);
    assert_eq!(r.status, 200);
    String::from_utf8_lossy(&r.body)
        .lines()
        .filter(|l| l.starts_with("zhengyin_http_requests_total{method=\"GET\",route=\"/v1/trust-list\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// One `trust refresh` fetches a region's list once: a region that came through the province list
/// is refreshed through it, not a second time on its own (Tai'an's server counts the requests).
#[test]
fn a_province_region_is_fetched_once_per_refresh() {
    let p = Province::start();
    p.with_taian_imported();
    let before = trust_list_gets(&p.ta_s);
    let out = p.jinan_refreshes();
    assert!(out.contains("taian"), "{out}");
    assert_eq!(trust_list_gets(&p.ta_s) - before, 1, "Tai'an's list fetched more than once in one refresh");
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
