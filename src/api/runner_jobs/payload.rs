//! The job payload a runner receives (`API::Entities::Ci::JobRequest::Response`) and its
//! predefined variables.

use serde_json::{Value, json};

use super::FAILURE_REASONS;
use crate::auth;
use crate::db::jobs::{JobRow, JobSpec, SpecVariable};
use crate::db::pipelines::{PipelineRow, VariableRow};
use crate::db::projects::ProjectRow;

/// Everything a job payload is built from, read in the write that claimed the job.
pub(super) struct Claimed {
    pub(super) job: JobRow,
    pub(super) spec: JobSpec,
    pub(super) pipeline: PipelineRow,
    pub(super) project: ProjectRow,
    pub(super) pipeline_variables: Vec<VariableRow>,
    pub(super) played_variables: Vec<SpecVariable>,
    pub(super) token: String,
    pub(super) timeout: i64,
}

fn var(key: &str, value: impl Into<String>, public: bool, masked: bool) -> Value {
    json!({"key": key, "value": value.into(), "public": public, "masked": masked})
}

/// GitLab's `CI_REPOSITORY_URL`: the project's HTTP clone URL with the job token as
/// `gitlab-ci-token`'s password (`<scheme>://gitlab-ci-token:<token>@<host>/<path>.git`).
fn repository_url(base: &str, path: &str, token: &str) -> String {
    match base.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://gitlab-ci-token:{token}@{rest}/{path}.git"),
        None => format!("{base}/{path}.git"),
    }
}

/// GitLab's `CI_COMMIT_REF_SLUG`: lower case, every other character than `a-z0-9` a `-`, at most
/// 63 characters, no leading or trailing `-`.
fn slug(s: &str) -> String {
    let lower: String = s
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { '-' })
        .collect();
    let cut: String = lower.chars().take(63).collect();
    cut.trim_matches('-').to_string()
}

/// The job's variables as the runner receives them: predefined, then YAML (global and job, the
/// job's winning, as the plan merged them), then the pipeline's (trigger) variables, then those
/// a manual job was played with — one entry per key, the later source winning (GitLab's
/// precedence; the winner takes the place of the last occurrence).
fn variables(c: &Claimed, base: &str) -> Vec<Value> {
    last_wins(all_variables(c, base))
}

/// Keeps, of the variables sharing a key, only the last.
fn last_wins(all: Vec<Value>) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    let mut kept: Vec<Value> = all
        .into_iter()
        .rev()
        .filter(|v| seen.insert(v["key"].as_str().unwrap_or_default().to_string()))
        .collect();
    kept.reverse();
    kept
}

/// Every variable of the job in precedence order, duplicates included.
fn all_variables(c: &Claimed, base: &str) -> Vec<Value> {
    let (job, pipeline, project) = (&c.job, &c.pipeline, &c.project);
    let path = project.path_with_namespace();
    let project_url = format!("{base}/{path}");
    let mut v = vec![
        var("CI", "true", true, false),
        var("GITLAB_CI", "true", true, false),
        var("CI_JOB_TOKEN", c.token.clone(), false, true),
        var("CI_JOB_ID", job.id.to_string(), true, false),
        var("CI_JOB_URL", format!("{project_url}/-/jobs/{}", job.id), true, false),
        var("CI_JOB_NAME", job.name.clone(), true, false),
        var("CI_JOB_STAGE", job.stage.clone(), true, false),
    ];
    if let Some(started) = &job.started_at {
        v.push(var("CI_JOB_STARTED_AT", started.clone(), true, false));
    }
    // Not public, not masked, as GitLab sends it (the runner masks the job token in it by its
    // prefix; the stored log masks the job token wherever it appears).
    v.push(var("CI_REPOSITORY_URL", repository_url(base, &path, &c.token), false, false));
    if job.when == "manual" {
        v.push(var("CI_JOB_MANUAL", "true", true, false));
    }
    v.extend([
        var("CI_PIPELINE_ID", pipeline.id.to_string(), true, false),
        var("CI_PIPELINE_IID", pipeline.iid.to_string(), true, false),
        var("CI_PIPELINE_URL", format!("{project_url}/-/pipelines/{}", pipeline.id), true, false),
        var("CI_PIPELINE_SOURCE", pipeline.source.clone(), true, false),
    ]);
    if pipeline.source == "trigger" {
        v.push(var("CI_PIPELINE_TRIGGERED", "true", true, false));
    }
    v.extend([
        var("CI_COMMIT_SHA", pipeline.sha.clone(), true, false),
        var("CI_COMMIT_SHORT_SHA", pipeline.sha.chars().take(8).collect::<String>(), true, false),
        var("CI_COMMIT_BEFORE_SHA", pipeline.before_sha.clone(), true, false),
        var("CI_COMMIT_REF_NAME", pipeline.ref_name.clone(), true, false),
        var("CI_COMMIT_REF_SLUG", slug(&pipeline.ref_name), true, false),
    ]);
    if pipeline.tag {
        v.push(var("CI_COMMIT_TAG", pipeline.ref_name.clone(), true, false));
    } else {
        v.push(var("CI_COMMIT_BRANCH", pipeline.ref_name.clone(), true, false));
    }
    if let Some(default) = &project.default_branch {
        v.push(var("CI_DEFAULT_BRANCH", default.clone(), true, false));
    }
    v.extend([
        var("CI_PROJECT_ID", project.id.to_string(), true, false),
        var("CI_PROJECT_PATH", path.clone(), true, false),
        var("CI_PROJECT_PATH_SLUG", slug(&path), true, false),
        var("CI_PROJECT_NAME", project.path.clone(), true, false),
        var("CI_PROJECT_TITLE", project.name.clone(), true, false),
        var("CI_PROJECT_NAMESPACE", project.namespace.clone(), true, false),
        var("CI_PROJECT_URL", project_url.clone(), true, false),
        var("CI_PROJECT_VISIBILITY", project.visibility.clone(), true, false),
        var("CI_API_V4_URL", format!("{base}/api/v4"), true, false),
        var("CI_SERVER_URL", base.to_string(), true, false),
        var("CI_SERVER_NAME", "GitLab", true, false),
        var("CI_CONFIG_PATH", ".gitlab-ci.yml", true, false),
    ]);
    if let Some(u) = &job.user {
        v.extend([
            var("GITLAB_USER_ID", u.id.to_string(), true, false),
            var("GITLAB_USER_EMAIL", u.email.clone(), true, false),
            var("GITLAB_USER_LOGIN", u.username.clone(), true, false),
            var("GITLAB_USER_NAME", u.name.clone(), true, false),
        ]);
    }
    v.push(var("GIT_STRATEGY", "none", true, false));
    v.extend(c.spec.variables.iter().map(|y| var(&y.key, y.value.clone(), true, false)));
    for p in &c.pipeline_variables {
        let mut item = var(&p.key, p.value.clone(), false, false);
        if p.variable_type == "file" {
            item["file"] = json!(true);
        }
        v.push(item);
    }
    v.extend(c.played_variables.iter().map(|p| var(&p.key, p.value.clone(), false, false)));
    v
}

/// The 201 body (`API::Entities::Ci::JobRequest::Response`).
pub(super) fn payload(c: &Claimed, base: &str) -> Value {
    let (job, pipeline, project) = (&c.job, &c.pipeline, &c.project);
    let path = project.path_with_namespace();
    let refspecs = if pipeline.tag {
        vec![
            format!("+{}:refs/pipelines/{}", pipeline.sha, pipeline.id),
            format!("+refs/tags/{0}:refs/tags/{0}", pipeline.ref_name),
        ]
    } else {
        vec![
            format!("+{}:refs/pipelines/{}", pipeline.sha, pipeline.id),
            format!("+refs/heads/{0}:refs/remotes/origin/{0}", pipeline.ref_name),
        ]
    };
    let mut script = c.spec.before_script.clone();
    script.extend(c.spec.script.iter().cloned());
    let mut steps = vec![json!({
        "name": "script", "script": script, "timeout": c.timeout, "when": "on_success",
        "allow_failure": job.allow_failure,
    })];
    if !c.spec.after_script.is_empty() {
        steps.push(json!({
            "name": "after_script", "script": c.spec.after_script, "timeout": c.timeout, "when": "always",
            "allow_failure": true,
        }));
    }
    let image = c.spec.image.as_ref().map(|name| json!({"name": name, "entrypoint": null, "ports": []}));
    json!({
        "id": job.id,
        "token": c.token,
        "allow_git_fetch": false,
        "job_info": {
            "id": job.id,
            "name": job.name,
            "stage": job.stage,
            "pipeline_id": pipeline.id,
            "project_id": project.id,
            "project_name": project.name,
            "project_full_path": path,
            "user_id": job.user_id,
            "time_in_queue_seconds": job.queued_duration.unwrap_or(0.0),
            "project_jobs_running_on_instance_runners_count": "+Inf",
        },
        "git_info": {
            "repo_url": repository_url(base, &path, &c.token),
            "ref": pipeline.ref_name,
            "sha": pipeline.sha,
            "before_sha": pipeline.before_sha,
            "ref_type": if pipeline.tag { "tag" } else { "branch" },
            "refspecs": refspecs,
            "depth": 0,
            "repo_object_format": "sha1",
            "protected": false,
        },
        "runner_info": {"timeout": c.timeout, "runner_session_url": null},
        "variables": variables(c, base),
        "steps": steps,
        "image": image,
        "services": [],
        "artifacts": [],
        "cache": [],
        "credentials": [],
        "dependencies": [],
        "features": {
            "trace_sections": true,
            "token_mask_prefixes": [auth::JOB_TOKEN_PREFIX, auth::RUNNER_TOKEN_PREFIX, auth::PAT_PREFIX,
                                    auth::TRIGGER_TOKEN_PREFIX],
            "failure_reasons": FAILURE_REASONS,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn of_variables_sharing_a_key_the_last_wins_in_its_place() {
        let got = last_wins(vec![
            var("A", "1", true, false),
            var("B", "1", true, false),
            var("A", "2", false, false),
            var("C", "1", true, false),
        ]);
        let pairs: Vec<(&str, &str)> =
            got.iter().map(|v| (v["key"].as_str().unwrap(), v["value"].as_str().unwrap())).collect();
        assert_eq!(pairs, [("B", "1"), ("A", "2"), ("C", "1")]);
    }

    #[test]
    fn the_repository_url_carries_the_job_token_as_gitlab_ci_tokens_password() {
        assert_eq!(
            repository_url("https://ci.example.org/gitlab", "grp/app", "glcbt-x"),
            "https://gitlab-ci-token:glcbt-x@ci.example.org/gitlab/grp/app.git"
        );
    }

    #[test]
    fn ref_slugs_are_lower_case_dashed_and_trimmed() {
        assert_eq!(slug("Feature/Foo_bar-"), "feature-foo-bar");
        assert_eq!(slug(&"a".repeat(70)).len(), 63);
    }
}
