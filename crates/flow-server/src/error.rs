//! The API's errors: each one a status, a stable code and a message, in one body shape.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::wire::{ErrorBody, ErrorDetail};

/// Why a request was refused or failed. A 5xx says only "internal error"; its cause goes to the
/// log.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON.
    #[error("the body is not valid JSON: {0}")]
    InvalidJson(String),
    /// A field is missing, unknown or of the wrong type, or a parameter is out of range.
    #[error("{0}")]
    InvalidRequest(String),
    /// No token, or a wrong one.
    #[error("a valid bearer token is required (Authorization: Bearer TOKEN)")]
    Unauthorized,
    /// No such bot.
    #[error("there is no bot `{bot}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownBot {
        /// The bot asked for.
        bot: String,
        /// The closest bot there is.
        suggestion: Option<String>,
    },
    /// No such conversation.
    #[error("bot `{bot}` has no conversation `{id}`")]
    UnknownConversation {
        /// The bot.
        bot: String,
        /// The conversation id.
        id: String,
    },
    /// An explicit start of a conversation that is running.
    #[error("conversation `{id}` of bot `{bot}` is running (it has not ended); send it messages, or delete it first")]
    ConversationExists {
        /// The bot.
        bot: String,
        /// The conversation id.
        id: String,
    },
    /// The body, the text or a preset is over its limit.
    #[error("{0}")]
    TooLarge(String),
    /// A preset does not fit its variable.
    #[error("{0}")]
    InvalidVariables(String),
    /// A reload found errors; the bots already loaded keep serving.
    #[error("the flows have errors; the bots already loaded keep serving")]
    InvalidFlow(Vec<String>),
    /// A client of the public endpoints sent more than its share.
    #[error("too many requests from your address; try again in {retry_after} s")]
    RateLimited {
        /// Seconds until the next request is allowed.
        retry_after: u64,
    },
    /// The flows are not loaded or the store does not answer.
    #[error("{0}")]
    NotReady(String),
    /// The server is shutting down.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// Something failed on the server's side; the message is logged, not sent.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The status and stable code of the contract.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::InvalidJson(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
            ApiError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::UnknownBot { .. } => (StatusCode::NOT_FOUND, "unknown_bot"),
            ApiError::UnknownConversation { .. } => (StatusCode::NOT_FOUND, "unknown_conversation"),
            ApiError::ConversationExists { .. } => (StatusCode::CONFLICT, "conversation_exists"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::InvalidVariables(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_variables")
            }
            ApiError::InvalidFlow(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_flow"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::NotReady(_) => (StatusCode::SERVICE_UNAVAILABLE, "not_ready"),
            ApiError::ShuttingDown => (StatusCode::SERVICE_UNAVAILABLE, "shutting_down"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// The error body.
    pub fn body(&self) -> ErrorBody {
        let (_, code) = self.status_and_code();
        ErrorBody {
            error: ErrorDetail {
                code,
                message: self.to_string(),
                diagnostics: match self {
                    ApiError::InvalidFlow(diagnostics) => Some(diagnostics.clone()),
                    _ => None,
                },
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_code();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(error = %cause, "internal error");
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        if let ApiError::RateLimited { retry_after } = &self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*retry_after),
            );
        }
        response
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(error: crate::store::StoreError) -> ApiError {
        match error {
            crate::store::StoreError::Closed => ApiError::ShuttingDown,
            other => ApiError::Internal(other.to_string()),
        }
    }
}
