//! Runners: registration and the runner's own token calls (GitLab's `lib/api/ci/runner.rb`:
//! `POST|DELETE /runners`, `POST /runners/verify`, `DELETE /runners/managers`), `POST
//! /user/runners` (`lib/api/users.rb`), the people's Runners API (`lib/api/ci/runners.rb`:
//! `GET /runners`, `GET /runners/all`, `GET|PUT|DELETE /runners/:id`, `GET /runners/:id/jobs`,
//! `POST /runners/:id/reset_authentication_token`, `GET /projects/:id/runners`)
//! and `POST /projects/:id/runners/reset_registration_token`.
//!
//! Tokens are hashed at rest: a runner's `glrt-…` token and a project's `GR1348941…`
//! registration token are generated here, shown once in the response that creates them, and
//! afterwards only compared by digest. `runners_token` never appears in a project's JSON.
//!
//! This module registers the routes and holds what the others share; `runner_calls` answers the
//! calls a runner makes with its token, `manage` a person's calls on one runner (and creating
//! runners and registration tokens), `list` the listings, `jobs` the jobs a runner took,
//! `attributes` reads the attributes a client may set and `entity` builds GitLab's JSON.

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use super::project_role::maintained_project;
use crate::db::runners as store;
use crate::model::{self};

mod attributes;
mod entity;
mod jobs;
mod list;
pub(crate) mod manage;
mod runner_calls;

pub use entity::RunnerJson;
use jobs::list_jobs;
use list::{list_all, list_for_project, list_owned};
use manage::{create_for_user, delete, reset_registration_token, reset_token_by_id, show, update};
use runner_calls::{delete_manager, register, reset_token_with_token, unregister, verify};

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
    r.resource("/runners/{runner_id}/jobs", |m| m.get(list_jobs));
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
pub(crate) fn deadlines() -> (String, String) {
    let now = OffsetDateTime::now_utc();
    (
        model::format_ts(now - Duration::seconds(store::ONLINE_CONTACT_TIMEOUT_SECS)),
        model::format_ts(now - Duration::seconds(store::STALE_TIMEOUT_SECS)),
    )
}
