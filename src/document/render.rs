//! Rendering a licence PDF (A4) from a template and checked data: title, field rows, QR code,
//! issuer block with the seal places (seal_block.rs, GB/T 9704 §7.3.5.1), footer, Info + XMP
//! metadata and the PDF/A-2b output intent (pdfa.rs). Every text block is broken by the Chinese
//! line-breaking rules (linebreak.rs). The result is unsigned; the seal positions it reserves
//! (one empty signature field per planned seal) are where `pades` places the widgets.
//!
//! Knows nothing of signatures or keys. ISO 32000-1; ISO 19005-2; GB/T 36905 (file requirements).

use std::collections::BTreeSet;
use std::sync::Arc;

use lopdf::{dictionary, Document, Object, Stream};

use super::font::{SharedFont, TextEncoder};
use super::identifier::LicenceId;
use super::metadata::{text_object, LicenceMetadata};
use super::template::{LicenceData, Template};
use super::{fixed, linebreak, pdfa, qr, seal_block};
use crate::config::{Department, Region};
use crate::error::{PdfError, Result};

pub use super::seal_block::{seal_slot, SEAL_SIZE};

pub const PAGE_W: f32 = 595.28;
pub const PAGE_H: f32 = 841.89;
/// Info dictionary key holding the seal plan (comma-separated department ids, in order).
pub const SEAL_PLAN_KEY: &str = "ZYSealPlan";
/// Info key of the seal plan by region and USCC (`taian/11370900MB28570021,…`): what verifiers in
/// other regions check, where local ids mean nothing.
pub const SEAL_PLAN_IDS_KEY: &str = "ZYSealPlanIds";
/// The legal note of the footer when the template has none.
const DEFAULT_FOOTER: &str = "本证照加盖电子印章，与纸质证照具有同等法律效力。";
/// Left edge and width of the footer's small print.
const FOOTER_X: f32 = 48.0;
const FOOTER_W: f32 = 499.0;

/// The FieldMDP lock of the last planned seal (ISO 32000-2 §12.7.5.5): every field is locked
/// except the one reserved for the annotated copy, so "nothing may follow" but a 加注件.
pub fn lock_dictionary() -> lopdf::Dictionary {
    dictionary! {
        "Type" => "SigFieldLock", "Action" => "Exclude",
        "Fields" => vec![Object::string_literal(super::watermark::ANNOTATION_FIELD)],
    }
}

/// Name of the signature field for seal number `index` (0-based) by `dept`.
pub fn seal_field_name(index: usize, dept: &str) -> String {
    format!("Seal{}_{dept}", index + 1)
}

/// An unsigned licence and what was put in it.
pub struct RenderedLicence {
    pub pdf: Vec<u8>,
    pub id: LicenceId,
    pub metadata: LicenceMetadata,
    pub verify_url: String,
}

/// What `render` needs beyond the template and data.
pub struct RenderInput<'a> {
    pub template: &'a Template,
    pub data: &'a LicenceData,
    pub issuer: &'a Department,
    pub region: &'a Region,
    /// Issue date, `YYYY-MM-DD`.
    pub issue_date: String,
    /// Identifier serial (`[0-9A-Z]`).
    pub serial: String,
    /// Identifier version (1 at issue; the lifecycle's new versions count up: licence/lifecycle.rs).
    pub version: u16,
    /// Departments that will seal, in order (one empty signature field and one name each).
    pub plan: Vec<Department>,
}

struct Page {
    ops: String,
    enc: TextEncoder,
}

impl Page {
    fn text(&mut self, x: f32, y: f32, size: f32, s: &str) -> Result<()> {
        let g = self.enc.encode(s)?;
        // `BT /F1 {size:.1} Tf {x:.2} {y:.2} Td {g} Tj ET`, the numbers written from integers.
        let o = &mut self.ops;
        o.push_str("BT /F1 ");
        fixed::push(o, size, 1);
        o.push_str(" Tf ");
        fixed::push(o, x, 2);
        o.push(' ');
        fixed::push(o, y, 2);
        o.push_str(" Td ");
        o.push_str(&g);
        o.push_str(" Tj ET\n");
        Ok(())
    }
    fn centered(&mut self, y: f32, size: f32, s: &str) -> Result<()> {
        let w = self.enc.width(s, size);
        self.text((PAGE_W - w) / 2.0, y, size, s)
    }
    /// Break `s` into lines no wider than `width`, by the Chinese line-breaking rules.
    fn wrap(&self, s: &str, size: f32, width: f32) -> Vec<String> {
        linebreak::break_lines(s, width, &|c| self.enc.char_width(c, size))
    }
    /// Draw `s` from (x, y) down, broken into lines of `width`; returns the last baseline.
    fn block(&mut self, x: f32, y: f32, size: f32, lead: f32, width: f32, s: &str) -> Result<f32> {
        let mut y = y + lead;
        for line in self.wrap(s, size, width) {
            y -= lead;
            self.text(x, y, size, &line)?;
        }
        Ok(y)
    }
}

/// Format `YYYY-MM-DD` as `YYYY年MM月DD日`.
fn chinese_date(d: &str) -> String {
    let p: Vec<&str> = d.split('-').collect();
    match p.as_slice() {
        [y, m, day] => format!("{y}年{}月{}日", m.trim_start_matches('0'), day.trim_start_matches('0')),
        _ => d.to_string(),
    }
}

pub fn render(input: &RenderInput<'_>) -> Result<RenderedLicence> {
    let (mut doc, r) = render_doc(input)?;
    let mut pdf = Vec::new();
    doc.save_to(&mut pdf).map_err(|e| PdfError::Parse(e.to_string()))?;
    Ok(RenderedLicence { pdf, ..r })
}

/// [`render`] without writing the file: the document in memory (object numbers 1..=max_id, the
/// trailer's /Root, /Info and /ID set) and what was put in it (`pdf` left empty), for a caller
/// that writes and seals it without parsing it back (`licence::issue`).
pub fn render_doc(input: &RenderInput<'_>) -> Result<(Document, RenderedLicence)> {
    render_doc_with(input, None)
}

/// [`render_doc`] drawing with `shared`, a subset made for many licences (bulk issuance); a
/// licence with a character `shared` lacks is drawn with its own subset instead.
pub fn render_doc_with(
    input: &RenderInput<'_>,
    shared: Option<Arc<SharedFont>>,
) -> Result<(Document, RenderedLicence)> {
    let t = input.template;
    let d = input.data;
    let id = LicenceId::new(&t.type_code, &input.issuer.uscc, &input.serial, input.version)
        .map_err(PdfError::Parse)?;
    let verify_url = format!("{}?id={}", input.region.verify_base(), id);
    let metadata = LicenceMetadata {
        zzbs: id.to_string(),
        zzmc: t.name.clone(),
        zzlxdm: t.type_code.clone(),
        zzbh: d.get(&t.number_field).to_string(),
        zzbfjg: input.issuer.name.clone(),
        zzbfjgdm: input.issuer.uscc.clone(),
        zzbfrq: input.issue_date.clone(),
        czzt: d.get(&t.holder_field).to_string(),
        czztdm: d.get(&t.holder_code_field).to_string(),
        czztdmlx: holder_code_type_name(&t.holder_code_type).to_string(),
        czztdmlxdm: t.holder_code_type.clone(),
        zzyxqqsrq: t.valid_from_field.as_deref().map(|f| d.get(f).to_string()).unwrap_or_default(),
        zzyxqjzrq: t.valid_until_field.as_deref().map(|f| d.get(f).to_string()).unwrap_or_default(),
    };

    let with_shared = shared.is_some();
    let enc = match shared {
        Some(f) => TextEncoder::with_shared(f)?,
        None => TextEncoder::new()?,
    };
    let mut page = Page { ops: String::new(), enc };
    for f in t.fields.iter().filter(|f| f.shown) {
        page.enc.check(&f.label, &format!("label of `{}`", f.key))?;
        page.enc.check(d.get(&f.key), &format!("field `{}` ({})", f.key, f.label))?;
    }
    // Frame.
    page.ops
        .push_str("q 0.72 0.52 0.20 RG 2.4 w 28 28 539.28 785.89 re S 0.8 w 35 35 525.28 771.89 re S Q\n");
    page.ops.push_str("q 0.10 0.10 0.10 rg\n");
    page.centered(738.0, 34.0, &t.title)?;
    let (qr_ops, qr_image) = qr::draw(&verify_url, 458.0, 668.0, 84.0)?;
    page.ops.push_str(&qr_ops);
    page.text(478.0, 658.0, 8.0, "扫码核验")?;

    let (label_x, value_x, size) = (72.0, 200.0, 12.0);
    let bottom = seal_block::block_top(input.plan.len()) + 18.0;
    let mut y = 640.0;
    for f in t.fields.iter().filter(|f| f.shown) {
        let value = d.get(&f.key);
        if value.is_empty() {
            continue;
        }
        let value = match f.kind {
            super::template::FieldKind::Date | super::template::FieldKind::DateOrLongTerm => {
                chinese_date(value)
            }
            _ => value.to_string(),
        };
        let label_end = page.block(label_x, y, size, 18.0, value_x - label_x - 8.0, &f.label)?;
        let value_end = page.block(value_x, y, size, 18.0, PAGE_W - value_x - 72.0, &value)?;
        y = label_end.min(value_end) - 27.0;
        if y < bottom {
            return Err(PdfError::Parse(
                "the licence data does not fit on one page; shorten the longest fields".into(),
            )
            .into());
        }
    }
    // The issuer block: each planned department's name under its seal's place, the date under
    // the last (GB/T 9704 §7.3.5.1); a single issuer's name follows the template's label.
    let label = format!("{}：", t.issuer_label.as_deref().unwrap_or("发证机关"));
    let names: Vec<&str> = if input.plan.is_empty() {
        vec![input.issuer.name.as_str()]
    } else {
        input.plan.iter().map(|d| d.name.as_str()).collect()
    };
    let date = chinese_date(&input.issue_date);
    let enc = &page.enc;
    let placed = seal_block::issuer_block(&label, &names, &date, &|s, size| enc.width(s, size));
    for p in placed {
        page.text(p.x, p.y, p.size, &p.text)?;
    }
    if let Some(a) = &t.applicant {
        let (name_y, date_y) = seal_block::baselines();
        page.text(label_x, name_y, size, &format!("{}：{}", a.label, d.get(&a.field)))?;
        if let Some(f) = &a.date_field {
            page.text(label_x, date_y, size, &format!("日期：{}", chinese_date(d.get(f))))?;
        }
    }
    // Footer: the identifier, the legal note, and how to verify (the QR code or the address).
    let note = format!(
        "{}扫描右上角二维码，或打开 {} 输入电子证照标识，即可核验。",
        t.footer.as_deref().unwrap_or(DEFAULT_FOOTER),
        input.region.verify_url
    );
    let lines = page.wrap(&note, 7.0, FOOTER_W);
    let mut fy = 42.0 + 10.0 * lines.len() as f32;
    page.block(FOOTER_X, fy, 7.0, 10.0, FOOTER_W, &format!("电子证照标识：{id}"))?;
    for line in lines {
        fy -= 10.0;
        page.text(FOOTER_X, fy, 7.0, &line)?;
    }
    page.ops.push_str("Q\n");
    if with_shared && page.enc.missed() {
        return render_doc_with(input, None);
    }

    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font_id = {
        let enc = std::mem::replace(&mut page.enc, TextEncoder::new()?);
        enc.finish(&mut |o| doc.add_object(o))?
    };
    let mut content = Stream::new(dictionary! {}, page.ops.into_bytes());
    super::compress_fast(&mut content)?;
    let content_id = doc.add_object(content);
    let qr_id = doc.add_object(qr_image);
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), Object::Real(PAGE_W), Object::Real(PAGE_H)],
        "Resources" => dictionary! {
            "Font" => dictionary! { "F1" => font_id },
            "XObject" => dictionary! { qr::XOBJECT => qr_id },
        },
        "Contents" => content_id,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
        }),
    );
    // One empty signature field per planned seal, so later seals fill fields the first
    // (certifying) seal already covers: DocMDP P=2 allows signing existing fields, not adding them.
    let plan: Vec<&str> = input.plan.iter().map(|d| d.id.as_str()).collect();
    let blank = doc.add_object(Stream::new(dictionary! { "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 1.into(), 1.into()] }, Vec::new()));
    let mut fields = Vec::new();
    for (i, dept) in plan.iter().enumerate() {
        let r = seal_slot(i, plan.len());
        let mut w = dictionary! {
            "Type" => "Annot", "Subtype" => "Widget", "FT" => "Sig",
            "T" => Object::string_literal(seal_field_name(i, dept)),
            "P" => page_id, "F" => 132,
            "Rect" => vec![Object::Real(r.x1), Object::Real(r.y1), Object::Real(r.x2), Object::Real(r.y2)],
            "AP" => dictionary! { "N" => blank },
        };
        if plan.len() > 1 && i + 1 == plan.len() {
            w.set("Lock", lock_dictionary());
        }
        fields.push(Object::Reference(doc.add_object(w)));
    }
    // One more, reserved for the annotated copy (加注件), invisible until it is signed.
    let r = super::watermark::ANNOTATION_RECT;
    fields.push(Object::Reference(doc.add_object(dictionary! {
        "Type" => "Annot", "Subtype" => "Widget", "FT" => "Sig",
        "T" => Object::string_literal(super::watermark::ANNOTATION_FIELD),
        "P" => page_id, "F" => 132,
        "Rect" => vec![Object::Real(r.x1), Object::Real(r.y1), Object::Real(r.x2), Object::Real(r.y2)],
        "AP" => dictionary! { "N" => blank },
    })));
    if let Ok(Object::Dictionary(p)) = doc.get_object_mut(page_id) {
        p.set("Annots", fields.clone());
    }
    let acroform = doc.add_object(dictionary! { "Fields" => fields, "SigFlags" => 3 });
    let now = time::OffsetDateTime::now_utc();
    let created = xmp_date(now);
    let producer = format!("zhengyin {}", env!("CARGO_PKG_VERSION"));
    let xmp = Stream::new(
        dictionary! { "Type" => "Metadata", "Subtype" => "XML" },
        metadata.xmp(&producer, &created).into_bytes(),
    );
    let xmp_id = doc.add_object(xmp);
    let intents = pdfa::output_intents(&mut |o| doc.add_object(o))?;
    let catalog = doc.add_object(dictionary! {
        "Type" => "Catalog", "Pages" => pages_id, "Metadata" => xmp_id, "AcroForm" => acroform,
        "Lang" => Object::string_literal("zh-CN"),
        "OutputIntents" => intents,
        "ViewerPreferences" => dictionary! { "DisplayDocTitle" => true },
    });
    let mut info = dictionary! {
        "Title" => text_object(&format!("{} {}", metadata.zzmc, metadata.czzt)),
        "Author" => text_object(&metadata.zzbfjg),
        "Subject" => text_object(&metadata.zzmc),
        "Keywords" => text_object(&metadata.zzbs),
        "Creator" => text_object(&producer),
        "Producer" => text_object(&producer),
        "CreationDate" => Object::string_literal(pdf_date(now)),
    };
    for (tag, _, v) in metadata.items() {
        info.set(tag, text_object(v));
    }
    // The seal plan travels with the document so any verifier can tell whether it is complete.
    info.set(SEAL_PLAN_KEY, text_object(&plan.join(",")));
    // The same plan as `<region>/<USCC>`: what verifiers in other regions check.
    info.set(SEAL_PLAN_IDS_KEY, text_object(&input.region.plan_ids(&plan).join(",")));
    info.set("ZYTemplate", text_object(&t.id));
    let info_id = doc.add_object(info);
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info_id);
    let file_id = Object::String(random_bytes::<16>()?.to_vec(), lopdf::StringFormat::Hexadecimal);
    doc.trailer.set("ID", vec![file_id.clone(), file_id]);
    Ok((doc, RenderedLicence { pdf: Vec::new(), id, metadata, verify_url }))
}

/// The characters every licence of template `t` sealed by `plan` in `region` prints whatever
/// its data (title, labels, footer, department names, dates, the identifier's and address's
/// ASCII): the base of a subset shared by many licences ([`SharedFont`]). A character left out
/// costs nothing but speed: such a licence is drawn with its own subset.
pub fn template_chars(t: &Template, plan: &[Department], region: &Region) -> BTreeSet<char> {
    let mut out: BTreeSet<char> = (' '..='~').collect();
    let fixed = [
        t.title.as_str(),
        t.name.as_str(),
        t.issuer_label.as_deref().unwrap_or("发证机关"),
        t.footer.as_deref().unwrap_or(DEFAULT_FOOTER),
        region.verify_url.as_str(),
        "扫码核验",
        "电子证照标识：",
        "扫描右上角二维码，或打开 输入电子证照标识，即可核验。",
        "年月日期：",
    ];
    out.extend(fixed.iter().flat_map(|s| s.chars()));
    out.extend(t.fields.iter().flat_map(|f| f.label.chars()));
    out.extend(plan.iter().flat_map(|d| d.name.chars()));
    if let Some(a) = &t.applicant {
        out.extend(a.label.chars());
    }
    out
}

/// Name of a holder code type (GB/T 36903 practice; 990 for anything else).
pub fn holder_code_type_name(code: &str) -> &'static str {
    match code {
        "001" => "统一社会信用代码",
        "111" => "公民身份号码",
        "113" => "户口簿",
        "414" => "普通护照",
        _ => "其他",
    }
}

/// An XMP date `YYYY-MM-DDTHH:mm:SS+08:00`: the same instant and fields as [`pdf_date`], as
/// PDF/A asks of xmp:CreateDate and /CreationDate.
pub fn xmp_date(t: time::OffsetDateTime) -> String {
    let cst = super::china_time(t.unix_timestamp());
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+08:00",
        cst.year(),
        u8::from(cst.month()),
        cst.day(),
        cst.hour(),
        cst.minute(),
        cst.second()
    )
}

/// A PDF date string `D:YYYYMMDDHHmmSS+08'00'` in China Standard Time.
pub fn pdf_date(t: time::OffsetDateTime) -> String {
    let cst = super::china_time(t.unix_timestamp());
    format!(
        "D:{:04}{:02}{:02}{:02}{:02}{:02}+08'00'",
        cst.year(),
        u8::from(cst.month()),
        cst.day(),
        cst.hour(),
        cst.minute(),
        cst.second()
    )
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .map_err(|_| PdfError::Parse("no system randomness".into()))?;
    Ok(b)
}
