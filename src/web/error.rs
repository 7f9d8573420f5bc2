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
    /// The option that is refused, ran out or is switched off, where that applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub option_id: Option<u64>,
    /// The option group whose minimum or maximum is not met, where that applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<u64>,
}

/// What kind of failure something is. Handlers and pages name the kind;
/// [`Failure::status`] is the one mapping from kinds to HTTP statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Not logged in (401).
    LoginRequired,
    /// Logged in, or on a network, that may not do this (403).
    Forbidden,
    /// No such thing, or not the caller's to see (404).
    NotFound,
    /// Input that breaks a rule (422).
    Invalid,
    /// Input that does not parse at all (400).
    Garbled,
    /// A body over the size limit (413).
    TooLarge,
    /// A body of the wrong media type (415).
    WrongMediaType,
    /// The request conflicts with the current state: stock, stage, a taken name (409).
    Conflict,
    /// Too many requests or connections from the caller (429).
    TooMany,
    /// The server cannot do it right now; try again (503).
    Unavailable,
    /// A bug or a broken disk (500).
    Internal,
}

impl Failure {
    /// The HTTP status of this kind of failure.
    pub fn status(self) -> StatusCode {
        match self {
            Failure::LoginRequired => StatusCode::UNAUTHORIZED,
            Failure::Forbidden => StatusCode::FORBIDDEN,
            Failure::NotFound => StatusCode::NOT_FOUND,
            Failure::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            Failure::Garbled => StatusCode::BAD_REQUEST,
            Failure::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Failure::WrongMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Failure::Conflict => StatusCode::CONFLICT,
            Failure::TooMany => StatusCode::TOO_MANY_REQUESTS,
            Failure::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Failure::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The kind of an HTTP status that axum's own extractors chose.
    pub fn of_rejection(status: StatusCode) -> Self {
        match status {
            StatusCode::PAYLOAD_TOO_LARGE => Failure::TooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Failure::WrongMediaType,
            _ => Failure::Invalid,
        }
    }
}

/// An error on its way to becoming a response.
#[derive(Debug)]
pub struct ApiError {
    /// What kind of failure (which decides the status).
    pub failure: Failure,
    /// The code.
    pub code: &'static str,
    /// The message.
    pub message: String,
    /// Related item.
    pub item_id: Option<u64>,
    /// Related option.
    pub option_id: Option<u64>,
    /// Related option group.
    pub group_id: Option<u64>,
}

impl ApiError {
    /// An error of a kind, with a code and message.
    pub fn new(failure: Failure, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            failure,
            code,
            message: message.into(),
            item_id: None,
            option_id: None,
            group_id: None,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.failure.status()
    }

    /// 401: log in first.
    pub fn unauthorized() -> Self {
        Self::new(Failure::LoginRequired, "login_required", "log in first")
    }

    /// 403 with a reason.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Failure::Forbidden, "forbidden", message)
    }

    /// 404.
    pub fn not_found(what: &str) -> Self {
        Self::new(Failure::NotFound, "not_found", format!("{what} not found"))
    }

    /// 422 for input that breaks a rule.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Failure::Invalid, "invalid_input", message)
    }

    /// 500; the detail is logged here and not shown.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(
            Failure::Internal,
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
                ..ApiError::new(Failure::Conflict, "out_of_stock", message)
            },
            E::ItemUnavailable { item, .. } => ApiError {
                item_id: Some(item.0),
                ..ApiError::new(Failure::Conflict, "item_unavailable", message)
            },
            E::Choice(c) => {
                use crate::domain::options::ChoiceError as C;
                let (option_id, group_id) = match c {
                    C::Duplicate { option, .. } | C::Foreign { option, .. } => {
                        (Some(option.0), None)
                    }
                    C::TooFew { group, .. } | C::TooMany { group, .. } => (None, Some(group.0)),
                };
                ApiError {
                    option_id,
                    group_id,
                    ..ApiError::new(Failure::Invalid, "invalid_options", message)
                }
            }
            E::Photo(crate::domain::photo::PhotoError::TooLarge { .. }) => {
                ApiError::new(Failure::TooLarge, "photo_too_large", message)
            }
            E::Photo(crate::domain::photo::PhotoError::NotAnImage) => {
                ApiError::new(Failure::WrongMediaType, "not_an_image", message)
            }
            E::OptionUnavailable { option, .. } => ApiError {
                option_id: Some(option.0),
                ..ApiError::new(Failure::Conflict, "option_unavailable", message)
            },
            E::OptionOutOfStock { option, .. } => ApiError {
                option_id: Some(option.0),
                ..ApiError::new(Failure::Conflict, "out_of_stock", message)
            },
            E::Refused(_) => ApiError::new(Failure::Conflict, "shop_not_accepting", message),
            E::Transition(_) => ApiError::new(Failure::Conflict, "invalid_transition", message),
            E::Invalid(_) => ApiError::invalid(message),
            E::Conflict(_) => ApiError::new(Failure::Conflict, "conflict", message),
            E::Unavailable => ApiError::new(
                Failure::Unavailable,
                "shutting_down",
                "the server is restarting; please try again in a moment",
            ),
            // Honest: nothing is restarting; the storage is full or failing
            // and the store re-opens the database by itself once it works.
            E::StorageDown(_) => {
                tracing::warn!(error = %message, "refused: the database cannot be written");
                ApiError::new(
                    Failure::Unavailable,
                    "storage_failed",
                    "the venue's system cannot save anything right now (its storage is full or failing); please ask at the counter",
                )
            }
            E::OutOfSpace => ApiError::new(
                Failure::Unavailable,
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
            option_id: self.option_id,
            group_id: self.group_id,
        };
        (self.failure.status(), Json(body)).into_response()
    }
}

/// A page that failed: the status and a sentence a person can act on.
#[derive(Debug)]
pub struct PageError {
    /// What kind of failure (which decides the status).
    pub failure: Failure,
    /// What went wrong and what to do.
    pub message: String,
    /// Where "go back" leads.
    pub back: Option<String>,
}

impl PageError {
    /// An error page for a kind of failure.
    pub fn new(failure: Failure, message: impl Into<String>) -> Self {
        Self {
            failure,
            message: message.into(),
            back: None,
        }
    }

    /// Adds the link back to where the person came from.
    pub fn back(mut self, to: impl Into<String>) -> Self {
        self.back = Some(to.into());
        self
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        Self::new(e.failure, e.message)
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        ApiError::from(e).into()
    }
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
