//! Licences: issuing (render, first seal, joint seals), the lifecycle after issue (变更 change,
//! 延续 renew, 补发/换发 reissue, 注销 cancel, 吊销 revoke, suspend/resume), and licence status
//! (the status index, signed status answers, the signed offline status list).
//!
//! Files: `issue` (document → pades), `lifecycle` (authorise a transition, seal the new version,
//! file both in the archive log), `transition` (states, actions and the transition entry),
//! `status` (the status index kept beside the archive records, and the lookups), `status_audit`
//! (the audit's check of every transition), `status_source` (the archive as a status source for
//! `verify`), `answer` (the signed online status answer, a JWS), `status_list` (the signed
//! offline snapshot), `retrieval` (the exact 1-bit-per-licence table the list carries), `batch`
//! (bulk issuance on every core) and its resumable `journal`, `presentation` (亮证: a short-lived
//! signed presentation of chosen fields, shown as a QR code).
//!
//! Licence status is not certificate status: a department's key may be perfectly good while the
//! licence it sealed has been cancelled. See docs/standards.md "Licence status".

pub mod answer;
pub mod batch;
pub mod external;
mod handles;
mod issue;
mod journal;
pub mod lifecycle;
pub mod presentation;
pub mod retrieval;
pub mod status;
pub mod status_audit;
pub mod status_list;
pub mod status_source;
pub mod transition;

pub use issue::{
    add_seal, check_output, issue, issue_version, next_seal, read_data, render_and_seal, write_output, Added,
    Issued, NextSeal, Prepared,
};
pub use journal::Done;
