//! What a clerk sees: every kind of document (each licence template, a joint licence with three
//! seals and one with only the first, a proof, a commitment, an annotated copy) made through the
//! CLI, rendered with pdftoppm and read back with pdftotext. Checks GB/T 9704 §7.3.5.1 seal
//! placement and ink, the Chinese line-breaking rules, the footer, the watermark's bounds, the
//! commitment's applicant line, and the PDF/A-2b structure; outside validators accept each file.
//! Renders are kept under target/test-artifacts/render_layout/ for people to look at.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use lopdf::{Document, Object};
use zhengyin::document::linebreak::{NO_END, NO_START};

/// Resolution of the renders (dots per inch), and points → pixels.
const DPI: f32 = 80.0;
const PX: f32 = DPI / 72.0;

struct Docs {
    r: Region,
    /// (name, file, signatures it holds)
    docs: Vec<(&'static str, PathBuf, usize)>,
}

fn artifacts() -> PathBuf {
    let d = repo().join("target/test-artifacts/render_layout");
    std::fs::create_dir_all(&d).expect("artifact dir");
    d
}

/// Field values whose natural break (26 full-width characters per value line) falls on a
/// character the rules forbid there: 、 。 … ， at a line start, （ at a line end.
const TRICKY: [(&str, &str); 5] = [
    ("type", "、示例"),
    ("address", "（示例）"),
    ("scope", "。"),
    ("registered_capital", "……处理"),
    ("legal_representative", "，示例；测试"),
];

/// Every kind of document, made once for all tests of this file.
fn docs() -> &'static Docs {
    static D: OnceLock<Docs> = OnceLock::new();
    D.get_or_init(|| {
        let r = Region::init();
        let h = s(&r.home).to_string();
        let mut docs = Vec::new();
        for t in ["business-licence", "food-business-licence"] {
            let (pdf, _) = r.issue(t, None, &format!("{t}.pdf"));
            docs.push((t, pdf, 1));
        }
        // Fields whose breaks fall on punctuation (one more leading character per field).
        let mut data = sample_data("business-licence");
        for (key, tail) in TRICKY {
            let lead = if tail.starts_with('（') { 25 } else { 26 };
            data.insert(key.to_string(), format!("{}{tail}", "测".repeat(lead)).into());
        }
        let tricky = r.path("tricky.json");
        std::fs::write(&tricky, serde_json::to_string(&data).unwrap()).unwrap();
        let out = r.path("tricky.pdf");
        r.zy(&["issue", "--home", &h, "--template", "business-licence", "--data", s(&tricky), "-o", s(&out)])
            .assert_code(0);
        docs.push(("tricky-licence", out, 1));
        let (j1, _) = r.issue("joint-approval", None, "joint-1.pdf");
        let (j2, j3) = (r.path("joint-2.pdf"), r.path("joint-3.pdf"));
        r.zy(&["seal", "add", "--home", &h, "--dept", "scjg", s(&j1), "-o", s(&j2)]).assert_code(0);
        r.zy(&["seal", "add", "--home", &h, "--dept", "xzsp", s(&j2), "-o", s(&j3)]).assert_code(0);
        docs.push(("joint-1-of-3", j1, 1));
        docs.push(("joint-3-of-3", j3, 3));
        let holders = repo().join("fixtures/holders/rs-social-insurance.csv");
        r.zy(&["data", "load", "--home", &h, "--dept", "rs", s(&holders)]).assert_code(0);
        let proof = r.path("proof.pdf");
        r.zy(&[
            "proof", "request", "--home", &h, "--by", "xzsp", "--kind", "social-insurance", "--subject",
            "370902199001011235", "--purpose", "370900-XK-0001", "-o", s(&proof),
        ])
        .assert_code(0);
        docs.push(("proof", proof, 1));
        let statement = r.path("statement.txt");
        std::fs::write(&statement, "本人承诺所填报的社会保险参保信息真实、准确、完整，如有不实，愿意承担相应的法律责任（包括撤销审批决定）。").unwrap();
        let commitment = r.path("commitment.pdf");
        r.zy(&[
            "commit", "--home", &h, "--by", "xzsp", "--subject", "370902199001011235", "--matter",
            "370900-XK-0001", "--statement", s(&statement), "-o", s(&commitment),
        ])
        .assert_code(0);
        docs.push(("commitment", commitment, 1));
        let copy = r.path("annotated-copy.pdf");
        let bl = r.path("business-licence.pdf");
        r.zy(&["licence", "use", "--home", &h, s(&bl), "--by", "xzsp", "--purpose", "370900-XK-0012", "-o", s(&copy)])
            .assert_code(0);
        docs.push(("annotated-copy", copy, 2));
        if have_tool("pdftoppm") {
            for (name, pdf, _) in &docs {
                let prefix = artifacts().join(name);
                run_in(r.dir.path(), "pdftoppm", &["-r", "80", "-png", "-singlefile", s(pdf), s(&prefix)])
                    .assert_code(0);
            }
        }
        Docs { r, docs }
    })
}

fn doc(name: &str) -> &'static Path {
    docs().docs.iter().find(|(n, _, _)| *n == name).map(|(_, p, _)| p.as_path()).expect("document")
}

/// Today's date as printed (China Standard Time).
fn printed_date() -> String {
    let d = zhengyin::document::china_date(time::OffsetDateTime::now_utc().unix_timestamp());
    let p: Vec<&str> = d.split('-').collect();
    format!("{}年{}月{}日", p[0], p[1].trim_start_matches('0'), p[2].trim_start_matches('0'))
}

/// A PDF rectangle in points (lower-left origin): x1, y1, x2, y2.
type Rect = [f32; 4];

/// The signature fields: (name, rect, signed?) in field order.
fn fields(pdf: &Path) -> Vec<(String, Rect, bool)> {
    let doc = Document::load(pdf).expect("lopdf loads the file");
    let form = doc.catalog().unwrap().get(b"AcroForm").unwrap();
    let form = match form {
        Object::Reference(r) => doc.get_dictionary(*r).unwrap(),
        Object::Dictionary(d) => d,
        _ => panic!("AcroForm"),
    };
    let mut out = Vec::new();
    for f in form.get(b"Fields").unwrap().as_array().unwrap() {
        let d = doc.get_dictionary(f.as_reference().unwrap()).unwrap();
        let name = String::from_utf8_lossy(d.get(b"T").unwrap().as_str().unwrap()).into_owned();
        let r: Vec<f32> =
            d.get(b"Rect").unwrap().as_array().unwrap().iter().map(|o| o.as_float().unwrap()).collect();
        out.push((name, [r[0], r[1], r[2], r[3]], d.get(b"V").is_ok()));
    }
    out
}

/// Words and their boxes (points, top-left origin) from `pdftotext -bbox`.
fn words(pdf: &Path) -> Vec<(String, Rect)> {
    let o = run_in(docs().r.dir.path(), "pdftotext", &["-bbox", s(pdf), "-"]);
    o.assert_code(0);
    let attr = |l: &str, k: &str| -> f32 {
        let i = l.find(&format!("{k}=\"")).unwrap() + k.len() + 2;
        l[i..].split('"').next().unwrap().parse().unwrap()
    };
    o.stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("<word "))
        .map(|l| {
            let text = l.split('>').nth(1).unwrap().split('<').next().unwrap().to_string();
            (text, [attr(l, "xMin"), attr(l, "yMin"), attr(l, "xMax"), attr(l, "yMax")])
        })
        .collect()
}

/// Text inside a PDF rectangle (lower-left origin), by pdftotext's crop box.
fn text_in(pdf: &Path, r: Rect) -> String {
    let (x, y, w, h) = (r[0], 841.89 - r[3], r[2] - r[0], r[3] - r[1]);
    let args = [
        "-x",
        &format!("{x:.0}"),
        "-y",
        &format!("{y:.0}"),
        "-W",
        &format!("{w:.0}"),
        "-H",
        &format!("{h:.0}"),
    ];
    let mut all = args.to_vec();
    all.extend([s(pdf), "-"]);
    let o = run_in(docs().r.dir.path(), "pdftotext", &all);
    o.assert_code(0);
    o.stdout
}

/// An RGB render of page 1 (PPM) at [`DPI`]: width, height, pixels.
fn render(pdf: &Path, name: &str, hide_annotations: bool) -> (usize, usize, Vec<u8>) {
    let prefix = artifacts().join(name);
    let mut args = vec!["-r", "80", "-singlefile"];
    if hide_annotations {
        args.push("-hide-annotations");
    }
    args.extend([s(pdf), s(&prefix)]);
    run_in(docs().r.dir.path(), "pdftoppm", &args).assert_code(0);
    let ppm = std::fs::read(prefix.with_extension("ppm")).expect("ppm");
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        let start = i;
        while !ppm[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&ppm[start..i]).into_owned());
        i += 1;
    }
    let (w, h) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, ppm[i..].to_vec())
}

fn tools() -> bool {
    let ok = have_tool("pdftoppm") && have_tool("pdftotext");
    if !ok {
        assert!(!in_ci(), "poppler-utils is required in CI");
    }
    ok
}

/// Every document passes qpdf --check, pdfsig and pyHanko with all its seals.
#[test]
fn every_kind_of_document_passes_the_outside_validators() {
    let d = docs();
    for (name, pdf, sigs) in &d.docs {
        eprintln!("checking {name}");
        assert_outside_validators(&d.r, pdf, *sigs);
    }
}

/// The date and the issuer's name under each seal are still there as text, and the date's dark
/// glyph pixels stay dark with the seal drawn over them (ink, not an opaque red disc).
#[test]
fn the_date_and_name_stay_legible_under_the_seal() {
    if !tools() {
        return;
    }
    let date = printed_date();
    for (name, pdf, _) in &docs().docs {
        let seals: Vec<_> = fields(pdf).into_iter().filter(|(f, _, _)| f.starts_with("Seal")).collect();
        let (_, last, _) = seals.last().expect("a seal");
        let under = text_in(pdf, *last).replace(char::is_whitespace, "");
        assert!(under.contains(&date), "{name}: the date {date} is not under the last seal: {under}");
        // Pixels: the date's box rendered without and with the seal.
        let (w, _, bare) = render(pdf, &format!("{name}-bare"), true);
        let (_, _, sealed) = render(pdf, &format!("{name}-sealed"), false);
        let (_, b) = words(pdf).into_iter().find(|(t, _)| t.contains(&date)).expect("date word");
        let (mut dark, mut kept) = (0, 0);
        for y in (b[1] * PX) as usize..=(b[3] * PX) as usize {
            for x in (b[0] * PX) as usize..=(b[2] * PX) as usize {
                let i = 3 * (y * w + x);
                let luma = |p: &[u8]| (u32::from(p[0]) * 3 + u32::from(p[1]) * 6 + u32::from(p[2])) / 10;
                if luma(&bare[i..i + 3]) < 90 {
                    dark += 1;
                    if sealed[i..i + 3].iter().all(|&c| c < 110) {
                        kept += 1;
                    }
                }
            }
        }
        assert!(dark > 30, "{name}: no glyph pixels found in the date's box {b:?}");
        assert!(
            kept * 100 >= dark * 95,
            "{name}: only {kept} of {dark} dark date pixels stay dark under the seal"
        );
        std::fs::remove_file(artifacts().join(format!("{name}-bare.ppm"))).ok();
        std::fs::remove_file(artifacts().join(format!("{name}-sealed.ppm"))).ok();
    }
}

/// A single issuer's seal is centred over its name and the date, both below the seal's centre.
#[test]
fn a_single_seal_is_centred_over_the_name_and_date() {
    if !tools() {
        return;
    }
    let pdf = doc("business-licence");
    let (_, r, _) = fields(pdf).into_iter().find(|(f, _, _)| f.starts_with("Seal1")).expect("seal");
    let (cx, cy) = ((r[0] + r[2]) / 2.0, 841.89 - (r[1] + r[3]) / 2.0);
    let words = words(pdf);
    for text in ["泰安市市场监督管理局", printed_date().as_str()] {
        let (t, b) =
            words.iter().find(|(t, _)| t.ends_with(text)).unwrap_or_else(|| panic!("{text} not found"));
        // The name follows its label (发证机关：) in one word: centre its own part.
        let x0 = b[2] - (b[2] - b[0]) * text.chars().count() as f32 / t.chars().count() as f32;
        let mid = (x0 + b[2]) / 2.0;
        assert!((mid - cx).abs() < 4.0, "{text} not centred under the seal: {b:?} vs {cx}");
        let middle = (b[1] + b[3]) / 2.0;
        assert!(
            middle > cy && b[3] < 841.89 - r[1],
            "{text} is not in the seal's lower half: {b:?}, centre {cy}"
        );
    }
}

/// Joint seals: one per department over its own name, in plan order, none touching; the places
/// of seals not yet added are reserved and empty.
#[test]
fn joint_seals_sit_over_their_own_names_and_never_touch() {
    if !tools() {
        return;
    }
    let pdf = doc("joint-3-of-3");
    let seals: Vec<_> = fields(pdf).into_iter().filter(|(f, _, _)| f.starts_with("Seal")).collect();
    assert_eq!(seals.len(), 3);
    let names = ["岱岳区行政审批服务局", "泰安市市场监督管理局", "泰安市行政审批服务局"];
    for (i, ((field, r, signed), name)) in seals.iter().zip(names).enumerate() {
        assert!(*signed, "{field}");
        let under = text_in(pdf, *r).replace(char::is_whitespace, "");
        assert!(under.contains(name), "seal {i} ({field}) is not over {name}: {under}");
        for (_, o, _) in seals.iter().skip(i + 1) {
            let d = (((r[0] + r[2]) - (o[0] + o[2])).powi(2) + ((r[1] + r[3]) - (o[1] + o[3])).powi(2))
                .sqrt()
                / 2.0;
            assert!(d > (r[2] - r[0]) / 2.0 + (o[2] - o[0]) / 2.0, "seals {r:?} and {o:?} touch");
            assert!(o[0] > r[2], "plan order runs left to right: {r:?} then {o:?}");
        }
    }
    // After the first seal only: the other two places are reserved fields with nothing drawn.
    let first = doc("joint-1-of-3");
    let (w, _, px) = render(first, "joint-1-of-3", false);
    let reserved: Vec<_> =
        fields(first).into_iter().filter(|(f, _, v)| f.starts_with("Seal") && !v).collect();
    assert_eq!(reserved.len(), 2);
    for (field, r, _) in reserved {
        let mut red = 0;
        for y in ((841.89 - r[3]) * PX) as usize..((841.89 - r[1]) * PX) as usize {
            for x in (r[0] * PX) as usize..(r[2] * PX) as usize {
                let p = &px[3 * (y * w + x)..3 * (y * w + x) + 3];
                red += usize::from(p[0] > 150 && p[1] < 100);
            }
        }
        assert_eq!(red, 0, "{field}: the place of a seal not yet added is not empty");
    }
    std::fs::remove_file(artifacts().join("joint-1-of-3.ppm")).ok();
}

/// No line of any document starts with a character 行首禁则 forbids or ends with one 行尾禁则
/// forbids (pdftotext -layout, columns split at runs of spaces).
#[test]
fn no_line_breaks_the_line_breaking_rules() {
    if !tools() {
        return;
    }
    for (name, pdf, _) in &docs().docs {
        // The page only: the seals' and watermark's rotated glyphs (annotations) are not lines.
        let mut doc = Document::load(pdf).unwrap();
        for (_, page) in doc.get_pages() {
            doc.get_dictionary_mut(page).unwrap().remove(b"Annots");
        }
        let bare = artifacts().join(format!("{name}-page-only.pdf"));
        doc.save(&bare).unwrap();
        let o = run_in(docs().r.dir.path(), "pdftotext", &["-layout", s(&bare), "-"]);
        std::fs::remove_file(&bare).ok();
        o.assert_code(0);
        for line in o.stdout.lines() {
            for seg in line.split("  ").map(str::trim).filter(|s| s.chars().count() > 1) {
                let first = seg.chars().next().unwrap();
                let last = seg.chars().last().unwrap();
                assert!(!NO_START.contains(first), "{name}: a line starts with {first}: {line:?}");
                assert!(!NO_END.contains(last), "{name}: a line ends with {last}: {line:?}");
            }
        }
    }
}

/// The footer tells the reader to scan the QR code or open the verification address, and no
/// longer points citizens at a command line.
#[test]
fn the_footer_says_scan_the_code_or_open_the_address() {
    if !tools() {
        return;
    }
    for (name, pdf, _) in &docs().docs {
        let o = run_in(docs().r.dir.path(), "pdftotext", &[s(pdf), "-"]);
        let text = o.stdout.replace(char::is_whitespace, "");
        assert!(text.contains("扫描右上角二维码"), "{name}: {text}");
        assert!(text.contains("https://zhengyin.taian.example/verify"), "{name}: {text}");
        assert!(!text.contains("zhengyinverify") && !text.contains("zhengyinproof"), "{name}: {text}");
    }
}

/// The annotated copy's watermark lies inside the page frame: every pixel it changes is inside
/// the frame's inner line, and no band is cut at the edge of its box.
#[test]
fn the_watermark_stays_inside_the_frame() {
    if !tools() {
        return;
    }
    let (w, h, original) = render(doc("business-licence"), "licence", false);
    let (_, _, copy) = render(doc("annotated-copy"), "copy", false);
    // Inner frame line: 35 pt from each edge; the box of the watermark's field.
    let (fx1, fy1, fx2, fy2) = (35.0 * PX, 35.0 * PX, 560.28 * PX, 806.89 * PX);
    let (_, r, _) =
        fields(doc("annotated-copy")).into_iter().find(|(f, _, _)| f.starts_with("Annotation")).unwrap();
    let (bx1, by1, bx2, by2) = (r[0] * PX, (841.89 - r[3]) * PX, r[2] * PX, (841.89 - r[1]) * PX);
    let mut changed = 0;
    let mut at_box_edge = 0;
    for y in 0..h {
        for x in 0..w {
            let i = 3 * (y * w + x);
            if original[i..i + 3].iter().zip(&copy[i..i + 3]).any(|(a, b)| a.abs_diff(*b) > 40) {
                changed += 1;
                let (xf, yf) = (x as f32, y as f32);
                assert!(
                    xf > fx1 && xf < fx2 && yf > fy1 && yf < fy2,
                    "watermark pixel ({x}, {y}) outside the frame"
                );
                if (xf - bx1).abs() < 1.5
                    || (xf - bx2).abs() < 1.5
                    || (yf - by1).abs() < 1.5
                    || (yf - by2).abs() < 1.5
                {
                    at_box_edge += 1;
                }
            }
        }
    }
    assert!(changed > 2000, "the watermark is not visible ({changed} pixels)");
    assert!(at_box_edge < 5, "{at_box_edge} watermark pixels touch the edge of its box: a band is clipped");
    for n in ["licence", "copy"] {
        std::fs::remove_file(artifacts().join(format!("{n}.ppm"))).ok();
    }
}

/// The commitment carries the applicant's line (承诺人 and the date) beside the 受理机关 block.
#[test]
fn the_commitment_has_an_applicant_line() {
    if !tools() {
        return;
    }
    let pdf = doc("commitment");
    let words = words(pdf);
    let (_, a) = words.iter().find(|(t, _)| t.starts_with("承诺人：3709")).expect("applicant line");
    let (_, b) = words.iter().find(|(t, _)| t.starts_with("受理机关")).expect("issuer line");
    assert!((a[3] - b[3]).abs() < 2.0 && a[2] < b[0], "applicant {a:?} not level with and left of {b:?}");
}

/// PDF/A-2b structure: sRGB output intent, pdfaid part 2 conformance B in unfiltered XMP whose
/// title, creator and dates equal the Info dictionary's, embedded fonts, printable annotations,
/// a binary header comment and a file ID; sealing keeps all of it.
#[test]
fn every_document_is_shaped_as_pdf_a_2b() {
    for (name, pdf, _) in &docs().docs {
        let bytes = std::fs::read(pdf).unwrap();
        assert!(bytes[9..14].iter().skip(1).all(|b| *b > 127), "{name}: binary header comment");
        let doc = Document::load_mem(&bytes).unwrap();
        assert!(doc.trailer.get(b"ID").is_ok(), "{name}: trailer ID");
        let cat = doc.catalog().unwrap();
        let oi = cat.get(b"OutputIntents").unwrap().as_array().unwrap();
        let oi = oi[0].as_dict().unwrap();
        assert_eq!(oi.get(b"S").unwrap().as_name().unwrap(), b"GTS_PDFA1");
        let icc = doc.get_object(oi.get(b"DestOutputProfile").unwrap().as_reference().unwrap()).unwrap();
        let icc = icc.as_stream().unwrap();
        assert_eq!(icc.dict.get(b"N").unwrap().as_i64().unwrap(), 3, "{name}: RGB profile");
        let profile = icc.decompressed_content().unwrap();
        assert_eq!(&profile[36..40], b"acsp", "{name}: ICC signature");
        assert_eq!(&profile[12..20], b"mntrRGB ", "{name}: RGB display profile");
        let xmp = doc
            .get_object(cat.get(b"Metadata").unwrap().as_reference().unwrap())
            .unwrap()
            .as_stream()
            .unwrap();
        assert!(xmp.dict.get(b"Filter").is_err(), "{name}: XMP must not be filtered");
        let x = String::from_utf8(xmp.content.clone()).unwrap();
        assert!(
            x.contains("<pdfaid:part>2</pdfaid:part>")
                && x.contains("<pdfaid:conformance>B</pdfaid:conformance>")
        );
        assert!(
            x.contains("<pdfaSchema:namespaceURI>urn:zhengyin:ns:gbt36903:1.0/</pdfaSchema:namespaceURI>")
        );
        let info = doc.get_dictionary(doc.trailer.get(b"Info").unwrap().as_reference().unwrap()).unwrap();
        let text = |k: &[u8]| zhengyin::document::metadata::decode_text(info.get(k).unwrap()).unwrap();
        assert!(
            x.contains(&format!("<rdf:li xml:lang=\"x-default\">{}</rdf:li>", text(b"Title"))),
            "{name}: dc:title"
        );
        assert!(
            x.contains(&format!("<rdf:Seq><rdf:li>{}</rdf:li></rdf:Seq>", text(b"Author"))),
            "{name}: dc:creator"
        );
        assert!(
            x.contains(&format!("<pdf:Keywords>{}</pdf:Keywords>", text(b"Keywords"))),
            "{name}: keywords"
        );
        let cd = text(b"CreationDate"); // D:YYYYMMDDHHmmSS+08'00'
        let xd = format!(
            "{}-{}-{}T{}:{}:{}+08:00",
            &cd[2..6],
            &cd[6..8],
            &cd[8..10],
            &cd[10..12],
            &cd[12..14],
            &cd[14..16]
        );
        assert!(x.contains(&format!("<xmp:CreateDate>{xd}</xmp:CreateDate>")), "{name}: CreateDate {xd}");
        for (_, o) in doc.objects.iter() {
            let d = match o {
                Object::Dictionary(d) => d,
                Object::Stream(s) => &s.dict,
                _ => continue,
            };
            let ty = d.get(b"Type").and_then(Object::as_name).unwrap_or(b"");
            if ty == b"FontDescriptor" {
                assert!(d.get(b"FontFile2").is_ok(), "{name}: a font is not embedded");
            }
            if ty == b"Annot" {
                let f = d.get(b"F").and_then(Object::as_i64).unwrap_or(0);
                assert!(f & 4 != 0 && f & 3 == 0, "{name}: annotation flags {f}");
            }
            if ty == b"ExtGState" {
                if let Ok(bm) = d.get(b"BM").and_then(Object::as_name) {
                    assert!([&b"Normal"[..], b"Multiply"].contains(&bm), "{name}: blend mode");
                }
                assert!(d.get(b"TR").is_err() && d.get(b"HTP").is_err(), "{name}: forbidden ExtGState key");
            }
        }
    }
}
