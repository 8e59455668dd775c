//! Attack table of tests/attacks.rs, part 1: incremental saving attacks (ISA) on b.pdf, updates appended after the certifying seal.

use super::*;

pub(super) fn attacks() -> Vec<Attack> {
    vec![
        Attack {
            name: "isa_replace_content_stream",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let c = get_ref(&d, page_id(&d), b"Contents");
                Update::new(&f.b).set(c.0, stream("", b"q 1 0 0 rg 60 560 480 60 re f Q")).write()
            },
            expect: |v| modified(v, S1B, "stream"),
        },
        Attack {
            name: "isa_change_info_holder",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let i = info_id(&d);
                let mut info = dict_of(&d, i);
                info.set("CZZT", text(FORGED_HOLDER));
                Update::new(&f.b).set(i.0, dict(&info)).write()
            },
            expect: |v| modified(v, S1B, "changed after signing"),
        },
        Attack {
            name: "isa_new_info_object",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let mut info = dict_of(&d, info_id(&d));
                info.set("CZZT", text(FORGED_HOLDER));
                let n = next_num(&d);
                let mut u = Update::new(&f.b).set(n, dict(&info));
                u.info = Some((n, 0));
                u.write()
            },
            expect: |v| {
                let czzt = v.json.as_ref().map(|j| j["licence"]["czzt"].clone()).unwrap_or_default();
                not_passed(v).map_err(|e| format!("{e}; the report shows holder {czzt}"))?;
                modified(v, S1B, "information dictionary")
            },
        },
        Attack {
            name: "isa_add_freetext_annotation",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let n = next_num(&d);
                let (pn, page) = page_with_annot(&d, n);
                Update::new(&f.b)
                    .set(n, format!("<< /Type /Annot /Subtype /FreeText /F 4 /P {} 0 R /Rect [60 560 540 620] /Contents (FORGED) /DA (/Helv 24 Tf 1 0 0 rg) >>", page_id(&d).0).into_bytes())
                    .set(pn, page)
                    .write()
            },
            expect: |v| modified(v, S1B, "Page"),
        },
        Attack {
            name: "isa_add_link_annotation",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let n = next_num(&d);
                let (pn, page) = page_with_annot(&d, n);
                Update::new(&f.b)
                    .set(n, b"<< /Type /Annot /Subtype /Link /Rect [0 0 595 842] /Border [0 0 0] /A << /S /URI /URI (https://evil.example/pay) >> >>".to_vec())
                    .set(pn, page)
                    .write()
            },
            expect: |v| modified(v, S1B, "Page"),
        },
        Attack {
            name: "isa_catalog_drops_perms",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let c = catalog_id(&d);
                let mut cat = dict_of(&d, c);
                assert!(cat.remove(b"Perms").is_some(), "the certified catalog has /Perms");
                Update::new(&f.b).set(c.0, dict(&cat)).write()
            },
            expect: |v| modified(v, S1B, "Catalog"),
        },
        Attack {
            name: "isa_delete_object",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let meta = get_ref(&d, catalog_id(&d), b"Metadata");
                let mut u = Update::new(&f.b);
                u.free.push(meta.0);
                u.write()
            },
            expect: |v| modified(v, S1B, "freed"),
        },
        Attack {
            name: "isa_add_page",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let pages = get_ref(&d, page_id(&d), b"Parent");
                let n = next_num(&d);
                let mut p = dict_of(&d, pages);
                let mut kids = p.get(b"Kids").and_then(Object::as_array).cloned().expect("/Kids");
                kids.push(Object::Reference((n + 1, 0)));
                p.set("Kids", kids);
                p.set("Count", 2);
                Update::new(&f.b)
                    .set(n, stream("", b"q 1 0 0 rg 100 400 400 100 re f Q"))
                    .set(n + 1, format!("<< /Type /Page /Parent {} 0 R /MediaBox [0 0 595.28 841.89] /Resources << >> /Contents {n} 0 R >>", pages.0).into_bytes())
                    .set(pages.0, dict(&p))
                    .write()
            },
            expect: |v| modified(v, S1B, "Pages"),
        },
        Attack {
            name: "isa_change_xmp_metadata",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let meta = get_ref(&d, catalog_id(&d), b"Metadata");
                let xmp = String::from_utf8(
                    d.get_object(meta).and_then(Object::as_stream).expect("XMP stream").content.clone(),
                )
                .expect("UTF-8 XMP");
                assert!(xmp.contains(HOLDER), "the XMP names the holder");
                let forged = xmp.replace(HOLDER, FORGED_HOLDER);
                Update::new(&f.b)
                    .set(meta.0, stream("/Type /Metadata /Subtype /XML", forged.as_bytes()))
                    .write()
            },
            expect: |v| modified(v, S1B, "Metadata"),
        },
        Attack {
            name: "isa_move_signed_widget",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let w = field_id(&d, S1B);
                let mut widget = dict_of(&d, w);
                widget.set(
                    "Rect",
                    vec![Object::Integer(0), Object::Integer(0), Object::Integer(0), Object::Integer(0)],
                );
                Update::new(&f.b).set(w.0, dict(&widget)).write()
            },
            expect: |v| modified(v, S1B, "Widget"),
        },
        Attack {
            name: "isa_add_unsigned_signature_field",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                unsigned_sig_field(&f.b, "[400 300 520 420]", b"q 1 0 0 RG 4 w 60 60 50 0 360 re S Q q 1 0 0 rg BT /FX 10 Tf 30 55 Td (APPROVED) Tj ET Q", "Seal2_extra")
            },
            expect: |v| modified(v, S1B, ""),
        },
        Attack {
            name: "isa_strip_signature_field",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let form = get_ref(&d, catalog_id(&d), b"AcroForm");
                let mut fd = dict_of(&d, form);
                fd.set("Fields", Vec::<Object>::new());
                let p = page_id(&d);
                let mut page = dict_of(&d, p);
                page.set("Annots", Vec::<Object>::new());
                Update::new(&f.b).set(form.0, dict(&fd)).set(p.0, dict(&page)).write()
            },
            expect: |v| {
                let j = v.json.as_ref().ok_or("no report")?;
                if j["indication"] == "TOTAL-PASSED" || j["sub_indication"] != "SIGNED_DATA_NOT_FOUND" {
                    return Err(format!(
                        "expected INDETERMINATE/SIGNED_DATA_NOT_FOUND, got {}",
                        v.indication()
                    ));
                }
                Ok(())
            },
        },
        Attack {
            name: "isa_update_without_eof",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let c = get_ref(&d, page_id(&d), b"Contents");
                let mut u = Update::new(&f.b).set(c.0, stream("", b"q 1 0 0 rg 60 560 480 60 re f Q"));
                u.eof = false;
                u.write()
            },
            // Either unreadable or the change is seen.
            expect: |v| if v.code == 2 && v.json.is_none() { Ok(()) } else { modified(v, S1B, "stream") },
        },
        Attack {
            name: "isa_short_update",
            family: "ISA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let c = get_ref(&d, page_id(&d), b"Contents");
                // Both %%EOF markers end up in the last 512 bytes, where lopdf looks for them.
                let out = Update::new(&f.b).set(c.0, stream("", b"q 1 0 0 rg 0 0 595 842 re f Q")).write();
                assert!(out.len() - f.b.len() < 512, "the update must stay under 512 bytes");
                out
            },
            expect: |v| modified(v, S1B, "stream"),
        },
    ]
}
