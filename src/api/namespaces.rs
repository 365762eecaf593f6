//! GitLab's Namespaces API: `GET /namespaces` (search, owned_only), `GET /namespaces/:id` (id or
//! full path) and `GET /namespaces/:id/exists`, for user namespaces and groups. Owns the
//! namespace JSON and namespace web URLs.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::pagination::{self, Page};
use super::params::Params;
use crate::auth::Caller;
use crate::db::namespaces::{self, ListFilter, NamespaceRow};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/namespaces", |m| m.get(list));
    r.resource("/namespaces/{id}/exists", |m| m.get(exists));
    r.resource("/namespaces/{id}", |m| m.get(show));
}

/// A namespace's page: `/<username>` for users, `/groups/<full path>` for groups, as GitLab.
pub fn web_url(base: &str, kind: &str, full_path: &str) -> String {
    if kind == "group" { format!("{base}/groups/{full_path}") } else { format!("{base}/{full_path}") }
}

/// GitLab's `Namespace` entity; `members_count_with_descendants` for groups only.
pub fn namespace_json(n: &NamespaceRow, base: &str, members_count: Option<i64>) -> Value {
    json!({
        "id": n.id,
        "name": n.name,
        "path": n.path,
        "kind": n.kind,
        "full_path": n.full_path,
        "parent_id": n.parent_id,
        "avatar_url": null,
        "web_url": web_url(base, &n.kind, &n.full_path),
        "members_count_with_descendants": members_count,
        "billable_members_count": members_count,
        "plan": "default",
        "trial_ends_on": null,
        "trial": false,
    })
}

/// Finds a namespace by id (`/^\d+$/`) or full path.
pub fn find_ref(c: &rusqlite::Connection, id: &str) -> rusqlite::Result<Option<NamespaceRow>> {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        return match id.parse::<i64>() {
            Ok(n) => namespaces::find(c, n),
            Err(_) => Ok(None),
        };
    }
    namespaces::find_by_full_path(c, id)
}

/// True when the caller may see the namespace: their own, any group they can see (admins: all).
fn visible(c: &rusqlite::Connection, caller: &Caller, n: &NamespaceRow) -> rusqlite::Result<bool> {
    if caller.is_admin() || n.owner_id == Some(caller.user.id) {
        return Ok(true);
    }
    if !n.is_group() {
        return Ok(false);
    }
    Ok(n.visibility != "private" || crate::db::access::group_level(c, n.id, caller.user.id)?.is_some())
}

/// `GET /namespaces` — the caller's own namespace and the groups they belong to (admins: all),
/// by full name; `search` on name or path, `owned_only` for their namespace and owned groups.
async fn list(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let page = Page::from_params(&params)?;
    let search = params.string("search")?.filter(|s| !s.is_empty());
    let owned = params.bool("owned_only")?.unwrap_or(false);
    let top_level_only = params.bool("top_level_only")?.unwrap_or(false);
    let admin = caller.is_admin();
    let filter = ListFilter {
        caller: Some(caller.user.id),
        admin,
        membership: !admin,
        owned,
        top_level_only,
        search,
        ..ListFilter::default()
    };
    let (rows, counts, total) = state
        .db
        .read(move |c| {
            let (rows, total) = namespaces::list(c, &filter, page.limit(), page.offset())?;
            let counts = rows
                .iter()
                .map(|n| {
                    if n.is_group() {
                        namespaces::members_count_with_descendants(c, n.id).map(Some)
                    } else {
                        Ok(None)
                    }
                })
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((rows, counts, total))
        })
        .await?;
    let base = pagination::base_url(&req, &state);
    let items: Vec<Value> =
        rows.iter().zip(counts).map(|(n, count)| namespace_json(n, &base, count)).collect();
    Ok(pagination::respond(&req, &state, page, total, &items))
}

/// `GET /namespaces/:id` — one namespace by id or full path (`404 Namespace Not Found` when it
/// does not exist or the caller may not see it).
async fn show(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = path.into_inner();
    let (n, count) = state
        .db
        .read(move |c| {
            let Some(n) = find_ref(c, &id)? else { return Ok(None) };
            if !visible(c, &caller, &n)? {
                return Ok(None);
            }
            let count =
                if n.is_group() { Some(namespaces::members_count_with_descendants(c, n.id)?) } else { None };
            Ok(Some((n, count)))
        })
        .await?
        .ok_or(ApiError::NotFound("Namespace"))?;
    Ok(HttpResponse::Ok().json(namespace_json(&n, &pagination::base_url(&req, &state), count)))
}

/// `GET /namespaces/:id/exists` — whether the path `:id` is taken at the top level or, with
/// `parent_id`, under that group; `suggests` holds free alternatives (`path1`, `path2`, …).
async fn exists(
    _caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let wanted = path.into_inner();
    let parent_id = params.int("parent_id")?;
    let out = state
        .db
        .read(move |c| {
            let prefix = match parent_id {
                Some(p) => match namespaces::find(c, p)?.filter(NamespaceRow::is_group) {
                    Some(parent) => format!("{}/", parent.full_path),
                    None => return Ok(json!({"exists": false, "suggests": []})),
                },
                None => String::new(),
            };
            let taken = namespaces::full_path_taken(c, &format!("{prefix}{wanted}"))?;
            let mut suggests = Vec::new();
            if taken {
                for n in 1..100 {
                    let candidate = format!("{wanted}{n}");
                    if !namespaces::full_path_taken(c, &format!("{prefix}{candidate}"))? {
                        suggests.push(candidate);
                        break;
                    }
                }
            }
            Ok(json!({"exists": taken, "suggests": suggests}))
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}
