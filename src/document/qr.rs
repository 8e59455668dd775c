//! QR code drawn as vector squares (qrcode crate for the encoding, medium error correction).
//! The code carries the verification URL with the licence identifier. Also as a PNG and an SVG
//! image (for 亮证 presentations, shown on a phone): 4-module quiet zone (ISO/IEC 18004 §6.3.8).

use std::fmt::Write as _;

use qrcode::{Color, EcLevel, QrCode};

use crate::error::{PdfError, Result};

/// Content stream drawing `data` as a QR code of `size` points with its lower-left at (x, y).
pub fn draw(data: &str, x: f32, y: f32, size: f32) -> Result<String> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|e| PdfError::Parse(format!("QR code cannot hold the verification URL: {e}")))?;
    let n = code.width();
    let quiet = 2usize;
    let cell = size / (n + 2 * quiet) as f32;
    let mut s = String::from("q 0 0 0 rg\n");
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == Color::Dark {
            let (row, col) = (i / n, i % n);
            let px = x + (col + quiet) as f32 * cell;
            let py = y + size - (row + quiet + 1) as f32 * cell;
            let _ = writeln!(s, "{px:.3} {py:.3} {:.3} {:.3} re", cell + 0.02, cell + 0.02);
        }
    }
    s.push_str("f Q\n");
    Ok(s)
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
