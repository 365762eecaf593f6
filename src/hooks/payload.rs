//! GitLab's `Pipeline Hook` and `Job Hook` payloads (`lib/gitlab/data_builder/pipeline.rb`,
//! `build.rb`), built from the rows `db::hook_data` gathered. Pure: no I/O.

use serde_json::{Value, json};

use crate::db::hook_data::{JobData, PipelineData};
use crate::db::jobs::JobRow;
use crate::db::pipelines::PipelineRow;
use crate::db::projects::ProjectRow;
use crate::db::runners::RunnerRow;
use crate::db::users::UserRow;

/// How times look: queued deliveries go through Sidekiq's JSON in GitLab (`2016-08-12 15:23:28
/// UTC`), test deliveries do not (ISO-8601).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeStyle {
    Queued,
    Iso,
}

impl TimeStyle {
    fn time(self, ts: Option<&str>) -> Value {
        match ts {
            None => Value::Null,
            Some(t) => match self {
                TimeStyle::Iso => Value::String(t.to_string()),
                TimeStyle::Queued => {
                    // Stored as 2026-01-05T09:59:58.123Z.
                    let day = t.get(..10).unwrap_or(t);
                    let clock = t.get(11..19).unwrap_or("00:00:00");
                    Value::String(format!("{day} {clock} UTC"))
                }
            },
        }
    }
}

/// GitLab's `detailed_status` label of a pipeline status.
pub fn detailed_status(status: &str) -> &str {
    match status {
        "success" => "passed",
        "manual" => "waiting for manual action",
        "scheduled" => "waiting for delayed job",
        "waiting_for_resource" => "waiting for resource",
        "waiting_for_callback" => "waiting for callback",
        other => other,
    }
}

fn visibility_level(visibility: &str) -> i64 {
    match visibility {
        "public" => 20,
        "internal" => 10,
        _ => 0,
    }
}

fn user(u: Option<&UserRow>) -> Value {
    match u {
        None => Value::Null,
        Some(u) => json!({
            "id": u.id,
            "name": u.name,
            "username": u.username,
            "avatar_url": crate::model::avatar_url(&u.email),
            // GitLab sends the public email, else this; triggerd has no public emails.
            "email": "[REDACTED]",
        }),
    }
}

fn host_of(base: &str) -> &str {
    base.split_once("://").map(|(_, h)| h).unwrap_or(base).split('/').next().unwrap_or(base)
}

fn project(p: &ProjectRow, base: &str) -> Value {
    let path = p.path_with_namespace();
    json!({
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "web_url": format!("{base}/{path}"),
        "avatar_url": null,
        "git_ssh_url": format!("git@{}:{path}.git", host_of(base)),
        "git_http_url": format!("{base}/{path}.git"),
        "namespace": p.namespace_name,
        "visibility_level": visibility_level(&p.visibility),
        "path_with_namespace": path,
        "default_branch": p.default_branch,
        "ci_config_path": null,
    })
}

fn runner(r: Option<&RunnerRow>) -> Value {
    match r {
        None => Value::Null,
        Some(r) => json!({
            "id": r.id,
            "description": r.description.clone().unwrap_or_default(),
            "runner_type": r.runner_type,
            "active": r.active,
            "is_shared": r.is_instance(),
            "tags": r.tags,
        }),
    }
}

fn build(j: &JobRow, runners: &[RunnerRow], style: TimeStyle) -> Value {
    let mut b = json!({
        "id": j.id,
        "stage": j.stage,
        "name": j.name,
        "status": j.status,
        "created_at": style.time(Some(&j.created_at)),
        "started_at": style.time(j.started_at.as_deref()),
        "finished_at": style.time(j.finished_at.as_deref()),
        "duration": j.duration,
        "queued_duration": j.queued_duration,
        "failure_reason": if j.status == "failed" { json!(j.failure_reason) } else { Value::Null },
        "when": j.when,
        "manual": j.when == "manual",
        "allow_failure": j.allow_failure,
        "user": user(j.user.as_ref()),
        "runner": runner(j.runner_id.and_then(|id| runners.iter().find(|r| r.id == id))),
        "artifacts_file": {"filename": null, "size": null},
        "environment": null,
    });
    if j.status != "failed"
        && let Some(o) = b.as_object_mut()
    {
        o.remove("failure_reason");
    }
    b
}

fn pipeline_url(p: &PipelineRow, project: &ProjectRow, base: &str) -> String {
    format!("{base}/{}/-/pipelines/{}", project.path_with_namespace(), p.id)
}

/// The `Pipeline Hook` body; `status` is the status recorded when the event happened (the
/// pipeline may have moved on since).
pub fn pipeline_hook(d: &PipelineData, status: &str, base: &str, style: TimeStyle) -> Value {
    let p = &d.pipeline;
    let mut stages: Vec<&str> = Vec::new();
    let mut jobs: Vec<&JobRow> = d.builds.iter().chain(d.bridges.iter()).collect();
    jobs.sort_by_key(|j| (j.stage_idx, j.id));
    for j in &jobs {
        if !stages.contains(&j.stage.as_str()) {
            stages.push(&j.stage);
        }
    }
    let variables: Vec<Value> = d.variables.iter().map(|v| json!({"key": v.key, "value": v.value})).collect();
    let mut body = json!({
        "object_kind": "pipeline",
        "object_attributes": {
            "id": p.id,
            "iid": p.iid,
            "name": p.name,
            "ref": p.ref_name,
            "tag": p.tag,
            "sha": p.sha,
            "before_sha": p.before_sha,
            "source": p.source,
            "status": status,
            "detailed_status": detailed_status(status),
            "stages": stages,
            "created_at": style.time(Some(&p.created_at)),
            "finished_at": style.time(p.finished_at.as_deref()),
            "duration": p.duration,
            "queued_duration": p.queued_duration,
            "protected_ref": false,
            "variables": variables,
            "url": pipeline_url(p, &d.project, base),
            "root_pipeline_id": d.root_pipeline_id,
        },
        "merge_request": null,
        "user": user(p.user.as_ref()),
        "project": project(&d.project, base),
        "commit": null,
        "builds": d.builds.iter().map(|j| build(j, &d.runners, style)).collect::<Vec<_>>(),
        "bridges": d.bridges.iter().map(|j| {
            let mut b = build(j, &d.runners, style);
            if let Some(o) = b.as_object_mut() { o.insert("bridge".into(), Value::Bool(true)); }
            b
        }).collect::<Vec<_>>(),
    });
    if let (Some((s, up)), Some(o)) = (&d.source, body.as_object_mut()) {
        let path = up.path_with_namespace();
        o.insert(
            "source_pipeline".into(),
            json!({
                "project": {"id": up.id, "web_url": format!("{base}/{path}"), "path_with_namespace": path},
                "job_id": s.source_job_id,
                "pipeline_id": s.source_pipeline_id,
                "bridge_id": s.source_bridge_id,
            }),
        );
    }
    body
}

/// The `Job Hook` body with the recorded `status`.
pub fn job_hook(d: &JobData, status: &str, base: &str, style: TimeStyle) -> Value {
    let (j, p) = (&d.job, &d.pipeline);
    let proj = project(&d.project, base);
    json!({
        "object_kind": "build",
        "ref": p.ref_name,
        "tag": p.tag,
        "before_sha": p.before_sha,
        "sha": p.sha,
        "retries_count": 0,
        "build_id": j.id,
        "build_name": j.name,
        "build_stage": j.stage,
        "build_status": status,
        "build_created_at": style.time(Some(&j.created_at)),
        "build_started_at": style.time(j.started_at.as_deref()),
        "build_finished_at": style.time(j.finished_at.as_deref()),
        "build_duration": j.duration,
        "build_queued_duration": j.queued_duration,
        "build_allow_failure": j.allow_failure,
        "build_failure_reason": j.failure_reason.clone().unwrap_or_else(|| "unknown_failure".into()),
        "pipeline_id": p.id,
        "runner": runner(d.runner.as_ref()),
        "project_id": d.project.id,
        "project_name": d.project.name_with_namespace(),
        "user": user(j.user.as_ref()),
        "commit": {
            "id": p.id,
            "name": p.name,
            "sha": p.sha,
            "message": null,
            "author_name": null,
            "author_email": null,
            "author_url": null,
            "status": p.status,
            "duration": p.duration,
            "started_at": style.time(p.started_at.as_deref()),
            "finished_at": style.time(p.finished_at.as_deref()),
        },
        "repository": {
            "name": d.project.name,
            "url": proj["git_ssh_url"],
            "description": d.project.description,
            "homepage": proj["web_url"],
            "git_http_url": proj["git_http_url"],
            "git_ssh_url": proj["git_ssh_url"],
            "visibility_level": proj["visibility_level"],
        },
        "project": proj,
        "environment": null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_times_use_sidekiqs_format_and_test_times_iso() {
        assert_eq!(
            TimeStyle::Queued.time(Some("2026-01-05T09:59:58.123Z")),
            json!("2026-01-05 09:59:58 UTC")
        );
        assert_eq!(TimeStyle::Iso.time(Some("2026-01-05T09:59:58.123Z")), json!("2026-01-05T09:59:58.123Z"));
        assert_eq!(TimeStyle::Queued.time(None), Value::Null);
    }

    #[test]
    fn detailed_status_uses_gitlabs_labels() {
        assert_eq!(detailed_status("success"), "passed");
        assert_eq!(detailed_status("running"), "running");
        assert_eq!(detailed_status("manual"), "waiting for manual action");
    }
}
