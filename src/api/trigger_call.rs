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

use super::ci_pipeline::{self, Created, Creation, Upstream};
use super::client_addr;
use super::idempotency::{self, Idempotency};
use super::pagination;
use super::params::Params;
use super::pipelines::Pipeline;
use super::trigger_audit::{self, Answer, Attempt, Audit};
use super::trigger_policy;
use crate::auth;
use crate::config::LimitsConfig;
use crate::db::idempotency::{self as keys, StoredAnswer};
use crate::db::pipelines::{self as store, NewVariable};
use crate::db::triggers::TriggerPolicy;
use crate::db::{job_tokens, jobs, projects, trigger_events, users};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccessLevel};
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
            .trial(move |conn| create(conn, &pref, &digest, request, &now, &wbase, &mut Audit::default()))
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
            match create(conn, &pref, &digest, request, &now, &wbase, &mut audit) {
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

/// The user's variables in the order sent, checked against GitLab's shape rule and our limits.
/// Pure (no request, no database), so the fuzz target `trigger_variables` calls it directly.
pub fn user_variables(params: &Params, limits: &LimitsConfig) -> ApiResult<Vec<(String, String)>> {
    let bad = |text: String| ApiError::message(StatusCode::BAD_REQUEST, text);
    let Some(Value::Object(map)) = params.get("variables") else { return Ok(Vec::new()) };
    let mut out = Vec::with_capacity(map.len());
    for (key, value) in map {
        match value {
            Value::String(s) => out.push((key.clone(), s.clone())),
            _ => return Err(bad("variables needs to be a map of key-valued strings".into())),
        }
    }
    check_variable_limits(out.iter().map(|(k, v)| (k.as_str(), v.as_str())), limits)?;
    Ok(out)
}

/// Our limits on a pipeline's variables (count, key length and characters, value size): 400
/// `{"message":…}` naming the limit.
pub(crate) fn check_variable_limits<'a>(
    vars: impl ExactSizeIterator<Item = (&'a str, &'a str)>,
    limits: &LimitsConfig,
) -> ApiResult<()> {
    let bad = |text: String| ApiError::message(StatusCode::BAD_REQUEST, text);
    let count = vars.len();
    if count > limits.max_variables {
        return Err(bad(format!(
            "variables must not have more than {} entries (limits.max_variables)",
            limits.max_variables
        )));
    }
    for (key, value) in vars {
        if key.chars().count() > limits.max_variable_key_len {
            return Err(bad(format!(
                "variable keys must not be longer than {} characters (limits.max_variable_key_len)",
                limits.max_variable_key_len
            )));
        }
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(bad("variable keys may contain only letters, digits and underscores".into()));
        }
        if value.len() > limits.max_variable_value_bytes {
            return Err(bad(format!(
                "the value of variable {key} must not be larger than {} bytes (limits.max_variable_value_bytes)",
                limits.max_variable_value_bytes
            )));
        }
    }
    Ok(())
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
    request: TriggerRequest,
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

/// Who a trigger call acts as.
enum Credential {
    /// A trigger token of the project: its owner, and its policy when it has one.
    Trigger { id: i64, owner: users::UserRow, policy: Option<TriggerPolicy> },
    /// A running job's token: the job's user, and the job as the new pipeline's upstream.
    Job { user: users::UserRow, upstream: Upstream },
}

/// Resolves the token (GitLab's `Ci::PipelineTriggerService`): first as a trigger token —
/// unknown, expired and other projects' tokens all look the same (404) — then as a CI/CD job
/// token: 401 `Job is not running` once its job stopped, 404 when the job's project is not on
/// this project's job token allowlist or its user cannot see this project. Either user must be
/// allowed to create pipelines here (400).
fn credential(
    conn: &rusqlite::Connection,
    project: &projects::ProjectRow,
    digest: &[u8],
    now: &str,
    audit: &mut Audit,
) -> ApiResult<Credential> {
    let trigger = store::find_trigger_by_digest(conn, digest)?
        .filter(|t| auth::digests_match(&t.digest, digest))
        .filter(|t| t.project_id == project.id);
    if let Some(t) = trigger {
        // A token of this project: its calls are recorded against it from here on.
        audit.trigger_id = Some(t.id);
        if is_expired(t.expires_at.as_deref(), now) {
            audit.reason = Some("the trigger token has expired");
            return Err(ApiError::NotFound(""));
        }
        if t.secret_expires_at.as_deref().is_some_and(|e| is_expired(Some(e), now)) {
            audit.reason = Some("the grace period of this previous token has ended");
            return Err(ApiError::NotFound(""));
        }
        let owner = users::find(conn, t.owner_id)?.filter(|u| u.is_active());
        let owner = owner.filter(|u| may_create(conn, project, u).unwrap_or(false));
        let Some(owner) = owner else { return Err(insufficient_permissions()) };
        let policy = (!t.policy.is_empty()).then_some(t.policy);
        return Ok(Credential::Trigger { id: t.id, owner, policy });
    }
    let job_id = job_tokens::job_id_by_token_digest(conn, digest)?.ok_or(ApiError::NotFound(""))?;
    audit.job_token = true;
    let job = jobs::find_by_id(conn, job_id)?.ok_or(ApiError::NotFound(""))?;
    if job.status != "running" {
        return Err(ApiError::message(StatusCode::UNAUTHORIZED, "Job is not running"));
    }
    let user = job.user.filter(|u| u.is_active()).ok_or(ApiError::NotFound(""))?;
    match job_user_may_create(conn, project, job.project_id, &user)? {
        Ok(()) => {}
        Err(JobDenied::NotVisible | JobDenied::OutOfScope) => return Err(ApiError::NotFound("")),
        Err(JobDenied::CannotCreate) => return Err(insufficient_permissions()),
    }
    let upstream = Upstream {
        project_id: job.project_id,
        pipeline_id: job.pipeline_id,
        job_id: job.id,
        bridge_id: None,
    };
    Ok(Credential::Job { user, upstream })
}

/// Why a job's user may not create a pipeline in another project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobDenied {
    /// The user cannot see the target project.
    NotVisible,
    /// The target's job token scope does not allow the job's project.
    OutOfScope,
    /// The user is below Developer on the target.
    CannotCreate,
}

/// The rules for a job creating a pipeline in `target` as its (active) `user`, shared by the
/// trigger call with a job token and `trigger:` jobs: the user sees the target, the target's
/// job token scope allows `source_project_id`, and the user may create pipelines there.
pub(crate) fn job_user_may_create(
    conn: &rusqlite::Connection,
    target: &projects::ProjectRow,
    source_project_id: i64,
    user: &users::UserRow,
) -> rusqlite::Result<Result<(), JobDenied>> {
    let level = projects::member_level(conn, target.id, user.id)?.and_then(AccessLevel::from_i64);
    if !super::access::can_see(&target.visibility, true, user.is_admin, level.is_some()) {
        return Ok(Err(JobDenied::NotVisible));
    }
    if !job_tokens::may_access(conn, target.id, source_project_id)? {
        return Ok(Err(JobDenied::OutOfScope));
    }
    if !may_create(conn, target, user)? {
        return Ok(Err(JobDenied::CannotCreate));
    }
    Ok(Ok(()))
}

/// GitLab's `create_pipeline` ability: Developer+ (or an admin).
pub(crate) fn may_create(
    conn: &rusqlite::Connection,
    project: &projects::ProjectRow,
    user: &users::UserRow,
) -> rusqlite::Result<bool> {
    if user.is_admin {
        return Ok(true);
    }
    Ok(projects::member_level(conn, project.id, user.id)?
        .and_then(AccessLevel::from_i64)
        .is_some_and(|l| l >= AccessLevel::Developer))
}

fn insufficient_permissions() -> ApiError {
    not_created("Insufficient permissions to create a new pipeline")
}

/// A trigger expires at `expires_at` (GitLab's `Expirable`: `expires_at <= now`).
pub(crate) fn is_expired(expires_at: Option<&str>, now: &str) -> bool {
    let Some(e) = expires_at else { return false };
    match (model::parse_stored(e), model::parse_stored(now)) {
        (Some(e), Some(n)) => e <= n,
        // Not our timestamp format: fall back to a date comparison (`YYYY-MM-DD` sorts the same).
        _ => e <= now,
    }
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

    #[test]
    fn expiry_is_inclusive_of_now() {
        let now = "2030-01-01T00:00:00.000Z";
        assert!(is_expired(Some(now), now));
        assert!(is_expired(Some("2029-12-31T23:59:59.999Z"), now));
        assert!(!is_expired(Some("2030-01-01T00:00:00.001Z"), now));
        assert!(!is_expired(None, now));
        assert!(is_expired(Some("2029-12-31"), now));
    }
}
