//! PAdES signatures in PDF: CMS SignedData (ETSI.CAdES.detached), signature dictionaries and byte
//! ranges, incremental updates (`sign`), and parsing signatures back (`parse`).
//!
//! Imports `document` only for the seal appearance; never imports `verify`, `trust` or HTTP.

pub mod cms;
pub mod parse;
pub mod sign;
pub mod write;

pub use parse::{ParsedSignature, MAX_PDF_SIZE};
pub use sign::{seal, Appearance, SealRequest};
