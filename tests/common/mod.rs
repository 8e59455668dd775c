//! Shared helpers for the end-to-end tests: run the real `zhengyin` binary in a scratch
//! directory, set up region homes, call external PDF tools, and edit PDF bytes.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub mod browser;
pub mod softhsm;

use serde_json::Value;
use tempfile::TempDir;

/// The CLI under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_zhengyin");

/// Open sled at `dir`, waiting up to 2 s for a handle just dropped here to let go of the lock
/// (sled's flusher thread holds it a moment after the drop; `archive::open` waits the same).
pub fn open_sled(dir: &Path) -> sled::Db {
    let start = std::time::Instant::now();
    loop {
        match sled::Config::new().path(dir).open() {
            Err(e) if e.to_string().contains("could not acquire lock") && start.elapsed().as_secs() < 2 => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other.expect("open sled"),
        }
    }
}

/// The built-in templates, with the data key naming the holder, the licence's name (title
/// without letter-spacing) and a field label that must appear on the page.
pub const TEMPLATES: [(&str, &str, &str, &str); 2] = [
    ("business-licence", "name", "营业执照", "统一社会信用代码"),
    ("food-business-licence", "operator", "食品经营许可证", "社会信用代码"),
];

/// Every department of the shipped region, with its level.
pub const DEPARTMENTS: [(&str, &str); 4] =
    [("xzsp", "city"), ("scjg", "city"), ("dsjzx", "city"), ("dy-xzsp", "county")];

/// The private key files `init` writes for the shipped region.
pub const KEY_FILES: [&str; 8] = [
    "root.key.pem",
    "city.key.pem",
    "daiyue.key.pem",
    "seal-xzsp.key.pem",
    "seal-scjg.key.pem",
    "seal-dsjzx.key.pem",
    "seal-dy-xzsp.key.pem",
    "tsa.key.pem",
];

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A shipped sample data file, e.g. `data_file("business-licence")`.
pub fn data_file(template: &str) -> PathBuf {
    repo().join("fixtures/data").join(format!("{template}.json"))
}

/// The sample data as JSON.
pub fn sample_data(template: &str) -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(data_file(template)).expect("read sample data");
    match serde_json::from_str(&text).expect("sample data is JSON") {
        Value::Object(m) => m,
        other => panic!("sample data is not an object: {other}"),
    }
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// What one run of a command produced.
#[derive(Debug)]
pub struct Run {
    pub cmd: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Both streams, for assertion messages.
    pub fn both(&self) -> String {
        format!(
            "$ {}\nexit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.cmd, self.code, self.stdout, self.stderr
        )
    }

    /// stdout parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.both()))
    }

    /// The value of the stdout line `<label> <value>` (e.g. `identifier`, `new version`).
    pub fn line_value(&self, label: &str) -> String {
        self.stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(label)?.strip_prefix(' ').map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no `{label}` line\n{}", self.both()))
    }

    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code\n{}", self.both());
        assert!(!self.stderr.contains("panicked"), "the program panicked\n{}", self.both());
        self
    }

    /// Exit `code`, never a panic, and stderr exactly one line starting with `zhengyin: error:`.
    pub fn assert_one_line_error(&self, code: i32) -> &Self {
        self.assert_code(code);
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "stderr should be exactly one line\n{}", self.both());
        assert!(
            lines[0].starts_with("zhengyin: error:"),
            "stderr should start with `zhengyin: error:`\n{}",
            self.both()
        );
        self
    }
}

/// libfaketime itself (Debian's `faketime` package), when installed.
const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// The command for `program args`. `faketime -f OFFSET PROG ARGS…` runs PROG with libfaketime
/// preloaded and FAKETIME=OFFSET, as the wrapper does but without its named semaphore: the
/// wrapper fails ("sem_open: File exists") when a killed earlier wrapper left one under a PID
/// that is reused. The absolute form `faketime "YYYY-MM-DD hh:mm:ss" PROG ARGS…` becomes
/// FAKETIME="@…" (the clock starts there and runs), as the wrapper sets it.
fn command(program: &str, args: &[&str]) -> Command {
    let preload = match (program == "faketime", args) {
        (true, ["-f", offset, prog, rest @ ..]) => Some((offset.to_string(), prog, rest)),
        (true, [when, prog, rest @ ..]) if when.starts_with(|c: char| c.is_ascii_digit()) => {
            Some((format!("@{when}"), prog, rest))
        }
        _ => None,
    };
    if let Some((fake, prog, rest)) = preload.filter(|_| Path::new(LIBFAKETIME).is_file()) {
        let mut c = Command::new(prog);
        c.args(rest).env("LD_PRELOAD", LIBFAKETIME).env("FAKETIME", fake);
        return c;
    }
    let mut c = Command::new(program);
    c.args(args);
    c
}

/// Run any program with `args` in `cwd` (stdin closed), capturing its output.
pub fn run_in(cwd: &Path, program: &str, args: &[&str]) -> Run {
    run_in_env(cwd, program, args, &[])
}

/// [`run_in`] with further environment variables.
pub fn run_in_env(cwd: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = command(program, args)
        .envs(env.iter().copied())
        .current_dir(cwd)
        .env_remove("ZHENGYIN_HOME")
        .env_remove("ZHENGYIN_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    Run {
        cmd: format!("{program} {}", args.join(" ")),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Run `zhengyin args...` in `cwd`.
pub fn zy(cwd: &Path, args: &[&str]) -> Run {
    run_in(cwd, BIN, args)
}

/// Run `zhengyin args...` in `cwd` with the clock moved by `offset` (libfaketime syntax, e.g.
/// `+100d`, or an absolute `@2032-06-01 00:00:00`), as a user moving time with Debian's `faketime`.
pub fn zy_faketime(cwd: &Path, offset: &str, args: &[&str]) -> Run {
    let mut all = vec!["-f", offset, BIN];
    all.extend_from_slice(args);
    run_in(cwd, "faketime", &all)
}

/// Whether CI asked for every external tool to be present.
/// An hour ago in RFC 3339: a key-compromise time (`revoke --compromised-at`) before any seal a
/// test made, so the revocation counts against seals time-stamped before the revocation itself.
pub fn an_hour_ago() -> String {
    let t = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    t.format(&time::format_description::well_known::Rfc3339).expect("format a time")
}

pub fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false)
}

/// Is the external `tool` usable? Under CI=true a missing tool fails the test loudly;
/// otherwise the caller skips and a note is printed.
pub fn have_tool(tool: &str) -> bool {
    let version_flag = match tool {
        "pyhanko" | "qpdf" => "--version",
        _ => "-v",
    };
    let ok = Command::new(tool)
        .arg(version_flag)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.code() != Some(127))
        .unwrap_or(false);
    if ok {
        return true;
    }
    if in_ci() {
        panic!("external tool `{tool}` is missing but CI=true: it is required (.ci/run installs it)");
    }
    eprintln!("note: `{tool}` is not installed; skipping the checks that need it");
    false
}

/// A scratch directory with an initialised home in `<dir>/home`.
pub struct Region {
    pub dir: TempDir,
    pub home: PathBuf,
}

/// The synthetic subject of fixtures/holders/rs-social-insurance.csv that proofs are asked for.
pub const PROOF_SUBJECT: &str = "370902199001011235";

impl Region {
    /// `zhengyin init --home <tmp>/home` for the shipped region; asserts success.
    pub fn init() -> Region {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        zy(dir.path(), &["init", "--home", s(&home)]).assert_code(0);
        Region { dir, home }
    }

    /// Like [`Region::init`] but with a region configuration file.
    pub fn init_with_config(config: &Path) -> Region {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().join("home");
        zy(dir.path(), &["init", "--home", s(&home), "--config", s(config)]).assert_code(0);
        Region { dir, home }
    }

    /// The real binary running `args` in this region's directory (no ZHENGYIN_HOME, stdin closed,
    /// stderr discarded), with its stdout piped and read line by line: for tests that kill it after
    /// some acknowledged lines.
    pub fn spawn_reading(
        &self,
        args: &[&str],
    ) -> (std::process::Child, std::io::BufReader<std::process::ChildStdout>) {
        use std::process::{Command, Stdio};
        let mut child = Command::new(BIN)
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("ZHENGYIN_HOME")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn zhengyin");
        let stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        (child, stdout)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Run `zhengyin` in this region's scratch directory.
    pub fn zy(&self, args: &[&str]) -> Run {
        zy(self.dir.path(), args)
    }

    /// [`zy_faketime`] in this region's directory.
    pub fn zy_at(&self, offset: &str, args: &[&str]) -> Run {
        zy_faketime(self.dir.path(), offset, args)
    }

    /// `zhengyin issue` of `template`'s sample data to `<dir>/<out>` (sealed by `seal` when
    /// given), whatever its outcome: the PDF's path and the run.
    pub fn try_issue(&self, template: &str, seal: Option<&str>, out: &str) -> (PathBuf, Run) {
        let pdf = self.path(out);
        let data = data_file(template);
        let mut args =
            vec!["issue", "--home", s(&self.home), "--template", template, "--data", s(&data), "-o", s(&pdf)];
        if let Some(d) = seal {
            args.extend(["--seal", d]);
        }
        let r = self.zy(&args);
        (pdf, r)
    }

    /// `zhengyin issue --template business-licence --batch RECORDS --out-dir OUT` with `extra`
    /// arguments, whatever its outcome.
    pub fn issue_batch(&self, records: &Path, out: &Path, extra: &[&str]) -> Run {
        let mut args = vec![
            "issue",
            "--home",
            s(&self.home),
            "--template",
            "business-licence",
            "--batch",
            s(records),
            "--out-dir",
            s(out),
        ];
        args.extend_from_slice(extra);
        self.zy(&args)
    }

    /// Issue `template` from its sample data (optionally with `--seal`) to `<dir>/<out>`;
    /// asserts success and returns the PDF path and the run.
    pub fn issue(&self, template: &str, seal: Option<&str>, out: &str) -> (PathBuf, Run) {
        let (pdf, r) = self.try_issue(template, seal, out);
        r.assert_code(0);
        assert!(pdf.is_file(), "issue exited 0 but wrote no {}\n{}", pdf.display(), r.both());
        (pdf, r)
    }

    /// Load rs's synthetic holder data and request a social-insurance proof for xzsp
    /// (370900-XK-0001) to `<dir>/<out>`, with `extra` arguments; asserts success and returns
    /// the PDF and its `.jws` token.
    pub fn request_proof(&self, out: &str, extra: &[&str]) -> (PathBuf, PathBuf) {
        let csv = repo().join("fixtures/holders/rs-social-insurance.csv");
        self.zy(&["data", "load", "--home", s(&self.home), "--dept", "rs", s(&csv)]).assert_code(0);
        let pdf = self.path(out);
        let mut args = vec![
            "proof",
            "request",
            "--home",
            s(&self.home),
            "--by",
            "xzsp",
            "--kind",
            "social-insurance",
            "--subject",
            PROOF_SUBJECT,
            "--purpose",
            "370900-XK-0001",
            "-o",
            s(&pdf),
        ];
        args.extend(extra);
        self.zy(&args).assert_code(0);
        let jws = pdf.with_extension("jws");
        (pdf, jws)
    }

    /// Make the home one from before the TSA existed: its seals are PAdES B-B (no signature
    /// timestamp, so no proof of existence of their own).
    pub fn drop_tsa(&self) {
        std::fs::remove_file(self.home.join("pki/private/tsa.key.pem")).expect("remove the TSA key");
        std::fs::remove_dir_all(self.home.join("tsa")).expect("remove the TSA directory");
    }

    /// `zhengyin trust export` to `<dir>/<name>`.
    pub fn export_root(&self, name: &str) -> PathBuf {
        let pem = self.path(name);
        self.zy(&["trust", "export", "--home", s(&self.home), "-o", s(&pem)]).assert_code(0);
        let text = std::fs::read_to_string(&pem).expect("read exported root");
        assert!(
            text.contains("-----BEGIN CERTIFICATE-----"),
            "exported root is not a PEM certificate:\n{text}"
        );
        pem
    }

    /// `zhengyin verify --home <home> --json FILE`.
    pub fn verify_json(&self, pdf: &Path) -> Run {
        self.zy(&["verify", s(pdf), "--home", s(&self.home), "--json"])
    }

    /// Every file in `pki/private`, by name, with its bytes.
    pub fn private_files(&self) -> BTreeMap<String, Vec<u8>> {
        let dir = self.home.join("pki/private");
        std::fs::read_dir(&dir)
            .expect("read pki/private")
            .map(|e| {
                let e = e.expect("dir entry");
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).expect("read key file"),
                )
            })
            .collect()
    }
}

/// The first signature's entry of a verification report.
pub fn first_sig(report: &Value) -> &Value {
    report["signatures"].get(0).unwrap_or_else(|| panic!("report has no signatures:\n{report:#}"))
}

/// The status of the named check in a signature report (e.g. "CHAIN" → "PASSED").
pub fn check_status<'a>(sig: &'a Value, name: &str) -> &'a str {
    sig["checks"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == name))
        .and_then(|c| c["status"].as_str())
        .unwrap_or_else(|| panic!("no check {name} in:\n{sig:#}"))
}

// ---- byte-level PDF editing --------------------------------------------------------------

pub fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

pub fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// Unsigned integer starting at `at` after optional whitespace; returns (value, end offset).
fn int_at(pdf: &[u8], mut at: usize) -> Option<(usize, usize)> {
    while pdf.get(at)?.is_ascii_whitespace() {
        at += 1;
    }
    let start = at;
    while pdf.get(at).is_some_and(u8::is_ascii_digit) {
        at += 1;
    }
    let v = std::str::from_utf8(pdf.get(start..at)?).ok()?.parse().ok()?;
    Some((v, at))
}

/// The /ByteRange of the (last) signature in the file.
pub fn byte_range(pdf: &[u8]) -> [usize; 4] {
    let k = rfind(pdf, b"/ByteRange").expect("no /ByteRange in the PDF");
    let mut at = find(pdf, b"[", k).expect("/ByteRange array") + 1;
    let mut out = [0usize; 4];
    for v in &mut out {
        let (n, next) = int_at(pdf, at).expect("/ByteRange number");
        *v = n;
        at = next;
    }
    out
}

/// Offset of the byte to change inside the Info dictionary's /CreationDate: the last digit of
/// the year. Asserts it lies inside the first signed range.
pub fn creation_date_digit(pdf: &[u8]) -> usize {
    let k = find(pdf, b"/CreationDate", 0).expect("no /CreationDate in the PDF");
    let d = find(pdf, b"D:", k).expect("/CreationDate value") + 2 + 3;
    assert!(pdf[d].is_ascii_digit(), "expected a digit at {d}");
    assert!(d < byte_range(pdf)[1], "/CreationDate is not inside the first signed range");
    d
}

/// Offset of a byte in the middle of the first page's content stream data (compressed),
/// asserted to lie inside the first signed range.
pub fn content_stream_byte(pdf: &[u8]) -> usize {
    let page =
        find(pdf, b"/Type/Page/", 0).or_else(|| find(pdf, b"/Type /Page ", 0)).expect("no page object");
    let c = find(pdf, b"/Contents", page).expect("page /Contents") + b"/Contents".len();
    let (num, _) = int_at(pdf, c).expect("/Contents is a reference");
    let header = format!("\n{num} 0 obj");
    let obj = find(pdf, header.as_bytes(), 0).expect("content stream object");
    let kw = find(pdf, b"stream", obj).expect("stream keyword");
    let len_key = find(pdf, b"/Length", obj).filter(|&l| l < kw).expect("stream /Length");
    let (len, _) = int_at(pdf, len_key + b"/Length".len()).expect("direct /Length");
    let mut data = kw + b"stream".len();
    while pdf[data] == b'\r' || pdf[data] == b'\n' {
        data += 1;
    }
    let at = data + len / 2;
    assert!(at < byte_range(pdf)[1], "content stream is not inside the first signed range");
    at
}

/// The value of `/Key N 0 R` or `/Key N` in the last revision's trailer (or xref stream dict).
fn trailer_value(pdf: &[u8], key: &[u8]) -> usize {
    let sx = rfind(pdf, b"startxref").expect("startxref");
    let (xref_at, _) = int_at(pdf, sx + 9).expect("startxref offset");
    let k = find(pdf, key, xref_at)
        .unwrap_or_else(|| panic!("no {} in the last trailer", String::from_utf8_lossy(key)));
    int_at(pdf, k + key.len()).expect("trailer number").0
}

/// Append an incremental update holding `objects` (number, body without `obj`/`endobj`),
/// with a new trailer whose /Info is `info` (or the previous one).
pub fn incremental_update(pdf: &[u8], objects: &[(usize, String)], info: Option<usize>) -> Vec<u8> {
    let sx = rfind(pdf, b"startxref").expect("startxref");
    let (prev, _) = int_at(pdf, sx + 9).expect("startxref offset");
    let size = trailer_value(pdf, b"/Size");
    let root = trailer_value(pdf, b"/Root");
    let info = info.unwrap_or_else(|| trailer_value(pdf, b"/Info"));
    let mut out = pdf.to_vec();
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let mut xref = String::from("xref\n0 1\n0000000000 65535 f \n");
    for (num, body) in objects {
        xref.push_str(&format!("{num} 1\n{:010} 00000 n \n", out.len()));
        out.extend_from_slice(format!("{num} 0 obj\n{body}\nendobj\n").as_bytes());
    }
    let new_size = objects.iter().map(|(n, _)| n + 1).max().unwrap_or(0).max(size);
    let xref_at = out.len();
    out.extend_from_slice(xref.as_bytes());
    out.extend_from_slice(format!("trailer\n<< /Size {new_size} /Root {root} 0 R /Info {info} 0 R /Prev {prev} >>\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
    out
}

/// The next free object number of the last revision.
pub fn next_object_number(pdf: &[u8]) -> usize {
    trailer_value(pdf, b"/Size")
}

/// The Info dictionary's object number.
pub fn info_object_number(pdf: &[u8]) -> usize {
    trailer_value(pdf, b"/Info")
}

/// Every file below `dir` (for greps over a whole home).
pub fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// `pdf` passes every outside validator that is installed (all of them under CI=true):
/// `qpdf --check`, pdfsig with `sigs` valid signatures, and pyHanko with `sigs` signatures
/// intact and trusted and no illegal modification.
pub fn assert_outside_validators(r: &Region, pdf: &Path, sigs: usize) {
    assert_outside_validators_with(r.dir.path(), &r.export_root("root.pem"), pdf, sigs)
}

/// [`assert_outside_validators`] run in `dir` with `root` (PEM) as pyHanko's trust root.
pub fn assert_outside_validators_with(dir: &Path, root: &Path, pdf: &Path, sigs: usize) {
    let p = s(pdf);
    for (tool, on) in
        [("qpdf", have_tool("qpdf")), ("pdfsig", have_tool("pdfsig")), ("pyhanko", have_tool("pyhanko"))]
    {
        if !on {
            assert!(!in_ci(), "{tool} is required in CI");
            eprintln!("note: {tool} not installed; skipping it");
            continue;
        }
        match tool {
            "qpdf" => assert_eq!(run_in(dir, "qpdf", &["--check", p]).code, 0, "qpdf --check"),
            "pdfsig" => {
                let o = run_in(dir, "pdfsig", &[p]);
                assert_eq!(o.stdout.matches("Signature is Valid").count(), sigs, "pdfsig\n{}", o.both());
            }
            _ => {
                let o = run_in(
                    dir,
                    "pyhanko",
                    &["sign", "validate", "--soft-revocation-check", "--trust", s(root), p],
                );
                assert_eq!(o.code, 0, "pyHanko\n{}", o.both());
                assert_eq!(o.stdout.matches(":INTACT:TRUSTED").count(), sigs, "pyHanko\n{}", o.both());
                assert!(!o.stdout.contains("ILLEGAL"), "pyHanko\n{}", o.both());
            }
        }
    }
}

/// `pyhanko sign adesverify` with revocation checking on (its default) and only our root trusted.
pub fn adesverify(r: &Region, pdf: &Path, extra: &[&str]) -> Run {
    let root = r.export_root("root.pem");
    let mut args = vec!["sign", "adesverify", "--trust-replace", "--trust", s(&root)];
    args.extend_from_slice(extra);
    args.push(s(pdf));
    run_in(r.dir.path(), "pyhanko", &args)
}

/// Every signature of `pdf` passes pyHanko's AdES validation offline (and the other validators).
pub fn assert_ades_passes(r: &Region, pdf: &Path, sigs: usize) {
    assert_outside_validators(r, pdf, sigs);
    if !have_tool("pyhanko") {
        return;
    }
    let o = adesverify(r, pdf, &[]);
    assert_eq!(o.code, 0, "adesverify {}\n{}", pdf.display(), o.both());
    // `:INTACT:TRUSTED` opens a signature's status; its timestamp's reads `<INTACT:TRUSTED>`.
    assert_eq!(
        o.stdout.matches(":INTACT:TRUSTED").count(),
        sigs,
        "adesverify {}\n{}",
        pdf.display(),
        o.both()
    );
    assert!(!o.stdout.contains("UNTRUSTED") && !o.stdout.contains("ILLEGAL"), "{}", o.both());
}

/// No file below `dir` (a whole home: sled files, packs, logs, keys) holds any of `ids`: not as
/// bytes, not inside any Flate-compressed stream (page text, XMP), and not in the text pdftotext
/// extracts from any PDF found in a file (the archive's packs hold the PDFs end to end).
pub fn assert_no_raw_ids(dir: &Path, ids: &[&str]) {
    let mut files = Vec::new();
    walk(dir, &mut files);
    assert!(files.len() > 10, "{} holds only {} files", dir.display(), files.len());
    let scratch = tempfile::tempdir().expect("tempdir");
    let mut pdfs = 0;
    for f in files {
        let bytes = std::fs::read(&f).expect("read");
        let mut views = vec![("bytes".to_string(), bytes.clone())];
        views.extend(inflated_streams(&bytes).into_iter().map(|s| ("a compressed stream".to_string(), s)));
        if have_tool("pdftotext") {
            for (k, pdf) in pdfs_in(&bytes).into_iter().enumerate() {
                let path = scratch.path().join(format!("{pdfs}.pdf"));
                std::fs::write(&path, pdf).expect("write PDF");
                pdfs += 1;
                let out = run_in(scratch.path(), "pdftotext", &["-q", s(&path), "-"]);
                views.push((format!("pdftotext of PDF {k}"), out.stdout.into_bytes()));
            }
        }
        for (what, view) in &views {
            for id in ids {
                assert!(
                    find(view, id.as_bytes(), 0).is_none(),
                    "raw ID {id} found in {} ({what})",
                    f.display()
                );
            }
        }
    }
}

/// Every `stream … endstream` body of `bytes` that inflates (zlib), decompressed.
fn inflated_streams(bytes: &[u8]) -> Vec<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = find(bytes, b"stream", at) {
        let mut start = i + b"stream".len();
        at = start;
        if bytes.get(start) == Some(&b'\r') {
            start += 1;
        }
        if bytes.get(start) != Some(&b'\n') || (i > 2 && bytes.get(i - 3..i) == Some(b"end")) {
            continue;
        }
        start += 1;
        let Some(end) = find(bytes, b"endstream", start) else { break };
        let mut text = Vec::new();
        if flate2::read::ZlibDecoder::new(&bytes[start..end]).take(64 << 20).read_to_end(&mut text).is_ok() {
            out.push(text);
        }
        at = end;
    }
    out
}

/// The PDFs held in `bytes`, each from a `%PDF-` header to its last `%%EOF` before the next one.
fn pdfs_in(bytes: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut at = 0;
    while let Some(i) = find(bytes, b"%PDF-", at) {
        starts.push(i);
        at = i + 5;
    }
    let mut out = Vec::new();
    for (k, &start) in starts.iter().enumerate() {
        let limit = starts.get(k + 1).copied().unwrap_or(bytes.len());
        if let Some(eof) = rfind(&bytes[start..limit], b"%%EOF") {
            out.push(&bytes[start..start + eof + 5]);
        }
    }
    out
}

/// Copy a directory tree (a home or an archive), files and subdirectories.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &p);
        } else {
            std::fs::copy(e.path(), &p).unwrap();
        }
    }
}
