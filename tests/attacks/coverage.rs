//! Attack table of tests/attacks.rs, part 5: partial coverage, the FieldMDP lock of the last joint seal, and one byte flipped inside a
//! signed range.

use super::*;

pub(super) fn attacks() -> Vec<Attack> {
    vec![
        Attack {
            name: "coverage_ends_before_eof",
            family: "Coverage",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let [_, a, b, c] = byte_range(&p, 0);
                set_byte_range(&mut p, 0, &format!("0 {a} {b} {}", c - b"%%EOF\n".len()));
                p
            },
            expect: |v| failed(v, S1B, "COVERAGE", "not at the end of a revision"),
        },
        Attack {
            name: "coverage_ends_mid_file",
            family: "Coverage",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let [_, a, b, c] = byte_range(&p, 0);
                set_byte_range(&mut p, 0, &format!("0 {a} {b} {}", c / 2));
                p.extend_from_slice(b"% extra bytes after the signed range\n");
                p
            },
            expect: |v| failed(v, S1B, "COVERAGE", "not at the end of a revision"),
        },
        // 6. The FieldMDP lock of the last joint seal.
        Attack {
            name: "lock_object_appended",
            family: "Lock",
            base: "a3",
            allow_incomplete: false,
            build: |f, _| {
                let n = next_num(&load(&f.a3));
                Update::new(&f.a3).set(n, b"<< /Note (added after the lock) >>".to_vec()).write()
            },
            expect: |v| modified(v, A3, "locked"),
        },
        Attack {
            name: "lock_signature_revision_appended",
            family: "Lock",
            base: "a3",
            allow_incomplete: false,
            build: |f, _| {
                // A fourth signature field and signature dictionary in a new revision, built like
                // zhengyin's own (its CMS is Seal3's, so it cannot verify: what matters here is
                // that anything after the locking seal is refused).
                let d = load(&f.a3);
                let (_, _, contents) = signature_of(&d, A3);
                sign_field(&f.a3, "Seal4_dsjzx", &contents[..der_len(&contents)])
            },
            expect: |v| modified(v, A3, "locked"),
        },
        Attack {
            name: "lock_open_field_signed_with_content_change",
            family: "Lock",
            base: "a3",
            allow_incomplete: false,
            build: |f, _| {
                // The lock leaves the annotation field open: fill it, and in the same revision
                // replace the page content. Filling the open field must not carry other changes.
                let d = load(&f.a3);
                let (_, _, contents) = signature_of(&d, A3);
                let c = get_ref(&d, page_id(&d), b"Contents");
                let extra = vec![(c.0, stream("", b"q 1 0 0 rg 60 560 480 60 re f Q"))];
                sign_field_and(&f.a3, "Annotation_dsjzx", &contents[..der_len(&contents)], extra)
            },
            expect: |v| modified(v, A3, "stream"),
        },
        // 7. One byte flipped inside signature 1's range (the /CreationDate in revision 1).
        Attack {
            name: "hash_flip_byte_in_first_revision",
            family: "Integrity",
            base: "a3",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.a3.clone();
                let k =
                    find(&p, b"/CreationDate", 0).and_then(|c| find(&p, b"(D:", c)).expect("/CreationDate")
                        + 3
                        + 3;
                assert!(k < byte_range(&p, 0)[1], "inside signature 1's first range");
                p[k] = if p[k] == b'9' { b'8' } else { p[k] + 1 };
                p
            },
            expect: |v| {
                failed(v, A1, "INTEGRITY", "changed")?;
                sub(v, A1, "HASH_FAILURE")
            },
        },
    ]
}
