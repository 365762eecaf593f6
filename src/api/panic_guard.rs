//! The safety net under every handler: a panic (always a bug) still answers GitLab's JSON
//! `500 {"message":"500 Internal Server Error"}` instead of a dropped connection, and the log gets
//! one line (`panic at src/x.rs:12: message (GET /api/v4/…)`) instead of a multi-line backtrace.
//!
//! Two parts: [`catch_panics`], an actix middleware that catches a panic while the rest of the
//! chain is polled, and [`install_panic_hook`], the process-wide hook that writes the one line.
//! When the panic happens inside a guarded request, the hook hands its line to the middleware,
//! which adds the request's method and path (never its query, which may hold a token) and logs
//! it; any other panic (another thread, startup) the hook logs itself.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{AssertUnwindSafe, Location};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use futures_util::FutureExt;

use crate::error::ApiError;

thread_local! {
    /// True while this thread polls a request under [`catch_panics`].
    static GUARDED: Cell<bool> = const { Cell::new(false) };
    /// The hook's line for a panic in a guarded request, for the middleware to log.
    static CAUGHT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A panic in a handler: GitLab's 500 with the app's usual response headers (the error path
/// skips the `DefaultHeaders` middleware, so they are added here).
#[derive(Debug, thiserror::Error)]
#[error("a handler panicked")]
struct Panicked;

impl ResponseError for Panicked {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        // `ApiError::Internal` would log a second line; its body is this one.
        let mut resp = ApiError::message(StatusCode::INTERNAL_SERVER_ERROR, "500 Internal Server Error")
            .error_response();
        for (name, value) in crate::RESPONSE_HEADERS {
            resp.headers_mut().insert(
                actix_web::http::header::HeaderName::from_static(name),
                actix_web::http::header::HeaderValue::from_static(value),
            );
        }
        resp
    }
}

/// Middleware (`App::wrap(from_fn(catch_panics))`): runs the rest of the chain; a panic becomes
/// the 500 of [`Panicked`] and one error-level log line.
///
/// Why an `Err` and not a `ServiceResponse`: building a response needs the `HttpRequest`, and
/// holding a clone of it while the router runs makes actix panic (routing needs the only
/// reference). The server turns the `Err` into the response; the access log skips it, which is
/// why the log line names the request.
pub async fn catch_panics(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let mut fut = std::pin::pin!(next.call(req));
    let guarded = std::future::poll_fn(move |cx| {
        GUARDED.set(true);
        let poll = fut.as_mut().poll(cx);
        GUARDED.set(false);
        poll
    });
    // Unwind safety: after a panic nothing of the request is touched again, and handlers share
    // state only through the database (its writer catches its own panics) and `Arc`s.
    match AssertUnwindSafe(guarded).catch_unwind().await {
        Ok(result) => result.map(ServiceResponse::map_into_boxed_body),
        Err(payload) => {
            GUARDED.set(false);
            let line = CAUGHT.take().unwrap_or_else(|| panic_line(None, payload.as_ref()));
            log::error!("{line} ({method} {})", uri.path());
            Err(Panicked.into())
        }
    }
}

/// Installs the process-wide panic hook: every panic, in any thread, gives one error-level log
/// line `panic at <file>:<line>: <message>` (no backtrace, nothing else on stderr). The binary
/// installs it once the logger is up; tests keep Rust's default hook.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let line = panic_line(info.location(), info.payload());
        if GUARDED.get() {
            CAUGHT.set(Some(line));
        } else {
            log::error!("{line}");
        }
    }));
}

/// `panic at <file>:<line>: <message>`, on one line.
fn panic_line(location: Option<&Location<'_>>, payload: &(dyn Any + Send)) -> String {
    let at =
        location.map_or_else(|| "an unknown place".to_string(), |l| format!("{}:{}", l.file(), l.line()));
    format!("panic at {at}: {}", payload_text(payload).replace(['\n', '\r'], " "))
}

/// The message a panic carries (`panic!("…")` gives a `&str` or a `String`).
fn payload_text(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "a non-string panic payload"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::middleware::from_fn;
    use actix_web::test as atest;
    use actix_web::{App, web};

    async fn panics() -> HttpResponse {
        panic!("boom in a handler");
    }

    async fn fine(path: web::Path<String>) -> HttpResponse {
        HttpResponse::Ok().body(path.into_inner())
    }

    #[actix_web::test]
    async fn a_panicking_handler_answers_gitlabs_json_500_and_the_worker_survives() {
        let app = atest::init_service(
            App::new()
                .wrap(from_fn(catch_panics))
                .service(web::scope("/api").route("/panic", web::get().to(panics)))
                .route("/fine/{name}", web::get().to(fine)),
        )
        .await;
        let err = atest::try_call_service(&app, atest::TestRequest::get().uri("/api/panic").to_request())
            .await
            .expect_err("the panic becomes an error response");
        // What the server sends for the error, exactly as its dispatcher builds it.
        let resp: HttpResponse = err.error_response();
        assert_eq!(resp.status(), 500);
        assert_eq!(resp.headers().get("content-type").unwrap(), "application/json");
        assert_eq!(resp.headers().get("x-content-type-options").unwrap(), "nosniff");
        let body = actix_web::body::to_bytes(resp.into_body()).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body, serde_json::json!({"message": "500 Internal Server Error"}));

        // Routing (which needs the only reference to the request) and the next request work.
        let resp = atest::call_service(&app, atest::TestRequest::get().uri("/fine/abc").to_request()).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(atest::read_body(resp).await, "abc");
    }

    #[test]
    fn the_panic_line_names_the_place_and_the_message_on_one_line() {
        let here = Location::caller();
        let line = panic_line(Some(here), &"first\nsecond");
        assert_eq!(line, format!("panic at {}:{}: first second", here.file(), here.line()));
        let owned: Box<dyn Any + Send> = Box::new(String::from("owned message"));
        assert!(panic_line(None, owned.as_ref()).ends_with(": owned message"));
        assert_eq!(payload_text(&42_u8), "a non-string panic payload");
    }
}
