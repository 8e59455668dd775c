//! zhengyin (证印): electronic licences (电子证照) and electronic seals (电子印章) for a city region.
//!
//! # Layout (in data-flow order)
//! - [`config`]: the home directory and the region configuration (CAs, departments).
//! - [`error`]: one error enum per layer, wrapped by [`error::Error`].
//! - [`pki`]: region root, level CAs and department seal certificates; keys on disk; CRLs.
//! - [`document`]: templates, licence rendering (text, QR, red seal), metadata, identifier.
//! - [`pades`]: CMS signatures, incremental updates, parsing signatures back.
//! - [`licence`]: issuing = document → pades; the lifecycle (change, renew, reissue, cancel,
//!   revoke, suspend) and licence status (index, signed answers, signed offline list).
//! - [`trust`]: trust anchors, CRLs, chain validation (rustls-webpki).
//! - [`verify`]: per-signature checks (authority, algorithm policy, annotation binding),
//!   difference analysis, the report.
//! - [`filing`]: verify, then archive (one open of the archive per command).
//! - [`lta`]: PAdES B-LTA for the archive: a document timestamp at filing, `archive renew`.
//! - [`archive`]: the single-track archive: sled store, packs, Merkle log, signed checkpoints
//!   (with the log key's high-water mark), fixity, the DA/T 70 audit.
//! - [`audit_report`]: the DA/T 70 检测报告 (audit → sealed PDF, filed in the archive).
//! - [`consistency`]: a relying party's kept checkpoint checked against the archive (forks).
//! - [`proofs`]: no-certificate workflows: holder data, list of uses, proofs and their tokens,
//!   commitments, annotated copies.
//! - [`parallel`]: work on every core with results in input order (batch verify, bulk issue).
//! - [`api`]: the HTTP service (accept loop with caps, cancellable jobs, problem+json).
//!
//! The CLI (`src/main.rs`, `src/cli/`) is a thin shell over these.

pub mod api;
pub mod archive;
pub mod audit_report;
pub mod config;
pub mod consistency;
pub mod document;
pub mod error;
pub mod filing;
pub mod hex;
pub mod licence;
pub mod lta;
pub mod pades;
pub mod parallel;
pub mod pki;
pub mod proofs;
pub mod trust;
pub mod verify;

pub use error::{Error, Result};
