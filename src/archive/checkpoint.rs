//! Signed tree heads as C2SP tlog-checkpoint signed notes: body `origin\nsize\nbase64(root)\n`,
//! then a blank line and `— <name> base64(key_hash[4] ‖ Ed25519 signature)`, so existing
//! transparency-log tooling can check them. The log key is Ed25519 (ring), PKCS#8, 0600.
//!
//! Each new head also carries a timestamped cosignature by the same key (C2SP tlog-cosignature,
//! Ed25519 `cosignature/v1`, key name `<origin>/clock`): "as of time T the log had this root".
//! That time is what makes a checkpoint proof of existence for the records it includes
//! (`evidence`).
//!
//! C2SP tlog-checkpoint, signed-note and tlog-cosignature specifications.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};

use super::merkle::Hash;
use crate::error::{ArchiveError, PkiError, Result};

/// A parsed checkpoint body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root))
    }
}

/// Key id of a signed-note Ed25519 key: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[..4].
fn key_hash(name: &str, public: &[u8]) -> [u8; 4] {
    let mut data = name.as_bytes().to_vec();
    data.push(b'\n');
    data.push(0x01);
    data.extend_from_slice(public);
    let d = crate::pades::cms::sha256(&data);
    [d[0], d[1], d[2], d[3]]
}

/// Load or create the log key (created only when missing; never overwritten).
pub fn load_or_create_key(path: &std::path::Path) -> Result<Ed25519KeyPair> {
    if !path.exists() {
        let rng = ring::rand::SystemRandom::new();
        let doc = Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| PkiError::Sign("cannot generate the log key".into()))?;
        crate::pki::keys::write_file(
            path,
            crate::pki::keys::to_pem("PRIVATE KEY", doc.as_ref()).as_bytes(),
            0o600,
        )?;
    }
    let der = crate::pki::keys::read_key_der(path)?;
    Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
        .map_err(|e| PkiError::BadKey { path: path.to_path_buf(), message: e.to_string() }.into())
}

/// The signed note text for `cp`.
pub fn sign(cp: &Checkpoint, key: &Ed25519KeyPair) -> String {
    let body = cp.body();
    let sig = key.sign(body.as_bytes());
    let mut blob = key_hash(&cp.origin, key.public_key().as_ref()).to_vec();
    blob.extend_from_slice(sig.as_ref());
    format!("{body}\n\u{2014} {} {}\n", cp.origin, B64.encode(blob))
}

/// Name of the log key's timestamped cosignature: `<origin>/clock`.
pub fn clock_name(origin: &str) -> String {
    format!("{origin}/clock")
}

/// Key id of an Ed25519 cosignature key: SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[..4].
fn cosign_key_hash(name: &str, public: &[u8]) -> [u8; 4] {
    let mut data = name.as_bytes().to_vec();
    data.push(b'\n');
    data.push(0x04);
    data.extend_from_slice(public);
    let d = crate::pades::cms::sha256(&data);
    [d[0], d[1], d[2], d[3]]
}

/// The message a `cosignature/v1` signs: header, time line, then the note body.
fn cosigned_message(body: &str, time: u64) -> String {
    format!("cosignature/v1\ntime {time}\n{body}")
}

/// The signed note for `cp`, with a second signature line: the timestamped cosignature at `time`
/// (POSIX seconds) by the same key under the name `<origin>/clock`.
pub fn sign_timed(cp: &Checkpoint, time: u64, key: &Ed25519KeyPair) -> String {
    let note = sign(cp, key);
    let name = clock_name(&cp.origin);
    let sig = key.sign(cosigned_message(&cp.body(), time).as_bytes());
    let mut blob = cosign_key_hash(&name, key.public_key().as_ref()).to_vec();
    blob.extend_from_slice(&time.to_be_bytes());
    blob.extend_from_slice(sig.as_ref());
    format!("{note}\u{2014} {name} {}\n", B64.encode(blob))
}

/// The time the note's clock cosignature states, checked against the log's verifier key
/// (`name+hash+base64(0x01 ‖ key)`; the cosignature uses the same public key). `None` when the
/// note carries no valid clock cosignature (heads signed before it existed).
pub fn cosigned_time(note: &str, vkey: &str) -> Option<u64> {
    let mut parts = vkey.splitn(3, '+');
    let (Some(origin), Some(_), Some(k)) = (parts.next(), parts.next(), parts.next()) else { return None };
    let k = B64.decode(k).ok()?;
    let (&0x01, public) = k.split_first()? else { return None };
    let (body, sigs) = note.split_once("\n\n")?;
    let body = format!("{body}\n");
    let name = clock_name(origin);
    let want = cosign_key_hash(&name, public);
    sigs.lines().find_map(|l| {
        let (n, b) = l.strip_prefix("\u{2014} ")?.split_once(' ')?;
        let blob = B64.decode(b).ok()?;
        if n != name || blob.len() != 4 + 8 + 64 || blob.get(..4)? != want {
            return None;
        }
        let time = u64::from_be_bytes(blob.get(4..12)?.try_into().ok()?);
        UnparsedPublicKey::new(&ED25519, public)
            .verify(cosigned_message(&body, time).as_bytes(), blob.get(12..)?)
            .ok()
            .map(|()| time)
    })
}

/// Verifier key string in the C2SP vkey form `name+hash+base64(0x01 ‖ pubkey)`.
pub fn verifier_key(origin: &str, key: &Ed25519KeyPair) -> String {
    let public = key.public_key().as_ref();
    let mut k = vec![0x01];
    k.extend_from_slice(public);
    format!("{origin}+{}+{}", crate::hex::encode(&key_hash(origin, public)), B64.encode(k))
}

/// Parse and check a signed note against a verifier key (`name+hash+base64`).
pub fn open(note: &str, vkey: &str) -> Result<Checkpoint> {
    let bad = |m: &str| ArchiveError::BadProof(format!("checkpoint: {m}"));
    let mut parts = vkey.splitn(3, '+');
    let (Some(name), Some(_), Some(k)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("malformed verifier key").into());
    };
    let k = B64.decode(k).map_err(|_| bad("verifier key is not base64"))?;
    let Some((&0x01, public)) = k.split_first() else {
        return Err(bad("verifier key is not Ed25519").into());
    };
    let (body, sigs) = note.split_once("\n\n").ok_or_else(|| bad("no signature block"))?;
    let body = format!("{body}\n");
    let want = key_hash(name, public);
    let ok = sigs.lines().any(|l| {
        let Some(rest) = l.strip_prefix("\u{2014} ") else { return false };
        let Some((n, b)) = rest.split_once(' ') else { return false };
        let Ok(blob) = B64.decode(b) else { return false };
        n == name
            && blob.len() == 68
            && blob[..4] == want
            && UnparsedPublicKey::new(&ED25519, public).verify(body.as_bytes(), &blob[4..]).is_ok()
    });
    if !ok {
        return Err(bad("no valid signature by the given key").into());
    }
    let lines: Vec<&str> = body.lines().collect();
    let [origin, size, root, ..] = lines.as_slice() else {
        return Err(bad("body must have origin, size and root lines").into());
    };
    let root = B64
        .decode(root)
        .ok()
        .and_then(|r| <[u8; 32]>::try_from(r).ok())
        .ok_or_else(|| bad("root is not 32 bytes of base64"))?;
    Ok(Checkpoint {
        origin: origin.to_string(),
        size: size.parse().map_err(|_| bad("size is not a number"))?,
        root,
    })
}
