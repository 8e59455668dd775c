//! The HTTP API's JSON request bodies: the first byte picks a route (`api::bodies::json_routes`,
//! every JSON route of /openapi.json),
//! the rest is its body, parsed and field-checked as the handler does (`api::bodies::check`).
//! Properties: no panic; a refusal is a 4xx problem whose detail is short (never the body echoed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use zhengyin::api::bodies::{check, json_routes};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let routes = json_routes();
    let route = routes[usize::from(pick) % routes.len()].as_str();
    if let Err(p) = check(route, body) {
        assert!((400..500).contains(&p.status), "{route}: status {}", p.status);
        assert!(p.detail.chars().count() < 400, "{route}: a detail of {} characters", p.detail.chars().count());
    }
});
