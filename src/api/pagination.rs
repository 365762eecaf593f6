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

    /// SQL `OFFSET` (saturating: an absurd page number such as `i64::MAX` just gives an empty
    /// page, never an overflow).
    pub fn offset(&self) -> i64 {
        self.page.saturating_sub(1).max(0).saturating_mul(self.per_page.max(0))
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
    let more = page.offset().saturating_add(page.per_page) < total;
    respond_bounded(req, state, page, Some(total), more, items)
}

/// [`respond`] for a list whose count is bounded: with `total` unknown (`None`, more rows than
/// GitLab's count limit) `X-Total`, `X-Total-Pages` and the `last` link are left out, as GitLab
/// does, and `more` (rows follow this page) gives the next page.
pub fn respond_bounded<T: Serialize>(
    req: &HttpRequest,
    state: &AppState,
    page: Page,
    total: Option<i64>,
    more: bool,
    items: &[T],
) -> HttpResponse {
    // Checked arithmetic: `page` may be anything up to `i64::MAX` (an empty page past the end).
    let per_page = page.per_page.max(1);
    let total_pages = total.map(|t| (t.max(0) / per_page + i64::from(t.max(0) % per_page != 0)).max(1));
    let next = page.page.checked_add(1).filter(|_| match total_pages {
        Some(pages) => page.page < pages,
        None => more,
    });
    let prev = page.page.checked_sub(1).filter(|p| *p >= 1).map(|p| total_pages.map_or(p, |t| p.min(t)));
    let link_to = |n: i64| page_url(req, state, n, page.per_page);
    let mut links = Vec::new();
    if let Some(p) = prev {
        links.push(format!("<{}>; rel=\"prev\"", link_to(p)));
    }
    if let Some(n) = next {
        links.push(format!("<{}>; rel=\"next\"", link_to(n)));
    }
    links.push(format!("<{}>; rel=\"first\"", link_to(1)));
    if let Some(last) = total_pages {
        links.push(format!("<{}>; rel=\"last\"", link_to(last)));
    }
    let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let mut res = HttpResponse::build(StatusCode::OK);
    res.insert_header(("X-Page", page.page.to_string()))
        .insert_header(("X-Per-Page", page.per_page.to_string()))
        .insert_header(("X-Next-Page", opt(next)))
        .insert_header(("X-Prev-Page", opt(prev)));
    if let (Some(total), Some(pages)) = (total, total_pages) {
        res.insert_header(("X-Total", total.to_string())).insert_header(("X-Total-Pages", pages.to_string()));
    }
    res.insert_header(("Link", links.join(", "))).json(items)
}

/// Query parameters that carry a credential: never copied into a response (a `Link` header is
/// logged by proxies, cached, and shown by clients). Compared case-insensitively.
pub const CREDENTIAL_PARAMS: &[&str] = &["private_token", "access_token", "job_token", "token"];

/// True for a query key that carries a credential (see [`CREDENTIAL_PARAMS`]).
pub fn is_credential_param(key: &str) -> bool {
    CREDENTIAL_PARAMS.iter().any(|c| c.eq_ignore_ascii_case(key))
}

/// The request's URL on the external base, its query kept but `page` / `per_page` replaced and
/// every credential ([`CREDENTIAL_PARAMS`]) dropped.
fn page_url(req: &HttpRequest, state: &AppState, page: i64, per_page: i64) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if k != "page" && k != "per_page" && !is_credential_param(&k) {
            query.append_pair(&k, &v);
        }
    }
    query.append_pair("page", &page.to_string());
    query.append_pair("per_page", &per_page.to_string());
    format!("{}{}?{}", base_url(req, state), req.uri().path(), query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absurd_page_number_saturates_instead_of_overflowing() {
        assert_eq!(Page { page: i64::MAX, per_page: 100 }.offset(), i64::MAX);
        assert_eq!(Page { page: 1, per_page: 100 }.offset(), 0);
        assert_eq!(Page { page: 3, per_page: 20 }.offset(), 40);
    }

    #[test]
    fn credential_keys_are_recognised_in_any_case() {
        for key in ["private_token", "PRIVATE_TOKEN", "access_token", "job_token", "token"] {
            assert!(is_credential_param(key), "{key}");
        }
        for key in ["search", "tokens", "page", "token_name"] {
            assert!(!is_credential_param(key), "{key}");
        }
    }
}
