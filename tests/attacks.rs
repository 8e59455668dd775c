//! Attack corpus: PDFs crafted from freshly sealed licences, each of which `zhengyin verify` must
//! reject (non-zero exit, and the JSON report naming the right reason).
//!
//! Families (after Mladenov et al., "1 Trillion Dollar Refund", CCS 2019, and Mainka et al.,
//! "Shadow Attacks", NDSS 2021): incremental saving attacks (ISA), universal signature forgery
//! (USF), signature wrapping (SWA), shadow attacks (hide / replace / hide-and-replace), partial
//! coverage, the FieldMDP lock of the last joint seal, and a flipped byte inside a signed range.
//!
//! Every file is generated here, in the test, from licences issued and sealed by the real binary in
//! one scratch home per test binary (`fixture()`); nothing is checked in. `summary_table` (run with
//! `--nocapture`) also runs pyHanko on every file, when it is on PATH, and prints a comparison
//! table; pyHanko's verdict is recorded, never asserted. See fixtures/attacks/README.md.
//!
//! An attack zhengyin does not reject is kept, marked `#[ignore = "zhengyin accepts this: …"]`
//! (none at the moment: the five found by this corpus were fixed in 9fe859e).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use lopdf::{Dictionary, Document, Object, ObjectId, StringFormat};
use serde_json::Value;

mod api_support;
mod cluster;

const BIN: &str = env!("CARGO_BIN_EXE_zhengyin");

#[path = "attacks/coverage.rs"]
mod coverage;
#[path = "attacks/fixture.rs"]
mod fixture;
#[path = "attacks/isa.rs"]
mod isa;
#[path = "attacks/pdf_edit.rs"]
mod pdf_edit;
#[path = "attacks/shadow.rs"]
mod shadow;
#[path = "attacks/swa.rs"]
mod swa;
#[path = "attacks/usf.rs"]
mod usf;
use fixture::*;
use pdf_edit::*;

// ---- the attacks ---------------------------------------------------------------------------------

type Build = fn(&Fixture, &Path) -> Vec<u8>;
type Expect = fn(&Verdict) -> Result<(), String>;

struct Attack {
    name: &'static str,
    family: &'static str,
    /// The file it starts from.
    base: &'static str,
    /// Verify with --allow-incomplete (the base's seal plan is not complete yet).
    allow_incomplete: bool,
    build: Build,
    expect: Expect,
}

const S1B: &str = "Seal1_scjg";
const A1: &str = "Seal1_dy-xzsp";
const A2: &str = "Seal2_scjg";
const A3: &str = "Seal3_xzsp";

fn attacks() -> Vec<Attack> {
    [isa::attacks(), usf::attacks(), swa::attacks(), shadow::attacks(), coverage::attacks()]
        .into_iter()
        .flatten()
        .collect()
}

fn attack(name: &str) -> Attack {
    attacks().into_iter().find(|a| a.name == name).unwrap_or_else(|| panic!("no attack {name}"))
}

fn base_bytes<'a>(f: &'a Fixture, base: &str) -> &'a [u8] {
    match base {
        "b" => &f.b,
        "a1" => &f.a1,
        "a3" => &f.a3,
        other => panic!("unknown base {other}"),
    }
}

/// Build one attack file under `<tmp>/<group>/<name>/` and verify it with zhengyin.
fn build_and_verify(f: &Fixture, a: &Attack, group: &str) -> (PathBuf, Verdict) {
    let dir = f.scratch(group, a.name);
    let pdf = (a.build)(f, &dir);
    assert_ne!(pdf.as_slice(), base_bytes(f, a.base), "{}: the attack changed nothing", a.name);
    let path = dir.join(format!("{}.pdf", a.name));
    std::fs::write(&path, &pdf).expect("write attack file");
    let v = zhengyin_verify(f, &path, a.allow_incomplete);
    (path, v)
}

fn assert_rejected(name: &str) {
    let f = fixture();
    let a = attack(name);
    let (path, v) = build_and_verify(f, &a, "tests");
    let report = v
        .json
        .as_ref()
        .map(|j| serde_json::to_string_pretty(j).unwrap_or_default())
        .unwrap_or_else(|| v.stderr.clone());
    assert_ne!(v.code, 0, "{name}: zhengyin accepted {} ({})\n{report}", path.display(), v.short());
    if let Err(e) = (a.expect)(&v) {
        panic!("{name}: rejected ({}), but not for the expected reason: {e}\n{report}", v.short());
    }
}

// ---- one test per attack ---------------------------------------------------------------------------

macro_rules! attack_tests {
    ($($(#[$m:meta])* $name:ident;)*) => {
        $(
            $(#[$m])*
            #[test]
            fn $name() {
                assert_rejected(stringify!($name));
            }
        )*
        const ATTACK_TESTS: &[&str] = &[$(stringify!($name)),*];
    };
}

attack_tests! {
    isa_replace_content_stream;
    isa_change_info_holder;
    isa_new_info_object;
    isa_add_freetext_annotation;
    isa_add_link_annotation;
    isa_catalog_drops_perms;
    isa_delete_object;
    isa_add_page;
    isa_change_xmp_metadata;
    isa_move_signed_widget;
    isa_add_unsigned_signature_field;
    isa_strip_signature_field;
    isa_update_without_eof;
    isa_short_update;
    usf_contents_missing;
    usf_contents_empty;
    usf_contents_all_zeros;
    usf_byterange_missing;
    usf_byterange_zeros;
    usf_byterange_negative;
    usf_byterange_not_from_zero;
    usf_byterange_past_eof;
    usf_sigdict_redefined_null;
    usf_fill_next_field_garbage_cms;
    usf_fill_next_field_transplanted_cms;
    swa_gap_not_contents;
    swa_shrunk_contents_object_in_gap;
    swa_signed_part_relocated_to_end;
    swa_replayed_signature_in_next_field;
    shadow_hide_overlay_content;
    shadow_hide_and_replace_xobject;
    shadow_swap_content_stream;
    shadow_replace_font;
    shadow_replace_tounicode;
    shadow_replace_seal_appearance;
    shadow_overlay_unsigned_sig_widget;
    coverage_ends_before_eof;
    coverage_ends_mid_file;
    lock_object_appended;
    lock_signature_revision_appended;
    lock_open_field_signed_with_content_change;
    hash_flip_byte_in_first_revision;
}

// ---- across regions: another region's department in a planned place ----------------------------

/// A joint licence whose plan names Tai'an's 市场监督管理局 (`taian/11370900MB28570021`) but whose
/// second seal is a genuine seal of Jinan's 市场监督管理局, under the same local id `scjg` (the two
/// regions trust each other), is refused in both regions, with or without `--allow-incomplete`:
/// the plan and each seal's authority are matched by region and USCC, never by local id (in Jinan
/// the seal is a home department, in Tai'an a foreign one). Tai'an's xzsp may not seal after it.
#[test]
fn cross_region_seal_in_a_planned_place() {
    use api_support::init_home;
    use cluster::{both, cli, cli_ok, h, issue_cli, root_pin};
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(tmp).expect("CARGO_TARGET_TMPDIR");
    let dir = tempfile::Builder::new().prefix("attacks-regions-").tempdir_in(tmp).expect("tempdir");
    let p = dir.path();
    let ta = init_home(&p.join("ta"), "taian");
    // Jinan, with its 市场监督管理局 under the same local id as Tai'an's (`scjg`).
    let text =
        std::fs::read_to_string(api_support::repo().join("fixtures/region/jinan.toml")).expect("jinan");
    let config = p.join("jinan.toml");
    std::fs::write(&config, text.replace("\"jn-scjg\"", "\"scjg\"")).expect("write");
    let jn = zhengyin::config::Home { dir: p.join("jn") };
    cli_ok(&["init", "--home", h(&jn), "--config", s(&config)]);
    for (from, to, id) in [(&ta, &jn, "taian"), (&jn, &ta, "jinan")] {
        let list = p.join(format!("{id}.json"));
        cli_ok(&["trust", "list", "--home", h(from), "--public-url", "file:///nonexistent", "-o", s(&list)]);
        cli_ok(&["trust", "add", "--home", h(to), "--from", s(&list), "--pin", &root_pin(from)]);
    }
    let first = p.join("joint-1.pdf");
    issue_cli(&ta, "joint-approval", None, &first);
    // Jinan's jn-scjg seals the field the plan keeps for Tai'an's scjg (no plan check: an attacker
    // with Jinan's seal uses any signer).
    let signer = zhengyin::pki::SealSigner::load(&jn, "scjg").expect("Jinan's signer");
    let forged = zhengyin::pades::seal(
        &std::fs::read(&first).expect("read"),
        &zhengyin::pades::SealRequest {
            signer: &signer,
            rect: zhengyin::document::seal_slot(1, 3),
            field_name: zhengyin::document::seal_field_name(1, "scjg"),
            reason: "联合签章".into(),
            location: "济南市".into(),
            certify: false,
            lock: false,
            appearance: zhengyin::pades::Appearance::Seal,
            extra: Vec::new(),
        },
    )
    .expect("seal");
    let file = p.join("joint-2-jinan.pdf");
    std::fs::write(&file, forged).expect("write");
    for home in [&ta, &jn] {
        for extra in [None, Some("--allow-incomplete")] {
            let mut args = vec!["verify", "--home", h(home), "--json", s(&file)];
            args.extend(extra);
            let o = cli(&args);
            let rep: Value = serde_json::from_slice(&o.stdout).expect("report");
            assert_eq!(o.status.code(), Some(1), "{args:?}: {rep:#}");
            // The plan does not count it: only Tai'an's first seal is present.
            let plan = &rep["seal_plan"];
            assert_eq!(plan["complete"], false, "{rep:#}");
            assert_eq!(plan["required_ids"][1], "taian/11370900MB28570021", "{rep:#}");
            assert_eq!(plan["present_ids"], serde_json::json!(["taian/11370911MB28570045"]), "{rep:#}");
            // The seal is genuine (a trusted region's department) but not the department the plan
            // names at its place: DEPARTMENT refuses it by region and USCC, in either home.
            let sig = &rep["signatures"][1];
            assert_eq!(
                (sig["department"]["region"].as_str(), sig["department"]["id"].as_str()),
                (Some("jinan"), Some("scjg"))
            );
            assert_eq!(sig["indication"], "INDETERMINATE", "{rep:#}");
            assert_eq!(sig["sub_indication"], "SIG_CONSTRAINTS_FAILURE", "{rep:#}");
            let dept = sig["checks"].as_array().into_iter().flatten().find(|c| c["name"] == "DEPARTMENT");
            let detail = dept.and_then(|c| c["detail"].as_str()).unwrap_or_default();
            assert!(
                detail.contains(
                    "names taian/11370900MB28570021 for seal 2, but this seal is jinan/11370100MB28631028"
                ),
                "{rep:#}"
            );
            // Tai'an's own first seal is untouched by the attack.
            assert_eq!(rep["signatures"][0]["indication"], "TOTAL-PASSED", "{rep:#}");
        }
    }
    let o =
        cli(&["seal", "add", "--home", h(&ta), "--dept", "xzsp", s(&file), "-o", s(&p.join("joint-3.pdf"))]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(both(&o).contains("Seal2_scjg]: INDETERMINATE / SIG_CONSTRAINTS_FAILURE"), "{}", both(&o));
}

/// Every attack in the table has its own test (and the other way round).
#[test]
fn every_attack_has_a_test() {
    let names: Vec<&str> = attacks().iter().map(|a| a.name).collect();
    assert!(names.len() >= 20, "at least 20 attacks");
    for n in &names {
        assert!(ATTACK_TESTS.contains(n), "attack {n} has no test");
    }
    for t in ATTACK_TESTS {
        assert!(names.contains(t), "test {t} names no attack");
    }
}

/// The untouched originals still verify (exit 0), so every rejection above is the attack's doing.
#[test]
fn originals_verify() {
    let f = fixture();
    for (name, allow) in [("b.pdf", false), ("a3.pdf", false), ("a1.pdf", true)] {
        let v = zhengyin_verify(f, &f.dir.join(name), allow);
        assert_eq!(
            v.code,
            0,
            "{name} should verify: {}\n{}",
            v.short(),
            v.json.map(|j| j.to_string()).unwrap_or(v.stderr)
        );
        assert_eq!(
            v.json.as_ref().map(|j| j["indication"].clone()),
            Some(Value::from("TOTAL-PASSED")),
            "{name}"
        );
    }
}

/// zhengyin and pyHanko on every attack file, as a table (`cargo test --release --test attacks
/// summary_table -- --nocapture`), also written to `<tmp>/summary.md`. pyHanko's verdicts are
/// recorded, not asserted.
#[test]
fn summary_table() {
    let f = fixture();
    // (name, family, path, zhengyin's verdict, zhengyin accepted?)
    let mut rows: Vec<(String, String, PathBuf, String, bool)> = Vec::new();
    for (name, allow) in [("b.pdf", false), ("a3.pdf", false), ("a1.pdf", true)] {
        let p = f.dir.join(name);
        let v = zhengyin_verify(f, &p, allow);
        rows.push((format!("(original) {name}"), "-".into(), p, v.short(), v.code == 0));
    }
    for a in &attacks() {
        let (path, v) = build_and_verify(f, a, "summary");
        let reason = match (v.code, (a.expect)(&v)) {
            (0, _) => "ACCEPTED".to_string(),
            (_, Ok(())) => "expected reason".to_string(),
            (_, Err(e)) => format!("rejected, unexpected reason: {e}"),
        };
        rows.push((
            a.name.to_string(),
            a.family.to_string(),
            path,
            format!("{} [{reason}]", v.short()),
            v.code == 0,
        ));
    }
    let files: Vec<PathBuf> = rows.iter().map(|r| r.2.clone()).collect();
    let py = pyhanko_all(f, &files);
    let mut table = String::from("| attack | family | zhengyin | pyHanko | notes |\n|---|---|---|---|---|\n");
    for (i, (name, family, _, zy, zy_ok)) in rows.iter().enumerate() {
        let original = name.starts_with("(original)");
        let (py_text, note) = match py.as_ref().map(|p| &p[i]) {
            None => ("not run (pyhanko not on PATH)".to_string(), ""),
            Some((py_ok, detail)) => {
                let note = match (zy_ok, py_ok, original) {
                    (true, false, _) => "DISAGREE: only pyHanko rejects",
                    (false, true, false) => "DISAGREE: only zhengyin rejects",
                    (true, true, false) => "both accept",
                    _ => "",
                };
                (format!("{} ({detail})", if *py_ok { "accepts" } else { "rejects" }), note)
            }
        };
        table.push_str(&format!("| {name} | {family} | {zy} | {py_text} | {note} |\n"));
    }
    println!("\n{table}");
    std::fs::write(f.dir.join("summary.md"), &table).expect("write summary");
    println!("attack files and this table: {}", f.dir.display());
}
