//! GitLab's Pipelines API: the `Pipeline` JSON entities, create (`POST /projects/:id/pipeline`,
//! from the CI configuration like the trigger call, see `ci_pipeline.rs`), list (with GitLab's
//! filters), get, latest, variables, cancel and retry (which act on the pipeline's jobs) and
//! delete. The trigger call itself lives in `trigger_call.rs`.
//!
//! Reads: anyone who can see a public or internal project; Reporter+ on a private one.
//! Create, cancel and retry: Developer+. Delete: Owner (or admin). Variables: Maintainer+, or the
//! pipeline's own user when at least Developer. As in GitLab, a missing pipeline (404) is
//! reported before a missing role (403).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::Value;

use super::access::{self, ProjectAccess};
use super::ci_pipeline;
use super::entities::UserBasic;
use super::keyset::{KeysetOrders, Paging};
use super::pagination;
use super::params::Params;
use crate::auth::{Caller, MaybeCaller};
use crate::config::LimitsConfig;
use crate::db::ReadSize;
use crate::db::pipelines::{self as store, ListFilter, OrderBy, PipelineRow, Scope};
use crate::db::projects::ProjectRow;
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccessLevel, Visibility};
use crate::state::AppState;

/// GitLab's pipeline statuses (the `status` filter's values).
pub const STATUSES: &[&str] = &[
    "created",
    "waiting_for_resource",
    "preparing",
    "waiting_for_callback",
    "pending",
    "running",
    "success",
    "failed",
    "canceling",
    "canceled",
    "skipped",
    "manual",
    "scheduled",
];

/// GitLab's pipeline sources (the `source` filter's values).
pub const SOURCES: &[&str] = &[
    "unknown",
    "push",
    "web",
    "trigger",
    "schedule",
    "api",
    "external",
    "pipeline",
    "chat",
    "webide",
    "merge_request_event",
    "external_pull_request_event",
    "parent_pipeline",
    "ondemand_dast_scan",
    "ondemand_dast_validation",
    "security_orchestration_policy",
    "container_registry_push",
    "duo_workflow",
    "pipeline_execution_policy_schedule",
];

pub fn configure(r: &mut super::Routes) {
    r.resource("/projects/{id}/pipeline", |m| m.post(create));
    r.resource("/projects/{id}/pipelines", |m| m.get(list));
    // Only GET matches `latest`; other methods fall through to `{pipeline_id}` (400) as in GitLab.
    r.get_only("/projects/{id}/pipelines/latest", latest);
    r.resource("/projects/{id}/pipelines/{pipeline_id}", |m| m.get(get).delete(delete));
    r.resource("/projects/{id}/pipelines/{pipeline_id}/variables", |m| m.get(variables));
    r.resource("/projects/{id}/pipelines/{pipeline_id}/cancel", |m| m.post(cancel));
    r.resource("/projects/{id}/pipelines/{pipeline_id}/retry", |m| m.post(retry));
}

/// GitLab's `DetailedStatusEntity` for a pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct DetailedStatus {
    pub icon: String,
    pub text: String,
    pub label: String,
    pub group: String,
    pub tooltip: String,
    pub has_details: bool,
    pub details_path: String,
    pub illustration: Option<Value>,
    pub favicon: String,
}

impl DetailedStatus {
    /// The presentation GitLab's `Gitlab::Ci::Status::*` classes give each pipeline status.
    pub fn new(status: &str, details_path: String) -> Self {
        let (icon, text, label, group) = match status {
            "created" => ("status_created", "created", "created", "created"),
            "waiting_for_resource" => {
                ("status_pending", "waiting", "waiting for resource", "waiting-for-resource")
            }
            "preparing" => ("status_preparing", "preparing", "preparing", "preparing"),
            "waiting_for_callback" => {
                ("status_pending", "waiting", "waiting for callback", "waiting-for-callback")
            }
            "pending" => ("status_pending", "pending", "pending", "pending"),
            "running" => ("status_running", "running", "running", "running"),
            "success" => ("status_success", "passed", "passed", "success"),
            "failed" => ("status_failed", "failed", "failed", "failed"),
            "canceling" => ("status_canceled", "canceling", "canceling", "canceling"),
            "canceled" => ("status_canceled", "canceled", "canceled", "canceled"),
            "skipped" => ("status_skipped", "skipped", "skipped", "skipped"),
            "manual" => ("status_manual", "blocked", "waiting for manual action", "manual"),
            "scheduled" => ("status_scheduled", "scheduled", "scheduled", "scheduled"),
            other => {
                return DetailedStatus {
                    icon: format!("status_{other}"),
                    text: other.to_string(),
                    label: other.to_string(),
                    group: other.to_string(),
                    tooltip: other.to_string(),
                    has_details: true,
                    details_path,
                    illustration: None,
                    favicon: format!("/assets/ci_favicons/favicon_status_{other}.png"),
                };
            }
        };
        DetailedStatus {
            icon: icon.to_string(),
            text: text.to_string(),
            label: label.to_string(),
            group: group.to_string(),
            tooltip: label.to_string(),
            has_details: true,
            details_path,
            illustration: None,
            favicon: format!("/assets/ci_favicons/favicon_{icon}.png"),
        }
    }
}

/// GitLab's `Pipeline` entity (with `archived` and `PipelineWithMetadata`'s `name`): the answer
/// of the trigger call, get, latest, cancel and retry. Every key is always present.
#[derive(Debug, Clone, Serialize)]
pub struct Pipeline {
    pub id: i64,
    pub iid: i64,
    pub project_id: i64,
    pub sha: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub status: String,
    pub source: String,
    pub created_at: String,
    pub updated_at: String,
    pub web_url: String,
    pub before_sha: String,
    pub tag: bool,
    pub yaml_errors: Option<String>,
    pub user: Option<UserBasic>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub committed_at: Option<String>,
    pub duration: Option<i64>,
    pub queued_duration: Option<i64>,
    pub coverage: Option<String>,
    pub detailed_status: DetailedStatus,
    pub archived: bool,
    pub name: Option<String>,
    /// Our additive `upstream_pipeline` / `downstream_pipelines` (only where loaded).
    #[serde(flatten)]
    pub links: Option<super::pipeline_links::PipelineLinks>,
}

/// `/<namespace>/<path>/-/pipelines/<id>`.
fn pipeline_path(project: &ProjectRow, id: i64) -> String {
    format!("/{}/-/pipelines/{id}", project.path_with_namespace())
}

impl Pipeline {
    pub fn new(row: &PipelineRow, project: &ProjectRow, base_url: &str) -> Self {
        let path = pipeline_path(project, row.id);
        Pipeline {
            id: row.id,
            iid: row.iid,
            project_id: row.project_id,
            sha: row.sha.clone(),
            ref_name: row.ref_name.clone(),
            status: row.status.clone(),
            source: row.source.clone(),
            created_at: row.created_at.clone(),
            updated_at: row.updated_at.clone(),
            web_url: format!("{base_url}{path}"),
            before_sha: row.before_sha.clone(),
            tag: row.tag,
            yaml_errors: row.yaml_errors.clone(),
            user: row.user.as_ref().map(|u| UserBasic::new(u, base_url)),
            started_at: row.started_at.clone(),
            finished_at: row.finished_at.clone(),
            committed_at: row.committed_at.clone(),
            duration: row.duration,
            queued_duration: row.queued_duration,
            coverage: row.coverage.clone(),
            detailed_status: DetailedStatus::new(&row.status, path),
            archived: false,
            name: row.name.clone(),
            links: None,
        }
    }
}

/// GitLab's `PipelineBasicWithMetadata`: one item of the pipeline list.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineBasic {
    pub id: i64,
    pub iid: i64,
    pub project_id: i64,
    pub sha: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub status: String,
    pub source: String,
    pub created_at: String,
    pub updated_at: String,
    pub web_url: String,
    pub name: Option<String>,
}

impl PipelineBasic {
    pub fn new(row: &PipelineRow, project: &ProjectRow, base_url: &str) -> Self {
        PipelineBasic {
            id: row.id,
            iid: row.iid,
            project_id: row.project_id,
            sha: row.sha.clone(),
            ref_name: row.ref_name.clone(),
            status: row.status.clone(),
            source: row.source.clone(),
            created_at: row.created_at.clone(),
            updated_at: row.updated_at.clone(),
            web_url: format!("{base_url}{}", pipeline_path(project, row.id)),
            name: row.name.clone(),
        }
    }
}

/// GitLab's `Ci::Variable` entity as the pipeline-variables endpoint shows it.
#[derive(Debug, Clone, Serialize)]
struct Variable {
    variable_type: String,
    key: String,
    value: String,
}

/// `read_pipeline`: anyone who sees a public or internal project, Reporter+ on a private one.
pub(crate) fn require_read(pa: &ProjectAccess) -> ApiResult<()> {
    match Visibility::parse(&pa.project.visibility) {
        Some(Visibility::Public | Visibility::Internal) => Ok(()),
        _ => pa.require(AccessLevel::Reporter),
    }
}

/// Loads a pipeline of the project: `404 Not found` when there is none.
async fn find_pipeline(state: &AppState, project_id: i64, id: i64) -> ApiResult<PipelineRow> {
    state.db.read(move |c| Ok(store::find(c, project_id, id)?)).await?.ok_or(ApiError::RecordNotFound)
}

/// A non-empty string parameter (GitLab's finders ignore blank filters).
fn present(p: &Params, key: &str) -> ApiResult<Option<String>> {
    Ok(p.string(key)?.filter(|s| !s.is_empty()))
}

/// An ISO 8601 date-time filter, normalised to the stored format: invalid → `<key> is invalid`.
fn datetime(p: &Params, key: &str) -> ApiResult<Option<String>> {
    match present(p, key)? {
        None => Ok(None),
        Some(s) => {
            model::parse_datetime(&s).map(|t| Some(model::format_ts(t))).ok_or_else(|| ApiError::invalid(key))
        }
    }
}

/// Reads and validates the list filters (Grape validates before the project is looked up).
fn list_filter(p: &Params) -> ApiResult<ListFilter> {
    let scope = p.one_of("scope", Scope::NAMES)?.as_deref().and_then(Scope::parse);
    let status = p.one_of("status", STATUSES)?;
    let source = p.one_of("source", SOURCES)?;
    let order_by =
        p.one_of("order_by", OrderBy::NAMES)?.as_deref().and_then(OrderBy::parse).unwrap_or(OrderBy::Id);
    let sort = p.one_of("sort", &["asc", "desc"])?;
    Ok(ListFilter {
        scope,
        status,
        source,
        ref_name: present(p, "ref")?,
        sha: present(p, "sha")?,
        username: present(p, "username")?,
        yaml_errors: p.bool("yaml_errors")?,
        updated_after: datetime(p, "updated_after")?,
        updated_before: datetime(p, "updated_before")?,
        created_after: datetime(p, "created_after")?,
        created_before: datetime(p, "created_before")?,
        name: present(p, "name")?,
        order_by,
        descending: sort.as_deref() != Some("asc"),
    })
}

/// `GET /projects/:id/pipelines`
async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    // The credential, the project and the page in one read; the credential's errors first, then
    // the parameters', then the project's. Refused parameters leave the page unread.
    let query = list_filter(&params)
        .and_then(|filter| Ok((filter, Paging::from_params(&params, KeysetOrders::IdEither)?)));
    let wanted = query.as_ref().ok().cloned();
    let size = match &wanted {
        Some((filter, paging)) if !store::page_is_short(filter, paging.window()) => ReadSize::Long,
        _ => ReadSize::Short,
    };
    let found = access::authenticate_with_project_then(&state, &req, &path, size, move |c, pa| {
        let Some((filter, paging)) = wanted else { return Ok(None) };
        require_read(pa)?;
        Ok(Some(store::page(c, pa.project.id, &filter, paging.limit(), paging.window())?))
    })
    .await?;
    let (_, paging) = query?;
    let (pa, found) = found.project_and_read()?;
    let found = found.ok_or_else(|| ApiError::Internal("the page was not read".into()))?;
    let base = pagination::base_url(&req, &state);
    let items: Vec<PipelineBasic> =
        found.rows.iter().map(|r| PipelineBasic::new(r, &pa.project, &base)).collect();
    Ok(paging.respond(&req, &state, &found, found.rows.last().map(|r| r.id), &items))
}

/// `GET /projects/:id/pipelines/:pipeline_id`
async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, raw) = path.into_inner();
    // The credential, the project, the pipeline and its links in one read; the credential's
    // errors first, then the id's, then the project's, the pipeline's and the role's.
    let pipeline_id = access::path_id(&raw, "pipeline_id");
    let wanted = pipeline_id.as_ref().ok().copied();
    let base = pagination::base_url(&req, &state);
    let link_base = base.clone();
    let found = access::authenticate_with_project_then(&state, &req, &id, ReadSize::Short, move |c, pa| {
        let Some(pipeline_id) = wanted else { return Ok(None) };
        let Some(row) = store::find(c, pa.project.id, pipeline_id)? else {
            return Err(ApiError::RecordNotFound);
        };
        require_read(pa)?;
        let viewer = pa.user_id.map(|id| (id, pa.admin));
        let links = super::pipeline_links::links_in(c, viewer, row.id, &link_base)?;
        Ok(Some((row, links)))
    })
    .await?;
    pipeline_id?;
    let (pa, found) = found.project_and_read()?;
    let (row, links) = found.ok_or_else(|| ApiError::Internal("the pipeline was not read".into()))?;
    let mut shown = Pipeline::new(&row, &pa.project, &base);
    shown.links = Some(links);
    Ok(HttpResponse::Ok().json(shown))
}

/// `GET /projects/:id/pipelines/latest`: the newest pipeline for `ref` (default: the default
/// branch) at the commit the ref points to now.
async fn latest(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let wanted = present(&params, "ref")?;
    let pa = access::project_for(&state, caller.0.as_ref(), &path).await?;
    require_read(&pa)?;
    let Some(wanted) = wanted.or_else(|| pa.project.default_branch.clone()) else {
        return Err(ApiError::RecordNotFound);
    };
    let pid = pa.project.id;
    let row = state
        .db
        .read(move |c| {
            let Some(r) = crate::db::refs::resolve(c, pid, &wanted)? else { return Ok(None) };
            Ok(store::latest_for(c, pid, &r.name, &r.sha)?)
        })
        .await?
        .ok_or(ApiError::RecordNotFound)?;
    let base = pagination::base_url(&req, &state);
    Ok(HttpResponse::Ok().json(Pipeline::new(&row, &pa.project, &base)))
}

/// `GET /projects/:id/pipelines/:pipeline_id/variables` (not paginated, as in GitLab).
async fn variables(
    caller: MaybeCaller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, raw) = path.into_inner();
    let pipeline_id = access::path_id(&raw, "pipeline_id")?;
    let pa = access::project_for(&state, caller.0.as_ref(), &id).await?;
    let row = find_pipeline(&state, pa.project.id, pipeline_id).await?;
    let own = row.user_id.is_some() && row.user_id == pa.user_id;
    if !(pa.at_least(AccessLevel::Maintainer) || (own && pa.at_least(AccessLevel::Developer))) {
        return Err(ApiError::forbidden());
    }
    let vars = state.db.read(move |c| Ok(store::variables(c, pipeline_id)?)).await?;
    let items: Vec<Variable> = vars
        .into_iter()
        .map(|v| Variable { variable_type: v.variable_type, key: v.key, value: v.value })
        .collect();
    Ok(HttpResponse::Ok().json(items))
}

/// Loads the project and pipeline for a write and checks the caller's role (404 before 403).
async fn for_write(
    state: &AppState,
    caller: &Caller,
    path: (String, String),
    level: AccessLevel,
) -> ApiResult<(ProjectAccess, PipelineRow)> {
    let (id, raw) = path;
    let pipeline_id = access::path_id(&raw, "pipeline_id")?;
    let pa = access::project_for(state, Some(caller), &id).await?;
    let row = find_pipeline(state, pa.project.id, pipeline_id).await?;
    pa.require(level)?;
    Ok((pa, row))
}

/// `POST /projects/:id/pipelines/:pipeline_id/cancel`: a cancelable pipeline becomes `canceled`;
/// any other is returned unchanged (200 either way).
async fn cancel(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let row = transition(&caller, &req, &state, path.into_inner(), |c, id, _, now| {
        crate::db::jobs::cancel_pipeline(c, id, now)
    })
    .await?;
    Ok(HttpResponse::Ok().json(row))
}

/// `POST /projects/:id/pipelines/:pipeline_id/retry`: a failed or canceled pipeline goes back to
/// `pending` (its `finished_at` cleared); any other is returned unchanged (201 either way).
async fn retry(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let row = transition(&caller, &req, &state, path.into_inner(), |c, id, user, now| {
        crate::db::jobs::retry_pipeline(c, id, user, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(row))
}

/// A pipeline status change: `(connection, pipeline id, acting user, now)`.
type Change = fn(&rusqlite::Connection, i64, Option<i64>, &str) -> rusqlite::Result<bool>;

/// Applies a status change (Developer+) in one write and returns the pipeline as it now is.
async fn transition(
    caller: &Caller,
    req: &HttpRequest,
    state: &AppState,
    path: (String, String),
    change: Change,
) -> ApiResult<Pipeline> {
    let (pa, row) = for_write(state, caller, path, AccessLevel::Developer).await?;
    let (pid, id, now, user) = (pa.project.id, row.id, model::now(), caller.user.id);
    let row = state
        .db
        .write(move |c| {
            change(c, id, Some(user), &now)?;
            store::find(c, pid, id)?.ok_or(ApiError::RecordNotFound)
        })
        .await?;
    // A retry makes jobs pending: wake the waiting runners.
    state.job_queue.tick();
    Ok(Pipeline::new(&row, &pa.project, &pagination::base_url(req, state)))
}

/// `POST /projects/:id/pipeline`: a pipeline for `ref` (source `api`) with `variables` as
/// `[{key, value, variable_type}]` and optional `inputs`, created from the CI configuration at
/// the ref's commit. Developer+. Failures create nothing: 400 `{"message":{"base":[…]}}`.
async fn create(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let ref_name = params.required_string("ref")?;
    let variables = api_variables(&params, &state.config.limits)?;
    let inputs = match params.get("inputs") {
        None => None,
        Some(v) if v.is_object() => Some(v.to_string()),
        Some(_) => return Err(ApiError::invalid("inputs")),
    };
    let pa = access::project_for(&state, Some(&caller), &path).await?;
    pa.require(AccessLevel::Developer)?;
    let (project, user, now) = (pa.project.clone(), caller.user.clone(), model::now());
    let created = state
        .db
        .write(move |conn| {
            let not_created = |text: &str| ApiError::validation("base", text);
            let resolved = crate::db::refs::resolve(conn, project.id, &ref_name)?
                .ok_or_else(|| not_created("Reference not found"))?;
            let vars: Vec<store::NewVariable> = variables
                .iter()
                .map(|(k, v, t)| store::NewVariable { key: k, value: v, variable_type: t })
                .collect();
            let creation = ci_pipeline::Creation {
                project: &project,
                trigger_id: None,
                user: &user,
                resolved: &resolved,
                source: "api",
                variables: &vars,
                inputs: inputs.as_deref(),
                persist_config_errors: false,
                upstream: None,
            };
            let created = ci_pipeline::create(conn, &creation, &now)?;
            let wake = created.has_pending_jobs();
            match created {
                ci_pipeline::Created::Pipeline(row) => Ok((*row, wake)),
                ci_pipeline::Created::ConfigError(e) => Err(e),
            }
        })
        .await?;
    let (created, wake) = created;
    if wake {
        state.job_queue.tick();
    }
    let base = pagination::base_url(&req, &state);
    Ok(HttpResponse::Created().json(Pipeline::new(&created, &pa.project, &base)))
}

/// `variables` of `POST /projects/:id/pipeline`: an array of `{key, value, variable_type}`
/// (`variable_type` `env_var`, the default, or `file`), within our limits; a key given twice
/// keeps its last value, as GitLab's hash does.
fn api_variables(params: &Params, limits: &LimitsConfig) -> ApiResult<Vec<(String, String, String)>> {
    let Some(raw) = params.get("variables") else { return Ok(Vec::new()) };
    let items: Vec<&Value> = match raw {
        Value::Array(items) => items.iter().collect(),
        // Form bodies send `variables[][key]=…`, which arrives as an array; a bare object
        // (`variables[0][key]`) is accepted too.
        Value::Object(map) => map.values().collect(),
        _ => return Err(ApiError::invalid("variables")),
    };
    let mut out: Vec<(String, String, String)> = Vec::with_capacity(items.len());
    for item in items {
        let (Some(key), Some(value)) = (item.get("key").and_then(scalar), item.get("value").and_then(scalar))
        else {
            return Err(ApiError::invalid("variables"));
        };
        let variable_type = match item.get("variable_type") {
            None | Some(Value::Null) => "env_var".to_string(),
            Some(Value::String(t)) if t == "env_var" || t == "file" => t.clone(),
            Some(_) => return Err(ApiError::not_valid_value("variables[variable_type]")),
        };
        match out.iter_mut().find(|(k, _, _)| *k == key) {
            Some(existing) => *existing = (key, value, variable_type),
            None => out.push((key, value, variable_type)),
        }
    }
    super::trigger_call::check_variable_limits(out.iter().map(|(k, v, _)| (k.as_str(), v.as_str())), limits)?;
    Ok(out)
}

/// A string, number or boolean as text (Grape coerces these to String).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `DELETE /projects/:id/pipelines/:pipeline_id`: Owner or admin; its variables go with it.
pub(crate) async fn delete(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (pa, row) = for_write(&state, &caller, path.into_inner(), AccessLevel::Owner).await?;
    access::check_unmodified_since(&req, &row.updated_at)?;
    let (pid, id) = (pa.project.id, row.id);
    let deleted = state.db.write(move |c| Ok(store::delete(c, pid, id)?)).await?;
    if !deleted {
        return Err(ApiError::RecordNotFound);
    }
    Ok(HttpResponse::NoContent().finish())
}
