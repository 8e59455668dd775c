//! Attack table of tests/attacks.rs, part 4: shadow attacks (hide / replace / hide-and-replace), the appearance changed after signing.

use super::*;

pub(super) fn attacks() -> Vec<Attack> {
    vec![
        Attack {
            name: "shadow_hide_overlay_content",
            family: "Shadow",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let p = page_id(&d);
                let mut page = dict_of(&d, p);
                let n = next_num(&d);
                let orig = page.get(b"Contents").expect("/Contents").clone();
                page.set("Contents", vec![orig, Object::Reference((n, 0))]);
                Update::new(&f.b)
                    .set(n, stream("", b"q 1 1 1 rg 60 560 480 60 re f Q"))
                    .set(p.0, dict(&page))
                    .write()
            },
            expect: |v| modified(v, S1B, "Page"),
        },
        Attack {
            name: "shadow_hide_and_replace_xobject",
            family: "Shadow",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let p = page_id(&d);
                let mut page = dict_of(&d, p);
                let n = next_num(&d);
                let mut res = page.get(b"Resources").and_then(Object::as_dict).cloned().expect("/Resources");
                res.set("XObject", lopdf::dictionary! { "Fx" => Object::Reference((n + 1, 0)) });
                page.set("Resources", res);
                let orig = page.get(b"Contents").expect("/Contents").clone();
                page.set("Contents", vec![orig, Object::Reference((n + 2, 0))]);
                Update::new(&f.b)
                    .set(n, HELVETICA.into())
                    .set(n + 1, stream(&format!("/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources << /Font << /FX {n} 0 R >> >>"), OVERLAY))
                    .set(n + 2, stream("", b"q /Fx Do Q"))
                    .set(p.0, dict(&page))
                    .write()
            },
            expect: |v| modified(v, S1B, "Page"),
        },
        Attack {
            name: "shadow_swap_content_stream",
            family: "Shadow",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let p = page_id(&d);
                let mut page = dict_of(&d, p);
                let n = next_num(&d);
                page.set("Contents", Object::Reference((n, 0)));
                Update::new(&f.b)
                    .set(n, stream("", b"q 1 0 0 rg 60 560 480 60 re f Q"))
                    .set(p.0, dict(&page))
                    .write()
            },
            expect: |v| modified(v, S1B, "Page"),
        },
        Attack {
            name: "shadow_replace_font",
            family: "Shadow",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                // Swap the text font for Helvetica: every glyph of the licence renders differently.
                let d = load(&f.b);
                let font = page_font(&d);
                Update::new(&f.b).set(font.0, HELVETICA.into()).write()
            },
            expect: |v| modified(v, S1B, "Font"),
        },
        Attack {
            name: "shadow_replace_tounicode",
            family: "Shadow",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                // Same glyphs, different extracted text (copy/paste, search, accessibility).
                let d = load(&f.b);
                let font = page_font(&d);
                let tu = get_ref(&d, font, b"ToUnicode");
                let cmap = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Forged def 1 begincodespacerange <0000> <FFFF> endcodespacerange 1 beginbfrange <0000> <FFFF> <0058> endbfrange endcmap CMapName currentdict /CMap defineresource pop end end";
                Update::new(&f.b).set(tu.0, stream("", cmap)).write()
            },
            expect: |v| modified(v, S1B, "stream"),
        },
        Attack {
            name: "shadow_replace_seal_appearance",
            family: "Shadow",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                // Redefine the form XObject the signed widget shows (the red seal).
                let d = load(&f.b);
                let w = dict_of(&d, field_id(&d, S1B));
                let ap = w
                    .get(b"AP")
                    .and_then(Object::as_dict)
                    .and_then(|a| a.get(b"N"))
                    .and_then(Object::as_reference)
                    .expect("/AP /N");
                Update::new(&f.b)
                    .set(ap.0, stream("/Type /XObject /Subtype /Form /BBox [0 0 119 119]", b""))
                    .write()
            },
            expect: |v| modified(v, S1B, "XObject/Form"),
        },
        Attack {
            name: "shadow_overlay_unsigned_sig_widget",
            family: "Shadow",
            base: "b",
            allow_incomplete: false,
            build: |f, _| unsigned_sig_field(&f.b, "[0 0 595 842]", OVERLAY, "Overlay"),
            expect: |v| modified(v, S1B, ""),
        },
    ]
}
