//! PAdES B-LTA for the archive: document timestamps when a record is filed, and `archive renew`.
//! The place where `pades::doc_timestamp`, the region's TSA (`pki::tsa`) and the archive meet.
//!
//! - Filing a PDF adds a document timestamp over the whole file ([`stamp_all`]): the archive
//!   keeps, and the user gets, that B-LTA file. Before it, when the TSA's chain needs them, a DSS
//!   update adds the TSA certificate and the root's current CRL (`pades::ltv::append`).
//! - Renewal (ETSI EN 319 142-1 §5.5, ETSI EN 319 102-1 §5.6.2.4): a current record whose newest
//!   timestamp's TSA certificate, or the root CRL that its DSS carries for that certificate
//!   (valid a year, `pki::crl::ROOT_VALIDITY_DAYS`), ends within `before` days gets a DSS update with fresh CRLs and
//!   one more document timestamp, made while the older one is still valid, so the chain of
//!   timestamps keeps proving existence. The result is filed as a new record whose metadata names
//!   the old one (`renews`); the old bytes stay and the log grows ([`renew`], in `renew.rs`).
//!
//! A home without a TSA files B-LT records as before. Knows the archive's records and metadata;
//! reads PDFs only through `pades`.

mod renew;

pub use renew::{renew, BATCH};
use serde::Serialize;

use crate::archive::{Archive, Metadata, Record};
use crate::config::Home;
use crate::error::Result;
use crate::pades::doc_timestamp;
use crate::pki::tsa::{StampRequest, Tsa};

/// The format version filed for a B-LTA record.
pub const FORMAT_VERSION: &str = "PDF 1.7; ETSI EN 319 142-1 B-LTA";

/// The end of the TSA key's period of use, RFC 3339: its certificate's notBefore plus
/// [`TSA_KEY_USE_YEARS`](crate::pki::tsa::TSA_KEY_USE_YEARS), or the certificate's end
/// if sooner (what `renew` compares).
pub fn tsa_until(tsa: &Tsa) -> String {
    x509_parser::parse_x509_certificate(&tsa.cert)
        .map(|(_, c)| {
            let use_end = c
                .validity()
                .not_before
                .timestamp()
                .saturating_add(crate::pki::tsa::TSA_KEY_USE_YEARS.saturating_mul(365 * 86_400));
            crate::trust::rfc3339(use_end.min(c.validity().not_after.timestamp()))
        })
        .unwrap_or_default()
}

/// Validation material for new document timestamps.
struct Material {
    certs: Vec<Vec<u8>>,
    crls: Vec<Vec<u8>>,
    /// Until when a validator can check the new timestamps with it (RFC 3339): the end of the TSA
    /// certificate or the root CRL's nextUpdate, whichever comes first (what `renew` watches).
    until: String,
}

/// The TSA certificate, the root's, and the root's current CRL (re-signed now: revocation data
/// issued after the timestamps it speaks for). Offline validators accept the newest document
/// timestamp only while that CRL is current (`pki::crl::ROOT_VALIDITY_DAYS`).
fn tsa_material(home: &Home, tsa: &Tsa) -> Material {
    let mut certs = vec![tsa.cert.clone()];
    let mut crls = Vec::new();
    let mut until = tsa_until(tsa);
    if let Ok(region) = home.region() {
        let root = region.root().id.clone();
        if let Ok(mut c) = crate::pki::keys::read_certs_der(&home.ca_cert(&root)) {
            certs.append(&mut c);
        }
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        match crate::pki::crl::issued_since(home, &root, now.saturating_sub(60)) {
            Ok(crl) => {
                let next = x509_parser::parse_x509_crl(&crl)
                    .ok()
                    .and_then(|(_, l)| l.next_update())
                    .map(|n| crate::trust::rfc3339(n.timestamp()));
                if let Some(next) = next.filter(|n| until.is_empty() || *n < until) {
                    until = next;
                }
                crls.push(crl);
            }
            Err(e) => tracing::warn!(error = %e, "no root CRL for the document timestamp's DSS"),
        }
    }
    Material { certs, crls, until }
}

/// Add a document timestamp (after a DSS update with the TSA's validation material) to each of
/// `pdfs`, with one ledger sync for the whole batch. Returns the new files in order and until
/// when they can be validated offline ([`Material::until`]).
fn stamp_all(home: &Home, tsa: &Tsa, pdfs: &[&[u8]], requester: &str) -> Result<(Vec<Vec<u8>>, String)> {
    let Material { certs, crls, until } = tsa_material(home, tsa);
    let mut prepared = Vec::with_capacity(pdfs.len());
    for pdf in pdfs {
        // One read of the file: the timestamp revision builds on the DSS update's document.
        let head = crate::pades::write::head(pdf)?;
        let (with_dss, head) = crate::pades::ltv::append_to(pdf.to_vec(), head, &certs, &crls)?;
        prepared.push(doc_timestamp::prepare_on(head, &with_dss, &[])?);
    }
    let tokens = {
        let reqs: Vec<StampRequest<'_>> = prepared
            .iter()
            .map(|p| StampRequest {
                hash: const_oid::db::rfc5912::ID_SHA_256,
                digest: &p.digest,
                nonce: None,
                cert_req: true,
                requester,
            })
            .collect();
        tsa.stamp_many(&reqs)?
    };
    let files = prepared.into_iter().zip(tokens).map(|(p, t)| p.finish(&t.token)).collect::<Result<_>>()?;
    Ok((files, until))
}

/// Filing: the B-LTA form of each PDF that has no valid document timestamp yet (others, and
/// files already B-LTA, unchanged: filing the same B-LTA file twice finds the same record), and
/// the metadata naming the timestamp's end of validity. Without a TSA in the home, unchanged.
pub fn at_filing(
    home: &Home,
    archive: &Archive,
    docs: Vec<(Vec<u8>, Metadata)>,
) -> Result<Vec<(Vec<u8>, Metadata)>> {
    if docs.is_empty() {
        return Ok(docs);
    }
    let Some(tsa) = Tsa::load_optional(home)? else { return Ok(docs) };
    // A file already filed (as it is, or stamped under `received_sha256`), or met earlier in this
    // batch, is not stamped again: appending it finds the existing record.
    let shas: Vec<String> =
        docs.iter().map(|(b, _)| crate::hex::encode(&crate::pades::cms::sha256(b))).collect();
    let mut seen = std::collections::HashSet::new();
    let (pdfs, other): (Vec<_>, Vec<_>) = docs.into_iter().enumerate().partition(|(i, (b, m))| {
        let sha = shas[*i].as_str();
        let new = seen.insert(sha) && !archive.by_hash.contains_key(sha.as_bytes()).unwrap_or(false);
        new && m.format.starts_with("PDF") && m.timestamp_until.is_empty() && b.starts_with(b"%PDF")
    });
    let refs: Vec<&[u8]> = pdfs.iter().map(|(_, (b, _))| b.as_slice()).collect();
    let (stamped, until) = stamp_all(home, &tsa, &refs, "archive filing")?;
    let mut out: Vec<(usize, (Vec<u8>, Metadata))> = pdfs
        .into_iter()
        .zip(stamped)
        .map(|((i, (_, mut m)), b)| {
            m.received_sha256 = shas[i].clone();
            m.timestamp_until = until.clone();
            m.format_version = FORMAT_VERSION.into();
            (i, (b, m))
        })
        .collect();
    out.extend(other);
    out.sort_by_key(|(i, _)| *i);
    Ok(out.into_iter().map(|(_, d)| d).collect())
}

/// What `renew` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Renewal {
    /// Current records examined (records already renewed by a newer one are skipped).
    pub examined: usize,
    /// (old id, new id) of each renewed record.
    pub renewed: Vec<(String, String)>,
    /// Until when the new timestamps can be validated offline: the end of their TSA certificate
    /// or of the root CRL in their DSS, whichever comes first (the TSA certificate's end when
    /// nothing was due).
    pub until: String,
}

fn parse_rfc3339(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// The PDF records that are current (no newer record renews them); one without a document
/// timestamp yet (`timestamp_until` empty) is due for its first.
pub fn current(records: &[Record]) -> Vec<&Record> {
    let renewed: std::collections::HashSet<&str> =
        records.iter().map(|r| r.metadata.renews.as_str()).filter(|s| !s.is_empty()).collect();
    records
        .iter()
        .filter(|r| !renewed.contains(r.id.as_str()) && r.metadata.format.starts_with("PDF"))
        .collect()
}

/// Whether a record's newest timestamp ends by `limit` (Unix seconds; none yet, or unreadable, counts).
pub fn ends_by(r: &Record, limit: i64) -> bool {
    parse_rfc3339(&r.metadata.timestamp_until).is_none_or(|until| until <= limit)
}
