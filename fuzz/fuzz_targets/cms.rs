//! CMS SignedData parsing of a signature's /Contents: `zhengyin::pades::cms::parse`.
//! Seeds in `fuzz/seeds/cms/` are /Contents blobs cut from the verify seeds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = zhengyin::pades::cms::parse(data);
});
