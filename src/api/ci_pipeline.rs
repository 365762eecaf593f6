//! Creating a pipeline from its `.gitlab-ci.yml`, shared by the trigger call and
//! `POST /projects/:id/pipeline`. Runs inside the caller's write, so the configuration is read
//! at the same snapshot as the ref was resolved and the jobs are inserted with the pipeline.
//!
//! - No configuration at the pipeline's commit: a pipeline without jobs that stays `created`
//!   (one indexed lookup more than before jobs existed).
//! - An invalid configuration: the trigger call persists a `failed` pipeline with `yaml_errors`
//!   and answers 422; `POST /projects/:id/pipeline` persists nothing and answers 400 (GitLab's
//!   `save_on_errors: false`). Both with `{"message":{"base":[<errors>]}}`.
//! - `workflow:rules` or job `rules` leaving nothing: 400, nothing persisted.

use actix_web::http::StatusCode;
use rusqlite::Connection;
use serde_json::json;

use super::ci_config_cache;
use crate::ci::{self, Variables};
use crate::db::job_tokens::{self, PipelineSource};
use crate::db::pipelines::{self as store, BLANK_SHA, NewPipeline, NewVariable, PipelineRow};
use crate::db::projects::ProjectRow;
use crate::db::refs::ResolvedRef;
use crate::db::users::UserRow;
use crate::db::{files, jobs};
use crate::error::{ApiError, ApiResult};

/// Where a pipeline's CI configuration is read.
pub const CONFIG_PATH: &str = ".gitlab-ci.yml";

/// A pipeline to create.
pub struct Creation<'a> {
    pub project: &'a ProjectRow,
    pub trigger_id: Option<i64>,
    pub user: &'a UserRow,
    pub resolved: &'a ResolvedRef,
    /// `trigger`, `api` or `pipeline` (a job token or a `trigger:` job).
    pub source: &'a str,
    /// The pipeline's variables, in order (for the trigger call, `TRIGGER_PAYLOAD` last).
    pub variables: &'a [NewVariable<'a>],
    pub inputs: Option<&'a str>,
    /// Keep a pipeline that failed on its configuration (the trigger call) instead of refusing.
    pub persist_config_errors: bool,
    /// The job that creates this pipeline (a job token on the trigger call): recorded as its
    /// upstream link, with the pipeline, in the same write.
    pub upstream: Option<Upstream>,
}

/// The job a pipeline is created from, and its pipeline and project.
#[derive(Debug, Clone, Copy)]
pub struct Upstream {
    pub project_id: i64,
    pub pipeline_id: i64,
    pub job_id: i64,
    /// Set when the job is a `trigger:` job (a bridge).
    pub bridge_id: Option<i64>,
}

/// What became of the request.
pub enum Created {
    /// A pipeline, with or without jobs.
    Pipeline(Box<PipelineRow>),
    /// A `failed` pipeline was kept for an invalid configuration: answer with this error (422).
    ConfigError(ApiError),
}

impl Created {
    /// True when the new pipeline has pending jobs, the only case in which waiting runners need
    /// waking: a pipeline without configuration stays `created`, one whose configuration failed
    /// is `failed`, and one whose first stage is all manual has nothing to hand out.
    pub fn has_pending_jobs(&self) -> bool {
        matches!(self, Created::Pipeline(row) if row.status == ci::JobStatus::Pending.as_str())
    }
}

/// `{"message":{"base":[text]}}` with the given status.
fn base_error(status: StatusCode, text: &str) -> ApiError {
    ApiError::Message(status, json!({ "base": [text] }))
}

/// Creates the pipeline (and its jobs) inside the caller's write.
pub fn create(conn: &Connection, c: &Creation, now: &str) -> ApiResult<Created> {
    let blob = files::blob_at(conn, c.project.id, &c.resolved.sha, CONFIG_PATH)?;
    let Some((blob_sha, content)) = blob else {
        let id_iid = insert(conn, c, now)?;
        return Ok(Created::Pipeline(Box::new(fresh_row(c, id_iid, now))));
    };
    let config = match ci_config_cache::compiled(&blob_sha, &content) {
        Ok(config) => config,
        Err(errors) => {
            let text = errors.to_string();
            if !c.persist_config_errors {
                return Err(base_error(StatusCode::BAD_REQUEST, &text));
            }
            let (id, _) = insert(conn, c, now)?;
            store::fail_with_yaml_errors(conn, id, &text, now)?;
            return Ok(Created::ConfigError(base_error(StatusCode::UNPROCESSABLE_ENTITY, &text)));
        }
    };
    let plan = ci::plan(&config, &rule_variables(c))
        .map_err(|e| base_error(StatusCode::BAD_REQUEST, &e.to_string()))?;
    let (id, _) = insert(conn, c, now)?;
    jobs::insert_plan(conn, id, c.project.id, Some(c.user.id), &plan, now)?;
    let row = store::find(conn, c.project.id, id)?.ok_or(ApiError::Internal("pipeline vanished".into()))?;
    Ok(Created::Pipeline(Box::new(row)))
}

fn insert(conn: &Connection, c: &Creation, now: &str) -> rusqlite::Result<(i64, i64)> {
    let new = NewPipeline {
        project_id: c.project.id,
        trigger_id: c.trigger_id,
        user_id: Some(c.user.id),
        ref_name: &c.resolved.name,
        sha: &c.resolved.sha,
        tag: c.resolved.tag,
        status: "created",
        source: c.source,
        inputs: c.inputs,
    };
    let (id, iid) = store::insert(conn, &new, c.variables, now)?;
    if let Some(up) = c.upstream {
        let source = PipelineSource {
            pipeline_id: id,
            source_project_id: up.project_id,
            source_pipeline_id: up.pipeline_id,
            source_job_id: up.job_id,
            source_bridge_id: up.bridge_id,
        };
        job_tokens::insert_source(conn, &source)?;
    }
    Ok((id, iid))
}

/// The row just inserted, built without reading it back (the trigger call's hot path).
fn fresh_row(c: &Creation, (id, iid): (i64, i64), now: &str) -> PipelineRow {
    PipelineRow {
        id,
        project_id: c.project.id,
        iid,
        trigger_id: c.trigger_id,
        user_id: Some(c.user.id),
        ref_name: c.resolved.name.clone(),
        sha: c.resolved.sha.clone(),
        before_sha: BLANK_SHA.to_string(),
        tag: c.resolved.tag,
        status: "created".into(),
        source: c.source.into(),
        name: None,
        yaml_errors: None,
        inputs: c.inputs.map(String::from),
        created_at: now.to_string(),
        updated_at: now.to_string(),
        started_at: None,
        finished_at: None,
        committed_at: None,
        duration: None,
        queued_duration: None,
        coverage: None,
        user: Some(c.user.clone()),
    }
}

/// GitLab's `CI_COMMIT_REF_SLUG`: lower case, runs of other characters than `[a-z0-9]` as `-`,
/// at most 63 characters, no `-` at either end.
pub fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(63));
    for ch in s.to_lowercase().chars() {
        let c = if ch.is_ascii_alphanumeric() { ch } else { '-' };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let out: String = out.chars().take(63).collect();
    out.trim_matches('-').to_string()
}

/// The variables `rules:if` sees: GitLab's predefined pipeline variables, then the pipeline's
/// own variables (which win).
pub(crate) fn rule_variables(c: &Creation) -> Variables {
    let mut v = Variables::new();
    let project = c.project;
    let r = c.resolved;
    v.set("CI", "true");
    v.set("GITLAB_CI", "true");
    v.set("CI_PIPELINE_SOURCE", c.source);
    if c.source == "trigger" {
        v.set("CI_PIPELINE_TRIGGERED", "true");
    }
    v.set("CI_CONFIG_PATH", CONFIG_PATH);
    v.set("CI_COMMIT_SHA", r.sha.as_str());
    v.set("CI_COMMIT_SHORT_SHA", r.sha.get(..8).unwrap_or(&r.sha));
    v.set("CI_COMMIT_BEFORE_SHA", BLANK_SHA);
    v.set("CI_COMMIT_REF_NAME", r.name.as_str());
    v.set("CI_COMMIT_REF_SLUG", slug(&r.name));
    v.set(if r.tag { "CI_COMMIT_TAG" } else { "CI_COMMIT_BRANCH" }, r.name.as_str());
    if let Some(b) = &project.default_branch {
        v.set("CI_DEFAULT_BRANCH", b.as_str());
    }
    v.set("CI_PROJECT_ID", project.id.to_string());
    v.set("CI_PROJECT_NAME", project.path.as_str());
    v.set("CI_PROJECT_TITLE", project.name.as_str());
    v.set("CI_PROJECT_NAMESPACE", project.namespace.as_str());
    v.set("CI_PROJECT_ROOT_NAMESPACE", project.namespace.split('/').next().unwrap_or_default());
    v.set("CI_PROJECT_PATH", project.path_with_namespace());
    v.set("CI_PROJECT_PATH_SLUG", slug(&project.path_with_namespace()));
    v.set("CI_PROJECT_VISIBILITY", project.visibility.as_str());
    v.set("GITLAB_USER_ID", c.user.id.to_string());
    v.set("GITLAB_USER_LOGIN", c.user.username.as_str());
    v.set("GITLAB_USER_NAME", c.user.name.as_str());
    for var in c.variables {
        v.set(var.key, var.value);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn ref_slugs_follow_gitlabs_rule() {
        assert_eq!(slug("main"), "main");
        assert_eq!(slug("Feature/Add_Thing"), "feature-add-thing");
        assert_eq!(slug("--x--"), "x");
        assert_eq!(slug(&"a".repeat(100)).len(), 63);
        assert_eq!(slug("v1.0.0"), "v1-0-0");
    }
}
