//! The one place that chooses HTTP statuses. Every error body has the shape
//! `{"error": "code", "message": "what a person can do about it"}`; a 5xx
//! body is generic and the full error goes to the log.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthError;
use crate::store::StoreError;

/// The JSON error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable, machine-readable code (`out_of_stock`, `invalid_transition`, …).
    pub error: String,
    /// A sentence for people.
    pub message: String,
    /// The item that ran out or is unavailable, where that applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_id: Option<u64>,
}

/// An error on its way to becoming a response.
#[derive(Debug)]
pub struct ApiError {
    /// The status.
    pub status: StatusCode,
    /// The code.
    pub code: &'static str,
    /// The message.
    pub message: String,
    /// Related item.
    pub item_id: Option<u64>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            item_id: None,
        }
    }

    /// 401: log in first.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "login_required", "log in first")
    }

    /// 403 with a reason.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    /// 422 for input that breaks a rule.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
    }

    /// 500; the detail is logged here and not shown.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on the server; please try again",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        use StoreError as E;
        let message = e.to_string();
        match e {
            E::NotFound { what } => ApiError::not_found(&what),
            E::OutOfStock { item, .. } => ApiError {
                item_id: Some(item.0),
                ..ApiError::new(StatusCode::CONFLICT, "out_of_stock", message)
            },
            E::ItemUnavailable { item, .. } => ApiError {
                item_id: Some(item.0),
                ..ApiError::new(StatusCode::CONFLICT, "item_unavailable", message)
            },
            E::Refused(_) => ApiError::new(StatusCode::CONFLICT, "shop_not_accepting", message),
            E::Transition(_) => ApiError::new(StatusCode::CONFLICT, "invalid_transition", message),
            E::Invalid(_) => ApiError::invalid(message),
            E::Conflict(_) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            E::Unavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "shutting_down",
                "the server is restarting; please try again in a moment",
            ),
            // Honest: nothing is restarting; the storage is full or failing
            // and the store re-opens the database by itself once it works.
            E::StorageDown(_) => {
                tracing::warn!(error = %message, "refused: the database cannot be written");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_failed",
                    "the venue's system cannot save anything right now (its storage is full or failing); please ask at the counter",
                )
            }
            E::OutOfSpace => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "out_of_storage",
                "the venue's system is out of storage and takes no new orders; please ask at the counter",
            ),
            E::Storage(_) | E::Codec(_) | E::NewerSchema { .. } | E::Internal(_) => {
                ApiError::internal(message)
            }
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.code.to_owned(),
            message: self.message,
            item_id: self.item_id,
        };
        (self.status, Json(body)).into_response()
    }
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
