//! Commits: GitLab's `Commit` entity, `GET /projects/:id/repository/commits` (the history of a
//! ref, newest first) and `GET /projects/:id/repository/commits/:sha` (a SHA, a short SHA, or a
//! branch or tag name). Commits are made by the Repository Files API; a SHA a ref points at
//! without a commit row (made up by the Branches API or a README) is shown as a root commit by
//! `triggerd`, dated like the ref.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::pagination::{self, Page};
use super::params::Params;
use super::pipelines::PipelineBasic;
use super::refs::readable;
use crate::auth::MaybeCaller;
use crate::db::commit_statuses;
use crate::db::commits::{self, CommitRow, HistoryFilter, Target};
use crate::db::projects::ProjectRow;
use crate::error::{ApiError, ApiResult};
use crate::model;
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/projects/{id}/repository/commits", |m| m.get(list_commits));
    r.resource("/projects/{id}/repository/commits/{sha}", |m| m.get(show_commit));
}

/// The project's web URL (`<base>/<namespace>/<path>`).
pub fn project_url(base: &str, p: &ProjectRow) -> String {
    format!("{base}/{}", p.path_with_namespace())
}

/// GitLab's commit title: the first line of the message; a line of 100 characters or more is cut
/// at a word boundary to at most 81 characters ending in `…`.
pub fn title(message: &str) -> String {
    let line = message.split(['\r', '\n']).next().unwrap_or_default();
    if line.chars().count() < 100 {
        return line.to_string();
    }
    let head: String = line.chars().take(80).collect();
    let cut = match head.rfind(' ') {
        Some(i) if i > 0 => &head[..i],
        _ => head.as_str(),
    };
    format!("{cut}…")
}

/// GitLab's `Commit` entity for a commit row.
pub fn commit_json(c: &CommitRow, project_url: &str) -> Value {
    json!({
        "id": c.sha,
        "short_id": &c.sha[..c.sha.len().min(8)],
        "created_at": c.committed_date,
        "parent_ids": c.parent_sha.iter().collect::<Vec<_>>(),
        "title": title(&c.message),
        "message": c.message,
        "author_name": c.author_name,
        "author_email": c.author_email,
        "authored_date": c.authored_date,
        "committer_name": c.committer_name,
        "committer_email": c.committer_email,
        "committed_date": c.committed_date,
        "trailers": {},
        "extended_trailers": {},
        "web_url": format!("{project_url}/-/commit/{}", c.sha),
    })
}

/// The text of the root commit a SHA without a commit row stands for.
pub fn synthetic_message(sha: &str) -> String {
    format!("Commit {}", &sha[..sha.len().min(8)])
}

/// Author and committer of a commit triggerd made up.
pub const SYNTHETIC_NAME: &str = "triggerd";
pub const SYNTHETIC_EMAIL: &str = "triggerd@localhost";

/// The `Commit` entity of a SHA without a commit row: a root commit by `triggerd` dated `date`.
pub fn synthetic_json(sha: &str, date: &str, project_url: &str) -> Value {
    let row = CommitRow {
        id: 0,
        project_id: 0,
        sha: sha.to_string(),
        parent_sha: None,
        message: synthetic_message(sha),
        author_name: SYNTHETIC_NAME.into(),
        author_email: SYNTHETIC_EMAIL.into(),
        authored_date: date.into(),
        committer_name: SYNTHETIC_NAME.into(),
        committer_email: SYNTHETIC_EMAIL.into(),
        committed_date: date.into(),
    };
    commit_json(&row, project_url)
}

fn target_json(t: &Target, project_url: &str) -> Value {
    match &t.commit {
        Some(c) => commit_json(c, project_url),
        None => synthetic_json(&t.sha, &t.ref_date, project_url),
    }
}

/// `GET /projects/:id/repository/commits/:sha`: GitLab's `CommitDetail` (without `stats`), with
/// the commit's newest pipeline as `last_pipeline` and its status as `status`.
async fn show_commit(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, wanted) = path.into_inner();
    let pa = readable(&state, caller.0.as_ref(), &id).await?;
    let project_id = pa.project.id;
    let (target, last) = state
        .db
        .read(move |c| {
            let Some(target) = commits::resolve(c, project_id, &wanted)? else { return Ok(None) };
            let last = commit_statuses::pipeline_for(c, project_id, &target.sha, None, None)?;
            Ok(Some((target, last)))
        })
        .await?
        .ok_or(ApiError::NotFound("Commit"))?;
    let base = pagination::base_url(&req, &state);
    let url = project_url(&base, &pa.project);
    let mut body = target_json(&target, &url);
    if let Value::Object(map) = &mut body {
        // The newest pipeline of the commit (GitLab's `last_pipeline`) and its status.
        let status = last.as_ref().map_or(Value::Null, |p| json!(p.status));
        let last = last.map(|p| PipelineBasic::new(&p, &pa.project, &base));
        map.insert("status".into(), status);
        map.insert("project_id".into(), json!(project_id));
        map.insert("last_pipeline".into(), json!(last));
    }
    Ok(HttpResponse::Ok().json(body))
}

/// One entry of a history page: a commit row, or the made-up root commit of a SHA without one.
enum Listed {
    Row(CommitRow),
    MadeUp(Target),
}

/// Reads `since` / `until` as stored timestamps; `<key> is invalid` when unparsable.
fn date_param(params: &Params, key: &str) -> ApiResult<Option<String>> {
    match params.string(key)? {
        None => Ok(None),
        Some(raw) => model::parse_datetime(&raw)
            .map(|t| Some(model::format_ts(t)))
            .ok_or_else(|| ApiError::invalid(key)),
    }
}

/// `GET /projects/:id/repository/commits`: `ref_name` (default: the default branch), `path`,
/// `since`, `until`; newest first, paginated. An unknown ref lists nothing, as GitLab does.
async fn list_commits(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let pa = readable(&state, caller.0.as_ref(), &path).await?;
    let page = Page::from_params(&params)?;
    let wanted = params.string("ref_name")?.or_else(|| pa.project.default_branch.clone());
    let filter = HistoryFilter {
        path: params.string("path")?,
        since: date_param(&params, "since")?,
        until: date_param(&params, "until")?,
    };
    let project_id = pa.project.id;
    let (items, total) = state
        .db
        .read(move |c| {
            let Some(wanted) = wanted else { return Ok((Vec::new(), 0)) };
            let Some(target) = commits::resolve(c, project_id, &wanted)? else { return Ok((Vec::new(), 0)) };
            match &target.commit {
                Some(head) => {
                    let (rows, total) =
                        commits::history(c, project_id, &head.sha, &filter, page.limit(), page.offset())?;
                    Ok((rows.into_iter().map(Listed::Row).collect(), total))
                }
                // A made-up SHA: one root commit that changed nothing.
                None => {
                    let matches = filter.path.is_none()
                        && filter.since.as_deref().is_none_or(|s| target.ref_date.as_str() >= s)
                        && filter.until.as_deref().is_none_or(|u| target.ref_date.as_str() <= u);
                    let shown = matches && page.offset() == 0;
                    Ok((if shown { vec![Listed::MadeUp(target)] } else { Vec::new() }, i64::from(matches)))
                }
            }
        })
        .await?;
    let url = project_url(&pagination::base_url(&req, &state), &pa.project);
    let items: Vec<Value> = items
        .iter()
        .map(|item| match item {
            Listed::Row(row) => commit_json(row, &url),
            Listed::MadeUp(target) => target_json(target, &url),
        })
        .collect();
    Ok(pagination::respond(&req, &state, page, total, &items))
}
