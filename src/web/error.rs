//! The one place that chooses HTTP statuses. Every error body has the shape
//! `{"error": "code", "message": "what a person can do about it"}`; a 5xx
//! body is generic and the full error goes to the log.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthError;
use crate::i18n::Lang;
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
#[derive(Clone, Debug)]
pub struct PageError {
    /// What kind of failure (which decides the status).
    pub failure: Failure,
    /// What went wrong and what to do (in English: logs, and pages that
    /// are not translated yet).
    pub message: String,
    /// The same as interface text, drawn in the reader's language.
    pub said: Option<Said>,
    /// Where "go back" leads.
    pub back: Option<String>,
}

/// A sentence of the interface text (`locales/*.yml`): its key and the
/// values of its `%{name}`s, put into words when the page is drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Said {
    /// The key (`common.error.form_expired`).
    pub key: &'static str,
    /// Each `%{name}` and its value.
    pub args: Vec<(&'static str, String)>,
}

impl Said {
    /// The sentence in `lang`.
    pub fn text(&self, lang: Lang) -> String {
        let args: Vec<(&str, &dyn std::fmt::Display)> = self
            .args
            .iter()
            .map(|(k, v)| (*k, v as &dyn std::fmt::Display))
            .collect();
        lang.t_with(self.key, &args)
    }
}

impl PageError {
    /// An error page for a kind of failure.
    pub fn new(failure: Failure, message: impl Into<String>) -> Self {
        Self {
            failure,
            message: message.into(),
            said: None,
            back: None,
        }
    }

    /// An error page whose sentence is interface text (`key` in the
    /// locale files), shown in the reader's language.
    pub fn said(failure: Failure, key: &'static str) -> Self {
        Self::said_with(failure, key, Vec::new())
    }

    /// The same with values for the sentence's `%{name}`s.
    pub fn said_with(
        failure: Failure,
        key: &'static str,
        args: Vec<(&'static str, String)>,
    ) -> Self {
        let said = Said { key, args };
        Self {
            failure,
            message: said.text(Lang::En),
            said: Some(said),
            back: None,
        }
    }

    /// The sentence in `lang`.
    pub fn message_in(&self, lang: Lang) -> String {
        self.said
            .as_ref()
            .map_or_else(|| self.message.clone(), |s| s.text(lang))
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
        let said = said_of(&e);
        PageError {
            said,
            ..PageError::from(ApiError::from(e))
        }
    }
}

/// The sentence a person reads for a store error, as interface text; `None`
/// where the error's own (English) words are all there is (a shop's own
/// message, a rule staff pages explain).
pub fn said_of(e: &StoreError) -> Option<Said> {
    use crate::domain::options::ChoiceError as C;
    use crate::domain::shop::Refusal as R;
    use StoreError as E;
    let say = |key: &'static str, args: Vec<(&'static str, String)>| Some(Said { key, args });
    match e {
        E::OutOfStock { name, left, .. } | E::OptionOutOfStock { name, left, .. } => {
            let key = if matches!(e, E::OutOfStock { .. }) {
                "common.error.sold_out"
            } else {
                "common.error.option_sold_out"
            };
            say(
                key,
                vec![("item", name.clone()), ("left", left.to_string())],
            )
        }
        E::ItemUnavailable { name, .. } => {
            say("common.error.unavailable", vec![("item", name.clone())])
        }
        E::OptionUnavailable { name, .. } => say(
            "common.error.option_unavailable",
            vec![("item", name.clone())],
        ),
        E::Choice(C::Duplicate { name, .. }) => {
            say("common.error.choice_twice", vec![("option", name.clone())])
        }
        E::Choice(C::Foreign { item, .. }) => {
            say("common.error.choice_foreign", vec![("item", item.clone())])
        }
        E::Choice(C::TooFew {
            name, min, item, ..
        }) => say(
            "common.error.choice_too_few",
            vec![
                ("n", min.to_string()),
                ("group", name.clone()),
                ("item", item.clone()),
            ],
        ),
        E::Choice(C::TooMany {
            name, max, item, ..
        }) => say(
            "common.error.choice_too_many",
            vec![
                ("n", max.to_string()),
                ("group", name.clone()),
                ("item", item.clone()),
            ],
        ),
        E::Refused(r) => match r {
            R::NotApproved { shop } => {
                say("common.refusal.not_approved", vec![("shop", shop.clone())])
            }
            R::Paused { shop } => say("common.refusal.paused", vec![("shop", shop.clone())]),
            R::Closed { shop } => say("common.refusal.closed", vec![("shop", shop.clone())]),
            R::Busy { shop, open } => say(
                "common.refusal.busy",
                vec![("shop", shop.clone()), ("open", open.to_string())],
            ),
        },
        E::Unavailable => say("common.error.restarting", Vec::new()),
        E::StorageDown(_) => say("common.error.storage_failed", Vec::new()),
        E::OutOfSpace => say("common.error.out_of_storage", Vec::new()),
        E::Storage(_) | E::Codec(_) | E::NewerSchema { .. } | E::Internal(_) => {
            say("common.error.internal", Vec::new())
        }
        E::NotFound { .. } | E::Photo(_) | E::Invalid(_) | E::Conflict(_) | E::Transition(_) => {
            None
        }
    }
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
