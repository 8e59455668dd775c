//! zhengyin (证印): electronic licences (电子证照) and electronic seals (电子印章) for a city region.
//!
//! # Layout (in data-flow order)
//! - [`config`]: the home directory and the region configuration (CAs, departments).
//! - [`error`]: one error enum per layer, wrapped by [`error::Error`].
//! - [`pki`]: region root, level CAs and department seal certificates; keys on disk; CRLs.
//! - [`document`]: templates, licence rendering (text, QR, red seal), metadata, identifier.
//! - [`pades`]: CMS signatures, incremental updates, parsing signatures back.
//! - [`licence`]: issuing = document → pades.
//! - [`trust`]: trust anchors, CRLs, chain validation (rustls-webpki).
//! - [`verify`]: per-signature checks, difference analysis, the report.
//!
//! The CLI (`src/main.rs`, `src/cli/`) is a thin shell over these.

pub mod api;
pub mod archive;
pub mod config;
pub mod consistency;
pub mod document;
pub mod filing;
pub mod error;
pub mod licence;
pub mod pades;
pub mod pki;
pub mod proofs;
pub mod trust;
pub mod verify;

pub use error::{Error, Result};
