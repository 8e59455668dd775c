//! The region PKI: region root, level CAs (city, county) and department seal certificates;
//! key storage (PKCS#8 PEM, 0600) and CRLs. ECDSA P-256 throughout (rcgen issues, ring signs).
//!
//! Knows the home layout and the region configuration; knows nothing of PDF or verification.
//! Profile: RFC 5280 basic constraints, key usage, SKI/AKI, CRL distribution points; seal
//! certificates carry digitalSignature + nonRepudiation and EKU id-kp-documentSigning (RFC 9336).

pub mod ca_keys;
pub mod crl;
pub mod key;
pub mod keys;
pub mod pkcs11;
pub mod revoke;
pub mod rollover;
pub mod rotate;
mod signer;
pub mod status_key;
pub mod tsa;

pub use signer::SealSigner;

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
    DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose,
    SerialNumber,
};
use time::{Duration, OffsetDateTime};

use crate::config::key_uri::{KeyLocation, KeyUri};
use crate::config::{Department, Home, RegionConfig};
use crate::error::{ConfigError, PkiError, Result};

/// RFC 9336 id-kp-documentSigning, put in every seal certificate's EKU.
pub const EKU_DOCUMENT_SIGNING: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 3, 36];

/// Years the region root and its level CAs are valid (a level CA never past the root's end).
pub const CA_YEARS: i64 = 20;

/// What `init` made, for printing.
#[derive(Debug)]
pub struct InitSummary {
    pub root: PathBuf,
    pub cas: Vec<String>,
    pub departments: Vec<String>,
    /// Where `serve` publishes the CRLs (the certificates' distribution points name it).
    pub public_url: String,
    /// The time-stamping authority's certificate.
    pub tsa: PathBuf,
}

/// An issuer held in memory while `init` runs.
pub(crate) struct Issuer {
    cert: rcgen::Certificate,
    key: KeyPair,
}

pub(crate) fn gen_err(what: &str) -> impl FnOnce(rcgen::Error) -> PkiError + '_ {
    move |e| PkiError::Generate { what: what.to_string(), message: e.to_string() }
}

pub(crate) fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| PkiError::Sign("no system randomness".into()))?;
    bytes[0] &= 0x7f; // positive INTEGER
    bytes[0] |= 0x01; // and never a shorter encoding
    Ok(SerialNumber::from_slice(&bytes))
}

pub(crate) fn base_params(
    cn: &str,
    org: &str,
    region: &RegionConfig,
    years: i64,
) -> Result<CertificateParams> {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    // RFC 5280 §4.1.2.4 / X.520: countryName is a PrintableString.
    dn.push(
        DnType::CountryName,
        rcgen::DnValue::PrintableString("CN".try_into().map_err(|e: rcgen::Error| PkiError::Generate {
            what: cn.to_string(),
            message: e.to_string(),
        })?),
    );
    dn.push(DnType::LocalityName, region.region.name.as_str());
    dn.push(DnType::OrganizationName, org);
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    let now = OffsetDateTime::now_utc();
    p.not_before = now - Duration::hours(1);
    p.not_after = now + Duration::days(365 * years);
    p.serial_number = Some(random_serial()?);
    p.key_identifier_method = KeyIdMethod::Sha256;
    p.use_authority_key_identifier_extension = true;
    Ok(p)
}

/// Does the home already hold private keys?
pub fn has_keys(home: &Home) -> bool {
    std::fs::read_dir(home.private_dir())
        .map(|mut d| {
            d.any(|e| e.map(|e| e.file_name().to_string_lossy().ends_with(".key.pem")).unwrap_or(false))
        })
        .unwrap_or(false)
}

/// Create the region's keys and certificates in `home` from the region file text.
/// Refuses when keys exist unless `force`. The public URL is the region file's, else
/// [`crate::config::DEFAULT_PUBLIC_URL`] (see [`init_with`]).
pub fn init(
    home: &Home,
    region_text: &str,
    region_path: &std::path::Path,
    force: bool,
) -> Result<InitSummary> {
    init_with(home, region_text, region_path, force, None)
}

/// [`init`] with `public_url` (the base URL `zhengyin serve` is reached at) overriding the
/// region file's: it is stored in the home's region.toml, and every certificate's CRL
/// distribution point is `<public_url>/crl/<issuer>.crl`.
pub fn init_with(
    home: &Home,
    region_text: &str,
    region_path: &std::path::Path,
    force: bool,
    public_url: Option<&str>,
) -> Result<InitSummary> {
    init_full(home, region_text, region_path, force, public_url, None)
}

/// `init --pkcs11`: create department seal keys in a PKCS#11 token rather than in files.
#[derive(Debug, Clone)]
pub struct TokenInit {
    /// The PKCS#11 module (shared library).
    pub module: PathBuf,
    /// The token's label.
    pub token: String,
    /// A file holding the user PIN, recorded as the key URIs' pin-source; without it the PIN
    /// comes from `ZHENGYIN_PKCS11_PIN`, now and whenever the keys sign.
    pub pin_file: Option<PathBuf>,
    /// The departments whose keys go into the token; empty: every department.
    pub departments: Vec<String>,
}

impl TokenInit {
    /// The key URI for department `dept` (object `seal-<dept>`; the id is drawn when the key is
    /// made), if its key goes into the token.
    fn uri_for(&self, dept: &str) -> Option<KeyUri> {
        (self.departments.is_empty() || self.departments.iter().any(|d| d == dept)).then(|| KeyUri {
            token: self.token.clone(),
            object: Some(format!("seal-{dept}")),
            id: None,
            module_path: Some(absolute(&self.module)),
            pin_file: self.pin_file.as_deref().map(absolute),
        })
    }
}

fn absolute(p: &std::path::Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// An uncompressed P-256 point whose private key is elsewhere (a token): what rcgen certifies.
struct P256Point(Vec<u8>);

impl rcgen::PublicKeyData for P256Point {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }
    fn algorithm(&self) -> &rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

/// [`init_with`], with department keys in a PKCS#11 token for `token` (`init --pkcs11`).
/// Departments whose region-file `key` is a `pkcs11:` URI get their key made in that token too.
/// Token objects already there are refused unless `force` (which destroys them first).
pub fn init_full(
    home: &Home,
    region_text: &str,
    region_path: &std::path::Path,
    force: bool,
    public_url: Option<&str>,
    token: Option<&TokenInit>,
) -> Result<InitSummary> {
    let parsed = RegionConfig::parse(region_text, region_path)?;
    let url = public_url
        .map(String::from)
        .or(parsed.region.public_url.clone())
        .unwrap_or_else(|| crate::config::DEFAULT_PUBLIC_URL.to_string());
    let region_text = &crate::config::with_public_url(region_text, &url)?;
    let region = RegionConfig::parse(region_text, region_path)?;
    if let Some(d) = token.and_then(|t| t.departments.iter().find(|d| region.department(d).is_err())) {
        region.department(d)?;
    }
    // Where each department's key goes: the token for `--pkcs11`, else the region file's `key`.
    let locations = region
        .departments
        .iter()
        .map(|d| match token.and_then(|t| t.uri_for(&d.id)) {
            Some(uri) => Ok(KeyLocation::Pkcs11(uri)),
            None => d.key_location(),
        })
        .collect::<Result<Vec<_>>>()?;
    if has_keys(home) && !force {
        return Err(ConfigError::KeysExist { home: home.dir.clone() }.into());
    }
    for loc in &locations {
        if let KeyLocation::Pkcs11(uri) = loc {
            // A key `init` would make: same label (the id is new each time), or the URI's id.
            let probe = KeyUri { id: uri.object.is_none().then(|| uri.id.clone()).flatten(), ..uri.clone() };
            pkcs11::clear_existing(&probe, force)?;
        }
    }
    keys::make_dir(&home.dir, 0o755)?;
    keys::make_dir(&home.pki_dir(), 0o755)?;
    keys::make_dir(&home.private_dir(), 0o700)?;
    keys::make_dir(&home.dir.join("seals"), 0o755)?;
    keys::make_dir(&home.dir.join("crl"), 0o755)?;

    let mut issuers: Vec<(String, Issuer)> = Vec::new();
    let mut root_end: Option<OffsetDateTime> = None;
    for ca in &region.cas {
        let key = KeyPair::generate().map_err(gen_err(&ca.id))?;
        // Level CAs last as long as the root: an AdES validator checks an archived seal's CA at
        // the current time while the DSS holds a current root CRL (`pki::crl`), so a CA that
        // ended earlier would make the seal's past validation fail (pyHanko's time slide).
        let mut p = base_params(&ca.name, &ca.name, &region, CA_YEARS)?;
        if let Some(end) = root_end {
            p.not_after = p.not_after.min(end);
        }
        p.is_ca = IsCa::Ca(if ca.parent.is_none() {
            BasicConstraints::Unconstrained
        } else {
            BasicConstraints::Constrained(1)
        });
        p.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let cert = match &ca.parent {
            None => {
                p.use_authority_key_identifier_extension = false;
                p.self_signed(&key).map_err(gen_err(&ca.id))?
            }
            Some(parent) => {
                p.crl_distribution_points = vec![crl_dp(home, &region, parent)];
                let issuer = &issuers
                    .iter()
                    .find(|(id, _)| id == parent)
                    .ok_or_else(|| ConfigError::Inconsistent(format!("parent {parent} not issued")))?
                    .1;
                p.signed_by(&key, &issuer.cert, &issuer.key).map_err(gen_err(&ca.id))?
            }
        };
        keys::write_file(&home.ca_key(&ca.id), key.serialize_pem().as_bytes(), 0o600)?;
        keys::write_file(&home.ca_cert(&ca.id), cert.pem().as_bytes(), 0o644)?;
        if ca.parent.is_none() {
            root_end = Some(cert.params().not_after);
        }
        issuers.push((ca.id.clone(), Issuer { cert, key }));
    }
    // The region root is also published as pki/root.crt.pem, whatever its id.
    let root_id = region.root().id.clone();
    if root_id != "root" {
        let pem =
            std::fs::read(home.ca_cert(&root_id)).map_err(crate::error::io_at(home.ca_cert(&root_id)))?;
        keys::write_file(&home.ca_cert("root"), &pem, 0o644)?;
    }

    let mut token_keys = Vec::new();
    for (dept, loc) in region.departments.iter().zip(&locations) {
        let issuer = &issuers
            .iter()
            .find(|(id, _)| id == &dept.ca)
            .ok_or_else(|| ConfigError::Inconsistent(format!("CA {} not issued", dept.ca)))?
            .1;
        match loc {
            KeyLocation::File => issue_seal(home, &region, dept, issuer)?,
            KeyLocation::Pkcs11(uri) => {
                let mut uri = uri.clone();
                if uri.id.is_none() {
                    uri.id = Some(crate::document::render::random_bytes::<16>()?.to_vec());
                }
                let point = pkcs11::generate_p256(&uri)?;
                certify_seal(home, &region, dept, issuer, &P256Point(point))?;
                // A key file left by an earlier init (--force) is not this department's key.
                let stale = home.seal_key(&dept.id);
                if stale.exists() {
                    std::fs::remove_file(&stale).map_err(crate::error::io_at(&stale))?;
                }
                token_keys.push((dept.id.clone(), uri.to_string()));
            }
        }
    }
    let region_text = &crate::config::key_uri::with_department_keys(region_text, &token_keys)?;
    let root = &issuers
        .iter()
        .find(|(id, _)| *id == region.root().id)
        .ok_or_else(|| ConfigError::Inconsistent("root not issued".into()))?
        .1;
    tsa::issue_under(home, &region, &root.cert, &root.key, None)?;
    for (id, issuer) in &issuers {
        let days = if *id == region.root().id { crl::ROOT_VALIDITY_DAYS } else { crl::VALIDITY_DAYS };
        write_crl(home, id, issuer, Vec::new(), days)?;
    }
    keys::write_file(&home.region_file(), region_text.as_bytes(), 0o644)?;
    crate::document::template::install_defaults(home)?;
    // The licence status key (licence status answers and lists), certified by the root.
    status_key::create(home, true)?;

    Ok(InitSummary {
        root: home.ca_cert("root"),
        cas: region.cas.iter().map(|c| format!("{} {}", c.id, c.name)).collect(),
        departments: region
            .departments
            .iter()
            .zip(&locations)
            .map(|(d, loc)| match loc {
                KeyLocation::File => format!("{} {}", d.id, d.name),
                KeyLocation::Pkcs11(u) => format!("{} {} (key in PKCS#11 token {})", d.id, d.name, u.token),
            })
            .collect(),
        public_url: url,
        tsa: home.tsa_cert(),
    })
}

/// The CA `ca`'s current key as an issuer, from its certificate and key in the home (for a new
/// seal certificate or a CRL).
pub(crate) fn ca_issuer(home: &Home, ca: &str) -> Result<Issuer> {
    ca_keys::issuer_from(&home.ca_cert(ca), &home.ca_key(ca))
}

/// Where the CRL of `ca`'s current key is published (what a certificate it issues names).
pub(crate) fn crl_dp(home: &Home, region: &RegionConfig, ca: &str) -> CrlDistributionPoint {
    CrlDistributionPoint { uris: vec![region.region.crl_dp(&home.crl_name(ca))] }
}

fn issue_seal(home: &Home, region: &RegionConfig, dept: &Department, issuer: &Issuer) -> Result<()> {
    let key = KeyPair::generate().map_err(gen_err(&dept.id))?;
    certify_seal(home, region, dept, issuer, &key)?;
    keys::write_file(&home.seal_key(&dept.id), key.serialize_pem().as_bytes(), 0o600)
}

/// Issue and write department `dept`'s seal certificate for `public` (a key pair in memory, or
/// the public half of a key in a token).
fn certify_seal(
    home: &Home,
    region: &RegionConfig,
    dept: &Department,
    issuer: &Issuer,
    public: &impl rcgen::PublicKeyData,
) -> Result<()> {
    let mut p = base_params(&format!("{}电子印章", dept.name), &dept.name, region, 5)?;
    p.distinguished_name.push(DnType::OrganizationalUnitName, dept.id.as_str());
    // The department's USCC, as ETSI EN 319 412-1 §5.1.4 organizationIdentifier (2.5.4.97):
    // the identity that travels to other regions (trust/registry.rs).
    p.distinguished_name.push(
        DnType::CustomDnType(crate::trust::registry::ORGANIZATION_IDENTIFIER_ARCS.to_vec()),
        format!("{}{}", crate::trust::registry::USCC_PREFIX, dept.uscc),
    );
    // No basicConstraints in end-entity certificates (RFC 5280 §4.2.1.9 allows omitting it).
    // rcgen's ExplicitNoCa writes cA FALSE explicitly, which is not DER (DEFAULT must be omitted):
    // asn1crypto re-encodes it, so pyHanko then sees a TBS whose signature does not verify.
    p.is_ca = IsCa::NoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(EKU_DOCUMENT_SIGNING.to_vec())];
    p.crl_distribution_points = vec![crl_dp(home, region, &dept.ca)];
    let cert = p.signed_by(public, &issuer.cert, &issuer.key).map_err(gen_err(&dept.id))?;
    keys::write_file(&home.seal_cert(&dept.id), cert.pem().as_bytes(), 0o644)
}

fn write_crl(
    home: &Home,
    ca: &str,
    issuer: &Issuer,
    revoked: Vec<rcgen::RevokedCertParams>,
    days: i64,
) -> Result<()> {
    crl::with_lock(home, ca, || write_crl_locked(home, ca, issuer, revoked, days))
}

fn write_crl_locked(
    home: &Home,
    ca: &str,
    issuer: &Issuer,
    revoked: Vec<rcgen::RevokedCertParams>,
    days: i64,
) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    let params = CertificateRevocationListParams {
        this_update: now - Duration::minutes(5),
        next_update: now + Duration::days(days),
        crl_number: revoke::next_crl_number(home, ca),
        issuing_distribution_point: None,
        revoked_certs: revoked,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    let crl = params.signed_by(&issuer.cert, &issuer.key).map_err(gen_err(ca))?;
    keys::write_file(&home.crl(ca), crl.der(), 0o644)
}
