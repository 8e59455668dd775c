//! RFC 9457 problem details (`application/problem+json`): every refused or failed request gets
//! one, with `type`, `title`, `status` and `detail`. [`from_error`] is the one mapping from the
//! library's error enum to HTTP; [`fixup`] turns framework-made errors (404, 405, 413 from the body
//! limit, …) into problems too.
//!
//! Knows HTTP status codes and the error enum; knows nothing of handlers. RFC 9457.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{
    ApiError, ArchiveError, ConfigError, Error, PdfError, PkiError, ProofError, SealError, StatusError,
};

/// Problem type URIs are `urn:zhengyin:problem:<slug>` (listed in docs/api.md).
pub const TYPE_PREFIX: &str = "urn:zhengyin:problem:";

/// An RFC 9457 problem.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, slug: &str, title: &str, detail: impl Into<String>) -> Self {
        Problem {
            kind: format!("{TYPE_PREFIX}{slug}"),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            retry_after: None,
        }
    }

    /// A problem for a bare status made by the framework.
    pub fn from_status(status: StatusCode, detail: impl Into<String>) -> Self {
        let (slug, title) = match status {
            StatusCode::NOT_FOUND => ("no-route", "No such resource"),
            StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "Method not allowed"),
            StatusCode::PAYLOAD_TOO_LARGE => ("too-large", "Request body too large"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported-media-type", "Unsupported media type"),
            StatusCode::REQUEST_TIMEOUT => ("timeout", "Request timed out"),
            s if s.is_server_error() => ("internal", "Internal error"),
            _ => ("bad-request", "Bad request"),
        };
        Problem::new(status, slug, title, detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut r = (status, body).into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(s) = self.retry_after {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        r
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Self {
        from_error(&e)
    }
}

impl From<ApiError> for Problem {
    fn from(e: ApiError) -> Self {
        from_error(&Error::Api(e))
    }
}

/// The one mapping from the library's errors to problems.
pub fn from_error(e: &Error) -> Problem {
    use StatusCode as S;
    let d = e.to_string();
    let p = |s, slug: &str, title: &str| Problem::new(s, slug, title, d.clone());
    match e {
        Error::Api(a) => match a {
            ApiError::Unauthenticated => p(S::UNAUTHORIZED, "unauthenticated", "Authentication required"),
            ApiError::Forbidden(_) => p(S::FORBIDDEN, "forbidden", "Not allowed for this credential"),
            ApiError::BadRequest(_) => p(S::BAD_REQUEST, "bad-request", "Bad request"),
            ApiError::NotFound(_) => p(S::NOT_FOUND, "not-found", "Not found"),
            ApiError::TooLarge { .. } => p(S::PAYLOAD_TOO_LARGE, "too-large", "Request body too large"),
            ApiError::RateLimited { retry_after } => Problem {
                retry_after: Some(*retry_after),
                ..p(S::TOO_MANY_REQUESTS, "rate-limited", "Too many requests")
            },
            ApiError::Timeout { .. } => p(S::SERVICE_UNAVAILABLE, "timeout", "Request timed out"),
            ApiError::Internal(_) => p(S::INTERNAL_SERVER_ERROR, "internal", "Internal error"),
        },
        Error::Data(_) => {
            p(S::UNPROCESSABLE_ENTITY, "invalid-data", "The licence data do not fit the template")
        }
        Error::Pdf(PdfError::TooLarge { .. }) => p(S::PAYLOAD_TOO_LARGE, "too-large", "PDF too large"),
        Error::Pdf(_) => p(S::BAD_REQUEST, "not-a-pdf", "The body is not a readable PDF"),
        Error::Authority(_) => {
            p(S::FORBIDDEN, "not-authorised", "The department is not authorised for this licence type")
        }
        Error::Status(StatusError::BadIdentifier(_)) => {
            p(S::BAD_REQUEST, "bad-identifier", "Not a licence identifier")
        }
        Error::Status(StatusError::Unknown(_)) => p(S::NOT_FOUND, "unknown-licence", "No such licence"),
        Error::Status(StatusError::NotAuthorised { .. }) => {
            p(S::FORBIDDEN, "not-authorised", "The department may not change this licence's status")
        }
        Error::Status(StatusError::Refused(_)) => {
            p(S::CONFLICT, "transition-refused", "The licence's status cannot change this way")
        }
        Error::Status(StatusError::Answer(_) | StatusError::List(_)) => {
            p(S::BAD_REQUEST, "bad-status", "Not an acceptable status answer or list")
        }
        Error::External(x) => {
            use crate::error::ExternalError as X;
            match x {
                X::BadHandle | X::Ttl { .. } => p(S::BAD_REQUEST, "bad-request", "Bad request"),
                X::UnknownHandle(_) => p(S::NOT_FOUND, "unknown-handle", "No such signing handle"),
                X::Expired { .. } => p(S::GONE, "handle-expired", "The signing handle has expired"),
                X::Used(_) => p(S::CONFLICT, "handle-used", "The signing handle was already used"),
                X::OtherDepartment { .. } => p(S::FORBIDDEN, "forbidden", "Not allowed for this credential"),
                X::BadSignature(_) => {
                    p(S::UNPROCESSABLE_ENTITY, "bad-signature", "The signature value is refused")
                }
            }
        }
        Error::Seal(SealError::NotInPlan { .. }) => {
            p(S::FORBIDDEN, "not-authorised", "The department is not in the document's seal plan")
        }
        Error::Seal(_) => p(S::CONFLICT, "seal-refused", "The seal cannot be added"),
        Error::Config(ConfigError::UnknownTemplate { .. }) => {
            p(S::NOT_FOUND, "unknown-template", "Unknown template")
        }
        Error::Config(ConfigError::UnknownDepartment { .. }) => {
            p(S::NOT_FOUND, "unknown-department", "Unknown department")
        }
        Error::Archive(ArchiveError::NotFound(_)) => p(S::NOT_FOUND, "not-found", "No such archive record"),
        Error::Archive(ArchiveError::Refused { .. }) => {
            p(S::CONFLICT, "archive-refused", "The archive refused the document")
        }
        Error::Archive(ArchiveError::Fork { .. }) => {
            p(S::CONFLICT, "archive-fork", "The archive does not extend this checkpoint (fork or rollback)")
        }
        Error::Archive(ArchiveError::Behind { .. }) => {
            p(S::SERVICE_UNAVAILABLE, "archive-behind", "The archive is behind its log key's signed size")
        }
        Error::Archive(ArchiveError::BadProof(_)) => {
            p(S::BAD_REQUEST, "bad-checkpoint", "Not a checkpoint or proof of this archive")
        }
        Error::Archive(ArchiveError::Fixity { id, .. }) => {
            tracing::error!(record = %id, error = %e, "archive fixity failure: the stored bytes were not served");
            p(S::INTERNAL_SERVER_ERROR, "archive-fixity-failure", "Archived document failed its fixity check")
        }
        Error::Pki(PkiError::UnknownSerial(_)) => {
            p(S::NOT_FOUND, "unknown-certificate", "No such certificate")
        }
        Error::Pki(PkiError::Refused(_)) => {
            p(S::BAD_REQUEST, "revocation-refused", "The certificate authority refuses this revocation")
        }
        Error::Pki(PkiError::TrustList(_)) => {
            p(S::BAD_GATEWAY, "bad-trust-list", "Trust list not acceptable")
        }
        Error::Proof(ProofError::Refused(_)) => {
            p(S::FORBIDDEN, "refused", "Refused by the list of uses (用证清单)")
        }
        Error::Proof(ProofError::Data(_)) => {
            p(S::UNPROCESSABLE_ENTITY, "invalid-data", "The request's data are not acceptable")
        }
        Error::Proof(ProofError::Token(_)) => p(S::BAD_REQUEST, "bad-token", "Not a readable proof token"),
        Error::Proof(ProofError::Field(_)) => {
            p(S::UNPROCESSABLE_ENTITY, "invalid-field", "A request field has the wrong format or size")
        }
        Error::Proof(ProofError::Other(_)) => {
            p(S::UNPROCESSABLE_ENTITY, "not-possible", "The request cannot be carried out")
        }
        Error::Pkcs11(_) => {
            // Token names and module paths go to the log, not to the client.
            tracing::error!(error = %e, "seal key unavailable");
            Problem::new(
                S::SERVICE_UNAVAILABLE,
                "key-unavailable",
                "The department's seal key is unavailable",
                "the department's PKCS#11 token could not sign; see the server log",
            )
        }
        _ => {
            // Internal details (paths, store messages) go to the log, not to the client.
            tracing::error!(error = %e, "internal error");
            Problem::new(
                S::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
                "the service could not complete the request; see the server log",
            )
        }
    }
}

/// Replace a framework-made error response (plain text or empty) with problem+json.
pub fn fixup(r: Response) -> Response {
    let status = r.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return r;
    }
    // Problems, and the HTML pages' own error pages (api::pages), are already what they should be.
    let is_problem = r.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/problem+json") || v.as_bytes().starts_with(b"text/html")
    });
    if is_problem {
        return r;
    }
    let detail = match status {
        StatusCode::NOT_FOUND => "no route matches this path".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "this path does not accept this method".to_string(),
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is over the size limit".to_string(),
        s => s.canonical_reason().unwrap_or("error").to_string(),
    };
    let mut p = Problem::from_status(status, detail).into_response();
    if let Some(allow) = r.headers().get(header::ALLOW) {
        p.headers_mut().insert(header::ALLOW, allow.clone());
    }
    p
}
