//! Licence documents: templates, rendering (text, layout, QR), the visible red seal, metadata and
//! the GB/T 36904 identifier. Produces unsigned PDF bytes and appearance streams; never imports
//! `pades` (signing) or `verify`.

pub mod font;
pub mod identifier;
pub mod linebreak;
pub mod metadata;
pub mod pdfa;
pub mod qr;
mod qr_mask;
pub mod render;
pub mod report;
pub mod seal;
pub mod seal_block;
pub mod template;
pub mod watermark;

pub use identifier::LicenceId;
pub use metadata::LicenceMetadata;
pub use render::{render, render_doc, seal_field_name, seal_slot, RenderInput, RenderedLicence};
pub use template::{LicenceData, Template};

/// Flate-compress a stream at zlib's default level. lopdf's `Stream::compress` always uses the
/// best (slowest) level, which cost 1.4 ms per licence on the font program alone for ~1% size.
pub fn compress(stream: &mut lopdf::Stream) -> crate::Result<()> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&stream.content).map_err(|e| crate::error::PdfError::Parse(e.to_string()))?;
    let data = z.finish().map_err(|e| crate::error::PdfError::Parse(e.to_string()))?;
    stream.dict.set("Filter", "FlateDecode");
    stream.set_content(data);
    Ok(())
}

/// `unix` in China Standard Time (UTC+8), the zone of every date printed on a document.
pub fn china_time(unix: i64) -> time::OffsetDateTime {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.to_offset(time::UtcOffset::from_hms(8, 0, 0).unwrap_or(time::UtcOffset::UTC))
}

/// `YYYY-MM-DD` of `unix` in China Standard Time.
pub fn china_date(unix: i64) -> String {
    let t = china_time(unix);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// A rectangle in PDF user space (points), lower-left to upper-right.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
}
