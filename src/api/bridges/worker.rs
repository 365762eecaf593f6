//! The bridge worker: creates the downstream pipelines of `pending` `trigger:` jobs. Started at
//! boot (like the sweeper), it runs whenever the [`JobQueue`](crate::state::JobQueue) ticks (jobs
//! may have become pending) and every `runners.sweep_interval_secs`. All its state is in rows,
//! so a restart picks up where it stopped.
//!
//! For each pending bridge, in ONE write: the downstream project by its full path (`project`
//! and `branch` expanded with the bridge's variables, as GitLab's `ExpandVariables`); as the
//! upstream pipeline's user, the rules of a job creating a pipeline in another project
//! (`trigger_call::job_user_may_create`: else `downstream_bridge_project_not_found` or
//! `insufficient_bridge_permissions`, also when the user is no longer Developer+ upstream);
//! GitLab's loop guard (`pipeline_loop_detected` when the bridge's pipeline and its upstreams
//! hold one project, ref and source more than twice); then the
//! pipeline (source `pipeline`, ref `branch` or the default branch, variables per `forward`,
//! the upstream link with the bridge) — or `downstream_pipeline_creation_failed` when there is
//! no ref, no configuration, or it is invalid or plans no job. The bridge becomes `running`
//! (`strategy: depend`) or `success`, and its pipeline advances.

use std::time::Duration;

use actix_web::web;
use rusqlite::Connection;

use crate::api::ci_pipeline::{self, CONFIG_PATH, Created, Creation, Upstream};
use crate::api::trigger_call::{JobDenied, job_user_may_create, may_create};
use crate::ci::Variables;
use crate::db::jobs::bridges::{self, BridgeRow};
use crate::db::pipelines::{self, NewVariable};
use crate::db::refs::ResolvedRef;
use crate::db::{files, projects, refs, users};
use crate::error::{ApiError, ApiResult};
use crate::model;
use crate::state::AppState;

/// How many pipelines a chain of upstream links may hold before a bridge refuses to add one.
pub const MAX_HIERARCHY_DEPTH: usize = 100;

/// Runs until the server stops.
pub async fn run_bridges(state: web::Data<AppState>) {
    let every = Duration::from_secs(state.config.runners.sweep_interval_secs.max(1));
    loop {
        if state.job_queue.is_stopping() {
            return;
        }
        let notified = state.job_queue.notified();
        let mut notified = std::pin::pin!(notified);
        notified.as_mut().enable();
        if pass(&state).await {
            state.job_queue.tick();
        }
        let _ = tokio::time::timeout(every, notified).await;
    }
}

/// One pass over the pending bridges and the depend bridges whose downstream ended; true when
/// something changed (jobs may have become pending).
async fn pass(state: &AppState) -> bool {
    let mut changed = false;
    let pending = match state.db.read(|c| Ok(bridges::pending_ids(c)?)).await {
        Ok(ids) => ids,
        Err(e) => {
            log::warn!("bridge worker: {e}");
            return false;
        }
    };
    for id in pending {
        let now = model::now();
        match state.db.write(move |c| trigger_downstream(c, id, &now)).await {
            Ok(done) => changed |= done,
            Err(e) => log::warn!("bridge {id}: {e}"),
        }
    }
    let settled = state.db.read(|c| Ok(bridges::settled_downstreams(c)?)).await.unwrap_or_default();
    for (downstream, status) in settled {
        let now = model::now();
        match state.db.write(move |c| Ok(bridges::catch_up(c, downstream, &status, &now)?)).await {
            Ok(()) => changed = true,
            Err(e) => log::warn!("bridge of pipeline {downstream}: {e}"),
        }
    }
    changed
}

/// Creates the downstream pipeline of the pending bridge `id` (or fails it); true when the
/// bridge changed.
fn trigger_downstream(conn: &Connection, id: i64, now: &str) -> ApiResult<bool> {
    let Some(bridge) = bridges::find(conn, id)? else { return Ok(false) };
    if bridge.status != "pending" {
        return Ok(false);
    }
    match create_downstream(conn, &bridge, now)? {
        Ok(()) => Ok(true),
        Err(reason) => Ok(bridges::fail(conn, id, reason, now)?),
    }
}

/// The downstream pipeline, or the bridge's failure reason.
fn create_downstream(conn: &Connection, b: &BridgeRow, now: &str) -> ApiResult<Result<(), &'static str>> {
    const NOT_FOUND: &str = "downstream_bridge_project_not_found";
    const FORBIDDEN: &str = "insufficient_bridge_permissions";
    const FAILED: &str = "downstream_pipeline_creation_failed";
    let user = match b.user_id {
        Some(u) => users::find(conn, u)?.filter(|u| u.is_active()),
        None => None,
    };
    let Some(user) = user else { return Ok(Err(NOT_FOUND)) };
    let scoped = scoped_variables(conn, b, &user)?;
    let target = projects::find_by_full_path(conn, &scoped.expand(&b.project))?;
    let Some(target) = target else { return Ok(Err(NOT_FOUND)) };
    match job_user_may_create(conn, &target, b.project_id, &user)? {
        Ok(()) => {}
        Err(JobDenied::NotVisible) => return Ok(Err(NOT_FOUND)),
        Err(JobDenied::OutOfScope | JobDenied::CannotCreate) => return Ok(Err(FORBIDDEN)),
    }
    // GitLab's `update_pipeline` on the upstream project too (the user may have lost it since).
    let may_update_upstream = match projects::find(conn, b.project_id)? {
        Some(p) => may_create(conn, &p, &user)?,
        None => false,
    };
    if !may_update_upstream {
        return Ok(Err(FORBIDDEN));
    }
    let chain = bridges::self_and_upstreams(conn, b.pipeline_id, MAX_HIERARCHY_DEPTH)?;
    if chain.len() >= MAX_HIERARCHY_DEPTH {
        return Ok(Err("reached_max_pipeline_hierarchy_size"));
    }
    // GitLab allows one cycle and stops at the second: A → B → A → B → A.
    let mut tally = std::collections::HashMap::new();
    for link in &chain {
        *tally.entry(link).or_insert(0usize) += 1;
    }
    if tally.values().any(|n| *n > 2) {
        return Ok(Err("pipeline_loop_detected"));
    }
    let branch = b.branch.as_deref().map(|br| scoped.expand(br)).filter(|br| !br.is_empty());
    let Some(ref_name) = branch.or_else(|| target.default_branch.clone()) else {
        return Ok(Err(FAILED));
    };
    let Some(resolved) = refs::resolve(conn, target.id, &ref_name)? else { return Ok(Err(FAILED)) };
    if files::content_at(conn, target.id, &resolved.sha, CONFIG_PATH)?.is_none() {
        return Ok(Err(FAILED));
    }
    let vars = downstream_variables(conn, b)?;
    let vars: Vec<NewVariable> =
        vars.iter().map(|(k, v, t)| NewVariable { key: k, value: v, variable_type: t }).collect();
    let creation = Creation {
        project: &target,
        trigger_id: None,
        user: &user,
        resolved: &resolved,
        source: "pipeline",
        variables: &vars,
        inputs: None,
        persist_config_errors: false,
        upstream: Some(Upstream {
            project_id: b.project_id,
            pipeline_id: b.pipeline_id,
            job_id: b.job_id,
            bridge_id: Some(b.job_id),
        }),
    };
    let row = match ci_pipeline::create(conn, &creation, now) {
        Ok(Created::Pipeline(row)) => row,
        // Nothing was written: an invalid configuration or rules that leave no job.
        Ok(Created::ConfigError(_)) | Err(ApiError::Message(..)) => return Ok(Err(FAILED)),
        Err(e) => return Err(e),
    };
    bridges::start(conn, b.job_id, b.depend, now)?;
    if b.depend {
        // A downstream that ended at once (every job skipped) settles the bridge now.
        bridges::catch_up(conn, row.id, &row.status, now)?;
    }
    Ok(Ok(()))
}

/// The variables a bridge's `project` and `branch` are expanded with (GitLab's scoped
/// variables): the upstream pipeline's predefined ones, the bridge's YAML variables, then the
/// pipeline's variables.
fn scoped_variables(conn: &Connection, b: &BridgeRow, user: &users::UserRow) -> rusqlite::Result<Variables> {
    let (Some(project), Some(pipeline)) =
        (projects::find(conn, b.project_id)?, pipelines::find(conn, b.project_id, b.pipeline_id)?)
    else {
        return Ok(Variables::new());
    };
    let resolved =
        ResolvedRef { name: pipeline.ref_name.clone(), sha: pipeline.sha.clone(), tag: pipeline.tag };
    let upstream = Creation {
        project: &project,
        trigger_id: pipeline.trigger_id,
        user,
        resolved: &resolved,
        source: &pipeline.source,
        variables: &[],
        inputs: None,
        persist_config_errors: false,
        upstream: None,
    };
    let mut vars = ci_pipeline::rule_variables(&upstream);
    vars.set("CI_PIPELINE_ID", pipeline.id.to_string());
    vars.set("CI_PIPELINE_IID", pipeline.iid.to_string());
    for v in &b.yaml_variables {
        vars.set(v.key.as_str(), v.value.as_str());
    }
    for v in pipelines::variables(conn, b.pipeline_id)? {
        vars.set(v.key, v.value);
    }
    Ok(vars)
}

/// GitLab's downstream variables: the bridge's YAML variables (`forward:yaml_variables`), then
/// the upstream pipeline's variables (`forward:pipeline_variables`); a later key wins.
fn downstream_variables(conn: &Connection, b: &BridgeRow) -> rusqlite::Result<Vec<(String, String, String)>> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    let mut push = |key: String, value: String, kind: String| {
        out.retain(|(k, _, _)| *k != key);
        out.push((key, value, kind));
    };
    if b.forward_yaml {
        for v in &b.yaml_variables {
            push(v.key.clone(), v.value.clone(), "env_var".into());
        }
    }
    if b.forward_pipeline {
        for v in pipelines::variables(conn, b.pipeline_id)? {
            push(v.key, v.value, v.variable_type);
        }
    }
    Ok(out)
}
