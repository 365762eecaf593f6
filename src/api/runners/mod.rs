//! Runners: registration and the runner's own token calls (GitLab's `lib/api/ci/runner.rb`:
//! `POST|DELETE /runners`, `POST /runners/verify`, `DELETE /runners/managers`), `POST
//! /user/runners` (`lib/api/users.rb`), the people's Runners API (`lib/api/ci/runners.rb`:
//! `GET /runners`, `GET /runners/all`, `GET|PUT|DELETE /runners/:id`,
//! `POST /runners/:id/reset_authentication_token`, `GET /projects/:id/runners`)
//! and `POST /projects/:id/runners/reset_registration_token`.
//!
//! Tokens are hashed at rest: a runner's `glrt-…` token and a project's `GR1348941…`
//! registration token are generated here, shown once in the response that creates them, and
//! afterwards only compared by digest. `runners_token` never appears in a project's JSON.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use super::access::{self, ProjectAccess};
use super::entities::UserBasic;
use super::limits;
use super::pagination::{self, Page};
use super::params::Params;
use crate::auth::{self, Caller};
use crate::db::projects::{self, ProjectRow};
use crate::db::runners::{
    self as store, NewRunner, RunnerChanges, RunnerFilter, RunnerInfo, RunnerRow, Visible,
};
use crate::db::users;
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccessLevel};
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/runners", |m| m.get(list_owned).post(register).delete(unregister));
    // gitlab-runner-api posts to `/api/v4/runners/`.
    r.resource("/runners/", |m| m.post(register).delete(unregister));
    r.resource("/runners/all", |m| m.get(list_all));
    r.resource("/runners/verify", |m| m.post(verify));
    r.resource("/runners/managers", |m| m.delete(delete_manager));
    r.resource("/runners/reset_authentication_token", |m| m.post(reset_token_with_token));
    r.resource("/runners/{runner_id}", |m| m.get(show).put(update).delete(delete));
    r.resource("/runners/{runner_id}/reset_authentication_token", |m| m.post(reset_token_by_id));
    r.resource("/user/runners", |m| m.post(create_for_user));
    r.resource("/projects/{id}/runners", |m| m.get(list_for_project));
    r.resource("/projects/{id}/runners/reset_registration_token", |m| m.post(reset_registration_token));
}

const RUNNER_TYPES: [&str; 3] = ["instance_type", "group_type", "project_type"];
const STATUSES: [&str; 6] = ["active", "paused", "online", "offline", "never_contacted", "stale"];
/// GitLab's `AVAILABLE_SCOPES`: legacy types, types and statuses.
const SCOPES: [&str; 11] = [
    "specific",
    "shared",
    "instance_type",
    "group_type",
    "project_type",
    "active",
    "paused",
    "online",
    "offline",
    "never_contacted",
    "stale",
];
const ACCESS_LEVELS: [&str; 2] = ["not_protected", "ref_protected"];
/// GitLab's smallest `maximum_timeout`: 10 minutes.
const MIN_MAXIMUM_TIMEOUT: i64 = 600;

/// `{id, token, token_expires_at}` (GitLab's `RunnerRegistrationDetails`).
fn registration_details(id: i64, token: &str) -> Value {
    json!({"id": id, "token": token, "token_expires_at": null})
}

/// The online and stale deadlines for now, in the stored format.
fn deadlines() -> (String, String) {
    let now = OffsetDateTime::now_utc();
    (
        model::format_ts(now - Duration::seconds(store::ONLINE_CONTACT_TIMEOUT_SECS)),
        model::format_ts(now - Duration::seconds(store::STALE_TIMEOUT_SECS)),
    )
}

// ---- attributes ---------------------------------------------------------------------------

/// The runner attributes a client may set on registration, creation and update.
#[derive(Debug, Default)]
struct Attributes {
    description: Option<String>,
    maintenance_note: Option<String>,
    active: Option<bool>,
    run_untagged: Option<bool>,
    locked: Option<bool>,
    access_level: Option<String>,
    maximum_timeout: Option<i64>,
    tags: Option<Vec<String>>,
}

impl Attributes {
    /// Reads and type-checks the attributes (Grape's parameter validation: `<key> is invalid`,
    /// `active, paused are mutually exclusive`, …). Model validations come later.
    fn from_params(p: &Params) -> ApiResult<Attributes> {
        if p.get("active").is_some() && p.get("paused").is_some() {
            return Err(ApiError::Param("active, paused are mutually exclusive".into()));
        }
        let active = match p.bool("paused")? {
            Some(paused) => Some(!paused),
            None => p.bool("active")?,
        };
        let maintenance_note = match p.string("maintenance_note")? {
            Some(n) => Some(n),
            None => p.string("maintainer_note")?,
        };
        Ok(Attributes {
            description: p.string("description")?,
            maintenance_note,
            active,
            run_untagged: p.bool("run_untagged")?,
            locked: p.bool("locked")?,
            access_level: p.one_of("access_level", &ACCESS_LEVELS)?,
            maximum_timeout: p.int("maximum_timeout")?,
            tags: tag_list(p, "tag_list")?,
        })
    }

    /// GitLab's model validations on the values the runner will have.
    fn validate(&self, tags: &[String], run_untagged: bool) -> ApiResult<()> {
        limits::RUNNER_DESCRIPTION.check_opt("description", self.description.as_deref())?;
        limits::RUNNER_MAINTENANCE_NOTE.check_opt("maintenance_note", self.maintenance_note.as_deref())?;
        if tags.len() > store::MAX_TAGS {
            return Err(ApiError::validation(
                "tags_list",
                format!("Too many tags specified. Please limit the number of tags to {}", store::MAX_TAGS),
            ));
        }
        for tag in tags {
            limits::RUNNER_TAG.check("tag_list", tag)?;
        }
        if tags.is_empty() && !run_untagged {
            return Err(ApiError::validation(
                "tags_list",
                "can not be empty when runner is not allowed to pick untagged jobs",
            ));
        }
        if self.maximum_timeout.is_some_and(|t| t < MIN_MAXIMUM_TIMEOUT) {
            return Err(ApiError::validation("maximum_timeout", "needs to be at least 10 minutes"));
        }
        Ok(())
    }

    /// A new runner with these attributes (GitLab's defaults for the rest), validated.
    fn into_new_runner(self, token: &str, info: RunnerInfo) -> ApiResult<NewRunner> {
        let tags = self.tags.clone().unwrap_or_default();
        let run_untagged = self.run_untagged.unwrap_or(true);
        self.validate(&tags, run_untagged)?;
        Ok(NewRunner {
            token_digest: auth::digest(token),
            short_token: auth::runner_short_token(token),
            runner_type: String::new(),
            registration_type: String::new(),
            project_id: None,
            creator_id: None,
            description: self.description,
            maintenance_note: self.maintenance_note,
            active: self.active.unwrap_or(true),
            run_untagged,
            locked: self.locked.unwrap_or(false),
            access_level: self.access_level.unwrap_or_else(|| "not_protected".into()),
            maximum_timeout: self.maximum_timeout,
            tags,
            info,
        })
    }
}

/// A tag list: a JSON array, repeated fields or a comma-separated string; every item is split
/// at commas too (GitLab's `CommaSeparatedToArray`), trimmed and deduplicated.
fn tag_list(p: &Params, key: &str) -> ApiResult<Option<Vec<String>>> {
    Ok(p.string_list(key)?.map(|items| {
        store::normalize_tags(items.iter().flat_map(|i| i.split(',').map(str::to_string).collect::<Vec<_>>()))
    }))
}

/// The runner's `info` hash (`name`, `version`, `revision`, `platform`, `architecture`); each
/// value is cut to [`limits::RUNNER_INFO`]. Anything but a hash is `info is invalid`.
fn runner_info(p: &Params) -> ApiResult<RunnerInfo> {
    let Some(info) = p.get("info") else { return Ok(RunnerInfo::default()) };
    let Value::Object(map) = info else { return Err(ApiError::invalid("info")) };
    let field = |key: &str| -> Option<String> {
        let v = match map.get(key)? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        Some(v.chars().take(limits::RUNNER_INFO.max).collect())
    };
    Ok(RunnerInfo {
        name: field("name"),
        version: field("version"),
        revision: field("revision"),
        platform: field("platform"),
        architecture: field("architecture"),
    })
}

// ---- the runner's own calls (authenticated by a token parameter) --------------------------

/// `POST /runners` — legacy registration with a project's registration token: a project runner.
/// 201 `{id, token, token_expires_at}`; an unknown token is `403 Forbidden`.
async fn register(state: web::Data<AppState>, params: Params) -> ApiResult<HttpResponse> {
    let registration_token = params.required_string("token")?;
    let attributes = Attributes::from_params(&params)?;
    let info = runner_info(&params)?;
    let token = auth::new_runner_token()?;
    let mut new = attributes.into_new_runner(&token, info)?;
    new.runner_type = "project_type".into();
    new.registration_type = "registration_token".into();
    let runner = state
        .db
        .write(move |c| {
            let Some(project_id) = store::project_for_registration_token(c, &registration_token)? else {
                return Err(ApiError::forbidden());
            };
            new.project_id = Some(project_id);
            Ok(store::insert(c, &new, &model::now())?)
        })
        .await?;
    log::info!("registered runner {} with a project registration token", runner.id);
    Ok(HttpResponse::Created().json(registration_details(runner.id, &token)))
}

/// `POST /runners/verify` — 200 `{id, token, token_expires_at}` for a valid runner token
/// (recording the contact), 403 otherwise.
async fn verify(state: web::Data<AppState>, params: Params) -> ApiResult<HttpResponse> {
    let token = params.required_string("token")?;
    let _system_id = params.string("system_id")?;
    let info = runner_info(&params)?;
    let presented = token.clone();
    let runner = state
        .db
        .write(move |c| {
            let Some(runner) = store::authenticate(c, &presented)? else { return Ok(None) };
            store::touch_contacted(c, runner.id, &model::now())?;
            store::record_info(c, runner.id, &info)?;
            Ok(Some(runner))
        })
        .await?
        .ok_or_else(ApiError::forbidden)?;
    Ok(HttpResponse::Ok().json(registration_details(runner.id, &token)))
}

/// `DELETE /runners` — the runner deletes itself with its token: 204, or 403.
async fn unregister(state: web::Data<AppState>, params: Params) -> ApiResult<HttpResponse> {
    let token = params.required_string("token")?;
    let id = state
        .db
        .write(move |c| {
            let Some(runner) = store::authenticate(c, &token)? else { return Err(ApiError::forbidden()) };
            store::delete(c, runner.id)?;
            Ok(runner.id)
        })
        .await?;
    log::info!("runner {id} unregistered itself");
    Ok(HttpResponse::build(StatusCode::NO_CONTENT).finish())
}

/// `DELETE /runners/managers` — triggerd keeps no runner managers, so for a valid token there is
/// nothing to delete: 204; an unknown token is 403.
async fn delete_manager(state: web::Data<AppState>, params: Params) -> ApiResult<HttpResponse> {
    let [token, _system_id] = params.required_strings(["token", "system_id"])?;
    state.db.read(move |c| Ok(store::authenticate(c, &token)?)).await?.ok_or_else(ApiError::forbidden)?;
    Ok(HttpResponse::build(StatusCode::NO_CONTENT).finish())
}

/// `POST /runners/reset_authentication_token` — the runner swaps its token for a new one: 201
/// `{token, token_expires_at}`; the old token stops working. An unknown token is 403.
async fn reset_token_with_token(state: web::Data<AppState>, params: Params) -> ApiResult<HttpResponse> {
    let old = params.required_string("token")?;
    let token = auth::new_runner_token()?;
    let (digest, short) = (auth::digest(&token), auth::runner_short_token(&token));
    let id = state
        .db
        .write(move |c| {
            let Some(runner) = store::authenticate(c, &old)? else { return Err(ApiError::forbidden()) };
            store::set_token(c, runner.id, &digest, &short)?;
            Ok(runner.id)
        })
        .await?;
    log::info!("runner {id} reset its authentication token");
    Ok(HttpResponse::Created().json(json!({"token": token, "token_expires_at": null})))
}

/// `POST /runners/:id/reset_authentication_token` — a new token for a runner the caller may
/// update (admins; Maintainers+ of a project runner's project): 201 `{token, token_expires_at}`.
async fn reset_token_by_id(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let details = load_runner(&state, &caller, &path, Right::Update).await?;
    let id = details.runner.id;
    let token = auth::new_runner_token()?;
    let (digest, short) = (auth::digest(&token), auth::runner_short_token(&token));
    state
        .db
        .write(
            move |c| {
                if store::set_token(c, id, &digest, &short)? { Ok(()) } else { Err(ApiError::RecordNotFound) }
            },
        )
        .await?;
    log::info!("user {} reset the authentication token of runner {id}", caller.user.id);
    Ok(HttpResponse::Created().json(json!({"token": token, "token_expires_at": null})))
}

// ---- creating runners and registration tokens as a person ---------------------------------

/// `POST /user/runners` — a project runner (Maintainer+ of `project_id`) or an instance runner
/// (admins); 201 `{id, token, token_expires_at}`, the only time the token is shown.
async fn create_for_user(
    caller: Caller,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let runner_type = params.required_string("runner_type")?;
    if !RUNNER_TYPES.contains(&runner_type.as_str()) {
        return Err(ApiError::not_valid_value("runner_type"));
    }
    let _group_id = params.int("group_id")?;
    let project_id = params.int("project_id")?;
    let attributes = Attributes::from_params(&params)?;
    let insufficient = || ApiError::Forbidden(Some("Insufficient permissions".into()));
    let invalid_scope = || ApiError::BadRequest("Missing/invalid scope".into());
    let scope = match runner_type.as_str() {
        "instance_type" => {
            if !caller.is_admin() {
                return Err(insufficient());
            }
            None
        }
        "project_type" => {
            let Some(project_id) = project_id else { return Err(invalid_scope()) };
            let user_id = caller.user.id;
            let found = state
                .db
                .read(move |c| {
                    let Some(p) = projects::find(c, project_id)? else { return Ok(None) };
                    Ok(Some((p.id, projects::member_level(c, p.id, user_id)?)))
                })
                .await?;
            let Some((project_id, level)) = found else { return Err(invalid_scope()) };
            let maintainer =
                level.and_then(AccessLevel::from_i64).is_some_and(|l| l >= AccessLevel::Maintainer);
            if !(caller.is_admin() || maintainer) {
                return Err(insufficient());
            }
            Some(project_id)
        }
        // triggerd has no groups: no group id names one.
        _ => return Err(invalid_scope()),
    };
    let token = auth::new_runner_token()?;
    let mut new = attributes.into_new_runner(&token, RunnerInfo::default())?;
    new.runner_type = runner_type;
    new.registration_type = "authenticated_user".into();
    new.project_id = scope;
    new.creator_id = Some(caller.user.id);
    let runner = state
        .db
        .write(move |c| {
            if let Some(project_id) = new.project_id
                && projects::find(c, project_id)?.is_none()
            {
                return Err(ApiError::BadRequest("Missing/invalid scope".into()));
            }
            Ok(store::insert(c, &new, &model::now())?)
        })
        .await?;
    log::info!("user {} created {} runner {}", caller.user.id, runner.runner_type, runner.id);
    Ok(HttpResponse::Created().json(registration_details(runner.id, &token)))
}

/// `POST /projects/:id/runners/reset_registration_token` — a new registration token for the
/// project (Maintainer+), shown in this response only; the previous one stops working.
async fn reset_registration_token(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let pa = maintained_project(&state, &caller, &path).await?;
    let token = auth::new_runner_registration_token()?;
    let digest = auth::digest(&token);
    let project_id = pa.project.id;
    state
        .db
        .write(move |c| {
            if projects::find(c, project_id)?.is_none() {
                return Err(ApiError::NotFound("Project"));
            }
            Ok(store::set_registration_token(c, project_id, &digest, &model::now())?)
        })
        .await?;
    log::info!("user {} reset the runner registration token of project {project_id}", caller.user.id);
    Ok(HttpResponse::Created().json(json!({"token": token, "token_expires_at": null})))
}

/// A project the caller is Maintainer+ of (or an admin): `404 Project Not Found` / 403.
async fn maintained_project(state: &AppState, caller: &Caller, id: &str) -> ApiResult<ProjectAccess> {
    let pa = access::project_for(state, Some(caller), id).await?;
    pa.require(AccessLevel::Maintainer)?;
    Ok(pa)
}

// ---- the people's Runners API --------------------------------------------------------------

/// GitLab's `Runner` entity (list items).
#[derive(Debug, Serialize)]
struct RunnerJson {
    id: i64,
    description: Option<String>,
    ip_address: Option<String>,
    active: bool,
    paused: bool,
    is_shared: bool,
    runner_type: String,
    name: Option<String>,
    online: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_by: Option<UserBasic>,
    created_at: String,
    status: &'static str,
}

impl RunnerJson {
    fn new(r: &RunnerRow, creator: Option<&users::UserRow>, base: &str) -> Self {
        let (online_deadline, stale_deadline) = deadlines();
        RunnerJson {
            id: r.id,
            description: r.description.clone(),
            ip_address: None,
            active: r.active,
            paused: !r.active,
            is_shared: r.is_instance(),
            runner_type: r.runner_type.clone(),
            name: r.name.clone(),
            online: r.online(&online_deadline),
            created_by: creator.map(|u| UserBasic::new(u, base)),
            created_at: r.created_at.clone(),
            status: r.status(&online_deadline, &stale_deadline),
        }
    }
}

/// GitLab's `ProjectIdentity` fields of `BasicProjectDetails`, as a runner's `projects` shows them.
#[derive(Debug, Serialize)]
struct RunnerProjectJson {
    id: i64,
    description: Option<String>,
    name: String,
    name_with_namespace: String,
    path: String,
    path_with_namespace: String,
    created_at: String,
}

impl RunnerProjectJson {
    fn new(p: &ProjectRow) -> Self {
        RunnerProjectJson {
            id: p.id,
            description: p.description.clone(),
            name: p.name.clone(),
            name_with_namespace: p.name_with_namespace(),
            path: p.path.clone(),
            path_with_namespace: p.path_with_namespace(),
            created_at: p.created_at.clone(),
        }
    }
}

/// GitLab's `RunnerDetails` entity.
#[derive(Debug, Serialize)]
struct RunnerDetailsJson {
    #[serde(flatten)]
    basic: RunnerJson,
    tag_list: Vec<String>,
    run_untagged: bool,
    locked: bool,
    maximum_timeout: Option<i64>,
    access_level: String,
    version: Option<String>,
    revision: Option<String>,
    platform: Option<String>,
    architecture: Option<String>,
    contacted_at: Option<String>,
    maintenance_note: Option<String>,
    projects: Vec<RunnerProjectJson>,
    groups: Vec<Value>,
}

/// Everything a runner's details need, read at once.
struct Details {
    runner: RunnerRow,
    creator: Option<users::UserRow>,
    /// The runner's projects the caller may see (all of them for admins).
    projects: Vec<ProjectRow>,
    /// The caller may update (and so see the maintenance note of) the runner.
    may_update: bool,
}

impl Details {
    fn json(self, base: &str) -> RunnerDetailsJson {
        let r = self.runner;
        RunnerDetailsJson {
            basic: RunnerJson::new(&r, self.creator.as_ref(), base),
            tag_list: r.tags,
            run_untagged: r.run_untagged,
            locked: r.locked,
            maximum_timeout: r.maximum_timeout,
            access_level: r.access_level,
            version: r.version,
            revision: r.revision,
            platform: r.platform,
            architecture: r.architecture,
            contacted_at: r.contacted_at,
            maintenance_note: if self.may_update { r.maintenance_note } else { None },
            projects: self.projects.iter().map(RunnerProjectJson::new).collect(),
            groups: Vec::new(),
        }
    }
}

/// What the caller may do with a runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Right {
    Read,
    Update,
}

/// Loads a runner for the caller: `{"error":"id is invalid"}` for a non-integer id, `404 Not
/// found` when missing, `403 Forbidden - No access granted` without the right. Instance runners
/// are readable by every signed-in user and changed by admins only; a project runner by admins
/// and Maintainers+ of one of its projects.
async fn load_runner(state: &AppState, caller: &Caller, raw_id: &str, right: Right) -> ApiResult<Details> {
    let id = raw_id.parse::<i64>().map_err(|_| ApiError::invalid("id"))?;
    let (user_id, admin) = (caller.user.id, caller.is_admin());
    let found = state
        .db
        .read(move |c| {
            let Some(runner) = store::find(c, id)? else { return Ok(None) };
            let maintainer = !runner.is_instance() && store::maintained_by(c, id, user_id)?;
            let creator = match runner.creator_id {
                Some(u) => users::find(c, u)?,
                None => None,
            };
            let mut projects = Vec::new();
            for p in store::projects_of(c, id)? {
                if admin || projects::member_level(c, p.id, user_id)?.is_some() {
                    projects.push(p);
                }
            }
            Ok(Some((runner, maintainer, creator, projects)))
        })
        .await?;
    let Some((runner, maintainer, creator, projects)) = found else { return Err(ApiError::RecordNotFound) };
    let may_update = admin || maintainer;
    let may_read = may_update || runner.is_instance();
    let allowed = match right {
        Right::Read => may_read,
        Right::Update => may_update,
    };
    if !allowed {
        return Err(ApiError::Forbidden(Some("No access granted".into())));
    }
    Ok(Details { runner, creator, projects, may_update })
}

/// `GET /runners/:id` — the runner's details.
async fn show(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let details = load_runner(&state, &caller, &path, Right::Read).await?;
    Ok(HttpResponse::Ok().json(details.json(&pagination::base_url(&req, &state))))
}

/// The parameters `PUT /runners/:id` accepts; at least one is required.
const UPDATABLE: [&str; 9] = [
    "description",
    "active",
    "paused",
    "tag_list",
    "run_untagged",
    "locked",
    "access_level",
    "maximum_timeout",
    "maintenance_note",
];

/// `PUT /runners/:id` — changes description, paused/active, tags, run_untagged, locked,
/// access_level, maximum_timeout, maintenance_note; answers the details.
async fn update(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    if UPDATABLE.iter().all(|k| params.get(k).is_none()) {
        return Err(ApiError::Param(format!(
            "{} are missing, at least one parameter must be provided",
            UPDATABLE.join(", ")
        )));
    }
    let attributes = Attributes::from_params(&params)?;
    let details = load_runner(&state, &caller, &path, Right::Update).await?;
    let runner = &details.runner;
    let tags = attributes.tags.clone().unwrap_or_else(|| runner.tags.clone());
    attributes.validate(&tags, attributes.run_untagged.unwrap_or(runner.run_untagged))?;
    let id = runner.id;
    let changes = RunnerChanges {
        description: attributes.description,
        maintenance_note: attributes.maintenance_note,
        active: attributes.active,
        run_untagged: attributes.run_untagged,
        locked: attributes.locked,
        access_level: attributes.access_level,
        maximum_timeout: attributes.maximum_timeout.map(Some),
        tags: attributes.tags,
    };
    let updated = state
        .db
        .write(move |c| {
            if !store::update(c, id, &changes)? {
                return Err(ApiError::RecordNotFound);
            }
            store::find(c, id)?.ok_or(ApiError::RecordNotFound)
        })
        .await?;
    let details = Details { runner: updated, ..details };
    Ok(HttpResponse::Ok().json(details.json(&pagination::base_url(&req, &state))))
}

/// `DELETE /runners/:id` — 204 (admins; Maintainers+ of the project runner's project).
async fn delete(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let details = load_runner(&state, &caller, &path, Right::Update).await?;
    let id = details.runner.id;
    state
        .db
        .write(move |c| if store::delete(c, id)? { Ok(()) } else { Err(ApiError::RecordNotFound) })
        .await?;
    log::info!("user {} deleted runner {id}", caller.user.id);
    Ok(HttpResponse::build(StatusCode::NO_CONTENT).finish())
}

/// Which deprecated `scope` values a listing accepts.
#[derive(Debug, Clone, Copy)]
enum Scopes {
    /// `GET /runners`: statuses only.
    Statuses,
    /// `GET /runners/all` and `GET /projects/:id/runners`: types and statuses.
    All,
}

/// Reads the listing filters (`scope`, `type`, `status`, `paused`, `tag_list`,
/// `version_prefix`).
fn filter_from(p: &Params, scopes: Scopes) -> ApiResult<RunnerFilter> {
    let mut f = RunnerFilter::default();
    if let Some(scope) = p.one_of("scope", &SCOPES)? {
        let is_status = STATUSES.contains(&scope.as_str());
        match (scopes, scope.as_str()) {
            (_, _) if is_status => f.statuses.push(scope),
            (Scopes::Statuses, _) => {
                return Err(ApiError::message(StatusCode::BAD_REQUEST, "Scope contains invalid value"));
            }
            (Scopes::All, "specific") => f.types.push(vec!["project_type".into(), "group_type".into()]),
            (Scopes::All, "shared") => f.types.push(vec!["instance_type".into()]),
            (Scopes::All, _) => f.types.push(vec![scope]),
        }
    }
    if let Some(t) = p.one_of("type", &RUNNER_TYPES)? {
        f.types.push(vec![t]);
    }
    if let Some(s) = p.one_of("status", &STATUSES)? {
        f.statuses.push(s);
    }
    if let Some(paused) = p.bool("paused")? {
        f.statuses.push(if paused { "paused" } else { "active" }.into());
    }
    f.tags = tag_list(p, "tag_list")?;
    if let Some(prefix) = p.string("version_prefix")? {
        if !prefix.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '+') {
            return Err(ApiError::invalid("version_prefix"));
        }
        f.version_prefix = Some(prefix);
    }
    Ok(f)
}

/// One page of runners in GitLab's `Runner` entity.
async fn respond_list(
    req: &HttpRequest,
    state: &AppState,
    params: &Params,
    visible: Visible,
    filter: RunnerFilter,
) -> ApiResult<HttpResponse> {
    Page::refuse_keyset(params)?;
    let page = Page::from_params(params)?;
    let (online_deadline, stale_deadline) = deadlines();
    let (rows, total) = state
        .db
        .read(move |c| {
            let (rows, total) = store::list(
                c,
                &visible,
                &filter,
                &online_deadline,
                &stale_deadline,
                page.limit(),
                page.offset(),
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let creator = match r.creator_id {
                    Some(u) => users::find(c, u)?,
                    None => None,
                };
                out.push((r, creator));
            }
            Ok((out, total))
        })
        .await?;
    let base = pagination::base_url(req, state);
    let items: Vec<RunnerJson> = rows.iter().map(|(r, u)| RunnerJson::new(r, u.as_ref(), &base)).collect();
    Ok(pagination::respond(req, state, page, total, &items))
}

/// `GET /runners` — project runners of projects where the caller is Maintainer+.
async fn list_owned(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let filter = filter_from(&params, Scopes::Statuses)?;
    respond_list(&req, &state, &params, Visible::OwnedBy(caller.user.id), filter).await
}

/// `GET /runners/all` — every runner (admins).
async fn list_all(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    if !caller.is_admin() {
        return Err(ApiError::forbidden());
    }
    let filter = filter_from(&params, Scopes::All)?;
    respond_list(&req, &state, &params, Visible::All, filter).await
}

/// `GET /projects/:id/runners` — the project's runners and every instance runner (Maintainer+).
async fn list_for_project(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let pa = maintained_project(&state, &caller, &path).await?;
    let filter = filter_from(&params, Scopes::All)?;
    respond_list(&req, &state, &params, Visible::Project(pa.project.id), filter).await
}
