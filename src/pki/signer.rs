//! A department's seal key loaded for signing: the ring key pair, its certificate and the
//! intermediate CA certificates that chain it to the region root.

use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};

use crate::config::{Department, Home};
use crate::error::{ConfigError, PkiError, Result};

use super::keys;

/// Everything needed to produce one department's signature.
pub struct SealSigner {
    pub department: Department,
    key: EcdsaKeyPair,
    rng: SystemRandom,
    /// The seal certificate (DER).
    pub cert: Vec<u8>,
    /// Intermediate CA certificates, nearest first, root excluded (DER).
    pub chain: Vec<Vec<u8>>,
}

impl SealSigner {
    /// Load department `dept` from the home.
    pub fn load(home: &Home, dept: &str) -> Result<Self> {
        let region = home.region()?;
        let department = region.department(dept)?.clone();
        let key_path = home.seal_key(dept);
        if !key_path.exists() {
            return Err(ConfigError::NotInitialised { home: home.dir.clone() }.into());
        }
        let der = keys::read_key_der(&key_path)?;
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &der, &rng)
            .map_err(|e| PkiError::BadKey { path: key_path.clone(), message: e.to_string() })?;
        let cert = keys::read_certs_der(&home.seal_cert(dept))?.remove(0);
        let mut chain = Vec::new();
        for ca in region.intermediates(&department.ca) {
            chain.push(keys::read_certs_der(&home.ca_cert(&ca.id))?.remove(0));
        }
        Ok(SealSigner { department, key, rng, cert, chain })
    }

    /// ECDSA P-256 / SHA-256 signature (ASN.1 DER form) over `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let sig =
            self.key.sign(&self.rng, message).map_err(|_| PkiError::Sign("ECDSA signing failed".into()))?;
        Ok(sig.as_ref().to_vec())
    }
}
