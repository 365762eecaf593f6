//! HTTP: GitLab's REST API v4 routes, the JSON 404 for unknown routes, and the health checks.
//! `api/` knows HTTP and GitLab's JSON; it reaches storage only through `db::Db`.

pub mod access;
pub mod ci_pipeline;
pub mod commits;
pub mod entities;
pub mod files;
pub mod health;
pub mod jobs;
pub mod limits;
pub mod members;
pub mod pagination;
pub mod panic_guard;
pub mod params;
pub mod pipelines;
pub mod projects;
pub mod refs;
pub mod tokens;
pub mod trigger_call;
pub mod triggers;
pub mod users;

use actix_web::{HttpResponse, Resource, web};

use crate::error::ApiError;

/// Registers every route; the app's default service answers unknown routes.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::configure).service(
        web::scope("/api/v4")
            // The hot path first: actix matches resources in order, one regex each, and no other
            // route matches `/projects/:id/trigger/pipeline` or `/projects/:id/ref/…/trigger/pipeline`.
            .configure(trigger_call::configure)
            .configure(users::configure)
            .configure(tokens::configure)
            .configure(projects::configure)
            .configure(members::configure)
            .configure(triggers::configure)
            .configure(refs::configure)
            .configure(files::configure)
            .configure(commits::configure)
            .configure(pipelines::configure)
            .configure(jobs::configure)
            .default_service(web::to(no_route)),
    );
}

/// A resource whose unsupported methods get GitLab's JSON 405 instead of an empty body.
pub fn resource(path: &str) -> Resource {
    web::resource(path).default_service(web::to(|| async {
        Err::<HttpResponse, _>(ApiError::MethodNotAllowed("405 Not Allowed".into()))
    }))
}

/// `404 {"error":"404 Not Found"}` for any path no route matches.
pub async fn no_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NoRoute)
}
