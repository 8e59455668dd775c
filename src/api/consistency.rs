//! POST /v1/archive/consistency (public): a relying party sends the checkpoint it kept (a signed
//! note, or a receipt / proof JSON holding one) and gets a consistency proof to the archive's
//! newest signed tree, or 409 `archive-fork` naming both roots when the archive does not extend it.
//!
//! Knows the request shape only; the check is `crate::consistency::check_from`.

#[allow(unused_imports)]
use crate::api::openapi::JsonObject;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::problem::Problem;
use super::{blocking, AppState};
use crate::error::ApiError;

/// The JSON form of the body: the kept checkpoint (or a receipt / proof JSON holding one). Only
/// described: the handler passes the text to `consistency::check_from`, which reads either form.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct KeptCheckpoint {
    /// A C2SP signed checkpoint.
    pub checkpoint: String,
}

/// POST /v1/archive/consistency.
#[utoipa::path(
    post,
    path = "/v1/archive/consistency",
    summary = "Check the checkpoint you kept (signed note or receipt) against the archive: a consistency proof, or 409 archive-fork naming both roots",
    request_body(content((String = "text/plain"), (KeptCheckpoint = "application/json")), description = "a C2SP signed checkpoint, or a receipt / proof JSON holding one"),
    responses((status = 200, description = "{consistent, old_size, old_root, new_size, new_root, consistency_path, checkpoint, verifier_key}: checkable with `zhengyin archive check-proof`", body = JsonObject), (status = 409, description = "RFC 9457 problem", body = Problem, content_type = "application/problem+json"))
)]
pub async fn check(State(st): State<Arc<AppState>>, body: Bytes) -> Result<Response, Problem> {
    if body.len() > crate::consistency::MAX_INPUT {
        return Err(ApiError::TooLarge { limit: crate::consistency::MAX_INPUT }.into());
    }
    let text = String::from_utf8(body.to_vec()).map_err(|_| {
        Problem::from(ApiError::BadRequest(
            "the body is not UTF-8 text (a signed checkpoint or a receipt JSON)".into(),
        ))
    })?;
    let answer = blocking(move || crate::consistency::check_from(&st.home, &st.archive, &text)).await?;
    Ok(axum::Json(answer).into_response())
}
