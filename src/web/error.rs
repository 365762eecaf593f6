//! How a page fails: an HTML error page in the site's layout (no stack trace, no detail), or a
//! redirect to sign in. Forbidden is shown as 404, as GitLab does for what a user may not see.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::view::Chrome;
use crate::error::ApiError;

/// Every failure of a page handler.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Not signed in where a page needs it: 303 to the sign-in page, back to `.0` afterwards.
    #[error("sign in required")]
    SignIn(String),
    /// 404: missing, or hidden from this user.
    #[error("not found")]
    NotFound,
    /// 400 with a message for the user.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 403: a cross-origin write.
    #[error("cross-origin request refused")]
    CrossOrigin,
    /// 422: the form's token does not belong to this session (an old tab, or a forged form).
    #[error("invalid form token")]
    FormToken,
    /// Any status with a message (e.g. 503 while the disk is full).
    #[error("{0}: {1}")]
    Status(StatusCode, String),
    /// 500; the detail is logged, never shown.
    #[error("internal error: {0}")]
    Internal(String),
}

pub type WebResult<T> = Result<T, WebError>;

impl From<ApiError> for WebError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::NotFound(_)
            | ApiError::RecordNotFound
            | ApiError::NoRoute
            | ApiError::Forbidden(_)
            | ApiError::InsufficientScope => WebError::NotFound,
            ApiError::Internal(detail) => WebError::Internal(detail),
            other => {
                let status = other.status_code();
                if status.is_server_error() {
                    WebError::Status(status, "The server cannot do this right now. Try again later.".into())
                } else {
                    WebError::BadRequest(other.to_string())
                }
            }
        }
    }
}

impl From<askama::Error> for WebError {
    fn from(e: askama::Error) -> Self {
        WebError::Internal(format!("template: {e}"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    heading: String,
    message: String,
}

impl WebError {
    fn heading_and_message(&self) -> (&'static str, String) {
        match self {
            WebError::NotFound => (
                "Page not found",
                "The page could not be found or you don't have permission to view it.".into(),
            ),
            WebError::BadRequest(m) => ("Bad request", m.clone()),
            WebError::CrossOrigin => {
                ("Request refused", "A form from another site tried to change something here.".into())
            }
            WebError::FormToken => (
                "The form has expired",
                "This form belongs to an older sign-in. Go back, reload the page and try again.".into(),
            ),
            WebError::Status(_, m) => ("Something went wrong", m.clone()),
            WebError::Internal(_) | WebError::SignIn(_) => {
                ("Something went wrong", "The server met an error. Try again later.".into())
            }
        }
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::SignIn(_) => StatusCode::SEE_OTHER,
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::CrossOrigin => StatusCode::FORBIDDEN,
            WebError::FormToken => StatusCode::UNPROCESSABLE_ENTITY,
            WebError::Status(s, _) => *s,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let WebError::SignIn(return_to) = self {
            let target = format!("/users/sign_in?return_to={}", super::view::query_escape(return_to));
            return HttpResponse::SeeOther().insert_header((header::LOCATION, target)).finish();
        }
        if let WebError::Internal(detail) = self {
            log::error!("internal error on a page: {detail}");
        }
        let (heading, message) = self.heading_and_message();
        let page = ErrorPage { chrome: Chrome::anonymous(heading), heading: heading.into(), message };
        let body = page.render().unwrap_or_else(|_| heading.to_string());
        HttpResponse::build(self.status_code()).content_type("text/html; charset=utf-8").body(body)
    }
}
