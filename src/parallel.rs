//! Work on all cores with results in input order: batch verify and bulk issuance hand a list of
//! jobs to [`ordered`], which runs them on a fixed pool of scoped threads and gives each result back
//! on the calling thread, in the order of the input, as soon as it and all before it are done.
//!
//! Knows nothing of PDFs, licences or the archive; only std threads and a channel.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// Stack of each worker thread: room for the PDF object parser's deep recursion
/// (`pades::parser_thread`), which then runs on the worker itself instead of on a thread spawned
/// per revision. Reserved address space; only the pages touched are committed.
pub const WORKER_STACK: usize = 80 << 20;

thread_local! {
    /// Whether this thread was spawned with a [`WORKER_STACK`] stack (one of [`ordered`]'s
    /// workers, or a pool thread marked by [`mark_worker_stack`]).
    static ON_WORKER_STACK: Cell<bool> = const { Cell::new(false) };
}

/// Mark the current thread as having a [`WORKER_STACK`] stack: for a thread pool that
/// spawned it so (the HTTP service's runtime), whose threads then parse PDFs inline as
/// [`ordered`]'s workers do. Call it only on such a thread.
pub fn mark_worker_stack() {
    ON_WORKER_STACK.with(|c| c.set(true));
}

/// Whether the current thread has a [`WORKER_STACK`] stack (else: a thread whose stack this
/// module does not know).
pub fn on_worker_stack() -> bool {
    ON_WORKER_STACK.with(Cell::get)
}

/// Worker threads to use when the caller does not say: every core the process may run on.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(1)
}

/// Run `work` on every item on `threads` threads (at least one); call `emit(index, result)` on
/// this thread for each item in input order. Results that finish early wait in a buffer until all
/// earlier ones are emitted. `emit` returning `false` stops handing out further items (those
/// already running finish and are still emitted).
pub fn ordered<T, R, W, E>(items: Vec<T>, threads: usize, work: W, emit: E)
where
    T: Send,
    R: Send,
    W: Fn(usize, T) -> R + Sync,
    E: FnMut(usize, R) -> bool,
{
    ordered_ahead(items, threads, usize::MAX, work, emit)
}

/// [`ordered`], with no item started more than `ahead` places past the next one to emit (so a
/// slow consumer bounds the results held in memory).
pub fn ordered_ahead<T, R, W, E>(items: Vec<T>, threads: usize, ahead: usize, work: W, mut emit: E)
where
    T: Send,
    R: Send,
    W: Fn(usize, T) -> R + Sync,
    E: FnMut(usize, R) -> bool,
{
    let total = items.len();
    let slots: Vec<std::sync::Mutex<Option<T>>> =
        items.into_iter().map(|t| std::sync::Mutex::new(Some(t))).collect();
    let next = AtomicUsize::new(0);
    let stop = AtomicUsize::new(total);
    let emitted = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, R)>();
    std::thread::scope(|s| {
        let (slots, next, stop, work, emitted) = (&slots, &next, &stop, &work, &emitted);
        // One worker: take the next item, wait while too far ahead, send its result.
        let worker = move |tx: mpsc::Sender<(usize, R)>, big_stack: bool| {
            if big_stack {
                mark_worker_stack();
            }
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= stop.load(Ordering::SeqCst) {
                    break;
                }
                while i >= emitted.load(Ordering::SeqCst).saturating_add(ahead)
                    && i < stop.load(Ordering::SeqCst)
                {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                if i >= stop.load(Ordering::SeqCst) {
                    break;
                }
                let item = slots.get(i).and_then(|m| m.lock().ok().and_then(|mut g| g.take()));
                let Some(item) = item else { break };
                if tx.send((i, work(i, item))).is_err() {
                    break;
                }
            }
        };
        for _ in 0..threads.clamp(1, total.max(1)) {
            let (tx, fallback) = (tx.clone(), tx.clone());
            let big = std::thread::Builder::new()
                .stack_size(WORKER_STACK)
                .spawn_scoped(s, move || worker(tx, true));
            if big.is_err() {
                // No room for a large stack (address-space limits): a thread of the default size,
                // on which the parser gets a thread of its own per document as elsewhere.
                s.spawn(move || worker(fallback, false));
            }
        }
        drop(tx);
        let mut waiting = BTreeMap::new();
        let mut due = 0;
        for (i, r) in rx {
            waiting.insert(i, r);
            while let Some(r) = waiting.remove(&due) {
                if !emit(due, r) {
                    // Hand out nothing further; what is running still reports.
                    stop.store(0, Ordering::SeqCst);
                }
                due += 1;
                emitted.store(due, Ordering::SeqCst);
            }
        }
        // After a stop, results past a gap (an item never started) are still emitted, in order.
        for (i, r) in std::mem::take(&mut waiting) {
            emit(i, r);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Results come back in input order whatever order the threads finish in.
    #[test]
    fn input_order_kept() {
        let items: Vec<u64> = (0..200).collect();
        let mut seen = Vec::new();
        ordered(
            items,
            4,
            |_, n| {
                std::thread::sleep(std::time::Duration::from_micros((200 - n) * 10));
                n * 2
            },
            |i, r| {
                seen.push((i, r));
                true
            },
        );
        assert_eq!(seen, (0..200).map(|n| (n as usize, n * 2)).collect::<Vec<_>>());
    }

    /// An empty list calls nothing and returns.
    #[test]
    fn empty_list() {
        ordered(Vec::<u8>::new(), 3, |_, x| x, |_, _| panic!("nothing to emit"));
    }
}
