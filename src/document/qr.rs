//! QR code drawn as an image mask (qrcode crate for the encoding, medium error correction).
//! The code carries the verification URL with the licence identifier. Also as a PNG and an SVG
//! image (for 亮证 presentations, shown on a phone): 4-module quiet zone (ISO/IEC 18004 §6.3.8).

use std::fmt::Write as _;

use lopdf::dictionary;
use qrcode::{types::Version, Color, EcLevel, QrCode};

use crate::error::{PdfError, Result};

/// Name of the QR code's image in the page's /XObject resources.
pub const XOBJECT: &str = "QR";

/// `data` as a QR code of `size` points with its lower-left at (x, y), in a 2-module quiet
/// zone: the content stream that paints it (`/QR Do`, scaled by `cm` to the symbol's side) and
/// the image, to be the page's /XObject /QR. The image is a mask (ISO 32000-1 §8.9.6.2), one
/// bit per module, rows top to bottom, a dark module 1 (`/Decode [1 0]`: painted in the fill
/// colour, black); without /Interpolate viewers and printers draw each module as a sharp
/// square. It is ~200 bytes, left uncompressed; the dark runs as rectangles were ~5.5 KB, half
/// of the content stream every licence deflates.
pub fn draw(data: &str, x: f32, y: f32, size: f32) -> Result<(String, lopdf::Stream)> {
    let symbol = encode(data.as_bytes())
        .map_err(|e| PdfError::Parse(format!("QR code cannot hold the verification URL: {e}")))?;
    let n = symbol.width();
    let quiet = 2usize;
    let cell = size / (n + 2 * quiet) as f32;
    let side = cell * n as f32;
    let (left, bottom) = (x + quiet as f32 * cell, y + quiet as f32 * cell);
    let ops = format!("q 0 0 0 rg {side:.5} 0 0 {side:.5} {left:.3} {bottom:.3} cm /{XOBJECT} Do Q\n");
    let width = i64::try_from(n).unwrap_or(i64::MAX);
    let image = lopdf::Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => width, "Height" => width,
            "ImageMask" => true, "BitsPerComponent" => 1, "Decode" => vec![1.into(), 0.into()],
        },
        symbol.packed_rows().concat(),
    );
    Ok((ops, image))
}

/// A symbol's modules: bit rows (bit x of row y set when module (x, y) is dark) for symbols up to
/// 127 modules wide, whose mask `qr_mask` chose; row-major colours for the wider ones the crate
/// draws.
enum Symbol {
    Rows(usize, Vec<u128>),
    Colors(usize, Vec<Color>),
}

impl Symbol {
    fn width(&self) -> usize {
        match self {
            Symbol::Rows(n, _) | Symbol::Colors(n, _) => *n,
        }
    }

    /// Each row's modules packed as an image's samples (ISO 32000-1 §8.9.3): 8 modules a byte,
    /// the leftmost in the high bit, a dark module 1, each row padded to whole bytes.
    fn packed_rows(&self) -> Vec<Vec<u8>> {
        let n = self.width();
        match self {
            Symbol::Rows(_, rows) => rows
                .iter()
                .map(|&bits| (0..n.div_ceil(8)).map(|j| ((bits >> (8 * j)) as u8).reverse_bits()).collect())
                .collect(),
            Symbol::Colors(_, colors) => colors
                .chunks(n.max(1))
                .map(|row| {
                    row.chunks(8)
                        .map(|eight| {
                            eight
                                .iter()
                                .enumerate()
                                .fold(0u8, |byte, (k, c)| byte | (u8::from(*c == Color::Dark) << (7 - k)))
                        })
                        .collect()
                })
                .collect(),
        }
    }
}

/// The QR code of `data` (medium error correction) as the qrcode crate makes it, module for
/// module, with its mask chosen on bit rows and columns (`qr_mask`, the crate's own choice:
/// checked against the crate in the tests below).
fn encode(data: &[u8]) -> qrcode::types::QrResult<Symbol> {
    use qrcode::canvas::Canvas;
    let bits = qrcode::bits::encode_auto(data, EcLevel::M)?;
    let version = bits.version();
    if let Version::Normal(_) = version {
        let (codewords, ec) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, EcLevel::M)?;
        let mut canvas = Canvas::new(version, EcLevel::M);
        canvas.draw_all_functional_patterns();
        canvas.draw_data(&codewords, &ec);
        if let Some(best) = super::qr_mask::best(&canvas, version) {
            return Ok(Symbol::Rows(best.n, best.rows));
        }
        let code = QrCode::with_error_correction_level(data, EcLevel::M)?;
        return Ok(Symbol::Colors(code.width(), code.into_colors()));
    }
    let code = QrCode::with_bits(bits, EcLevel::M)?;
    Ok(Symbol::Colors(code.width(), code.into_colors()))
}

/// The modules of a QR code for `data`: (width, dark flags row by row).
fn modules(data: &str) -> Result<(usize, Vec<bool>)> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|e| PdfError::Parse(format!("QR code cannot hold the data: {e}")))?;
    Ok((code.width(), code.to_colors().iter().map(|c| *c == Color::Dark).collect()))
}

/// Quiet zone around an image, modules.
const QUIET: usize = 4;

/// `data` as an SVG image: one path of unit squares, viewBox in modules, black on white.
pub fn svg(data: &str) -> Result<String> {
    let (n, dark) = modules(data)?;
    let side = n + 2 * QUIET;
    let mut d = String::new();
    for (i, _) in dark.iter().enumerate().filter(|(_, on)| **on) {
        let _ = write!(d, "M{} {}h1v1h-1z", i % n + QUIET, i / n + QUIET);
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
         shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\
         <path fill=\"#000\" d=\"{d}\"/></svg>"
    ))
}

/// `data` as a PNG image (8-bit greyscale, `scale` pixels per module).
pub fn png(data: &str, scale: usize) -> Result<Vec<u8>> {
    let (n, dark) = modules(data)?;
    let scale = scale.clamp(1, 16);
    let side = (n + 2 * QUIET) * scale;
    let mut raw = Vec::with_capacity((side + 1) * side);
    for y in 0..side {
        raw.push(0u8); // filter type None
        let row = (y / scale).checked_sub(QUIET).filter(|r| *r < n);
        for x in 0..side {
            let col = (x / scale).checked_sub(QUIET).filter(|c| *c < n);
            let on =
                matches!((row, col), (Some(r), Some(c)) if dark.get(r * n + c).copied().unwrap_or(false));
            raw.push(if on { 0 } else { 255 });
        }
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut z, &raw).map_err(|e| PdfError::Parse(e.to_string()))?;
    let idat = z.finish().map_err(|e| PdfError::Parse(e.to_string()))?;
    let side32 = u32::try_from(side).map_err(|_| PdfError::Parse("QR image too large".into()))?;
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&side32.to_be_bytes());
    ihdr.extend_from_slice(&side32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit, greyscale, deflate, no filter, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, body) in [(b"IHDR", ihdr.as_slice()), (b"IDAT", idat.as_slice()), (b"IEND", &[][..])] {
        out.extend_from_slice(&u32::try_from(body.len()).unwrap_or(0).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(body);
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast mask choice gives the qrcode crate's own symbol, module for module, for
    /// verification URLs of every length a licence uses, short, binary and long data (every
    /// version), and 1,000 random payloads.
    #[test]
    fn same_symbol_as_the_crate() {
        let id = "1.2.156.3005.2.11100000MB0341032Y001.11370900MB28570021.20261126KEEF65S507.001.Z";
        let mut inputs: Vec<Vec<u8>> = vec![b"1".to_vec(), b"HELLO WORLD".to_vec(), vec![0, 255, 7, 128]];
        for base in ["http://127.0.0.1:8080/verify", "https://zw.taian.gov.cn/zhengyin/verify"] {
            for cut in [0, 5, 17, 40, id.len()] {
                inputs.push(format!("{base}?id={}", &id[..cut]).into_bytes());
            }
        }
        // Long enough for versions 20 to 40 (the widest are left to the crate), and 1,000 more.
        inputs.extend((0..8).map(|k| vec![b'7'; 700 + 600 * k]));
        inputs.extend(super::super::qr_mask::tests::payloads(1000));
        for data in inputs {
            let code = QrCode::with_error_correction_level(&data, EcLevel::M).unwrap();
            let symbol = encode(&data).unwrap();
            assert_eq!(symbol.width(), code.width());
            let crate_rows = Symbol::Colors(code.width(), code.to_colors()).packed_rows();
            assert_eq!(symbol.packed_rows(), crate_rows, "{}", String::from_utf8_lossy(&data));
            if let Symbol::Rows(n, rows) = &symbol {
                let colors = super::super::qr_mask::colors(*n, rows);
                assert_eq!(colors, code.to_colors(), "{}", String::from_utf8_lossy(&data));
            }
        }
    }

    /// Rows packed from bit rows equal the rows packed from the colours, at the row's edges
    /// too: a full row, an empty one, single modules and a module at the last of 127 (the high
    /// bit of the row's 16th byte, with the byte's last bit the padding).
    #[test]
    fn bit_rows_pack_like_colours() {
        let n = 127;
        let full = (1u128 << n) - 1;
        let rows = vec![full, 0, 1, 1 << (n - 1), 0b1011_0111 << 60, full ^ (1 << 64), full & !1];
        let colors = super::super::qr_mask::colors(n, &rows);
        let from_bits = Symbol::Rows(n, rows).packed_rows();
        assert_eq!(from_bits, Symbol::Colors(n, colors).packed_rows());
        assert_eq!(from_bits[0], [vec![0xff; 15], vec![0xfe]].concat());
        assert_eq!(from_bits[2][0], 0x80);
        assert_eq!(from_bits[3][15], 0x02);
        assert_eq!(from_bits[1], vec![0; 16]);
    }

    /// The content stream paints the image once, inside the quiet zone; the image is a 1-bit
    /// mask of the symbol's width, its rows whole bytes.
    #[test]
    fn draws_one_image_mask() {
        let url = "https://zw.taian.gov.cn/zhengyin/verify?id=1";
        let (ops, image) = draw(url, 458.0, 668.0, 84.0).unwrap();
        let n = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).unwrap().width();
        let cell = 84.0 / (n + 4) as f32;
        assert_eq!(
            ops,
            format!(
                "q 0 0 0 rg {0:.5} 0 0 {0:.5} {1:.3} {2:.3} cm /QR Do Q\n",
                cell * n as f32,
                458.0 + 2.0 * cell,
                668.0 + 2.0 * cell
            )
        );
        assert_eq!(image.dict.get(b"Width").unwrap().as_i64().unwrap(), n as i64);
        assert!(image.dict.get(b"ImageMask").unwrap().as_bool().unwrap());
        assert_eq!(image.content.len(), n * n.div_ceil(8));
    }
}
