//! Attack table of tests/attacks.rs, part 3: signature wrapping (SWA).

use super::*;

pub(super) fn attacks() -> Vec<Attack> {
    vec![
        Attack {
            name: "swa_gap_not_contents",
            family: "SWA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let [_, a, b, c] = byte_range(&p, 0);
                set_byte_range(&mut p, 0, &format!("0 {} {b} {c}", a - 10));
                p
            },
            expect: |v| bad_format(v, S1B, "not a hex string"),
        },
        Attack {
            name: "swa_shrunk_contents_object_in_gap",
            family: "SWA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let (_, _, contents) = signature_of(&d, S1B);
                let n = der_len(&contents);
                let mut p = f.b.clone();
                let l = sig_layout(&p, 0);
                let next = next_num(&d);
                let mut gap = format!("<{}> >>\nendobj\n{next} 0 obj\n<< /Type /Annot /Subtype /FreeText /Rect [60 560 540 620] /Contents (FORGED) >>\nendobj\n", hex(&contents[..n])).into_bytes();
                let room = l.gt + 1 - l.lt;
                assert!(gap.len() < room);
                gap.resize(room, b' ');
                p[l.lt..=l.gt].copy_from_slice(&gap);
                p
            },
            expect: |v| bad_format(v, S1B, "not a hex string"),
        },
        Attack {
            name: "swa_signed_part_relocated_to_end",
            family: "SWA",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                // The classic wrapping: the signed second part [b, b+c) is copied to the end of
                // the file and /ByteRange points there; the original place of that part (its xref
                // section) is now inside the unsigned gap and is replaced by an xref that also
                // redefines the page content stream, with the new stream right after it. The
                // signed tail's startxref still names offset X, where the forged xref now is.
                let d = load(&f.b);
                let content = get_ref(&d, page_id(&d), b"Contents");
                let p = &f.b;
                let [_, a, b, c] = byte_range(p, 0);
                let x = last_startxref(p);
                assert!(x > b, "the last xref section lies in the signed tail");
                let orig_xref = &p[x..];
                let trailer_at = find(orig_xref, b"trailer", 0).expect("trailer");
                let eof_at = find(orig_xref, b"startxref", trailer_at).expect("startxref");
                let subsections = &orig_xref[b"xref\n".len()..trailer_at];
                let trailer = &orig_xref[trailer_at..eof_at];
                let mut out = p[..x].to_vec();
                // Offsets: xref header + one extra subsection (2 lines, 20-byte entry) + originals + trailer.
                let new_obj_at = x
                    + b"xref\n".len()
                    + format!("{} 1\n", content.0).len()
                    + 20
                    + subsections.len()
                    + trailer.len();
                out.extend_from_slice(b"xref\n");
                out.extend_from_slice(format!("{} 1\n{new_obj_at:010} 00000 n\r\n", content.0).as_bytes());
                out.extend_from_slice(subsections);
                out.extend_from_slice(trailer);
                assert_eq!(out.len(), new_obj_at);
                out.extend_from_slice(format!("{} 0 obj\n", content.0).as_bytes());
                out.extend_from_slice(&stream("", b"q 1 0 0 rg 60 560 480 60 re f Q"));
                out.extend_from_slice(b"\nendobj\n");
                let moved = out.len();
                out.extend_from_slice(&p[b..b + c]);
                set_byte_range(&mut out, 0, &format!("0 {a} {moved} {c}"));
                out
            },
            expect: |v| bad_format(v, S1B, "not a hex string"),
        },
        Attack {
            name: "swa_replayed_signature_in_next_field",
            family: "SWA",
            base: "a1",
            allow_incomplete: true,
            build: |f, _| {
                // Seal2_scjg is "filled" with a copy of Seal1's signature dictionary: same
                // /ByteRange, same /Contents; its appearance is a new (fake) red seal.
                let d = load(&f.a1);
                let (_, br, contents) = signature_of(&d, A1);
                let w = field_id(&d, A2);
                let n = next_num(&d);
                let mut widget = dict_of(&d, w);
                widget.set("V", Object::Reference((n + 1, 0)));
                widget.set("AP", lopdf::dictionary! { "N" => Object::Reference((n, 0)) });
                let mut br_text = Vec::new();
                ser(&Object::Array(br), &mut br_text);
                let body = format!("<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange {} /Contents <{}> >>", String::from_utf8_lossy(&br_text), hex(&contents));
                Update::new(&f.a1)
                    .set(w.0, dict(&widget))
                    .set(
                        n,
                        stream(
                            "/Type /XObject /Subtype /Form /BBox [0 0 100 100]",
                            b"q 1 0 0 RG 4 w 50 50 45 0 360 re S Q",
                        ),
                    )
                    .set(n + 1, body.into_bytes())
                    .write()
            },
            expect: |v| {
                let sg = v.sig(A2)?;
                if sg["indication"] == "TOTAL-PASSED" {
                    return Err(format!(
                        "{A2} is TOTAL-PASSED: a replay of {A1}'s signature (seal_plan.in_order = {})",
                        v.json.as_ref().map(|j| j["seal_plan"]["in_order"].clone()).unwrap_or_default()
                    ));
                }
                bad_format(v, A2, "")
            },
        },
    ]
}
