//! lopdf's object parser recurses once per nested array or dictionary (and once per indirect
//! /Length it follows), so the stack it needs grows with what the file nests. It runs here, on a
//! thread of its own with a known stack of [`PARSE_STACK`] bytes (lopdf is built without rayon,
//! so no parsing happens on other threads), and a panic inside lopdf is a parse error, not a crash.
//! The byte pre-scan (`scan`) refuses deep nesting before this runs; the large stack is there so
//! that input the pre-scan misses still cannot exhaust the stack of the process's own threads.
//!
//! Knows nothing of signatures. ISO 32000-1 §7.3 (objects), §7.5 (file structure).

use lopdf::Document;

use crate::error::PdfError;

/// Stack of the parser thread. lopdf needs about 2.2 KiB of stack per nested array in a release
/// build (measured: unpatched lopdf on a 2 MiB thread overflowed between 900 and 1,000 levels), so
/// the 256 levels the bundled lopdf allows take ~0.6 MiB; 64 MiB holds ~29,000 levels, 100 times
/// that. It is reserved address space: only the pages the parser touches are committed.
pub const PARSE_STACK: usize = 64 << 20;

/// `Document::load_mem(bytes)` on the parser thread.
pub fn load_mem(bytes: &[u8]) -> Result<Document, PdfError> {
    run(|| Document::load_mem(bytes))?.map_err(|e| PdfError::Parse(e.to_string()))
}

/// `f` (lopdf parsing) on the parser thread; a panic in it is a parse error.
pub fn run<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, PdfError> {
    std::thread::scope(|s| {
        let worker = std::thread::Builder::new()
            .name("pdf-parse".into())
            .stack_size(PARSE_STACK)
            .spawn_scoped(s, f)
            .map_err(|e| PdfError::Parse(format!("cannot start the parser thread: {e}")))?;
        worker.join().map_err(|_| PdfError::Parse("the object parser failed on this input".into()))
    })
}
