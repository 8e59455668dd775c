//! The home directory layout and the region configuration (CAs, departments) read from TOML.
//!
//! Knows file names and the shape of `region.toml`; knows nothing of PDF, CMS or HTTP.
//! The shipped test region (`fixtures/region/taian.toml`) is embedded so `init` works anywhere.

pub mod authority;
pub mod key_uri;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, Result};

/// The test region shipped with the product (泰安市, synthetic codes).
pub const DEFAULT_REGION: &str = include_str!("../fixtures/region/taian.toml");

/// Environment variable naming the home directory.
pub const HOME_ENV: &str = "ZHENGYIN_HOME";
/// Home directory used when neither `--home` nor `ZHENGYIN_HOME` is given.
pub const DEFAULT_HOME: &str = "zhengyin-home";

/// A region: its CAs (one root, level CAs under it) and its departments.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionConfig {
    pub region: Region,
    #[serde(rename = "ca")]
    pub cas: Vec<CaConfig>,
    #[serde(rename = "department")]
    pub departments: Vec<Department>,
    /// Who may issue which licence type (发证权限): template name → departments. A template not
    /// named here may be issued only by the first department of its seal plan (authority.rs).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub authority: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// Short ASCII id, e.g. `taian`.
    pub id: String,
    /// Display name, e.g. 泰安市.
    pub name: String,
    /// Six-digit administrative area code (GB/T 2260).
    pub area_code: String,
    /// Base of the verification URL printed in QR codes when `public_url` is absent (with it,
    /// QR codes point at `<public_url>/verify`, the page `zhengyin serve` answers).
    pub verify_url: String,
    /// Base URL where CRLs were published before `public_url` (`<crl_url>/<ca>.crl`); used for
    /// CRL distribution points only when `public_url` is absent.
    #[serde(default)]
    pub crl_url: String,
    /// Base URL of this region's `zhengyin serve` (set by `init --public-url`, default
    /// [`DEFAULT_PUBLIC_URL`]): certificates name `<public_url>/crl/<ca>.crl` as their CRL
    /// distribution point, and `serve` answers that path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Department id → USCC, filled from the `[[department]]` tables when the file is parsed
    /// (so whatever holds the region can name departments by region and USCC).
    #[serde(skip)]
    pub usccs: Vec<(String, String)>,
}

/// The public URL `init` records when neither `--public-url` nor the region file gives one:
/// `zhengyin serve`'s default listen address.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

impl Region {
    /// A seal plan of local ids as `<region>/<USCC>` (ids of no department stay as they are).
    pub fn plan_ids<S: AsRef<str>>(&self, plan: &[S]) -> Vec<String> {
        plan.iter()
            .map(|id| match self.usccs.iter().find(|(d, _)| d == id.as_ref()) {
                Some((_, uscc)) => format!("{}/{uscc}", self.id),
                None => id.as_ref().to_string(),
            })
            .collect()
    }

    /// The verification URL base QR codes carry (`<base>?id=<identifier>`): `<public_url>/verify`,
    /// the page this region's `zhengyin serve` answers, else the region file's `verify_url`.
    pub fn verify_base(&self) -> String {
        match &self.public_url {
            Some(u) => format!("{}/verify", u.trim_end_matches('/')),
            None => self.verify_url.clone(),
        }
    }

    /// The CRL distribution point URL for CRLs signed by CA `ca`.
    pub fn crl_dp(&self, ca: &str) -> String {
        match &self.public_url {
            Some(u) => format!("{}/crl/{ca}.crl", u.trim_end_matches('/')),
            None => format!("{}/{ca}.crl", self.crl_url.trim_end_matches('/')),
        }
    }
}

/// `text` (a region file) with `public_url = "<url>"` as the first entry of its `[region]` table,
/// replacing any earlier `public_url` line there; comments and everything else are kept.
pub fn with_public_url(text: &str, url: &str) -> Result<String> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() <= 200
        && url.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    if !ok {
        return Err(ConfigError::Inconsistent(format!(
            "--public-url `{url}` is not an http(s) URL without spaces or quotes"
        ))
        .into());
    }
    let mut out = Vec::new();
    let mut in_region = false;
    let mut done = false;
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with('[') {
            in_region = t.starts_with("[region]");
        }
        let key = t.split('=').next().map(str::trim);
        if in_region && key == Some("public_url") && t.contains('=') {
            continue;
        }
        out.push(line.to_string());
        if in_region && !done && t.starts_with("[region]") {
            out.push(format!("public_url = \"{}\"", url.trim_end_matches('/')));
            done = true;
        }
    }
    if !done {
        return Err(ConfigError::Inconsistent("the region file has no [region] table".into()).into());
    }
    Ok(out.join("\n") + "\n")
}

/// A certification authority of the region.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaConfig {
    pub id: String,
    pub name: String,
    /// `region`, `province`, `city` or `county`.
    pub level: String,
    /// The CA that issues this one; absent for the region root.
    pub parent: Option<String>,
}

/// A department that holds an electronic seal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub id: String,
    pub name: String,
    /// 18-character unified social credit code (synthetic in fixtures).
    pub uscc: String,
    pub level: String,
    /// The CA that issues this department's seal certificate.
    pub ca: String,
    /// Text along the bottom of the round seal, e.g. 行政审批专用章.
    #[serde(default)]
    pub seal_text: String,
    /// Registry status published in the trust list: absent means `active`; anything else
    /// (`withdrawn`, `suspended`) makes other regions stop counting its seals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Where the seal key is: absent or `"file"` for a PKCS#8 file in the home (0600), or an
    /// RFC 7512 `pkcs11:` URI naming a private key in a token (HSM, cipher machine, UKey):
    /// `pki::pkcs11`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl Department {
    /// Where this department's seal key is (`key`; absent: a file in the home).
    pub fn key_location(&self) -> Result<key_uri::KeyLocation> {
        key_uri::KeyLocation::parse(self.key.as_deref())
    }
}

impl RegionConfig {
    /// Parse and check a region file: one root, every parent and CA reference known.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let mut cfg: RegionConfig = toml::from_str(text).map_err(|e| ConfigError::Toml {
            path: path.to_path_buf(),
            what: "a region",
            message: e.message().to_string(),
        })?;
        cfg.check()?;
        cfg.region.usccs = cfg.departments.iter().map(|d| (d.id.clone(), d.uscc.clone())).collect();
        Ok(cfg)
    }

    fn check(&self) -> Result<()> {
        let bad = |m: String| ConfigError::Inconsistent(m);
        let roots = self.cas.iter().filter(|c| c.parent.is_none()).count();
        if roots != 1 {
            return Err(bad(format!("expected exactly one root CA (no parent), found {roots}")).into());
        }
        for ca in &self.cas {
            if let Some(p) = &ca.parent {
                if self.ca(p).is_none() {
                    return Err(bad(format!("CA `{}` names unknown parent `{p}`", ca.id)).into());
                }
            }
        }
        // Parents must appear before children so issuance can walk the list in order.
        for (i, ca) in self.cas.iter().enumerate() {
            if let Some(p) = &ca.parent {
                if !self.cas[..i].iter().any(|c| &c.id == p) {
                    return Err(bad(format!("CA `{}` is listed before its parent `{p}`", ca.id)).into());
                }
            }
        }
        for d in &self.departments {
            if self.ca(&d.ca).is_none() {
                return Err(bad(format!("department `{}` names unknown CA `{}`", d.id, d.ca)).into());
            }
            if !crate::document::identifier::uscc_is_valid(&d.uscc) {
                return Err(bad(format!(
                    "department `{}` has an invalid USCC `{}` (18 characters with a GB 32100 check character)",
                    d.id, d.uscc
                ))
                .into());
            }
            d.key_location()?;
            if self.departments.iter().filter(|o| o.uscc == d.uscc || o.id == d.id).count() > 1 {
                return Err(bad(format!("department `{}` ({}) is listed twice", d.id, d.uscc)).into());
            }
        }
        for (template, depts) in &self.authority {
            if let Some(d) = depts.iter().find(|d| !self.departments.iter().any(|x| &x.id == *d)) {
                return Err(bad(format!("[authority] {template} names unknown department `{d}`")).into());
            }
        }
        Ok(())
    }

    pub fn ca(&self, id: &str) -> Option<&CaConfig> {
        self.cas.iter().find(|c| c.id == id)
    }

    pub fn root(&self) -> &CaConfig {
        // Invariant: `check` established exactly one CA without a parent.
        self.cas.iter().find(|c| c.parent.is_none()).expect("checked: one root")
    }

    pub fn department(&self, id: &str) -> Result<&Department> {
        self.departments.iter().find(|d| d.id == id).ok_or_else(|| {
            ConfigError::UnknownDepartment {
                id: id.to_string(),
                known: self.departments.iter().map(|d| d.id.as_str()).collect::<Vec<_>>().join(", "),
            }
            .into()
        })
    }

    /// CA ids from the given CA up to (excluding) the root: the intermediates of a chain.
    pub fn intermediates(&self, ca_id: &str) -> Vec<&CaConfig> {
        let mut out = Vec::new();
        let mut cur = self.ca(ca_id);
        while let Some(ca) = cur {
            match &ca.parent {
                Some(p) => {
                    out.push(ca);
                    cur = self.ca(p);
                }
                None => break,
            }
        }
        out
    }
}

/// Paths inside a home directory (see DESIGN.md "Home directory").
#[derive(Debug, Clone)]
pub struct Home {
    pub dir: PathBuf,
}

impl Home {
    /// Resolve the home: explicit flag, then `ZHENGYIN_HOME`, then `./zhengyin-home`.
    pub fn resolve(flag: Option<PathBuf>) -> Self {
        let dir = flag
            .or_else(|| std::env::var_os(HOME_ENV).map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(DEFAULT_HOME));
        Home { dir }
    }

    pub fn region_file(&self) -> PathBuf {
        self.dir.join("region.toml")
    }
    pub fn pki_dir(&self) -> PathBuf {
        self.dir.join("pki")
    }
    pub fn private_dir(&self) -> PathBuf {
        self.dir.join("pki").join("private")
    }
    pub fn ca_cert(&self, ca: &str) -> PathBuf {
        self.pki_dir().join(format!("{ca}.crt.pem"))
    }
    pub fn ca_key(&self, ca: &str) -> PathBuf {
        self.private_dir().join(format!("{ca}.key.pem"))
    }
    pub fn seal_cert(&self, dept: &str) -> PathBuf {
        self.dir.join("seals").join(format!("{dept}.crt.pem"))
    }
    pub fn seal_key(&self, dept: &str) -> PathBuf {
        self.private_dir().join(format!("seal-{dept}.key.pem"))
    }
    /// The CRL signed by CA `ca`'s current key ([`Home::crl_name`]).
    pub fn crl(&self, ca: &str) -> PathBuf {
        self.crl_file(&self.crl_name(ca))
    }
    /// The CRL published under `name` (a CA id, or a later key's name after `pki roll-ca`).
    pub fn crl_file(&self, name: &str) -> PathBuf {
        self.dir.join("crl").join(format!("{name}.crl"))
    }
    /// The name under which CA `ca`'s current key publishes its CRL: the CA id for the key made
    /// at `init`, `<ca>-<serial prefix>` after a CA key rollover (`pki/<ca>.crl-name`, written by
    /// `pki::ca_keys`). A CRL keeps its name for good: the certificates a key issued name it.
    pub fn crl_name(&self, ca: &str) -> String {
        std::fs::read_to_string(self.pki_dir().join(format!("{ca}.crl-name")))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| {
                !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
            .unwrap_or_else(|| ca.to_string())
    }
    /// The time-stamping authority's public directory: certificate and token ledger.
    pub fn tsa_dir(&self) -> PathBuf {
        self.dir.join("tsa")
    }
    pub fn tsa_cert(&self) -> PathBuf {
        self.tsa_dir().join("tsa.crt.pem")
    }
    pub fn tsa_key(&self) -> PathBuf {
        self.private_dir().join("tsa.key.pem")
    }
    pub fn tsa_ledger(&self) -> PathBuf {
        self.tsa_dir().join("ledger.jsonl")
    }
    pub fn templates_dir(&self) -> PathBuf {
        self.dir.join("templates")
    }
    pub fn state_file(&self) -> PathBuf {
        self.dir.join("serials.toml")
    }

    /// Load the region configuration copied into the home at `init`.
    pub fn region(&self) -> Result<RegionConfig> {
        let path = self.region_file();
        if !path.exists() {
            return Err(ConfigError::NotInitialised { home: self.dir.clone() }.into());
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|source| ConfigError::Read { path: path.clone(), source })?;
        RegionConfig::parse(&text, &path)
    }
}
