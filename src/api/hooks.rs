//! Project webhooks: `GET|POST /projects/:id/hooks` and `GET|PUT|DELETE
//! /projects/:id/hooks/:hook_id` (GitLab's `lib/api/project_hooks.rb`), Maintainer+. The test
//! call and the delivery log are in [`super::hook_events`]; delivery itself in `crate::hooks`.
//!
//! `token` and custom header values are write-only. A signing secret (Standard Webhooks) is
//! either given as `signing_token` (`whsec_<base64>`, as GitLab 19) or generated with
//! `generate_signing_token=true`, in which case the response shows it once as `signing_token`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::access::{self};
use super::hook_params::{OTHER_EVENTS, apply, custom_headers, merge_headers};
use super::pagination::{self, Page};
use super::params::Params;
use super::project_role::maintained_project;
use crate::auth::Caller;
use crate::db::hooks::{self as store, HookRow, HookSettings};
use crate::error::{ApiError, ApiResult};
use crate::model::{self};
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/projects/{id}/hooks", |m| m.get(list).post(create));
    r.resource("/projects/{id}/hooks/{hook_id}", |m| m.get(show).put(update).delete(delete));
    r.resource("/projects/{id}/hooks/{hook_id}/custom_headers/{key}", |m| {
        m.put(put_header).delete(delete_header)
    });
}

/// GitLab's `ProjectHook` entity; `full` adds `custom_headers` and `url_variables` (not in lists).
pub fn hook_json(h: &HookRow, full: bool) -> Value {
    let s = &h.settings;
    let events: Map<String, Value> = serde_json::from_str(&s.events).unwrap_or_default();
    let flag = |k: &str| events.get(k).and_then(Value::as_bool).unwrap_or(false);
    let now = model::now();
    let temporarily = h.disabled_until.as_deref().is_some_and(|u| u > now.as_str());
    let alert_status = if h.permanently_disabled {
        "disabled"
    } else if temporarily {
        "temporarily_disabled"
    } else {
        "executable"
    };
    let mut o = Map::new();
    o.insert("id".into(), json!(h.id));
    o.insert("url".into(), json!(s.url));
    o.insert("name".into(), json!(s.name));
    o.insert("description".into(), json!(s.description));
    o.insert("created_at".into(), json!(h.created_at));
    o.insert("push_events".into(), json!(s.push_events));
    o.insert("tag_push_events".into(), json!(flag("tag_push_events")));
    o.insert("merge_requests_events".into(), json!(flag("merge_requests_events")));
    o.insert("repository_update_events".into(), json!(flag("repository_update_events")));
    o.insert("enable_ssl_verification".into(), json!(s.enable_ssl_verification));
    o.insert("alert_status".into(), json!(alert_status));
    o.insert("disabled_until".into(), if temporarily { json!(h.disabled_until) } else { Value::Null });
    if full {
        o.insert("url_variables".into(), json!([]));
    }
    o.insert(
        "push_events_branch_filter".into(),
        events.get("push_events_branch_filter").cloned().unwrap_or(Value::Null),
    );
    o.insert(
        "branch_filter_strategy".into(),
        events.get("branch_filter_strategy").cloned().unwrap_or(json!("wildcard")),
    );
    o.insert("custom_webhook_template".into(), Value::Null);
    if full {
        let keys: Vec<Value> =
            custom_headers(&s.custom_headers).into_iter().map(|(k, _)| json!({"key": k})).collect();
        o.insert("custom_headers".into(), Value::Array(keys));
    }
    o.insert("project_id".into(), json!(h.project_id));
    for k in OTHER_EVENTS {
        if !o.contains_key(*k) {
            o.insert((*k).into(), json!(flag(k)));
        }
    }
    o.insert("pipeline_events".into(), json!(s.pipeline_events));
    o.insert("job_events".into(), json!(s.job_events));
    o.insert("token_present".into(), json!(s.token.is_some()));
    o.insert("signing_token_present".into(), json!(s.signing_secret.is_some()));
    Value::Object(o)
}

/// Loads a hook of the project: `404 Not found` when missing or another project's.
pub async fn find_hook(state: &AppState, project_id: i64, raw_id: &str) -> ApiResult<HookRow> {
    let id = access::path_id(raw_id, "hook_id")?;
    state.db.read(move |c| Ok(store::find(c, project_id, id)?)).await?.ok_or(ApiError::RecordNotFound)
}

/// `GET /projects/:id/hooks`
async fn list(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let pa = maintained_project(&state, &caller, &path).await?;
    let page = Page::from_params(&params)?;
    let project_id = pa.project.id;
    let (rows, total) =
        state.db.read(move |c| Ok(store::list(c, project_id, page.limit(), page.offset())?)).await?;
    let items: Vec<Value> = rows.iter().map(|h| hook_json(h, false)).collect();
    Ok(pagination::respond(&req, &state, page, total, &items))
}

/// `GET /projects/:id/hooks/:hook_id`
async fn show(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, hook_id) = path.into_inner();
    let pa = maintained_project(&state, &caller, &id).await?;
    let hook = find_hook(&state, pa.project.id, &hook_id).await?;
    Ok(HttpResponse::Ok().json(hook_json(&hook, true)))
}

/// `POST /projects/:id/hooks` — 201 with the hook (and a generated signing secret, once).
pub(crate) async fn create(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let pa = maintained_project(&state, &caller, &path).await?;
    params.required_string("url")?;
    let defaults = HookSettings {
        enable_ssl_verification: true,
        push_events: true,
        events: "{}".into(),
        custom_headers: "[]".into(),
        ..HookSettings::default()
    };
    let (settings, shown_secret) = apply(&params, defaults, &state)?;
    let project_id = pa.project.id;
    let hook = state
        .db
        .write(move |c| {
            if store::count(c, project_id)? >= store::MAX_PER_PROJECT {
                return Err(ApiError::Unprocessable(format!(
                    "Maximum number of project hooks ({}) exceeded",
                    store::MAX_PER_PROJECT
                )));
            }
            Ok(store::insert(c, project_id, &settings, &model::now())?)
        })
        .await?;
    Ok(HttpResponse::Created().json(with_secret(hook_json(&hook, true), shown_secret)))
}

/// `PUT /projects/:id/hooks/:hook_id` — any subset of the create parameters.
async fn update(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let (id, hook_id) = path.into_inner();
    let pa = maintained_project(&state, &caller, &id).await?;
    let hook = find_hook(&state, pa.project.id, &hook_id).await?;
    let known = |k: &str| {
        [
            "url",
            "name",
            "description",
            "token",
            "signing_token",
            "generate_signing_token",
            "enable_ssl_verification",
            "push_events",
            "pipeline_events",
            "job_events",
            "custom_headers",
            "push_events_branch_filter",
            "branch_filter_strategy",
        ]
        .contains(&k)
            || OTHER_EVENTS.contains(&k)
    };
    if !params.as_map().keys().any(|k| known(k)) {
        return Err(ApiError::Param("No parameters provided".into()));
    }
    let mut base = hook.settings.clone();
    if let Some(url) = params.string("url")?
        && url != base.url
    {
        // GitLab: a new URL without a new token drops the token, and the custom headers.
        base.token = None;
        base.custom_headers = "[]".into();
    }
    let (settings, shown_secret) = apply(&params, base, &state)?;
    let (project_id, hid) = (pa.project.id, hook.id);
    let updated = state
        .db
        .write(move |c| {
            store::update(c, hid, &settings)?;
            store::find(c, project_id, hid)?.ok_or(ApiError::RecordNotFound)
        })
        .await?;
    Ok(HttpResponse::Ok().json(with_secret(hook_json(&updated, true), shown_secret)))
}

/// `DELETE /projects/:id/hooks/:hook_id` — 204; its queued deliveries and log go with it.
pub(crate) async fn delete(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, hook_id) = path.into_inner();
    let pa = maintained_project(&state, &caller, &id).await?;
    let hook = find_hook(&state, pa.project.id, &hook_id).await?;
    let (project_id, hid) = (pa.project.id, hook.id);
    let gone = state.db.write(move |c| Ok(store::delete(c, project_id, hid)?)).await?;
    if !gone {
        return Err(ApiError::RecordNotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}

fn with_secret(mut v: Value, secret: Option<String>) -> Value {
    if let (Some(s), Some(o)) = (secret, v.as_object_mut()) {
        o.insert("signing_token".into(), Value::String(s));
    }
    v
}

/// `PUT /projects/:id/hooks/:hook_id/custom_headers/:key` — sets one custom header (`value`);
/// 204, or 422 `Illegal key or value`.
async fn put_header(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let (id, hook_id, key) = path.into_inner();
    let pa = maintained_project(&state, &caller, &id).await?;
    let hook = find_hook(&state, pa.project.id, &hook_id).await?;
    let value = params.required_string("value")?;
    let merged = merge_headers(&hook.settings.custom_headers, &json!([{"key": key, "value": value}]))
        .map_err(|e| match e {
            ApiError::Unprocessable(_) => ApiError::Unprocessable("Illegal key or value".into()),
            other => other,
        })?;
    let mut settings = hook.settings.clone();
    settings.custom_headers = merged;
    let hid = hook.id;
    state.db.write(move |c| Ok(store::update(c, hid, &settings)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /projects/:id/hooks/:hook_id/custom_headers/:key` — 204, or `404 Custom header Not Found`.
async fn delete_header(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, hook_id, key) = path.into_inner();
    let pa = maintained_project(&state, &caller, &id).await?;
    let hook = find_hook(&state, pa.project.id, &hook_id).await?;
    let mut headers = custom_headers(&hook.settings.custom_headers);
    let before = headers.len();
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(&key));
    if headers.len() == before {
        return Err(ApiError::NotFound("Custom header"));
    }
    let mut settings = hook.settings.clone();
    settings.custom_headers =
        Value::Array(headers.into_iter().map(|(k, v)| json!({"key": k, "value": v})).collect()).to_string();
    let hid = hook.id;
    state.db.write(move |c| Ok(store::update(c, hid, &settings)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}
