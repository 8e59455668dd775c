//! Licence documents: templates, rendering (text, layout, QR), the visible red seal, metadata and
//! the GB/T 36904 identifier. Produces unsigned PDF bytes and appearance streams; never imports
//! `pades` (signing) or `verify`.

pub mod font;
pub mod identifier;
pub mod metadata;
pub mod qr;
pub mod render;
pub mod seal;
pub mod template;
pub mod watermark;

pub use identifier::LicenceId;
pub use metadata::LicenceMetadata;
pub use render::{render, seal_field_name, seal_slot, RenderInput, RenderedLicence};
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

/// A rectangle in PDF user space (points), lower-left to upper-right.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
}
