//! The web UI: server-rendered pages at GitLab's URLs (askama templates compiled into the binary,
//! plain HTML forms answered POST → 303 → GET, one CSS and one small JS file), so every `web_url`
//! the API returns opens a page. Pages are a second door to the same rules: projects are found
//! and permissions decided by `api::access` (the caller is the signed-in user), rows come from
//! `db/`, every write goes through `Db::write`.
//!
//! The routes are registered here, outside `api::Routes` (whose table feeds the OpenAPI coverage
//! test and the authorization matrix of the REST API), in one scope that adds the security
//! headers and refuses cross-origin writes. `/api/v4/…` and `/-/health` are matched before it.

pub mod error;
pub mod forms;
pub mod hooks;
pub mod jobs;
pub mod pipeline_actions;
pub mod pipelines;
pub mod projects;
pub mod runners;
pub mod session;
pub mod trigger_edit;
pub mod trigger_events;
pub mod triggers;
pub mod user_settings;
pub mod view;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::{DefaultHeaders, Next, from_fn};
use actix_web::{HttpResponse, ResponseError, web};

use crate::state::AppState;
pub use error::{WebError, WebResult};

/// The Content-Security-Policy of every page: no inline script or style, no framing, forms post
/// only to this origin.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Headers on every web UI response (the app adds `no-store` where a response sets no
/// `Cache-Control` of its own).
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("content-security-policy", CSP),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    ("x-content-type-options", "nosniff"),
];

/// Where the embedded assets are served; the version in the query busts caches on upgrade.
pub const CSS_PATH: &str = "/-/ui/static/app.css";
pub const JS_PATH: &str = "/-/ui/static/app.js";
const APP_CSS: &str = include_str!("assets/app.css");
const APP_JS: &str = include_str!("assets/app.js");

/// What the web UI keeps in memory: failed sign-ins per client address.
#[derive(Debug, Default)]
pub struct WebState {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

/// Addresses tracked at most; older entries are dropped first when the map is full.
const MAX_TRACKED_ADDRESSES: usize = 10_000;

impl WebState {
    /// True while `addr` has made `max` failed sign-ins within the last `window`.
    pub fn throttled(&self, addr: Option<IpAddr>, max: u32, window: Duration) -> bool {
        let Some(addr) = addr else { return false };
        let Ok(map) = self.failures.lock() else { return false };
        map.get(&addr).is_some_and(|(n, since)| *n >= max && since.elapsed() < window)
    }

    /// Counts one failed sign-in from `addr`.
    pub fn record_failure(&self, addr: Option<IpAddr>, window: Duration) {
        let Some(addr) = addr else { return };
        let Ok(mut map) = self.failures.lock() else { return };
        if map.len() >= MAX_TRACKED_ADDRESSES {
            map.retain(|_, (_, since)| since.elapsed() < window);
        }
        let entry = map.entry(addr).or_insert((0, Instant::now()));
        if entry.1.elapsed() >= window {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
    }

    /// Forgets the failures of `addr` (after a successful sign-in).
    pub fn forget(&self, addr: Option<IpAddr>) {
        if let (Some(addr), Ok(mut map)) = (addr, self.failures.lock()) {
            map.remove(&addr);
        }
    }
}

/// A project page's prefix: `/{ns}/{project}` where the namespace is a user's or a group's full
/// path (`alice`, `org/team`). No namespace or project path segment starts with `-` (GitLab's
/// path rules), so `/-/` always ends the project's path; the namespace regex is lazy, so
/// `/org/team/app/-/pipelines` splits at the first `/-/`.
const PROJECT: &str = "/{ns:[^/-][^/]*(?:/[^/-][^/]*)*?}/{project:[^/-][^/]*}";

/// A route under a project page: [`PROJECT`] followed by `rest`.
fn project_route(rest: &str) -> String {
    format!("{PROJECT}{rest}")
}

/// Registers the web UI. Call after `api::configure`, so the API's routes match first.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let headers = SECURITY_HEADERS.iter().fold(DefaultHeaders::new(), |h, pair| h.add(*pair));
    cfg.service(
        web::scope("")
            .wrap(from_fn(refuse_cross_origin))
            .wrap(headers)
            .route(CSS_PATH, web::get().to(app_css))
            .route(JS_PATH, web::get().to(app_js))
            .route("/", web::get().to(session::root))
            .route("/users/sign_in", web::get().to(session::sign_in_form))
            .route("/users/sign_in", web::post().to(session::sign_in))
            .route("/users/sign_out", web::post().to(session::sign_out))
            .route("/dashboard/projects", web::get().to(projects::dashboard))
            .route(user_settings::PATH, web::get().to(user_settings::list))
            .route(user_settings::PATH, web::post().to(user_settings::create))
            .route(
                "/-/user_settings/personal_access_tokens/{id}/revoke",
                web::post().to(user_settings::revoke),
            )
            .route(&project_route("/-/settings/ci_cd"), web::get().to(triggers::settings))
            .route(
                &project_route("/-/settings/ci_cd/reset_registration_token"),
                web::post().to(runners::reset_registration_token),
            )
            .route(&project_route("/-/runners/{runner_id}/{action}"), web::post().to(runners::toggle))
            .route(&project_route("/-/triggers"), web::post().to(triggers::create))
            .route(&project_route("/-/triggers/{trigger_id}/revoke"), web::post().to(triggers::revoke))
            .route(&project_route("/-/triggers/{trigger_id}/edit"), web::get().to(trigger_edit::edit_form))
            .route(&project_route("/-/triggers/{trigger_id}/edit"), web::post().to(trigger_edit::edit))
            .route(&project_route("/-/triggers/{trigger_id}/rotate"), web::post().to(trigger_edit::rotate))
            .route(&project_route("/-/triggers/{trigger_id}/events"), web::get().to(trigger_events::events))
            .route(&project_route("/-/hooks"), web::get().to(hooks::list))
            .route(&project_route("/-/hooks"), web::post().to(hooks::create))
            .route(&project_route("/-/hooks/{hook_id}/test"), web::post().to(hooks::test))
            .route(&project_route("/-/hooks/{hook_id}/delete"), web::post().to(hooks::delete))
            .route(&project_route("/-/pipelines"), web::get().to(pipelines::list))
            .route(&project_route("/-/pipelines/{pipeline_id}"), web::get().to(pipelines::show))
            .route(
                &project_route("/-/pipelines/{pipeline_id}/cancel"),
                web::post().to(pipeline_actions::cancel),
            )
            .route(
                &project_route("/-/pipelines/{pipeline_id}/retry"),
                web::post().to(pipeline_actions::retry),
            )
            .route(
                &project_route("/-/pipelines/{pipeline_id}/delete"),
                web::post().to(pipeline_actions::delete),
            )
            .route(&project_route("/-/jobs/{job_id}"), web::get().to(jobs::job))
            .route(&project_route("/-/commit/{sha}"), web::get().to(projects::commit))
            .route(&project_route("/-/tree/{ref_name:.+}"), web::get().to(projects::tree))
            // Last: any deeper path is one of the routes above or nothing.
            .route(PROJECT, web::get().to(projects::overview))
            .route("/{username}", web::get().to(projects::user)),
    );
}

/// The embedded assets: long-cached (their URLs carry the version).
fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .body(body)
}

async fn app_css() -> HttpResponse {
    asset("text/css; charset=utf-8", APP_CSS)
}

async fn app_js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", APP_JS)
}

/// Refuses a cross-origin write with a 403 page (Go's `CrossOriginProtection`): a
/// `Sec-Fetch-Site` other than `same-origin`/`none`, or, without it, an `Origin` naming another
/// host than the request's `Host` or `server.external_url`. Requests with neither header (curl)
/// pass; the per-session form token still guards signed-in forms.
async fn refuse_cross_origin(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let external = req.app_data::<web::Data<AppState>>().and_then(|s| s.external_url.clone());
    if is_cross_origin(&req, external.as_deref()) {
        log::warn!("refused a cross-origin {} to {}", req.method(), req.path());
        let resp = WebError::CrossOrigin.error_response();
        return Ok(req.into_response(resp));
    }
    next.call(req).await
}

fn is_cross_origin(req: &ServiceRequest, external_url: Option<&str>) -> bool {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let headers = req.headers();
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("same-origin" | "none") => return false,
        Some(_) => return true,
        None => {}
    }
    let Some(origin) = headers.get(header::ORIGIN).map(|o| o.to_str().unwrap_or_default()) else {
        return false;
    };
    let Some((_, authority)) = origin.split_once("://") else {
        return true; // `Origin: null` and anything unreadable
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    // The configured URL's origin, scheme included: `scheme://host[:port]`.
    let external = external_url.and_then(|u| {
        let (scheme, rest) = u.split_once("://")?;
        Some(format!("{scheme}://{}", rest.split('/').next().unwrap_or(rest)))
    });
    !(host.is_some_and(|h| h.eq_ignore_ascii_case(authority))
        || external.is_some_and(|e| e.eq_ignore_ascii_case(origin)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn post(headers: &[(&str, &str)]) -> ServiceRequest {
        let mut req = TestRequest::post().uri("/users/sign_in").insert_header(("host", "ci.example:8080"));
        for h in headers {
            req = req.insert_header(*h);
        }
        req.to_srv_request()
    }

    #[test]
    fn a_post_from_another_origin_is_cross_origin_and_one_from_this_host_is_not() {
        assert!(is_cross_origin(&post(&[("origin", "http://evil.example:8080")]), None));
        assert!(is_cross_origin(&post(&[("origin", "http://ci.example:8081")]), None));
        assert!(is_cross_origin(&post(&[("origin", "null")]), None));
        assert!(!is_cross_origin(&post(&[("origin", "http://ci.example:8080")]), None));
        assert!(!is_cross_origin(&post(&[]), None));
    }

    #[test]
    fn sec_fetch_site_decides_when_the_browser_sends_it() {
        assert!(is_cross_origin(&post(&[("sec-fetch-site", "same-site")]), None));
        assert!(is_cross_origin(&post(&[("sec-fetch-site", "cross-site")]), None));
        assert!(!is_cross_origin(&post(&[("sec-fetch-site", "same-origin")]), None));
    }

    #[test]
    fn an_origin_matching_the_external_url_passes_behind_a_proxy() {
        let req = post(&[("origin", "https://ci.example.org")]);
        assert!(is_cross_origin(&req, None));
        assert!(!is_cross_origin(&req, Some("https://ci.example.org")));
        assert!(!is_cross_origin(&req, Some("https://ci.example.org/gitlab")));
        assert!(is_cross_origin(
            &post(&[("origin", "http://ci.example.org")]),
            Some("https://ci.example.org")
        ));
    }

    #[test]
    fn throttling_starts_at_the_limit_and_ends_with_the_window() {
        let s = WebState::default();
        let addr = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..3 {
            assert!(!s.throttled(addr, 3, Duration::from_secs(60)));
            s.record_failure(addr, Duration::from_secs(60));
        }
        assert!(s.throttled(addr, 3, Duration::from_secs(60)));
        assert!(!s.throttled(addr, 3, Duration::ZERO));
        s.forget(addr);
        assert!(!s.throttled(addr, 3, Duration::from_secs(60)));
    }
}
