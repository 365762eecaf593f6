//! The writes: every create, update or delete of a file is a commit that moves (or creates) a
//! branch, checked against the branch head and made in one write.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::{base64_decode, blob_sha, check_path};
use crate::api::commits::{SYNTHETIC_EMAIL, SYNTHETIC_NAME, synthetic_message};
use crate::api::limits::{self, Limit, Unit};
use crate::api::params::Params;
use crate::api::refs::writable;
use crate::auth::Caller;
use crate::db::commits::{self, NewCommit};
use crate::db::files;
use crate::db::projects;
use crate::db::refs::{self, BRANCH};
use crate::error::{ApiError, ApiResult};
use crate::model;
use crate::state::AppState;

/// A commit message (GitLab sets none; this keeps one within a page).
pub const COMMIT_MESSAGE: Limit = Limit { max: 65_535, unit: Unit::Chars };

/// What a write does to its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

/// One write, checked and ready for the writer.
struct Change {
    action: Action,
    path: String,
    branch: String,
    start_branch: Option<String>,
    message: String,
    author_name: String,
    author_email: String,
    committer_name: String,
    committer_email: String,
    /// The new content and its blob id (create and update).
    content: Option<(Vec<u8>, String)>,
    executable: Option<bool>,
    last_commit_id: Option<String>,
    max_files: usize,
}

fn bad_request(text: impl Into<String>) -> ApiError {
    ApiError::message(StatusCode::BAD_REQUEST, text)
}

/// Reads and checks a write's parameters (GitLab's `simple_file_params` / `extended_file_params`).
fn read_change(
    action: Action,
    caller: &Caller,
    raw_path: &str,
    params: &Params,
    state: &AppState,
) -> ApiResult<Change> {
    let path = check_path(raw_path, false)?;
    let (branch, message) = if action == Action::Delete {
        let [b, m] = params.required_strings(["branch", "commit_message"])?;
        (b, m)
    } else {
        let [b, m, _] = params.required_strings(["branch", "commit_message", "content"])?;
        (b, m)
    };
    for (key, value) in [("branch", &branch), ("commit_message", &message)] {
        if value.trim().is_empty() {
            return Err(ApiError::Param(format!("{key} is empty")));
        }
    }
    limits::REF_NAME.check("branch", &branch)?;
    COMMIT_MESSAGE.check("commit_message", &message)?;
    let start_branch = params.string("start_branch")?;
    limits::REF_NAME.check_opt("start_branch", start_branch.as_deref())?;
    let author_name = params.string("author_name")?;
    let author_email = params.string("author_email")?;
    limits::USER_NAME.check_opt("author_name", author_name.as_deref())?;
    limits::EMAIL.check_opt("author_email", author_email.as_deref())?;
    let mut change = Change {
        action,
        path,
        branch,
        start_branch,
        message,
        author_name: author_name.unwrap_or_else(|| caller.user.name.clone()),
        author_email: author_email.unwrap_or_else(|| caller.user.email.clone()),
        committer_name: caller.user.name.clone(),
        committer_email: caller.user.email.clone(),
        content: None,
        executable: None,
        last_commit_id: None,
        max_files: state.config.limits.max_repository_files,
    };
    if action != Action::Delete {
        let encoding = params.one_of("encoding", &["text", "base64"])?;
        let text = params.required_string("content")?;
        let bytes = if encoding.as_deref() == Some("base64") {
            base64_decode(&text).ok_or_else(|| ApiError::BadRequest("content is not valid base64".into()))?
        } else {
            text.into_bytes()
        };
        let max = Limit { max: state.config.limits.max_file_bytes, unit: Unit::Bytes };
        if bytes.len() > max.max {
            return Err(ApiError::validation("content", max.message()));
        }
        let sha = blob_sha(&bytes);
        change.content = Some((bytes, sha));
        change.executable = params.bool("execute_filemode")?;
        change.last_commit_id = params.string("last_commit_id")?.map(|s| s.trim().to_ascii_lowercase());
    }
    Ok(change)
}

/// Makes the commit: checks the branch and the file against its head, stores the blob, the
/// commit and its tree, and moves (or creates) the branch — all in one write.
async fn commit(state: &AppState, project_id: i64, change: Change) -> ApiResult<()> {
    let now = model::now();
    state.db.write(move |c| apply(c, project_id, &change, &now)).await
}

fn apply(c: &rusqlite::Connection, project_id: i64, ch: &Change, now: &str) -> ApiResult<()> {
    let branch_row = refs::find(c, project_id, BRANCH, &ch.branch)?;
    let empty_repo = refs::has_no_branches(c, project_id)?;
    let start = ch.start_branch.as_deref().filter(|s| *s != ch.branch);
    let not_on_branch = || bad_request("You can only create or edit files when you are on a branch");
    // The commit the new one builds on (`None`: the first commit of an empty repository).
    let base_sha = if empty_repo {
        None
    } else if let Some(start) = start {
        let start_row = refs::find(c, project_id, BRANCH, start)?.ok_or_else(not_on_branch)?;
        if branch_row.is_some() {
            return Err(bad_request(format!(
                "A branch called '{}' already exists. Switch to that branch in order to make changes",
                ch.branch
            )));
        }
        Some(start_row.sha)
    } else {
        Some(branch_row.as_ref().ok_or_else(not_on_branch)?.sha.clone())
    };
    if branch_row.is_none() && !refs::valid_ref_name(&ch.branch) {
        return Err(bad_request(format!(
            "Something went wrong when we tried to create '{}' for you: Branch name is invalid",
            ch.branch
        )));
    }
    let base = match &base_sha {
        None => None,
        Some(sha) => Some(match commits::find(c, project_id, sha)? {
            Some(row) => row,
            // A made-up SHA: it becomes a root commit with an empty tree.
            None => {
                let date = commits::ref_points_at(c, project_id, sha)?.unwrap_or_else(|| now.to_string());
                let message = synthetic_message(sha);
                commits::insert(
                    c,
                    project_id,
                    &NewCommit {
                        sha,
                        parent_sha: None,
                        message: &message,
                        author_name: SYNTHETIC_NAME,
                        author_email: SYNTHETIC_EMAIL,
                        committer_name: SYNTHETIC_NAME,
                        committer_email: SYNTHETIC_EMAIL,
                        date: &date,
                    },
                )?
            }
        }),
    };
    let base_id = base.as_ref().map(|b| b.id);
    let existing = match base_id {
        Some(id) => files::get(c, id, &ch.path, false)?,
        None => None,
    };
    match ch.action {
        Action::Create => {
            if existing.is_some() {
                return Err(bad_request("A file with this name already exists"));
            }
            if let Some(id) = base_id {
                let dirs: Vec<&str> = ch.path.match_indices('/').map(|(i, _)| &ch.path[..i]).collect();
                if files::any_file_named(c, id, &dirs)? {
                    return Err(bad_request("A file with this name already exists"));
                }
                if files::is_directory(c, id, &ch.path)? {
                    return Err(bad_request("A directory with this name already exists"));
                }
                if files::count(c, id)? >= ch.max_files as i64 {
                    return Err(bad_request(format!(
                        "The repository would hold more than {} files (limits.max_repository_files)",
                        ch.max_files
                    )));
                }
            }
        }
        Action::Update | Action::Delete => {
            let Some(found) = &existing else {
                return Err(bad_request("A file with this name doesn't exist"));
            };
            if ch.action == Action::Update
                && ch.last_commit_id.as_deref().is_some_and(|l| l != found.last_commit_sha)
            {
                return Err(bad_request(
                    "You are attempting to update a file that has changed since you started editing it.",
                ));
            }
        }
    }
    let sha = refs::random_sha();
    let commit = commits::insert(
        c,
        project_id,
        &NewCommit {
            sha: &sha,
            parent_sha: base_sha.as_deref(),
            message: &ch.message,
            author_name: &ch.author_name,
            author_email: &ch.author_email,
            committer_name: &ch.committer_name,
            committer_email: &ch.committer_email,
            date: now,
        },
    )?;
    files::copy_tree(c, base_id, commit.id, &ch.path)?;
    if let Some((bytes, blob)) = &ch.content {
        let blob_row = files::put_blob(c, project_id, blob, bytes)?;
        let executable = ch.executable.unwrap_or_else(|| existing.as_ref().is_some_and(|e| e.executable));
        files::put_entry(c, commit.id, &ch.path, blob_row, executable)?;
    }
    files::record_change(c, commit.id, &ch.path, ch.action.name())?;
    match &branch_row {
        Some(row) => refs::set_sha(c, row.id, &sha)?,
        None => {
            refs::insert(c, project_id, BRANCH, &ch.branch, &sha, None, now)?;
        }
    }
    projects::set_default_branch_if_unset(c, project_id, &ch.branch)?;
    Ok(())
}

async fn write_file(
    action: Action,
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let (id, raw_path) = path.into_inner();
    let pa = writable(&state, &caller, &id).await?;
    let change = read_change(action, &caller, &raw_path, &params, &state)?;
    let body = json!({"file_path": change.path, "branch": change.branch});
    commit(&state, pa.project.id, change).await?;
    Ok(match action {
        Action::Create => HttpResponse::Created().json(body),
        Action::Update => HttpResponse::Ok().json(body),
        Action::Delete => HttpResponse::NoContent().finish(),
    })
}

/// `POST /projects/:id/repository/files/:file_path`: `201 {"file_path","branch"}`.
pub(super) async fn create_file(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    write_file(Action::Create, caller, state, path, params).await
}

/// `PUT /projects/:id/repository/files/:file_path`: `200 {"file_path","branch"}`.
pub(super) async fn update_file(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    write_file(Action::Update, caller, state, path, params).await
}

/// `DELETE /projects/:id/repository/files/:file_path`: `204`.
pub(super) async fn delete_file(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    write_file(Action::Delete, caller, state, path, params).await
}

#[cfg(test)]
mod tests {

    #[test]
    fn long_titles_are_cut_at_a_word() {
        assert_eq!(crate::api::commits::title("short\nbody"), "short");
        let long = "word ".repeat(30);
        let t = crate::api::commits::title(&long);
        assert!(t.ends_with('…') && t.chars().count() <= 81, "{t}");
    }
}
