//! Byte-level scans of untrusted PDF bytes that run before (or instead of) the object parser:
//! revision boundaries, nesting depth, decompression bombs, and the signatures' /Contents hex
//! strings, which are replaced by short markers before lopdf parses the file (its parser reads
//! hex digits one at a time, and a reserved /Contents is thousands of them).
//!
//! Knows nothing of signatures beyond where their /Contents sit. ISO 32000-1 §7.3, §7.5.

use std::io::Read;

use crate::error::{PdfError, Result};

/// Largest decompressed size accepted for one Flate stream (a licence's biggest, the font
/// program, inflates to ~100 KiB; object streams of large documents to a few MiB).
pub const MAX_STREAM_INFLATED: u64 = 64 * 1024 * 1024;
/// Largest decompressed total across a file's Flate streams.
pub const MAX_TOTAL_INFLATED: u64 = 256 * 1024 * 1024;
/// Deflate cannot expand data more than 1032-fold (RFC 1951: a 258-byte match costs at least one
/// bit of length code and one of distance code); the zlib header and block headers only lower it.
const MAX_DEFLATE_RATIO: u64 = 1032;
/// A /Contents hex string is replaced by a marker only from this many hex digits on (a marker
/// takes 32); shorter ones are cheap to parse and stay as they are.
const MIN_BLANKED_DIGITS: usize = 64;

/// Position of `needle` in `hay`, if any (`memchr::memmem`: vectorised, and linear in the
/// haystack whatever the needle). An empty needle is found nowhere.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    memchr::memmem::find(hay, needle)
}

/// End offsets of every revision: just after each `%%EOF` and its end-of-line.
pub fn revision_ends(pdf: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut i = 0;
    while let Some(p) = pdf.get(i..).and_then(|s| find(s, b"%%EOF")) {
        let mut end = i + p + 5;
        if pdf.get(end) == Some(&b'\r') {
            end += 1;
        }
        if pdf.get(end) == Some(&b'\n') {
            end += 1;
        }
        ends.push(end);
        i = end;
    }
    ends
}

/// The data of every stream whose dictionary names /FlateDecode (up to its first `endstream`).
fn flate_streams(pdf: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut i = 0usize;
    while let Some(p) = pdf.get(i..).and_then(|s| find(s, b"stream")) {
        let kw = i + p;
        i = kw + 6;
        // `stream` must end a dictionary (`>>` before it) and be followed by an end of line.
        let before = pdf.get(..kw).map(|b| b.trim_ascii_end()).unwrap_or_default();
        if !before.ends_with(b">>") || pdf.get(kw.saturating_sub(3)..kw) == Some(b"end") {
            continue;
        }
        let mut start = kw + 6;
        if pdf.get(start) == Some(&b'\r') {
            start += 1;
        }
        if pdf.get(start) != Some(&b'\n') {
            continue;
        }
        start += 1;
        let Some(len) = pdf.get(start..).and_then(|s| find(s, b"endstream")) else { break };
        let data = pdf.get(start..start + len).unwrap_or_default();
        i = start + len + 9;
        // The stream's own dictionary: from the last `obj` keyword before it.
        let dict_from = before.windows(3).rposition(|w| w == b"obj").unwrap_or(0);
        let dict = before.get(dict_from..).unwrap_or_default();
        if dict.windows(11).any(|w| w == b"FlateDecode") {
            // lopdf reads a direct /Length, which may run past the first `endstream`: measure
            // whichever is longer, so the bound covers what the parser will inflate.
            let claimed =
                direct_length(dict).and_then(|l| pdf.get(start..start.saturating_add(l).min(pdf.len())));
            out.push(claimed.filter(|c| c.len() > data.len()).unwrap_or(data));
        }
    }
    out
}

/// A direct integer `/Length n` in a stream dictionary (not `/Length n 0 R`).
fn direct_length(dict: &[u8]) -> Option<usize> {
    let at = dict.windows(7).rposition(|w| w == b"/Length")? + 7;
    let rest = dict.get(at..)?;
    let digits_from = rest.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = rest.get(digits_from..)?;
    let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let after = rest.get(n..)?.trim_ascii_start();
    // `n g R` is a reference: its value is elsewhere.
    if n == 0 || after.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(rest.get(..n)?).ok()?.parse().ok()
}

/// Refuse decompression bombs before lopdf inflates object streams: every /FlateDecode stream
/// must inflate to at most [`MAX_STREAM_INFLATED`], all of them together to [`MAX_TOTAL_INFLATED`].
/// When the streams are too short to reach either limit even at deflate's maximum ratio (a
/// licence's are), nothing needs inflating; otherwise every stream is inflated with a cap.
pub fn check_inflation(pdf: &[u8]) -> Result<()> {
    let streams = flate_streams(pdf);
    let bound = |d: &[u8]| u64::try_from(d.len()).unwrap_or(u64::MAX).saturating_mul(MAX_DEFLATE_RATIO);
    let total_bound = streams.iter().map(|d| bound(d)).fold(0u64, u64::saturating_add);
    if total_bound <= MAX_TOTAL_INFLATED && streams.iter().all(|d| bound(d) <= MAX_STREAM_INFLATED) {
        return Ok(());
    }
    let mut total = 0u64;
    for data in streams {
        let mut n = 0u64;
        let mut dec = flate2::read::ZlibDecoder::new(data).take(MAX_STREAM_INFLATED + 1);
        let mut buf = [0u8; 64 * 1024];
        while let Ok(k) = dec.read(&mut buf) {
            if k == 0 {
                break;
            }
            n += u64::try_from(k).unwrap_or(0);
        }
        if n > MAX_STREAM_INFLATED {
            return Err(PdfError::Parse(format!(
                "a compressed stream inflates beyond {MAX_STREAM_INFLATED} bytes (decompression bomb?)"
            ))
            .into());
        }
        total += n;
        if total > MAX_TOTAL_INFLATED {
            return Err(PdfError::Parse(format!(
                "compressed streams inflate beyond {MAX_TOTAL_INFLATED} bytes in total"
            ))
            .into());
        }
    }
    Ok(())
}

/// What one lexical pass over the file finds.
pub struct Scan {
    /// Deepest `[`/`<<` nesting outside strings, comments and stream data.
    pub max_nesting: usize,
    /// Long hex strings that are the value of a `/Contents` key: `[start, end)`, `<` to `>`.
    pub contents: Vec<(usize, usize)>,
}

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

fn is_regular(b: u8) -> bool {
    !is_white(b) && !b"()<>[]{}/%".contains(&b)
}

/// One linear pass: nesting depth, and where the long /Contents hex strings are.
pub fn scan(pdf: &[u8]) -> Scan {
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    let mut contents = Vec::new();
    // The last token was the name /Contents (comments and white space do not count as tokens).
    let mut after_contents = false;
    // No unterminated string / stream seen yet (see below).
    let (mut strings_end, mut streams_end) = (true, true);
    while let Some(&b) = pdf.get(i) {
        let was_after_contents = after_contents;
        if !is_white(b) && b != b'%' {
            after_contents = false;
        }
        match b {
            b'%' => {
                while pdf.get(i).map(|c| *c != b'\n' && *c != b'\r').unwrap_or(false) {
                    i += 1;
                }
            }
            b'('
                // Literal string: skipped only when it ends. After an unterminated `(` no string is
                // skipped any more (each would be searched to the end of the file again): what
                // follows is scanned as tokens, as the parser may read it from another offset.
                if strings_end => {
                    match string_end(pdf, i) {
                        Some(close) => i = close,
                        None => strings_end = false,
                    }
                }
            b'/' => {
                // A name: regular characters only, so skipping them skips nothing structural.
                let len =
                    pdf.get(i + 1..).map(|s| s.iter().take_while(|c| is_regular(**c)).count()).unwrap_or(0);
                after_contents = pdf.get(i + 1..i + 1 + len) == Some(b"Contents");
                i += len;
            }
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b'<' if pdf.get(i + 1) == Some(&b'<') => {
                depth += 1;
                i += 1;
            }
            b'<' => {
                // A hex string holds only hex digits and white space: skip to its `>` (which the
                // next round handles as before, so depth counting is unchanged).
                let body = pdf
                    .get(i + 1..)
                    .map(|s| s.iter().take_while(|c| c.is_ascii_hexdigit() || is_white(**c)).count())
                    .unwrap_or(0);
                let close = i + 1 + body;
                if pdf.get(close) == Some(&b'>') {
                    let digits = pdf
                        .get(i + 1..close)
                        .map(|s| s.iter().filter(|c| c.is_ascii_hexdigit()).count())
                        .unwrap_or(0);
                    if was_after_contents && digits >= MIN_BLANKED_DIGITS {
                        contents.push((i, close + 1));
                    }
                    i = close - 1;
                }
            }
            b'>' if pdf.get(i + 1) == Some(&b'>') => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b's' if pdf.get(i..i + 6) == Some(b"stream")
                && pdf.get(i + 6).map(|c| *c == b'\r' || *c == b'\n').unwrap_or(false) =>
            {
                // Skip binary stream data up to `endstream`; without one, scan on after the keyword
                // (and never search again: no later stream can end either).
                match pdf.get(i..).filter(|_| streams_end).and_then(|rest| find(rest, b"endstream")) {
                    Some(p) => i += p + 8,
                    None => streams_end = false,
                }
            }
            _ => {}
        }
        max = max.max(depth);
        i += 1;
    }
    Scan { max_nesting: max, contents }
}

/// The `)` that ends the literal string opened at `open` (balanced parentheses, backslash
/// escapes), if the file has one.
fn string_end(pdf: &[u8], open: usize) -> Option<usize> {
    let (mut level, mut i) = (0usize, open);
    while let Some(&c) = pdf.get(i) {
        match c {
            b'\\' => i += 1,
            b'(' => level += 1,
            b')' => {
                level = level.saturating_sub(1);
                if level == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Deepest `[`/`<<` nesting outside strings, comments and stream data (a cheap linear scan).
pub fn max_nesting(pdf: &[u8]) -> usize {
    scan(pdf).max_nesting
}

/// A copy of the file in which every long /Contents hex string is replaced, in place (offsets
/// unchanged), by a marker `<offset nonce>` padded with spaces. The nonce is random per copy, so
/// a marker found in a parsed /Contents can only come from this replacement, and
/// [`Blanked::original`] gives back the value the string had.
pub struct Blanked<'a> {
    pdf: &'a [u8],
    bytes: Option<Vec<u8>>,
    nonce: [u8; 8],
    strings: Vec<(usize, usize)>,
}

impl<'a> Blanked<'a> {
    /// No replacement: the parser reads `pdf` itself.
    pub fn none(pdf: &'a [u8]) -> Self {
        Blanked { pdf, bytes: None, nonce: [0; 8], strings: Vec::new() }
    }

    /// Replace the hex strings `strings` (from [`scan`]) of `pdf`.
    pub fn new(pdf: &'a [u8], strings: Vec<(usize, usize)>) -> Result<Self> {
        if strings.is_empty() {
            return Ok(Blanked { pdf, bytes: None, nonce: [0; 8], strings });
        }
        let nonce = crate::document::render::random_bytes::<8>()?;
        let mut bytes = pdf.to_vec();
        for &(start, end) in &strings {
            let Some(slot) = bytes.get_mut(start..end) else { continue };
            slot.fill(b' ');
            let marker = marker(start, &nonce);
            if let Some(m) = slot.get_mut(..marker.len()) {
                m.copy_from_slice(&marker);
            }
            if let Some(last) = slot.last_mut() {
                *last = b'>';
            }
        }
        Ok(Blanked { pdf, bytes: Some(bytes), nonce, strings })
    }

    /// The bytes to hand to the parser.
    pub fn bytes(&self) -> &[u8] {
        self.bytes.as_deref().unwrap_or(self.pdf)
    }

    /// The original value of a parsed string, if it is one of this copy's markers.
    pub fn original(&self, parsed: &[u8]) -> Option<Vec<u8>> {
        let (offset, nonce) = (parsed.get(..8)?, parsed.get(8..)?);
        if self.bytes.is_none() || nonce != self.nonce {
            return None;
        }
        let start = usize::try_from(u64::from_be_bytes(offset.try_into().ok()?)).ok()?;
        // `scan` lists the strings in file order.
        let i = self.strings.binary_search_by_key(&start, |(s, _)| *s).ok()?;
        let &(_, end) = self.strings.get(i)?;
        Some(decode_hex(self.pdf.get(start + 1..end - 1)?))
    }
}

/// `<` + 16 hex digits of `offset` + 16 of `nonce`.
fn marker(offset: usize, nonce: &[u8; 8]) -> Vec<u8> {
    let mut m = b"<".to_vec();
    let off = u64::try_from(offset).unwrap_or(u64::MAX).to_be_bytes();
    for b in off.iter().chain(nonce.iter()) {
        m.extend_from_slice(format!("{b:02X}").as_bytes());
    }
    m
}

/// Decode hex digits, skipping white space; an odd final digit counts as followed by 0 (as in
/// ISO 32000-1 §7.3.4.3, and as lopdf reads it).
pub fn decode_hex(body: &[u8]) -> Vec<u8> {
    let nibble = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        _ => (c | 0x20).wrapping_sub(b'a').wrapping_add(10),
    };
    let mut out = Vec::with_capacity(body.len() / 2);
    let mut high: Option<u8> = None;
    for n in body.iter().copied().filter(u8::is_ascii_hexdigit).map(nibble) {
        match high.take() {
            Some(h) => out.push((h << 4) | n),
            None => high = Some(n),
        }
    }
    if let Some(h) = high {
        out.push(h << 4);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A direct /Length that runs past a fake `endstream` is what gets measured.
    #[test]
    fn flate_stream_measured_by_its_length() {
        let pdf = b"1 0 obj\n<< /Length 20 /Filter /FlateDecode >>\nstream\nabcendstreamdefghijk\nendstream\nendobj\n";
        assert_eq!(flate_streams(pdf), vec![&b"abcendstreamdefghijk"[..]]);
        let by_ref = b"1 0 obj\n<< /Length 9 0 R /Filter /FlateDecode >>\nstream\nabcendstream\nendobj\n";
        assert_eq!(flate_streams(by_ref), vec![&b"abc"[..]]);
        assert_eq!(direct_length(b"<< /Filter /FlateDecode /Length  123>>"), Some(123));
    }

    /// Only long hex strings after the name /Contents are found, and the marker maps back to them.
    #[test]
    fn contents_markers() {
        let hex = "AB".repeat(40);
        let pdf = format!("<< /Contents <{hex}> /Other <{hex}> /Contents <ABCD> /X (/Contents <{hex}>) >>\n% /Contents\n/Contents %c\n <{hex}>");
        let s = scan(pdf.as_bytes());
        assert_eq!(s.max_nesting, 1);
        assert_eq!(s.contents.len(), 2, "{:?}", s.contents);
        let b = Blanked::new(pdf.as_bytes(), s.contents.clone()).unwrap();
        assert_eq!(b.bytes().len(), pdf.len());
        let (start, end) = s.contents[0];
        let parsed = decode_hex(&b.bytes()[start + 1..end - 1]);
        assert_eq!(parsed.len(), 16);
        assert_eq!(b.original(&parsed), Some(vec![0xAB; 40]));
        let mut forged = parsed.clone();
        forged[15] ^= 1;
        assert_eq!(b.original(&forged), None);
        assert_eq!(decode_hex(b"4 1 f"), vec![0x41, 0xF0]);
        assert_eq!(decode_hex(b"aB\n0F"), vec![0xAB, 0x0F]);
        assert_eq!(find(&[b"x".repeat(70), b"%%EOF".to_vec()].concat(), b"%%EOF"), Some(70));
        assert_eq!(find(b"%%EO", b"%%EOF"), None);
    }

    /// The inflation bound never accepts what inflating would refuse: small streams pass unread.
    #[test]
    fn inflation_bound() {
        assert!(check_inflation(
            b"%PDF-1.7\n1 0 obj\n<< /Filter /FlateDecode >>\nstream\nnot zlib\nendstream\nendobj\n"
        )
        .is_ok());
    }
}
