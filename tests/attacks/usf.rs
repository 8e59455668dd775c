//! Attack table of tests/attacks.rs, part 2: universal signature forgery (USF), the signature dictionary of b.pdf rewritten in place.

use super::*;

pub(super) fn attacks() -> Vec<Attack> {
    vec![
        Attack {
            name: "usf_contents_missing",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let l = sig_layout(&p, 0);
                p[l.contents_key..l.contents_key + 9].copy_from_slice(b"/Comments");
                p
            },
            expect: |v| bad_format(v, S1B, "missing /Contents"),
        },
        Attack {
            name: "usf_contents_empty",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let l = sig_layout(&p, 0);
                p[l.lt..=l.gt].fill(b' ');
                p[l.lt] = b'<';
                p[l.lt + 1] = b'>';
                p
            },
            expect: |v| bad_format(v, S1B, "empty"),
        },
        Attack {
            name: "usf_contents_all_zeros",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let l = sig_layout(&p, 0);
                p[l.lt + 1..l.gt].fill(b'0');
                p
            },
            expect: |v| bad_format(v, S1B, "empty"),
        },
        Attack {
            name: "usf_byterange_missing",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let l = sig_layout(&p, 0);
                let key = l.br.0 - b"/ByteRange [".len();
                p[key..key + 10].copy_from_slice(b"/Byterange");
                p
            },
            expect: |v| bad_format(v, S1B, "/ByteRange"),
        },
        Attack {
            name: "usf_byterange_zeros",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                set_byte_range(&mut p, 0, "0 0 0 0");
                p
            },
            expect: |v| bad_format(v, S1B, "out of order"),
        },
        Attack {
            name: "usf_byterange_negative",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let [_, a, b, c] = byte_range(&p, 0);
                set_byte_range(&mut p, 0, &format!("0 {a} -{b} {}", c + 2 * b));
                p
            },
            expect: |v| bad_format(v, S1B, "non-negative"),
        },
        Attack {
            name: "usf_byterange_not_from_zero",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let [_, a, b, c] = byte_range(&p, 0);
                set_byte_range(&mut p, 0, &format!("100 {} {b} {c}", a - 100));
                p
            },
            expect: |v| bad_format(v, S1B, "starts at 100"),
        },
        Attack {
            name: "usf_byterange_past_eof",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let mut p = f.b.clone();
                let [_, a, b, c] = byte_range(&p, 0);
                set_byte_range(&mut p, 0, &format!("0 {a} {b} {}", c + 100_000));
                p
            },
            expect: |v| bad_format(v, S1B, "past the end"),
        },
        Attack {
            name: "usf_sigdict_redefined_null",
            family: "USF",
            base: "b",
            allow_incomplete: false,
            build: |f, _| {
                let d = load(&f.b);
                let (sig, ..) = signature_of(&d, S1B);
                Update::new(&f.b).set(sig.0, b"<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange null /Contents null >>".to_vec()).write()
            },
            expect: |v| bad_format(v, S1B, "/ByteRange"),
        },
        Attack {
            name: "usf_fill_next_field_garbage_cms",
            family: "USF",
            base: "a1",
            allow_incomplete: true,
            build: |f, _| {
                let mut cms = vec![0x30, 0x82, 0x01, 0x00];
                cms.extend((0..256u32).map(|i| (i * 37 % 251) as u8));
                sign_field(&f.a1, A2, &cms)
            },
            expect: |v| bad_format(v, A2, ""),
        },
        Attack {
            name: "usf_fill_next_field_transplanted_cms",
            family: "USF",
            base: "a1",
            allow_incomplete: true,
            build: |f, _| {
                let d = load(&f.a1);
                let (_, _, contents) = signature_of(&d, A1);
                let n = der_len(&contents);
                sign_field(&f.a1, A2, &contents[..n])
            },
            expect: |v| {
                failed(v, A2, "INTEGRITY", "")?;
                sub(v, A2, "HASH_FAILURE")
            },
        },
    ]
}
