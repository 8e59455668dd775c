//! POST /v1/archive/consistency (public): a relying party sends the checkpoint it kept (a signed
//! note, or a receipt / proof JSON holding one) and gets a consistency proof to the archive's
//! newest signed tree, or 409 `archive-fork` naming both roots when the archive does not extend it.
//!
//! Knows the request shape only; the check is `crate::consistency::check_from`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::problem::Problem;
use super::{blocking, AppState};
use crate::error::ApiError;

/// POST /v1/archive/consistency.
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
