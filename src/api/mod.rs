//! HTTP: GitLab's REST API v4 routes, the JSON 404 for unknown routes, and the health checks.
//! `api/` knows HTTP and GitLab's JSON; it reaches storage only through `db::Db`.
//!
//! Every route is registered through one [`Routes`] registrar, which builds the actix resources
//! and records each `(METHOD, full path pattern)` as it goes: [`route_table`] is that record, so
//! the route list used by the OpenAPI coverage test and the authorization matrix cannot drift
//! from what the server serves. Each resource answers its unsupported methods with GitLab's JSON 405
//! and an `Allow` header naming the methods it registered.

pub mod access;
pub mod bridges;
pub mod ci_config_cache;
pub mod ci_pipeline;
pub mod client_addr;
pub mod commit_statuses;
pub mod commits;
pub mod current_job;
pub mod entities;
pub mod files;
pub mod groups;
pub mod health;
pub mod hook_events;
pub mod hook_params;
pub mod hooks;
pub mod idempotency;
pub mod job_token_groups;
pub mod job_token_scope;
pub mod jobs;
pub mod keyset;
pub mod limits;
pub mod member_rules;
pub mod members;
pub mod namespaces;
pub mod openapi;
pub mod pagination;
pub mod panic_guard;
pub mod params;
pub mod pipeline_links;
pub mod pipelines;
pub mod project_fields;
pub mod project_json;
pub mod project_role;
pub mod project_transfer;
pub mod projects;
pub mod refs;
pub mod route_tree;
pub mod runner_jobs;
pub mod runners;
pub mod tokens;
pub mod trigger_audit;
pub mod trigger_call;
pub mod trigger_credential;
pub mod trigger_lifetime;
pub mod trigger_policy;
pub mod trigger_variables;
pub mod triggers;
pub mod user_fields;
pub mod user_update;
pub mod users;

use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, Handler, HttpResponse, Resource, Responder, ResponseError, Route, guard, web};

use crate::error::ApiError;

/// The prefix of GitLab's REST API.
pub const API_PREFIX: &str = "/api/v4";

/// Registers every route; the app's default service answers unknown routes. The API is mounted
/// as a tree of scopes by path segment ([`route_tree`]); it matches exactly what the routes in
/// registration order would.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let routes = build();
    for pending in routes.root {
        let path = pending.path.clone();
        cfg.service(pending.into_resource(&path));
    }
    cfg.service(api_scope(routes.api, |pending, path| pending.into_resource(path)));
}

/// The `/api/v4` scope: `routes` mounted as [`route_tree`] plans them, each built by `resource`.
fn api_scope<R>(routes: Vec<R>, resource: impl Fn(R, &str) -> Resource) -> actix_web::Scope
where
    R: RoutePath,
{
    let paths: Vec<String> = routes.iter().map(|r| r.path().to_string()).collect();
    let plan = route_tree::plan(&paths.iter().map(String::as_str).collect::<Vec<_>>());
    let mut pending: Vec<Option<R>> = routes.into_iter().map(Some).collect();
    let mut build = |index: usize, path: &str| pending.get_mut(index)?.take().map(|r| resource(r, path));
    let no_route_service = || web::to(no_route);
    route_tree::mount(web::scope(API_PREFIX), plan, &mut build, &no_route_service)
        .default_service(no_route_service())
}

/// Every `(METHOD, full path pattern)` the server registers, in registration order (the order
/// in which the flat list would match them), e.g.
/// `("POST", "/api/v4/projects/{id}/trigger/pipeline")` or `("GET", "/-/liveness")`.
pub fn route_table() -> Vec<(String, String)> {
    build().table
}

/// A registered route's full path within its scope (what [`route_tree::plan`] groups by).
trait RoutePath {
    fn path(&self) -> &str;
}

/// Runs every module's `configure` through one registrar: the same calls build the resources
/// that [`configure`] mounts and the table that [`route_table`] returns.
fn build() -> Routes {
    let mut routes = Routes::default();
    routes.in_scope("", health::configure);
    routes.in_scope(API_PREFIX, |r| {
        // The hot path first: actix matches resources in order, one regex each, and no other
        // route matches `/projects/:id/trigger/pipeline` or `/projects/:id/ref/…/trigger/pipeline`.
        trigger_call::configure(r);
        health::configure_instance(r);
        users::configure(r);
        tokens::configure(r);
        projects::configure(r);
        members::configure(r);
        trigger_audit::configure(r);
        groups::configure(r);
        namespaces::configure(r);
        triggers::configure(r);
        hooks::configure(r);
        hook_events::configure(r);
        refs::configure(r);
        files::configure(r);
        commits::configure(r);
        commit_statuses::configure(r);
        pipelines::configure(r);
        jobs::configure(r);
        bridges::configure(r);
        job_token_scope::configure(r);
        job_token_groups::configure(r);
        current_job::configure(r);
        runners::configure(r);
        runner_jobs::configure(r);
        openapi::configure(r);
    });
    routes
}

/// The route registrar every `configure` function receives: it builds actix resources and
/// records the `(METHOD, full path)` of each route it adds.
#[derive(Default)]
pub struct Routes {
    /// The scope being registered into (`""` or [`API_PREFIX`]).
    prefix: &'static str,
    /// Resources mounted at the application root.
    root: Vec<PendingResource>,
    /// Resources mounted in the `/api/v4` scope, in registration order.
    api: Vec<PendingResource>,
    table: Vec<(String, String)>,
}

impl Routes {
    fn in_scope(&mut self, prefix: &'static str, register: impl FnOnce(&mut Routes)) {
        self.prefix = prefix;
        register(self);
    }

    /// A resource at `path` (relative to the current scope) whose unsupported methods get
    /// GitLab's JSON 405 with an `Allow` header naming the methods `routes` adds.
    pub fn resource(&mut self, path: &str, routes: impl FnOnce(ResourceRoutes) -> ResourceRoutes) {
        self.add(path, OtherMethods::NotAllowed, routes(ResourceRoutes::default()));
    }

    /// A GET-only resource without a 405 of its own: other methods fall through to the next
    /// matching resource (`/pipelines/latest` then reaches `/pipelines/{pipeline_id}`, as in GitLab).
    pub fn get_only<F, Args>(&mut self, path: &str, handler: F)
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(path, OtherMethods::FallThroughGet, ResourceRoutes::default().get(handler));
    }

    /// A resource that answers only GET and HEAD, without a 405 of its own: writes fall through
    /// to the next matching resource (GitLab's `files/*file_path/raw` lets a write to a file
    /// named `…/raw` reach the files resource).
    pub fn reads_only(&mut self, path: &str, routes: impl FnOnce(ResourceRoutes) -> ResourceRoutes) {
        self.add(path, OtherMethods::FallThroughReads, routes(ResourceRoutes::default()));
    }

    fn add(&mut self, path: &str, other: OtherMethods, routes: ResourceRoutes) {
        for method in &routes.methods {
            self.table.push((method.to_string(), format!("{}{path}", self.prefix)));
        }
        let pending = PendingResource { path: path.to_string(), other, routes };
        if self.prefix.is_empty() { self.root.push(pending) } else { self.api.push(pending) }
    }
}

/// What a resource does with a method it has no route for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OtherMethods {
    /// Answers GitLab's JSON 405 with an `Allow` header.
    NotAllowed,
    /// Leaves it to the next matching resource; the resource matches GET only.
    FallThroughGet,
    /// Leaves it to the next matching resource; the resource matches GET and HEAD only.
    FallThroughReads,
}

impl OtherMethods {
    /// An empty resource at `path` that matches the methods this kind lets it match.
    fn resource(self, path: &str) -> Resource {
        match self {
            OtherMethods::NotAllowed => web::resource(path),
            OtherMethods::FallThroughGet => web::resource(path).guard(guard::Get()),
            OtherMethods::FallThroughReads => {
                web::resource(path).guard(guard::Any(guard::Get()).or(guard::Head()))
            }
        }
    }
}

/// A registered resource, built into an actix [`Resource`] once its place in the tree is known.
struct PendingResource {
    path: String,
    other: OtherMethods,
    routes: ResourceRoutes,
}

impl RoutePath for PendingResource {
    fn path(&self) -> &str {
        &self.path
    }
}

impl PendingResource {
    /// The actix resource at `path` (this resource's path relative to the scope it lands in).
    fn into_resource(self, path: &str) -> Resource {
        let mut resource = self.other.resource(path);
        let allow = self.routes.methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
        for route in self.routes.routes {
            resource = resource.route(route);
        }
        if self.other != OtherMethods::NotAllowed {
            return resource;
        }
        resource.default_service(web::to(move || {
            let allow = allow.clone();
            async move {
                let mut resp = ApiError::MethodNotAllowed("405 Not Allowed".into()).error_response();
                if let Ok(value) = HeaderValue::from_str(&allow) {
                    resp.headers_mut().insert(header::ALLOW, value);
                }
                resp
            }
        }))
    }
}

/// The methods of one resource being registered (see [`Routes::resource`]).
#[derive(Default)]
pub struct ResourceRoutes {
    routes: Vec<Route>,
    methods: Vec<Method>,
}

impl ResourceRoutes {
    fn route(mut self, method: Method, route: Route) -> Self {
        self.methods.push(method);
        self.routes.push(route);
        self
    }

    pub fn get<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::GET, web::get().to(handler))
    }

    pub fn head<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::HEAD, web::head().to(handler))
    }

    pub fn post<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::POST, web::post().to(handler))
    }

    pub fn put<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::PUT, web::put().to(handler))
    }

    pub fn patch<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::PATCH, web::patch().to(handler))
    }

    pub fn delete<F, Args>(self, handler: F) -> Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.route(Method::DELETE, web::delete().to(handler))
    }
}

/// `404 {"error":"404 Not Found"}` for any path no route matches.
pub async fn no_route() -> Result<HttpResponse, ApiError> {
    Err(ApiError::NoRoute)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_route_table_puts_the_trigger_call_first_in_the_api_and_lists_no_route_twice() {
        let table = route_table();
        assert_eq!(table[0].0, "GET");
        assert_eq!(table[0].1, "/-/health");
        let first_api = table.iter().find(|(_, p)| p.starts_with(API_PREFIX)).unwrap();
        assert_eq!(first_api, &("POST".to_string(), "/api/v4/projects/{id}/trigger/pipeline".to_string()));
        let mut unique = table.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), table.len());
        assert!(table.contains(&("GET".into(), "/api/v4/openapi.json".into())));
        assert!(table.contains(&("GET".into(), "/api/v4/projects/{id}/pipelines/latest".into())));
    }
}
