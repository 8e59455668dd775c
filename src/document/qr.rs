//! QR code drawn as vector squares (qrcode crate for the encoding, medium error correction).
//! The code carries the verification URL with the licence identifier.

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
