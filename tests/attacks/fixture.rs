//! The fixture of tests/attacks.rs: one scratch home and one set of sealed licences per test
//! binary, zhengyin's verdict on a file, and pyHanko's on every file for the summary table.

use super::*;

// ---- the fixture: one home and one set of sealed licences per test binary ---------------------

pub(crate) struct Fixture {
    /// Kept alive for the whole run (statics are never dropped: the directory stays under
    /// target/tmp for inspection).
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) dir: PathBuf,
    pub(crate) home: PathBuf,
    pub(crate) root_pem: PathBuf,
    /// business-licence, one seal (scjg), certifying (DocMDP P=2).
    pub(crate) b: Vec<u8>,
    /// joint-approval after the first seal (dy-xzsp, certifying); Seal2/Seal3 still empty.
    pub(crate) a1: Vec<u8>,
    /// joint-approval with all three seals; the last one locks the document.
    pub(crate) a3: Vec<u8>,
}

pub(crate) fn fixture() -> &'static Fixture {
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
pub(crate) fn remove_stale(tmp: &Path) {
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
    pub(crate) fn scratch(&self, group: &str, name: &str) -> PathBuf {
        let d = self.dir.join(group).join(name);
        std::fs::create_dir_all(&d).expect("scratch dir");
        d
    }
}

pub(crate) fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

pub(crate) fn run(cwd: &Path, program: &str, args: &[&str]) -> Run {
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

pub(crate) fn zy_ok(cwd: &Path, args: &[&str]) -> Run {
    let r = run(cwd, BIN, args);
    assert_eq!(r.code, 0, "zhengyin {} failed:\n{}\n{}", args.join(" "), r.stdout, r.stderr);
    r
}

// ---- verdicts ----------------------------------------------------------------------------------

/// What `zhengyin verify --json` said about one file.
pub(crate) struct Verdict {
    pub(crate) code: i32,
    pub(crate) json: Option<Value>,
    pub(crate) stderr: String,
}

pub(crate) fn zhengyin_verify(f: &Fixture, file: &Path, allow_incomplete: bool) -> Verdict {
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
    pub(crate) fn sigs(&self) -> Vec<&Value> {
        self.json
            .as_ref()
            .and_then(|j| j["signatures"].as_array())
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    }

    pub(crate) fn sig(&self, field: &str) -> Result<&Value, String> {
        self.sigs()
            .into_iter()
            .find(|s| s["field"] == field)
            .ok_or_else(|| format!("no signature for field {field} in the report"))
    }

    pub(crate) fn indication(&self) -> String {
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
    pub(crate) fn short(&self) -> String {
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

pub(crate) fn check<'a>(sig: &'a Value, name: &str) -> Result<&'a Value, String> {
    sig["checks"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .ok_or_else(|| format!("no {name} check in {}", sig["field"]))
}

/// The check `name` of the signature in `field` FAILED, and its detail mentions `needle`.
pub(crate) fn failed(v: &Verdict, field: &str, name: &str, needle: &str) -> Result<(), String> {
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
pub(crate) fn sub(v: &Verdict, field: &str, sub_indication: &str) -> Result<(), String> {
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
pub(crate) fn bad_format(v: &Verdict, field: &str, needle: &str) -> Result<(), String> {
    failed(v, field, "FORMAT", needle)?;
    sub(v, field, "FORMAT_FAILURE")
}

pub(crate) fn modified(v: &Verdict, field: &str, needle: &str) -> Result<(), String> {
    failed(v, field, "MODIFICATIONS", needle)
}

pub(crate) fn not_passed(v: &Verdict) -> Result<(), String> {
    match &v.json {
        Some(j) if j["indication"] == "TOTAL-PASSED" => Err("top-level indication is TOTAL-PASSED".into()),
        Some(_) => Ok(()),
        None => Err("no report".into()),
    }
}

/// The pyHanko command line recorded for every file (its verdict is never asserted).
pub(crate) fn pyhanko_args<'a>(f: &'a Fixture, file: &'a Path) -> [&'a str; 6] {
    ["sign", "validate", "--soft-revocation-check", "--trust", s(&f.root_pem), s(file)]
}

/// Runs `pyhanko sign validate …` for many files in one Python process (pyHanko's own click
/// entry point, called once per file with the same arguments as the command line), because
/// starting Python costs about a second per file on a small machine. Prints one JSON line per
/// file: {"code": exit code, "stdout": what the command printed, "error": an uncaught error}.
pub(crate) const PYHANKO_BATCH: &str = r#"
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
pub(crate) fn pyhanko_all(f: &Fixture, files: &[PathBuf]) -> Option<Vec<(bool, String)>> {
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
pub(crate) fn pyhanko_verdict(code: i32, stdout: &str, stderr: &str) -> (bool, String) {
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
