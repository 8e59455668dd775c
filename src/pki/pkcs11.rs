//! Seal keys in a PKCS#11 token (HSM, 密码机, UKey) through the `cryptoki` crate, the Parsec
//! project's kept bindings over the PKCS#11 C API (no FFI of our own): load the module and log in
//! to the token once per process, find the private key a key URI names, sign SHA-256 digests with
//! CKM_ECDSA, and, for `init`, generate P-256 key pairs that never leave the token.
//!
//! Knows nothing of certificates, PDF or CMS; the URI's text is `config::key_uri`. PKCS#11 v2.40
//! §5.6 (C_Login), §5.7 (C_FindObjects, C_GetAttributeValue), §5.11 (C_Sign), §5.14
//! (C_GenerateKeyPair) and the current mechanisms spec §2.3 (CKM_EC_KEY_PAIR_GEN, CKM_ECDSA).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;

use crate::config::key_uri::{KeyUri, MODULE_ENV, PIN_ENV};
use crate::error::{Pkcs11Error, Result};

/// CKA_EC_PARAMS of P-256: the DER OID prime256v1 (1.2.840.10045.3.1.7, RFC 5480 §2.1.1.1).
const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// A logged-in session on one token, shared by every key of that token in this process. A
/// `Session` is `Send` but not `Sync` (PKCS#11 sessions are not re-entrant): the mutex serialises
/// its use. One session rather than one per thread: an HSM signs one request at a time per
/// session anyway, and UKeys allow few sessions.
type Shared = Arc<Mutex<Session>>;

/// Loaded modules (C_Initialize once per module and process) and sessions per (module, token).
#[derive(Default)]
struct Registry {
    modules: HashMap<PathBuf, Pkcs11>,
    sessions: HashMap<(PathBuf, String), Shared>,
}

fn registry() -> MutexGuard<'static, Registry> {
    static REG: OnceLock<Mutex<Registry>> = OnceLock::new();
    REG.get_or_init(Mutex::default).lock().unwrap_or_else(|p| p.into_inner())
}

/// A private key in a token, ready to sign.
pub struct TokenKey {
    session: Shared,
    handle: ObjectHandle,
    token: String,
}

impl TokenKey {
    /// Open the key `uri` names: the module and session are opened (and the user logged in) on
    /// first use in this process, then reused.
    pub fn open(uri: &KeyUri) -> Result<TokenKey> {
        let session = session(uri)?;
        let found = find(&lock(&session), uri, Some(ObjectClass::PRIVATE_KEY))?;
        match found.as_slice() {
            [handle] => Ok(TokenKey { session, handle: *handle, token: uri.token.clone() }),
            [] => Err(Pkcs11Error::NoObject { token: uri.token.clone(), object: uri.describe() }.into()),
            more => Err(Pkcs11Error::Ambiguous {
                token: uri.token.clone(),
                object: uri.describe(),
                count: more.len(),
            }
            .into()),
        }
    }

    /// CKM_ECDSA over a SHA-256 digest: the raw r‖s (64 bytes) the token returns.
    pub fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>> {
        let raw = lock(&self.session)
            .sign(&Mechanism::Ecdsa, self.handle, digest)
            .map_err(call_err(&self.token, "C_Sign"))?;
        if raw.len() != 64 {
            return Err(Pkcs11Error::Call {
                token: self.token.clone(),
                function: "C_Sign".into(),
                message: format!("returned {} bytes, not a P-256 r‖s of 64 (is the key P-256?)", raw.len()),
            }
            .into());
        }
        Ok(raw)
    }
}

/// Refuse when the token already holds an object with the label or id `uri` names (a key
/// `init` would create), unless `force`, in which case those objects are destroyed.
pub fn clear_existing(uri: &KeyUri, force: bool) -> Result<()> {
    let session = session(uri)?;
    let s = lock(&session);
    let found = find(&s, uri, None)?;
    if found.is_empty() {
        return Ok(());
    }
    if !force {
        return Err(Pkcs11Error::ObjectExists { token: uri.token.clone(), object: uri.describe() }.into());
    }
    for o in found {
        s.destroy_object(o).map_err(call_err(&uri.token, "C_DestroyObject"))?;
    }
    Ok(())
}

/// Generate a P-256 key pair in the token, labelled `uri.object` with CKA_ID `uri.id`: the
/// private key CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE and not CKA_EXTRACTABLE, so it never
/// leaves the token. Returns the public key as an uncompressed point (0x04‖X‖Y).
pub fn generate_p256(uri: &KeyUri) -> Result<Vec<u8>> {
    let session = session(uri)?;
    let s = lock(&session);
    let mut named = Vec::new();
    if let Some(o) = &uri.object {
        named.push(Attribute::Label(o.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        named.push(Attribute::Id(id.clone()));
    }
    let mut public = vec![
        Attribute::Token(true),
        Attribute::Private(false),
        Attribute::Verify(true),
        Attribute::EcParams(P256_PARAMS.to_vec()),
    ];
    public.extend(named.iter().cloned());
    let mut private = vec![
        Attribute::Token(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Sign(true),
    ];
    private.extend(named);
    let (pub_key, _) = s
        .generate_key_pair(&Mechanism::EccKeyPairGen, &public, &private)
        .map_err(call_err(&uri.token, "C_GenerateKeyPair"))?;
    let attrs = s
        .get_attributes(pub_key, &[AttributeType::EcPoint])
        .map_err(call_err(&uri.token, "C_GetAttributeValue"))?;
    let point = attrs.into_iter().find_map(|a| match a {
        Attribute::EcPoint(p) => Some(p),
        _ => None,
    });
    // CKA_EC_POINT is the DER OCTET STRING of the point (PKCS#11 v2.40 §2.3.3); some modules
    // return the bare point.
    match point.as_deref() {
        Some([0x04, 0x41, rest @ ..]) if rest.len() == 65 => Ok(rest.to_vec()),
        Some(p @ [0x04, ..]) if p.len() == 65 => Ok(p.to_vec()),
        _ => Err(Pkcs11Error::Call {
            token: uri.token.clone(),
            function: "C_GetAttributeValue(CKA_EC_POINT)".into(),
            message: "the new public key is not an uncompressed P-256 point".into(),
        }
        .into()),
    }
}

fn lock(s: &Shared) -> MutexGuard<'_, Session> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

/// The module `uri` names (`module-path`, else [`MODULE_ENV`]).
fn module_path(uri: &KeyUri) -> Result<PathBuf> {
    uri.module_path
        .clone()
        .or_else(|| std::env::var_os(MODULE_ENV).map(PathBuf::from))
        .ok_or_else(|| Pkcs11Error::NoModule { token: uri.token.clone() }.into())
}

/// The user PIN: the `pin-source` file (one line), else [`PIN_ENV`]. Never an argument.
fn pin(uri: &KeyUri) -> Result<AuthPin> {
    if let Some(path) = &uri.pin_file {
        let text = std::fs::read_to_string(path).map_err(|source| Pkcs11Error::PinFile {
            token: uri.token.clone(),
            path: path.clone(),
            source,
        })?;
        return Ok(AuthPin::from(text.trim_end_matches(['\n', '\r'])));
    }
    match std::env::var(PIN_ENV) {
        Ok(p) if !p.is_empty() => Ok(AuthPin::from(p)),
        _ => Err(Pkcs11Error::NoPin { token: uri.token.clone() }.into()),
    }
}

/// The logged-in session on `uri`'s token, opened on first use.
fn session(uri: &KeyUri) -> Result<Shared> {
    let module = module_path(uri)?;
    let mut reg = registry();
    let key = (module.clone(), uri.token.clone());
    if let Some(s) = reg.sessions.get(&key) {
        return Ok(s.clone());
    }
    let ctx = match reg.modules.get(&module) {
        Some(c) => c.clone(),
        None => {
            let bad = |e: CkError| Pkcs11Error::Module { path: module.clone(), message: e.to_string() };
            let ctx = Pkcs11::new(&module).map_err(bad)?;
            match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
                Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
                Err(e) => return Err(bad(e).into()),
            }
            reg.modules.insert(module.clone(), ctx.clone());
            ctx
        }
    };
    let token = &uri.token;
    let mut present = Vec::new();
    let mut slot = None;
    for s in ctx.get_slots_with_token().map_err(call_err(token, "C_GetSlotList"))? {
        let label =
            ctx.get_token_info(s).map_err(call_err(token, "C_GetTokenInfo"))?.label().trim_end().to_string();
        if label == *token {
            slot = Some(s);
            break;
        }
        present.push(label);
    }
    let Some(slot) = slot else {
        let present = if present.is_empty() { "none".into() } else { present.join(", ") };
        return Err(Pkcs11Error::NoToken { token: token.clone(), module, present }.into());
    };
    // Read-write: `init` creates keys in the same session signing later uses.
    let session = ctx.open_rw_session(slot).map_err(call_err(token, "C_OpenSession"))?;
    match session.login(UserType::User, Some(&pin(uri)?)) {
        Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
        Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange, _)) => {
            return Err(Pkcs11Error::WrongPin { token: token.clone() }.into())
        }
        Err(CkError::Pkcs11(RvError::PinLocked, _)) => {
            return Err(Pkcs11Error::PinLocked { token: token.clone() }.into())
        }
        Err(e) => return Err(call_err(token, "C_Login")(e).into()),
    }
    let shared = Arc::new(Mutex::new(session));
    reg.sessions.insert(key, shared.clone());
    Ok(shared)
}

/// Token objects of `class` (any class when `None`) carrying the label and id `uri` names.
fn find(s: &Session, uri: &KeyUri, class: Option<ObjectClass>) -> Result<Vec<ObjectHandle>> {
    let mut template = vec![Attribute::Token(true)];
    template.extend(class.map(Attribute::Class));
    if let Some(o) = &uri.object {
        template.push(Attribute::Label(o.as_bytes().to_vec()));
    }
    if let Some(id) = &uri.id {
        template.push(Attribute::Id(id.clone()));
    }
    s.find_objects(&template).map_err(|e| call_err(&uri.token, "C_FindObjects")(e).into())
}

/// A failed call as [`Pkcs11Error::Call`], named by its CKR_ value where the module gave one.
fn call_err<'a>(token: &'a str, function: &'a str) -> impl Fn(CkError) -> Pkcs11Error + 'a {
    move |e| Pkcs11Error::Call {
        token: token.to_string(),
        function: function.to_string(),
        message: match e {
            CkError::Pkcs11(rv, _) => format!("{rv:?}"),
            other => other.to_string(),
        },
    }
}
