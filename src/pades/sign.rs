//! Sealing: add one visible seal + PAdES signature to a PDF as an incremental update. Earlier bytes
//! are never rewritten; the new revision holds the signature dictionary, the widget with its red
//! seal appearance, and updated page / AcroForm / catalog objects. /ByteRange covers the whole file
//! except the /Contents hex string, which is filled with the CMS after hashing.
//!
//! ISO 32000-1 §7.5.6 (incremental updates), §12.8 (signatures); ETSI EN 319 142-1 (PAdES B-B).

use std::collections::BTreeMap;
use std::io::Write;

use lopdf::{dictionary, Dictionary, Document, Object, ObjectId};

use super::cms;
use super::write::Head;
use crate::document::metadata::text_object;
use crate::document::render::pdf_date;
use crate::document::Rect;
use crate::error::{PdfError, Result};
use crate::pki::SealSigner;

/// Bytes reserved for the CMS (hex doubles it). The chain of three P-256 certificates and the
/// signed attributes take about 2.0–2.5 KiB; the rest leaves room for a timestamp later (B-T).
/// Every reserved byte costs verification time (the parser reads the hex), so it stays small.
pub const CONTENTS_RESERVED: usize = 6 * 1024;
const HEX: &[u8; 16] = b"0123456789ABCDEF";
/// Width of the patched /ByteRange numbers.
const BR_WIDTH: usize = 10;

/// What one seal needs.
pub struct SealRequest<'a> {
    pub signer: &'a SealSigner,
    pub rect: Rect,
    /// Unique field name (/T).
    pub field_name: String,
    pub reason: String,
    pub location: String,
    /// Certify the document (DocMDP P=2: only further signatures allowed). First seal only.
    pub certify: bool,
    /// Lock the document after this seal (FieldMDP /Lock over every field but the reserved
    /// annotation field): nothing may follow except an annotated copy's seal.
    pub lock: bool,
    /// What the widget shows.
    pub appearance: Appearance<'a>,
    /// Extra entries of the signature dictionary (signed with it), e.g. the 加注件 items.
    pub extra: Vec<(&'static str, Object)>,
}

/// The widget's appearance: the signer's round red seal, or an annotated copy's watermark (which
/// includes the signer's seal).
pub enum Appearance<'a> {
    Seal,
    Watermark { headline: &'a str, detail: &'a str },
}

/// Object ids for new objects, counting up from the old /Size.
struct Alloc {
    next: u32,
    objects: BTreeMap<ObjectId, Object>,
}

impl Alloc {
    fn add(&mut self, o: Object) -> ObjectId {
        let id = (self.next, 0);
        self.next += 1;
        self.objects.insert(id, o);
        id
    }
}

/// Load a PDF for sealing (not encrypted, has a catalog and a first page).
pub fn load(pdf: &[u8]) -> Result<Document> {
    super::parse::load(pdf)
}

/// Seal `pdf` and return the new file: old bytes, the sealing revision, then (PAdES B-LT) a
/// validation-data revision with the seal's chain and CRLs issued after its timestamp (`ltv`).
pub fn seal(pdf: &[u8], req: &SealRequest<'_>) -> Result<Vec<u8>> {
    seal_from(super::write::head(pdf)?, pdf, req)
}

/// [`seal`] of a file whose [`Head`] the caller holds (a licence just written by
/// `write::save_new`): neither the file nor the signed revision is parsed again.
pub fn seal_from(head: Head, pdf: &[u8], req: &SealRequest<'_>) -> Result<Vec<u8>> {
    let (signed, _, after) =
        revision_from(head, pdf, req, &mut |digest| cms::sign_detached(req.signer, digest))?;
    let (certs, crls) = validation_material(req.signer);
    if certs.is_empty() && crls.is_empty() {
        return Ok(signed);
    }
    super::ltv::append_from(signed, after, certs, &crls)
}

/// PAdES B-LT: append the seal's chain and CRLs issued after its timestamp to a signed file.
pub fn add_validation_data(signed: &[u8], signer: &SealSigner) -> Result<Vec<u8>> {
    let (certs, crls) = validation_material(signer);
    if certs.is_empty() && crls.is_empty() {
        return Ok(signed.to_vec());
    }
    super::ltv::append(signed, certs, &crls)
}

/// The signer's DSS certificates, and CRLs taken after the signature timestamp was issued: the
/// CRLs then speak about the signing time.
fn validation_material(signer: &SealSigner) -> (&[Vec<u8>], Vec<Vec<u8>>) {
    let after = time::OffsetDateTime::now_utc().unix_timestamp();
    (&signer.dss_certs, signer.crls_issued_since(after))
}

/// Makes the CMS for the SHA-256 of a revision's byte range (empty: leave /Contents zeroed, as
/// two-step signing does until the signature value arrives: `pades::external`).
pub type MakeCms<'m> = dyn FnMut(&[u8; 32]) -> Result<Vec<u8>> + 'm;

/// The sealing revision alone (what the seal's byte range covers), and the offset of its
/// /Contents hex string (the `<`).
pub fn seal_revision(
    pdf: &[u8],
    req: &SealRequest<'_>,
    make_cms: &mut MakeCms<'_>,
) -> Result<(Vec<u8>, usize)> {
    let (out, contents_pos, _) = revision_from(super::write::head(pdf)?, pdf, req, make_cms)?;
    Ok((out, contents_pos))
}

/// [`seal_revision`] from a parsed head; also returns the head of the signed file (for the
/// validation-data update that follows; its signature object is a placeholder).
fn revision_from(
    head: Head,
    pdf: &[u8],
    req: &SealRequest<'_>,
    make_cms: &mut MakeCms<'_>,
) -> Result<(Vec<u8>, usize, Head)> {
    let Head { doc, prev_xref, root: root_id, next } = head;
    let page_id = *doc.get_pages().get(&1).ok_or(PdfError::Missing("a page"))?;
    let mut alloc = Alloc { next, objects: BTreeMap::new() };

    // The visible seal: a form XObject with its own font subset (cached per department).
    let next = alloc.next;
    let ap_id = super::appearance::add(req, next, &mut |o| alloc.add(o))?;
    let sig_id = alloc.add(Object::Null); // placeholder: written by hand below
    if let Some(existing) = empty_field(&doc, &req.field_name) {
        let mut w = doc.get_dictionary(existing).map_err(|_| PdfError::Missing("signature field"))?.clone();
        w.set("V", sig_id);
        w.set("AP", dictionary! { "N" => ap_id });
        alloc.objects.insert(existing, Object::Dictionary(w));
        if req.certify {
            let mut catalog = doc.get_dictionary(root_id).map_err(|_| PdfError::Missing("catalog"))?.clone();
            catalog.set("Perms", dictionary! { "DocMDP" => sig_id });
            alloc.objects.insert(root_id, Object::Dictionary(catalog));
        }
        return write_revision(pdf, doc, alloc, sig_id, root_id, prev_xref, req, make_cms);
    }
    let mut widget = dictionary! {
        "Type" => "Annot", "Subtype" => "Widget", "FT" => "Sig",
        "T" => Object::string_literal(req.field_name.as_str()),
        "V" => sig_id, "P" => page_id, "F" => 132,
        "Rect" => vec![Object::Real(req.rect.x1), Object::Real(req.rect.y1), Object::Real(req.rect.x2), Object::Real(req.rect.y2)],
        "AP" => dictionary! { "N" => ap_id },
    };
    if req.lock {
        widget.set("Lock", crate::document::render::lock_dictionary());
    }
    let widget_id = alloc.add(Object::Dictionary(widget));

    // The page lists the widget among its annotations.
    let mut page = doc.get_dictionary(page_id).map_err(|_| PdfError::Missing("page dictionary"))?.clone();
    match page.get(b"Annots") {
        Ok(Object::Reference(r)) => {
            let mut arr = doc
                .get_object(*r)
                .and_then(Object::as_array)
                .map_err(|_| PdfError::Missing("/Annots array"))?
                .clone();
            arr.push(widget_id.into());
            alloc.objects.insert(*r, Object::Array(arr));
        }
        Ok(Object::Array(a)) => {
            let mut a = a.clone();
            a.push(widget_id.into());
            page.set("Annots", a);
            alloc.objects.insert(page_id, Object::Dictionary(page));
        }
        _ => {
            page.set("Annots", vec![widget_id.into()]);
            alloc.objects.insert(page_id, Object::Dictionary(page));
        }
    }

    // The AcroForm lists the field; the catalog points at the AcroForm (and at /Perms when certifying).
    let mut catalog = doc.get_dictionary(root_id).map_err(|_| PdfError::Missing("catalog"))?.clone();
    let mut catalog_changed = false;
    match catalog.get(b"AcroForm") {
        Ok(Object::Reference(r)) => {
            let r = *r;
            let mut form =
                doc.get_dictionary(r).map_err(|_| PdfError::Missing("/AcroForm dictionary"))?.clone();
            add_field(&doc, &mut form, widget_id, &mut alloc.objects)?;
            alloc.objects.insert(r, Object::Dictionary(form));
        }
        Ok(Object::Dictionary(f)) => {
            let mut form = f.clone();
            add_field(&doc, &mut form, widget_id, &mut alloc.objects)?;
            catalog.set("AcroForm", form);
            catalog_changed = true;
        }
        _ => {
            let form = alloc
                .add(Object::Dictionary(dictionary! { "Fields" => vec![widget_id.into()], "SigFlags" => 3 }));
            catalog.set("AcroForm", form);
            catalog_changed = true;
        }
    }
    if req.certify {
        catalog.set("Perms", dictionary! { "DocMDP" => sig_id });
        catalog_changed = true;
    }
    if catalog_changed {
        alloc.objects.insert(root_id, Object::Dictionary(catalog));
    }

    write_revision(pdf, doc, alloc, sig_id, root_id, prev_xref, req, make_cms)
}

/// The unsigned signature field called `name` listed in the AcroForm, if any.
pub fn empty_field(doc: &Document, name: &str) -> Option<ObjectId> {
    let catalog = doc.catalog().ok()?;
    let form = match catalog.get(b"AcroForm").ok()? {
        Object::Reference(r) => doc.get_dictionary(*r).ok()?,
        Object::Dictionary(d) => d,
        _ => return None,
    };
    let fields = match form.get(b"Fields").ok()? {
        Object::Reference(r) => doc.get_object(*r).ok()?.as_array().ok()?,
        Object::Array(a) => a,
        _ => return None,
    };
    fields.iter().filter_map(|f| f.as_reference().ok()).find(|id| {
        doc.get_dictionary(*id)
            .map(|d| {
                d.get(b"V").is_err()
                    && d.get(b"T").ok().and_then(|t| t.as_str().ok()) == Some(name.as_bytes())
            })
            .unwrap_or(false)
    })
}

/// Add signature field `widget` to the AcroForm `form` (and set /SigFlags 3): into its /Fields
/// array, written to `objects` when that array is an indirect object. Seals and document
/// timestamps (`doc_timestamp`) both use it.
pub(super) fn add_field(
    doc: &Document,
    form: &mut Dictionary,
    widget: ObjectId,
    objects: &mut BTreeMap<ObjectId, Object>,
) -> Result<()> {
    form.set("SigFlags", 3);
    match form.get(b"Fields") {
        Ok(Object::Reference(r)) => {
            let mut arr = doc
                .get_object(*r)
                .and_then(Object::as_array)
                .map_err(|_| PdfError::Missing("/Fields array"))?
                .clone();
            arr.push(widget.into());
            objects.insert(*r, Object::Array(arr));
        }
        Ok(Object::Array(a)) => {
            let mut a = a.clone();
            a.push(widget.into());
            form.set("Fields", a);
        }
        _ => form.set("Fields", vec![widget.into()]),
    }
    Ok(())
}

fn sig_dict_text(req: &SealRequest<'_>) -> Result<String> {
    let mut text = Vec::new();
    let mut field = |k: &str, v: Object| -> Result<()> {
        write!(text, "/{k} ").map_err(|e| PdfError::Parse(e.to_string()))?;
        super::write::write_object(&mut text, &v);
        text.push(b' ');
        Ok(())
    };
    field("M", Object::string_literal(pdf_date(time::OffsetDateTime::now_utc())))?;
    field("Name", text_object(&req.signer.department.name))?;
    field("Reason", text_object(&req.reason))?;
    field("Location", text_object(&req.location))?;
    field(
        "Prop_Build",
        Object::Dictionary(
            dictionary! { "App" => dictionary! { "Name" => "zhengyin", "REx" => Object::string_literal(env!("CARGO_PKG_VERSION")) } },
        ),
    )?;
    if req.certify {
        field(
            "Reference",
            Object::Array(vec![Object::Dictionary(dictionary! {
                "Type" => "SigRef", "TransformMethod" => "DocMDP",
                "TransformParams" => dictionary! { "Type" => "TransformParams", "P" => 2, "V" => "1.2" },
            })]),
        )?;
    }
    if req.lock {
        // ISO 32000-2 §12.8.2.4: FieldMDP matching the field's /Lock (all fields but the
        // reserved annotation field).
        let mut params = crate::document::render::lock_dictionary();
        params.set("Type", "TransformParams");
        params.set("V", "1.2");
        field(
            "Reference",
            Object::Array(vec![Object::Dictionary(dictionary! {
                "Type" => "SigRef", "TransformMethod" => "FieldMDP", "TransformParams" => params,
            })]),
        )?;
    }
    for (k, v) in &req.extra {
        field(k, v.clone())?;
    }
    String::from_utf8(text).map_err(|e| PdfError::Parse(e.to_string()).into())
}

/// Serialise the new objects, the xref section and trailer; then fill /ByteRange and /Contents.
#[allow(clippy::too_many_arguments)]
fn write_revision(
    pdf: &[u8],
    doc: Document,
    alloc: Alloc,
    sig_id: ObjectId,
    root: ObjectId,
    prev_xref: usize,
    req: &SealRequest<'_>,
    make_cms: &mut MakeCms<'_>,
) -> Result<(Vec<u8>, usize, Head)> {
    let io = |e: std::io::Error| PdfError::Parse(e.to_string());
    // Room for this revision (appearance, signature dictionary, /Contents) and a DSS update
    // after it, so that the copy of `pdf` is not copied again as the file grows.
    let mut out = Vec::with_capacity(pdf.len() + 2 * CONTENTS_RESERVED + 32 * 1024);
    out.extend_from_slice(pdf);
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    let mut offsets = BTreeMap::new();
    let (mut br_pos, mut contents_pos) = (0usize, 0usize);
    for (id, obj) in &alloc.objects {
        offsets.insert(id.0, out.len());
        writeln!(out, "{} {} obj", id.0, id.1).map_err(io)?;
        if *id == sig_id {
            out.extend_from_slice(b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached ");
            out.extend_from_slice(sig_dict_text(req)?.as_bytes());
            out.extend_from_slice(b"/ByteRange [");
            br_pos = out.len();
            out.extend_from_slice(format!("{:<w$}", "0 0 0 0", w = 4 * (BR_WIDTH + 1)).as_bytes());
            out.extend_from_slice(b"] /Contents ");
            contents_pos = out.len();
            out.push(b'<');
            out.extend(std::iter::repeat_n(b'0', CONTENTS_RESERVED * 2));
            out.extend_from_slice(b"> >>");
        } else {
            super::write::write_object(&mut out, obj);
        }
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref_pos = super::write::finish_update(&mut out, &offsets, &doc, root, prev_xref, alloc.next)?;

    // Patch /ByteRange, hash the two ranges, sign, fill /Contents.
    let gap_end = contents_pos + 2 + CONTENTS_RESERVED * 2;
    let br = format!("0 {contents_pos} {gap_end} {}", out.len() - gap_end);
    let slot = out.get_mut(br_pos..br_pos + 4 * (BR_WIDTH + 1)).ok_or(PdfError::Missing("ByteRange slot"))?;
    slot.fill(b' ');
    slot.get_mut(..br.len()).ok_or(PdfError::Missing("ByteRange slot"))?.copy_from_slice(br.as_bytes());
    // Licences of one batch begin alike: the hash of their shared first bytes is kept.
    let mut ctx = super::prefix_hash::context_after(&out[..contents_pos]);
    ctx.update(&out[gap_end..]);
    let mut digest = [0u8; 32];
    digest.copy_from_slice(ctx.finish().as_ref());
    let cms = make_cms(&digest)?;
    fill_contents(&mut out, contents_pos, &cms)?;
    let after = super::write::head_after(doc, alloc.objects, root, xref_pos, alloc.next);
    Ok((out, contents_pos, after))
}

/// Write `cms` as hex into the zeroed /Contents string that starts (`<`) at `contents_pos`.
pub fn fill_contents(out: &mut [u8], contents_pos: usize, cms: &[u8]) -> Result<()> {
    if cms.len() > CONTENTS_RESERVED {
        return Err(PdfError::SignatureTooLarge { needed: cms.len(), reserved: CONTENTS_RESERVED }.into());
    }
    let start = contents_pos.checked_add(1).ok_or(PdfError::Missing("/Contents slot"))?;
    let slot = out.get_mut(start..start + 2 * cms.len()).ok_or(PdfError::Missing("/Contents slot"))?;
    for (pair, b) in slot.chunks_exact_mut(2).zip(cms) {
        pair.copy_from_slice(&[HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
    }
    Ok(())
}
