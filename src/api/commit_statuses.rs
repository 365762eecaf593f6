//! GitLab's commit status API, how an external CI (Jenkins, Buildkite, a script) drives a
//! pipeline: `POST /projects/:id/statuses/:sha` creates or moves an external job (GitLab's
//! `GenericCommitStatus`, stage `external`) in the newest pipeline of the commit (or the one
//! `pipeline_id` names, or a new pipeline of source `external`), and the pipeline's status
//! follows by the same composite rules as runner jobs; `GET
//! /projects/:id/repository/commits/:sha/statuses` lists the jobs of every kind of the commit's
//! pipelines (executor-reference §1).
//!
//! Post: Developer+ (`create_commit_status`). List: signed in (GitLab's `authenticate!`), then
//! the pipeline read rule (Reporter+ on a private project). A hidden project is `404 Project Not
//! Found`. Each post is one write: the writer thread serialises posts, so two concurrent posts
//! for the same name make one job (GitLab's per-commit lock), and a refused post leaves nothing.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::access;
use super::entities::UserBasic;
use super::pagination::{self, Page};
use super::params::Params;
use super::pipelines::require_read;
use crate::auth::Caller;
use crate::ci::commit_status::Reported;
use crate::db::commit_statuses::{self as store, ListFilter, NewStatus, Posted, Refusal, StatusRow};
use crate::db::jobs::external::Details;
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccessLevel};
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/projects/{id}/statuses/{sha}", |m| m.post(create));
    r.resource("/projects/{id}/repository/commits/{sha}/statuses", |m| m.get(list));
}

/// GitLab's length limit of `name`, `ref`, `target_url` and `description`.
const MAX_LEN: usize = 255;

/// GitLab's `CommitStatus` entity.
#[derive(Debug, Clone, Serialize)]
pub struct CommitStatus {
    pub id: i64,
    pub sha: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub status: String,
    pub name: String,
    pub target_url: Option<String>,
    pub description: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub allow_failure: bool,
    pub coverage: Option<f64>,
    pub pipeline_id: i64,
    pub author: Option<UserBasic>,
}

impl CommitStatus {
    pub fn new(row: &StatusRow, base_url: &str) -> Self {
        let j = &row.job;
        CommitStatus {
            id: j.id,
            sha: row.sha.clone(),
            ref_name: row.ref_name.clone(),
            status: j.status.clone(),
            name: j.name.clone(),
            target_url: row.target_url.clone(),
            description: row.description.clone(),
            created_at: j.created_at.clone(),
            started_at: j.started_at.clone(),
            finished_at: j.finished_at.clone(),
            allow_failure: j.allow_failure,
            coverage: j.coverage,
            pipeline_id: j.pipeline_id,
            author: j.user.as_ref().map(|u| UserBasic::new(u, base_url)),
        }
    }
}

/// What a post asks for, validated.
struct Post {
    reported: Reported,
    ref_name: Option<String>,
    name: String,
    pipeline_id: Option<i64>,
    details: Details,
}

/// `{"message":{field:["is too long (maximum is 255 characters)"]}}` past [`MAX_LEN`].
fn check_len(field: &str, value: Option<&str>) -> ApiResult<()> {
    match value {
        Some(v) if v.chars().count() > MAX_LEN => {
            Err(ApiError::validation(field, format!("is too long (maximum is {MAX_LEN} characters)")))
        }
        _ => Ok(()),
    }
}

/// GitLab's `addressable_url` check of `target_url`: an http(s) URL with a host.
fn check_target_url(url: &str) -> ApiResult<()> {
    let blocked = |why: &str| ApiError::validation("target_url", format!("is blocked: {why}"));
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(blocked("Only allowed schemes are http, https"));
    };
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return Err(blocked("Only allowed schemes are http, https"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(blocked("URI is invalid"));
    }
    Ok(())
}

/// `coverage`: a JSON number or a decimal string; anything else (or not finite) → `coverage is invalid`.
fn coverage_param(params: &Params) -> ApiResult<Option<f64>> {
    let value = match params.get("coverage") {
        None => return Ok(None),
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::String(s)) => s.trim().parse::<f64>().ok(),
        Some(_) => None,
    };
    value.filter(|v| v.is_finite()).map(Some).ok_or_else(|| ApiError::invalid("coverage"))
}

fn read_post(params: &Params) -> ApiResult<Post> {
    let state = params.required_string("state")?;
    let reported = Reported::parse(&state).ok_or_else(|| ApiError::not_valid_value("state"))?;
    let ref_name = params.string("ref")?;
    let name = match params.string("name")? {
        Some(n) => n,
        None => params.string("context")?.unwrap_or_else(|| "default".into()),
    };
    let pipeline_id = params.int("pipeline_id")?;
    let details = Details {
        target_url: params.string("target_url")?,
        description: params.string("description")?,
        coverage: coverage_param(params)?,
    };
    if name.trim().is_empty() {
        return Err(ApiError::validation("name", "can't be blank"));
    }
    check_len("name", Some(&name))?;
    check_len("ref", ref_name.as_deref())?;
    check_len("target_url", details.target_url.as_deref())?;
    check_len("description", details.description.as_deref())?;
    if let Some(url) = &details.target_url {
        check_target_url(url)?;
    }
    Ok(Post { reported, ref_name, name, pipeline_id, details })
}

/// GitLab's answer to a refused post.
fn refused(r: Refusal) -> ApiError {
    let bad = |text: String| ApiError::message(StatusCode::BAD_REQUEST, text);
    match r {
        Refusal::UnknownCommit => ApiError::NotFound("Commit"),
        Refusal::PipelineNotFound => ApiError::NotFound("Pipeline for pipeline_id, sha and ref"),
        Refusal::PipelineConfigErrors => {
            bad("Cannot add status to pipeline with configuration errors".into())
        }
        Refusal::NoRef => ApiError::NotFound("References for commit"),
        Refusal::AmbiguousRef(name) => {
            bad(format!("Ref is ambiguous - specify refs/heads/{name} or refs/tags/{name}"))
        }
        Refusal::NameTaken => ApiError::validation("name", "has already been taken"),
        Refusal::Transition(why) => bad(why),
    }
}

/// `POST /projects/:id/statuses/:sha`: 201 with the external job, created or updated.
async fn create(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let (id, wanted) = path.into_inner();
    let post = read_post(&params)?;
    let pa = access::project_for(&state, Some(&caller), &id).await?;
    pa.require(AccessLevel::Developer)?;
    let new = NewStatus {
        project_id: pa.project.id,
        user_id: caller.user.id,
        commit: wanted,
        reported: post.reported,
        ref_name: post.ref_name,
        name: post.name,
        pipeline_id: post.pipeline_id,
        details: post.details,
    };
    let now = model::now();
    let Posted { status: row, enqueued } =
        state.db.write(move |c| store::post(c, &new, &now)?.map_err(refused)).await?;
    if enqueued {
        state.job_queue.tick();
    }
    Ok(HttpResponse::Created().json(CommitStatus::new(&row, &pagination::base_url(&req, &state))))
}

/// `GET /projects/:id/repository/commits/:sha/statuses`: `ref`, `stage`, `name`, `pipeline_id`,
/// `all`, `order_by` (`id`|`pipeline_id`), `sort` (`asc`|`desc`), paginated.
async fn list(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let (id, wanted) = path.into_inner();
    let page = Page::from_params(&params)?;
    let filter = ListFilter {
        ref_name: params.string("ref")?,
        stage: params.string("stage")?,
        name: params.string("name")?,
        pipeline_id: params.int("pipeline_id")?,
        all: params.bool("all")?.unwrap_or(false),
        by_pipeline: params.one_of("order_by", &["id", "pipeline_id"])?.as_deref() == Some("pipeline_id"),
        descending: params.one_of("sort", &["asc", "desc"])?.as_deref() == Some("desc"),
    };
    let pa = access::project_for(&state, Some(&caller), &id).await?;
    require_read(&pa)?;
    let project_id = pa.project.id;
    let (rows, total) = state
        .db
        .read(move |c| {
            let sha = store::known_sha(c, project_id, &wanted)?.ok_or(ApiError::NotFound("Commit"))?;
            Ok(store::list(c, project_id, &sha, &filter, page.limit(), page.offset())?)
        })
        .await?;
    let base = pagination::base_url(&req, &state);
    let items: Vec<CommitStatus> = rows.iter().map(|r| CommitStatus::new(r, &base)).collect();
    Ok(pagination::respond(&req, &state, page, total, &items))
}
