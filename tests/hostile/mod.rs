//! A small deterministic generator of hostile PDFs, one per class of attack on the parser and the
//! object walks (issue 10: nesting behind unterminated tokens, nesting inside stream data, a /Kids
//! DAG, /Length reference chains, xref-stream widths). The same bytes are committed under
//! fuzz/regressions/ and fuzz/seeds/verify/ (`hostile_pdfs::corpus_files_are_generated` keeps
//! them equal; `ZY_WRITE_CORPUS=1` rewrites them).

/// Nesting used by the attacks: far past the pre-scan's limit of 100 and lopdf's of 256, and
/// deep enough (5,000) to overflow a 2 MiB thread stack in unpatched lopdf.
pub const DEEP: usize = 5_000;

/// A PDF under construction: raw bytes plus the offsets the xref table will name.
struct Pdf {
    bytes: Vec<u8>,
    offsets: Vec<(u32, usize)>,
}

impl Pdf {
    fn new() -> Self {
        Pdf { bytes: b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec(), offsets: Vec::new() }
    }

    fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(b);
        self
    }

    /// The xref entry of object `n` points at the current position.
    fn mark(&mut self, n: u32) -> &mut Self {
        self.offsets.push((n, self.bytes.len()));
        self
    }

    fn obj(&mut self, n: u32, body: &[u8]) -> &mut Self {
        self.mark(n).raw(format!("{n} 0 obj\n").as_bytes()).raw(body).raw(b"\nendobj\n")
    }

    /// Classic xref table, trailer with /Root 1 0 R, startxref, %%EOF.
    fn finish(&mut self) -> Vec<u8> {
        let size = self.offsets.iter().map(|(n, _)| *n).max().unwrap_or(0) + 1;
        let at = self.bytes.len();
        let mut x = format!("xref\n0 {size}\n0000000000 65535 f \n");
        for n in 1..size {
            match self.offsets.iter().find(|(m, _)| *m == n) {
                Some((_, off)) => x.push_str(&format!("{off:010} 00000 n \n")),
                None => x.push_str("0000000000 00000 f \n"),
            }
        }
        x.push_str(&format!("trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{at}\n%%EOF\n"));
        self.raw(x.as_bytes());
        self.bytes.clone()
    }
}

const CATALOG: &[u8] = b"<< /Type /Catalog /AcroForm 2 0 R >>";

/// Object 3 opens `[` `DEEP` times, after `before` (which hides it from a scan that stops early).
fn deep_after(before: &[u8], open: &[u8]) -> Vec<u8> {
    let mut p = Pdf::new();
    p.obj(1, CATALOG).mark(2).raw(before).raw(b"\n").mark(3).raw(b"3 0 obj\n");
    for _ in 0..DEEP {
        p.raw(open);
    }
    p.raw(b"\nendobj\n").finish()
}

/// `[` nested inside the data of a terminated stream, with object 3's xref entry pointing there.
fn deep_in_stream_data() -> Vec<u8> {
    let mut p = Pdf::new();
    p.obj(1, CATALOG);
    let data_len = 9 + DEEP + 1;
    p.mark(2).raw(format!("2 0 obj\n<< /Length {data_len} >>\nstream\n").as_bytes());
    p.mark(3).raw(b"3 0 obj\n");
    for _ in 0..DEEP {
        p.raw(b"[");
    }
    p.raw(b"\n\nendstream\nendobj\n").finish()
}

/// The form-field tree as a DAG: 17 levels, each node listing the next one 8 times (8^16 paths).
fn kids_dag() -> Vec<u8> {
    let mut p = Pdf::new();
    p.obj(1, CATALOG).obj(2, b"<< /Fields [3 0 R] >>");
    for n in 3..20u32 {
        let kids = format!("{} 0 R ", n + 1).repeat(8);
        p.obj(n, format!("<< /T (n{n}) /Kids [{kids}] >>").as_bytes());
    }
    p.obj(20, b"<< /FT /Sig /T (s) /V 21 0 R >>");
    p.obj(21, b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange [0 1 2 3] /Contents <00> >>");
    p.finish()
}

/// 700 streams, each one's /Length the next stream: unpatched lopdf followed the chain from
/// every object (700 deep, 245,000 parses).
fn length_chain() -> Vec<u8> {
    let mut p = Pdf::new();
    p.obj(1, b"<< /Type /Catalog >>");
    for n in 2..702u32 {
        p.obj(n, format!("<< /Length {} 0 R >>\nstream\n\nendstream", n + 1).as_bytes());
    }
    p.obj(702, b"0");
    p.finish()
}

/// An xref stream with /W [0 0 0] and /Index declaring two billion entries in zero bytes.
fn xref_stream_zero_widths() -> Vec<u8> {
    let mut p = Pdf::new();
    p.obj(1, b"<< /Type /Catalog >>");
    let at = p.bytes.len();
    p.raw(b"2 0 obj\n<< /Type /XRef /Size 2000000000 /W [0 0 0] /Index [0 2000000000] /Root 1 0 R /Length 0 >>\nstream\n\nendstream\nendobj\n");
    p.raw(format!("startxref\n{at}\n%%EOF\n").as_bytes());
    p.bytes.clone()
}

/// Every hostile input: (file name stem, bytes).
pub fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let unterminated_stream = b"2 0 obj\n<< /Length 10 >>\nstream\n";
    vec![
        ("verify-deep-array-after-unterminated-stream", deep_after(unterminated_stream, b"[")),
        ("verify-deep-dict-after-unterminated-stream", deep_after(unterminated_stream, b"<< /A ")),
        ("verify-deep-array-after-unterminated-string", deep_after(b"2 0 obj\n(never closed", b"[")),
        ("verify-deep-array-after-unterminated-hex", deep_after(b"2 0 obj\n<4142", b"[")),
        ("verify-deep-array-after-comment", deep_after(b"2 0 obj\n% a comment [ (", b"[")),
        ("verify-deep-array-inside-stream-data", deep_in_stream_data()),
        ("verify-kids-dag", kids_dag()),
        ("verify-length-reference-chain", length_chain()),
        ("verify-xref-stream-zero-widths", xref_stream_zero_widths()),
    ]
}
