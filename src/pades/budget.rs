//! The work budget of one untrusted document. Every walk of its object graph (the form-field
//! tree, lock dictionaries, the objects a later signature brings in, the annotated-copy items) and
//! every parse of its bytes spends from one [`Budget`]; a walk stops when the budget is spent or
//! when the caller cancels the job (the HTTP layer does when a request times out).
//!
//! Knows nothing of PDF syntax, trust or HTTP. Modelled on webpki's `Budget`
//! (`verify_cert.rs`: `checked_sub`, one named limit per kind of work).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::PdfError;

/// Object visits per document, all walks together. A licence's walks visit a few hundred objects
/// (about 40 per seal: field, widget, appearance streams and fonts; each walked a few times). The
/// difference analysis looks at every object of the file once per signed revision, twice (old and
/// new), so ten signed revisions of a file at the object limit (`parse::MAX_OBJECTS`, 200,000
/// objects, after the parse that is ~2 s of work) still fit. One visit costs well under a
/// microsecond, so a graph that makes walks revisit objects stops within a couple of seconds.
pub const MAX_VISITS: usize = 2_000_000;

/// Bytes handed to the object parser per document. Verification parses the file once and each
/// signed revision once more (a sealed licence: 1 + seals parses of ~100 KiB); sixteen parses of
/// the largest accepted file (`MAX_PDF_SIZE`, 64 MiB) is 1 GiB, ~15 s of parsing on one core.
pub const MAX_PARSED_BYTES: usize = 1 << 30;

/// A shared flag that asks a running job to stop (set by whoever gave up waiting for it).
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// Ask the job to stop; it does at its next budget check.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// What is left of one document's work allowance.
#[derive(Debug)]
pub struct Budget {
    visits: usize,
    parsed_bytes: usize,
    cancel: Cancel,
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(Cancel::default())
    }
}

impl Budget {
    /// The full allowance, stopping early when `cancel` is set.
    pub fn new(cancel: Cancel) -> Self {
        Budget { visits: MAX_VISITS, parsed_bytes: MAX_PARSED_BYTES, cancel }
    }

    /// Spend one object visit.
    pub fn visit(&mut self) -> Result<(), PdfError> {
        self.check_cancel()?;
        self.visits = self
            .visits
            .checked_sub(1)
            .ok_or(PdfError::WorkLimit { what: "object visits", limit: MAX_VISITS })?;
        Ok(())
    }

    /// Spend the parse of `len` bytes.
    pub fn parse(&mut self, len: usize) -> Result<(), PdfError> {
        self.check_cancel()?;
        self.parsed_bytes = self
            .parsed_bytes
            .checked_sub(len)
            .ok_or(PdfError::WorkLimit { what: "bytes parsed", limit: MAX_PARSED_BYTES })?;
        Ok(())
    }

    /// `Err(Cancelled)` once the job was cancelled.
    pub fn check_cancel(&self) -> Result<(), PdfError> {
        if self.cancel.is_cancelled() {
            return Err(PdfError::Cancelled);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The budget runs out after exactly its allowance, and a cancelled one refuses at once.
    #[test]
    fn spends_and_cancels() {
        let mut b = Budget::default();
        for _ in 0..MAX_VISITS {
            b.visit().unwrap();
        }
        assert!(matches!(b.visit(), Err(PdfError::WorkLimit { what: "object visits", .. })));
        assert!(b.parse(MAX_PARSED_BYTES).is_ok());
        assert!(b.parse(1).is_err());
        let cancel = Cancel::default();
        let mut b = Budget::new(cancel.clone());
        assert!(b.visit().is_ok());
        cancel.cancel();
        assert!(matches!(b.visit(), Err(PdfError::Cancelled)));
    }
}
