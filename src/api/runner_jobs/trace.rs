//! `PATCH /jobs/:id/trace`: log appends, with the job token masked in what is stored.

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderValue;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};

use super::{TRACE_UPDATE_INTERVAL, authenticate_job, job_id};
use crate::api::params;
use crate::db::jobs as store;
use crate::error::{ApiError, ApiResult};
use crate::model;
use crate::state::AppState;

/// What replaces the job token in a stored log (padded with `*` to the token's length, so the
/// log's size stays the size the runner counts in its `Content-Range`).
const MASK: &str = "[MASKED]";

/// `start` of a `Content-Range: <start>-<end>` header (the end is ignored, as GitLab does).
fn range_start(req: &HttpRequest) -> ApiResult<i64> {
    let raw = req
        .headers()
        .get("Content-Range")
        .ok_or_else(|| ApiError::BadRequest("Missing header Content-Range".into()))?;
    let start =
        raw.to_str().ok().and_then(|s| s.trim().split('-').next()).and_then(|s| s.trim().parse::<i64>().ok());
    start.filter(|s| *s >= 0).ok_or_else(|| ApiError::BadRequest("Content-Range is invalid".into()))
}

/// Replaces each occurrence of `secret` by `[MASKED]` padded with `*` to the secret's length.
fn mask(bytes: &[u8], secret: &[u8]) -> Vec<u8> {
    if secret.len() < MASK.len() {
        return bytes.to_vec();
    }
    let mut replacement = MASK.as_bytes().to_vec();
    replacement.resize(secret.len(), b'*');
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(secret) {
            out.extend_from_slice(&replacement);
            i += secret.len();
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// What an append did.
enum Appended {
    /// The new size the runner should count from.
    Size(i64),
    /// The offset did not match: the current size.
    WrongOffset(i64),
}

/// `PATCH /jobs/:id/trace` — appends the body to the log when `Content-Range` starts at its
/// current size (416 with `Range: 0-<size>` otherwise); 202 with `Job-Status`, `Range` and
/// `X-GitLab-Trace-Update-Interval`. The job token is masked in what is stored; beyond
/// `runners.max_trace_bytes` output is dropped (still 202).
pub(super) async fn append_trace(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let id = job_id(&req)?;
    let from_query = params::decode_urlencoded(req.query_string().as_bytes())
        .ok()
        .and_then(|pairs| pairs.into_iter().rev().find(|(k, _)| k == "token").map(|(_, v)| v));
    let token =
        req.headers().get("JOB-TOKEN").and_then(|v| v.to_str().ok()).map(str::to_string).or(from_query);
    let Some(token) = token else { return Ok(ApiError::forbidden().error_response()) };
    if let Err(resp) = authenticate_job(&state, id, Some(token.clone())).await? {
        return Ok(resp);
    }
    let start = range_start(&req)?;
    let max = i64::try_from(state.config.runners.max_trace_bytes).unwrap_or(i64::MAX);
    let secret = token.into_bytes();
    let body = body.to_vec();
    let now = model::now();
    let outcome = state
        .db
        .write(move |c| {
            let size = store::trace_size(c, id)?;
            store::touch_running(c, id, &now)?;
            let received = body.len() as i64;
            if size >= max {
                // Full: the rest of the output is dropped, the runner carries on.
                return Ok(Appended::Size(start + received));
            }
            if start != size {
                return Ok(Appended::WrongOffset(size));
            }
            // Mask the job token, also when it spans this chunk and the stored tail.
            let tail = store::trace_tail(c, id, secret.len() as i64 - 1)?;
            let mut joined = tail.clone();
            joined.extend_from_slice(&body);
            let masked = mask(&joined, &secret);
            let (new_tail, chunk) = masked.split_at(tail.len());
            if new_tail != tail.as_slice() {
                store::replace_trace_from(c, id, size - tail.len() as i64, new_tail)?;
            }
            let room = usize::try_from(max - size).unwrap_or(0);
            if chunk.len() > room {
                let mut kept = chunk[..room].to_vec();
                kept.extend_from_slice(b"\n[job log truncated: size limit reached]\n");
                store::append_trace(c, id, &kept)?;
            } else if !chunk.is_empty() {
                store::append_trace(c, id, chunk)?;
            }
            Ok(Appended::Size(size + received))
        })
        .await?;
    match outcome {
        Appended::Size(size) => Ok(HttpResponse::Accepted()
            .insert_header(("Job-Status", "running"))
            .insert_header(("Range", format!("0-{size}")))
            .insert_header(("X-GitLab-Trace-Update-Interval", TRACE_UPDATE_INTERVAL))
            .finish()),
        Appended::WrongOffset(size) => {
            let mut resp = ApiError::message(StatusCode::RANGE_NOT_SATISFIABLE, "416 Range Not Satisfiable")
                .error_response();
            if let Ok(v) = HeaderValue::from_str(&format!("0-{size}")) {
                resp.headers_mut().insert(actix_web::http::header::RANGE, v);
            }
            Ok(resp)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_the_length_and_hides_every_occurrence() {
        let secret = b"glcbt-abcdefghijklmnop";
        let out = mask(b"a glcbt-abcdefghijklmnop b glcbt-abcdefghijklmnop", secret);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.len(), 2 + 22 + 3 + 22);
        assert!(!text.contains("glcbt-"));
        assert!(text.starts_with("a [MASKED]**************"));
    }
}
