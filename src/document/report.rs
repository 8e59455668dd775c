//! Continuation pages of a report: headings, paragraphs and ruled tables flowed over as many A4
//! pages as they need (a table's header repeats on each page), appended to an unsigned document
//! whose first page `render` made. Every cell is broken by the Chinese line-breaking rules.
//!
//! Used by the DA/T 70 audit report (src/audit_report.rs); knows nothing of audits or signing.
//! The pages draw in DeviceRGB with their own embedded font subset, so the PDF/A-2b shape of the
//! document is kept.

use lopdf::{dictionary, Document, Object, Stream};

use super::font::TextEncoder;
use super::linebreak::break_lines;
use super::render::{PAGE_H, PAGE_W};
use crate::error::{PdfError, Result};

/// A piece of a report page.
#[derive(Debug, Clone)]
pub enum Block {
    Heading(String),
    Text(String),
    /// Column titles with their widths (points), then the rows.
    Table {
        columns: Vec<(String, f32)>,
        rows: Vec<Vec<String>>,
    },
}

const LEFT: f32 = 60.0;
const WIDTH: f32 = 475.0;
const TOP: f32 = 780.0;
const BOTTOM: f32 = 72.0;
const SIZE: f32 = 9.5;
const LEAD: f32 = 13.0;
const PAD: f32 = 4.0;

struct Pages {
    enc: TextEncoder,
    done: Vec<String>,
    ops: String,
    y: f32,
}

impl Pages {
    fn text(&mut self, x: f32, y: f32, size: f32, s: &str) -> Result<()> {
        let g = self.enc.encode(s)?;
        self.ops.push_str(&format!("BT /F1 {size:.1} Tf {x:.2} {y:.2} Td {g} Tj ET\n"));
        Ok(())
    }
    fn wrap(&self, s: &str, size: f32, width: f32) -> Vec<String> {
        break_lines(s, width, &|c| self.enc.char_width(c, size))
    }
    fn new_page(&mut self) {
        if !self.ops.is_empty() {
            self.done.push(std::mem::take(&mut self.ops));
        }
        self.ops.push_str("q 0.72 0.52 0.20 RG 0.8 w 35 35 525.28 771.89 re S Q\nq 0.10 0.10 0.10 rg\n");
        self.y = TOP;
    }
    /// Make room for `h` points, starting a new page when the current one is full.
    fn room(&mut self, h: f32) -> bool {
        if self.y - h < BOTTOM {
            self.new_page();
            return true;
        }
        false
    }
    fn row(&mut self, cells: &[(f32, Vec<String>)], fill: Option<&str>) -> Result<()> {
        let lines = cells.iter().map(|(_, l)| l.len()).max().unwrap_or(1).max(1);
        let h = lines as f32 * LEAD + 2.0 * PAD;
        if let Some(rgb) = fill {
            self.ops.push_str(&format!("q {rgb} rg {LEFT:.2} {:.2} {WIDTH:.2} {h:.2} re f Q\n", self.y - h));
        }
        let mut x = LEFT;
        for (w, cell) in cells {
            for (k, line) in cell.iter().enumerate() {
                self.text(x + PAD, self.y - PAD - SIZE - LEAD * k as f32 + 1.0, SIZE, line)?;
            }
            x += w;
        }
        self.y -= h;
        self.ops.push_str(&format!(
            "q 0.6 0.6 0.6 RG 0.5 w {LEFT:.2} {y:.2} m {:.2} {y:.2} l S Q\n",
            LEFT + WIDTH,
            y = self.y
        ));
        Ok(())
    }
}

/// Lay `blocks` out on new pages and append them to `pdf` (an unsigned one-page document made
/// by `render`); `footer(page, pages)` is printed at the foot of every added page.
pub fn append_pages(
    pdf: &[u8],
    blocks: &[Block],
    footer: &dyn Fn(usize, usize) -> String,
) -> Result<Vec<u8>> {
    let err = |e: lopdf::Error| PdfError::Parse(e.to_string());
    let mut doc = Document::load_mem(pdf).map_err(err)?;
    let mut p = Pages { enc: TextEncoder::new()?, done: Vec::new(), ops: String::new(), y: TOP };
    p.new_page();
    for b in blocks {
        match b {
            Block::Heading(s) => {
                let lines = p.wrap(s, 13.0, WIDTH);
                p.room(lines.len() as f32 * 18.0 + 40.0);
                p.y -= 8.0;
                for l in lines {
                    p.y -= 18.0;
                    p.text(LEFT, p.y, 13.0, &l)?;
                }
                p.y -= 8.0;
            }
            Block::Text(s) => {
                for l in p.wrap(s, 10.5, WIDTH) {
                    p.room(15.0);
                    p.y -= 15.0;
                    p.text(LEFT, p.y, 10.5, &l)?;
                }
                p.y -= 4.0;
            }
            Block::Table { columns, rows } => {
                let header: Vec<(f32, Vec<String>)> =
                    columns.iter().map(|(t, w)| (*w, p.wrap(t, SIZE, w - 2.0 * PAD))).collect();
                p.room(3.0 * LEAD + 4.0 * PAD);
                p.row(&header, Some("0.92 0.92 0.92"))?;
                for r in rows {
                    let cells: Vec<(f32, Vec<String>)> = columns
                        .iter()
                        .zip(r.iter().map(String::as_str).chain(std::iter::repeat("")))
                        .map(|((_, w), c)| (*w, p.wrap(c, SIZE, w - 2.0 * PAD)))
                        .collect();
                    let lines = cells.iter().map(|(_, l)| l.len()).max().unwrap_or(1);
                    if p.room(lines as f32 * LEAD + 2.0 * PAD) {
                        p.row(&header, Some("0.92 0.92 0.92"))?;
                    }
                    p.row(&cells, None)?;
                }
                p.y -= 10.0;
            }
        }
    }
    p.done.push(std::mem::take(&mut p.ops));
    // Footers, now that the number of pages is known (page 1 is the document's own).
    let total = p.done.len() + 1;
    let mut pages = std::mem::take(&mut p.done);
    for (i, ops) in pages.iter_mut().enumerate() {
        let f = footer(i + 2, total);
        let g = p.enc.encode(&f)?;
        ops.push_str(&format!("Q\nq 0.10 0.10 0.10 rg BT /F1 7.0 Tf 48 42 Td {g} Tj ET Q\n"));
    }
    let font = p.enc.finish(&mut |o| doc.add_object(o))?;
    let root = doc.catalog().map_err(err)?.get(b"Pages").and_then(Object::as_reference).map_err(err)?;
    let mut kids = Vec::new();
    for ops in pages {
        let mut content = Stream::new(dictionary! {}, ops.into_bytes());
        super::compress(&mut content)?;
        let content = doc.add_object(content);
        kids.push(Object::Reference(doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => root,
            "MediaBox" => vec![0.into(), 0.into(), Object::Real(PAGE_W), Object::Real(PAGE_H)],
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
            "Contents" => content,
        })));
    }
    let tree = doc.get_dictionary_mut(root).map_err(err)?;
    let mut all = tree.get(b"Kids").and_then(Object::as_array).map_err(err)?.clone();
    all.extend(kids);
    tree.set("Count", i64::try_from(all.len()).unwrap_or(1));
    tree.set("Kids", all);
    let mut out = Vec::new();
    doc.save_to(&mut out).map_err(|e| PdfError::Parse(e.to_string()))?;
    Ok(out)
}
