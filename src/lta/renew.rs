//! `archive renew` (ETSI EN 319 142-1 §5.5, ETSI EN 319 102-1 §5.6.2.4): every due record gets a
//! DSS update with fresh CRLs and one more document timestamp, filed as a new record that
//! `renews` the old one; the old bytes stay and the log grows.
//!
//! The work of one record (read and fixity check, the lazy read of the dozen objects an update
//! rewrites, the DSS update and the timestamp revision written into the record's own buffer, the
//! digest of the byte range) depends on no other record and runs on every core
//! (`parallel::ordered_ahead`). Tokens are issued and the new records filed on the calling thread,
//! in record order, in groups of `batch`: one TSA-ledger sync, one archive commit and one flush
//! each, while the workers prepare the next group. A group is acknowledged once durable; a run
//! killed part-way keeps the groups it acknowledged, and a rerun renews the rest (a renewed record
//! is no longer current), so each record is renewed once.
//!
//! Each record's bytes are hashed once: the fixity check's SHA-256 state goes on over the two
//! revisions (up to /Contents: shared by the byte range and the new file), and after the token
//! over its slot and the tail only (the new record's fixity).
//!
//! Knows the archive's records and metadata; reads and writes PDFs only through `pades`.

use super::{current, ends_by, parse_rfc3339, tsa_material, tsa_until, Material, Renewal, FORMAT_VERSION};
use crate::archive::{Archive, Metadata, Record};
use crate::config::Home;
use crate::error::{ArchiveError, Error, Result};
use crate::pades::doc_timestamp::{self, Hashed, Prepared};
use crate::pki::tsa::{StampRequest, Tsa};

/// (old id, new id) of each record renewed.
pub type Pairs = [(String, String)];

/// Records per durable group by default (one TSA-ledger sync, one archive commit and flush each).
pub const BATCH: usize = 1024;

/// Room reserved after a record's bytes for the two revisions (the DSS update with the TSA's
/// certificates and a CRL; the document timestamp with its 8 KiB token slot): appending them
/// then moves nothing.
const SPARE: usize = 24 * 1024;

/// One due record read, checked and extended by both revisions, waiting for its token.
fn prepare(archive: &Archive, rec: &Record, m: &Material) -> Result<Prepared> {
    let (bytes, state) = archive.verified_bytes_hashed(rec, SPARE)?;
    let len = bytes.len();
    let head = crate::pades::write::head(&bytes)?;
    let (bytes, head) = crate::pades::ltv::append_to(bytes, head, &m.certs, &m.crls)?;
    doc_timestamp::prepare_hashed(head, Hashed { bytes, state, len }, &[])
}

/// Issue the group's tokens (one ledger sync), finish its files and file them (one commit, one
/// flush): the (old id, new id) pairs, durable.
fn file_group(
    home: &Home,
    archive: &Archive,
    tsa: &Tsa,
    until: &str,
    group: Vec<(&Record, Prepared)>,
) -> Result<Vec<(String, String)>> {
    let reqs: Vec<StampRequest<'_>> = group
        .iter()
        .map(|(_, p)| StampRequest {
            hash: const_oid::db::rfc5912::ID_SHA_256,
            digest: &p.digest,
            nonce: None,
            cert_req: true,
            requester: "archive renew",
        })
        .collect();
    let tokens = tsa.stamp_many(&reqs)?;
    let (mut files, mut shas, mut olds) = (Vec::new(), Vec::new(), Vec::new());
    for ((rec, p), t) in group.into_iter().zip(tokens) {
        let (bytes, sha) = p.finish_hashed(&t.token)?;
        files.push(bytes);
        shas.push(sha);
        olds.push(rec);
    }
    let batch: Vec<(&[u8], Metadata)> = files
        .iter()
        .zip(&olds)
        .map(|(b, r)| {
            let mut m = r.metadata.clone();
            m.renews = r.id.clone();
            m.timestamp_until = until.to_string();
            m.format_version = FORMAT_VERSION.into();
            (b.as_slice(), m)
        })
        .collect();
    let filed = crate::filing::append_verified_hashed(home, archive, batch, Some(&shas))?;
    archive.flush()?;
    Ok(olds.iter().zip(filed).map(|(r, f)| (r.id.clone(), f.record.id)).collect())
}

/// `archive renew`: re-timestamp every current record whose newest timestamp's TSA certificate
/// ends within `before_days` days (of the clock), filing each result as a new record that
/// `renews` the old one, in durable groups of `batch` records. `filed(pairs)` after each group
/// is durable, with its (old id, new id) pairs; `progress(done, due)` after each group.
pub fn renew(
    home: &Home,
    archive: &Archive,
    before_days: i64,
    batch: usize,
    progress: &mut dyn FnMut(usize, usize),
    filed: &mut dyn FnMut(&Pairs),
) -> Result<Renewal> {
    let tsa = Tsa::load(home)?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let records: Vec<Record> = archive.list().into_iter().collect::<Result<_>>()?;
    let current = current(&records);
    let limit = now.saturating_add(before_days.saturating_mul(86_400));
    let due: Vec<&Record> = current.iter().copied().filter(|r| ends_by(r, limit)).collect();
    let tsa_end = tsa_until(&tsa);
    let mut report = Renewal { examined: current.len(), until: tsa_end.clone(), ..Default::default() };
    if due.is_empty() {
        return Ok(report);
    }
    if parse_rfc3339(&tsa_end).is_some_and(|u| u <= limit) {
        return Err(crate::error::TsaError::EndsSoon { until: tsa_end }.into());
    }
    let material = tsa_material(home, &tsa);
    report.until.clone_from(&material.until);
    let (total, batch) = (due.len(), batch.max(1));
    let mut group: Vec<(&Record, Prepared)> = Vec::with_capacity(batch);
    let mut failed: Option<Error> = None;
    let mut file = |group: &mut Vec<(&Record, Prepared)>, report: &mut Renewal| -> Result<()> {
        let pairs = file_group(home, archive, &tsa, &material.until, std::mem::take(group))?;
        filed(&pairs);
        report.renewed.extend(pairs);
        progress(report.renewed.len(), total);
        Ok(())
    };
    // Workers run at most one group ahead of the group being filed (bounded memory).
    crate::parallel::ordered_ahead(
        due.clone(),
        crate::parallel::default_threads(),
        batch,
        |_, rec| prepare(archive, rec, &material),
        |i, prepared| {
            if failed.is_some() {
                return false;
            }
            let step = prepared.and_then(|p| {
                let rec =
                    due.get(i).copied().ok_or_else(|| ArchiveError::Store("renewal out of order".into()))?;
                group.push((rec, p));
                if group.len() >= batch {
                    file(&mut group, &mut report)?;
                }
                Ok(())
            });
            if let Err(e) = step {
                failed = Some(e);
            }
            failed.is_none()
        },
    );
    if let Some(e) = failed {
        return Err(e);
    }
    if !group.is_empty() {
        file(&mut group, &mut report)?;
    }
    crate::filing::sign_tree_head(home, archive)?;
    Ok(report)
}
