//! The trigger call — the hot path: `POST /projects/:id/trigger/pipeline` and the webhook form
//! `POST /projects/:id/ref/:ref/trigger/pipeline`. There is no user authentication: the `token`
//! parameter is the credential, so `PRIVATE-TOKEN` / `Authorization` headers are ignored.
//!
//! Order (gitlab-reference.md §1.2): parameter validation (400 `{"error":…}`), the Pipeline Hook
//! loop guard (403), the variables' shape and limits (400 `{"message":…}`), then — in ONE write
//! on the writer thread, so a failure creates nothing and concurrent calls share group commits —
//! project (404), token (404: unknown, expired, another project's), the owner's right to create
//! pipelines (400), the token's policy (403 for a ref it does not allow, 400 naming a variable
//! outside its variable policy; see `trigger_policy.rs`), ref resolution (400), the CI
//! configuration at the ref's commit (a kept failed pipeline and 422, or 400 when rules leave no
//! job: see `ci_pipeline.rs`) and the inserts of the pipeline and its jobs. 201 only after the
//! commit. With `dry_run=true` the same steps run in a savepoint that is always rolled back
//! (`Db::trial`) and the answer is 200 with the pipeline that would have been created.
//! With an `Idempotency-Key` header (`idempotency.rs`) the key is looked up right after the
//! token: a retry gets the first answer again, and a first call stores its answer in the same
//! write as its pipeline.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value};

use super::access::{ProjectRef, find_project};
use std::time::Duration;

use super::ci_pipeline::{self, Created, Creation};
use super::client_addr;
use super::idempotency::{self, Idempotency};
use super::pagination;
use super::params::Params;
use super::pipelines::Pipeline;
use super::trigger_audit::{self, Answer, Attempt, Audit};
use super::trigger_credential::{Credential, credential};
use super::trigger_policy;
// The fuzz target and the pipeline and job variable checks call these through this module.
pub use super::trigger_variables::{check_variable_limits, user_variables};
// Shared with `trigger:` jobs, the token list and the lifetimes: kept reachable here.
pub(crate) use super::trigger_credential::{JobDenied, is_expired, job_user_may_create, may_create};
use crate::auth;
use crate::config::LimitsConfig;
use crate::db::idempotency::{self as keys, StoredAnswer};
use crate::db::pipelines::{self as store, NewVariable};
use crate::db::{projects, trigger_events};
use crate::error::{ApiError, ApiResult};
use crate::model;
use crate::state::AppState;

/// Name of the file variable that carries the request's parameters.
const PAYLOAD_VARIABLE: &str = "TRIGGER_PAYLOAD";

pub fn configure(r: &mut super::Routes) {
    r.resource("/projects/{id}/trigger/pipeline", |m| m.post(trigger));
    r.resource("/projects/{id}/ref/{ref:.+}/trigger/pipeline", |m| m.post(trigger_with_ref));
}

/// `POST /projects/:id/trigger/pipeline`
async fn trigger(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    run(req, state, path.into_inner(), None, params).await
}

/// `POST /projects/:id/ref/:ref/trigger/pipeline` (webhook form: the path ref wins over a `ref`
/// in the body, e.g. a push event's `"ref":"refs/heads/…"`).
async fn trigger_with_ref(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let (id, ref_name) = path.into_inner();
    run(req, state, id, Some(ref_name), params).await
}

/// A validated trigger request.
struct TriggerRequest {
    token: String,
    ref_name: String,
    variables: Vec<(String, String)>,
    inputs: Option<String>,
    payload: String,
    /// `dry_run=true` (triggerd): validate everything, create nothing.
    dry_run: bool,
    /// The `Idempotency-Key` header's key and the call's fingerprint.
    idempotency: Option<Idempotency>,
}

/// What the write did.
enum Outcome {
    /// A new pipeline (or a kept failed one), with the stored answer's body when the call had a key.
    New(Created, Option<String>),
    /// The call's key already had an answer: nothing was created.
    Replayed(StoredAnswer),
}

async fn run(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: String,
    path_ref: Option<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    // Throttled probing (issue 14): an address past its failed attempts is refused before any
    // work, without touching the database.
    let addr = client_addr::of(&req, &state.config.server);
    let limit = &state.config.triggers;
    let window = Duration::from_secs(limit.failed_attempts_window_secs);
    if let Some(seconds) = state.trigger_failures.retry_after(addr, limit.max_failed_attempts, window) {
        return Err(ApiError::TooManyRequests(TOO_MANY_FAILURES, seconds));
    }
    let answer = call(&req, &state, addr, id, path_ref, params).await;
    if let Err(e) = &answer
        && limit.max_failed_attempts > 0
        && is_failed_attempt(e)
    {
        state.trigger_failures.record_failure(addr, window);
    }
    answer
}

const TOO_MANY_FAILURES: &str = "too many failed trigger attempts from this address";

/// A refusal that counts as a failed attempt: an unknown project, an unknown, expired or
/// revoked trigger token or a job token that no longer works (404, 401).
fn is_failed_attempt(e: &ApiError) -> bool {
    use actix_web::ResponseError;
    matches!(e.status_code(), StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED)
}

/// The call itself, once the address may call.
async fn call(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    addr: Option<std::net::IpAddr>,
    id: String,
    path_ref: Option<String>,
    mut params: Params,
) -> ApiResult<HttpResponse> {
    let payload = trigger_payload(params.as_map(), &id, path_ref.as_deref());
    if let Some(r) = path_ref {
        params.set("ref", Value::String(r));
    }
    let request = validate(&params, req, &state.config.limits, payload)?;
    let digest = auth::digest(&request.token);
    let pref = ProjectRef::parse(&id);
    let now = model::now();
    let base = pagination::base_url(req, state);
    if request.dry_run {
        // The same steps on the writer's connection, always rolled back: what the call would
        // create (or the error it would get), with nothing written, not even `last_used`.
        let wbase = base.clone();
        let (outcome, project) = state
            .db
            .trial(move |conn| create(conn, &pref, &digest, &request, &now, &wbase, &mut Audit::default()))
            .await?;
        return match outcome {
            Outcome::New(Created::Pipeline(row), _) => {
                Ok(HttpResponse::Ok().json(would_be_pipeline(&row, &project, &base)?))
            }
            Outcome::New(Created::ConfigError(error), _) => Err(error),
            Outcome::Replayed(stored) => Ok(idempotency::replay(stored)),
        };
    }
    let wbase = base.clone();
    let attempt = Attempt::new(addr, &request.ref_name);
    let (outcome, project) = state
        .db
        .write(move |conn| {
            // The audit record goes into this same write. A refusal (4xx) comes before the call
            // wrote anything, so its record commits alone; a server error rolls everything back.
            let mut audit = Audit::default();
            let before = trigger_events::changes_so_far(conn);
            match create(conn, &pref, &digest, &request, &now, &wbase, &mut audit) {
                Ok((outcome, project)) => {
                    let answer = match &outcome {
                        Outcome::New(Created::Pipeline(row), _) => Answer::Accepted { pipeline_id: row.id },
                        Outcome::New(Created::ConfigError(e), _) => Answer::Rejected(e),
                        Outcome::Replayed(stored) => {
                            let status = if stored.status == 201 { 200 } else { stored.status };
                            Answer::Replayed { status, pipeline_id: stored.pipeline_id }
                        }
                    };
                    trigger_audit::record(conn, &audit, &attempt, answer, &now)?;
                    Ok(Ok((outcome, project)))
                }
                Err(e)
                    if trigger_audit::is_server_error(&e)
                        || trigger_events::changes_so_far(conn) != before =>
                {
                    Err(e)
                }
                Err(e) => {
                    trigger_audit::record(conn, &audit, &attempt, Answer::Rejected(&e), &now)?;
                    Ok(Err(e))
                }
            }
        })
        .await??;
    match outcome {
        Outcome::New(created, stored_body) => {
            if created.has_pending_jobs() {
                state.job_queue.tick();
            }
            match (created, stored_body) {
                // The body stored for the key, byte for byte what a retry will get.
                (Created::Pipeline(_), Some(body)) => {
                    Ok(HttpResponse::Created().content_type("application/json").body(body))
                }
                (Created::Pipeline(row), None) => {
                    Ok(HttpResponse::Created().json(Pipeline::new(&row, &project, &base)))
                }
                // The failed pipeline is kept (it was committed); the caller learns why.
                (Created::ConfigError(error), _) => Err(error),
            }
        }
        Outcome::Replayed(stored) => Ok(idempotency::replay(stored)),
    }
}

/// The pipeline entity of a dry run: without what only a stored pipeline has (`id`, `iid`,
/// `web_url`, `detailed_status.details_path`), plus `"dry_run": true`.
fn would_be_pipeline(
    row: &store::PipelineRow,
    project: &projects::ProjectRow,
    base: &str,
) -> ApiResult<Value> {
    let mut value = serde_json::to_value(Pipeline::new(row, project, base))
        .map_err(|e| ApiError::Internal(format!("dry run: {e}")))?;
    if let Some(map) = value.as_object_mut() {
        for key in ["id", "iid", "web_url"] {
            map.remove(key);
        }
        if let Some(Value::Object(status)) = map.get_mut("detailed_status") {
            status.remove("details_path");
        }
        map.insert("dry_run".into(), Value::Bool(true));
    }
    Ok(value)
}

/// Steps 1–3: everything that needs no database.
fn validate(
    params: &Params,
    req: &HttpRequest,
    limits: &LimitsConfig,
    payload: String,
) -> ApiResult<TriggerRequest> {
    // 1. Grape's validation, in the order GitLab declares the parameters; all failures joined.
    let mut errors = Vec::new();
    let ref_name = required(params, "ref", true, &mut errors);
    let token = required(params, "token", false, &mut errors);
    for key in ["variables", "inputs"] {
        if params.get(key).is_some_and(|v| !v.is_object()) {
            errors.push(format!("{key} is invalid"));
        }
    }
    let dry_run = params.bool("dry_run").unwrap_or_else(|_| {
        errors.push("dry_run is invalid".into());
        None
    });
    let (Some(ref_name), Some(token), true) = (ref_name, token, errors.is_empty()) else {
        return Err(ApiError::Param(errors.join(", ")));
    };
    // 2. A pipeline webhook pointed back at the trigger endpoint would loop forever.
    let event = req.headers().get("x-gitlab-event").and_then(|v| v.to_str().ok());
    if event == Some("Pipeline Hook") {
        return Err(ApiError::forbidden());
    }
    // 3. Variables: a map of strings to strings, within the configured limits.
    let variables = user_variables(params, limits)?;
    let inputs = params.get("inputs").map(Value::to_string);
    // 4. The idempotency key (a header: 400 when malformed).
    let idempotency = idempotency::key_of(req)?.map(|key| {
        let now_at = time::OffsetDateTime::now_utc();
        idempotency::for_call(key, &ref_name, &variables, params.get("inputs"), now_at)
    });
    Ok(TriggerRequest {
        token,
        ref_name,
        variables,
        inputs,
        payload,
        dry_run: dry_run.unwrap_or(false),
        idempotency,
    })
}

/// A required string parameter; records `<key> is missing` / `is invalid` (and `is empty` when
/// blanks are not allowed) and returns `None` on failure.
fn required(params: &Params, key: &str, nonblank: bool, errors: &mut Vec<String>) -> Option<String> {
    match params.string(key) {
        Ok(None) => errors.push(format!("{key} is missing")),
        Ok(Some(s)) if nonblank && s.trim().is_empty() => errors.push(format!("{key} is empty")),
        Ok(Some(s)) => return Some(s),
        Err(_) => errors.push(format!("{key} is invalid")),
    }
    None
}

/// `TRIGGER_PAYLOAD`: every request parameter except the token, in arrival order, with the
/// path's `id` (as its string) and `ref` merged in as Grape does, and `variables` `{}` when absent
/// — e.g. `{"ref":"main","id":"1","variables":{}}`.
fn trigger_payload(map: &Map<String, Value>, id: &str, path_ref: Option<&str>) -> String {
    let mut out = Map::with_capacity(map.len() + 2);
    for (k, v) in map {
        // GitLab hides only `token`; we hide every credential parameter a client might add
        // (`private_token`, …), so no secret lands in a pipeline variable.
        if !pagination::is_credential_param(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    out.insert("id".into(), Value::String(id.to_string()));
    if let Some(r) = path_ref {
        out.insert("ref".into(), Value::String(r.to_string()));
    }
    if out.get("variables").is_none_or(Value::is_null) {
        out.insert("variables".into(), Value::Object(Map::new()));
    }
    Value::Object(out).to_string()
}

/// `{"message":{"base":[text]}}`, GitLab's answer for a pipeline it did not create.
fn not_created(text: &str) -> ApiError {
    ApiError::validation("base", text)
}

/// Steps 4–8, inside the writer's transaction: any error rolls back everything this call did.
/// `base` is the URL prefix of a stored answer's links.
fn create(
    conn: &rusqlite::Connection,
    pref: &ProjectRef,
    digest: &[u8],
    request: &TriggerRequest,
    now: &str,
    base: &str,
    audit: &mut Audit,
) -> ApiResult<(Outcome, projects::ProjectRow)> {
    // 4. The project, without any access check.
    let project = find_project(conn, pref)?.ok_or(ApiError::NotFound(""))?;
    audit.project_id = Some(project.id);
    // 5./6. The credential: a trigger token of this project acting as its owner, or else the job
    //       token of a running job acting as the job's user (a multi-project pipeline).
    let (user, trigger_id, upstream, policy) = match credential(conn, &project, digest, now, audit)? {
        Credential::Trigger { id, owner, policy } => (owner, Some(id), None, policy),
        Credential::Job { user, upstream } => (user, None, Some(upstream), None),
    };
    // The idempotency key (issue 14): a key already answered for this token answers again (or is
    // a 422 for other parameters); keys belong to trigger tokens only.
    if let Some(idem) = &request.idempotency {
        let Some(tid) = trigger_id else {
            return Err(ApiError::Param(format!("{} needs a trigger token", idempotency::HEADER)));
        };
        if let Some(stored) = keys::find(conn, tid, &idem.key, &idem.since)? {
            if !auth::digests_match(&stored.fingerprint, &idem.fingerprint) {
                return Err(idempotency::mismatch());
            }
            return Ok((Outcome::Replayed(stored), project));
        }
    }
    // The token's own limits (issue 14): its refs (403), then its variables (400).
    if let Some(policy) = policy {
        trigger_policy::check_ref(&policy, &request.ref_name)?;
        trigger_policy::check_variables(&policy, &request.variables)?;
    }
    // 7. The ref.
    let resolved = crate::db::refs::resolve(conn, project.id, &request.ref_name)?
        .ok_or_else(|| not_created("Reference not found"))?;
    // GitLab persists a failed pipeline and answers 422 when a user variable is itself named
    // TRIGGER_PAYLOAD; we refuse the call with 400 and create nothing, which leaves no broken
    // pipeline behind and keeps "a failed request changes nothing".
    if request.variables.iter().any(|(k, _)| k == PAYLOAD_VARIABLE) {
        return Err(not_created("Duplicate variable name: TRIGGER_PAYLOAD"));
    }
    // 8. The pipeline, its variables (user variables, then the payload file), the iid counter and
    //    the jobs of its CI configuration.
    let mut vars: Vec<NewVariable> = request
        .variables
        .iter()
        .map(|(k, v)| NewVariable { key: k, value: v, variable_type: "env_var" })
        .collect();
    vars.push(NewVariable { key: PAYLOAD_VARIABLE, value: &request.payload, variable_type: "file" });
    let creation = Creation {
        project: &project,
        trigger_id,
        user: &user,
        resolved: &resolved,
        // GitLab: `pipeline` for a job token, even within one project.
        source: if upstream.is_some() { "pipeline" } else { "trigger" },
        variables: &vars,
        inputs: request.inputs.as_deref(),
        persist_config_errors: true,
        upstream,
    };
    let created = ci_pipeline::create(conn, &creation, now)?;
    // The key's answer, in this same write: a crash either keeps both or neither.
    let stored_body = match (&request.idempotency, trigger_id) {
        (Some(idem), Some(tid)) => Some(store_answer(conn, idem, tid, &created, &project, base, now)?),
        _ => None,
    };
    Ok((Outcome::New(created, stored_body), project))
}

/// Stores the first answer of a call with a key; returns its body.
fn store_answer(
    conn: &rusqlite::Connection,
    idem: &Idempotency,
    trigger_id: i64,
    created: &Created,
    project: &projects::ProjectRow,
    base: &str,
    now: &str,
) -> ApiResult<String> {
    use actix_web::ResponseError;
    let (status, body, pipeline_id) = match created {
        Created::Pipeline(row) => {
            let body = serde_json::to_string(&Pipeline::new(row, project, base))
                .map_err(|e| ApiError::Internal(format!("idempotency answer: {e}")))?;
            (StatusCode::CREATED, body, Some(row.id))
        }
        Created::ConfigError(error) => (error.status_code(), error.body().to_string(), None),
    };
    let answer = keys::NewAnswer {
        trigger_id,
        key: &idem.key,
        fingerprint: &idem.fingerprint,
        pipeline_id,
        status: status.as_u16(),
        body: &body,
    };
    keys::insert(conn, &answer, now)?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_payload_keeps_arrival_order_and_hides_the_token() {
        let p = json!({"ref": "main", "token": "glptt-x", "private_token": "glpat-y"});
        let Value::Object(map) = p else { unreachable!() };
        assert_eq!(trigger_payload(&map, "7", None), r#"{"ref":"main","id":"7","variables":{}}"#);
    }

    #[test]
    fn the_path_ref_replaces_a_body_ref_in_place() {
        let p = json!({"object_kind": "push", "ref": "refs/heads/other", "variables": null});
        let Value::Object(map) = p else { unreachable!() };
        assert_eq!(
            trigger_payload(&map, "owner/demo", Some("main")),
            r#"{"object_kind":"push","ref":"main","variables":{},"id":"owner/demo"}"#
        );
    }
}
