//! The seal's CMS and the TSA's tokens are written from DER templates in bulk issuance
//! (`pades::cms_template`): each template is in use for a region made by `init` (it matched
//! the RustCrypto structures' encoding byte for byte), and what it writes is a CMS zhengyin
//! and the outside validators accept.

mod common;

use common::*;

/// The business licence's sealing department and the home's TSA both write from their
/// templates; the signed attributes the seal's template gives are the structures' own; a licence
/// sealed that way verifies here and with pyHanko, pdfsig and qpdf.
#[test]
fn seal_and_token_templates_in_use_and_accepted() {
    let r = Region::init();
    let home = zhengyin::config::Home::resolve(Some(r.home.clone()));
    let prepared = zhengyin::licence::Prepared::new(&home, "business-licence", None).expect("prepared");
    let signer = zhengyin::pki::SealSigner::load(&home, prepared.department()).expect("signer");
    let template = zhengyin::pades::cms::template(&signer).expect("the seal's template matches");
    let digest = [0x5au8; 32];
    let attrs =
        der::Encode::to_der(&zhengyin::pades::cms::signed_attributes(&signer, &digest).unwrap()).unwrap();
    assert_eq!(template.signed_attributes(&digest), attrs);
    assert!(signer.tsa.as_ref().expect("a TSA").writes_from_template(), "the TSA's token template matches");

    let (pdf, _) = r.issue("business-licence", None, "a.pdf");
    assert_outside_validators(&r, &pdf, 1);
}
