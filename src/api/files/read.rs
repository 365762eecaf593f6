//! The reads: the file entity (`GET`), its `X-Gitlab-*` headers (`HEAD`) and the raw bytes
//! (`GET …/raw`), at a ref.

use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{base64_encode, check_path};
use crate::api::params::Params;
use crate::api::refs::readable;
use crate::auth::MaybeCaller;
use crate::db::commits;
use crate::db::files::{self, FileEntry};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

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
pub(super) async fn show_file(
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
pub(super) async fn head_file(
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
pub(super) async fn raw_file(
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
