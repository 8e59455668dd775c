//! The trust store's memo of path validations (src/trust/results.rs), which lets `verify DIR/`
//! work out each department's chain once per batch: a question asked again gets the same answer,
//! and one that differs in anything the answer depends on (the validation time, the revocation
//! data a document carries, the store's CRLs) is worked out afresh.

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use rustls_pki_types::UnixTime;
use zhengyin::pades::cms;
use zhengyin::trust::{ChainOutcome, Revocation, RevocationInputs, TrustStore};

/// Thirty years: past every certificate of a fresh region.
const LATER: Duration = Duration::from_secs(30 * 365 * 86_400);

/// The seal certificate and the other certificates of the first signature of `pdf`.
fn chain_of(pdf: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let doc = zhengyin::pades::parse::load(pdf).expect("PDF");
    let (sigs, _) = zhengyin::pades::parse::signatures(pdf, &doc).expect("signatures");
    let parsed = cms::parse(&sigs.first().expect("one signature").contents).expect("CMS");
    let ee = parsed.signer.and_then(|i| parsed.certificates.get(i)).expect("signer").clone();
    let others = parsed.certificates.iter().filter(|c| **c != ee).cloned().collect();
    (ee, others)
}

fn unix(t: SystemTime) -> UnixTime {
    UnixTime::since_unix_epoch(t.duration_since(SystemTime::UNIX_EPOCH).expect("after 1970"))
}

/// The same licence verified now, thirty years on, and now again with one store gets TOTAL-PASSED,
/// then an expired chain, then TOTAL-PASSED: the validation time is part of what is remembered.
#[test]
fn validation_time_is_part_of_the_key() {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "a.pdf");
    let pdf = std::fs::read(pdf).expect("pdf");
    let store = TrustStore::from_home(&zhengyin::config::Home::resolve(Some(r.home.clone()))).expect("store");
    let now = SystemTime::now();
    let indication = |at: SystemTime| {
        let report = zhengyin::verify::verify(&pdf, &store, at).expect("report");
        serde_json::to_value(report.indication).expect("json")
    };
    assert_eq!(indication(now), "TOTAL-PASSED");
    assert_ne!(indication(now + LATER), "TOTAL-PASSED", "a 30-year-old chain must not pass");
    assert_eq!(indication(now), "TOTAL-PASSED");

    let (ee, others) = chain_of(&pdf);
    assert!(matches!(store.validate(&ee, &others, unix(now)).0, ChainOutcome::Trusted { .. }));
    match store.validate(&ee, &others, unix(now + LATER)).0 {
        ChainOutcome::Failed { sub_indication, .. } => assert_eq!(sub_indication, "OUT_OF_BOUNDS_NO_POE"),
        other => panic!("expired chain trusted: {other:?}"),
    }
    assert!(matches!(store.validate(&ee, &others, unix(now)).0, ChainOutcome::Trusted { .. }));
}

/// After the seal certificate is revoked, the store that found it good finds it revoked when the
/// document carries the new CRL (as a B-LT file's DSS would) or when the store is given that CRL,
/// and still good without it: the embedded CRLs and the store's CRLs are part of the key.
#[test]
fn revocation_data_is_part_of_the_key() {
    let r = Region::init();
    let (pdf, _) = r.issue("business-licence", None, "a.pdf");
    let pdf = std::fs::read(pdf).expect("pdf");
    let home = zhengyin::config::Home::resolve(Some(r.home.clone()));
    let mut store = TrustStore::from_home(&home).expect("store");
    let (ee, others) = chain_of(&pdf);
    let at = unix(SystemTime::now() + Duration::from_secs(60));
    let good = |rev: &Revocation| matches!(rev, Revocation::Good { .. });
    let revoked = |rev: &Revocation| matches!(rev, Revocation::Revoked { .. });
    let none = RevocationInputs::default();
    let old_crls: Vec<Vec<u8>> = store.crls.iter().map(|c| c.der.clone()).collect();
    let carried_old = RevocationInputs { embedded: &old_crls, poe: None };
    assert!(good(&store.validate_with(&ee, &others, at, &none).1));
    assert!(good(&store.validate_with(&ee, &others, at, &carried_old).1));

    let (_, cert) = x509_parser::parse_x509_certificate(&ee).expect("seal certificate");
    let serial = cert.raw_serial_as_string().replace(':', "");
    r.zy(&["revoke", "--home", s(&r.home), &serial]).assert_code(0);
    let fresh = TrustStore::from_home(&home).expect("store");
    let new_crls: Vec<Vec<u8>> = fresh.crls.iter().map(|c| c.der.clone()).collect();

    let carried = RevocationInputs { embedded: &new_crls, poe: None };
    let rev = store.validate_with(&ee, &others, at, &carried).1;
    assert!(revoked(&rev), "{rev:?}");
    assert_eq!(new_crls.len(), old_crls.len());
    assert!(good(&store.validate_with(&ee, &others, at, &none).1), "without the new CRL, as before");
    assert!(good(&store.validate_with(&ee, &others, at, &carried_old).1), "with the old CRLs, as before");

    store.crls.extend(fresh.crls.iter().cloned());
    assert!(revoked(&store.validate_with(&ee, &others, at, &none).1), "the store's own new CRL");
}
