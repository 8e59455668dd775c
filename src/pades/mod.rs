//! PAdES signatures in PDF: CMS SignedData (ETSI.CAdES.detached), signature dictionaries and byte
//! ranges, incremental updates (`sign`), and parsing signatures back (`parse`, with the byte-level
//! pre-scans in `scan`).
//!
//! Imports `document` only for the seal appearance, text decoding and randomness; never imports `verify`, `trust` or HTTP.

pub mod algorithms;
pub mod appearance;
pub mod ber;
pub mod budget;
pub mod cms;
pub mod cms_template;
pub mod doc_timestamp;
pub mod external;
pub mod lazy;
pub mod ltv;
pub mod parse;
pub mod parser_thread;
pub mod prefix_hash;
pub mod revision_chain;
pub mod scan;
pub mod self_check;
pub mod sign;
pub mod write;

pub use parse::{ParsedSignature, MAX_PDF_SIZE};
pub use sign::{seal, Appearance, SealRequest};
