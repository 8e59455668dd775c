//! The error catalogue: one enum per layer, wrapped by one top-level [`Error`].
//!
//! Every message is written for the person who will read it (a department clerk, an archivist,
//! another region's operator): it names the thing that is wrong and, where possible, what to do.
//! The CLI prints `Display` on one line and exits 2; the HTTP layer maps variants to problem+json.

use std::path::PathBuf;

/// Problems with the home directory or the region / template configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path} is not valid TOML for {what}: {message}")]
    Toml { path: PathBuf, what: &'static str, message: String },
    #[error("home {home} already holds keys; refusing to overwrite them (use --force to replace every key)")]
    KeysExist { home: PathBuf },
    #[error("home {home} is not initialised (run `zhengyin init --home {home}` first)")]
    NotInitialised { home: PathBuf },
    #[error("unknown department `{id}` (known: {known})")]
    UnknownDepartment { id: String, known: String },
    #[error("unknown template `{name}` (known: {known})")]
    UnknownTemplate { name: String, known: String },
    #[error("region configuration is inconsistent: {0}")]
    Inconsistent(String),
}

/// Problems with the licence data supplied for a template.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    #[error("data file is not a JSON object: {0}")]
    NotJson(String),
    #[error("missing field `{field}` ({label}) required by template `{template}`")]
    Missing { template: String, field: String, label: String },
    #[error("field `{field}` ({label}) is invalid: {reason}")]
    Invalid { field: String, label: String, reason: String },
    #[error("unknown field `{field}` for template `{template}` (expected: {expected})")]
    Unknown { template: String, field: String, expected: String },
    #[error("character `{ch}` (U+{code:04X}) in {context} cannot be rendered by the embedded font")]
    Unrenderable { ch: char, code: u32, context: String },
    /// Bulk issuance (`issue --batch`): the records file or the out-dir's journal.
    #[error("batch: {0}")]
    Batch(String),
}

/// Problems reading or writing PDF structure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PdfError {
    #[error("not a PDF file (no %PDF- header)")]
    NotPdf,
    #[error("the file is empty")]
    Empty,
    #[error("the PDF is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("the PDF cannot be parsed: {0}")]
    Parse(String),
    #[error("the PDF is encrypted; encrypted documents cannot be sealed or verified")]
    Encrypted,
    #[error("the PDF structure is missing {0}")]
    Missing(&'static str),
    #[error("the signature needs {needed} bytes but only {reserved} were reserved")]
    SignatureTooLarge { needed: usize, reserved: usize },
    /// The document needs more work than one document may take (docs/api.md, limits).
    #[error("the PDF needs too much work to read: {what} over the limit of {limit} (malformed or hostile structure)")]
    WorkLimit { what: &'static str, limit: usize },
    /// The job was cancelled (its HTTP request timed out).
    #[error("reading the PDF was cancelled")]
    Cancelled,
}

/// Refusals of the seal plan (joint seals, 多部门联合签章).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    #[error("the document records no seal plan, so no further seal can be added")]
    NoPlan,
    #[error("department `{dept}` is not in this document's seal plan ({plan})")]
    NotInPlan { dept: String, plan: String },
    #[error("department `{dept}` has already sealed this document")]
    AlreadySealed { dept: String },
    #[error("department `{dept}` is out of order: the next seal in the plan ({plan}) is `{expected}`")]
    OutOfOrder { dept: String, expected: String, plan: String },
    #[error("the seals present ({present}) do not follow the document's seal plan ({plan}); refusing to add a seal")]
    OffPlan { present: String, plan: String },
    #[error("the seal plan ({plan}) is already complete and the document is locked")]
    Complete { plan: String },
    #[error("the document's existing signatures do not verify ({reason}); refusing to add a seal")]
    ExistingInvalid { reason: String },
    #[error("template `{template}` must be sealed first by `{expected}`, not `{dept}`")]
    WrongFirst { template: String, expected: String, dept: String },
}

/// Problems with the archive store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    #[error("cannot open the archive at {path}: {message}")]
    Open { path: PathBuf, message: String },
    #[error("the archive at {path} is in use by another process (a running `zhengyin serve`, or another command on this home); stop it or use its HTTP API")]
    Locked { path: PathBuf },
    #[error("archive is corrupt: {path}: {message} (restore it from a backup; `zhengyin audit` names damaged records when the store still opens)")]
    StoreCorrupt { path: PathBuf, message: String },
    #[error("archive is behind the log key's signed size {signed} (it holds {size} leaves): restored from a copy? Refusing to append, which would fork the signed log; restore the newest copy, or see docs/archive.md")]
    Behind { signed: u64, size: u64 },
    #[error("the archive log forked: the log key signed size {size} with root {signed_root}, but the archive's tree at that size has root {archive_root}")]
    Fork { size: u64, signed_root: String, archive_root: String },
    #[error("archive store error: {0}")]
    Store(String),
    #[error("no archive record `{0}`")]
    NotFound(String),
    #[error("archive record `{id}` is corrupt: {reason}")]
    Corrupt { id: String, reason: String },
    /// The stored bytes no longer hash to the record's SHA-256 (DA/T 70 完整性).
    #[error("archive record `{id}` failed its fixity check: stored SHA-256 {expected}, the bytes now hash to {found}")]
    Fixity { id: String, expected: String, found: String },
    #[error("refusing to archive {path}: {reason}")]
    Refused { path: String, reason: String },
    #[error("proof does not verify: {0}")]
    BadProof(String),
}

/// Problems with keys, certificates and CRLs.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    #[error("certificate generation failed for {what}: {message}")]
    Generate { what: String, message: String },
    #[error("key file {path} is unreadable or not a PKCS#8 P-256 key: {message}")]
    BadKey { path: PathBuf, message: String },
    #[error("certificate file {path} is unreadable: {message}")]
    BadCertificate { path: PathBuf, message: String },
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("no certificate with serial {0} was issued by this region's CAs")]
    UnknownSerial(String),
    #[error("the trust list is not acceptable: {0}")]
    TrustList(String),
    /// A request the CA refuses as asked (a future compromise time, an unknown reason).
    #[error("refused: {0}")]
    Refused(String),
}

/// Licence status: lifecycle refusals and unacceptable status answers or lists (licence/).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatusError {
    #[error("not a licence identifier: {0}")]
    BadIdentifier(String),
    #[error("no licence of this region has identifier {0}")]
    Unknown(String),
    #[error("department `{dept}` may not change the status of {identifier} (allowed: {allowed}: the issuing department, or one the region's authority table names for the licence type)")]
    NotAuthorised { dept: String, identifier: String, allowed: String },
    #[error("refused: {0}")]
    Refused(String),
    #[error("the status answer is not acceptable: {0}")]
    Answer(String),
    #[error("the status list is not acceptable: {0}")]
    List(String),
}

/// Refusals of the HTTP service (authentication, authorisation, limits, bad requests).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    #[error("no valid API token was presented (send `Authorization: Bearer <token>`)")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("the request body is larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("too many requests from this client; retry after {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error("the request took longer than {secs} s")]
    Timeout { secs: u64 },
    #[error("internal error: {0}")]
    Internal(String),
}

/// Problems encoding CMS structures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CmsError {
    #[error("CMS encoding failed: {0}")]
    Encode(String),
}

/// No-proof workflows (src/proofs): holder data, the list of uses, proofs, commitments.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// A request outside the list of uses (用证清单); refused and recorded.
    #[error("refused: {0}")]
    Refused(String),
    #[error("holder data: {0}")]
    Data(String),
    #[error("token: {0}")]
    Token(String),
    /// A request field of the wrong format or size (`proofs::fields`); names the field, never
    /// echoes the value.
    #[error("invalid field {0}")]
    Field(String),
    #[error("{0}")]
    Other(String),
}

/// Issuing outside the region's authority (config/authority.rs): refused, 403 / exit 2.
#[derive(Debug, thiserror::Error)]
pub enum AuthorityError {
    #[error("{dept} may not issue {template}: the region names {named}{note}")]
    NotAuthorised { dept: String, template: String, named: String, note: String },
    #[error("{template} is an internal template{via}: only {workflow} makes it, never `zhengyin issue` or POST /v1/licences")]
    Internal { template: String, via: String, workflow: String },
}

/// The region's time-stamping authority (`pki::tsa`, RFC 3161 with RFC 5816).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TsaError {
    #[error("home {home} has no time-stamping authority (run `zhengyin init --add-tsa --home {home}`)")]
    NotConfigured { home: PathBuf },
    #[error("home {home} already has a time-stamping authority ({cert}); refusing to replace it (use --force to issue a new TSA key and certificate)")]
    Exists { home: PathBuf, cert: PathBuf },
    /// The append-only record of issued tokens does not read back as written.
    #[error("the TSA ledger {path} is damaged at line {line}: {reason}")]
    Ledger { path: PathBuf, line: usize, reason: String },
    /// A request the TSA does not grant (RFC 3161 §2.4.2 PKIFailureInfo).
    #[error("time-stamp request refused: {0}")]
    Refused(String),
    /// `archive renew` with a TSA key whose period of use ends inside the renewal window.
    #[error("the TSA key's period of use ends at {until}, within the renewal window: issue a new TSA key and certificate first (`zhengyin init --add-tsa --force`)")]
    EndsSoon { until: String },
}

/// Two-step (external) signing: handles and the signature values sent back.
#[derive(Debug, thiserror::Error)]
pub enum ExternalError {
    #[error("not a signing handle (expected 32 lowercase hex digits)")]
    BadHandle,
    #[error("no pending seal has handle {0} (never prepared here, or expired and removed)")]
    UnknownHandle(String),
    #[error("signing handle {handle} expired at {expired}; prepare the seal again")]
    Expired { handle: String, expired: String },
    #[error("signing handle {0} was already used; prepare the seal again")]
    Used(String),
    #[error("signing handle {handle} belongs to department `{owner}`, not `{dept}`")]
    OtherDepartment { handle: String, owner: String, dept: String },
    #[error("the handle's lifetime must be 1 to {max} seconds, not {ttl}")]
    Ttl { ttl: u64, max: u64 },
    #[error("the signature is refused, nothing was filed: {0}")]
    BadSignature(String),
}

/// Seal keys in a PKCS#11 token (HSM, cipher machine, UKey): `pki::pkcs11`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Pkcs11Error {
    /// The key URI is not an RFC 7512 PKCS#11 URI zhengyin can use.
    #[error("the PKCS#11 key URI `{uri}` is not usable: {reason}")]
    BadUri { uri: String, reason: String },
    #[error(
        "no PKCS#11 module for token {token}: add module-path=… to its key URI or set ZHENGYIN_PKCS11_MODULE"
    )]
    NoModule { token: String },
    #[error("cannot load the PKCS#11 module {path}: {message}")]
    Module { path: PathBuf, message: String },
    #[error("no PKCS#11 token labelled `{token}` in module {module} (tokens present: {present})")]
    NoToken { token: String, module: PathBuf, present: String },
    #[error("no PIN for PKCS#11 token {token}: set ZHENGYIN_PKCS11_PIN, or pin-source=file:… in its key URI (init: --pin-file); a PIN is never taken from the command line")]
    NoPin { token: String },
    #[error("cannot read the PIN file {path} for PKCS#11 token {token}: {source}")]
    PinFile { token: String, path: PathBuf, source: std::io::Error },
    #[error("PKCS#11 login to token {token} failed: wrong PIN (CKR_PIN_INCORRECT)")]
    WrongPin { token: String },
    #[error("PKCS#11 login to token {token} failed: the PIN is locked (CKR_PIN_LOCKED); the token's security officer must reset it")]
    PinLocked { token: String },
    #[error("PKCS#11 token {token} holds no private key {object}")]
    NoObject { token: String, object: String },
    #[error("PKCS#11 token {token} holds {count} private keys matching {object}; the key URI must name exactly one")]
    Ambiguous { token: String, object: String, count: usize },
    #[error(
        "PKCS#11 token {token} already holds {object}; refusing to overwrite it (use --force to replace it)"
    )]
    ObjectExists { token: String, object: String },
    /// Any other failing PKCS#11 call, with its return value.
    #[error("PKCS#11 {function} on token {token} failed: {message}")]
    Call { token: String, function: String, message: String },
}

/// The library's error: one variant per layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Pdf(#[from] PdfError),
    #[error(transparent)]
    Pki(#[from] PkiError),
    #[error(transparent)]
    Cms(#[from] CmsError),
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Proof(#[from] ProofError),
    #[error(transparent)]
    Authority(#[from] AuthorityError),
    #[error(transparent)]
    Status(#[from] StatusError),
    #[error(transparent)]
    Tsa(#[from] TsaError),
    #[error(transparent)]
    External(#[from] ExternalError),
    #[error(transparent)]
    Pkcs11(#[from] Pkcs11Error),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attach a path to an I/O error.
pub fn io_at(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}
