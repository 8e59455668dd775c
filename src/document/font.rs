//! The embedded CJK font and per-document subsetting: text is encoded as 2-byte glyph ids
//! (Identity-H), the used glyphs are subset into a TrueType program (FontFile2), and a
//! ToUnicode CMap maps them back so `pdftotext` extracts the same characters.
//!
//! Font: WenQuanYi Micro Hei (Apache-2.0, TrueType outlines, Latin + CJK), fixtures/fonts/. ISO 32000-1 §9.7.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use lopdf::{dictionary, Object, ObjectId, Stream};
use subsetter::GlyphRemapper;

use crate::error::{DataError, PdfError, Result};

static FONT_DATA: &[u8] = include_bytes!("../../fixtures/fonts/wqy-microhei.ttc");
const FONT_NAME: &str = "WenQuanYiMicroHei";
/// Glyph width (/DW) of the glyphs /W does not list: full-width CJK.
const DEFAULT_WIDTH: i64 = 1000;

struct Font {
    face: ttf_parser::Face<'static>,
    units_per_em: f32,
}

/// Each Basic Multilingual Plane character's glyph id and advance, looked up in the font the
/// first time it is drawn or measured (line breaking asks for every character of every field of
/// every licence; the font's cmap search was ~3 % of bulk issuance). 0 = not looked up yet; else
/// bit 31 is set, bit 30 says the font has a glyph, bits 16–29 hold the advance, bits 0–15 the
/// glyph id. 256 KiB of zeroed static memory, touched only where used.
static BMP_GLYPHS: [AtomicU32; 0x10000] = [const { AtomicU32::new(0) }; 0x10000];
const KNOWN: u32 = 1 << 31;
const HAS_GLYPH: u32 = 1 << 30;
/// Advances this wide or wider are not memoised (none in the embedded font).
const MAX_MEMO_ADVANCE: u16 = 1 << 14;

impl Font {
    /// The glyph id and advance (font units) of `ch`, `None` when the font has no glyph for it.
    fn lookup(&self, ch: char) -> Option<(u16, u16)> {
        let look = || {
            let g = self.face.glyph_index(ch)?;
            Some((g.0, self.face.glyph_hor_advance(g).unwrap_or(0)))
        };
        let Some(slot) = usize::try_from(u32::from(ch)).ok().and_then(|i| BMP_GLYPHS.get(i)) else {
            return look();
        };
        let memo = slot.load(Ordering::Relaxed);
        if memo & KNOWN != 0 {
            return (memo & HAS_GLYPH != 0).then_some(((memo & 0xFFFF) as u16, (memo >> 16 & 0x3FFF) as u16));
        }
        let found = look();
        match found {
            Some((g, adv)) if adv < MAX_MEMO_ADVANCE => {
                slot.store(KNOWN | HAS_GLYPH | u32::from(adv) << 16 | u32::from(g), Ordering::Relaxed)
            }
            None => slot.store(KNOWN, Ordering::Relaxed),
            Some(_) => {}
        }
        found
    }
}

fn font() -> Result<&'static Font> {
    static FONT: OnceLock<Option<Font>> = OnceLock::new();
    FONT.get_or_init(|| {
        let face = ttf_parser::Face::parse(FONT_DATA, 0).ok()?;
        let units_per_em = f32::from(face.units_per_em());
        Some(Font { face, units_per_em })
    })
    .as_ref()
    .ok_or_else(|| PdfError::Parse("embedded font is unreadable".into()).into())
}

/// Collects the glyphs one PDF (or one appearance stream) uses, then emits the font objects.
pub struct TextEncoder {
    font: &'static Font,
    remap: GlyphRemapper,
    /// new glyph id → (old glyph id, character)
    used: BTreeMap<u16, (u16, char)>,
    /// A subset made beforehand for many documents: text is encoded in its glyph ids.
    shared: Option<Arc<SharedFont>>,
    /// A character the shared subset lacks was encoded (as glyph 0): render again without it.
    missed: bool,
}

/// A font subset made once and embedded, byte for byte, in many documents (bulk issuance,
/// `licence::batch`): the glyphs of a set of characters, numbered in character order, with the
/// program already subset and compressed. A document drawn with it carries the same five font
/// objects as one with its own subset, only with the glyphs of the whole set.
pub struct SharedFont {
    /// (character, glyph id), sorted by character: searched by bisection for every character
    /// drawn (a hash map with SipHash cost three times as much).
    gids: Vec<(char, u16)>,
    parts: FontParts,
}

impl SharedFont {
    /// The subset for `chars` (characters the font cannot draw are left out: text using them
    /// is refused by [`TextEncoder::check`] as before).
    pub fn new(chars: impl IntoIterator<Item = char>) -> Result<SharedFont> {
        let mut enc = TextEncoder::new()?;
        let mut chars: Vec<char> = chars.into_iter().filter(|c| enc.glyph(*c, "").is_ok()).collect();
        chars.sort_unstable();
        chars.dedup();
        let text: String = chars.iter().collect();
        enc.encode(&text)?;
        // `chars` is sorted and deduplicated, so `gids` is too.
        let gids = chars.iter().filter_map(|c| Some((*c, enc.remap.get(enc.glyph(*c, "").ok()?)?))).collect();
        Ok(SharedFont { gids, parts: enc.parts()? })
    }

    /// How many glyphs the subset holds.
    pub fn len(&self) -> usize {
        self.gids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.gids.is_empty()
    }
}

/// Append `g` as four upper-case hex digits (`{g:04X}`).
fn push_hex4(out: &mut String, g: u16) {
    for shift in [12, 8, 4, 0] {
        out.push(char::from(b"0123456789ABCDEF".get(usize::from(g >> shift & 0xF)).copied().unwrap_or(b'0')));
    }
}

/// The finished objects of a subset: the compressed program and ToUnicode CMap, /W, the name.
struct FontParts {
    program: Stream,
    cmap: Stream,
    widths: Vec<Object>,
    base: String,
}

impl TextEncoder {
    pub fn new() -> Result<Self> {
        Ok(TextEncoder {
            font: font()?,
            remap: GlyphRemapper::new(),
            used: BTreeMap::new(),
            shared: None,
            missed: false,
        })
    }

    /// An encoder that draws with `shared` (whose objects [`finish`](Self::finish) emits).
    pub fn with_shared(shared: Arc<SharedFont>) -> Result<Self> {
        Ok(TextEncoder { shared: Some(shared), ..TextEncoder::new()? })
    }

    /// Whether some text used a character the shared subset lacks (its glyph is wrong: the
    /// document must be drawn again with its own subset).
    pub fn missed(&self) -> bool {
        self.missed
    }

    fn glyph(&self, ch: char, context: &str) -> Result<u16> {
        self.font.lookup(ch).map(|(g, _)| g).ok_or_else(|| {
            DataError::Unrenderable { ch, code: u32::from(ch), context: context.to_string() }.into()
        })
    }

    /// Check every character of `text` can be drawn (for early, clear errors).
    pub fn check(&self, text: &str, context: &str) -> Result<()> {
        text.chars().try_for_each(|c| self.glyph(c, context).map(|_| ()))
    }

    /// Encode text as a PDF hex string of 2-byte glyph ids (for `Tj`).
    pub fn encode(&mut self, text: &str) -> Result<String> {
        let mut out = String::with_capacity(2 + 4 * text.len());
        out.push('<');
        if let Some(shared) = &self.shared {
            for ch in text.chars() {
                let new = match shared.gids.binary_search_by_key(&ch, |(c, _)| *c) {
                    Ok(i) => shared.gids.get(i).map_or(0, |(_, g)| *g),
                    Err(_) => {
                        self.glyph(ch, "text")?;
                        self.missed = true;
                        0
                    }
                };
                push_hex4(&mut out, new);
            }
            out.push('>');
            return Ok(out);
        }
        for ch in text.chars() {
            let old = self.glyph(ch, "text")?;
            let new = self.remap.remap(old);
            self.used.entry(new).or_insert((old, ch));
            push_hex4(&mut out, new);
        }
        out.push('>');
        Ok(out)
    }

    /// Advance width of one character at `size` points.
    pub fn char_width(&self, ch: char, size: f32) -> f32 {
        let adv = self.font.lookup(ch).map(|(_, adv)| adv).unwrap_or(0);
        f32::from(adv) / self.font.units_per_em * size
    }

    /// Advance width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.char_width(c, size)).sum()
    }

    /// Emit the Type0 font (and its descendants) through `add`, returning the Type0 object id.
    pub fn finish(self, add: &mut dyn FnMut(Object) -> ObjectId) -> Result<ObjectId> {
        match &self.shared {
            Some(shared) => Ok(self.emit(&shared.parts, add)),
            None => {
                let parts = self.parts()?;
                Ok(self.emit(&parts, add))
            }
        }
    }

    /// Subset and compress the glyphs used so far.
    fn parts(&self) -> Result<FontParts> {
        let program = subsetter::subset(FONT_DATA, 0, &self.remap)
            .map_err(|e| PdfError::Parse(format!("font subsetting failed: {e:?}")))?;
        let scale = 1000.0 / self.font.units_per_em;
        // /W lists only widths other than /DW (most CJK glyphs are 1000 wide), consecutive glyph
        // ids grouped as `first [w1 w2 …]` (ISO 32000-1 §9.7.4.3): a short array is quick to parse.
        let mut widths = Vec::new();
        let mut run: Option<(u16, Vec<Object>)> = None;
        for (&new, &(old, _)) in &self.used {
            let adv = self.font.face.glyph_hor_advance(ttf_parser::GlyphId(old)).unwrap_or(0);
            let w = (f32::from(adv) * scale).round() as i64;
            if w == DEFAULT_WIDTH {
                continue;
            }
            match &mut run {
                Some((first, ws)) if usize::from(*first) + ws.len() == usize::from(new) => {
                    ws.push(Object::Integer(w))
                }
                _ => {
                    if let Some((first, ws)) = run.take() {
                        widths.extend([Object::Integer(i64::from(first)), Object::Array(ws)]);
                    }
                    run = Some((new, vec![Object::Integer(w)]));
                }
            }
        }
        if let Some((first, ws)) = run {
            widths.extend([Object::Integer(i64::from(first)), Object::Array(ws)]);
        }
        // Subset tag: six letters derived from the glyph set, as ISO 32000-1 §9.6.4 asks.
        let digest = ring::digest::digest(&ring::digest::SHA256, &program);
        let tag: String = digest.as_ref().iter().take(6).map(|b| char::from(b'A' + b % 26)).collect();
        let base = format!("{tag}+{FONT_NAME}");
        let length1 = i64::try_from(program.len()).unwrap_or(i64::MAX);
        let mut file = Stream::new(dictionary! { "Length1" => length1 }, program);
        super::compress(&mut file)?;
        let mut cmap = Stream::new(dictionary! {}, self.to_unicode().into_bytes());
        super::compress(&mut cmap)?;
        Ok(FontParts { program: file, cmap, widths, base })
    }

    /// The five font objects of `parts`, through `add`; the Type0 font's id.
    fn emit(&self, parts: &FontParts, add: &mut dyn FnMut(Object) -> ObjectId) -> ObjectId {
        let scale = 1000.0 / self.font.units_per_em;
        let base = parts.base.clone();
        let bbox = self.font.face.global_bounding_box();
        let s = |v: i16| Object::Integer((f32::from(v) * scale).round() as i64);
        let file_id = add(Object::Stream(parts.program.clone()));
        let descriptor = add(Object::Dictionary(dictionary! {
            "Type" => "FontDescriptor",
            "FontName" => Object::Name(base.clone().into_bytes()),
            "Flags" => 4,
            "FontBBox" => vec![s(bbox.x_min), s(bbox.y_min), s(bbox.x_max), s(bbox.y_max)],
            "ItalicAngle" => 0,
            "Ascent" => s(self.font.face.ascender()),
            "Descent" => s(self.font.face.descender()),
            "CapHeight" => s(self.font.face.capital_height().unwrap_or(self.font.face.ascender())),
            "StemV" => 80,
            "FontFile2" => file_id,
        }));
        let cid = add(Object::Dictionary(dictionary! {
            "Type" => "Font",
            "Subtype" => "CIDFontType2",
            "BaseFont" => Object::Name(base.clone().into_bytes()),
            "CIDSystemInfo" => dictionary! {
                "Registry" => Object::string_literal("Adobe"),
                "Ordering" => Object::string_literal("Identity"),
                "Supplement" => 0,
            },
            "FontDescriptor" => descriptor,
            "DW" => DEFAULT_WIDTH,
            "W" => parts.widths.clone(),
            "CIDToGIDMap" => "Identity",
        }));
        let cmap_id = add(Object::Stream(parts.cmap.clone()));
        add(Object::Dictionary(dictionary! {
            "Type" => "Font",
            "Subtype" => "Type0",
            "BaseFont" => Object::Name(base.into_bytes()),
            "Encoding" => "Identity-H",
            "DescendantFonts" => vec![Object::Reference(cid)],
            "ToUnicode" => cmap_id,
        }))
    }

    fn to_unicode(&self) -> String {
        let mut s = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
             /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
             /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
             1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        let entries: Vec<_> = self.used.iter().collect();
        for chunk in entries.chunks(100) {
            let _ = writeln!(s, "{} beginbfchar", chunk.len());
            for (new, (_, ch)) in chunk {
                let mut buf = [0u16; 2];
                let hex: String = ch.encode_utf16(&mut buf).iter().map(|u| format!("{u:04X}")).collect();
                let _ = writeln!(s, "<{new:04X}> <{hex}>");
            }
            s.push_str("endbfchar\n");
        }
        s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// For every BMP character, the memoised glyph id and advance equal the font's own answer,
    /// both the first time (looked up) and the second (from the memo); a character beyond the
    /// BMP is answered too.
    #[test]
    fn memoised_glyphs_equal_the_fonts_answer() {
        let font = font().expect("font");
        let direct = |ch: char| {
            let g = font.face.glyph_index(ch)?;
            Some((g.0, font.face.glyph_hor_advance(g).unwrap_or(0)))
        };
        let mut drawn = 0;
        for round in 0..2 {
            for ch in (0..=0xFFFFu32).filter_map(char::from_u32).chain(['😀', '𠀀']) {
                assert_eq!(font.lookup(ch), direct(ch), "{ch:?} (U+{:04X}), round {round}", u32::from(ch));
                drawn += usize::from(round == 0 && direct(ch).is_some());
            }
        }
        assert!(drawn > 20_000, "the CJK font draws {drawn} BMP characters");
    }
}
