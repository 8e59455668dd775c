//! RFC 3161 parsing: a time-stamp token through `zhengyin::trust::timestamp::verify_token` (CMS,
//! TSTInfo, attributes, certificates) and a reply through `zhengyin::pki::tsa::reply::decode`.
//! Seeds in `fuzz/seeds/tsa/`: a query, a granted reply and its token from `zhengyin tsa reply`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zhengyin::trust::timestamp::{verify_token, Imprint};

fuzz_target!(|data: &[u8]| {
    let store = zhengyin::trust::TrustStore::default();
    let _ = verify_token(data, Imprint::Data(&[b"data"]), &store, std::time::SystemTime::now());
    let _ = zhengyin::pki::tsa::reply::decode(data);
});
