//! GB/T 36904 licence identifiers: `LicenceId::from_str`, plus a round-trip property: whatever
//! parses prints back to exactly the input and parses again to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zhengyin::document::LicenceId;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(id) = s.parse::<LicenceId>() {
        let printed = id.to_string();
        assert_eq!(printed, s, "a parsed identifier prints back to its input");
        assert_eq!(printed.parse::<LicenceId>().as_ref(), Ok(&id), "the printed identifier parses to the same value");
    }
});
