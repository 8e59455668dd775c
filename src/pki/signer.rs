//! A department's seal key loaded for signing: the ring key pair, its certificate, the
//! intermediate CA certificates that chain it to the region root, and the validation material a
//! B-LT seal embeds in the PDF's DSS (the root certificate, and the CRL of every CA on the path
//! issued after the signature: `pki::crl::issued_since`).

use crate::config::{Department, Home};
use crate::error::{ConfigError, PkiError, Result};

use super::key::SealKey;
use super::keys;
use super::pkcs11::TokenKey;
use crate::config::key_uri::KeyLocation;

/// Everything needed to produce one department's signature.
pub struct SealSigner {
    pub department: Department,
    key: SealKey,
    /// The seal certificate (DER).
    pub cert: Vec<u8>,
    /// Intermediate CA certificates, nearest first, root excluded (DER).
    pub chain: Vec<Vec<u8>>,
    /// For the DSS (PAdES B-LT): the seal certificate, the intermediates and the root (DER).
    pub dss_certs: Vec<Vec<u8>>,
    /// The CAs on the path, issuing CA first, root last: whose CRLs go into the DSS.
    crl_cas: Vec<String>,
    /// The last CRL had for each CA and its thisUpdate: one issued at or after a signature's
    /// time serves it without the lock and read of [`super::crl::issued_since`] (seals made in
    /// bulk, many a second, share one).
    crl_memo: std::sync::Mutex<std::collections::HashMap<String, (i64, Vec<u8>)>>,
    home: Home,
    /// The DER template of this signer's CMS (`pades::cms::sign_detached`), made at its first
    /// seal; `None` inside when the template did not match the structures' encoding.
    pub cms_template: std::sync::OnceLock<Option<crate::pades::cms_template::Template>>,
    /// The home's time-stamping authority: every signature gets a signature timestamp (PAdES
    /// B-T). `None` for a home made before the TSA existed: its seals stay B-B.
    pub tsa: Option<super::tsa::Tsa>,
}

impl SealSigner {
    /// Load department `dept` from the home.
    pub fn load(home: &Home, dept: &str) -> Result<Self> {
        if let KeyLocation::Pkcs11(uri) = home.region()?.department(dept)?.key_location()? {
            return Self::load_with_key(home, dept, SealKey::Pkcs11(TokenKey::open(&uri)?));
        }
        let key_path = home.seal_key(dept);
        if !key_path.exists() {
            return Err(ConfigError::NotInitialised { home: home.dir.clone() }.into());
        }
        let der = keys::read_key_der(&key_path)?;
        let key = SealKey::from_pkcs8(&der)
            .map_err(|message| PkiError::BadKey { path: key_path.clone(), message })?;
        Self::load_with_key(home, dept, key)
    }

    /// Load department `dept`'s certificate, chain and validation material with `key` (a
    /// [`SealKey::External`] for two-step signing, where the key never reaches zhengyin).
    pub fn load_with_key(home: &Home, dept: &str, key: SealKey) -> Result<Self> {
        let region = home.region()?;
        let department = region.department(dept)?.clone();
        let cert = keys::read_certs_der(&home.seal_cert(dept))?.remove(0);
        if !key.pairs_with(&cert) {
            return Err(PkiError::BadKey {
                path: home.seal_key(dept),
                message: format!(
                    "this key does not belong to the seal certificate {} (its public key differs)",
                    home.seal_cert(dept).display()
                ),
            }
            .into());
        }
        let mut chain = Vec::new();
        for ca in region.intermediates(&department.ca) {
            chain.push(keys::read_certs_der(&home.ca_cert(&ca.id))?.remove(0));
        }
        // B-LT: current CRLs for every CA on the path (re-signed now when due).
        if let Err(e) = super::crl::refresh_path(home, &department.ca) {
            tracing::warn!(error = %e, ca = %department.ca, "CRLs not refreshed before sealing");
        }
        let root = region.root().id.clone();
        let mut dss_certs = vec![cert.clone()];
        dss_certs.extend(chain.iter().cloned());
        dss_certs.extend(keys::read_certs_der(&home.ca_cert(&root))?.into_iter().take(1));
        let crl_cas = region
            .intermediates(&department.ca)
            .iter()
            .map(|c| c.id.clone())
            .chain(std::iter::once(root))
            .collect();
        let tsa = super::tsa::Tsa::load_optional(home)?;
        if tsa.is_none() {
            tracing::warn!(
                "home {} has no time-stamping authority: sealing without a signature timestamp (PAdES B-B); run `zhengyin init --add-tsa`",
                home.dir.display()
            );
        }
        Ok(SealSigner {
            department,
            key,
            cert,
            chain,
            dss_certs,
            crl_cas,
            crl_memo: Default::default(),
            home: home.clone(),
            cms_template: Default::default(),
            tsa,
        })
    }

    /// For the DSS: a CRL of every CA on the path issued at or after `t` (Unix seconds), issuing
    /// CA first, root last (DER) — the current one when it is, else re-signed now. A CA whose CRL
    /// cannot be had is left out (logged): the verifier then says what it finds.
    pub fn crls_issued_since(&self, t: i64) -> Vec<Vec<u8>> {
        self.crl_cas
            .iter()
            .filter_map(|ca| match self.crl_since(ca, t) {
                Ok(der) => Some(der),
                Err(e) => {
                    tracing::warn!(error = %e, ca = %ca, "no CRL for the DSS");
                    None
                }
            })
            .collect()
    }

    /// [`super::crl::issued_since`] through the memo.
    fn crl_since(&self, ca: &str, t: i64) -> Result<Vec<u8>> {
        let mut memo = self.crl_memo.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, der)) = memo.get(ca).filter(|(issued, _)| *issued >= t) {
            return Ok(der.clone());
        }
        let der = super::crl::issued_since(&self.home, ca, t)?;
        if let Some(issued) = super::crl::this_update(&der) {
            memo.insert(ca.to_string(), (issued, der.clone()));
        }
        Ok(der)
    }

    /// ECDSA P-256 / SHA-256 signature (ASN.1 DER form) over `message`. A token's signature is
    /// checked against the seal certificate before it is used: a token key that is not the
    /// certified one (replaced in the token, wrong id in the URI) is refused here rather than
    /// sealing and archiving a document whose signature cannot verify.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let sig = self.key.sign(message)?;
        if matches!(self.key, SealKey::Pkcs11(_)) && !super::key::verifies(&self.cert, message, &sig) {
            return Err(self.not_certified());
        }
        Ok(sig)
    }

    /// The same signature as raw r‖s (JWS ES256), checked like [`Self::sign`].
    pub fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>> {
        let raw = self.key.sign_raw(message)?;
        let der = super::key::raw_to_der(&raw).unwrap_or_default();
        if matches!(self.key, SealKey::Pkcs11(_)) && !super::key::verifies(&self.cert, message, &der) {
            return Err(self.not_certified());
        }
        Ok(raw)
    }

    fn not_certified(&self) -> crate::error::Error {
        PkiError::Sign(format!(
            "the token key of department `{}` is not the key its seal certificate certifies (re-run init, or fix the key URI)",
            self.department.id
        ))
        .into()
    }
}
