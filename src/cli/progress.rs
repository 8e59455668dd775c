//! Progress bars for long CLI jobs (archive ingest, audit, batch verify, bulk issue): an indicatif
//! bar on stderr, drawn while the work runs, with the count, rate and time left. Nothing at all is
//! written when stderr is not a terminal (pipes, logs, CI), so scripted output stays clean.
//!
//! Knows only counts; the library's jobs report `(done, total)` through a callback.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Below this many items a job is short: no bar.
const MIN_ITEMS: usize = 2;

/// A bar for `total` items labelled `label`, or a hidden one when stderr is not a terminal or the
/// job is short.
pub fn bar(label: &'static str, total: usize) -> ProgressBar {
    if total < MIN_ITEMS || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
    let style =
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} ({percent}%) {per_sec} ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(label);
    bar
}

/// A `(done, total)` callback for library jobs that drives a bar created on its first call (when
/// the total is known), and clears it when the job reaches its total.
pub fn callback(label: &'static str) -> impl FnMut(usize, usize) {
    let mut shown: Option<ProgressBar> = None;
    move |done, total| drive(shown.get_or_insert_with(|| bar(label, total)), done, total)
}

/// Move `b` to `done` of `total`; clear it at the end.
pub fn drive(b: &ProgressBar, done: usize, total: usize) {
    b.set_position(done as u64);
    if done >= total {
        b.finish_and_clear();
    }
}
