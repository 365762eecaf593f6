//! Paging of the large lists (`GET /projects/:id/pipelines`, `GET /projects/:id/jobs`): GitLab's
//! offset pagination with a bounded count, or its cursor-based keyset pagination
//! (`pagination=keyset`, `order_by=id`, `sort`, `cursor`).
//!
//! In keyset mode the response carries no count headers, only `Link: <…>; rel="next"` (and the
//! deprecated `Links` copy GitLab still sends) while rows follow. The cursor is GitLab's: URL-safe
//! base64 of a JSON object naming the last id of the page, e.g. `{"id":"42","_kd":"n"}`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::Value;

use super::pagination::{self, Page};
use super::params::Params;
use crate::base64::{base64_decode, base64_encode};
use crate::db::{ListPage, Window};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// GitLab's answer when keyset pagination is asked for an order it does not support.
const UNAVAILABLE: &str = "Keyset pagination is not yet available for this type of request";

/// A cursor longer than this is not one this server wrote.
const MAX_CURSOR_LEN: usize = 256;

/// How a large list is paged.
#[derive(Debug, Clone, Copy)]
pub enum Paging {
    /// `page` / `per_page`.
    Offset(Page),
    /// `pagination=keyset`: `per_page` rows after the cursor's id (none: the first page).
    Keyset { per_page: i64, after: Option<i64> },
}

/// Which keyset orders a list supports (GitLab answers 405 for any other).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeysetOrders {
    /// `order_by=id`, `sort=desc` only (GitLab's `Ci::Build`).
    IdDesc,
    /// `order_by=id` with either `sort`.
    IdEither,
}

impl Paging {
    /// Reads `pagination` (`offset` or `keyset`; anything else → 400), then `page` / `per_page`
    /// or `per_page` / `cursor`. `order_by` and `sort` must already be valid values; in keyset
    /// mode an order the list cannot page by is GitLab's 405.
    pub fn from_params(p: &Params, orders: KeysetOrders) -> ApiResult<Paging> {
        let page = Page::from_params(p)?;
        if p.one_of("pagination", &["offset", "keyset"])?.as_deref() != Some("keyset") {
            return Ok(Paging::Offset(page));
        }
        let order_by = p.string("order_by")?;
        let sort = p.string("sort")?;
        let order_ok = order_by.as_deref().is_none_or(|o| o == "id")
            && match orders {
                KeysetOrders::IdDesc => sort.as_deref().is_none_or(|s| s == "desc"),
                KeysetOrders::IdEither => true,
            };
        if !order_ok {
            return Err(ApiError::MethodNotAllowed(UNAVAILABLE.into()));
        }
        let after = match p.string("cursor")?.filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(decode_cursor(&c).ok_or_else(|| ApiError::invalid("cursor"))?),
        };
        Ok(Paging::Keyset { per_page: page.per_page, after })
    }

    /// Rows per page.
    pub fn limit(&self) -> i64 {
        match self {
            Paging::Offset(page) => page.limit(),
            Paging::Keyset { per_page, .. } => *per_page,
        }
    }

    /// Where the page starts, for the list query.
    pub fn window(&self) -> Window {
        match self {
            Paging::Offset(page) => Window::Offset(page.offset()),
            Paging::Keyset { after, .. } => Window::After(*after),
        }
    }

    /// The 200 response: the items and, by offset, GitLab's headers (without `X-Total`,
    /// `X-Total-Pages` and `rel="last"` past the count limit); by keyset, a `next` link to the
    /// rows after `last_id` (the id of the page's last row) when more follow.
    pub fn respond<R, T: Serialize>(
        &self,
        req: &HttpRequest,
        state: &AppState,
        page: &ListPage<R>,
        last_id: Option<i64>,
        items: &[T],
    ) -> HttpResponse {
        match self {
            Paging::Offset(p) => pagination::respond_bounded(req, state, *p, page.total, page.more, items),
            Paging::Keyset { .. } => {
                let mut res = HttpResponse::build(StatusCode::OK);
                if let (true, Some(id)) = (page.more, last_id) {
                    let link = format!("<{}>; rel=\"next\"", next_url(req, state, &encode_cursor(id)));
                    res.insert_header(("Link", link.clone())).insert_header(("Links", link));
                }
                res.json(items)
            }
        }
    }
}

/// GitLab's cursor for "the rows after this id": URL-safe base64 (padded) of `{"id":"<id>","_kd":"n"}`.
pub fn encode_cursor(id: i64) -> String {
    let json = format!(r#"{{"id":"{id}","_kd":"n"}}"#);
    base64_encode(json.as_bytes()).replace('+', "-").replace('/', "_")
}

/// The id a cursor names; `None` for anything that is not such a cursor (another shape, a
/// previous-page cursor, an id that is not a positive integer).
pub fn decode_cursor(cursor: &str) -> Option<i64> {
    if cursor.len() > MAX_CURSOR_LEN {
        return None;
    }
    let standard = cursor.replace('-', "+").replace('_', "/");
    let bytes = base64_decode(&standard)?;
    let Value::Object(map) = serde_json::from_slice::<Value>(&bytes).ok()? else { return None };
    if map.get("_kd").is_some_and(|k| k != "n") || map.keys().any(|k| k != "id" && k != "_kd") {
        return None;
    }
    let id = match map.get("id")? {
        Value::String(s) => s.parse::<i64>().ok()?,
        Value::Number(n) => n.as_i64()?,
        _ => return None,
    };
    (id > 0).then_some(id)
}

/// The request's URL with `cursor` replaced (and `page` and credentials dropped), every other
/// parameter (filters, `per_page`, `order_by`, `sort`, `pagination`) kept.
fn next_url(req: &HttpRequest, state: &AppState, cursor: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in form_urlencoded::parse(req.query_string().as_bytes()) {
        if k != "cursor" && k != "page" && !pagination::is_credential_param(&k) {
            query.append_pair(&k, &v);
        }
    }
    query.append_pair("cursor", cursor);
    format!("{}{}?{}", pagination::base_url(req, state), req.uri().path(), query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_its_id() {
        for id in [1, 42, 1_000_000, i64::MAX] {
            assert_eq!(decode_cursor(&encode_cursor(id)), Some(id), "{id}");
        }
    }

    #[test]
    fn a_cursor_is_gitlabs_json_in_url_safe_base64() {
        let c = encode_cursor(1046);
        let json = base64_decode(&c.replace('-', "+").replace('_', "/")).unwrap();
        assert_eq!(String::from_utf8(json).unwrap(), r#"{"id":"1046","_kd":"n"}"#);
    }

    #[test]
    fn malformed_cursors_are_refused() {
        let b64 = |s: &str| base64_encode(s.as_bytes());
        for bad in [
            "",
            "not base64!",
            &b64("[1]"),
            &b64(r#"{"id":"x"}"#),
            &b64(r#"{"id":"-3"}"#),
            &b64(r#"{"id":"0"}"#),
            &b64(r#"{"id":"5","_kd":"p"}"#),
            &b64(r#"{"id":"5","status":"x"}"#),
            &b64(r#"{"id":"99999999999999999999"}"#),
            &"A".repeat(1000),
        ] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
        assert_eq!(decode_cursor(&b64(r#"{"id":7}"#)), Some(7));
    }
}
