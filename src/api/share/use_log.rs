//! What every share call leaves in the archive log, and the use purpose (用证事由) it must give:
//! the purpose is checked against the list of uses for the calling department (missing: 400,
//! unlisted: 403, each refusal recorded as a `use-refusal` entry), and each call that goes
//! through is recorded as a `use-record` entry naming the holder by its code only; every entry
//! signs a new tree head.
//!
//! Knows the list of uses, holder codes and the archive's event log; nothing of links, PDFs or
//! verification.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::api::auth::Principal;
use crate::api::proofs::{lock_err, problem, refusal};
use crate::api::{blocking, AppState};
use crate::error::Result;
use crate::proofs::holders;

/// The holder code of a licence's holder-code field (as annotate.rs computes it), or "".
pub(super) fn code_of(home: &crate::config::Home, raw: &str) -> Result<String> {
    if raw.starts_with("HC") && raw.len() == 34 {
        return Ok(raw.to_string());
    }
    let key = holders::region_key(home)?;
    Ok(holders::normalise_id(raw).map(|id| holders::holder_code(&key, &id)).unwrap_or_default())
}

/// Append one use entry (`use-record` or `use-refusal`) and sign a new tree head.
pub(super) fn record(
    st: &AppState,
    kind: &str,
    dept: &str,
    subject_code: &str,
    mut body: Value,
) -> Result<String> {
    let dept_name = st.region.department(dept).map(|d| d.name.clone()).unwrap_or_else(|_| dept.to_string());
    let id = crate::proofs::random_id(if kind == "use-refusal" { "RF" } else { "UR" })?;
    if let Some(o) = body.as_object_mut() {
        o.insert("type".into(), json!(kind));
        o.insert("id".into(), json!(id));
        o.insert("at".into(), json!(crate::proofs::now().0));
        o.insert("by".into(), json!(dept));
        o.insert("by_name".into(), json!(dept_name));
        o.insert("subject_code".into(), json!(subject_code));
    }
    let _w = st.write_lock.lock().map_err(|_| lock_err())?;
    let rec = crate::proofs::append_event(&st.archive, kind, subject_code, &id, &dept_name, &body)?;
    st.archive.flush()?;
    crate::filing::sign_tree_head(&st.home, &st.archive)?;
    Ok(rec.id)
}

/// Check the purpose for `dept` (400 missing, 403 unlisted; both recorded). Ok: the matter's name.
pub(super) async fn check_purpose(
    st: &Arc<AppState>,
    p: &Principal,
    dept: &str,
    action: &'static str,
    purpose: Option<&str>,
    subject_code: &str,
) -> std::result::Result<String, Response> {
    let purpose = purpose.map(str::trim).unwrap_or("").to_string();
    if !purpose.is_empty() {
        crate::proofs::fields::matter("purpose", &purpose).map_err(|e| problem(e.into()).into_response())?;
    }
    let st2 = st.clone();
    let d2 = dept.to_string();
    let listed = {
        let purpose = purpose.clone();
        blocking(move || {
            let list = crate::proofs::uses::UseList::load(&st2.home)?;
            Ok(list
                .matter(&purpose)
                .into_iter()
                .find(|(_, u)| u.by.iter().any(|b| b == &d2))
                .map(|(_, u)| u.name.clone()))
        })
        .await
    };
    let listed = listed.map_err(|e| problem(e).into_response())?;
    let (reason, status) = match listed {
        Some(name) if !purpose.is_empty() => return Ok(name),
        _ if purpose.is_empty() => (
            "a use purpose (用证事由: `purpose`, a matter code on the list of uses) is required".to_string(),
            StatusCode::BAD_REQUEST,
        ),
        _ => {
            (format!("matter `{purpose}` is not a listed use for department `{dept}`"), StatusCode::FORBIDDEN)
        }
    };
    let st2 = st.clone();
    let (d2, c2, r2) = (dept.to_string(), subject_code.to_string(), reason.clone());
    let body = json!({"action": action, "purpose": purpose, "reason": r2});
    let rid = blocking(move || record(&st2, "use-refusal", &d2, &c2, body))
        .await
        .map_err(|e| problem(e).into_response())?;
    tracing::warn!(token = %p.token_id, dept = %dept, action = %action, purpose = %purpose, subject = %subject_code, record = %rid, "share refused");
    Err(refusal(&reason, &rid, status))
}
