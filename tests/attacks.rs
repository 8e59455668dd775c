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

// ---- the fixture: one home and one set of sealed licences per test binary ---------------------

struct Fixture {
    /// Kept alive for the whole run (statics are never dropped: the directory stays under
    /// target/tmp for inspection).
    _dir: tempfile::TempDir,
    dir: PathBuf,
    home: PathBuf,
    root_pem: PathBuf,
    /// business-licence, one seal (scjg), certifying (DocMDP P=2).
    b: Vec<u8>,
    /// joint-approval after the first seal (dy-xzsp, certifying); Seal2/Seal3 still empty.
    a1: Vec<u8>,
    /// joint-approval with all three seals; the last one locks the document.
    a3: Vec<u8>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
        std::fs::create_dir_all(tmp).expect("CARGO_TARGET_TMPDIR");
        remove_stale(tmp);
        let dir = tempfile::Builder::new().prefix("attacks-").tempdir_in(tmp).expect("tempdir");
        let p = dir.path().to_path_buf();
        let home = p.join("home");
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let data = |t: &str| repo.join(format!("fixtures/data/{t}.json"));
        zy_ok(&p, &["init", "--home", s(&home)]);
        let (b, a1, a2, a3, root) =
            (p.join("b.pdf"), p.join("a1.pdf"), p.join("a2.pdf"), p.join("a3.pdf"), p.join("root.pem"));
        zy_ok(
            &p,
            &[
                "issue",
                "--home",
                s(&home),
                "--template",
                "business-licence",
                "--data",
                s(&data("business-licence")),
                "-o",
                s(&b),
            ],
        );
        zy_ok(
            &p,
            &[
                "issue",
                "--home",
                s(&home),
                "--template",
                "joint-approval",
                "--data",
                s(&data("joint-approval")),
                "-o",
                s(&a1),
            ],
        );
        zy_ok(&p, &["seal", "add", "--home", s(&home), "--dept", "scjg", s(&a1), "-o", s(&a2)]);
        zy_ok(&p, &["seal", "add", "--home", s(&home), "--dept", "xzsp", s(&a2), "-o", s(&a3)]);
        zy_ok(&p, &["trust", "export", "--home", s(&home), "-o", s(&root)]);
        let read = |f: &Path| std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        Fixture { b: read(&b), a1: read(&a1), a3: read(&a3), home, root_pem: root, dir: p, _dir: dir }
    })
}

/// Remove corpora that earlier runs left in `tmp` more than an hour ago.
fn remove_stale(tmp: &Path) {
    let old = |e: &std::fs::DirEntry| {
        e.metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|a| a.as_secs() > 3600)
    };
    for e in std::fs::read_dir(tmp).into_iter().flatten().flatten() {
        if e.file_name().to_string_lossy().starts_with("attacks-") && old(&e) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

impl Fixture {
    /// A fresh scratch directory `<tmp>/<group>/<name>` (tests and the summary never share one).
    fn scratch(&self, group: &str, name: &str) -> PathBuf {
        let d = self.dir.join(group).join(name);
        std::fs::create_dir_all(&d).expect("scratch dir");
        d
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cwd: &Path, program: &str, args: &[&str]) -> Run {
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env_remove("ZHENGYIN_HOME")
        .env_remove("ZHENGYIN_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn zy_ok(cwd: &Path, args: &[&str]) -> Run {
    let r = run(cwd, BIN, args);
    assert_eq!(r.code, 0, "zhengyin {} failed:\n{}\n{}", args.join(" "), r.stdout, r.stderr);
    r
}

// ---- verdicts ----------------------------------------------------------------------------------

/// What `zhengyin verify --json` said about one file.
struct Verdict {
    code: i32,
    json: Option<Value>,
    stderr: String,
}

fn zhengyin_verify(f: &Fixture, file: &Path, allow_incomplete: bool) -> Verdict {
    let mut args = vec!["verify", "--home", s(&f.home), s(file), "--json"];
    if allow_incomplete {
        args.push("--allow-incomplete");
    }
    let r = run(&f.dir, BIN, &args);
    assert!(!r.stderr.contains("panicked"), "zhengyin panicked on {}:\n{}", file.display(), r.stderr);
    let json = serde_json::from_str(&r.stdout).ok();
    if r.code != 2 {
        assert!(
            json.is_some(),
            "exit {} without a JSON report for {}:\n{}\n{}",
            r.code,
            file.display(),
            r.stdout,
            r.stderr
        );
    }
    Verdict { code: r.code, json, stderr: r.stderr }
}

impl Verdict {
    fn sigs(&self) -> Vec<&Value> {
        self.json
            .as_ref()
            .and_then(|j| j["signatures"].as_array())
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    }

    fn sig(&self, field: &str) -> Result<&Value, String> {
        self.sigs()
            .into_iter()
            .find(|s| s["field"] == field)
            .ok_or_else(|| format!("no signature for field {field} in the report"))
    }

    fn indication(&self) -> String {
        self.json
            .as_ref()
            .map(|j| {
                format!(
                    "{}/{}",
                    j["indication"].as_str().unwrap_or("?"),
                    j["sub_indication"].as_str().unwrap_or("-")
                )
            })
            .unwrap_or_else(|| "unreadable".into())
    }

    /// One line for the table: exit code, indication, and every check that did not pass.
    fn short(&self) -> String {
        let Some(_) = &self.json else {
            let msg = self.stderr.trim();
            let msg = msg.rsplit(".pdf: ").next().unwrap_or(msg);
            return format!("exit {} unreadable ({})", self.code, msg.chars().take(90).collect::<String>());
        };
        let mut bad = Vec::new();
        for sg in self.sigs() {
            for c in sg["checks"].as_array().into_iter().flatten() {
                let st = c["status"].as_str().unwrap_or("");
                if st == "FAILED" || st == "INDETERMINATE" {
                    bad.push(format!(
                        "{}:{}",
                        sg["field"].as_str().unwrap_or("?"),
                        c["name"].as_str().unwrap_or("?")
                    ));
                }
            }
        }
        let plan = self
            .json
            .as_ref()
            .and_then(|j| j.get("seal_plan"))
            .map(|p| if p["in_order"] == true { "" } else { " plan-out-of-order" })
            .unwrap_or("");
        format!(
            "exit {} {} {}{}",
            self.code,
            self.indication(),
            if bad.is_empty() { "no failed check".to_string() } else { bad.join(",") },
            plan
        )
    }
}

fn check<'a>(sig: &'a Value, name: &str) -> Result<&'a Value, String> {
    sig["checks"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .ok_or_else(|| format!("no {name} check in {}", sig["field"]))
}

/// The check `name` of the signature in `field` FAILED, and its detail mentions `needle`.
fn failed(v: &Verdict, field: &str, name: &str, needle: &str) -> Result<(), String> {
    let c = check(v.sig(field)?, name)?;
    if c["status"] != "FAILED" {
        return Err(format!("{field} {name} is {} ({}), expected FAILED", c["status"], c["detail"]));
    }
    let detail = c["detail"].as_str().unwrap_or("");
    if !detail.contains(needle) {
        return Err(format!("{field} {name} failed with \"{detail}\", expected it to mention \"{needle}\""));
    }
    Ok(())
}

/// The signature of `field` carries this sub-indication and is not TOTAL-PASSED.
fn sub(v: &Verdict, field: &str, sub_indication: &str) -> Result<(), String> {
    let sg = v.sig(field)?;
    if sg["indication"] == "TOTAL-PASSED" || sg["sub_indication"] != sub_indication {
        return Err(format!(
            "{field} is {}/{}, expected {sub_indication}",
            sg["indication"], sg["sub_indication"]
        ));
    }
    Ok(())
}

/// A signature field the parser refused (bad /ByteRange or /Contents), with the reason.
fn bad_format(v: &Verdict, field: &str, needle: &str) -> Result<(), String> {
    failed(v, field, "FORMAT", needle)?;
    sub(v, field, "FORMAT_FAILURE")
}

fn modified(v: &Verdict, field: &str, needle: &str) -> Result<(), String> {
    failed(v, field, "MODIFICATIONS", needle)
}

fn not_passed(v: &Verdict) -> Result<(), String> {
    match &v.json {
        Some(j) if j["indication"] == "TOTAL-PASSED" => Err("top-level indication is TOTAL-PASSED".into()),
        Some(_) => Ok(()),
        None => Err("no report".into()),
    }
}

/// The pyHanko command line recorded for every file (its verdict is never asserted).
fn pyhanko_args<'a>(f: &'a Fixture, file: &'a Path) -> [&'a str; 6] {
    ["sign", "validate", "--soft-revocation-check", "--trust", s(&f.root_pem), s(file)]
}

/// Runs `pyhanko sign validate …` for many files in one Python process (pyHanko's own click
/// entry point, called once per file with the same arguments as the command line), because
/// starting Python costs about a second per file on a small machine. Prints one JSON line per
/// file: {"code": exit code, "stdout": what the command printed, "error": an uncaught error}.
const PYHANKO_BATCH: &str = r#"
import contextlib, io, json, sys
from pyhanko.cli import cli_root
for args in json.loads(sys.stdin.read()):
    out, err = io.StringIO(), ""
    with contextlib.redirect_stdout(out):
        try:
            code = cli_root.main(args=args, prog_name="pyhanko", standalone_mode=False) or 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except Exception as e:
            code, err = 1, f"Error: {e}"
    sys.stdout.write(json.dumps({"code": code, "stdout": out.getvalue(), "error": err}) + "\n")
"#;

/// pyHanko's verdict on each file: (accepted?, short verdict); None when pyHanko is not installed.
fn pyhanko_all(f: &Fixture, files: &[PathBuf]) -> Option<Vec<(bool, String)>> {
    let quiet = |c: &mut Command| {
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    if !quiet(Command::new("pyhanko").arg("--version")) {
        eprintln!("note: pyhanko is not on PATH; the pyHanko column stays empty");
        return None;
    }
    let batch = quiet(Command::new("python3").args(["-c", "import pyhanko.cli"]));
    let runs: Vec<(i32, String, String)> = if batch {
        let script = f.dir.join("pyhanko_batch.py");
        std::fs::write(&script, PYHANKO_BATCH).expect("write pyhanko_batch.py");
        let args: Vec<[&str; 6]> = files.iter().map(|p| pyhanko_args(f, p)).collect();
        let mut child = Command::new("python3")
            .arg(&script)
            .current_dir(&f.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3");
        std::io::Write::write_all(
            &mut child.stdin.take().expect("stdin"),
            serde_json::to_string(&args).expect("JSON").as_bytes(),
        )
        .expect("write to python3");
        let out = child.wait_with_output().expect("python3 output");
        let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        assert_eq!(
            lines.len(),
            files.len(),
            "the pyHanko batch stopped early (exit {:?})",
            out.status.code()
        );
        lines
            .iter()
            .map(|j| {
                (
                    j["code"].as_i64().unwrap_or(-1) as i32,
                    j["stdout"].as_str().unwrap_or("").to_string(),
                    j["error"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    } else {
        files
            .iter()
            .map(|p| {
                let r = run(&f.dir, "pyhanko", &pyhanko_args(f, p));
                (r.code, r.stdout, r.stderr)
            })
            .collect()
    };
    Some(runs.into_iter().map(|(code, stdout, stderr)| pyhanko_verdict(code, &stdout, &stderr)).collect())
}

/// pyHanko accepts when it exits 0 and every signature line is INTACT:TRUSTED with UNTOUCHED or
/// ACCEPTABLE_MODIFICATIONS.
fn pyhanko_verdict(code: i32, stdout: &str, stderr: &str) -> (bool, String) {
    let mut statuses = Vec::new();
    let mut all_ok = true;
    for line in stdout.lines() {
        let parts: Vec<&str> = line.splitn(3, ':').collect();
        if parts.len() == 3 && parts[1].len() == 64 && parts[1].bytes().all(|b| b.is_ascii_hexdigit()) {
            let st = parts[2];
            let ok = st.starts_with("INTACT:TRUSTED")
                && (st.contains("UNTOUCHED") || st.contains("ACCEPTABLE_MODIFICATIONS"));
            all_ok &= ok;
            statuses.push(format!(
                "{}={}",
                parts[0],
                st.replace("INTACT:", "").replace("EXTENDED_WITH_FORM_FILLING,", "")
            ));
        }
    }
    let accepted = code == 0 && !statuses.is_empty() && all_ok;
    let detail = if statuses.is_empty() && code == 0 {
        "exit 0: no signature found".to_string()
    } else if statuses.is_empty() {
        let err = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty() && !l.contains("trust roots are being combined"))
            .unwrap_or("")
            .trim();
        let err = err.split(" - ").last().unwrap_or(err);
        format!("exit {code}: {}", err.chars().take(90).collect::<String>())
    } else {
        format!("exit {code}: {}", statuses.join(" "))
    };
    (accepted, detail)
}

// ---- PDF writing helpers -------------------------------------------------------------------------

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

fn load(pdf: &[u8]) -> Document {
    Document::load_mem(pdf).expect("lopdf loads the base PDF")
}

/// Offset named by the last `startxref`.
fn last_startxref(pdf: &[u8]) -> usize {
    let k = pdf.windows(9).rposition(|w| w == b"startxref").expect("startxref");
    let digits: String = pdf[k + 9..]
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| b as char)
        .collect();
    digits.parse().expect("startxref offset")
}

/// PDF syntax of `o` (strings keep their literal / hex form so unchanged values compare equal).
fn ser(o: &Object, out: &mut Vec<u8>) {
    match o {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => {
            let t = format!("{r:.4}");
            out.extend_from_slice(t.trim_end_matches('0').trim_end_matches('.').as_bytes());
        }
        Object::Name(n) => name(n, out),
        Object::String(v, StringFormat::Hexadecimal) => {
            out.push(b'<');
            v.iter().for_each(|b| out.extend_from_slice(format!("{b:02X}").as_bytes()));
            out.push(b'>');
        }
        Object::String(v, StringFormat::Literal) => {
            out.push(b'(');
            for &b in v {
                match b {
                    b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', b]),
                    0x20..=0x7e => out.push(b),
                    _ => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
                }
            }
            out.push(b')');
        }
        Object::Array(a) => {
            out.push(b'[');
            for x in a {
                ser(x, out);
                out.push(b' ');
            }
            out.push(b']');
        }
        Object::Dictionary(d) => ser_dict(d, out),
        Object::Stream(st) => {
            let mut d = st.dict.clone();
            d.set("Length", st.content.len() as i64);
            ser_dict(&d, out);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&st.content);
            out.extend_from_slice(b"\nendstream");
        }
        Object::Reference((n, g)) => out.extend_from_slice(format!("{n} {g} R").as_bytes()),
    }
}

fn ser_dict(d: &Dictionary, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<<");
    for (k, v) in d.iter() {
        out.push(b' ');
        name(k, out);
        out.push(b' ');
        ser(v, out);
    }
    out.extend_from_slice(b" >>");
}

fn name(n: &[u8], out: &mut Vec<u8>) {
    out.push(b'/');
    for &b in n {
        if b.is_ascii_graphic() && !b"()<>[]{}/%#".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        }
    }
}

fn obj(o: &Object) -> Vec<u8> {
    let mut v = Vec::new();
    ser(o, &mut v);
    v
}

fn dict(d: &Dictionary) -> Vec<u8> {
    obj(&Object::Dictionary(d.clone()))
}

/// An uncompressed stream object body.
fn stream(entries: &str, content: &[u8]) -> Vec<u8> {
    let mut v = format!("<< {entries} /Length {} >>\nstream\n", content.len()).into_bytes();
    v.extend_from_slice(content);
    v.extend_from_slice(b"\nendstream");
    v
}

/// A PDF text string in UTF-16BE hex.
fn text(t: &str) -> Object {
    let mut v = vec![0xFE, 0xFF];
    t.encode_utf16().for_each(|u| v.extend_from_slice(&u.to_be_bytes()));
    Object::String(v, StringFormat::Hexadecimal)
}

/// One incremental update (ISO 32000-1 §7.5.6).
struct Update<'a> {
    /// (object number, body) for every object (re)defined by this revision; generation 0.
    objects: Vec<(u32, Vec<u8>)>,
    /// Object numbers whose xref entry becomes free ('f').
    free: Vec<u32>,
    /// A different /Info for the new trailer.
    info: Option<ObjectId>,
    /// End with `%%EOF` (the standard) or not.
    eof: bool,
    base: &'a [u8],
}

impl<'a> Update<'a> {
    fn new(base: &'a [u8]) -> Self {
        Update { objects: Vec::new(), free: Vec::new(), info: None, eof: true, base }
    }

    fn set(mut self, num: u32, body: Vec<u8>) -> Self {
        self.objects.push((num, body));
        self
    }

    /// Append the revision: objects, a classic xref section (correct 20-byte entries, one
    /// subsection per run of numbers), a trailer with /Prev at the previous startxref, startxref
    /// and %%EOF. /Root, /Info and /ID come from the previous trailer.
    fn write(self) -> Vec<u8> {
        let old = load(self.base);
        let prev = last_startxref(self.base);
        let mut out = self.base.to_vec();
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        let mut entries: BTreeMap<u32, String> = BTreeMap::new();
        for (num, body) in &self.objects {
            entries.insert(*num, format!("{:010} 00000 n\r\n", out.len()));
            out.extend_from_slice(format!("{num} 0 obj\n").as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        for num in &self.free {
            entries.insert(*num, "0000000000 00001 f\r\n".to_string());
        }
        let xref_at = out.len();
        out.extend_from_slice(b"xref\n");
        let nums: Vec<u32> = entries.keys().copied().collect();
        let mut i = 0;
        while i < nums.len() {
            let mut j = i;
            while j + 1 < nums.len() && nums[j + 1] == nums[j] + 1 {
                j += 1;
            }
            out.extend_from_slice(format!("{} {}\n", nums[i], j - i + 1).as_bytes());
            for n in &nums[i..=j] {
                out.extend_from_slice(entries[n].as_bytes());
            }
            i = j + 1;
        }
        let old_size = old.trailer.get(b"Size").and_then(Object::as_i64).unwrap_or(0) as u32;
        let size = nums.iter().map(|n| n + 1).chain([old_size, old.max_id + 1]).max().unwrap_or(0);
        let mut trailer = Dictionary::new();
        trailer.set("Size", i64::from(size));
        trailer.set("Root", old.trailer.get(b"Root").expect("trailer /Root").clone());
        match self.info {
            Some(id) => trailer.set("Info", Object::Reference(id)),
            None => trailer.set("Info", old.trailer.get(b"Info").expect("trailer /Info").clone()),
        }
        if let Ok(id) = old.trailer.get(b"ID") {
            trailer.set("ID", id.clone());
        }
        trailer.set("Prev", prev as i64);
        out.extend_from_slice(b"trailer\n");
        out.extend_from_slice(&dict(&trailer));
        out.extend_from_slice(format!("\nstartxref\n{xref_at}\n").as_bytes());
        if self.eof {
            out.extend_from_slice(b"%%EOF\n");
        }
        out
    }
}

/// The next unused object number.
fn next_num(d: &Document) -> u32 {
    let size = d.trailer.get(b"Size").and_then(Object::as_i64).unwrap_or(0) as u32;
    size.max(d.max_id + 1)
}

fn page_id(d: &Document) -> ObjectId {
    *d.get_pages().get(&1).expect("first page")
}

fn catalog_id(d: &Document) -> ObjectId {
    d.trailer.get(b"Root").and_then(Object::as_reference).expect("/Root")
}

fn info_id(d: &Document) -> ObjectId {
    d.trailer.get(b"Info").and_then(Object::as_reference).expect("/Info")
}

fn get_ref(d: &Document, id: ObjectId, key: &[u8]) -> ObjectId {
    d.get_dictionary(id)
        .expect("dictionary")
        .get(key)
        .and_then(Object::as_reference)
        .unwrap_or_else(|_| panic!("/{} is not a reference", String::from_utf8_lossy(key)))
}

fn dict_of(d: &Document, id: ObjectId) -> Dictionary {
    d.get_dictionary(id).expect("dictionary").clone()
}

/// The signature field (merged field/widget) called `name`.
fn field_id(d: &Document, name: &str) -> ObjectId {
    d.objects
        .iter()
        .find(|(_, o)| {
            o.as_dict().ok().and_then(|d| d.get(b"T").ok()).and_then(|t| t.as_str().ok())
                == Some(name.as_bytes())
        })
        .map(|(id, _)| *id)
        .unwrap_or_else(|| panic!("no field {name}"))
}

/// The page with `annot` appended to its /Annots (inline array in zhengyin's files).
fn page_with_annot(d: &Document, annot: u32) -> (u32, Vec<u8>) {
    let p = page_id(d);
    let mut page = dict_of(d, p);
    let mut annots = page.get(b"Annots").and_then(Object::as_array).cloned().unwrap_or_default();
    annots.push(Object::Reference((annot, 0)));
    page.set("Annots", annots);
    (p.0, dict(&page))
}

/// The AcroForm with `field` appended to /Fields.
fn form_with_field(d: &Document, field: u32) -> (u32, Vec<u8>) {
    let form = get_ref(d, catalog_id(d), b"AcroForm");
    let mut f = dict_of(d, form);
    let mut fields = f.get(b"Fields").and_then(Object::as_array).cloned().unwrap_or_default();
    fields.push(Object::Reference((field, 0)));
    f.set("Fields", fields);
    (form.0, dict(&f))
}

/// Where the k-th signature dictionary (in file order) keeps its /ByteRange and /Contents.
struct SigLayout {
    /// First byte inside `[` … `]` of /ByteRange and the offset of `]`.
    br: (usize, usize),
    /// Offset of `/Contents`, of its `<` and of its `>`.
    contents_key: usize,
    lt: usize,
    gt: usize,
}

fn sig_layout(pdf: &[u8], k: usize) -> SigLayout {
    let mut at = 0;
    let mut key = 0;
    for _ in 0..=k {
        key = find(pdf, b"/ByteRange [", at).expect("signature dictionary");
        at = key + 1;
    }
    let open = key + b"/ByteRange [".len();
    let close = find(pdf, b"]", open).expect("]");
    let contents_key = find(pdf, b"/Contents <", close).expect("/Contents");
    let lt = contents_key + b"/Contents ".len();
    let gt = find(pdf, b">", lt).expect(">");
    SigLayout { br: (open, close), contents_key, lt, gt }
}

fn byte_range(pdf: &[u8], k: usize) -> [usize; 4] {
    let l = sig_layout(pdf, k);
    let t = std::str::from_utf8(&pdf[l.br.0..l.br.1]).expect("ASCII");
    let v: Vec<usize> = t.split_whitespace().map(|n| n.parse().expect("number")).collect();
    [v[0], v[1], v[2], v[3]]
}

/// Rewrite the k-th /ByteRange in place (same length, padded with spaces).
fn set_byte_range(pdf: &mut [u8], k: usize, value: &str) {
    let l = sig_layout(pdf, k);
    let slot = &mut pdf[l.br.0..l.br.1];
    assert!(value.len() <= slot.len(), "/ByteRange {value} does not fit in {} bytes", slot.len());
    slot.fill(b' ');
    slot[..value.len()].copy_from_slice(value.as_bytes());
}

/// Length of the DER SEQUENCE at the start of `b` (the CMS without its zero padding).
fn der_len(b: &[u8]) -> usize {
    assert_eq!(b[0], 0x30, "CMS is a SEQUENCE");
    match b[1] {
        n if n < 0x80 => 2 + n as usize,
        0x81 => 3 + b[2] as usize,
        0x82 => 4 + ((b[2] as usize) << 8 | b[3] as usize),
        0x83 => 5 + ((b[2] as usize) << 16 | (b[3] as usize) << 8 | b[4] as usize),
        l => panic!("unexpected DER length byte {l:#x}"),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// The signature dictionary of field `name`: (object id, /ByteRange, /Contents bytes).
fn signature_of(d: &Document, name: &str) -> (ObjectId, Vec<Object>, Vec<u8>) {
    let v = get_ref(d, field_id(d, name), b"V");
    let sig = dict_of(d, v);
    (
        v,
        sig.get(b"ByteRange").and_then(Object::as_array).expect("/ByteRange").clone(),
        sig.get(b"Contents").and_then(Object::as_str).expect("/Contents").to_vec(),
    )
}

const FORGED_HOLDER: &str = "泰安市伪造贸易有限公司";
const HOLDER: &str = "泰安市示例云岭科技有限公司";

/// Content drawing an opaque white box over the holder line and a red "VOID" stamp.
const OVERLAY: &[u8] =
    b"q 1 1 1 rg 60 560 480 60 re f Q q 1 0 0 rg BT /FX 28 Tf 200 580 Td (FORGED / VOID) Tj ET Q";
const HELVETICA: &str = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>";

/// A visible, unsigned signature field whose appearance is `ap_content` (with font /FX).
fn unsigned_sig_field(base: &[u8], rect: &str, ap_content: &[u8], name: &str) -> Vec<u8> {
    let d = load(base);
    let n = next_num(&d);
    let (font, ap, widget) = (n, n + 1, n + 2);
    let (pn, page) = page_with_annot(&d, widget);
    let (fnum, form) = form_with_field(&d, widget);
    let p = page_id(&d).0;
    Update::new(base)
        .set(font, HELVETICA.into())
        .set(ap, stream(&format!("/Type /XObject /Subtype /Form /BBox {rect} /Resources << /Font << /FX {font} 0 R >> >>"), ap_content))
        .set(widget, format!("<< /Type /Annot /Subtype /Widget /FT /Sig /T ({name}) /F 4 /P {p} 0 R /Rect {rect} /AP << /N {ap} 0 R >> >>").into_bytes())
        .set(pn, page)
        .set(fnum, form)
        .write()
}

/// Append a revision that signs `field` of `base` structurally like zhengyin does: the field's
/// /V becomes a new signature dictionary whose /ByteRange covers the new file with the gap exactly
/// its /Contents, which hold `cms` (zero-padded); its /AP a new appearance. An existing empty
/// field is filled; a missing one is created (new widget in the page's /Annots and the AcroForm).
fn sign_field(base: &[u8], field: &str, cms: &[u8]) -> Vec<u8> {
    sign_field_and(base, field, cms, Vec::new())
}

/// [`sign_field`], with `extra` objects (number, body) changed in the same revision.
fn sign_field_and(base: &[u8], field: &str, cms: &[u8], extra: Vec<(u32, Vec<u8>)>) -> Vec<u8> {
    const RESERVE: usize = 8192;
    let d = load(base);
    let existing = d.objects.iter().any(|(_, o)| {
        o.as_dict().ok().and_then(|d| d.get(b"T").ok()).and_then(|t| t.as_str().ok())
            == Some(field.as_bytes())
    });
    let n = next_num(&d);
    let (ap, sig) = (n, n + 1);
    let mut u = Update::new(base);
    for (num, body) in extra {
        u = u.set(num, body);
    }
    if existing {
        let w = field_id(&d, field);
        let mut widget = dict_of(&d, w);
        widget.set("V", Object::Reference((sig, 0)));
        widget.set("AP", lopdf::dictionary! { "N" => Object::Reference((ap, 0)) });
        u = u.set(w.0, dict(&widget));
    } else {
        let w = n + 2;
        let (pn, page) = page_with_annot(&d, w);
        let (fnum, form) = form_with_field(&d, w);
        let body = format!("<< /Type /Annot /Subtype /Widget /FT /Sig /T ({field}) /F 132 /P {} 0 R /Rect [60 60 160 160] /V {sig} 0 R /AP << /N {ap} 0 R >> >>", page_id(&d).0);
        u = u.set(w, body.into_bytes()).set(pn, page).set(fnum, form);
    }
    let body = format!(
        "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M (D:20260101000000+08'00') /ByteRange [{}] /Contents <{}> >>",
        " ".repeat(44),
        "0".repeat(RESERVE * 2)
    );
    let mut out = u
        .set(
            ap,
            stream(
                "/Type /XObject /Subtype /Form /BBox [0 0 100 100]",
                b"q 1 0 0 RG 4 w 50 50 45 0 360 re S Q",
            ),
        )
        .set(sig, body.into_bytes())
        .write();
    let k = count(&out, b"/ByteRange [") - 1;
    let l = sig_layout(&out, k);
    let gap_end = l.gt + 1;
    let br = format!("0 {} {} {}", l.lt, gap_end, out.len() - gap_end);
    set_byte_range(&mut out, k, &br);
    assert!(cms.len() <= RESERVE);
    let h = hex(cms);
    out[l.lt + 1..l.lt + 1 + h.len()].copy_from_slice(h.as_bytes());
    out
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

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
    vec![
        // 1. Incremental saving attacks on b.pdf (certified, DocMDP P=2).
        Attack {
            name: "isa_replace_content_stream",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let c = get_ref(&d, page_id(&d), b"Contents");
                Update::new(&f.b).set(c.0, stream("", b"q 1 0 0 rg 60 560 480 60 re f Q")).write()
            },
            expect: |v| modified(v, S1B, "stream"),
        },
        Attack {
            name: "isa_change_info_holder",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let i = info_id(&d);
                let mut info = dict_of(&d, i);
                info.set("CZZT", text(FORGED_HOLDER));
                Update::new(&f.b).set(i.0, dict(&info)).write()
            },
            expect: |v| modified(v, S1B, "changed after signing"),
        },
        Attack {
            name: "isa_new_info_object",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let mut info = dict_of(&d, info_id(&d));
                info.set("CZZT", text(FORGED_HOLDER));
                let n = next_num(&d);
                let mut u = Update::new(&f.b).set(n, dict(&info));
                u.info = Some((n, 0));
                u.write()
            },
            expect: |v| {
                let czzt = v.json.as_ref().map(|j| j["licence"]["czzt"].clone()).unwrap_or_default();
                not_passed(v).map_err(|e| format!("{e}; the report shows holder {czzt}"))?;
                modified(v, S1B, "information dictionary")
            },
        },
        Attack {
            name: "isa_add_freetext_annotation",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let n = next_num(&d);
                let (pn, page) = page_with_annot(&d, n);
                Update::new(&f.b)
                    .set(n, format!("<< /Type /Annot /Subtype /FreeText /F 4 /P {} 0 R /Rect [60 560 540 620] /Contents (FORGED) /DA (/Helv 24 Tf 1 0 0 rg) >>", page_id(&d).0).into_bytes())
                    .set(pn, page)
                    .write()
            },
            expect: |v| modified(v, S1B, "Page"),
        },
        Attack {
            name: "isa_add_link_annotation",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let n = next_num(&d);
                let (pn, page) = page_with_annot(&d, n);
                Update::new(&f.b)
                    .set(n, b"<< /Type /Annot /Subtype /Link /Rect [0 0 595 842] /Border [0 0 0] /A << /S /URI /URI (https://evil.example/pay) >> >>".to_vec())
                    .set(pn, page)
                    .write()
            },
            expect: |v| modified(v, S1B, "Page"),
        },
        Attack {
            name: "isa_catalog_drops_perms",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let c = catalog_id(&d);
                let mut cat = dict_of(&d, c);
                assert!(cat.remove(b"Perms").is_some(), "the certified catalog has /Perms");
                Update::new(&f.b).set(c.0, dict(&cat)).write()
            },
            expect: |v| modified(v, S1B, "Catalog"),
        },
        Attack {
            name: "isa_delete_object",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let meta = get_ref(&d, catalog_id(&d), b"Metadata");
                let mut u = Update::new(&f.b);
                u.free.push(meta.0);
                u.write()
            },
            expect: |v| modified(v, S1B, "freed"),
        },
        Attack {
            name: "isa_add_page",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let pages = get_ref(&d, page_id(&d), b"Parent");
                let n = next_num(&d);
                let mut p = dict_of(&d, pages);
                let mut kids = p.get(b"Kids").and_then(Object::as_array).cloned().expect("/Kids");
                kids.push(Object::Reference((n + 1, 0)));
                p.set("Kids", kids);
                p.set("Count", 2);
                Update::new(&f.b)
                    .set(n, stream("", b"q 1 0 0 rg 100 400 400 100 re f Q"))
                    .set(n + 1, format!("<< /Type /Page /Parent {} 0 R /MediaBox [0 0 595.28 841.89] /Resources << >> /Contents {n} 0 R >>", pages.0).into_bytes())
                    .set(pages.0, dict(&p))
                    .write()
            },
            expect: |v| modified(v, S1B, "Pages"),
        },
        Attack {
            name: "isa_change_xmp_metadata",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let meta = get_ref(&d, catalog_id(&d), b"Metadata");
                let xmp = String::from_utf8(
                    d.get_object(meta).and_then(Object::as_stream).expect("XMP stream").content.clone(),
                )
                .expect("UTF-8 XMP");
                assert!(xmp.contains(HOLDER), "the XMP names the holder");
                let forged = xmp.replace(HOLDER, FORGED_HOLDER);
                Update::new(&f.b)
                    .set(meta.0, stream("/Type /Metadata /Subtype /XML", forged.as_bytes()))
                    .write()
            },
            expect: |v| modified(v, S1B, "Metadata"),
        },
        Attack {
            name: "isa_move_signed_widget",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let w = field_id(&d, S1B);
                let mut widget = dict_of(&d, w);
                widget.set(
                    "Rect",
                    vec![Object::Integer(0), Object::Integer(0), Object::Integer(0), Object::Integer(0)],
                );
                Update::new(&f.b).set(w.0, dict(&widget)).write()
            },
            expect: |v| modified(v, S1B, "Widget"),
        },
        Attack {
            name: "isa_add_unsigned_signature_field",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                unsigned_sig_field(&f.b, "[400 300 520 420]", b"q 1 0 0 RG 4 w 60 60 50 0 360 re S Q q 1 0 0 rg BT /FX 10 Tf 30 55 Td (APPROVED) Tj ET Q", "Seal2_extra")
            },
            expect: |v| modified(v, S1B, ""),
        },
        Attack {
            name: "isa_strip_signature_field",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let form = get_ref(&d, catalog_id(&d), b"AcroForm");
                let mut fd = dict_of(&d, form);
                fd.set("Fields", Vec::<Object>::new());
                let p = page_id(&d);
                let mut page = dict_of(&d, p);
                page.set("Annots", Vec::<Object>::new());
                Update::new(&f.b).set(form.0, dict(&fd)).set(p.0, dict(&page)).write()
            },
            expect: |v| {
                let j = v.json.as_ref().ok_or("no report")?;
                if j["indication"] == "TOTAL-PASSED" || j["sub_indication"] != "SIGNED_DATA_NOT_FOUND" {
                    return Err(format!(
                        "expected INDETERMINATE/SIGNED_DATA_NOT_FOUND, got {}",
                        v.indication()
                    ));
                }
                Ok(())
            },
        },
        Attack {
            name: "isa_update_without_eof",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let c = get_ref(&d, page_id(&d), b"Contents");
                let mut u = Update::new(&f.b).set(c.0, stream("", b"q 1 0 0 rg 60 560 480 60 re f Q"));
                u.eof = false;
                u.write()
            },
            // Either unreadable or the change is seen.
            expect: |v| if v.code == 2 && v.json.is_none() { Ok(()) } else { modified(v, S1B, "stream") },
        },
        Attack {
            name: "isa_short_update",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let c = get_ref(&d, page_id(&d), b"Contents");
                // Both %%EOF markers end up in the last 512 bytes, where lopdf looks for them.
                let out = Update::new(&f.b).set(c.0, stream("", b"q 1 0 0 rg 0 0 595 842 re f Q")).write();
                assert!(out.len() - f.b.len() < 512, "the update must stay under 512 bytes");
                out
            },
            expect: |v| modified(v, S1B, "stream"),
        },
        // 2. Universal signature forgery: the signature dictionary of b.pdf rewritten in place.
        Attack {
            name: "usf_contents_missing",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let l = sig_layout(&p, 0);
                p[l.contents_key..l.contents_key + 9].copy_from_slice(b"/Comments");
                p
            },
            expect: |v| bad_format(v, S1B, "missing /Contents"),
        },
        Attack {
            name: "usf_contents_empty",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let l = sig_layout(&p, 0);
                p[l.lt..=l.gt].fill(b' ');
                p[l.lt] = b'<';
                p[l.lt + 1] = b'>';
                p
            },
            expect: |v| bad_format(v, S1B, "empty"),
        },
        Attack {
            name: "usf_contents_all_zeros",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let l = sig_layout(&p, 0);
                p[l.lt + 1..l.gt].fill(b'0');
                p
            },
            expect: |v| bad_format(v, S1B, "empty"),
        },
        Attack {
            name: "usf_byterange_missing",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let l = sig_layout(&p, 0);
                let key = l.br.0 - b"/ByteRange [".len();
                p[key..key + 10].copy_from_slice(b"/Byterange");
                p
            },
            expect: |v| bad_format(v, S1B, "/ByteRange"),
        },
        Attack {
            name: "usf_byterange_zeros",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                set_byte_range(&mut p, 0, "0 0 0 0");
                p
            },
            expect: |v| bad_format(v, S1B, "out of order"),
        },
        Attack {
            name: "usf_byterange_negative",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let [_, a, b, c] = byte_range(&p, 0);
                set_byte_range(&mut p, 0, &format!("0 {a} -{b} {}", c + 2 * b));
                p
            },
            expect: |v| bad_format(v, S1B, "non-negative"),
        },
        Attack {
            name: "usf_byterange_not_from_zero",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let [_, a, b, c] = byte_range(&p, 0);
                set_byte_range(&mut p, 0, &format!("100 {} {b} {c}", a - 100));
                p
            },
            expect: |v| bad_format(v, S1B, "starts at 100"),
        },
        Attack {
            name: "usf_byterange_past_eof",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let [_, a, b, c] = byte_range(&p, 0);
                set_byte_range(&mut p, 0, &format!("0 {a} {b} {}", c + 100_000));
                p
            },
            expect: |v| bad_format(v, S1B, "past the end"),
        },
        Attack {
            name: "usf_sigdict_redefined_null",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let (sig, ..) = signature_of(&d, S1B);
                Update::new(&f.b).set(sig.0, b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange null /Contents null >>".to_vec()).write()
            },
            expect: |v| bad_format(v, S1B, "/ByteRange"),
        },
        Attack {
            name: "usf_fill_next_field_garbage_cms",
            family: "USF",
            base: "a1",
            allow_incomplete: true,
            build: |f, _| {
                let mut cms = vec![0x30, 0x82, 0x01, 0x00];
                cms.extend((0..256u32).map(|i| (i * 37 % 251) as u8));
                sign_field(&f.a1, A2, &cms)
            },
            expect: |v| bad_format(v, A2, ""),
        },
        Attack {
            name: "usf_fill_next_field_transplanted_cms",
            family: "USF",
            base: "a1",
            allow_incomplete: true,
            build: |f, _| {
                let d = load(&f.a1);
                let (_, _, contents) = signature_of(&d, A1);
                let n = der_len(&contents);
                sign_field(&f.a1, A2, &contents[..n])
            },
            expect: |v| {
                failed(v, A2, "INTEGRITY", "")?;
                sub(v, A2, "HASH_FAILURE")
            },
        },
        // 3. Signature wrapping.
        Attack {
            name: "swa_gap_not_contents",
            family: "SWA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let [_, a, b, c] = byte_range(&p, 0);
                set_byte_range(&mut p, 0, &format!("0 {} {b} {c}", a - 10));
                p
            },
            expect: |v| bad_format(v, S1B, "not a hex string"),
        },
        Attack {
            name: "swa_shrunk_contents_object_in_gap",
            family: "SWA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let (_, _, contents) = signature_of(&d, S1B);
                let n = der_len(&contents);
                let mut p = f.b.clone();
                let l = sig_layout(&p, 0);
                let next = next_num(&d);
                let mut gap = format!("<{}> >>\nendobj\n{next} 0 obj\n<< /Type /Annot /Subtype /FreeText /Rect [60 560 540 620] /Contents (FORGED) >>\nendobj\n", hex(&contents[..n])).into_bytes();
                let room = l.gt + 1 - l.lt;
                assert!(gap.len() < room);
                gap.resize(room, b' ');
                p[l.lt..=l.gt].copy_from_slice(&gap);
                p
            },
            expect: |v| bad_format(v, S1B, "not a hex string"),
        },
        Attack {
            name: "swa_signed_part_relocated_to_end",
            family: "SWA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                // The classic wrapping: the signed second part [b, b+c) is copied to the end of
                // the file and /ByteRange points there; the original place of that part (its xref
                // section) is now inside the unsigned gap and is replaced by an xref that also
                // redefines the page content stream, with the new stream right after it. The
                // signed tail's startxref still names offset X, where the forged xref now is.
                let d = load(&f.b);
                let content = get_ref(&d, page_id(&d), b"Contents");
                let p = &f.b;
                let [_, a, b, c] = byte_range(p, 0);
                let x = last_startxref(p);
                assert!(x > b, "the last xref section lies in the signed tail");
                let orig_xref = &p[x..];
                let trailer_at = find(orig_xref, b"trailer", 0).expect("trailer");
                let eof_at = find(orig_xref, b"startxref", trailer_at).expect("startxref");
                let subsections = &orig_xref[b"xref\n".len()..trailer_at];
                let trailer = &orig_xref[trailer_at..eof_at];
                let mut out = p[..x].to_vec();
                // Offsets: xref header + one extra subsection (2 lines, 20-byte entry) + originals + trailer.
                let new_obj_at = x
                    + b"xref\n".len()
                    + format!("{} 1\n", content.0).len()
                    + 20
                    + subsections.len()
                    + trailer.len();
                out.extend_from_slice(b"xref\n");
                out.extend_from_slice(format!("{} 1\n{new_obj_at:010} 00000 n\r\n", content.0).as_bytes());
                out.extend_from_slice(subsections);
                out.extend_from_slice(trailer);
                assert_eq!(out.len(), new_obj_at);
                out.extend_from_slice(format!("{} 0 obj\n", content.0).as_bytes());
                out.extend_from_slice(&stream("", b"q 1 0 0 rg 60 560 480 60 re f Q"));
                out.extend_from_slice(b"\nendobj\n");
                let moved = out.len();
                out.extend_from_slice(&p[b..b + c]);
                set_byte_range(&mut out, 0, &format!("0 {a} {moved} {c}"));
                out
            },
            expect: |v| bad_format(v, S1B, "not a hex string"),
        },
        Attack {
            name: "swa_replayed_signature_in_next_field",
            family: "SWA",
            base: "a1",
            allow_incomplete: true,
            build: |f, _| {
                // Seal2_scjg is "filled" with a copy of Seal1's signature dictionary: same
                // /ByteRange, same /Contents; its appearance is a new (fake) red seal.
                let d = load(&f.a1);
                let (_, br, contents) = signature_of(&d, A1);
                let w = field_id(&d, A2);
                let n = next_num(&d);
                let mut widget = dict_of(&d, w);
                widget.set("V", Object::Reference((n + 1, 0)));
                widget.set("AP", lopdf::dictionary! { "N" => Object::Reference((n, 0)) });
                let mut br_text = Vec::new();
                ser(&Object::Array(br), &mut br_text);
                let body = format!("<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange {} /Contents <{}> >>", String::from_utf8_lossy(&br_text), hex(&contents));
                Update::new(&f.a1)
                    .set(w.0, dict(&widget))
                    .set(
                        n,
                        stream(
                            "/Type /XObject /Subtype /Form /BBox [0 0 100 100]",
                            b"q 1 0 0 RG 4 w 50 50 45 0 360 re S Q",
                        ),
                    )
                    .set(n + 1, body.into_bytes())
                    .write()
            },
            expect: |v| {
                let sg = v.sig(A2)?;
                if sg["indication"] == "TOTAL-PASSED" {
                    return Err(format!(
                        "{A2} is TOTAL-PASSED: a replay of {A1}'s signature (seal_plan.in_order = {})",
                        v.json.as_ref().map(|j| j["seal_plan"]["in_order"].clone()).unwrap_or_default()
                    ));
                }
                bad_format(v, A2, "")
            },
        },
        // 4. Shadow attacks: the appearance changes after signing.
        Attack {
            name: "shadow_hide_overlay_content",
            family: "Shadow",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let p = page_id(&d);
                let mut page = dict_of(&d, p);
                let n = next_num(&d);
                let orig = page.get(b"Contents").expect("/Contents").clone();
                page.set("Contents", vec![orig, Object::Reference((n, 0))]);
                Update::new(&f.b)
                    .set(n, stream("", b"q 1 1 1 rg 60 560 480 60 re f Q"))
                    .set(p.0, dict(&page))
                    .write()
            },
            expect: |v| modified(v, S1B, "Page"),
        },
        Attack {
            name: "shadow_hide_and_replace_xobject",
            family: "Shadow",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let p = page_id(&d);
                let mut page = dict_of(&d, p);
                let n = next_num(&d);
                let mut res = page.get(b"Resources").and_then(Object::as_dict).cloned().expect("/Resources");
                res.set("XObject", lopdf::dictionary! { "Fx" => Object::Reference((n + 1, 0)) });
                page.set("Resources", res);
                let orig = page.get(b"Contents").expect("/Contents").clone();
                page.set("Contents", vec![orig, Object::Reference((n + 2, 0))]);
                Update::new(&f.b)
                    .set(n, HELVETICA.into())
                    .set(n + 1, stream(&format!("/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /Font << /FX {n} 0 R >> >>"), OVERLAY))
                    .set(n + 2, stream("", b"q /Fx Do Q"))
                    .set(p.0, dict(&page))
                    .write()
            },
            expect: |v| modified(v, S1B, "Page"),
        },
        Attack {
            name: "shadow_swap_content_stream",
            family: "Shadow",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let p = page_id(&d);
                let mut page = dict_of(&d, p);
                let n = next_num(&d);
                page.set("Contents", Object::Reference((n, 0)));
                Update::new(&f.b)
                    .set(n, stream("", b"q 1 0 0 rg 60 560 480 60 re f Q"))
                    .set(p.0, dict(&page))
                    .write()
            },
            expect: |v| modified(v, S1B, "Page"),
        },
        Attack {
            name: "shadow_replace_font",
            family: "Shadow",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                // Swap the text font for Helvetica: every glyph of the licence renders differently.
                let d = load(&f.b);
                let res = dict_of(&d, page_id(&d))
                    .get(b"Resources")
                    .and_then(Object::as_dict)
                    .cloned()
                    .expect("/Resources");
                let font = res
                    .get(b"Font")
                    .and_then(Object::as_dict)
                    .and_then(|f| f.get(b"F1"))
                    .and_then(Object::as_reference)
                    .expect("/F1");
                Update::new(&f.b).set(font.0, HELVETICA.into()).write()
            },
            expect: |v| modified(v, S1B, "Font"),
        },
        Attack {
            name: "shadow_replace_tounicode",
            family: "Shadow",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                // Same glyphs, different extracted text (copy/paste, search, accessibility).
                let d = load(&f.b);
                let res = dict_of(&d, page_id(&d))
                    .get(b"Resources")
                    .and_then(Object::as_dict)
                    .cloned()
                    .expect("/Resources");
                let font = res
                    .get(b"Font")
                    .and_then(Object::as_dict)
                    .and_then(|f| f.get(b"F1"))
                    .and_then(Object::as_reference)
                    .expect("/F1");
                let tu = get_ref(&d, font, b"ToUnicode");
                let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Forged def 1 begincodespacerange <0000> <FFFF> endcodespacerange 1 beginbfrange <0000> <FFFF> <0058> endbfrange endcmap CMapName currentdict /CMap defineresource pop end end";
                Update::new(&f.b).set(tu.0, stream("", cmap)).write()
            },
            expect: |v| modified(v, S1B, "stream"),
        },
        Attack {
            name: "shadow_replace_seal_appearance",
            family: "Shadow",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                // Redefine the form XObject the signed widget shows (the red seal).
                let d = load(&f.b);
                let w = dict_of(&d, field_id(&d, S1B));
                let ap = w
                    .get(b"AP")
                    .and_then(Object::as_dict)
                    .and_then(|a| a.get(b"N"))
                    .and_then(Object::as_reference)
                    .expect("/AP /N");
                Update::new(&f.b)
                    .set(ap.0, stream("/Type /XObject /Subtype /Form /BBox [0 0 119 119]", b""))
                    .write()
            },
            expect: |v| modified(v, S1B, "XObject/Form"),
        },
        Attack {
            name: "shadow_overlay_unsigned_sig_widget",
            family: "Shadow",
            base: "b",
            allow_incomplete: false,
            build: |f, _| unsigned_sig_field(&f.b, "[0 0 595 842]", OVERLAY, "Overlay"),
            expect: |v| modified(v, S1B, ""),
        },
        // 5. Partial coverage.
        Attack {
            name: "coverage_ends_before_eof",
            family: "Coverage",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let [_, a, b, c] = byte_range(&p, 0);
                set_byte_range(&mut p, 0, &format!("0 {a} {b} {}", c - b"%%EOF\n".len()));
                p
            },
            expect: |v| failed(v, S1B, "COVERAGE", "not at the end of a revision"),
        },
        Attack {
            name: "coverage_ends_mid_file",
            family: "Coverage",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let [_, a, b, c] = byte_range(&p, 0);
                set_byte_range(&mut p, 0, &format!("0 {a} {b} {}", c / 2));
                p.extend_from_slice(b"% extra bytes after the signed range\n");
                p
            },
            expect: |v| failed(v, S1B, "COVERAGE", "not at the end of a revision"),
        },
        // 6. The FieldMDP lock of the last joint seal.
        Attack {
            name: "lock_object_appended",
            family: "Lock",
            base: "a3",
            allow_incomplete: false,
            build: |f, _| {
                let n = next_num(&load(&f.a3));
                Update::new(&f.a3).set(n, b"<< /Note (added after the lock) >>".to_vec()).write()
            },
            expect: |v| modified(v, A3, "locked"),
        },
        Attack {
            name: "lock_signature_revision_appended",
            family: "Lock",
            base: "a3",
            allow_incomplete: false,
            build: |f, _| {
                // A fourth signature field and signature dictionary in a new revision, built like
                // zhengyin's own (its CMS is Seal3's, so it cannot verify: what matters here is
                // that anything after the locking seal is refused).
                let d = load(&f.a3);
                let (_, _, contents) = signature_of(&d, A3);
                sign_field(&f.a3, "Seal4_dsjzx", &contents[..der_len(&contents)])
            },
            expect: |v| modified(v, A3, "locked"),
        },
        Attack {
            name: "lock_open_field_signed_with_content_change",
            family: "Lock",
            base: "a3",
            allow_incomplete: false,
            build: |f, _| {
                // The lock leaves the annotation field open: fill it, and in the same revision
                // replace the page content. Filling the open field must not carry other changes.
                let d = load(&f.a3);
                let (_, _, contents) = signature_of(&d, A3);
                let c = get_ref(&d, page_id(&d), b"Contents");
                let extra = vec![(c.0, stream("", b"q 1 0 0 rg 60 560 480 60 re f Q"))];
                sign_field_and(&f.a3, "Annotation_dsjzx", &contents[..der_len(&contents)], extra)
            },
            expect: |v| modified(v, A3, "stream"),
        },
        // 7. One byte flipped inside signature 1's range (the /CreationDate in revision 1).
        Attack {
            name: "hash_flip_byte_in_first_revision",
            family: "Integrity",
            base: "a3",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.a3.clone();
                let k =
                    find(&p, b"/CreationDate", 0).and_then(|c| find(&p, b"(D:", c)).expect("/CreationDate")
                        + 3
                        + 3;
                assert!(k < byte_range(&p, 0)[1], "inside signature 1's first range");
                p[k] = if p[k] == b'9' { b'8' } else { p[k] + 1 };
                p
            },
            expect: |v| {
                failed(v, A1, "INTEGRITY", "changed")?;
                sub(v, A1, "HASH_FAILURE")
            },
        },
    ]
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
