//! Handlers for licence status: the lifecycle (POST /v1/licences/{id}/status, department tokens:
//! only the licence's issuing department or one the authority table names), the plain status
//! (GET /v1/licences/{id}/status, public), the signed online answer (GET /v1/status/{identifier},
//! public, a JWS by the status key) and the signed offline list (GET /v1/status-list, public,
//! published beside the trust list; other regions fetch it when they refresh).
//!
//! Knows request and response shapes; the work is `licence::lifecycle`, `licence::status`,
//! `licence::answer` and `licence::status_list`.

#[allow(unused_imports)]
use crate::api::openapi::{Binary, JsonObject};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;

use super::auth::Role;
use super::handlers::{forbid, principal};
use super::problem::Problem;
use super::{blocking, AppState};
use crate::error::{ApiError, StatusError};
use crate::licence::answer::{self, StatusSigner};
use crate::licence::status::{self, Action};

type Res = Result<Response, Problem>;

/// Media type of the offline status list.
pub const LIST_TYPE: &str = "application/vnd.zhengyin.status-list";
/// A cached list is rebuilt after this long even if nothing was filed, seconds.
const LIST_REBUILD_SECS: i64 = 3600;

/// Per home: the loaded status key and the last list built (archive size, time, bytes).
struct Cached {
    signer: Arc<StatusSigner>,
    list: Mutex<Option<BuiltList>>,
}

/// A built list: archive size, build time, bytes.
type BuiltList = (u64, i64, Arc<Vec<u8>>);

/// The status caches of every home this process serves.
type Caches = Mutex<HashMap<PathBuf, Arc<Cached>>>;

fn cache() -> &'static Caches {
    static C: OnceLock<Caches> = OnceLock::new();
    C.get_or_init(Default::default)
}

fn cached(st: &AppState) -> Result<Arc<Cached>, Problem> {
    let mut m = cache().lock().map_err(|_| ApiError::Internal("status cache poisoned".into()))?;
    if let Some(c) = m.get(&st.home.dir) {
        return Ok(c.clone());
    }
    let signer = Arc::new(StatusSigner::load(&st.home)?);
    let c = Arc::new(Cached { signer, list: Mutex::new(None) });
    m.insert(st.home.dir.clone(), c.clone());
    Ok(c)
}

/// The region's status signer (loaded once per home).
pub(super) fn signer(st: &AppState) -> Result<Arc<StatusSigner>, Problem> {
    Ok(cached(st)?.signer.clone())
}

fn now() -> i64 {
    ::time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Body of POST /v1/licences/{id}/status.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// change | renew | reissue | cancel | revoke | suspend | resume
    #[schema(schema_with = crate::api::openapi::status_action)]
    pub action: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub reason: Option<String>,
    /// The new version's licence data (change, renew, reissue).
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub data: Option<serde_json::Value>,
}

/// `{id}` is a licence identifier, or the archive id of one of its records.
pub(super) fn identifier_of(st: &AppState, id: &str) -> Result<String, Problem> {
    if id.starts_with("ZY") && !id.contains('.') {
        return Ok(st.archive.get(id)?.metadata.identifier);
    }
    Ok(id.to_string())
}

/// POST /v1/licences/{id}/status: a lifecycle transition by the calling department.
#[utoipa::path(
    post,
    path = "/v1/licences/{id}/status",
    summary = "Lifecycle: change, renew, reissue (a new sealed version), cancel, revoke, suspend or resume a licence ({id}: its identifier or an archive id); the issuing department or one the authority table names",
    security(("bearer" = ["department"])),
    request_body(content = StatusRequest, content_type = "application/json"),
    responses((status = 201, description = "The transition {action, identifier, status, reason_code, reason, by, at, record, log_size; new_identifier, new_archive_id, pdf_base64 for a new version}", body = JsonObject), (status = 409, description = "RFC 9457 problem", body = Problem, content_type = "application/problem+json"), (status = 422, description = "RFC 9457 problem", body = Problem, content_type = "application/problem+json"))
)]
pub async fn transition(
    State(st): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Res {
    let p = principal(&st, &headers)?;
    let req: StatusRequest = super::bodies::parse(&body)?;
    let action: Action = req.action.parse().map_err(ApiError::BadRequest)?;
    let Role::Department { dept } = p.role.clone() else {
        return Err(forbid(
            &p,
            "status",
            format!("a {} token cannot change a licence's status; use a department token", p.role.describe()),
        ));
    };
    let identifier = identifier_of(&st, &id)?;
    let st2 = st.clone();
    let dept2 = dept.clone();
    let out = blocking(move || {
        let _w = st2.write_lock.lock().map_err(|_| ApiError::Internal("archive lock poisoned".into()))?;
        let out = crate::licence::lifecycle::transition(
            &st2.home,
            &st2.archive,
            &crate::licence::lifecycle::Request {
                identifier: &identifier,
                action,
                by: &dept2,
                reason: req.reason.as_deref(),
                data: req.data.as_ref(),
            },
        )?;
        // The home's published list follows every transition, as with the CLI: while this
        // server holds the archive, `zhengyin verify --home` on the same home reads that list.
        // The transition is filed already; a failed publish is logged, not undone.
        if let Err(e) = crate::licence::status_list::publish(&st2.home, &st2.archive) {
            tracing::warn!(error = %e, "status list not published after a transition");
        }
        Ok(out)
    })
    .await
    .map_err(|e| {
        if matches!(e, crate::Error::Status(StatusError::NotAuthorised { .. })) {
            tracing::warn!(token = %p.token_id, dept = %dept, action = action.as_str(), reason = %e, "refused");
        }
        Problem::from(e)
    })?;
    tracing::info!(token = %p.token_id, dept = %dept, action = action.as_str(), identifier = %out.transition.identifier, record = %out.record, "licence status changed");
    let t = &out.transition;
    let mut body = serde_json::json!({
        "action": t.action, "identifier": t.identifier, "status": t.state, "reason_code": t.reason_code,
        "reason": t.reason, "by": t.by, "at": t.at, "record": out.record, "log_size": out.log_size,
    });
    if let (Some(n), Some(o)) = (&t.new_identifier, body.as_object_mut()) {
        o.insert("new_identifier".into(), n.clone().into());
        o.insert("new_archive_id".into(), out.new_record.clone().unwrap_or_default().into());
        if let Some(pdf) = &out.new_pdf {
            o.insert("pdf_base64".into(), base64::engine::general_purpose::STANDARD.encode(pdf).into());
        }
    }
    let mut r = (StatusCode::CREATED, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/v1/archive/{}", out.record)) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    Ok(r)
}

fn lookup(st: &AppState, identifier: &str) -> Result<status::StatusView, Problem> {
    if identifier.parse::<crate::document::identifier::LicenceId>().is_err() {
        return Err(Problem::from(crate::Error::from(StatusError::BadIdentifier(format!(
            "`{}` is not a GB/T 36904 identifier with a valid check character",
            identifier.chars().take(80).collect::<String>()
        )))));
    }
    status::current(&st.archive, identifier)?
        .ok_or_else(|| StatusError::Unknown(identifier.chars().take(120).collect()).into())
        .map_err(|e: crate::Error| Problem::from(e))
}

/// GET /v1/licences/{id}/status: the licence's status as plain JSON (public; unsigned).
#[utoipa::path(
    get,
    path = "/v1/licences/{id}/status",
    summary = "A licence's status as plain JSON (the same as `zhengyin licence status --json`)",
    responses((status = 200, description = "{identifier, status, status_zh, in_force, expired, current_version, current_status, time, reason_code, reason, successor, …}", body = JsonObject))
)]
pub async fn show(State(st): State<Arc<AppState>>, Path(id): Path<String>) -> Res {
    let identifier = identifier_of(&st, &id)?;
    Ok(axum::Json(lookup(&st, &identifier)?).into_response())
}

/// GET /v1/status/{identifier}: the signed status answer (public).
#[utoipa::path(
    get,
    path = "/v1/status/{identifier}",
    summary = "The signed status answer (JWS ES256 by the region's status key): status, current version, reason code, produced_at, next_update",
    responses((status = 200, description = "{answer: compact JWS (typ zhengyin-status+jwt), identifier, status, in_force, current_version, reason_code}", body = JsonObject))
)]
pub async fn answer(State(st): State<Arc<AppState>>, Path(identifier): Path<String>) -> Res {
    let view = lookup(&st, &identifier)?;
    let c = cached(&st)?;
    let jws = answer::sign_answer(&c.signer, &identifier, Some(&view), now())?;
    let claims = serde_json::json!({
        "answer": jws, "identifier": view.identifier, "status": view.status, "in_force": view.in_force,
        "current_version": view.current_version, "reason_code": view.reason_code,
    });
    let mut r = axum::Json(claims).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// GET /v1/status-list: the signed offline list (public), rebuilt when the archive grew or an
/// hour passed.
#[utoipa::path(
    get,
    path = "/v1/status-list",
    summary = "The signed offline status list (one bit per licence version), published beside the trust list",
    responses((status = 200, description = "One line holding a compact JWS (typ zhengyin-status-list+jwt), a line feed, then the retrieval table (docs/api.md)", body = Binary, content_type = "application/vnd.zhengyin.status-list"))
)]
pub async fn list(State(st): State<Arc<AppState>>) -> Res {
    let c = cached(&st)?;
    let size = st.archive.size();
    let t = now();
    let hit = c
        .list
        .lock()
        .map_err(|_| ApiError::Internal("status cache poisoned".into()))?
        .as_ref()
        .filter(|(s, at, _)| *s == size && t - at < LIST_REBUILD_SECS)
        .map(|(_, _, b)| b.clone());
    let bytes = match hit {
        Some(b) => b,
        None => {
            let (st2, c2) = (st.clone(), c.clone());
            let b = Arc::new(
                blocking(move || crate::licence::status_list::build(&c2.signer, &st2.archive, now())).await?,
            );
            if let Ok(mut g) = c.list.lock() {
                *g = Some((size, t, b.clone()));
            }
            b
        }
    };
    let mut r = (StatusCode::OK, bytes.as_ref().clone()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(LIST_TYPE));
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(r)
}

/// The licence-status finding of POST /v1/verify: this region's archive for its own licences,
/// then the status lists the home holds (other regions' lists arrive with the trust-list refresh).
pub(crate) fn licence_status(
    st: &AppState,
    trust: &crate::trust::TrustStore,
    report: &mut crate::verify::report::Report,
) {
    use crate::verify::status::StatusSource;
    let own = crate::licence::status_source::own_root_subject(trust)
        .map(|root| crate::licence::status_source::ArchiveSource { archive: &st.archive, root });
    let lists = crate::licence::status_list::ListSource::held(&st.home, trust, now());
    let mut sources: Vec<&dyn StatusSource> = Vec::new();
    if let Some(o) = &own {
        sources.push(o);
    }
    sources.push(&lists);
    crate::verify::status::apply(report, &sources);
}
