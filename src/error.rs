//! The one error type: every failure a request can meet, and how GitLab shows it on the wire.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde_json::{Value, json};

/// Every failure a handler can return. Each variant knows its status and GitLab-shaped body.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 401 `{"message":"401 Unauthorized"}`: no or unknown credentials on an authenticated route.
    #[error("401 Unauthorized")]
    Unauthorized,
    /// 401 `{"error":"invalid_token",…}`: an expired or revoked personal access token.
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),
    /// 403 `{"error":"insufficient_scope",…}`: a `read_api` token on a write.
    #[error("insufficient scope")]
    InsufficientScope,
    /// 403 `{"message":"403 Forbidden"}` or `"403 Forbidden - <reason>"`.
    #[error("403 Forbidden")]
    Forbidden(Option<String>),
    /// 404 `{"message":"404 <Resource> Not Found"}` (`""` gives the bare `404 Not Found`).
    #[error("404 {0} Not Found")]
    NotFound(&'static str),
    /// 404 `{"message":"404 Not found"}`: GitLab's answer to a record missing under a found parent.
    #[error("404 Not found")]
    RecordNotFound,
    /// 404 `{"error":"404 Not Found"}`: no route matches.
    #[error("no route")]
    NoRoute,
    /// 405 `{"error":"…"}`.
    #[error("405 {0}")]
    MethodNotAllowed(String),
    /// 400 `{"error":"<param> is missing"}` and the other parameter-validation texts.
    #[error("{0}")]
    Param(String),
    /// 422 `{"error":"<text>"}`: GitLab's hook validation errors (`Invalid url given`).
    #[error("{0}")]
    Unprocessable(String),
    /// 400 `{"message":"400 Bad request - <reason>"}`.
    #[error("400 Bad request - {0}")]
    BadRequest(String),
    /// Any status with `{"message": <value>}`; the value may be a string or an object such as
    /// `{"base":["Reference not found"]}` or `{"path":["has already been taken"]}`.
    #[error("{1}")]
    Message(StatusCode, Value),
    /// 412 `{"message":"412 Precondition Failed"}` for `If-Unmodified-Since`.
    #[error("412 Precondition Failed")]
    PreconditionFailed,
    /// 408 `{"message":"408 Request Timeout"}`: the body did not arrive in time.
    #[error("408 Request Timeout")]
    RequestTimeout,
    /// 413 `{"message":"413 Request Entity Too Large"}`.
    #[error("413 Request Entity Too Large")]
    PayloadTooLarge,
    /// 429 `{"message":"429 Too Many Requests - …"}` with `Retry-After: <seconds>`.
    #[error("429 Too Many Requests - {0}")]
    TooManyRequests(&'static str, u64),
    /// 503 `{"message":"503 Service Unavailable - …"}`: the disk is full; reads keep working.
    #[error("503 Service Unavailable - {0}")]
    Unavailable(&'static str),
    /// 500 `{"message":"500 Internal Server Error"}`; the detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// `{"message": {field: [text]}}` with status 400, GitLab's validation-error shape.
    pub fn validation(field: &str, text: impl Into<String>) -> Self {
        ApiError::Message(StatusCode::BAD_REQUEST, json!({ field: [text.into()] }))
    }

    /// `{"message": "<text>"}` with the given status.
    pub fn message(status: StatusCode, text: impl Into<String>) -> Self {
        ApiError::Message(status, Value::String(text.into()))
    }

    /// `{"error": "<param> is missing"}`.
    pub fn missing(param: &str) -> Self {
        ApiError::Param(format!("{param} is missing"))
    }

    /// `{"error": "<param> is invalid"}`.
    pub fn invalid(param: &str) -> Self {
        ApiError::Param(format!("{param} is invalid"))
    }

    /// `{"error": "<param> does not have a valid value"}`.
    pub fn not_valid_value(param: &str) -> Self {
        ApiError::Param(format!("{param} does not have a valid value"))
    }

    /// `403 Forbidden` with no reason.
    pub fn forbidden() -> Self {
        ApiError::Forbidden(None)
    }

    /// The JSON body this error answers with.
    pub fn body(&self) -> Value {
        match self {
            ApiError::Unauthorized => json!({"message": "401 Unauthorized"}),
            ApiError::InvalidToken(why) => json!({"error": "invalid_token", "error_description": why}),
            ApiError::InsufficientScope => json!({
                "error": "insufficient_scope",
                "error_description": "The request requires higher privileges than provided by the access token.",
                "scope": "api",
            }),
            ApiError::Forbidden(None) => json!({"message": "403 Forbidden"}),
            ApiError::Forbidden(Some(r)) => json!({"message": format!("403 Forbidden - {r}")}),
            ApiError::NotFound("") => json!({"message": "404 Not Found"}),
            ApiError::NotFound(what) => json!({"message": format!("404 {what} Not Found")}),
            ApiError::RecordNotFound => json!({"message": "404 Not found"}),
            ApiError::NoRoute => json!({"error": "404 Not Found"}),
            ApiError::MethodNotAllowed(m) => json!({"error": m}),
            ApiError::Param(m) | ApiError::Unprocessable(m) => json!({"error": m}),
            ApiError::BadRequest(r) => json!({"message": format!("400 Bad request - {r}")}),
            ApiError::Message(_, v) => json!({"message": v}),
            ApiError::PreconditionFailed => json!({"message": "412 Precondition Failed"}),
            ApiError::RequestTimeout => json!({"message": "408 Request Timeout"}),
            ApiError::PayloadTooLarge => json!({"message": "413 Request Entity Too Large"}),
            ApiError::TooManyRequests(why, _) => json!({"message": format!("429 Too Many Requests - {why}")}),
            ApiError::Unavailable(why) => json!({"message": format!("503 Service Unavailable - {why}")}),
            ApiError::Internal(_) => json!({"message": "500 Internal Server Error"}),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized | ApiError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            ApiError::InsufficientScope | ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::RecordNotFound | ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Param(_) | ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Message(s, _) => *s,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::TooManyRequests(..) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(detail) = self {
            log::error!("internal error: {detail}");
        }
        let mut resp = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::InvalidToken(_) | ApiError::InsufficientScope) {
            // RFC 6750 §3, as GitLab's API guard sends it.
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"triggerd\""));
        }
        if let ApiError::TooManyRequests(_, seconds) = self {
            resp.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        resp.json(self.body())
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        if is_disk_full(&e) {
            return ApiError::Unavailable("the database disk is full; writes resume when space returns");
        }
        ApiError::Internal(format!("database: {e}"))
    }
}

impl From<r2d2::Error> for ApiError {
    fn from(e: r2d2::Error) -> Self {
        ApiError::Internal(format!("connection pool: {e}"))
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(format!("blocking task: {e}"))
    }
}

/// True when SQLite reports a full disk (or an I/O error writing, which is how ENOSPC often shows).
pub fn is_disk_full(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull
    )
}

/// True when the error is a UNIQUE or PRIMARY KEY violation.
pub fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

/// Maps a unique violation to GitLab's `{"message":{field:["has already been taken"]}}`.
pub fn taken(field: &'static str) -> impl FnOnce(rusqlite::Error) -> ApiError {
    move |e| {
        if is_unique_violation(&e) {
            ApiError::validation(field, "has already been taken")
        } else {
            ApiError::from(e)
        }
    }
}

/// Maps a unique-constraint violation to `409 {"message": message}` (a row that already
/// exists), any other error as usual.
pub fn conflict(message: &'static str) -> impl FnOnce(rusqlite::Error) -> ApiError {
    move |e| {
        if is_unique_violation(&e) {
            ApiError::message(actix_web::http::StatusCode::CONFLICT, message)
        } else {
            ApiError::from(e)
        }
    }
}

/// Result alias used by handlers and the database layer.
pub type ApiResult<T> = Result<T, ApiError>;
