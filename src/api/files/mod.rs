//! GitLab's Repository Files API without git: `GET`/`HEAD`/`POST`/`PUT`/`DELETE
//! /projects/:id/repository/files/:file_path` and `GET …/files/:file_path/raw`.
//!
//! Every write is a commit (a new random 40-hex SHA whose parent is the branch head) that moves
//! the branch; `start_branch` makes a new branch from another one's head. A read at a ref (branch,
//! tag, full or short commit SHA) sees the tree of that commit. Reading needs what reading
//! branches needs (Reporter+ on a private project); writing needs Developer+ (`push_code`).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::commits::{SYNTHETIC_EMAIL, SYNTHETIC_NAME, synthetic_message};
use super::limits::{self, Limit, Unit};
use super::params::Params;
use super::refs::{readable, writable};
use crate::auth::{Caller, MaybeCaller};
use crate::db::commits::{self, NewCommit};
use crate::db::files::{self, FileEntry};
use crate::db::projects;
use crate::db::refs::{self, BRANCH};
use crate::error::{ApiError, ApiResult};
use crate::model;
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    // GitLab's route is `files/*file_path/raw`; `files/raw` is a file named `raw`. Only GET and
    // HEAD match here, so a write to `files/a/raw` reaches the next resource.
    r.reads_only("/projects/{id}/repository/files/{file_path:.+}/raw", |m| m.get(raw_file).head(raw_file));
    // `.+`: the path usually arrives `%2F`-encoded, but raw slashes are accepted too.
    r.resource("/projects/{id}/repository/files/{file_path:.+}", |m| {
        m.get(show_file).head(head_file).post(create_file).put(update_file).delete(delete_file)
    });
}

/// Longest `file_path`, in bytes (git allows 4096; a path must fit a request line when encoded).
pub const FILE_PATH: Limit = Limit { max: 1024, unit: Unit::Bytes };

/// A commit message (GitLab sets none; this keeps one within a page).
pub const COMMIT_MESSAGE: Limit = Limit { max: 65_535, unit: Unit::Chars };

fn invalid_path() -> ApiError {
    ApiError::Param("file_path should be a valid file path".into())
}

/// Checks a decoded `file_path` as GitLab's `file_path` validator and git's tree rules would:
/// no `.`/`..`/`.git` or empty segments, no leading or trailing `/`, no control characters. The
/// raw endpoint accepts (and drops) one leading `/`.
pub fn check_path(raw: &str, leading_slash_allowed: bool) -> ApiResult<String> {
    let path = if leading_slash_allowed { raw.strip_prefix('/').unwrap_or(raw) } else { raw };
    FILE_PATH.check("file_path", path)?;
    if path.is_empty() || path.chars().any(char::is_control) {
        return Err(invalid_path());
    }
    let bad_segment = |s: &str| s.is_empty() || s == "." || s == ".." || s.eq_ignore_ascii_case(".git");
    if path.split('/').any(bad_segment) {
        return Err(invalid_path());
    }
    Ok(path.to_string())
}

/// Git's blob id: SHA-1 of `blob <size>\0<content>`.
pub fn blob_sha(content: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(format!("blob {}\0", content.len()).as_bytes());
    h.update(content);
    hex::encode(h.finalize())
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (Ruby's `Base64.strict_encode64`).
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64; ASCII whitespace (Ruby's `encode64` wraps lines) is skipped and the
/// padding may be left out. `None` for anything else.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut digits = Vec::with_capacity(text.len());
    let mut padding = 0;
    for b in text.bytes().filter(|b| !b.is_ascii_whitespace()) {
        if b == b'=' {
            padding += 1;
            continue;
        }
        if padding > 0 {
            return None; // data after padding
        }
        digits.push(B64.iter().position(|c| *c == b)? as u32);
    }
    let rem = digits.len() % 4;
    if rem == 1 || padding > 2 || (padding > 0 && (digits.len() + padding) % 4 != 0) {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, d)| n | (d << (18 - 6 * i)));
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

/// A file found at a ref.
struct Found {
    entry: FileEntry,
    commit_sha: String,
}

/// Finds `path` at `wanted` (a ref or SHA): `404 Commit Not Found`, `404 File Not Found`.
async fn find_file(
    state: &AppState,
    project_id: i64,
    wanted: String,
    path: String,
    content: bool,
) -> ApiResult<Found> {
    state
        .db
        .read(move |c| {
            let target = commits::resolve(c, project_id, &wanted)?.ok_or(ApiError::NotFound("Commit"))?;
            // A commit without a row has an empty tree.
            let commit = target.commit.ok_or(ApiError::NotFound("File"))?;
            let entry = files::get(c, commit.id, &path, content)?.ok_or(ApiError::NotFound("File"))?;
            Ok(Found { entry, commit_sha: target.sha })
        })
        .await
}

/// The `ref` parameter of a metadata read: required and not blank.
fn required_ref(params: &Params) -> ApiResult<String> {
    let r = params.required_string("ref")?;
    if r.trim().is_empty() {
        return Err(ApiError::Param("ref is empty".into()));
    }
    Ok(r)
}

/// GitLab's `blob_data` (the file entity without `content`), in GitLab's key order.
fn blob_data(f: &Found, wanted_ref: &str, content_sha256: &str) -> Value {
    let name = f.entry.path.rsplit('/').next().unwrap_or_default();
    json!({
        "file_name": name,
        "file_path": f.entry.path,
        "size": f.entry.size,
        "encoding": "base64",
        "content_sha256": content_sha256,
        "ref": wanted_ref,
        "blob_id": f.entry.blob_sha,
        "commit_id": f.commit_sha,
        "last_commit_id": f.entry.last_commit_sha,
        "execute_filemode": f.entry.executable,
    })
}

/// `X-Gitlab-<Key-In-Title-Case>` for each field of `data`, as GitLab's `set_http_headers`.
fn set_headers(resp: &mut HttpResponseBuilder, data: &Value) {
    let Value::Object(map) = data else { return };
    for (key, value) in map {
        let name: Vec<String> = key
            .split('_')
            .map(|part| {
                let mut chars = part.chars();
                chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
            })
            .collect();
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        // A value that cannot be a header (never for our paths and SHAs) is left out.
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(format!("x-gitlab-{}", name.join("-"))),
            HeaderValue::from_bytes(text.as_bytes()),
        ) {
            resp.insert_header((n, v));
        }
    }
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// `GET /projects/:id/repository/files/:file_path?ref=`: the file entity with base64 `content`.
async fn show_file(
    caller: MaybeCaller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let (id, raw_path) = path.into_inner();
    let pa = readable(&state, caller.0.as_ref(), &id).await?;
    let file_path = check_path(&raw_path, false)?;
    let wanted = required_ref(&params)?;
    let found = find_file(&state, pa.project.id, wanted.clone(), file_path, true).await?;
    let content = found.entry.content.clone().unwrap_or_default();
    let mut data = blob_data(&found, &wanted, &sha256_hex(&content));
    let mut resp = HttpResponse::Ok();
    set_headers(&mut resp, &data);
    if let Value::Object(map) = &mut data {
        map.insert("content".into(), Value::String(base64_encode(&content)));
    }
    Ok(resp.json(data))
}

/// `HEAD /projects/:id/repository/files/:file_path?ref=`: the `X-Gitlab-*` headers only.
async fn head_file(
    caller: MaybeCaller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let (id, raw_path) = path.into_inner();
    let pa = readable(&state, caller.0.as_ref(), &id).await?;
    let file_path = check_path(&raw_path, false)?;
    let wanted = required_ref(&params)?;
    let found = find_file(&state, pa.project.id, wanted.clone(), file_path, true).await?;
    let content = found.entry.content.as_deref().unwrap_or_default();
    let data = blob_data(&found, &wanted, &sha256_hex(content));
    let mut resp = HttpResponse::Ok();
    set_headers(&mut resp, &data);
    Ok(resp.finish())
}

/// `GET /projects/:id/repository/files/:file_path/raw[?ref=]`: the bytes; `ref` defaults to the
/// default branch.
async fn raw_file(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let (id, raw_path) = path.into_inner();
    let pa = readable(&state, caller.0.as_ref(), &id).await?;
    let file_path = check_path(&raw_path, true)?;
    let given = params.string("ref")?;
    if given.as_deref().is_some_and(|r| r.trim().is_empty()) {
        return Err(ApiError::Param("ref is empty".into()));
    }
    let wanted =
        given.clone().or_else(|| pa.project.default_branch.clone()).ok_or(ApiError::NotFound("Commit"))?;
    let found = find_file(&state, pa.project.id, wanted, file_path, true).await?;
    let content = found.entry.content.clone().unwrap_or_default();
    let data = blob_data(&found, given.as_deref().unwrap_or_default(), &sha256_hex(&content));
    let mut resp = HttpResponse::Ok();
    set_headers(&mut resp, &data);
    let text = !content.contains(&0) && std::str::from_utf8(&content).is_ok();
    resp.content_type(if text { "text/plain; charset=utf-8" } else { "application/octet-stream" });
    let name = found.entry.path.rsplit('/').next().unwrap_or_default();
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' { c } else { '_' }).collect();
    let encoded: String =
        form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>().replace('+', "%20");
    resp.insert_header((
        header::CONTENT_DISPOSITION,
        format!("inline; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
    ));
    if req.method() == actix_web::http::Method::HEAD {
        return Ok(resp.finish());
    }
    Ok(resp.body(content))
}

// ---------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------

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
    state.db.write(move |c| apply(c, project_id, change, &now)).await
}

fn apply(c: &rusqlite::Connection, project_id: i64, ch: Change, now: &str) -> ApiResult<()> {
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
async fn create_file(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    write_file(Action::Create, caller, state, path, params).await
}

/// `PUT /projects/:id/repository/files/:file_path`: `200 {"file_path","branch"}`.
async fn update_file(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    write_file(Action::Update, caller, state, path, params).await
}

/// `DELETE /projects/:id/repository/files/:file_path`: `204`.
async fn delete_file(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    write_file(Action::Delete, caller, state, path, params).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_are_gits() {
        // `git hash-object` of an empty file and of "hello\n".
        assert_eq!(blob_sha(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
        assert_eq!(blob_sha(b"hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
    }

    #[test]
    fn base64_round_trips_and_refuses_garbage() {
        for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar", &[0, 255, 128, 7]] {
            let text = base64_encode(data);
            assert_eq!(base64_decode(&text).as_deref(), Some(data), "{text}");
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_decode("Zm8").as_deref(), Some(&b"fo"[..]), "padding may be left out");
        assert_eq!(base64_decode("Zm9v\nYmFy\n").as_deref(), Some(&b"foobar"[..]), "line breaks are skipped");
        for bad in ["Zm9v!", "Z", "Zm8==x", "Zm8===", "Zg=", "@@@@"] {
            assert_eq!(base64_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn file_paths_follow_gits_rules() {
        for ok in [".gitlab-ci.yml", "a/b/c.txt", "dir/.hidden", "ünï code.md", "a..b"] {
            assert_eq!(check_path(ok, false).unwrap(), ok);
        }
        for bad in [
            "",
            "/abs",
            "trail/",
            "a//b",
            "../x",
            "a/../b",
            "a/./b",
            ".",
            "..",
            ".git/config",
            "a\0b",
            "a\nb",
        ] {
            assert!(check_path(bad, false).is_err(), "{bad:?}");
        }
        assert_eq!(check_path("/x.txt", true).unwrap(), "x.txt");
        assert!(check_path(&"a".repeat(1025), false).is_err());
        assert!(check_path(&"a".repeat(1024), false).is_ok());
    }

    #[test]
    fn long_titles_are_cut_at_a_word() {
        assert_eq!(super::super::commits::title("short\nbody"), "short");
        let long = "word ".repeat(30);
        let t = super::super::commits::title(&long);
        assert!(t.ends_with('…') && t.chars().count() <= 81, "{t}");
    }
}
