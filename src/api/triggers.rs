//! Pipeline trigger token management: `GET|POST /projects/:id/triggers` and
//! `GET|PUT|DELETE /projects/:id/triggers/:trigger_id` (GitLab's `lib/api/ci/triggers.rb`).
//!
//! Tokens are hashed at rest: the full `glptt-…` token is generated here, returned once in the
//! 201 of the create, and from then on only its 4-character short form is ever shown.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::json;

use super::access::{self, ProjectAccess};
use super::entities::UserBasic;
use super::limits;
use super::pagination::{self, Page};
use super::params::Params;
use super::project_role::{maintained_project, request_maintained_project_then};
use super::trigger_call::is_expired;
use super::trigger_lifetime;
use super::trigger_policy::PolicyPatch;
use crate::auth::{self, Caller};
use crate::config::TriggersConfig;
use crate::db::ReadSize;
use crate::db::triggers::{self as store, NewTrigger, Rotation, TriggerRow};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccessLevel};
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/projects/{id}/triggers", |m| m.get(list).post(create));
    r.resource("/projects/{id}/triggers/{trigger_id}", |m| m.get(show).put(update).delete(delete));
    r.resource("/projects/{id}/triggers/{trigger_id}/rotate", |m| m.post(rotate));
}

/// The grace period of a rotation when none is given: 24 hours.
const DEFAULT_GRACE_SECS: i64 = 24 * 60 * 60;
/// The longest grace period: 30 days.
const MAX_GRACE_SECS: i64 = 30 * 24 * 60 * 60;

/// GitLab's `Trigger` entity, fields in GitLab's order.
#[derive(Debug, Serialize)]
struct TriggerJson {
    id: i64,
    token: String,
    description: Option<String>,
    created_at: String,
    updated_at: String,
    last_used: Option<String>,
    expires_at: Option<String>,
    owner: UserBasic,
    // triggerd's extensions (issue 14), after GitLab's fields: the token's policy.
    allowed_refs: Vec<String>,
    allowed_variables: Vec<String>,
    required_variables: Vec<String>,
    max_variable_value_bytes: Option<i64>,
    /// Secrets replaced by a rotation that still work, as short tokens with their expiry.
    previous_tokens: Vec<PreviousToken>,
    /// The client address of the newest accepted call (audit log).
    last_used_ip: Option<String>,
    /// GitLab's `expires_soon?`: `expires_at` is within 7 days (or past).
    expires_soon: bool,
}

#[derive(Debug, Serialize)]
struct PreviousToken {
    token: String,
    expires_at: String,
}

impl TriggerJson {
    /// The entity with the short token (every read after creation, by anyone).
    fn new(t: TriggerRow, base_url: &str) -> Self {
        let token = t.short_token.clone();
        Self::with_token(t, token, base_url)
    }

    fn with_token(t: TriggerRow, token: String, base_url: &str) -> Self {
        TriggerJson {
            id: t.id,
            token,
            owner: UserBasic::new(&t.owner, base_url),
            description: t.description,
            created_at: t.created_at,
            updated_at: t.updated_at,
            last_used: t.last_used,
            last_used_ip: t.last_used_ip,
            expires_soon: trigger_lifetime::expires_soon(
                t.expires_at.as_deref(),
                time::OffsetDateTime::now_utc(),
            ),
            expires_at: t.expires_at,
            allowed_refs: t.policy.allowed_refs,
            allowed_variables: t.policy.allowed_variables,
            required_variables: t.policy.required_variables,
            max_variable_value_bytes: t.policy.max_variable_value_bytes,
            // Most triggers have no previous secret: no clock read and no formatting for them.
            previous_tokens: if t.previous.is_empty() {
                Vec::new()
            } else {
                let now = model::now();
                t.previous
                    .into_iter()
                    .filter(|p| !is_expired(Some(&p.expires_at), &now))
                    .map(|p| PreviousToken { token: p.short_token, expires_at: p.expires_at })
                    .collect()
            },
        }
    }
}

/// Loads a trigger of the project: `404 Not found` (GitLab's RecordNotFound) when it is missing
/// or belongs to another project.
pub(crate) async fn find_trigger(
    state: &AppState,
    project_id: i64,
    trigger_id: i64,
) -> ApiResult<TriggerRow> {
    state.db.read(move |c| Ok(store::find(c, project_id, trigger_id)?)).await?.ok_or(ApiError::RecordNotFound)
}

/// `GET /projects/:id/triggers` — the project's triggers by id, paginated (Maintainer+).
async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    // The parameters are checked after the project and the role, as before the one-hop read.
    let page = Page::refuse_keyset(&params).and_then(|()| Page::from_params(&params));
    // A deep page walks its offset: only the first pages are a short read (the count is of one
    // project's trigger tokens, a few dozen in practice).
    let size = match &page {
        Ok(p) if p.offset() > crate::db::SHORT_OFFSET => ReadSize::Long,
        _ => ReadSize::Short,
    };
    let (_pa, (page, (rows, total))) =
        request_maintained_project_then(&state, &req, &path, size, move |c, pa| {
            let page = page?;
            Ok((page, store::list(c, pa.project.id, page.limit(), page.offset())?))
        })
        .await?;
    let base = pagination::base_url(&req, &state);
    let items: Vec<TriggerJson> = rows.into_iter().map(|t| TriggerJson::new(t, &base)).collect();
    Ok(pagination::respond(&req, &state, page, total, &items))
}

/// `GET /projects/:id/triggers/:trigger_id` — one trigger (Maintainer+).
async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, raw_trigger_id) = path.into_inner();
    let trigger_id = access::path_id(&raw_trigger_id, "trigger_id");
    let (_pa, trigger) = request_maintained_project_then(&state, &req, &id, ReadSize::Short, move |c, pa| {
        store::find(c, pa.project.id, trigger_id?)?.ok_or(ApiError::RecordNotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(TriggerJson::new(trigger, &pagination::base_url(&req, &state))))
}

/// `POST /projects/:id/triggers` — creates a trigger owned by the caller (Maintainer+); the only
/// response that ever carries the full token.
async fn create(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let pa = maintained_project(&state, &caller, &path).await?;
    let description = params.required_string("description")?;
    let lifetimes = &state.config.triggers;
    let expires_at =
        expires_at_param(&params, lifetimes)?.or_else(|| trigger_lifetime::default_expires_at(lifetimes));
    limits::TRIGGER_DESCRIPTION.check("description", &description)?;
    let patch = PolicyPatch::from_params(&params, &state.config.limits)?;

    let token = auth::new_trigger_token()?;
    let token_digest = auth::digest(&token);
    let short_token = auth::short_token(&token);
    let project_id = pa.project.id;
    let owner_id = caller.user.id;
    let trigger = state
        .db
        .write(move |c| {
            if store::count(c, project_id)? >= store::MAX_PER_PROJECT {
                let errors = json!({"base": [format!(
                    "Maximum number of pipeline triggers ({}) exceeded",
                    store::MAX_PER_PROJECT
                )]});
                return Err(ApiError::BadRequest(errors.to_string()));
            }
            let new = NewTrigger {
                project_id,
                owner_id,
                description: &description,
                token_digest: &token_digest,
                short_token: &short_token,
                expires_at: expires_at.as_deref(),
            };
            let trigger = store::insert(c, &new, &model::now())?;
            if patch.is_empty() {
                return Ok(trigger);
            }
            store::set_policy(c, trigger.id, &patch.apply(&trigger.policy)?)?;
            store::find(c, project_id, trigger.id)?.ok_or(ApiError::RecordNotFound)
        })
        .await?;
    let base = pagination::base_url(&req, &state);
    Ok(HttpResponse::Created().json(TriggerJson::with_token(trigger, token, &base)))
}

/// Reads the optional `expires_at`: unparsable → `expires_at is invalid`; not before today +
/// `triggers.max_lifetime_days` (365 by default, as GitLab) → GitLab's validation error inside a
/// `400 Bad request - …` string. A past time is allowed (the trigger is created already
/// expired). Blank counts as absent.
fn expires_at_param(params: &Params, lifetimes: &TriggersConfig) -> ApiResult<Option<String>> {
    let Some(raw) = params.string("expires_at")?.filter(|s| !s.trim().is_empty()) else {
        return Ok(None);
    };
    // In UTC and within years 1–9999, or `None`: nothing below can overflow.
    let at = model::parse_datetime(&raw).ok_or_else(|| ApiError::invalid("expires_at"))?;
    let max = trigger_lifetime::max_date(lifetimes);
    if at >= max.midnight().assume_utc() {
        let errors = json!({"expires_at": [format!("must be before {}", model::format_date(max))]});
        return Err(ApiError::BadRequest(errors.to_string()));
    }
    Ok(Some(model::format_ts(at)))
}

/// A trigger the caller may change (update, rotate): its owner, still Maintainer+, or an admin
/// (GitLab's `admin_trigger`). GitLab finds the trigger before it checks the permission, so
/// members see 404 for another project's trigger and 403 for someone else's.
async fn owned_trigger(
    state: &AppState,
    caller: &Caller,
    (id, raw_trigger_id): (String, String),
    action: &str,
) -> ApiResult<(ProjectAccess, TriggerRow)> {
    let pa = access::project_for(state, Some(caller), &id).await?;
    let trigger_id = access::path_id(&raw_trigger_id, "trigger_id")?;
    let trigger = find_trigger(state, pa.project.id, trigger_id).await?;
    let may_admin = pa.admin || (trigger.owner.id == caller.user.id && pa.at_least(AccessLevel::Maintainer));
    if !may_admin {
        return Err(ApiError::Forbidden(Some(format!(
            "The current user is not authorized to {action} the pipeline trigger token"
        ))));
    }
    Ok((pa, trigger))
}

/// `PUT /projects/:id/triggers/:trigger_id` — changes the description and the policy fields
/// sent (`allowed_refs`, `allowed_variables`, `required_variables`, `max_variable_value_bytes`);
/// only the trigger's owner (who must still be Maintainer+) or an admin. Without any of them
/// nothing changes.
pub(crate) async fn update(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let (pa, trigger) = owned_trigger(&state, &caller, path.into_inner(), "update").await?;
    let trigger_id = trigger.id;
    let description = params.string("description")?;
    limits::TRIGGER_DESCRIPTION.check_opt("description", description.as_deref())?;
    let patch = PolicyPatch::from_params(&params, &state.config.limits)?;
    let trigger = if description.is_none() && patch.is_empty() {
        trigger
    } else {
        let project_id = pa.project.id;
        state
            .db
            .write(move |c| {
                let now = model::now();
                if let Some(description) = &description
                    && !store::update_description(c, project_id, trigger_id, description, &now)?
                {
                    return Err(ApiError::RecordNotFound);
                }
                let current = store::find(c, project_id, trigger_id)?.ok_or(ApiError::RecordNotFound)?;
                if patch.is_empty() {
                    return Ok(current);
                }
                let policy = patch.apply(&current.policy)?;
                if policy == current.policy {
                    return Ok(current);
                }
                store::set_policy(c, trigger_id, &policy)?;
                store::touch(c, trigger_id, &now)?;
                store::find(c, project_id, trigger_id)?.ok_or(ApiError::RecordNotFound)
            })
            .await?
    };
    Ok(HttpResponse::Ok().json(TriggerJson::new(trigger, &pagination::base_url(&req, &state))))
}

/// `DELETE /projects/:id/triggers/:trigger_id` — deletes any trigger of the project
/// (Maintainer+); honours `If-Unmodified-Since` (412).
async fn delete(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, raw_trigger_id) = path.into_inner();
    let pa = maintained_project(&state, &caller, &id).await?;
    let trigger_id = access::path_id(&raw_trigger_id, "trigger_id")?;
    let trigger = find_trigger(&state, pa.project.id, trigger_id).await?;
    access::check_unmodified_since(&req, &trigger.updated_at)?;
    // With the precondition, delete only the version that was checked: a change in between
    // makes the delete fail rather than remove what the client has not seen.
    let guarded = req.headers().contains_key("if-unmodified-since").then_some(trigger.updated_at);
    let project_id = pa.project.id;
    state
        .db
        .write(move |c| {
            if store::delete(c, project_id, trigger_id, guarded.as_deref())? {
                return Ok(());
            }
            match store::find(c, project_id, trigger_id)? {
                None => Err(ApiError::RecordNotFound),
                Some(_) => Err(ApiError::PreconditionFailed),
            }
        })
        .await?;
    Ok(HttpResponse::build(StatusCode::NO_CONTENT).finish())
}

/// `POST /projects/:id/triggers/:trigger_id/rotate` (triggerd) — gives the trigger a new secret,
/// shown in full in this 201 only; the current secret keeps working for `grace_period` (or its
/// synonym `expires_in`) seconds, default 24 hours, at most 30 days, 0 = stops at once. Who may:
/// as for the update (the owner, still Maintainer+, or an admin).
pub(crate) async fn rotate(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let (pa, trigger) = owned_trigger(&state, &caller, path.into_inner(), "rotate").await?;
    let trigger_id = trigger.id;
    let grace = grace_period_param(&params)?;
    let token = auth::new_trigger_token()?;
    let token_digest = auth::digest(&token);
    let short_token = auth::short_token(&token);
    let project_id = pa.project.id;
    let trigger = state
        .db
        .write(move |c| {
            let now_at = time::OffsetDateTime::now_utc();
            let now = model::format_ts(now_at);
            let old_expires_at =
                (grace > 0).then(|| model::format_ts(now_at.saturating_add(time::Duration::seconds(grace))));
            if old_expires_at.is_some()
                && store::live_previous_secrets(c, trigger_id, &now)? >= store::MAX_LIVE_PREVIOUS_SECRETS
            {
                return Err(ApiError::message(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "the trigger already has {} previous tokens in their grace period; rotate with grace_period=0 or wait",
                        store::MAX_LIVE_PREVIOUS_SECRETS
                    ),
                ));
            }
            let rotation =
                Rotation { token_digest: &token_digest, short_token: &short_token, old_expires_at: old_expires_at.as_deref() };
            if store::find(c, project_id, trigger_id)?.is_none() || !store::rotate(c, trigger_id, &rotation, &now)? {
                return Err(ApiError::RecordNotFound);
            }
            store::find(c, project_id, trigger_id)?.ok_or(ApiError::RecordNotFound)
        })
        .await?;
    let base = pagination::base_url(&req, &state);
    Ok(HttpResponse::Created().json(TriggerJson::with_token(trigger, token, &base)))
}

/// `grace_period` or `expires_in`: whole seconds, 0 to 30 days (default 24 hours); both sent
/// must agree.
fn grace_period_param(params: &Params) -> ApiResult<i64> {
    let read = |key: &str| -> ApiResult<Option<i64>> {
        match params.int(key)? {
            Some(n) if !(0..=MAX_GRACE_SECS).contains(&n) => Err(ApiError::message(
                StatusCode::BAD_REQUEST,
                format!("{key} must be between 0 and {MAX_GRACE_SECS} seconds"),
            )),
            other => Ok(other),
        }
    };
    match (read("grace_period")?, read("expires_in")?) {
        (Some(a), Some(b)) if a != b => Err(ApiError::message(
            StatusCode::BAD_REQUEST,
            "grace_period and expires_in are the same setting: send one",
        )),
        (Some(a), _) | (None, Some(a)) => Ok(a),
        (None, None) => Ok(DEFAULT_GRACE_SECS),
    }
}
