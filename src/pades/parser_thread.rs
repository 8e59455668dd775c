//! lopdf's object parser recurses once per nested array or dictionary (and once per indirect
//! /Length it follows), so the stack it needs grows with what the file nests. It runs here, on a
//! thread of its own with a known stack of [`PARSE_STACK`] bytes (lopdf is built without rayon,
//! so no parsing happens on other threads), and a panic inside lopdf is a parse error, not a crash.
//! The byte pre-scan (`scan`) refuses deep nesting before this runs; the large stack is there so
//! that input the pre-scan misses still cannot exhaust the stack of the process's own threads.
//!
//! Knows nothing of signatures. ISO 32000-1 §7.3 (objects), §7.5 (file structure).

use lopdf::Document;

use crate::error::PdfError;

/// Stack of the parser thread. lopdf needs about 2.2 KiB of stack per nested array in a release
/// build (measured: unpatched lopdf on a 2 MiB thread overflowed between 900 and 1,000 levels), so
/// the 256 levels the bundled lopdf allows take ~0.6 MiB; 64 MiB holds ~29,000 levels, 100 times
/// that. It is reserved address space: only the pages the parser touches are committed.
pub const PARSE_STACK: usize = 64 << 20;
/// Stack a caller on a worker thread may already use when it asks for a parse (the verifier's and
/// the issuer's own frames are a few hundred KiB at most).
const CALLER_STACK: usize = 8 << 20;
// A worker's stack holds the parser's beside its caller's, or parsing inline would be unsafe.
const _: () = assert!(crate::parallel::WORKER_STACK >= PARSE_STACK + CALLER_STACK);
/// What a panic inside lopdf is reported as.
const PARSER_FAILED: &str = "the object parser failed on this input";

/// `Document::load_mem(bytes)` on the parser thread.
pub fn load_mem(bytes: &[u8]) -> Result<Document, PdfError> {
    run(|| Document::load_mem(bytes))?.map_err(|e| PdfError::Parse(e.to_string()))
}

/// `f` (lopdf parsing) on the parser thread; a panic in it is a parse error. On a worker of
/// `crate::parallel` (batch verify, bulk issuance), whose stack holds [`PARSE_STACK`] beside what
/// its caller uses, `f` runs on the worker itself: no thread to start per revision.
pub fn run<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, PdfError> {
    if crate::parallel::on_worker_stack() {
        return std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .map_err(|_| PdfError::Parse(PARSER_FAILED.into()));
    }
    std::thread::scope(|s| {
        let worker = std::thread::Builder::new()
            .name("pdf-parse".into())
            .stack_size(PARSE_STACK)
            .spawn_scoped(s, f)
            .map_err(|e| PdfError::Parse(format!("cannot start the parser thread: {e}")))?;
        worker.join().map_err(|_| PdfError::Parse(PARSER_FAILED.into()))
    })
}

#[cfg(test)]
mod tests {
    use std::thread;

    /// Recursion with about 1 KiB per level: 30,000 levels need ~30 MiB of stack, far past a
    /// default thread's 2 MiB (or the main thread's 8 MiB), well within [`super::PARSE_STACK`].
    fn deep(n: usize) -> usize {
        let pad = std::hint::black_box([n as u8; 1024]);
        if n == 0 {
            return 0;
        }
        deep(n - 1) + usize::from(pad[0] & 1)
    }

    /// On a worker of `crate::parallel` the parse runs on the worker itself, and has the parser's
    /// stack there.
    #[test]
    fn on_a_worker_the_parse_runs_inline_with_room() {
        let mut seen = Vec::new();
        crate::parallel::ordered(
            vec![30_000usize; 4],
            2,
            |_, n| {
                let me = thread::current().id();
                super::run(|| (thread::current().id() == me, deep(n))).expect("no panic")
            },
            |_, r| {
                seen.push(r);
                true
            },
        );
        assert_eq!(seen.len(), 4);
        assert!(seen.iter().all(|(inline, depth)| *inline && *depth == 15_000), "{seen:?}");
    }

    /// A thread a pool spawned with `parallel::WORKER_STACK` and marked (the HTTP service's
    /// runtime threads, src/cli/serve.rs) parses inline too, with room.
    #[test]
    fn on_a_marked_thread_the_parse_runs_inline_with_room() {
        let (inline, depth) = thread::Builder::new()
            .stack_size(crate::parallel::WORKER_STACK)
            .spawn(|| {
                crate::parallel::mark_worker_stack();
                let me = thread::current().id();
                super::run(|| (thread::current().id() == me, deep(30_000))).expect("no panic")
            })
            .expect("spawn")
            .join()
            .expect("join");
        assert!(inline);
        assert_eq!(depth, 15_000);
    }

    /// Elsewhere (a test thread, an unmarked thread) the parse gets a thread of its own.
    #[test]
    fn elsewhere_the_parse_gets_its_own_thread() {
        let me = thread::current().id();
        let (inline, depth) = super::run(|| (thread::current().id() == me, deep(30_000))).expect("no panic");
        assert!(!inline);
        assert_eq!(depth, 15_000);
    }

    /// A one-object PDF whose object 1 is `body`, parsed by the bundled lopdf.
    fn parse_object(body: &str) -> Result<lopdf::Object, String> {
        let head = "%PDF-1.7\n";
        let obj = format!("1 0 obj\n{body}\nendobj\n");
        let xref = head.len() + obj.len();
        let pdf = format!(
            "{head}{obj}xref\n0 2\n0000000000 65535 f \n{:010} 00000 n \ntrailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            head.len()
        );
        let doc = super::load_mem(pdf.as_bytes()).map_err(|e| e.to_string())?;
        doc.get_object((1, 0)).cloned().map_err(|e| e.to_string())
    }

    /// The bundled lopdf's hexadecimal strings (its byte-loop decoder, vendor/lopdf
    /// ZHENGYIN-PATCH.md): white space anywhere between digits, either case, an odd last digit
    /// padded with 0, the empty string; `<<` is still a dictionary; a stray character is an error.
    #[test]
    fn hex_strings_parse_as_iso_32000_says() {
        let string = |body: &str| match parse_object(body) {
            Ok(lopdf::Object::String(b, lopdf::StringFormat::Hexadecimal)) => Ok(b),
            other => Err(format!("{other:?}")),
        };
        assert_eq!(string("<901FA3>"), Ok(vec![0x90, 0x1F, 0xA3]));
        assert_eq!(string("<9 01F\n\ta3\r>"), Ok(vec![0x90, 0x1F, 0xA3]));
        assert_eq!(string("<901FA>"), Ok(vec![0x90, 0x1F, 0xA0]));
        assert_eq!(string("<>"), Ok(vec![]));
        assert_eq!(string("< >"), Ok(vec![]));
        let dict = parse_object("<< /A <0A0b> /B [<ff> <00>] >>");
        let Ok(lopdf::Object::Dictionary(d)) = dict else { panic!("{dict:?}") };
        assert_eq!(d.get(b"A").and_then(lopdf::Object::as_str).ok(), Some(&[0x0A, 0x0B][..]));
        assert!(matches!(d.get(b"B"), Ok(lopdf::Object::Array(a)) if a.len() == 2));
        assert!(string("<90G1>").is_err());
        assert!(string("<9012").is_err());
    }

    /// The bundled lopdf's names (a byte loop) and its first-byte dispatch of object kinds
    /// (vendor/lopdf ZHENGYIN-PATCH.md): `#xx` escapes, the empty name, and every kind of
    /// value in one dictionary, each read as what it is.
    #[test]
    fn names_and_every_kind_of_value_parse_as_before() {
        use lopdf::Object as O;
        let body = "<< /Na#20me#41 /x /Empty / /T true /F false /N null /R 12 0 R /Neg -1.5 /Dot .5 \
                    /Plus +3 /I 42 /S (a\\)b) /H <41> /A [1 2 0 R /N#2Fx [true] << /K 1 >>] >>";
        let Ok(O::Dictionary(d)) = parse_object(body) else { panic!("{:?}", parse_object(body)) };
        let get = |k: &[u8]| d.get(k).cloned().unwrap_or(O::Null);
        assert_eq!(get(b"Na meA"), O::Name(b"x".to_vec()));
        assert_eq!(get(b"Empty"), O::Name(Vec::new()));
        assert_eq!(get(b"T"), O::Boolean(true));
        assert_eq!(get(b"F"), O::Boolean(false));
        assert!(d.has(b"N") && get(b"N") == O::Null);
        assert_eq!(get(b"R"), O::Reference((12, 0)));
        assert_eq!(get(b"Neg"), O::Real(-1.5));
        assert_eq!(get(b"Dot"), O::Real(0.5));
        assert_eq!(get(b"Plus"), O::Integer(3));
        assert_eq!(get(b"I"), O::Integer(42));
        assert!(matches!(get(b"S"), O::String(s, _) if s == b"a)b"));
        assert!(matches!(get(b"H"), O::String(s, lopdf::StringFormat::Hexadecimal) if s == b"A"));
        let O::Array(a) = get(b"A") else { panic!("{:?}", get(b"A")) };
        assert_eq!(a.len(), 5);
        assert_eq!(a[1], O::Reference((2, 0)));
        assert_eq!(a[2], O::Name(b"N/x".to_vec()));
        // A `#` without two hex digits ends the name, and the dictionary is then malformed.
        assert!(parse_object("<< /A#4 1 >>").map(|o| o.as_dict().is_ok_and(|d| d.has(b"A"))) != Ok(true));
    }

    /// The bundled lopdf's white space between tokens (a byte loop): comments ended by LF, CR
    /// or CR LF, runs of them, and white space of every kind are skipped between keys and values,
    /// array items and the parts of a reference.
    #[test]
    fn comments_and_white_space_between_tokens_are_skipped() {
        use lopdf::Object as O;
        let body = "<< %c1\n/A %c2\r\n%c3\r 1 %c4\n 0 \x0c\0 R\t/B [ %c5\n 1 \n %c6\r\n2 ] >>";
        let Ok(O::Dictionary(d)) = parse_object(body) else { panic!("{:?}", parse_object(body)) };
        assert_eq!(d.get(b"A").ok(), Some(&O::Reference((1, 0))));
        assert_eq!(d.get(b"B").ok(), Some(&O::Array(vec![O::Integer(1), O::Integer(2)])));
        assert_eq!(d.len(), 2);
    }

    /// A panic in the parser is a parse error in both places, not a crash.
    #[test]
    fn a_panic_is_a_parse_error_inline_too() {
        let mut errors = Vec::new();
        crate::parallel::ordered(
            vec![(); 2],
            2,
            |_, ()| super::run(|| -> usize { panic!("parser bug") }).is_err(),
            |_, e| {
                errors.push(e);
                true
            },
        );
        assert_eq!(errors, vec![true, true]);
        assert!(super::run(|| -> usize { panic!("parser bug") }).is_err());
    }
}
