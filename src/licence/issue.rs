//! Issuing a licence (a new one, or a new version of one for the lifecycle): check the data against the template, render the PDF, apply the first seal of
//! the issuing department, and write the result without ever leaving a partial file.
//!
//! The one place where `document` and `pades` meet for issuance; the CLI and HTTP call it.

use std::path::Path;

use crate::config::Home;
use crate::document::{self, RenderInput, Template};
use crate::error::{DataError, Result, SealError};
use crate::pades::{self, SealRequest};
use crate::pki::SealSigner;
use crate::trust::TrustStore;
use crate::verify::report::Indication;

/// A sealed licence.
pub struct Issued {
    pub pdf: Vec<u8>,
    pub identifier: String,
    pub template: String,
    pub sealed_by: String,
    pub verify_url: String,
    /// The GB/T 36903 items put in it.
    pub metadata: document::LicenceMetadata,
}

/// Issue a licence from `template` and JSON `data`, sealed by `seal` (or the template's default).
pub fn issue(home: &Home, template: &str, data: &serde_json::Value, seal: Option<&str>) -> Result<Issued> {
    issue_version(home, template, data, seal, None, 1)
}

/// [`issue`] with a given identifier serial and version: the lifecycle's new versions keep the
/// serial (same identifier stem) and count the version up (`lifecycle`). `None`: a new serial.
pub fn issue_version(
    home: &Home,
    template: &str,
    data: &serde_json::Value,
    seal: Option<&str>,
    serial: Option<&str>,
    version: u16,
) -> Result<Issued> {
    Prepared::new(home, template, seal)?.issue(data, serial, version)
}

/// Everything an issue needs that does not depend on the data: the region, template, issuing
/// department and its loaded key, the seal plan, with the authority checked once. Bulk issuance
/// prepares once and issues many (`licence::batch`).
pub struct Prepared {
    region: crate::config::RegionConfig,
    template: Template,
    dept: crate::config::Department,
    plan: Vec<crate::config::Department>,
    signer: SealSigner,
}

impl Prepared {
    /// Load and check what issuing `template` sealed by `seal` (or the plan's first) needs.
    pub fn new(home: &Home, template: &str, seal: Option<&str>) -> Result<Prepared> {
        let region = home.region()?;
        let t = Template::load(home, template)?;
        let plan = t.plan();
        let first = plan.first().cloned().unwrap_or_else(|| t.default_seal.clone());
        let dept_id = seal.unwrap_or(first.as_str());
        let dept = region.department(dept_id)?.clone();
        // Authority (region.toml [authority]): internal templates and unlisted departments are refused.
        crate::config::authority::Authority::from_home(
            home,
            &region,
            &crate::proofs::uses::UseList::load(home)?,
        )?
        .may_issue(template, dept_id)?;
        let mut plan = plan.iter().map(|id| region.department(id).cloned()).collect::<Result<Vec<_>>>()?;
        if let Some(first) = plan.first_mut() {
            *first = dept.clone();
        }
        let signer = SealSigner::load(home, dept_id)?;
        Ok(Prepared { region, template: t, dept, plan, signer })
    }

    /// Check `data` against the template, render and seal: one licence.
    pub fn issue(&self, data: &serde_json::Value, serial: Option<&str>, version: u16) -> Result<Issued> {
        self.issue_with(data, serial, version, None)
    }

    /// The issuing department's seal certificate (DER) and whether its seals are time-stamped.
    pub fn seal_certificate(&self) -> (&[u8], bool) {
        (&self.signer.cert, self.signer.tsa.is_some())
    }

    /// Write the TSA ledger's lines without a sync per token until [`Self::sync_ledger`], which
    /// the caller runs before any licence made since leaves the process (bulk issuance: once per
    /// durable group).
    pub fn defer_ledger_sync(&self) {
        if let Some(tsa) = &self.signer.tsa {
            tsa.defer_ledger_sync();
        }
    }

    /// Make the TSA ledger lines of every licence made so far durable.
    pub fn sync_ledger(&self) -> Result<()> {
        self.signer.tsa.as_ref().map_or(Ok(()), |tsa| tsa.sync_ledger())
    }

    /// The issuing department's id.
    pub fn department(&self) -> &str {
        &self.dept.id
    }

    /// The characters every licence of this template and plan prints: the base of a subset
    /// shared by many licences ([`Self::issue_with`]).
    pub fn template_chars(&self) -> std::collections::BTreeSet<char> {
        document::render::template_chars(&self.template, &self.plan, &self.region.region)
    }

    /// [`Self::issue`] drawing with `font`, a subset shared by many licences (bulk issuance).
    pub fn issue_with(
        &self,
        data: &serde_json::Value,
        serial: Option<&str>,
        version: u16,
        font: Option<std::sync::Arc<document::font::SharedFont>>,
    ) -> Result<Issued> {
        let (t, dept) = (&self.template, &self.dept);
        let data = t.check(data)?;
        let now = document::china_time(time::OffsetDateTime::now_utc().unix_timestamp());
        let issue_date = document::china_date(now.unix_timestamp());
        // Serial: issue date + 10 random [0-9A-Z] characters (unique without shared state).
        let rnd = document::render::random_bytes::<10>()?;
        let fresh = format!(
            "{:04}{:02}{:02}{}",
            now.year(),
            u8::from(now.month()),
            now.day(),
            rnd.iter()
                .map(|b| char::from(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[usize::from(*b % 36)]))
                .collect::<String>()
        );
        let serial = serial.map(str::to_string).unwrap_or(fresh);
        let input = RenderInput {
            template: t,
            data: &data,
            issuer: dept,
            region: &self.region.region,
            issue_date,
            serial,
            version,
            plan: self.plan.clone(),
        };
        let (pdf, rendered) =
            render_and_seal_with(&input, &self.signer, format!("{}签发{}", dept.name, t.name), font)?;
        Ok(Issued {
            pdf,
            identifier: rendered.id.to_string(),
            template: t.id.clone(),
            sealed_by: dept.id.clone(),
            verify_url: rendered.verify_url,
            metadata: rendered.metadata,
        })
    }
}

/// Render a document and apply its first seal, which certifies it (DocMDP P=2) in the first
/// planned field. Licences and proofs both start this way.
pub fn render_and_seal(
    input: &RenderInput<'_>,
    signer: &SealSigner,
    reason: String,
) -> Result<(Vec<u8>, document::RenderedLicence)> {
    render_and_seal_with(input, signer, reason, None)
}

/// [`render_and_seal`] drawing with a shared font subset, when given.
fn render_and_seal_with(
    input: &RenderInput<'_>,
    signer: &SealSigner,
    reason: String,
    font: Option<std::sync::Arc<document::font::SharedFont>>,
) -> Result<(Vec<u8>, document::RenderedLicence)> {
    let (doc, mut rendered) = document::render::render_doc_with(input, font)?;
    let request = SealRequest {
        signer,
        rect: document::seal_slot(0, input.plan.len()),
        field_name: document::seal_field_name(0, &input.issuer.id),
        reason,
        location: input.region.name.clone(),
        certify: true,
        lock: false,
        appearance: pades::Appearance::Seal,
        extra: Vec::new(),
    };
    // Written by zhengyin's own writer, the file's objects are the in-memory ones: the seal is
    // added without parsing the file back (lopdf's writer, the fallback, renumbers nothing but
    // adds an xref stream, so its output is parsed).
    let pdf = if pades::write::numbered_densely(&doc) {
        let (unsigned, head) = pades::write::save_new(doc)?;
        pades::sign::seal_from(head, &unsigned, &request)?
    } else {
        let mut doc = doc;
        doc.save_to(&mut rendered.pdf).map_err(|e| crate::error::PdfError::Parse(e.to_string()))?;
        pades::seal(&rendered.pdf, &request)?
    };
    Ok((pdf, rendered))
}

/// A seal added by [`add_seal`].
pub struct Added {
    pub pdf: Vec<u8>,
    /// Seals present after this one, and the plan's length.
    pub present: usize,
    pub required: usize,
    pub locked: bool,
}

/// Add department `dept`'s seal to a sealed document, following the seal plan it records:
/// existing signatures must verify, the department must be next in the plan and not have sealed.
pub fn add_seal(home: &Home, pdf: &[u8], dept: &str) -> Result<Added> {
    let next = next_seal(home, pdf, dept)?;
    let signer = SealSigner::load(home, dept)?;
    let out = pades::seal(pdf, &next.request(&signer))?;
    Ok(next.added(out))
}

/// The next seal of a document's plan, checked: which department, at which position.
pub struct NextSeal {
    department: crate::config::Department,
    location: String,
    /// Seals present before this one, and the plan's length.
    n: usize,
    required: usize,
}

impl NextSeal {
    /// The seal request for this position (the last one locks the document).
    pub fn request<'a>(&self, signer: &'a SealSigner) -> SealRequest<'a> {
        SealRequest {
            signer,
            rect: document::seal_slot(self.n, self.required),
            field_name: document::seal_field_name(self.n, &self.department.id),
            reason: format!("{}联合签章", self.department.name),
            location: self.location.clone(),
            certify: false,
            lock: self.n + 1 == self.required,
            appearance: pades::Appearance::Seal,
            extra: Vec::new(),
        }
    }

    /// What adding this seal gave.
    pub fn added(&self, pdf: Vec<u8>) -> Added {
        Added { pdf, present: self.n + 1, required: self.required, locked: self.n + 1 == self.required }
    }
}

/// Check that `dept` may add the next seal to `pdf`: every present signature verifies, the
/// seals so far follow the plan, and `dept` is next.
pub fn next_seal(home: &Home, pdf: &[u8], dept: &str) -> Result<NextSeal> {
    let region = home.region()?;
    let department = region.department(dept)?.clone();
    crate::pki::crl::refresh_due(home);
    let trust = TrustStore::from_home(home)?;
    let report = crate::verify::verify(pdf, &trust, std::time::SystemTime::now())?;
    let plan = report.seal_plan.as_ref().ok_or(SealError::NoPlan)?;
    let plan_text = plan.required.join(" → ");
    if let Some(bad) = report.signatures.iter().find(|s| s.indication != Indication::TotalPassed) {
        let reason = format!(
            "signature {} [{}]: {}{}",
            bad.index,
            bad.field,
            bad.indication.as_str(),
            bad.sub_indication.map(|s| format!(" / {s}")).unwrap_or_default()
        );
        return Err(SealError::ExistingInvalid { reason }.into());
    }
    if report.signatures.is_empty() {
        return Err(SealError::ExistingInvalid { reason: "the document has no signatures".into() }.into());
    }
    if !plan.in_order {
        return Err(SealError::OffPlan { present: plan.present.join(" → "), plan: plan_text }.into());
    }
    if plan.present.len() >= plan.required.len() {
        return Err(SealError::Complete { plan: plan_text }.into());
    }
    if plan.present.iter().any(|p| p == dept) {
        return Err(SealError::AlreadySealed { dept: dept.into() }.into());
    }
    if !plan.required.iter().any(|p| p == dept) {
        return Err(SealError::NotInPlan { dept: dept.into(), plan: plan_text }.into());
    }
    let n = plan.present.len();
    let Some(expected) = plan.required.get(n) else {
        return Err(SealError::Complete { plan: plan_text }.into());
    };
    if expected != dept {
        return Err(
            SealError::OutOfOrder { dept: dept.into(), expected: expected.clone(), plan: plan_text }.into()
        );
    }
    Ok(NextSeal { department, location: region.region.name.clone(), n, required: plan.required.len() })
}

/// Read a JSON data file with a clear error.
pub fn read_data(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(crate::error::io_at(path))?;
    serde_json::from_str(&text).map_err(|e| DataError::NotJson(format!("{}: {e}", path.display())).into())
}

/// Write `bytes` to `path` atomically: a temporary file in the same directory, then rename.
/// Whether `path` can take an output PDF: its directory exists and it is not a directory. Checked
/// before anything is filed, so a command that cannot write its output changes nothing.
pub fn check_output(path: &Path) -> std::result::Result<(), String> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(format!(
            "{}: the directory {} does not exist; nothing was changed",
            path.display(),
            dir.display()
        ));
    }
    if path.is_dir() {
        return Err(format!("{}: is a directory; nothing was changed", path.display()));
    }
    Ok(())
}

pub fn write_output(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(crate::error::io_at(dir))?;
    tmp.write_all(bytes).map_err(crate::error::io_at(path))?;
    tmp.as_file().sync_all().map_err(crate::error::io_at(path))?;
    tmp.persist(path).map_err(|e| crate::error::Error::Io { path: path.to_path_buf(), source: e.error })?;
    Ok(())
}
