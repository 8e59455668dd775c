//! Where a department's seal key is, as the region file says it (`key = "file"` or
//! `key = "pkcs11:…"`): the RFC 7512 PKCS#11 URI parsed into the token, object and module it
//! names, and written back by `init --pkcs11`.
//!
//! Knows only the text of the URI; opening the module and the token is `pki::pkcs11`. RFC 7512
//! (§2.3 path and query attributes, §2.4 pin-source), RFC 3986 §2.1 (percent-encoding).

use std::path::PathBuf;

use crate::error::{Pkcs11Error, Result};

/// Environment variable holding a token's user PIN when the key URI has no `pin-source`.
pub const PIN_ENV: &str = "ZHENGYIN_PKCS11_PIN";
/// Environment variable naming the PKCS#11 module when the key URI has no `module-path`.
pub const MODULE_ENV: &str = "ZHENGYIN_PKCS11_MODULE";
/// Longest key URI accepted (a real one is about 200 bytes).
const MAX_URI: usize = 2048;

/// Where a department's seal key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLocation {
    /// A PKCS#8 file under the home's pki/private (0600): the default.
    File,
    /// A private key in a PKCS#11 token.
    Pkcs11(KeyUri),
}

impl KeyLocation {
    /// The location a department's `key` field names (absent: a file).
    pub fn parse(key: Option<&str>) -> Result<KeyLocation> {
        match key {
            None | Some("file") => Ok(KeyLocation::File),
            Some(uri) => Ok(KeyLocation::Pkcs11(KeyUri::parse(uri)?)),
        }
    }
}

/// A private key in a token, as an RFC 7512 URI names it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct KeyUri {
    /// The token label (CKA_LABEL of the token, `token=`).
    pub token: String,
    /// The key object's CKA_LABEL (`object=`).
    pub object: Option<String>,
    /// The key object's CKA_ID (`id=`, percent-encoded bytes).
    pub id: Option<Vec<u8>>,
    /// The PKCS#11 module (shared library) to load (`module-path=`; else [`MODULE_ENV`]).
    pub module_path: Option<PathBuf>,
    /// A file holding the user PIN (`pin-source=file:…`; else [`PIN_ENV`]).
    pub pin_file: Option<PathBuf>,
}

impl KeyUri {
    /// Parse a `pkcs11:` URI. Refused: attributes zhengyin cannot honour (so a URI never
    /// silently matches more than it says), repeated attributes (RFC 7512 §2.3), a PIN in the
    /// URI itself (`pin-value`), and a URI naming neither an object nor an id.
    pub fn parse(uri: &str) -> Result<KeyUri> {
        let bad = |reason: &str| Pkcs11Error::BadUri { uri: shorten(uri), reason: reason.to_string() };
        if uri.len() > MAX_URI {
            return Err(bad("longer than 2048 bytes").into());
        }
        let rest = uri
            .get(..7)
            .filter(|s| s.eq_ignore_ascii_case("pkcs11:"))
            .and_then(|_| uri.get(7..))
            .ok_or_else(|| bad("expected `file` or a URI starting `pkcs11:`"))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut k = KeyUri::default();
        let mut seen: Vec<String> = Vec::new();
        let attrs = path.split(';').map(|a| (a, false)).chain(query.split('&').map(|a| (a, true)));
        for (attr, in_query) in attrs.filter(|(a, _)| !a.is_empty()) {
            let (name, value) = attr.split_once('=').ok_or_else(|| bad("an attribute without `=`"))?;
            if seen.iter().any(|s| s == name) {
                return Err(bad(&format!("attribute `{name}` appears twice")).into());
            }
            seen.push(name.to_string());
            let bytes = decode(value).ok_or_else(|| bad(&format!("bad percent-encoding in `{name}`")))?;
            let text =
                || String::from_utf8(bytes.clone()).map_err(|_| bad(&format!("`{name}` is not UTF-8")));
            match (name, in_query) {
                ("token", false) => k.token = text()?,
                ("object", false) => k.object = Some(text()?),
                ("id", false) => k.id = Some(bytes.clone()),
                ("type", false) if bytes == b"private" => {}
                ("type", false) => return Err(bad("only type=private (a private key) can seal").into()),
                ("module-path", true) => k.module_path = Some(PathBuf::from(text()?)),
                ("pin-source", true) => {
                    let t = text()?;
                    let file = t.strip_prefix("file:").unwrap_or(&t);
                    k.pin_file = Some(PathBuf::from(file.strip_prefix("//").unwrap_or(file)));
                }
                ("pin-value", true) => {
                    return Err(bad(&format!(
                        "a PIN is never written in the region file: use pin-source=file:… or {PIN_ENV}"
                    ))
                    .into())
                }
                _ => {
                    return Err(bad(&format!(
                        "attribute `{name}` is not supported (path: token, object, id, type; query: module-path, pin-source)"
                    ))
                    .into())
                }
            }
        }
        if k.token.is_empty() {
            return Err(bad("no token=…").into());
        }
        if k.object.is_none() && k.id.is_none() {
            return Err(bad("names no key: give object=… or id=…").into());
        }
        Ok(k)
    }

    /// What the URI names, for messages: `object seal-xzsp (id 0a1b…)`.
    pub fn describe(&self) -> String {
        let id = self.id.as_deref().map(crate::hex::encode);
        match (&self.object, id) {
            (Some(o), Some(i)) => format!("`{o}` (id {i})"),
            (Some(o), None) => format!("`{o}`"),
            (None, Some(i)) => format!("with id {i}"),
            (None, None) => "(unnamed)".into(),
        }
    }
}

impl std::fmt::Display for KeyUri {
    /// The URI, attributes percent-encoded beyond RFC 3986 unreserved characters.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pkcs11:token={}", encode(self.token.as_bytes(), false))?;
        if let Some(o) = &self.object {
            write!(f, ";object={}", encode(o.as_bytes(), false))?;
        }
        if let Some(id) = &self.id {
            f.write_str(";id=")?;
            for b in id {
                write!(f, "%{b:02X}")?;
            }
        }
        f.write_str(";type=private")?;
        let mut sep = '?';
        if let Some(m) = &self.module_path {
            write!(f, "{sep}module-path={}", encode(m.to_string_lossy().as_bytes(), true))?;
            sep = '&';
        }
        if let Some(p) = &self.pin_file {
            write!(f, "{sep}pin-source=file:{}", encode(p.to_string_lossy().as_bytes(), true))?;
        }
        Ok(())
    }
}

/// `text` (a region file) with `key = "<key>"` in the `[[department]]` table of each `(id, key)`
/// (`init --pkcs11` recording where it created each key), replacing any `key` line there;
/// comments and everything else are kept.
pub fn with_department_keys(text: &str, keys: &[(String, String)]) -> Result<String> {
    if keys.is_empty() {
        return Ok(text.to_string());
    }
    let mut tables: Vec<Vec<&str>> = vec![Vec::new()];
    for line in text.lines() {
        if line.trim_start().starts_with('[') {
            tables.push(Vec::new());
        }
        if let Some(t) = tables.last_mut() {
            t.push(line);
        }
    }
    let is_key = |l: &&str| l.split('=').next().map(str::trim) == Some("key") && l.contains('=');
    let mut out = Vec::new();
    let mut done = 0;
    for table in tables {
        let (head, body) = table.split_first().map_or(("", &[][..]), |(h, b)| (*h, b));
        let id = head
            .trim_start()
            .starts_with("[[department]]")
            .then(|| toml::from_str::<toml::Table>(&body.join("\n")).ok())
            .flatten()
            .and_then(|t| t.get("id").and_then(|v| v.as_str()).map(String::from));
        match keys.iter().find(|(d, _)| Some(d) == id.as_ref()) {
            Some((_, key)) => {
                done += 1;
                out.push(head.to_string());
                out.push(format!("key = {}", toml::Value::String(key.clone())));
                out.extend(body.iter().filter(|l| !is_key(l)).map(|l| l.to_string()));
            }
            None => out.extend(table.iter().map(|l| l.to_string())),
        }
    }
    if done != keys.len() {
        return Err(crate::error::ConfigError::Inconsistent(
            "a department given a key is not in the region file".into(),
        )
        .into());
    }
    Ok(out.join("\n") + "\n")
}

fn decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    Some(out)
}

fn encode(bytes: &[u8], query: bool) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            b'/' if query => "/".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The URI without its query (module and PIN file paths), for messages.
fn shorten(uri: &str) -> String {
    uri.split('?').next().unwrap_or_default().chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A URI written by `init --pkcs11` parses back to the same key location.
    #[test]
    fn written_uri_parses_back() {
        let k = KeyUri {
            token: "泰安 seals".into(),
            object: Some("seal-xzsp".into()),
            id: Some(vec![0, 0xab, 0x10]),
            module_path: Some("/usr/lib/softhsm/libsofthsm2.so".into()),
            pin_file: Some("/etc/zhengyin/pin".into()),
        };
        let text = k.to_string();
        assert!(text.starts_with("pkcs11:token=%E6%B3%B0%E5%AE%89%20seals;object=seal-xzsp;id=%00%AB%10"));
        assert_eq!(KeyUri::parse(&text).unwrap(), k);
    }

    /// RFC 7512 examples zhengyin accepts, and the ones it refuses with a reason.
    #[test]
    fn refuses_what_it_cannot_honour() {
        let ok = KeyUri::parse("pkcs11:token=t;object=o?pin-source=file:/p&module-path=/m.so").unwrap();
        assert_eq!(ok.pin_file, Some(PathBuf::from("/p")));
        assert_eq!(ok.module_path, Some(PathBuf::from("/m.so")));
        for (uri, why) in [
            ("pkcs11:token=t;object=o?pin-value=1234", "never written"),
            ("pkcs11:object=o", "no token"),
            ("pkcs11:token=t", "names no key"),
            ("pkcs11:token=t;object=o;object=p", "twice"),
            ("pkcs11:token=t;object=o;type=cert", "type=private"),
            ("pkcs11:token=t;object=o;serial=1", "not supported"),
            ("pkcs11:token=t;object=%4", "percent"),
            ("pkcs12:token=t;object=o", "pkcs11:"),
        ] {
            let e = KeyUri::parse(uri).unwrap_err().to_string();
            assert!(e.contains(why), "{uri}: {e}");
        }
        assert_eq!(KeyLocation::parse(Some("file")).unwrap(), KeyLocation::File);
        assert_eq!(KeyLocation::parse(None).unwrap(), KeyLocation::File);
    }
}
