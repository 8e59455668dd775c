//! Progress bars of long jobs (batch verify, archive ingest, audit): drawn on stderr while the
//! work runs when stderr is a terminal (checked under a pseudo-terminal from `script`), and
//! nothing at all on stderr when it is a pipe.

mod common;

use std::path::PathBuf;

use common::*;

/// A region with three sealed licences under `<dir>/in`.
fn three() -> (Region, Vec<PathBuf>) {
    let r = Region::init();
    std::fs::create_dir_all(r.path("in")).unwrap();
    let pdfs =
        ["a", "b", "c"].iter().map(|n| r.issue("business-licence", None, &format!("in/{n}.pdf")).0).collect();
    (r, pdfs)
}

/// Run `zhengyin args...` with stdout and stderr on a pseudo-terminal; the transcript.
fn in_terminal(r: &Region, args: &[&str]) -> Option<String> {
    if !have_tool("script") {
        return None;
    }
    let bin = env!("CARGO_BIN_EXE_zhengyin");
    let cmd = std::iter::once(bin).chain(args.iter().copied()).map(shell_quote).collect::<Vec<_>>().join(" ");
    let run = run_in(r.dir.path(), "script", &["-qfec", &cmd, "/dev/null"]);
    Some(run.stdout)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// With stderr a pipe, batch verify, ingest and audit write nothing to stderr: no bar, no
/// percentage lines.
#[test]
fn quiet_when_stderr_is_not_a_terminal() {
    let (r, _) = three();
    let home = s(&r.home);
    let dir = r.path("in");
    let v = r.zy(&["verify", "--home", home, s(&dir)]);
    v.assert_code(0);
    assert_eq!(v.stderr, "", "{}", v.both());
    let i = r.zy(&["archive", "ingest", "--home", home, s(&dir)]);
    i.assert_code(0);
    assert_eq!(i.stderr, "", "{}", i.both());
    let a = r.zy(&["audit", "--home", home]);
    a.assert_code(0);
    assert!(!a.stderr.contains('%'), "{}", a.both());
}

/// On a terminal, batch verify and ingest draw an indicatif bar labelled with the job and the
/// count out of the total, and still print their results.
#[test]
fn bar_drawn_on_a_terminal() {
    let (r, _) = three();
    let home = s(&r.home);
    let dir = r.path("in");
    let Some(t) = in_terminal(&r, &["verify", "--home", home, s(&dir)]) else { return };
    assert!(t.contains("verify ["), "no bar in the transcript:\n{t}");
    assert!(t.contains("/3 ("), "no count out of 3 in the transcript:\n{t}");
    assert!(t.contains("3 files: 3 valid"), "{t}");
    let Some(t) = in_terminal(&r, &["archive", "ingest", "--home", home, s(&dir)]) else { return };
    assert!(t.contains("ingest ["), "no bar in the transcript:\n{t}");
    assert!(t.contains("(already archived)"), "{t}");
}
