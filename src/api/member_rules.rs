//! What the project and group Members APIs share: the `access_level`, `expires_at` and
//! `user_id`/`username` parameters of `POST`/`PUT …/members`, the 409 of a second membership, and
//! the paginated Member list response. Each API keeps its own rights (Maintainer for projects,
//! Owner for groups) and its own last-Owner rule.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::Value;

use super::members::member_json;
use super::pagination::{self, Page};
use super::params::Params;
use crate::db::members::MemberRow;
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccessLevel};
use crate::state::AppState;

/// The required `access_level`: one of 10, 20, 30, 40, 50.
pub fn access_level(params: &Params) -> ApiResult<i64> {
    optional_access_level(params, "access_level")?.ok_or_else(|| ApiError::missing("access_level"))
}

/// An optional access level parameter (`access_level`, the lists' `min_access_level`): one of
/// 10, 20, 30, 40, 50 when given.
pub fn optional_access_level(params: &Params, name: &'static str) -> ApiResult<Option<i64>> {
    match params.int(name)? {
        Some(n) => {
            AccessLevel::from_i64(n).map(|l| Some(l as i64)).ok_or_else(|| ApiError::not_valid_value(name))
        }
        None => Ok(None),
    }
}

/// `expires_at` is accepted (and ignored) when it is a date or date-time.
pub fn check_expires_at(params: &Params) -> ApiResult<()> {
    match params.string("expires_at")? {
        Some(s) if !s.trim().is_empty() && model::parse_datetime(&s).is_none() => {
            Err(ApiError::invalid("expires_at"))
        }
        _ => Ok(()),
    }
}

/// The user `POST …/members` adds: exactly one of `user_id` and `username`, one user (GitLab's
/// comma-separated bulk form is refused). An unparsable `user_id` names nobody (404 User).
#[derive(Debug, Clone)]
pub struct Who {
    pub id: Option<i64>,
    pub username: Option<String>,
}

impl Who {
    pub fn from_params(params: &Params) -> ApiResult<Who> {
        let (id, username) = match (params.string("user_id")?, params.string("username")?) {
            (Some(_), Some(_)) => {
                return Err(ApiError::Param("user_id, username are mutually exclusive".into()));
            }
            (None, None) => {
                return Err(ApiError::Param(
                    "user_id, username are missing, at least one parameter must be provided".into(),
                ));
            }
            (id, username) => (id, username),
        };
        if id.as_deref().is_some_and(|s| s.contains(','))
            || username.as_deref().is_some_and(|s| s.contains(','))
        {
            return Err(ApiError::BadRequest(
                "adding several members in one request is not supported".into(),
            ));
        }
        Ok(Who {
            id: id.and_then(|raw| raw.trim().parse::<i64>().ok()),
            username: username.map(|name| name.trim().to_string()),
        })
    }
}

pub const ALREADY_EXISTS: &str = "Member already exists";

/// `409 {"message":"Member already exists"}`.
pub fn already_exists() -> ApiError {
    ApiError::message(StatusCode::CONFLICT, ALREADY_EXISTS)
}

/// A page of members as GitLab's Member JSON, with the pagination headers.
pub fn respond_page(
    req: &HttpRequest,
    state: &AppState,
    page: Page,
    total: i64,
    rows: &[MemberRow],
) -> HttpResponse {
    let base = pagination::base_url(req, state);
    let items: Vec<Value> = rows.iter().map(|m| member_json(m, &base)).collect();
    pagination::respond(req, state, page, total, &items)
}
