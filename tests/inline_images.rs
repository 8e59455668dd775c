//! Page content with inline images whose data is filtered (ASCIIHex, ASCII85 whose digits hold
//! `EI`, Flate bytes): the vendored lopdf reads past each image to the text after it, so the
//! archive audit's "usable" check (text extracted from page 1) holds for such a received PDF;
//! lopdf 0.38 as published refused every filtered inline image ("not yet implemented").

use lopdf::{dictionary, Document, Object, Stream};

/// A one-page PDF (Helvetica) whose content is `content`.
fn pdf(content: &[u8]) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages = doc.new_object_id();
    let font =
        doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let content = doc.add_object(Stream::new(dictionary! {}, content.to_vec()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 200.into(), 200.into()],
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
    });
    doc.objects.insert(
        pages,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn text_after(image: &[u8]) -> Result<String, String> {
    let content = [
        b"q 10 0 0 10 20 20 cm ".as_slice(),
        image,
        b"\nQ BT /F1 12 Tf 20 100 Td (Seen after the image) Tj ET\n",
    ]
    .concat();
    let doc = Document::load_mem(&pdf(&content)).map_err(|e| e.to_string())?;
    doc.extract_text(&[1]).map_err(|e| e.to_string())
}

#[test]
fn text_after_filtered_inline_images_is_read() {
    let flate = {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(&[0x80, 0x45, 0x49, 0x00, 0xff]).unwrap(); // holds "EI" with no space before it
        z.finish().unwrap()
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("unfiltered", b"BI /W 8 /H 1 /BPC 1 /IM true ID \x80\nEI".to_vec()),
        ("ASCIIHex", b"BI /W 8 /H 2 /BPC 1 /IM true /F /AHx ID 80\nff>\nEI".to_vec()),
        ("ASCII85 holding EI", b"BI /W 8 /H 1 /BPC 8 /CS /G /F /A85 ID 9j EI~>\nEI".to_vec()),
        ("ASCII85 in a filter array", b"BI /W 8 /H 1 /BPC 8 /CS /G /F [/A85] ID EI EI~> EI".to_vec()),
        ("Flate", [b"BI /W 5 /H 1 /BPC 8 /CS /G /F /Fl ID ".as_slice(), &flate, b"\nEI"].concat()),
    ];
    for (name, image) in cases {
        let text = text_after(&image).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(text.contains("Seen after the image"), "{name}: {text:?}");
    }
}

/// Inline images lopdf cannot read are refused with an error, not a panic and not read as text:
/// one never ended by `EI` (the scan stops at the end of the stream), one without a colour space
/// (lopdf 0.38 unwrapped it and panicked), and one whose sizes overflow.
#[test]
fn unreadable_inline_images_are_errors() {
    for image in [
        b"BI /W 8 /H 1 /BPC 1 /IM true /F /AHx ID 80>".as_slice(),
        b"BI /W 1 /H 1 /BPC 8 ID \x00\nEI",
        b"BI /W -1 /H 3 /BPC 8 /CS /G ID \x00\nEI",
        b"BI /W 4611686018427387904 /H 4 /BPC 8 /CS /RGB ID \x00\nEI",
    ] {
        let outcome = std::panic::catch_unwind(|| text_after(image));
        let text =
            outcome.unwrap_or_else(|_| panic!("lopdf panicked on {:?}", String::from_utf8_lossy(image)));
        if let Ok(text) = text {
            assert!(!text.contains("Seen after the image"), "{text:?}");
        }
    }
}
