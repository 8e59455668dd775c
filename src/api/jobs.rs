//! CPU-bound jobs of the HTTP service (render, seal, verify, audit): run off the async threads, at
//! most [`workers`] at once, each holding its worker slot until it has really ended. When a
//! request gives up waiting (its timeout fires and the handler future is dropped), the job's
//! [`Cancel`] flag is set; PDF reading checks it through its work budget and stops.
//!
//! Knows nothing of routes or handlers. Gauges for /metrics: jobs running, jobs cancelled.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{ApiError, Result};
use crate::pades::budget::Cancel;

static RUNNING: AtomicU64 = AtomicU64::new(0);
static CANCELLED: AtomicU64 = AtomicU64::new(0);

/// Run blocking work off the async threads; a panic becomes an internal error. At most
/// [`workers`] such jobs run at once and the rest wait their turn in arrival order (a fair
/// semaphore): sixteen verifications time-sliced on two cores all finish late, two at a time
/// finish in order — the same throughput with a much shorter tail.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    blocking_cancellable(move |_| f()).await
}

/// [`blocking`] for work that can stop early: `f` gets the job's [`Cancel`], which is set when
/// the caller stops waiting (the request timed out or the client went away).
pub(crate) async fn blocking_cancellable<T: Send + 'static>(
    f: impl FnOnce(Cancel) -> Result<T> + Send + 'static,
) -> Result<T> {
    let turn = workers().acquire().await.map_err(|_| ApiError::Internal("worker pool closed".into()))?;
    let cancel = Cancel::default();
    let mut on_drop = CancelOnDrop(Some(cancel.clone()));
    let running = Running::start();
    let job = tokio::task::spawn_blocking(move || {
        // The slot and the gauge are released when the job itself ends, not when its caller
        // stops waiting: a timed-out job still occupies a worker until it has stopped.
        let (_turn, _running) = (turn, running);
        f(cancel)
    });
    let out = job.await;
    on_drop.0 = None;
    out.map_err(|e| ApiError::Internal(format!("worker failed: {e}")))?
}

/// The number of CPU-bound jobs run at once: ZHENGYIN_WORKERS, else twice the cores (so one long
/// job such as an audit does not stall every short one).
fn workers() -> &'static tokio::sync::Semaphore {
    static WORKERS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    WORKERS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
        let n = std::env::var("ZHENGYIN_WORKERS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(cores * 2);
        tokio::sync::Semaphore::new(n)
    })
}

/// Cancels the job when dropped armed (the waiting future went away before the job ended).
struct CancelOnDrop(Option<Cancel>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            c.cancel();
            CANCELLED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Counts a job as running from its start until it is dropped (it ended, or never ran).
struct Running;

impl Running {
    fn start() -> Self {
        RUNNING.fetch_add(1, Ordering::Relaxed);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The job gauges in the Prometheus text format.
pub(crate) fn render(s: &mut String) {
    use std::fmt::Write;
    let (running, cancelled) = (RUNNING.load(Ordering::Relaxed), CANCELLED.load(Ordering::Relaxed));
    let _ = writeln!(s, "# HELP zhengyin_jobs_running CPU-bound jobs (verify, issue, seal, audit) running now, cancelled ones included until they stop.\n# TYPE zhengyin_jobs_running gauge\nzhengyin_jobs_running {running}");
    let _ = writeln!(s, "# HELP zhengyin_jobs_cancelled_total Jobs whose caller stopped waiting (request timeout) before they ended.\n# TYPE zhengyin_jobs_cancelled_total counter\nzhengyin_jobs_cancelled_total {cancelled}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A job whose caller times out is cancelled, keeps its worker slot until it stops, then ends.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn timed_out_job_is_cancelled_and_holds_its_slot() {
        let free = workers().available_permits();
        let (seen_tx, seen_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let job = blocking_cancellable(move |cancel| {
            while !cancel.is_cancelled() {
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = seen_tx.send(());
            // Stay alive after the cancel until the test has looked at the slot.
            let _ = release_rx.recv();
            Ok(())
        });
        assert!(tokio::time::timeout(Duration::from_millis(50), job).await.is_err());
        tokio::task::spawn_blocking(move || seen_rx.recv_timeout(Duration::from_secs(30)))
            .await
            .unwrap()
            .expect("the job saw the cancel");
        assert_eq!(workers().available_permits(), free - 1, "the slot is held while the cancelled job runs");
        release_tx.send(()).unwrap();
        for _ in 0..3000 {
            if workers().available_permits() == free {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the slot was not released after the job ended");
    }
}
