//! Rendering a licence PDF (A4) from a template and checked data: title, field rows, QR code,
//! issuer block, identifier footer, Info + XMP metadata. The result is unsigned; the seal
//! position it reserves is returned for `pades` to place the signature widget.
//!
//! Knows nothing of signatures or keys. ISO 32000-1; GB/T 36905 (file requirements).

use lopdf::{dictionary, Document, Object, Stream};

use super::font::TextEncoder;
use super::identifier::LicenceId;
use super::metadata::{text_object, LicenceMetadata};
use super::template::{LicenceData, Template};
use super::{qr, Rect};
use crate::config::{Department, Region};
use crate::error::{PdfError, Result};

pub const PAGE_W: f32 = 595.28;
pub const PAGE_H: f32 = 841.89;
/// Official round seals are 42 mm across: 119 points.
pub const SEAL_SIZE: f32 = 119.0;
/// Info dictionary key holding the seal plan (comma-separated department ids, in order).
pub const SEAL_PLAN_KEY: &str = "ZYSealPlan";
/// Info key of the seal plan by region and USCC (`taian/11370900MB28570021,…`): what verifiers in
/// other regions check, where local ids mean nothing.
pub const SEAL_PLAN_IDS_KEY: &str = "ZYSealPlanIds";

/// Where seal number `slot` (0 = first, at the issuer block) goes on the page.
pub fn seal_slot(slot: usize) -> Rect {
    let x = 392.0 - 128.0 * slot.min(3) as f32;
    Rect { x1: x, y1: 96.0, x2: x + SEAL_SIZE, y2: 96.0 + SEAL_SIZE }
}

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
    /// Departments that will seal, in order (one empty signature field each).
    pub plan: Vec<String>,
}

struct Page {
    ops: String,
    enc: TextEncoder,
}

impl Page {
    fn text(&mut self, x: f32, y: f32, size: f32, s: &str) -> Result<()> {
        let g = self.enc.encode(s)?;
        self.ops.push_str(&format!("BT /F1 {size:.1} Tf {x:.2} {y:.2} Td {g} Tj ET\n"));
        Ok(())
    }
    fn centered(&mut self, y: f32, size: f32, s: &str) -> Result<()> {
        let w = self.enc.width(s, size);
        self.text((PAGE_W - w) / 2.0, y, size, s)
    }
    /// Break `s` into lines no wider than `width`.
    fn wrap(&self, s: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = vec![String::new()];
        let mut w = 0.0;
        for ch in s.chars() {
            let cw = self.enc.char_width(ch, size);
            if w + cw > width && !lines.last().map(String::is_empty).unwrap_or(true) {
                lines.push(String::new());
                w = 0.0;
            }
            if let Some(l) = lines.last_mut() {
                l.push(ch);
            }
            w += cw;
        }
        lines
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
    let t = input.template;
    let d = input.data;
    let id = LicenceId::new(&t.type_code, &input.issuer.uscc, &input.serial, input.version)
        .map_err(PdfError::Parse)?;
    let verify_url = format!("{}?id={}", input.region.verify_url, id);
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

    let mut page = Page { ops: String::new(), enc: TextEncoder::new()? };
    for f in t.fields.iter().filter(|f| f.shown) {
        page.enc.check(&f.label, &format!("label of `{}`", f.key))?;
        page.enc.check(d.get(&f.key), &format!("field `{}` ({})", f.key, f.label))?;
    }
    // Frame.
    page.ops
        .push_str("q 0.72 0.52 0.20 RG 2.4 w 28 28 539.28 785.89 re S 0.8 w 35 35 525.28 771.89 re S Q\n");
    page.ops.push_str("q 0.10 0.10 0.10 rg\n");
    page.centered(738.0, 34.0, &t.title)?;
    page.ops.push_str(&qr::draw(&verify_url, 458.0, 668.0, 84.0)?);
    page.text(478.0, 658.0, 8.0, "扫码核验")?;

    let (label_x, value_x, size) = (72.0, 200.0, 12.0);
    let mut y = 640.0;
    for f in t.fields.iter().filter(|f| f.shown) {
        let value = d.get(&f.key);
        if value.is_empty() {
            continue;
        }
        page.text(label_x, y, size, &f.label)?;
        let value = match f.kind {
            super::template::FieldKind::Date | super::template::FieldKind::DateOrLongTerm => {
                chinese_date(value)
            }
            _ => value.to_string(),
        };
        let lines = page.wrap(&value, size, PAGE_W - value_x - 72.0);
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                y -= 18.0;
            }
            page.text(value_x, y, size, line)?;
        }
        y -= 27.0;
        if y < 250.0 {
            return Err(PdfError::Parse(
                "the licence data does not fit on one page; shorten the longest fields".into(),
            )
            .into());
        }
    }
    // Issuer block under the first seal slot.
    let slot = seal_slot(0);
    let cx = (slot.x1 + slot.x2) / 2.0;
    let issuer = format!("{}：{}", t.issuer_label.as_deref().unwrap_or("发证机关"), input.issuer.name);
    let date = chinese_date(&input.issue_date);
    let iw = page.enc.width(&issuer, 12.0);
    page.text((cx - iw / 2.0).min(PAGE_W - 60.0 - iw), 170.0, 12.0, &issuer)?;
    let dw = page.enc.width(&date, 12.0);
    page.text(cx - dw / 2.0, 148.0, 12.0, &date)?;
    page.text(48.0, 52.0, 7.0, &format!("电子证照标识：{id}"))?;
    page.text(
        48.0,
        42.0,
        7.0,
        t.footer.as_deref().unwrap_or(
            "本证照加盖电子印章，与纸质证照具有同等法律效力。可扫描二维码或使用 zhengyin verify 核验。",
        ),
    )?;
    page.ops.push_str("Q\n");

    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font_id = {
        let enc = std::mem::replace(&mut page.enc, TextEncoder::new()?);
        enc.finish(&mut |o| doc.add_object(o))?
    };
    let mut content = Stream::new(dictionary! {}, page.ops.into_bytes());
    super::compress(&mut content)?;
    let content_id = doc.add_object(content);
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), Object::Real(PAGE_W), Object::Real(PAGE_H)],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
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
    let plan = &input.plan;
    let blank = doc.add_object(Stream::new(dictionary! { "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 1.into(), 1.into()] }, Vec::new()));
    let mut fields = Vec::new();
    for (i, dept) in plan.iter().enumerate() {
        let r = seal_slot(i);
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
    let created = now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let producer = format!("zhengyin {}", env!("CARGO_PKG_VERSION"));
    let xmp = Stream::new(
        dictionary! { "Type" => "Metadata", "Subtype" => "XML" },
        metadata.xmp(&producer, &created).into_bytes(),
    );
    let xmp_id = doc.add_object(xmp);
    let catalog = doc.add_object(dictionary! {
        "Type" => "Catalog", "Pages" => pages_id, "Metadata" => xmp_id, "AcroForm" => acroform,
        "Lang" => Object::string_literal("zh-CN"),
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
    info.set(SEAL_PLAN_KEY, text_object(&input.plan.join(",")));
    // The same plan as `<region>/<USCC>`: what verifiers in other regions check.
    info.set(SEAL_PLAN_IDS_KEY, text_object(&input.region.plan_ids(&input.plan).join(",")));
    info.set("ZYTemplate", text_object(&t.id));
    let info_id = doc.add_object(info);
    doc.trailer.set("Root", catalog);
    doc.trailer.set("Info", info_id);
    let file_id = Object::String(random_bytes::<16>()?.to_vec(), lopdf::StringFormat::Hexadecimal);
    doc.trailer.set("ID", vec![file_id.clone(), file_id]);
    let mut pdf = Vec::new();
    doc.save_to(&mut pdf).map_err(|e| PdfError::Parse(e.to_string()))?;
    Ok(RenderedLicence { pdf, id, metadata, verify_url })
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
