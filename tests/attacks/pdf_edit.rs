//! PDF editing helpers of tests/attacks.rs: serialise lopdf objects as written, append
//! incremental updates, find objects and signature layouts, forge signature fields.

use super::*;

// ---- PDF writing helpers -------------------------------------------------------------------------

pub(crate) fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

pub(crate) fn load(pdf: &[u8]) -> Document {
    Document::load_mem(pdf).expect("lopdf loads the base PDF")
}

/// Offset named by the last `startxref`.
pub(crate) fn last_startxref(pdf: &[u8]) -> usize {
    let k = pdf.windows(9).rposition(|w| w == b"startxref").expect("startxref");
    let digits: String = pdf[k + 9..]
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| b as char)
        .collect();
    digits.parse().expect("startxref offset")
}

/// PDF syntax of `o` (strings keep their literal / hex form so unchanged values compare equal).
pub(crate) fn ser(o: &Object, out: &mut Vec<u8>) {
    match o {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => {
            let t = format!("{r:.4}");
            out.extend_from_slice(t.trim_end_matches('0').trim_end_matches('.').as_bytes());
        }
        Object::Name(n) => name(n, out),
        Object::String(v, StringFormat::Hexadecimal) => {
            out.push(b'<');
            v.iter().for_each(|b| out.extend_from_slice(format!("{b:02X}").as_bytes()));
            out.push(b'>');
        }
        Object::String(v, StringFormat::Literal) => {
            out.push(b'(');
            for &b in v {
                match b {
                    b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', b]),
                    0x20..=0x7e => out.push(b),
                    _ => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
                }
            }
            out.push(b')');
        }
        Object::Array(a) => {
            out.push(b'[');
            for x in a {
                ser(x, out);
                out.push(b' ');
            }
            out.push(b']');
        }
        Object::Dictionary(d) => ser_dict(d, out),
        Object::Stream(st) => {
            let mut d = st.dict.clone();
            d.set("Length", st.content.len() as i64);
            ser_dict(&d, out);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&st.content);
            out.extend_from_slice(b"\nendstream");
        }
        Object::Reference((n, g)) => out.extend_from_slice(format!("{n} {g} R").as_bytes()),
    }
}

pub(crate) fn ser_dict(d: &Dictionary, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<<");
    for (k, v) in d.iter() {
        out.push(b' ');
        name(k, out);
        out.push(b' ');
        ser(v, out);
    }
    out.extend_from_slice(b" >>");
}

pub(crate) fn name(n: &[u8], out: &mut Vec<u8>) {
    out.push(b'/');
    for &b in n {
        if b.is_ascii_graphic() && !b"()<>[]{}/%#".contains(&b) {
            out.push(b);
        } else {
            out.extend_from_slice(format!("#{b:02X}").as_bytes());
        }
    }
}

pub(crate) fn obj(o: &Object) -> Vec<u8> {
    let mut v = Vec::new();
    ser(o, &mut v);
    v
}

pub(crate) fn dict(d: &Dictionary) -> Vec<u8> {
    obj(&Object::Dictionary(d.clone()))
}

/// An uncompressed stream object body.
pub(crate) fn stream(entries: &str, content: &[u8]) -> Vec<u8> {
    let mut v = format!("<< {entries} /Length {} >>\nstream\n", content.len()).into_bytes();
    v.extend_from_slice(content);
    v.extend_from_slice(b"\nendstream");
    v
}

/// A PDF text string in UTF-16BE hex.
pub(crate) fn text(t: &str) -> Object {
    let mut v = vec![0xFE, 0xFF];
    t.encode_utf16().for_each(|u| v.extend_from_slice(&u.to_be_bytes()));
    Object::String(v, StringFormat::Hexadecimal)
}

/// One incremental update (ISO 32000-1 §7.5.6).
pub(crate) struct Update<'a> {
    /// (object number, body) for every object (re)defined by this revision; generation 0.
    pub(crate) objects: Vec<(u32, Vec<u8>)>,
    /// Object numbers whose xref entry becomes free ('f').
    pub(crate) free: Vec<u32>,
    /// A different /Info for the new trailer.
    pub(crate) info: Option<ObjectId>,
    /// End with `%%EOF` (the standard) or not.
    pub(crate) eof: bool,
    pub(crate) base: &'a [u8],
}

impl<'a> Update<'a> {
    pub(crate) fn new(base: &'a [u8]) -> Self {
        Update { objects: Vec::new(), free: Vec::new(), info: None, eof: true, base }
    }

    pub(crate) fn set(mut self, num: u32, body: Vec<u8>) -> Self {
        self.objects.push((num, body));
        self
    }

    /// Append the revision: objects, a classic xref section (correct 20-byte entries, one
    /// subsection per run of numbers), a trailer with /Prev at the previous startxref, startxref
    /// and %%EOF. /Root, /Info and /ID come from the previous trailer.
    pub(crate) fn write(self) -> Vec<u8> {
        let old = load(self.base);
        let prev = last_startxref(self.base);
        let mut out = self.base.to_vec();
        if !out.ends_with(b"\n") {
            out.push(b'\n');
        }
        let mut entries: BTreeMap<u32, String> = BTreeMap::new();
        for (num, body) in &self.objects {
            entries.insert(*num, format!("{:010} 00000 n\r\n", out.len()));
            out.extend_from_slice(format!("{num} 0 obj\n").as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        for num in &self.free {
            entries.insert(*num, "0000000000 00001 f\r\n".to_string());
        }
        let xref_at = out.len();
        out.extend_from_slice(b"xref\n");
        let nums: Vec<u32> = entries.keys().copied().collect();
        let mut i = 0;
        while i < nums.len() {
            let mut j = i;
            while j + 1 < nums.len() && nums[j + 1] == nums[j] + 1 {
                j += 1;
            }
            out.extend_from_slice(format!("{} {}\n", nums[i], j - i + 1).as_bytes());
            for n in &nums[i..=j] {
                out.extend_from_slice(entries[n].as_bytes());
            }
            i = j + 1;
        }
        let old_size = old.trailer.get(b"Size").and_then(Object::as_i64).unwrap_or(0) as u32;
        let size = nums.iter().map(|n| n + 1).chain([old_size, old.max_id + 1]).max().unwrap_or(0);
        let mut trailer = Dictionary::new();
        trailer.set("Size", i64::from(size));
        trailer.set("Root", old.trailer.get(b"Root").expect("trailer /Root").clone());
        match self.info {
            Some(id) => trailer.set("Info", Object::Reference(id)),
            None => trailer.set("Info", old.trailer.get(b"Info").expect("trailer /Info").clone()),
        }
        if let Ok(id) = old.trailer.get(b"ID") {
            trailer.set("ID", id.clone());
        }
        trailer.set("Prev", prev as i64);
        out.extend_from_slice(b"trailer\n");
        out.extend_from_slice(&dict(&trailer));
        out.extend_from_slice(format!("\nstartxref\n{xref_at}\n").as_bytes());
        if self.eof {
            out.extend_from_slice(b"%%EOF\n");
        }
        out
    }
}

/// The next unused object number.
pub(crate) fn next_num(d: &Document) -> u32 {
    let size = d.trailer.get(b"Size").and_then(Object::as_i64).unwrap_or(0) as u32;
    size.max(d.max_id + 1)
}

pub(crate) fn page_id(d: &Document) -> ObjectId {
    *d.get_pages().get(&1).expect("first page")
}

/// The first page's text font (/Resources /Font /F1), a reference.
pub(crate) fn page_font(d: &Document) -> ObjectId {
    let res =
        dict_of(d, page_id(d)).get(b"Resources").and_then(Object::as_dict).cloned().expect("/Resources");
    res.get(b"Font")
        .and_then(Object::as_dict)
        .and_then(|f| f.get(b"F1"))
        .and_then(Object::as_reference)
        .expect("/F1")
}

pub(crate) fn catalog_id(d: &Document) -> ObjectId {
    d.trailer.get(b"Root").and_then(Object::as_reference).expect("/Root")
}

pub(crate) fn info_id(d: &Document) -> ObjectId {
    d.trailer.get(b"Info").and_then(Object::as_reference).expect("/Info")
}

pub(crate) fn get_ref(d: &Document, id: ObjectId, key: &[u8]) -> ObjectId {
    d.get_dictionary(id)
        .expect("dictionary")
        .get(key)
        .and_then(Object::as_reference)
        .unwrap_or_else(|_| panic!("/{} is not a reference", String::from_utf8_lossy(key)))
}

pub(crate) fn dict_of(d: &Document, id: ObjectId) -> Dictionary {
    d.get_dictionary(id).expect("dictionary").clone()
}

/// The signature field (merged field/widget) called `name`.
pub(crate) fn field_id(d: &Document, name: &str) -> ObjectId {
    d.objects
        .iter()
        .find(|(_, o)| {
            o.as_dict().ok().and_then(|d| d.get(b"T").ok()).and_then(|t| t.as_str().ok())
                == Some(name.as_bytes())
        })
        .map(|(id, _)| *id)
        .unwrap_or_else(|| panic!("no field {name}"))
}

/// The page with `annot` appended to its /Annots (inline array in zhengyin's files).
pub(crate) fn page_with_annot(d: &Document, annot: u32) -> (u32, Vec<u8>) {
    let p = page_id(d);
    let mut page = dict_of(d, p);
    let mut annots = page.get(b"Annots").and_then(Object::as_array).cloned().unwrap_or_default();
    annots.push(Object::Reference((annot, 0)));
    page.set("Annots", annots);
    (p.0, dict(&page))
}

/// The AcroForm with `field` appended to /Fields.
pub(crate) fn form_with_field(d: &Document, field: u32) -> (u32, Vec<u8>) {
    let form = get_ref(d, catalog_id(d), b"AcroForm");
    let mut f = dict_of(d, form);
    let mut fields = f.get(b"Fields").and_then(Object::as_array).cloned().unwrap_or_default();
    fields.push(Object::Reference((field, 0)));
    f.set("Fields", fields);
    (form.0, dict(&f))
}

/// Where the k-th signature dictionary (in file order) keeps its /ByteRange and /Contents.
pub(crate) struct SigLayout {
    /// First byte inside `[` … `]` of /ByteRange and the offset of `]`.
    pub(crate) br: (usize, usize),
    /// Offset of `/Contents`, of its `<` and of its `>`.
    pub(crate) contents_key: usize,
    pub(crate) lt: usize,
    pub(crate) gt: usize,
}

pub(crate) fn sig_layout(pdf: &[u8], k: usize) -> SigLayout {
    let mut at = 0;
    let mut key = 0;
    for _ in 0..=k {
        key = find(pdf, b"/ByteRange [", at).expect("signature dictionary");
        at = key + 1;
    }
    let open = key + b"/ByteRange [".len();
    let close = find(pdf, b"]", open).expect("]");
    let contents_key = find(pdf, b"/Contents <", close).expect("/Contents");
    let lt = contents_key + b"/Contents ".len();
    let gt = find(pdf, b">", lt).expect(">");
    SigLayout { br: (open, close), contents_key, lt, gt }
}

pub(crate) fn byte_range(pdf: &[u8], k: usize) -> [usize; 4] {
    let l = sig_layout(pdf, k);
    let t = std::str::from_utf8(&pdf[l.br.0..l.br.1]).expect("ASCII");
    let v: Vec<usize> = t.split_whitespace().map(|n| n.parse().expect("number")).collect();
    [v[0], v[1], v[2], v[3]]
}

/// Rewrite the k-th /ByteRange in place (same length, padded with spaces).
pub(crate) fn set_byte_range(pdf: &mut [u8], k: usize, value: &str) {
    let l = sig_layout(pdf, k);
    let slot = &mut pdf[l.br.0..l.br.1];
    assert!(value.len() <= slot.len(), "/ByteRange {value} does not fit in {} bytes", slot.len());
    slot.fill(b' ');
    slot[..value.len()].copy_from_slice(value.as_bytes());
}

/// Length of the DER SEQUENCE at the start of `b` (the CMS without its zero padding).
pub(crate) fn der_len(b: &[u8]) -> usize {
    assert_eq!(b[0], 0x30, "CMS is a SEQUENCE");
    match b[1] {
        n if n < 0x80 => 2 + n as usize,
        0x81 => 3 + b[2] as usize,
        0x82 => 4 + ((b[2] as usize) << 8 | b[3] as usize),
        0x83 => 5 + ((b[2] as usize) << 16 | (b[3] as usize) << 8 | b[4] as usize),
        l => panic!("unexpected DER length byte {l:#x}"),
    }
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// The signature dictionary of field `name`: (object id, /ByteRange, /Contents bytes).
pub(crate) fn signature_of(d: &Document, name: &str) -> (ObjectId, Vec<Object>, Vec<u8>) {
    let v = get_ref(d, field_id(d, name), b"V");
    let sig = dict_of(d, v);
    (
        v,
        sig.get(b"ByteRange").and_then(Object::as_array).expect("/ByteRange").clone(),
        sig.get(b"Contents").and_then(Object::as_str).expect("/Contents").to_vec(),
    )
}

pub(crate) const FORGED_HOLDER: &str = "泰安市伪造贸易有限公司";
pub(crate) const HOLDER: &str = "泰安市示例云岭科技有限公司";

/// Content drawing an opaque white box over the holder line and a red "VOID" stamp.
pub(crate) const OVERLAY: &[u8] =
    b"q 1 1 1 rg 60 560 480 60 re f Q q 1 0 0 rg BT /FX 28 Tf 200 580 Td (FORGED / VOID) Tj ET Q";
pub(crate) const HELVETICA: &str =
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>";

/// A visible, unsigned signature field whose appearance is `ap_content` (with font /FX).
pub(crate) fn unsigned_sig_field(base: &[u8], rect: &str, ap_content: &[u8], name: &str) -> Vec<u8> {
    let d = load(base);
    let n = next_num(&d);
    let (font, ap, widget) = (n, n + 1, n + 2);
    let (pn, page) = page_with_annot(&d, widget);
    let (fnum, form) = form_with_field(&d, widget);
    let p = page_id(&d).0;
    Update::new(base)
        .set(font, HELVETICA.into())
        .set(ap, stream(&format!("/Type /XObject /Subtype /Form /BBox {rect} /Resources << /Font << /FX {font} 0 R >> >>"), ap_content))
        .set(widget, format!("<< /Type /Annot /Subtype /Widget /FT /Sig /T ({name}) /F 4 /P {p} 0 R /Rect {rect} /AP << /N {ap} 0 R >> >>").into_bytes())
        .set(pn, page)
        .set(fnum, form)
        .write()
}

/// Append a revision that signs `field` of `base` structurally like zhengyin does: the field's
/// /V becomes a new signature dictionary whose /ByteRange covers the new file with the gap exactly
/// its /Contents, which hold `cms` (zero-padded); its /AP a new appearance. An existing empty
/// field is filled; a missing one is created (new widget in the page's /Annots and the AcroForm).
pub(crate) fn sign_field(base: &[u8], field: &str, cms: &[u8]) -> Vec<u8> {
    sign_field_and(base, field, cms, Vec::new())
}

/// [`sign_field`], with `extra` objects (number, body) changed in the same revision.
pub(crate) fn sign_field_and(base: &[u8], field: &str, cms: &[u8], extra: Vec<(u32, Vec<u8>)>) -> Vec<u8> {
    const RESERVE: usize = 8192;
    let d = load(base);
    let existing = d.objects.iter().any(|(_, o)| {
        o.as_dict().ok().and_then(|d| d.get(b"T").ok()).and_then(|t| t.as_str().ok())
            == Some(field.as_bytes())
    });
    let n = next_num(&d);
    let (ap, sig) = (n, n + 1);
    let mut u = Update::new(base);
    for (num, body) in extra {
        u = u.set(num, body);
    }
    if existing {
        let w = field_id(&d, field);
        let mut widget = dict_of(&d, w);
        widget.set("V", Object::Reference((sig, 0)));
        widget.set("AP", lopdf::dictionary! { "N" => Object::Reference((ap, 0)) });
        u = u.set(w.0, dict(&widget));
    } else {
        let w = n + 2;
        let (pn, page) = page_with_annot(&d, w);
        let (fnum, form) = form_with_field(&d, w);
        let body = format!("<< /Type /Annot /Subtype /Widget /FT /Sig /T ({field}) /F 132 /P {} 0 R /Rect [60 60 160 160] /V {sig} 0 R /AP << /N {ap} 0 R >> >>", page_id(&d).0);
        u = u.set(w, body.into_bytes()).set(pn, page).set(fnum, form);
    }
    let body = format!(
        "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /M (D:20260101000000+08'00') /ByteRange [{}] /Contents <{}> >>",
        " ".repeat(44),
        "0".repeat(RESERVE * 2)
    );
    let mut out = u
        .set(
            ap,
            stream(
                "/Type /XObject /Subtype /Form /BBox [0 0 100 100]",
                b"q 1 0 0 RG 4 w 50 50 45 0 360 re S Q",
            ),
        )
        .set(sig, body.into_bytes())
        .write();
    let k = count(&out, b"/ByteRange [") - 1;
    let l = sig_layout(&out, k);
    let gap_end = l.gt + 1;
    let br = format!("0 {} {} {}", l.lt, gap_end, out.len() - gap_end);
    set_byte_range(&mut out, k, &br);
    assert!(cms.len() <= RESERVE);
    let h = hex(cms);
    out[l.lt + 1..l.lt + 1 + h.len()].copy_from_slice(h.as_bytes());
    out
}

pub(crate) fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}
