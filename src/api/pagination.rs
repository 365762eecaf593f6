//! GitLab's offset pagination: `page` / `per_page` in, `X-*` headers and an absolute `Link` out.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use super::params::Params;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Default and largest page sizes (Kaminari's in GitLab).
pub const DEFAULT_PER_PAGE: i64 = 20;
pub const MAX_PER_PAGE: i64 = 100;

/// A requested page.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub page: i64,
    pub per_page: i64,
}

impl Page {
    /// Reads `page` (default 1) and `per_page` (default 20, clamped to 100). Values below 1 are
    /// `{"error":"page does not have a valid value"}`; non-numbers are `page is invalid`.
    pub fn from_params(p: &Params) -> ApiResult<Page> {
        let page = p.int("page")?.unwrap_or(1);
        let per_page = p.int("per_page")?.unwrap_or(DEFAULT_PER_PAGE);
        if page < 1 {
            return Err(ApiError::not_valid_value("page"));
        }
        if per_page < 1 {
            return Err(ApiError::not_valid_value("per_page"));
        }
        Ok(Page { page, per_page: per_page.min(MAX_PER_PAGE) })
    }

    /// SQL `LIMIT`.
    pub fn limit(&self) -> i64 {
        self.per_page
    }

    /// SQL `OFFSET` (saturating: an absurd page number just gives an empty page).
    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// Rejects `pagination=keyset`, as GitLab does for resources without keyset support.
    pub fn refuse_keyset(p: &Params) -> ApiResult<()> {
        if p.string("pagination")?.as_deref() == Some("keyset") {
            return Err(ApiError::MethodNotAllowed(
                "Keyset pagination is not yet available for this type of request".into(),
            ));
        }
        Ok(())
    }
}

/// The externally visible base URL (no trailing slash): `server.external_url` when configured,
/// else the scheme and host the client used (`Host`, or a proxy's `Forwarded` / `X-Forwarded-*`),
/// else (a request naming no host) the bound address. python-gitlab warns on every page whose `Link`
/// base differs from the URL it was given, e.g. `http://localhost:8080` against a server bound to
/// `127.0.0.1:8080`, so the client's own host must win over the bound address.
pub fn base_url(req: &HttpRequest, state: &AppState) -> String {
    if let Some(url) = &state.external_url {
        return url.clone();
    }
    let headers = req.headers();
    let named = headers.contains_key("host")
        || headers.contains_key("x-forwarded-host")
        || req.uri().authority().is_some();
    let info = req.connection_info();
    if named && plausible_host(info.host()) {
        format!("{}://{}", info.scheme(), info.host())
    } else {
        state.bound_url.clone()
    }
}

/// A host (and optional port) as a client may name it: a DNS name, IPv4 or bracketed IPv6
/// address. Anything else (a `Host` header with `/`, `<`, spaces …) falls back to the bound address.
fn plausible_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 261
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':' | b'[' | b']'))
}

/// A 200 response with the items as a JSON array and every pagination header GitLab sends.
pub fn respond<T: Serialize>(
    req: &HttpRequest,
    state: &AppState,
    page: Page,
    total: i64,
    items: &[T],
) -> HttpResponse {
    let total_pages = ((total + page.per_page - 1) / page.per_page).max(1);
    let next = page.page.checked_add(1).filter(|_| page.page < total_pages);
    let prev = (page.page > 1).then(|| (page.page - 1).min(total_pages));
    let link_to = |n: i64| page_url(req, state, n, page.per_page);
    let mut links = Vec::new();
    if let Some(p) = prev {
        links.push(format!("<{}>; rel=\"prev\"", link_to(p)));
    }
    if let Some(n) = next {
        links.push(format!("<{}>; rel=\"next\"", link_to(n)));
    }
    links.push(format!("<{}>; rel=\"first\"", link_to(1)));
    links.push(format!("<{}>; rel=\"last\"", link_to(total_pages)));
    let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    HttpResponse::build(StatusCode::OK)
        .insert_header(("X-Page", page.page.to_string()))
        .insert_header(("X-Per-Page", page.per_page.to_string()))
        .insert_header(("X-Total", total.to_string()))
        .insert_header(("X-Total-Pages", total_pages.to_string()))
        .insert_header(("X-Next-Page", opt(next)))
        .insert_header(("X-Prev-Page", opt(prev)))
        .insert_header(("Link", links.join(", ")))
        .json(items)
}

/// The request's URL on the external base, its query kept but `page` / `per_page` replaced.
fn page_url(req: &HttpRequest, state: &AppState, page: i64, per_page: i64) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if k != "page" && k != "per_page" {
            query.append_pair(&k, &v);
        }
    }
    query.append_pair("page", &page.to_string());
    query.append_pair("per_page", &per_page.to_string());
    format!("{}{}?{}", base_url(req, state), req.uri().path(), query.finish())
}
