//! Hostile PDFs (issue 10, points 1, 2, 8 and 12) through the real binary: `zhengyin verify`
//! answers each with one line and exit 2 (or a report and exit 1), never a signal; a real
//! `zhengyin serve` still answers /healthz after each one is posted to every public verify route;
//! a timed-out verification stops; sizes are checked before reading.

mod common;
mod hostile;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{s, Region, BIN};

/// The committed fuzz regressions and seeds are exactly what the generator makes.
#[test]
fn corpus_files_are_generated() {
    let root = common::repo();
    for dir in ["fuzz/regressions", "fuzz/seeds/verify"] {
        for (name, bytes) in hostile::corpus() {
            let path = root.join(dir).join(format!("{name}.pdf"));
            if std::env::var("ZY_WRITE_CORPUS").is_ok() {
                std::fs::write(&path, &bytes).expect("write corpus");
            }
            let committed = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (run with ZY_WRITE_CORPUS=1)", path.display()));
            assert!(
                committed == bytes,
                "{} differs from the generator (run with ZY_WRITE_CORPUS=1)",
                path.display()
            );
            assert!(bytes.len() < 64 * 1024, "{name} stays small");
        }
    }
}

/// `zhengyin verify` on each hostile input: exit 2 with one error line (or exit 1 with a
/// report), never killed by a signal, never a panic.
#[test]
fn cli_verify_answers_each_hostile_input() {
    let r = Region::init();
    for (name, bytes) in hostile::corpus() {
        let file = r.path(&format!("{name}.pdf"));
        std::fs::write(&file, &bytes).expect("write");
        let run = r.zy(&["verify", "--home", s(&r.home), s(&file)]);
        assert!(
            run.code == 1 || run.code == 2,
            "{name}: exit {} (a signal shows as -1)\n{}",
            run.code,
            run.both()
        );
        assert!(
            !run.stderr.contains("panicked") && !run.stderr.contains("overflow"),
            "{name}\n{}",
            run.both()
        );
        assert!(
            !run.stderr.contains("lopdf"),
            "{name}: the parser's log stays quiet by default\n{}",
            run.both()
        );
        if run.code == 2 {
            run.assert_one_line_error(2);
        }
    }
}

/// The whole corpus in one batch (`verify -j 2 FILE...`), where the parser runs on the pool's
/// workers instead of a thread of its own per revision: one line per file in input order, each
/// an error or a failure, the summary counts them all, and the process is not killed by a signal.
#[test]
fn batch_verify_answers_each_hostile_input() {
    let r = Region::init();
    let corpus = hostile::corpus();
    let files: Vec<std::path::PathBuf> = corpus
        .iter()
        .map(|(name, bytes)| {
            let file = r.path(&format!("batch-{name}.pdf"));
            std::fs::write(&file, bytes).expect("write");
            file
        })
        .collect();
    let mut args = vec!["verify", "--home", s(&r.home), "-j", "2"];
    args.extend(files.iter().map(|f| s(f)));
    let run = r.zy(&args);
    assert_eq!(run.code, 2, "the worst file decides: an unreadable one\n{}", run.both());
    assert!(!run.stderr.contains("panicked") && !run.stderr.contains("overflow"), "{}", run.both());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), corpus.len() + 1, "{}", run.stdout);
    for (line, file) in lines.iter().zip(&files) {
        assert!(line.contains(s(file)), "in input order: {line} should name {}", file.display());
        assert!(line.starts_with("ERROR") || line.starts_with("FAIL"), "{line}");
    }
    assert!(lines[corpus.len()].starts_with(&format!("{} files: 0 valid", corpus.len())), "{}", run.stdout);
}

/// The /Kids DAG (8^16 paths through 17 nodes) is refused at once: a field listed twice.
#[test]
fn kids_dag_is_refused() {
    let r = Region::init();
    let (_, bytes) =
        hostile::corpus().into_iter().find(|(n, _)| *n == "verify-kids-dag").expect("in the corpus");
    let file = r.path("dag.pdf");
    std::fs::write(&file, bytes).expect("write");
    let run = r.zy(&["verify", "--home", s(&r.home), s(&file)]);
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("more than once"), "{}", run.both());
}

/// A 100 MB file is refused before it is read, naming the limit; so is 100 MB on stdin.
#[test]
fn verify_checks_the_size_before_reading() {
    let r = Region::init();
    let big = r.path("big.pdf");
    let f = std::fs::File::create(&big).expect("create");
    f.set_len(100_000_000).expect("sparse file");
    let run = r.zy(&["verify", "--home", s(&r.home), s(&big)]);
    run.assert_one_line_error(2);
    assert!(run.stderr.contains("67108864"), "names the limit\n{}", run.both());
    let out = Command::new(BIN)
        .args(["verify", "--home", s(&r.home), "-"])
        .stdin(std::fs::File::open(&big).expect("open"))
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("67108864") && err.lines().count() == 1, "{err}");
}

/// A `zhengyin serve` child process, killed on drop.
struct Serve {
    child: Child,
    url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(home: &Path) -> Serve {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--home",
            s(home),
            "--listen",
            "127.0.0.1:0",
            "--rate-limit",
            "0",
            "--refresh-secs",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start zhengyin serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("banner");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    Serve { child, url }
}

/// (status, body) of a request; `None` when the server did not answer at all.
fn call(method: &str, url: &str, token: Option<&str>, body: Option<&[u8]>) -> Option<(u16, String)> {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(120)).build();
    let mut req = agent.request(method, url);
    if let Some(t) = token {
        req = req.set("Authorization", &format!("Bearer {t}"));
    }
    let res = match body {
        Some(b) => req.set("Content-Type", "application/pdf").send_bytes(b),
        None => req.call(),
    };
    let r = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(_) => return None,
    };
    let status = r.status();
    Some((status, r.into_string().unwrap_or_default()))
}

/// A real `zhengyin serve` answers /healthz after each hostile input is posted to /v1/verify,
/// /v1/proofs/verify and /v1/share/verify, and answers each without a server error (400, or a
/// report when lopdf drops the hostile object).
#[test]
fn server_survives_each_hostile_input() {
    let r = Region::init();
    let token = r.zy(&["token", "create", "--home", s(&r.home), "--role", "department", "--dept", "xzsp"]);
    token.assert_code(0);
    let token = token.stdout.trim().to_string();
    let mut server = serve(&r.home);
    for (name, bytes) in hostile::corpus() {
        for (route, auth) in [
            ("/v1/verify", None),
            ("/v1/proofs/verify", None),
            ("/v1/share/verify?purpose=370900-XK-0012", Some(token.as_str())),
        ] {
            let answer = call("POST", &format!("{}{route}", server.url), auth, Some(&bytes));
            let alive = call("GET", &format!("{}/healthz", server.url), None, None);
            let exited = server.child.try_wait().ok().flatten();
            assert!(
                exited.is_none() && alive.as_ref().map(|a| a.0) == Some(200),
                "{name} on {route} killed the server ({exited:?}); answer {answer:?}"
            );
            let (status, _) = answer.unwrap_or_else(|| panic!("{name} on {route}: no answer"));
            assert!(status < 500, "{name} on {route}: {status}");
        }
    }
}

/// After a verification whose request timed out, the job stops (the jobs-running gauge returns
/// to 0) instead of spinning on: the request timeout is 0 s, so every job is cancelled.
#[test]
fn timed_out_verification_stops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = zhengyin::config::Home::resolve(Some(dir.path().join("home")));
    common::zy(dir.path(), &["init", "--home", s(&home.dir)]).assert_code(0);
    let config = zhengyin::api::ServeConfig { timeout_secs: 0, rate_per_sec: 0.0, ..Default::default() };
    let state = zhengyin::api::AppState::open(home, config).expect("open");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    rt.spawn(zhengyin::api::serve(listener, state, std::future::pending()));
    let (_, dag) =
        hostile::corpus().into_iter().find(|(n, _)| *n == "verify-kids-dag").expect("in the corpus");
    let (status, _) = call("POST", &format!("{url}/v1/verify"), None, Some(&dag)).expect("an answer");
    assert!(status == 503 || status == 400, "timeout or refusal, got {status}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (_, metrics) = call("GET", &format!("{url}/metrics"), None, None).expect("metrics");
        if metrics.lines().any(|l| l == "zhengyin_jobs_running 0") {
            break;
        }
        assert!(Instant::now() < deadline, "the verification job is still running:\n{metrics}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A cancelled job stops at its first budget check: verifying a genuine licence with a cancelled
/// budget is refused as cancelled, with the same licence verifying normally otherwise.
#[test]
fn cancelled_verification_stops() {
    let pdf = std::fs::read(common::repo().join("fuzz/seeds/verify/business-licence.pdf")).expect("seed");
    let store = zhengyin::trust::TrustStore::default();
    let now = std::time::SystemTime::now();
    assert!(zhengyin::verify::verify(&pdf, &store, now).is_ok());
    let cancel = zhengyin::pades::budget::Cancel::default();
    cancel.cancel();
    let err =
        zhengyin::verify::verify_with(&pdf, &store, now, &mut zhengyin::pades::budget::Budget::new(cancel))
            .expect_err("cancelled");
    assert!(err.to_string().contains("cancelled"), "{err}");
}
