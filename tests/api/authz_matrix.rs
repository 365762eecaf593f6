//! The authorization matrix (design/reliability.md §4.5): every registered route × every kind
//! of caller × every project visibility, written down as data and run by one loop against one
//! server. Every mismatch is collected and reported at once, one labelled line per cell.
//!
//! Expected values follow GitLab's rules as product.md, gitlab-reference.md §3/§6 and the
//! README's API table state them: no or invalid credentials on an authenticated route → 401;
//! a project the caller cannot see → `404 Project Not Found`; a visible project but too low a
//! role → 403; a `read_api` token on a write → 403 `insufficient_scope`; expired or revoked
//! token → 401 `invalid_token`. Rows where the server and GitLab disagree say so in `note`
//! (prefixed `MISMATCH`) and accept both values (`200|403`), so the lead can decide.

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap};

use reqwest::Method;
use serde_json::{Value, json};
use triggerd::auth;

use crate::helpers::{
    DEVELOPER, GUEST, MAINTAINER, OWNER, REPORTER, Roles, TestApp, TestUser, spawn_app_with,
};

/// Who is calling. The first twelve are user callers (a `PRIVATE-TOKEN` header or none); the
/// last seven are the trigger call's own credential, a `token` in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Anonymous,
    NonMember,
    Guest,
    Reporter,
    Developer,
    Maintainer,
    Owner,
    Admin,
    /// A Developer of every project, blocked by an admin after seeding.
    Blocked,
    /// The maintainer's PAT that expired on 2020-01-01.
    ExpiredPat,
    /// The maintainer's revoked PAT.
    RevokedPat,
    /// The maintainer's `read_api` PAT.
    ReadApi,
    TriggerValid,
    TriggerUnknown,
    TriggerExpired,
    TriggerOfAnotherProject,
    TriggerEmpty,
    TriggerOwnerBlocked,
    TriggerOwnerGuest,
}

use Kind::*;

/// The columns of every row's expectation, in order.
const USER_KINDS: [Kind; 12] = [
    Anonymous, NonMember, Guest, Reporter, Developer, Maintainer, Owner, Admin, Blocked, ExpiredPat,
    RevokedPat, ReadApi,
];
/// The extra columns of the trigger-call rows, after a `;`.
const TRIGGER_KINDS: [Kind; 7] = [
    TriggerValid,
    TriggerUnknown,
    TriggerExpired,
    TriggerOfAnotherProject,
    TriggerEmpty,
    TriggerOwnerBlocked,
    TriggerOwnerGuest,
];

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Anonymous => "anonymous",
            NonMember => "non-member",
            Guest => "guest",
            Reporter => "reporter",
            Developer => "developer",
            Maintainer => "maintainer",
            Owner => "owner",
            Admin => "admin",
            Blocked => "blocked developer",
            ExpiredPat => "expired PAT",
            RevokedPat => "revoked PAT",
            ReadApi => "read_api PAT",
            TriggerValid => "valid trigger token",
            TriggerUnknown => "unknown trigger token",
            TriggerExpired => "expired trigger token",
            TriggerOfAnotherProject => "another project's trigger token",
            TriggerEmpty => "empty trigger token",
            TriggerOwnerBlocked => "trigger token of a blocked owner",
            TriggerOwnerGuest => "trigger token of a guest owner",
        }
    }

    fn is_trigger_credential(self) -> bool {
        TRIGGER_KINDS.contains(&self)
    }
}

/// What a cell needs besides the project: the object named by the path's second placeholder
/// (or by `{obj}` in the body), created fresh where the request changes or destroys it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Obj {
    Nothing,
    /// A fresh hook of the project (URL on 127.0.0.1).
    Hook,
    /// A fresh hook and the trigger `pipeline_events`.
    HookTest,
    /// A fresh hook and a delivery log row of it.
    HookLog,
    /// A fresh hook with the custom header `X-Matrix`, and that header's name.
    HookHeader,
    /// A hook of a project no caller belongs to.
    ForeignHook,
    /// The project's shared trigger, owned by the keeper (a Maintainer).
    Trigger,
    /// A fresh trigger owned by the caller (the keeper's for callers without a user).
    OwnTrigger,
    /// A fresh trigger owned by the keeper.
    OthersTrigger,
    /// The project's shared pipeline on `main`, started by the keeper.
    Pipeline,
    /// A fresh pipeline started by the caller.
    OwnPipeline,
    /// A fresh pipeline started by the keeper.
    FreshPipeline,
    /// A fresh pending job (of a fresh pipeline of the keeper's).
    FreshJob,
    /// A fresh failed job.
    FreshFailedJob,
    /// A fresh manual job.
    FreshManualJob,
    /// A job of a project no caller belongs to.
    ForeignJob,
    /// Another project, put on the project's job token allowlist.
    AllowlistedProject,
    /// The project of the cell itself.
    ThisProject,
    /// `main`.
    Branch,
    FreshBranch,
    /// `v1.0`.
    Tag,
    FreshTag,
    /// The project's shared file `shared.txt` on branch `files`, committed by the Owner.
    File,
    /// A fresh file on branch `files`, committed by the Owner through the API.
    FreshFile,
    /// A file name that does not exist yet.
    NewFile,
    /// The commit that added `shared.txt`.
    Commit,
    /// The guest's membership.
    Member,
    /// A fresh user who is a Developer of the project.
    FreshMember,
    /// A fresh user who is a second Owner of the project.
    FreshOwnerMember,
    /// A fresh user who is not a member (for `{obj}` in the body).
    NewUser,
    /// A fresh project with the usual members; the caller's own membership.
    SelfInFreshProject,
    /// A fresh project with the usual members.
    FreshProject,
    /// The keeper's user id.
    Keeper,
    /// The caller's own user id.
    CallerUser,
    FreshUser,
    FreshBlockedUser,
    /// A fresh PAT of the caller's user.
    OwnToken,
    /// A fresh PAT of the keeper.
    OthersToken,
    /// The cell authenticates with a fresh token of its kind (it revokes it).
    FreshCallerToken,
    /// `main` as the trigger call's path ref.
    Ref,
    /// The trigger of another project (`owner/elsewhere`, which no caller is a member of).
    ForeignTrigger,
    /// A pipeline of that other project.
    ForeignPipeline,
    /// A fresh project runner of the roles' private project.
    ProjectRunner,
    /// A fresh instance runner.
    InstanceRunner,
    /// The roles' private project's id (for `{obj}` in the body).
    RunnerProject,
    /// The guest's membership of the roles' group.
    GroupMember,
    /// A fresh user who is a Developer of the roles' group.
    FreshGroupMember,
    /// A fresh subgroup of the roles' group (the cell's `{id}`).
    FreshSubgroup,
    /// A fresh project with the usual members; the roles' group of its visibility as `{obj}`.
    FreshProjectAndGroup,
    /// A fresh subgroup of the roles' group, on the project's job token groups allowlist.
    AllowlistedGroup,
}

impl Obj {
    fn label(self) -> &'static str {
        match self {
            Obj::Nothing => "",
            Obj::Hook | Obj::HookTest => "a hook",
            Obj::HookLog => "a hook's log entry",
            Obj::HookHeader => "a hook's custom header",
            Obj::ForeignHook => "a hook of another project",
            Obj::Trigger => "a trigger of another user",
            Obj::OwnTrigger => "the caller's own trigger",
            Obj::OthersTrigger => "a trigger of another user",
            Obj::Pipeline => "a pipeline of another user",
            Obj::OwnPipeline => "the caller's own pipeline",
            Obj::FreshPipeline => "a pipeline",
            Obj::Branch | Obj::FreshBranch => "a branch",
            Obj::Tag | Obj::FreshTag => "a tag",
            Obj::File | Obj::FreshFile => "a file",
            Obj::NewFile => "a new file",
            Obj::Commit => "a commit",
            Obj::Member => "a guest member",
            Obj::FreshMember => "a developer member",
            Obj::FreshOwnerMember => "a second owner",
            Obj::NewUser => "a non-member user",
            Obj::SelfInFreshProject => "the caller's own membership",
            Obj::FreshProject => "a fresh project",
            Obj::Keeper => "another user",
            Obj::CallerUser => "the caller themself",
            Obj::FreshUser => "another user",
            Obj::FreshBlockedUser => "a blocked user",
            Obj::OwnToken => "the caller's own token",
            Obj::OthersToken => "another user's token",
            Obj::FreshCallerToken => "the token in use",
            Obj::Ref => "ref main",
            Obj::ForeignTrigger => "a trigger of another project",
            Obj::ForeignPipeline => "a pipeline of another project",
            Obj::FreshJob => "a pending job",
            Obj::FreshFailedJob => "a failed job",
            Obj::FreshManualJob => "a manual job",
            Obj::ForeignJob => "a job of another project",
            Obj::AllowlistedProject => "an allowlisted project",
            Obj::ThisProject => "the project itself",
            Obj::ProjectRunner => "a project runner",
            Obj::InstanceRunner => "an instance runner",
            Obj::RunnerProject => "a project runner of the roles' project",
            Obj::GroupMember => "a guest group member",
            Obj::FreshGroupMember => "a developer group member",
            Obj::FreshSubgroup => "a fresh subgroup",
            Obj::FreshProjectAndGroup => "a fresh project, into the group",
            Obj::AllowlistedGroup => "an allowlisted group",
        }
    }

    /// Whether the cell runs against a project of its own.
    fn fresh_project(self) -> bool {
        matches!(self, Obj::FreshProject | Obj::SelfInFreshProject | Obj::FreshProjectAndGroup)
    }

    /// Whether the object fills several path placeholders (values separated by commas).
    fn multi_valued(self) -> bool {
        matches!(self, Obj::HookTest | Obj::HookLog | Obj::HookHeader)
    }
}

/// One row: a request and the expected status for each caller kind.
///
/// `expect` has one column per caller kind, in the order of [`USER_KINDS`]:
///
/// ```text
/// anon  non-member  guest  reporter  developer  maintainer  owner  admin  blocked  expired  revoked  read_api
/// ```
///
/// and, on the trigger-call rows, `;` and one column per [`TRIGGER_KINDS`] credential:
///
/// ```text
/// valid  unknown  expired  another-project  empty  blocked-owner  guest-owner
/// ```
///
/// A column is one status for every visibility or `private/internal/public`; `a|b` accepts
/// either (a documented mismatch: current behaviour | what the spec wants). Body placeholders:
/// `{n}` a number unique to the cell, `{sha}` a 40-hex SHA, `{obj}` the object's id,
/// `{other_vis}` a visibility other than the project's.
struct Row {
    method: &'static str,
    /// The route's pattern exactly as registered (see `triggerd::api::route_table`).
    path: &'static str,
    obj: Obj,
    body: &'static str,
    expect: &'static str,
    note: &'static str,
}

const fn row(
    method: &'static str,
    path: &'static str,
    obj: Obj,
    body: &'static str,
    expect: &'static str,
) -> Row {
    Row { method, path, obj, body, expect, note: "" }
}

const fn noted(
    method: &'static str,
    path: &'static str,
    obj: Obj,
    body: &'static str,
    expect: &'static str,
    note: &'static str,
) -> Row {
    Row { method, path, obj, body, expect, note }
}

// Blocked users: triggerd answers 401 (README: "a blocked user's tokens answer 401"). GitLab's
// API guard answers 403 `Your account has been blocked.` (api_guard.rb `find_current_user!`);
// both refuse, the lead decides which to keep. The `blocked` column below encodes 401.

#[rustfmt::skip]
const ROWS: &[Row] = &[
    // Columns: anon  non-member  guest  reporter  developer  maintainer  owner  admin  blocked  expired-PAT  revoked-PAT  read_api-PAT
    //          [; trigger call: valid  unknown  expired  another-project  empty  blocked-owner  guest-owner]
    // A column is one status, or private/internal/public; `a|b` accepts either.
    // Health: no credentials are read at all.
    row("GET", "/-/health", Obj::Nothing, "",                                                    "200 200 200 200 200 200 200 200 200 200 200 200"),
    row("GET", "/-/liveness", Obj::Nothing, "",                                                  "200 200 200 200 200 200 200 200 200 200 200 200"),
    row("GET", "/api/v4/openapi.json", Obj::Nothing, "",                                         "200 200 200 200 200 200 200 200 200 200 200 200"),
    row("GET", "/-/readiness", Obj::Nothing, "",                                                 "200 200 200 200 200 200 200 200 200 200 200 200"),

    // The trigger call: user credentials are ignored (no trigger token → 400 `token is missing`);
    // the trigger token decides, whatever the project's visibility.
    row("POST", "/api/v4/projects/{id}/trigger/pipeline", Obj::Nothing, r#"{"ref":"main"}"#,
        "400 400 400 400 400 400 400 400 400 400 400 400 ; 201 404 404 404 404 400 400"),
    row("POST", "/api/v4/projects/{id}/ref/{ref:.+}/trigger/pipeline", Obj::Ref, "{}",
        "400 400 400 400 400 400 400 400 400 400 400 400 ; 201 404 404 404 404 400 400"),

    // Instance routes: any signed-in user.
    row("GET", "/api/v4/version", Obj::Nothing, "",                                              "401 200 200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/metadata", Obj::Nothing, "",                                             "401 200 200 200 200 200 200 200 401 401 401 200"),

    // Users.
    noted("GET", "/api/v4/user", Obj::Nothing, "",                                               "401 200 200 200 200 200 200 200 401 401 401 200",
        "GitLab CE answers a blocked user 403; EE lets a blocked user GET /user"),
    noted("GET", "/api/v4/users", Obj::Nothing, "",                                              "401 200 200 200 200 200 200 200 401 401 401 200",
        "GitLab: anonymous without ?username= is 403 `Not authorized to access /api/v4/users` (200 with it); README: signed in"),
    row("POST", "/api/v4/users", Obj::Nothing,
        r#"{"username":"u-{n}","name":"U {n}","email":"u-{n}@example.com","password":"matrix-password-{n}"}"#,
                                                                                                 "401 403 403 403 403 403 403 201 401 401 401 403"),
    noted("GET", "/api/v4/users/{id}", Obj::Keeper, "",                                          "401 200 200 200 200 200 200 200 401 401 401 200",
        "GitLab shows public profiles to anonymous callers; README says signed in"),
    row("PUT", "/api/v4/users/{id}", Obj::FreshUser, r#"{"name":"N {n}"}"#,                       "401 403 403 403 403 403 403 200 401 401 401 403"),
    row("DELETE", "/api/v4/users/{id}", Obj::FreshUser, "",                                      "401 403 403 403 403 403 403 204 401 401 401 403"),
    row("POST", "/api/v4/users/{id}/block", Obj::FreshUser, "",                                  "401 403 403 403 403 403 403 201 401 401 401 403"),
    row("POST", "/api/v4/users/{id}/unblock", Obj::FreshBlockedUser, "",                         "401 403 403 403 403 403 403 201 401 401 401 403"),

    // Personal access tokens.
    row("POST", "/api/v4/users/{user_id}/personal_access_tokens", Obj::Keeper, r#"{"name":"t","scopes":["api"]}"#,
                                                                                                 "401 403 403 403 403 403 403 201 401 401 401 403"),
    row("POST", "/api/v4/users/{user_id}/personal_access_tokens", Obj::CallerUser, r#"{"name":"t","scopes":["api"]}"#,
                                                                                                 "401 403 403 403 403 403 403 201 401 401 401 403"),
    row("GET", "/api/v4/personal_access_tokens", Obj::Nothing, "",                              "401 200 200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/personal_access_tokens/self", Obj::Nothing, "",                         "401 200 200 200 200 200 200 200 401 401 401 200"),
    row("DELETE", "/api/v4/personal_access_tokens/self", Obj::FreshCallerToken, "",             "401 204 204 204 204 204 204 204 401 401 401 403"),
    row("GET", "/api/v4/personal_access_tokens/{id}", Obj::OwnToken, "",                        "401 200 200 200 200 200 200 200 401 401 401 200"),
    noted("GET", "/api/v4/personal_access_tokens/{id}", Obj::OthersToken, "",                   "401 404 404 404 404 404 404 200 401 401 401 404",
        "GitLab answers a non-admin 401 here (`admin? ? not_found! : unauthorized!`); triggerd's 404 leaks nothing"),
    row("DELETE", "/api/v4/personal_access_tokens/{id}", Obj::OwnToken, "",                     "401 204 204 204 204 204 204 204 401 401 401 403"),
    noted("DELETE", "/api/v4/personal_access_tokens/{id}", Obj::OthersToken, "",                "401 404 404 404 404 404 404 204 401 401 401 403",
        "GitLab answers a non-admin 400 `400 Bad request` (RevokeService refuses); triggerd's 404 leaks nothing"),

    // Projects.
    row("GET", "/api/v4/projects", Obj::Nothing, "",                                             "200 200 200 200 200 200 200 200 401 401 401 200"),
    row("POST", "/api/v4/projects", Obj::Nothing, r#"{"name":"p-{n}"}"#,                         "401 201 201 201 201 201 201 201 401 401 401 403"),
    row("POST", "/api/v4/projects/user/{user_id}", Obj::Keeper, r#"{"name":"p-{n}"}"#,           "401 403 403 403 403 403 403 201 401 401 401 403"),
    row("GET", "/api/v4/projects/{id}", Obj::Nothing, "",                                        "404/404/200 404/200/200 200 200 200 200 200 200 401 401 401 200"),
    row("PUT", "/api/v4/projects/{id}", Obj::Nothing, r#"{"description":"d-{n}"}"#,              "401 404/403/403 403 403 403 200 200 200 401 401 401 403"),
    noted("PUT", "/api/v4/projects/{id}", Obj::FreshProject, r#"{"visibility":"{other_vis}"}"#,  "401 404/403/403 403 403 403 403 200 200 401 401 401 403",
        "GitLab requires Owner to change visibility (authorize! :change_visibility_level)"),
    noted("PUT", "/api/v4/projects/{id}", Obj::Nothing, r#"{"name":"renamed-{n}"}"#,             "401 404/403/403 403 403 403 403 200 200 401 401 401 403",
        "GitLab requires Owner to rename (authorize! :rename_project)"),
    row("DELETE", "/api/v4/projects/{id}", Obj::FreshProject, "",                                "401 404/403/403 403 403 403 403 202 202 401 401 401 403"),
    // Transfer: Owner of the project and Maintainer+ of the target group (the roles' group).
    row("PUT", "/api/v4/projects/{id}/transfer", Obj::FreshProjectAndGroup, r#"{"namespace":{obj}}"#,
                                                                                                 "401 404/403/403 403 403 403 403 200 200 401 401 401 403"),

    // Groups: the roles are members of one group per visibility (guest … owner, as for the
    // projects). Read like projects; write Owner; anyone signed in creates a top-level group.
    row("GET", "/api/v4/groups", Obj::Nothing, "",                                               "200 200 200 200 200 200 200 200 401 401 401 200"),
    row("POST", "/api/v4/groups", Obj::Nothing, r#"{"name":"G {n}","path":"g-{n}"}"#,          "401 201 201 201 201 201 201 201 401 401 401 403"),
    row("GET", "/api/v4/groups/{id}", Obj::Nothing, "",                                          "404/404/200 404/200/200 200 200 200 200 200 200 401 401 401 200"),
    row("PUT", "/api/v4/groups/{id}", Obj::Nothing, r#"{"description":"d-{n}"}"#,                "401 404/403/403 403 403 403 403 200 200 401 401 401 403"),
    row("DELETE", "/api/v4/groups/{id}", Obj::FreshSubgroup, "",                                 "401 404/403/403 403 403 403 403 202 202 401 401 401 403"),
    row("GET", "/api/v4/groups/{id}/projects", Obj::Nothing, "",                                 "404/404/200 404/200/200 200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/groups/{id}/subgroups", Obj::Nothing, "",                                "404/404/200 404/200/200 200 200 200 200 200 200 401 401 401 200"),
    row("POST", "/api/v4/groups/{id}/transfer", Obj::FreshSubgroup, "{}",                        "401 404/403/403 403 403 403 403 201 201 401 401 401 403"),
    row("GET", "/api/v4/groups/{id}/members", Obj::Nothing, "",                                  "401 404/200/200 200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/groups/{id}/members/all", Obj::Nothing, "",                              "401 404/200/200 200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/groups/{id}/members/{user_id}", Obj::GroupMember, "",                    "401 404/200/200 200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/groups/{id}/members/all/{user_id}", Obj::GroupMember, "",                "401 404/200/200 200 200 200 200 200 200 401 401 401 200"),
    row("POST", "/api/v4/groups/{id}/members", Obj::NewUser, r#"{"user_id":{obj},"access_level":30}"#,
                                                                                                 "401 404/403/403 403 403 403 403 201 201 401 401 401 403"),
    row("PUT", "/api/v4/groups/{id}/members/{user_id}", Obj::FreshGroupMember, r#"{"access_level":20}"#,
                                                                                                 "401 404/403/403 403 403 403 403 200 200 401 401 401 403"),
    row("DELETE", "/api/v4/groups/{id}/members/{user_id}", Obj::FreshGroupMember, "",           "401 404/403/403 403 403 403 403 204 204 401 401 401 403"),

    // Namespaces: signed in; one's own namespace is always visible.
    row("GET", "/api/v4/namespaces", Obj::Nothing, "",                                           "401 200 200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/namespaces/{id}", Obj::CallerUser, "",                                   "401 200 200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/namespaces/{id}/exists", Obj::CallerUser, "",                            "401 200 200 200 200 200 200 200 401 401 401 200"),

    // Members: read by anyone signed in who sees the project; write Maintainer+; Owners only by Owners.
    row("GET", "/api/v4/projects/{id}/members", Obj::Nothing, "",                                "401 404/200/200 200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/projects/{id}/members/all", Obj::Nothing, "",                            "401 404/200/200 200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/projects/{id}/members/{user_id}", Obj::Member, "",                       "401 404/200/200 200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/projects/{id}/members/all/{user_id}", Obj::Member, "",                   "401 404/200/200 200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/projects/{id}/members/{user_id}", Obj::NewUser, "",                      "401 404 404 404 404 404 404 404 401 401 401 404"),
    row("POST", "/api/v4/projects/{id}/members", Obj::NewUser, r#"{"user_id":{obj},"access_level":30}"#,
                                                                                                 "401 404/403/403 403 403 403 201 201 201 401 401 401 403"),
    row("POST", "/api/v4/projects/{id}/members", Obj::NewUser, r#"{"user_id":{obj},"access_level":50}"#,
                                                                                                 "401 404/403/403 403 403 403 403 201 201 401 401 401 403"),
    row("PUT", "/api/v4/projects/{id}/members/{user_id}", Obj::FreshMember, r#"{"access_level":20}"#,
                                                                                                 "401 404/403/403 403 403 403 200 200 200 401 401 401 403"),
    row("PUT", "/api/v4/projects/{id}/members/{user_id}", Obj::FreshOwnerMember, r#"{"access_level":40}"#,
                                                                                                 "401 404/403/403 403 403 403 403 200 200 401 401 401 403"),
    row("DELETE", "/api/v4/projects/{id}/members/{user_id}", Obj::FreshMember, "",               "401 404/403/403 403 403 403 204 204 204 401 401 401 403"),
    row("DELETE", "/api/v4/projects/{id}/members/{user_id}", Obj::FreshOwnerMember, "",          "401 404/403/403 403 403 403 403 204 204 401 401 401 403"),
    // Anyone may leave, except the last Owner; a non-member (or the admin) has no membership to remove.
    row("DELETE", "/api/v4/projects/{id}/members/{user_id}", Obj::SelfInFreshProject, "",        "401 404 204 204 204 204 403 404 401 401 401 403"),

    // Project webhooks (executor-reference.md §3.1): Maintainer+ for everything. The seeded
    // hooks point at 127.0.0.1, which this server refuses to deliver to: the test call is 422.
    row("GET", "/api/v4/projects/{id}/hooks", Obj::Nothing, "",                                  "401 404/403/403 403 403 403 200 200 200 401 401 401 200"),
    row("POST", "/api/v4/projects/{id}/hooks", Obj::Nothing, r#"{"url":"https://hooks.example.com/{n}"}"#,
                                                                                                 "401 404/403/403 403 403 403 201 201 201 401 401 401 403"),
    row("GET", "/api/v4/projects/{id}/hooks/{hook_id}", Obj::Hook, "",                          "401 404/403/403 403 403 403 200 200 200 401 401 401 200"),
    row("PUT", "/api/v4/projects/{id}/hooks/{hook_id}", Obj::Hook, r#"{"name":"n-{n}"}"#,       "401 404/403/403 403 403 403 200 200 200 401 401 401 403"),
    row("DELETE", "/api/v4/projects/{id}/hooks/{hook_id}", Obj::Hook, "",                       "401 404/403/403 403 403 403 204 204 204 401 401 401 403"),
    row("PUT", "/api/v4/projects/{id}/hooks/{hook_id}/custom_headers/{key}", Obj::HookHeader, r#"{"value":"v-{n}"}"#,
                                                                                                 "401 404/403/403 403 403 403 204 204 204 401 401 401 403"),
    row("DELETE", "/api/v4/projects/{id}/hooks/{hook_id}/custom_headers/{key}", Obj::HookHeader, "",
                                                                                                 "401 404/403/403 403 403 403 204 204 204 401 401 401 403"),
    row("GET", "/api/v4/projects/{id}/hooks/{hook_id}", Obj::ForeignHook, "",                   "401 404/403/403 403 403 403 404 404 404 401 401 401 404"),
    row("POST", "/api/v4/projects/{id}/hooks/{hook_id}/test/{trigger}", Obj::HookTest, "",      "401 404/403/403 403 403 403 422 422 422 401 401 401 403"),
    row("GET", "/api/v4/projects/{id}/hooks/{hook_id}/events", Obj::Hook, "",                   "401 404/403/403 403 403 403 200 200 200 401 401 401 200"),
    row("POST", "/api/v4/projects/{id}/hooks/{hook_id}/events/{hook_log_id}/resend", Obj::HookLog, "",
                                                                                                 "401 404/403/403 403 403 403 201 201 201 401 401 401 403"),

    // Triggers (gitlab-reference.md §3): Maintainer+ manage every trigger; only the trigger's
    // owner (still Maintainer+) or an admin updates it.
    row("GET", "/api/v4/projects/{id}/triggers", Obj::Nothing, "",                               "401 404/403/403 403 403 403 200 200 200 401 401 401 200"),
    row("POST", "/api/v4/projects/{id}/triggers", Obj::Nothing, r#"{"description":"matrix"}"#,   "401 404/403/403 403 403 403 201 201 201 401 401 401 403"),
    row("GET", "/api/v4/projects/{id}/triggers/{trigger_id}", Obj::Trigger, "",                  "401 404/403/403 403 403 403 200 200 200 401 401 401 200"),
    row("PUT", "/api/v4/projects/{id}/triggers/{trigger_id}", Obj::OwnTrigger, r#"{"description":"mine"}"#,
                                                                                                 "401 404/403/403 403 403 403 200 200 200 401 401 401 403"),
    row("PUT", "/api/v4/projects/{id}/triggers/{trigger_id}", Obj::OthersTrigger, r#"{"description":"theirs"}"#,
                                                                                                 "401 404/403/403 403 403 403 403 403 200 401 401 401 403"),
    row("POST", "/api/v4/projects/{id}/triggers/{trigger_id}/rotate", Obj::OwnTrigger, r#"{"grace_period":60}"#,
                                                                                                 "401 404/403/403 403 403 403 201 201 201 401 401 401 403"),
    row("POST", "/api/v4/projects/{id}/triggers/{trigger_id}/rotate", Obj::OthersTrigger, "",
                                                                                                 "401 404/403/403 403 403 403 403 403 201 401 401 401 403"),
    row("GET", "/api/v4/projects/{id}/triggers/unknown_attempts", Obj::Nothing, "",              "401 404/403/403 403 403 403 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/projects/{id}/triggers/{trigger_id}/events", Obj::Trigger, "",           "401 404/403/403 403 403 403 200 200 200 401 401 401 200"),
    row("DELETE", "/api/v4/projects/{id}/triggers/{trigger_id}", Obj::OwnTrigger, "",            "401 404/403/403 403 403 403 204 204 204 401 401 401 403"),
    row("DELETE", "/api/v4/projects/{id}/triggers/{trigger_id}", Obj::OthersTrigger, "",         "401 404/403/403 403 403 403 204 204 204 401 401 401 403"),
    // Object level: another project's trigger through this project's path is 404 `Not found`
    // (after the role check, except for PUT which looks the trigger up first, as GitLab does).
    row("GET", "/api/v4/projects/{id}/triggers/{trigger_id}", Obj::ForeignTrigger, "",           "401 404/403/403 403 403 403 404 404 404 401 401 401 404"),
    row("PUT", "/api/v4/projects/{id}/triggers/{trigger_id}", Obj::ForeignTrigger, r#"{"description":"taken"}"#,
                                                                                                 "401 404 404 404 404 404 404 404 401 401 401 403"),
    row("POST", "/api/v4/projects/{id}/triggers/{trigger_id}/rotate", Obj::ForeignTrigger, "",
                                                                                                 "401 404 404 404 404 404 404 404 401 401 401 403"),
    row("DELETE", "/api/v4/projects/{id}/triggers/{trigger_id}", Obj::ForeignTrigger, "",        "401 404/403/403 403 403 403 404 404 404 401 401 401 403"),
    row("GET", "/api/v4/projects/{id}/triggers/{trigger_id}/events", Obj::ForeignTrigger, "",    "401 404/403/403 403 403 403 404 404 404 401 401 401 404"),

    // Branches and tags: read by Reporter+ on private projects and by anyone who sees the
    // others; write Developer+.
    row("GET", "/api/v4/projects/{id}/repository/branches", Obj::Nothing, "",                    "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("POST", "/api/v4/projects/{id}/repository/branches", Obj::Nothing, r#"{"branch":"b-{n}","ref":"{sha}"}"#,
                                                                                                 "401 404/403/403 403 403 201 201 201 201 401 401 401 403"),
    row("GET", "/api/v4/projects/{id}/repository/branches/{branch:.+}", Obj::Branch, "",         "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("DELETE", "/api/v4/projects/{id}/repository/branches/{branch:.+}", Obj::FreshBranch, "", "401 404/403/403 403 403 204 204 204 204 401 401 401 403"),
    row("GET", "/api/v4/projects/{id}/repository/tags", Obj::Nothing, "",                        "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("POST", "/api/v4/projects/{id}/repository/tags", Obj::Nothing, r#"{"tag_name":"t-{n}","ref":"{sha}"}"#,
                                                                                                 "401 404/403/403 403 403 201 201 201 201 401 401 401 403"),
    row("GET", "/api/v4/projects/{id}/repository/tags/{tag:.+}", Obj::Tag, "",                   "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("DELETE", "/api/v4/projects/{id}/repository/tags/{tag:.+}", Obj::FreshTag, "",           "401 404/403/403 403 403 204 204 204 204 401 401 401 403"),

    // Repository files and commits: read like branches; every file write is a push (Developer+).
    // Files live on branch `files` (a commit on `main` would leave the seeded pipeline behind
    // `main`'s head and /pipelines/latest without one). HEAD answers carry no body, so only
    // their status is checked.
    row("GET", "/api/v4/projects/{id}/repository/files/{file_path:.+}", Obj::File, r#"{"ref":"files"}"#,
                                                                                                 "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("HEAD", "/api/v4/projects/{id}/repository/files/{file_path:.+}", Obj::File, r#"{"ref":"files"}"#,
                                                                                                 "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/projects/{id}/repository/files/{file_path:.+}/raw", Obj::File, r#"{"ref":"files"}"#,
                                                                                                 "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("HEAD", "/api/v4/projects/{id}/repository/files/{file_path:.+}/raw", Obj::File, r#"{"ref":"files"}"#,
                                                                                                 "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("POST", "/api/v4/projects/{id}/repository/files/{file_path:.+}", Obj::NewFile,
        r#"{"branch":"files","content":"new {n}","commit_message":"add {n}"}"#,                   "401 404/403/403 403 403 201 201 201 201 401 401 401 403"),
    row("PUT", "/api/v4/projects/{id}/repository/files/{file_path:.+}", Obj::FreshFile,
        r#"{"branch":"files","content":"changed {n}","commit_message":"change {n}"}"#,           "401 404/403/403 403 403 200 200 200 200 401 401 401 403"),
    row("DELETE", "/api/v4/projects/{id}/repository/files/{file_path:.+}", Obj::FreshFile,
        r#"{"branch":"files","commit_message":"remove {n}"}"#,                                    "401 404/403/403 403 403 204 204 204 204 401 401 401 403"),
    row("GET", "/api/v4/projects/{id}/repository/commits", Obj::Nothing, "",                     "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/projects/{id}/repository/commits/{sha}", Obj::Commit, "",                "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/projects/{id}/repository/commits/{sha}", Obj::Branch, "",                "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    // Commit statuses: posting is Developer+ (`create_commit_status`); the list needs a signed-in
    // caller (GitLab's `authenticate!`), then reads like pipelines.
    row("POST", "/api/v4/projects/{id}/statuses/{sha}", Obj::Commit, r#"{"state":"success","name":"m-{n}"}"#,
                                                                                                 "401 404/403/403 403 403 201 201 201 201 401 401 401 403"),
    row("GET", "/api/v4/projects/{id}/repository/commits/{sha}/statuses", Obj::Commit, "",       "401 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),

    // Pipelines: read like code; variables Maintainer+ or the pipeline's own Developer+;
    // cancel/retry Developer+; delete Owner.
    row("GET", "/api/v4/projects/{id}/pipelines", Obj::Nothing, "",                              "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/projects/{id}/pipelines/latest", Obj::Nothing, "",                       "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/projects/{id}/pipelines/{pipeline_id}", Obj::Pipeline, "",               "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/projects/{id}/pipelines/{pipeline_id}/variables", Obj::Pipeline, "",     "404/404/403 404/403/403 403 403 403 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/projects/{id}/pipelines/{pipeline_id}/variables", Obj::OwnPipeline, "",  "404/404/403 404/403/403 403 403 200 200 200 200 401 401 401 200"),
    row("POST", "/api/v4/projects/{id}/pipelines/{pipeline_id}/cancel", Obj::Pipeline, "",       "401 404/403/403 403 403 200 200 200 200 401 401 401 403"),
    row("POST", "/api/v4/projects/{id}/pipelines/{pipeline_id}/retry", Obj::Pipeline, "",        "401 404/403/403 403 403 201 201 201 201 401 401 401 403"),
    row("DELETE", "/api/v4/projects/{id}/pipelines/{pipeline_id}", Obj::FreshPipeline, "",      "401 404/403/403 403 403 403 403 204 204 401 401 401 403"),
    // Object level: another project's pipeline through this project's path is 404 for everyone
    // (the pipeline is looked up before the role check, as in GitLab).
    row("GET", "/api/v4/projects/{id}/pipelines/{pipeline_id}", Obj::ForeignPipeline, "",        "404 404 404 404 404 404 404 404 401 401 401 404"),
    row("GET", "/api/v4/projects/{id}/pipelines/{pipeline_id}/variables", Obj::ForeignPipeline, "",
                                                                                                 "404 404 404 404 404 404 404 404 401 401 401 404"),
    row("POST", "/api/v4/projects/{id}/pipelines/{pipeline_id}/cancel", Obj::ForeignPipeline, "",
                                                                                                 "401 404 404 404 404 404 404 404 401 401 401 403"),
    row("POST", "/api/v4/projects/{id}/pipelines/{pipeline_id}/retry", Obj::ForeignPipeline, "", "401 404 404 404 404 404 404 404 401 401 401 403"),
    row("DELETE", "/api/v4/projects/{id}/pipelines/{pipeline_id}", Obj::ForeignPipeline, "",    "401 404 404 404 404 404 404 404 401 401 401 403"),
    // Pipelines from .gitlab-ci.yml and the Jobs API. Jobs check the role before looking the job
    // up (GitLab's `authorize_read_builds!` / `authorize_update_builds!` come first in jobs.rb).
    row("POST", "/api/v4/projects/{id}/pipeline", Obj::Nothing, r#"{"ref":"main"}"#,              "401 404/403/403 403 403 201 201 201 201 401 401 401 403"),
    row("GET", "/api/v4/projects/{id}/pipelines/{pipeline_id}/jobs", Obj::Pipeline, "",           "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/projects/{id}/pipelines/{pipeline_id}/bridges", Obj::Pipeline, "",        "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/projects/{id}/jobs", Obj::Nothing, "",                                    "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/projects/{id}/jobs/{job_id}", Obj::FreshJob, "",                          "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/projects/{id}/jobs/{job_id}/trace", Obj::FreshJob, "",                    "404/404/200 404/200/200 403/200/200 200 200 200 200 200 401 401 401 200"),
    row("POST", "/api/v4/projects/{id}/jobs/{job_id}/cancel", Obj::FreshJob, "",                  "401 404/403/403 403 403 201 201 201 201 401 401 401 403"),
    row("POST", "/api/v4/projects/{id}/jobs/{job_id}/retry", Obj::FreshFailedJob, "",             "401 404/403/403 403 403 201 201 201 201 401 401 401 403"),
    row("POST", "/api/v4/projects/{id}/jobs/{job_id}/play", Obj::FreshManualJob, "",              "401 404/403/403 403 403 200 200 200 200 401 401 401 403"),
    row("GET", "/api/v4/projects/{id}/jobs/{job_id}", Obj::ForeignJob, "",                        "404 404/404/404 403/404/404 404 404 404 404 404 401 401 401 404"),
    row("GET", "/api/v4/projects/{id}/jobs/{job_id}/trace", Obj::ForeignJob, "",                  "404 404/404/404 403/404/404 404 404 404 404 404 401 401 401 404"),
    row("POST", "/api/v4/projects/{id}/jobs/{job_id}/cancel", Obj::ForeignJob, "",                "401 404/403/403 403 403 404 404 404 404 401 401 401 403"),
    row("POST", "/api/v4/projects/{id}/jobs/{job_id}/retry", Obj::ForeignJob, "",                 "401 404/403/403 403 403 404 404 404 404 401 401 401 403"),
    row("POST", "/api/v4/projects/{id}/jobs/{job_id}/play", Obj::ForeignJob, "",                  "401 404/403/403 403 403 404 404 404 404 401 401 401 403"),
    // Runners. The runner's own calls read only the `token` parameter (user credentials are
    // ignored: `{}` is 400 `token is missing` for every caller). Project runners: Maintainer+ of
    // the runner's project and admins (others 403 `No access granted`, whatever they see);
    // instance runners: read by everyone signed in, changed by admins.
    row("POST", "/api/v4/runners", Obj::Nothing, "{}",                                           "400 400 400 400 400 400 400 400 400 400 400 400"),
    row("POST", "/api/v4/runners/", Obj::Nothing, "{}",                                          "400 400 400 400 400 400 400 400 400 400 400 400"),
    row("DELETE", "/api/v4/runners", Obj::Nothing, "{}",                                         "400 400 400 400 400 400 400 400 400 400 400 400"),
    row("DELETE", "/api/v4/runners/", Obj::Nothing, "{}",                                        "400 400 400 400 400 400 400 400 400 400 400 400"),
    row("POST", "/api/v4/runners/verify", Obj::Nothing, "{}",                                    "400 400 400 400 400 400 400 400 400 400 400 400"),
    row("DELETE", "/api/v4/runners/managers", Obj::Nothing, "{}",                                "400 400 400 400 400 400 400 400 400 400 400 400"),
    // The runner's job calls: a runner token (`jobs/request`) or a job token (`jobs/:id`) in the
    // body or `JOB-TOKEN`; user credentials are ignored. `{}` is 400 `token is missing`; a trace
    // append without a job token is 403, as GitLab's `authenticate_job!`.
    row("POST", "/api/v4/jobs/request", Obj::Nothing, "{}",                                      "400 400 400 400 400 400 400 400 400 400 400 400"),
    row("PUT", "/api/v4/jobs/{job_id}", Obj::ForeignJob, "{}",                                     "400 400 400 400 400 400 400 400 400 400 400 400"),
    row("PATCH", "/api/v4/jobs/{job_id}/trace", Obj::ForeignJob, "",                               "403 403 403 403 403 403 403 403 403 403 403 403"),
    row("POST", "/api/v4/runners/reset_authentication_token", Obj::Nothing, "{}",                "400 400 400 400 400 400 400 400 400 400 400 400"),
    row("GET", "/api/v4/runners", Obj::Nothing, "",                                              "401 200 200 200 200 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/runners/all", Obj::Nothing, "",                                          "401 403 403 403 403 403 403 200 401 401 401 403"),
    row("GET", "/api/v4/runners/{runner_id}", Obj::ProjectRunner, "",                            "401 403 403 403 403 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/runners/{runner_id}", Obj::InstanceRunner, "",                           "401 200 200 200 200 200 200 200 401 401 401 200"),
    row("PUT", "/api/v4/runners/{runner_id}", Obj::ProjectRunner, r#"{"description":"d-{n}"}"#,  "401 403 403 403 403 200 200 200 401 401 401 403"),
    row("PUT", "/api/v4/runners/{runner_id}", Obj::InstanceRunner, r#"{"paused":true}"#,         "401 403 403 403 403 403 403 200 401 401 401 403"),
    row("DELETE", "/api/v4/runners/{runner_id}", Obj::ProjectRunner, "",                         "401 403 403 403 403 204 204 204 401 401 401 403"),
    row("DELETE", "/api/v4/runners/{runner_id}", Obj::InstanceRunner, "",                        "401 403 403 403 403 403 403 204 401 401 401 403"),
    row("POST", "/api/v4/runners/{runner_id}/reset_authentication_token", Obj::ProjectRunner, "",
                                                                                                 "401 403 403 403 403 201 201 201 401 401 401 403"),
    row("POST", "/api/v4/runners/{runner_id}/reset_authentication_token", Obj::InstanceRunner, "",
                                                                                                 "401 403 403 403 403 403 403 201 401 401 401 403"),
    row("GET", "/api/v4/runners/{runner_id}/jobs", Obj::ProjectRunner, "",                       "401 403 403 403 403 200 200 200 401 401 401 200"),
    row("GET", "/api/v4/runners/{runner_id}/jobs", Obj::InstanceRunner, "",                      "401 403 403 403 403 403 403 200 401 401 401 403"),
    row("POST", "/api/v4/user/runners", Obj::RunnerProject, r#"{"runner_type":"project_type","project_id":{obj}}"#,
                                                                                                 "401 403 403 403 403 201 201 201 401 401 401 403"),
    row("POST", "/api/v4/user/runners", Obj::Nothing, r#"{"runner_type":"instance_type"}"#,      "401 403 403 403 403 403 403 201 401 401 401 403"),
    row("GET", "/api/v4/projects/{id}/runners", Obj::Nothing, "",                                "401 404/403/403 403 403 403 200 200 200 401 401 401 200"),
    row("POST", "/api/v4/projects/{id}/runners/reset_registration_token", Obj::Nothing, "",      "401 404/403/403 403 403 403 201 201 201 401 401 401 403"),

    // The job token scope: Maintainer+ (GitLab's `admin_project`). Adding the project itself is
    // 400 `already in the job token scope` (its own jobs are always allowed).
    row("GET", "/api/v4/projects/{id}/job_token_scope", Obj::Nothing, "",                        "401 404/403/403 403 403 403 200 200 200 401 401 401 200"),
    row("PATCH", "/api/v4/projects/{id}/job_token_scope", Obj::Nothing, r#"{"enabled":true}"#,   "401 404/403/403 403 403 403 204 204 204 401 401 401 403"),
    row("GET", "/api/v4/projects/{id}/job_token_scope/allowlist", Obj::Nothing, "",              "401 404/403/403 403 403 403 200 200 200 401 401 401 200"),
    row("POST", "/api/v4/projects/{id}/job_token_scope/allowlist", Obj::ThisProject, r#"{"target_project_id":{obj}}"#,
                                                                                                 "401 404/403/403 403 403 403 400 400 400 401 401 401 403"),
    row("DELETE", "/api/v4/projects/{id}/job_token_scope/allowlist/{target_project_id}", Obj::AllowlistedProject, "",
                                                                                                 "401 404/403/403 403 403 403 204 204 204 401 401 401 403"),
    // The groups allowlist: the same rule; the target group is a fresh subgroup of the roles' group.
    row("GET", "/api/v4/projects/{id}/job_token_scope/groups_allowlist", Obj::Nothing, "",      "401 404/403/403 403 403 403 200 200 200 401 401 401 200"),
    row("POST", "/api/v4/projects/{id}/job_token_scope/groups_allowlist", Obj::FreshSubgroup, r#"{"target_group_id":{obj}}"#,
                                                                                                 "401 404/403/403 403 403 403 201 201 201 401 401 401 403"),
    row("DELETE", "/api/v4/projects/{id}/job_token_scope/groups_allowlist/{target_group_id}", Obj::AllowlistedGroup, "",
                                                                                                 "401 404/403/403 403 403 403 204 204 204 401 401 401 403"),
    // `GET /job` takes only a job token: any user credential is 404 `Job Not Found`, none 401.
    row("GET", "/api/v4/job", Obj::Nothing, "",                                                  "401 404 404 404 404 404 404 404 404 404 404 404"),
];

/// The CI configuration of the jobs the matrix creates: one job, `build`.
const JOB_YAML: &str = "build:\n  script: make\n";
/// One manual job, `build`.
const MANUAL_JOB_YAML: &str = "build:\n  script: make\n  when: manual\n";

const VISIBILITIES: [&str; 3] = ["private", "internal", "public"];

/// Accepted statuses per caller kind, per visibility (private, internal, public).
type Expectations = HashMap<Kind, [Vec<u16>; 3]>;

fn parse_expect(row: &Row, project_scoped: bool) -> Result<Expectations, String> {
    let (users, triggers) = match row.expect.split_once(';') {
        Some((u, t)) => (u, Some(t)),
        None => (row.expect, None),
    };
    let mut out = Expectations::new();
    let mut columns = |text: &str, kinds: &[Kind]| -> Result<(), String> {
        let cols: Vec<&str> = text.split_whitespace().collect();
        if cols.len() != kinds.len() {
            return Err(format!("{} columns, want {}", cols.len(), kinds.len()));
        }
        for (col, kind) in cols.iter().zip(kinds) {
            let per_vis: Vec<&str> = col.split('/').collect();
            let per_vis = match per_vis.len() {
                1 => vec![per_vis[0]; 3],
                3 if project_scoped => per_vis,
                _ => return Err(format!("bad column {col:?} for {}", kind.label())),
            };
            let mut cell: [Vec<u16>; 3] = Default::default();
            for (i, v) in per_vis.iter().enumerate() {
                for alt in v.split('|') {
                    cell[i].push(alt.parse().map_err(|_| format!("bad status {alt:?}"))?);
                }
            }
            out.insert(*kind, cell);
        }
        Ok(())
    };
    columns(users, &USER_KINDS)?;
    if let Some(t) = triggers {
        columns(t, &TRIGGER_KINDS)?;
    }
    Ok(out)
}

/// One project of each visibility, with what the cells share.
struct Project {
    visibility: &'static str,
    id: i64,
    /// `main`'s SHA.
    sha: String,
    /// The commit that added `shared.txt`.
    file_commit: String,
    trigger_id: i64,
    pipeline_id: i64,
    trigger_tokens: HashMap<Kind, String>,
}

/// The one server and everything seeded in it.
struct World {
    app: TestApp,
    roles: Roles,
    blocked: TestUser,
    /// A Maintainer of every project who owns the "other user's" objects.
    keeper: TestUser,
    tokens: HashMap<Kind, String>,
    projects: Vec<Project>,
    /// A trigger and a pipeline of a project no caller belongs to (object-level checks).
    foreign_trigger: i64,
    foreign_pipeline: i64,
    foreign_job: i64,
    /// The keeper's private project `elsewhere`.
    elsewhere: i64,
    /// One group per visibility whose members are the roles (and the keeper and the blocked user).
    groups: HashMap<&'static str, i64>,
    counter: Cell<u64>,
}

impl World {
    fn build() -> World {
        // The matrix makes hundreds of refused trigger calls from one address: the failed-attempt
        // throttle (tested in trigger_throttle.rs) would answer 429 to the later ones.
        let app = spawn_app_with(|c| c.triggers.max_failed_attempts = 0);
        let (roles, projects) = app.roles_per_visibility();
        let keeper = app.create_user("keeper");
        let blocked = app.create_user("blocked");
        let elsewhere = app.create_project(&keeper, "elsewhere", "private");
        let elsewhere_sha = app.seed_ref(elsewhere, "branch", "main");
        let foreign = app.seed_trigger(elsewhere, &keeper, "elsewhere");
        let foreign_pipeline = app.seed_pipeline(elsewhere, Some(keeper.id), "main", &elsewhere_sha);
        let foreign_job = app.job_id(app.seed_ci_pipeline(elsewhere, &keeper, JOB_YAML), "build");

        let projects = projects
            .into_iter()
            .map(|(visibility, id)| {
                app.add_member(id, &keeper, MAINTAINER);
                app.add_member(id, &blocked, DEVELOPER);
                let sha = app.seed_ref(id, "branch", "main");
                app.seed_ref(id, "tag", "v1.0");
                app.seed_ref(id, "branch", "files");
                let file_commit = commit_file(&app, id, &roles.owner, "shared.txt");
                let trigger = app.seed_trigger(id, &keeper, "shared");
                let pipeline_id = app.seed_pipeline(id, Some(keeper.id), "main", &sha);
                let expired =
                    app.seed_trigger_expiring(id, &keeper, "expired", Some("2020-01-01T00:00:00.000Z"));
                let trigger_tokens = HashMap::from([
                    (TriggerValid, trigger.token.clone()),
                    (TriggerUnknown, auth::new_trigger_token().unwrap()),
                    (TriggerExpired, expired.token),
                    (TriggerOfAnotherProject, foreign.token.clone()),
                    (TriggerEmpty, String::new()),
                    (TriggerOwnerBlocked, app.seed_trigger(id, &blocked, "blocked owner").token),
                    (TriggerOwnerGuest, app.seed_trigger(id, &roles.guest, "guest owner").token),
                ]);
                Project {
                    visibility,
                    id,
                    sha,
                    file_commit,
                    trigger_id: trigger.id,
                    pipeline_id,
                    trigger_tokens,
                }
            })
            .collect();

        let groups = VISIBILITIES
            .iter()
            .map(|v| {
                let id = seed_group(&app, &roles.owner, &format!("roles-{v}"), v, None);
                let c = app.db();
                for (user, level) in [
                    (&roles.guest, GUEST),
                    (&roles.reporter, REPORTER),
                    (&roles.developer, DEVELOPER),
                    (&roles.maintainer, MAINTAINER),
                    (&keeper, MAINTAINER),
                    (&blocked, DEVELOPER),
                ] {
                    triggerd::db::group_members::upsert(&c, id, user.id, level, &triggerd::model::now())
                        .unwrap();
                }
                (*v, id)
            })
            .collect();

        // Blocked through the API, as an admin would.
        let resp = app
            .request(Method::POST, &format!("/users/{}/block", blocked.id), Some(&app.root().token))
            .send()
            .unwrap();
        assert_eq!(resp.status().as_u16(), 201, "blocking the blocked user");

        let m = roles.maintainer.id;
        let tokens = HashMap::from([
            (NonMember, roles.non_member.token.clone()),
            (Guest, roles.guest.token.clone()),
            (Reporter, roles.reporter.token.clone()),
            (Developer, roles.developer.token.clone()),
            (Maintainer, roles.maintainer.token.clone()),
            (Owner, roles.owner.token.clone()),
            (Admin, roles.admin.token.clone()),
            (Blocked, blocked.token.clone()),
            (ExpiredPat, app.seed_token_row(m, &["api"], Some("2020-01-01"), false).1),
            (RevokedPat, app.seed_token_row(m, &["api"], None, true).1),
            (ReadApi, app.seed_token_row(m, &["read_api"], None, false).1),
        ]);
        World {
            app,
            roles,
            blocked,
            keeper,
            tokens,
            projects,
            foreign_trigger: foreign.id,
            foreign_pipeline,
            foreign_job,
            elsewhere,
            groups,
            counter: Cell::new(0),
        }
    }

    fn next(&self) -> u64 {
        self.counter.set(self.counter.get() + 1);
        self.counter.get()
    }

    /// The user behind a caller kind (`None` for anonymous and trigger credentials).
    fn user_of(&self, kind: Kind) -> Option<&TestUser> {
        let r = &self.roles;
        match kind {
            NonMember => Some(&r.non_member),
            Guest => Some(&r.guest),
            Reporter => Some(&r.reporter),
            Developer => Some(&r.developer),
            Maintainer | ExpiredPat | RevokedPat | ReadApi => Some(&r.maintainer),
            Owner => Some(&r.owner),
            Admin => Some(&r.admin),
            Blocked => Some(&self.blocked),
            _ => None,
        }
    }

    /// A new token of the same nature as the kind's own (for cells that revoke it).
    fn fresh_token(&self, kind: Kind) -> Option<String> {
        let user = self.user_of(kind)?;
        let (_, token) = match kind {
            ExpiredPat => self.app.seed_token_row(user.id, &["api"], Some("2020-01-01"), false),
            RevokedPat => self.app.seed_token_row(user.id, &["api"], None, true),
            ReadApi => self.app.seed_token_row(user.id, &["read_api"], None, false),
            _ => self.app.seed_token_row(user.id, &["api"], None, false),
        };
        Some(token)
    }

    fn new_user(&self, n: u64) -> TestUser {
        self.app.create_user(&format!("u-{n}"))
    }

    /// A project with the usual members, of `visibility`.
    fn fresh_project(&self, n: u64, visibility: &str) -> i64 {
        let id = self.app.project_with_roles(&self.roles, &format!("fresh-{n}"), visibility);
        self.app.add_member(id, &self.keeper, MAINTAINER);
        self.app.add_member(id, &self.blocked, DEVELOPER);
        id
    }

    /// Runs one cell; `None` when the response is as expected, else the mismatch.
    fn run(&self, row: &Row, project: Option<&Project>, kind: Kind, accepted: &[u16]) -> Option<String> {
        let n = self.next();
        let app = &self.app;
        let me = self.user_of(kind).unwrap_or(&self.keeper);
        let mut project_id = project.map(|p| p.id);
        if row.obj.fresh_project() {
            project_id = Some(self.fresh_project(n, project.map_or("private", |p| p.visibility)));
        }
        let pid = project_id.unwrap_or(0);
        let group = project.map_or(0, |p| self.groups[p.visibility]);
        let sha = project.map_or_else(|| "0".repeat(40), |p| p.sha.clone());
        let object: Option<String> = match row.obj {
            Obj::Nothing | Obj::FreshProject | Obj::FreshCallerToken => None,
            Obj::Trigger => project.map(|p| p.trigger_id.to_string()),
            Obj::OwnTrigger => Some(app.seed_trigger(pid, me, "own").id.to_string()),
            Obj::OthersTrigger => Some(app.seed_trigger(pid, &self.keeper, "theirs").id.to_string()),
            Obj::Pipeline => project.map(|p| p.pipeline_id.to_string()),
            Obj::OwnPipeline => Some(app.seed_pipeline(pid, Some(me.id), "main", &sha).to_string()),
            Obj::FreshPipeline => {
                Some(app.seed_pipeline(pid, Some(self.keeper.id), "main", &sha).to_string())
            }
            Obj::Branch | Obj::Ref => Some("main".into()),
            Obj::Tag => Some("v1.0".into()),
            Obj::FreshBranch => {
                app.seed_ref(pid, "branch", &format!("b-{n}"));
                Some(format!("b-{n}"))
            }
            Obj::FreshTag => {
                app.seed_ref(pid, "tag", &format!("t-{n}"));
                Some(format!("t-{n}"))
            }
            Obj::File => Some("shared.txt".into()),
            Obj::FreshFile => {
                commit_file(app, pid, &self.roles.owner, &format!("f-{n}.txt"));
                Some(format!("f-{n}.txt"))
            }
            Obj::NewFile => Some(format!("new-{n}.txt")),
            Obj::Commit => project.map(|p| p.file_commit.clone()),
            Obj::Member => Some(self.roles.guest.id.to_string()),
            Obj::FreshMember | Obj::FreshOwnerMember => {
                let u = self.new_user(n);
                let level = if row.obj == Obj::FreshMember { DEVELOPER } else { OWNER };
                app.add_member(pid, &u, level);
                Some(u.id.to_string())
            }
            Obj::NewUser | Obj::FreshUser => Some(self.new_user(n).id.to_string()),
            Obj::FreshBlockedUser => {
                let u = self.new_user(n);
                triggerd::db::users::set_state(&app.db(), u.id, "blocked").unwrap();
                Some(u.id.to_string())
            }
            Obj::SelfInFreshProject | Obj::CallerUser => Some(me.id.to_string()),
            Obj::Keeper => Some(self.keeper.id.to_string()),
            Obj::OwnToken => Some(app.seed_token_row(me.id, &["api"], None, false).0.to_string()),
            Obj::OthersToken => Some(app.seed_token_row(self.keeper.id, &["api"], None, false).0.to_string()),
            Obj::ForeignTrigger => Some(self.foreign_trigger.to_string()),
            Obj::Hook => Some(seed_hook(app, pid).to_string()),
            Obj::HookTest => Some(format!("{},pipeline_events", seed_hook(app, pid))),
            Obj::HookLog => {
                let hook = seed_hook(app, pid);
                Some(format!("{hook},{}", seed_hook_log(app, hook)))
            }
            Obj::ForeignHook => Some(seed_hook(app, self.elsewhere).to_string()),
            Obj::HookHeader => {
                let hook = seed_hook(app, pid);
                app.db()
                    .execute(
                        r#"UPDATE project_hooks SET custom_headers = '[{"key":"X-Matrix","value":"v"}]' WHERE id = ?1"#,
                        [hook],
                    )
                    .unwrap();
                Some(format!("{hook},X-Matrix"))
            }
            Obj::ForeignPipeline => Some(self.foreign_pipeline.to_string()),
            Obj::ForeignJob => Some(self.foreign_job.to_string()),
            Obj::FreshJob | Obj::FreshFailedJob | Obj::FreshManualJob => {
                let yaml = if row.obj == Obj::FreshManualJob { MANUAL_JOB_YAML } else { JOB_YAML };
                let pipeline = app.seed_ci_pipeline(pid, &self.keeper, yaml);
                let job = app.job_id(pipeline, "build");
                if row.obj == Obj::FreshFailedJob {
                    app.run_job(job, "failed");
                }
                Some(job.to_string())
            }
            Obj::ProjectRunner => Some(seed_runner(app, Some(self.roles.project_id)).to_string()),
            Obj::InstanceRunner => Some(seed_runner(app, None).to_string()),
            Obj::RunnerProject => Some(self.roles.project_id.to_string()),
            Obj::ThisProject => Some(pid.to_string()),
            Obj::GroupMember => Some(self.roles.guest.id.to_string()),
            Obj::FreshGroupMember => {
                let u = self.new_user(n);
                triggerd::db::group_members::upsert(
                    &app.db(),
                    group,
                    u.id,
                    DEVELOPER,
                    &triggerd::model::now(),
                )
                .unwrap();
                Some(u.id.to_string())
            }
            Obj::FreshSubgroup => {
                let vis = project.map_or("private", |p| p.visibility);
                Some(seed_group(app, &self.roles.owner, &format!("sub-{n}"), vis, Some(group)).to_string())
            }
            Obj::FreshProjectAndGroup => Some(group.to_string()),
            Obj::AllowlistedGroup => {
                let vis = project.map_or("private", |p| p.visibility);
                let sub = seed_group(app, &self.roles.owner, &format!("listed-{n}"), vis, Some(group));
                triggerd::db::job_token_groups::allow(&app.db(), pid, sub, &triggerd::model::now()).unwrap();
                Some(sub.to_string())
            }
            Obj::AllowlistedProject => {
                triggerd::db::job_tokens::allow(&app.db(), pid, self.elsewhere, &triggerd::model::now())
                    .unwrap();
                Some(self.elsewhere.to_string())
            }
        };

        // The path: the project's `{id}` first, then the object's placeholder.
        let mut path = row.path.to_string();
        if row.path.starts_with("/api/v4/groups/{id}") {
            let id = if row.obj == Obj::FreshSubgroup {
                object.clone().unwrap_or_default()
            } else {
                group.to_string()
            };
            path = path.replacen("{id}", &id, 1);
        } else if project.is_some() {
            path = path.replacen("{id}", &pid.to_string(), 1);
        }
        // An object naming several placeholders separates their values with commas.
        if path.contains('{') {
            let value =
                object.clone().unwrap_or_else(|| panic!("{} {} needs an object", row.method, row.path));
            let values: Vec<&str> =
                if row.obj.multi_valued() { value.split(',').collect() } else { vec![value.as_str()] };
            for v in values {
                if let Some(start) = path.find('{') {
                    let end = start + path[start..].find('}').unwrap();
                    path.replace_range(start..=end, v);
                }
            }
        }
        let other_vis = match project.map(|p| p.visibility) {
            Some("private") => "public",
            _ => "private",
        };
        let body = row
            .body
            .replace("{n}", &n.to_string())
            .replace("{sha}", &sha)
            .replace("{other_vis}", other_vis)
            .replace("{obj}", object.as_deref().unwrap_or("null"));
        let mut body: Option<Value> =
            (!body.is_empty()).then(|| serde_json::from_str(&body).unwrap_or_else(|e| panic!("{body}: {e}")));

        let token = if kind.is_trigger_credential() {
            let value = project.map(|p| p.trigger_tokens[&kind].clone()).unwrap_or_default();
            if let Value::Object(map) = body.get_or_insert_with(|| json!({})) {
                map.insert("token".into(), Value::String(value));
            }
            None
        } else if row.obj == Obj::FreshCallerToken {
            self.fresh_token(kind)
        } else {
            self.tokens.get(&kind).cloned()
        };

        let method = Method::from_bytes(row.method.as_bytes()).unwrap();
        let mut rb = app.client.request(method, format!("{}{path}", app.address));
        if let Some(t) = &token {
            rb = rb.header("PRIVATE-TOKEN", t);
        }
        if let Some(b) = &body {
            rb = rb.json(b);
        }
        let resp = match rb.send() {
            Ok(r) => r,
            Err(e) => return Some(format!("request failed: {e}")),
        };
        let status = resp.status().as_u16();
        let text = resp.text().unwrap_or_default();
        let json: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let shown = || {
            let mut t = text.clone();
            t.truncate(200);
            t
        };
        if !accepted.contains(&status) {
            return Some(format!("expected {}, got {status} {}", alternatives(accepted), shown()));
        }
        // The body of a refusal tells which rule refused (a HEAD answer has none).
        let want: Option<(&str, &str)> = match status {
            _ if row.method == "HEAD" => None,
            401 if matches!(kind, ExpiredPat | RevokedPat) => Some(("error", "invalid_token")),
            401 => Some(("message", "401 Unauthorized")),
            // The runner's job calls ignore PATs: their 403 is the job token's, not a scope's.
            403 if kind == ReadApi && row.method != "GET" && !row.path.starts_with("/api/v4/jobs/") => {
                Some(("error", "insufficient_scope"))
            }
            404 if matches!(
                row.obj,
                Obj::ForeignTrigger | Obj::ForeignPipeline | Obj::ForeignJob | Obj::ForeignHook
            ) && can_see(kind, project_visibility(project)) =>
            {
                Some(("message", "404 Not found"))
            }
            404 if project.is_some()
                && !kind.is_trigger_credential()
                && !can_see(kind, project_visibility(project)) =>
            {
                if row.path.starts_with("/api/v4/groups/{id}") {
                    Some(("message", "404 Group Not Found"))
                } else {
                    Some(("message", "404 Project Not Found"))
                }
            }
            _ => None,
        };
        match want {
            Some((key, value)) if json[key] != value => {
                Some(format!("expected {status} with {key} {value:?}, got {status} {}", shown()))
            }
            _ => None,
        }
    }
}

/// Seeds a group (`owner` becomes its Owner) and returns its id.
fn seed_group(app: &TestApp, owner: &TestUser, path: &str, visibility: &str, parent: Option<i64>) -> i64 {
    let new = triggerd::db::namespaces::NewGroup {
        parent_id: parent,
        name: path,
        path,
        description: None,
        visibility,
    };
    triggerd::db::namespaces::insert_group(&app.db(), &new, owner.id, &triggerd::model::now()).unwrap().id
}

/// Seeds a hook of `project_id` (URL on 127.0.0.1, no events) and returns its id.
fn seed_hook(app: &TestApp, project_id: i64) -> i64 {
    let settings = triggerd::db::hooks::HookSettings {
        url: "http://127.0.0.1:9/hook".into(),
        enable_ssl_verification: true,
        events: "{}".into(),
        custom_headers: "[]".into(),
        ..Default::default()
    };
    triggerd::db::hooks::insert(&app.db(), project_id, &settings, &triggerd::model::now()).unwrap().id
}

/// Seeds a delivery log row of a hook and returns its id.
fn seed_hook_log(app: &TestApp, hook_id: i64) -> i64 {
    let log = triggerd::db::hook_deliveries::LogRow {
        hook_id,
        url: "http://127.0.0.1:9/hook".into(),
        trigger: "pipeline_hooks".into(),
        event_uuid: "0b6f1c5e-8f4a-4c39-9d7e-3c2a1b0f9e8d".into(),
        request_headers: "{}".into(),
        request_data: "{}".into(),
        response_headers: "{}".into(),
        response_status: "200".into(),
        created_at: triggerd::model::now(),
        ..Default::default()
    };
    triggerd::db::hook_deliveries::insert_log(&app.db(), &log).unwrap()
}

/// Seeds a runner (of `project_id`, or an instance runner) and returns its id.
fn seed_runner(app: &TestApp, project_id: Option<i64>) -> i64 {
    let token = auth::new_runner_token().unwrap();
    let new = triggerd::db::runners::NewRunner {
        token_digest: auth::digest(&token),
        short_token: auth::runner_short_token(&token),
        runner_type: if project_id.is_some() { "project_type" } else { "instance_type" }.into(),
        registration_type: "authenticated_user".into(),
        project_id,
        creator_id: Some(1),
        description: None,
        maintenance_note: None,
        active: true,
        run_untagged: true,
        locked: false,
        access_level: "not_protected".into(),
        maximum_timeout: None,
        tags: Vec::new(),
        info: Default::default(),
    };
    triggerd::db::runners::insert(&app.db(), &new, &triggerd::model::now()).unwrap().id
}

/// Commits a new file `path` on branch `files` as `user` through the Repository Files API; its commit's SHA.
fn commit_file(app: &TestApp, project_id: i64, user: &TestUser, path: &str) -> String {
    let url = format!("/projects/{project_id}/repository/files/{path}");
    let body = json!({"branch": "files", "content": path, "commit_message": format!("add {path}")});
    let resp = app.post_json(&url, Some(&user.token), &body);
    assert_eq!(resp.status().as_u16(), 201, "committing {path}: {}", resp.text().unwrap_or_default());
    let resp = app.get(&format!("{url}?ref=files"), Some(&user.token));
    assert_eq!(resp.status().as_u16(), 200, "reading {path} back");
    let file: Value = resp.json().unwrap();
    file["commit_id"].as_str().unwrap().to_string()
}

fn project_visibility(project: Option<&Project>) -> &'static str {
    project.map_or("public", |p| p.visibility)
}

/// Whether a caller kind sees a project of this visibility at all.
fn can_see(kind: Kind, visibility: &str) -> bool {
    match kind {
        Anonymous => visibility == "public",
        NonMember => visibility != "private",
        _ => true,
    }
}

fn alternatives(accepted: &[u16]) -> String {
    accepted.iter().map(u16::to_string).collect::<Vec<_>>().join(" or ")
}

/// A row's path for messages: `{id}` named after the project's visibility.
fn label_path(row: &Row, project: Option<&Project>) -> String {
    match project {
        Some(p) => row.path.replacen("{id}", &format!("{{{}}}", p.visibility), 1),
        None => row.path.to_string(),
    }
}

#[test]
fn every_route_answers_every_kind_of_caller_as_the_authorization_matrix_says() {
    // Completeness: every registered (method, path) has at least one row, and every row names
    // a registered route.
    let registered: BTreeSet<(String, String)> = triggerd::api::route_table().into_iter().collect();
    let covered: BTreeSet<(String, String)> =
        ROWS.iter().map(|r| (r.method.to_string(), r.path.to_string())).collect();
    let mut failures: Vec<String> = Vec::new();
    for (m, p) in registered.difference(&covered) {
        failures.push(format!("{m} {p}: registered route without a row in the matrix"));
    }
    for (m, p) in covered.difference(&registered) {
        failures.push(format!("{m} {p}: row for a route that is not registered"));
    }

    let world = World::build();
    let started = std::time::Instant::now();
    let mut cells = 0usize;
    for row in ROWS {
        let project_scoped =
            row.path.starts_with("/api/v4/projects/{id}") || row.path.starts_with("/api/v4/groups/{id}");
        let expect = match parse_expect(row, project_scoped) {
            Ok(e) => e,
            Err(e) => {
                failures.push(format!("{} {}: bad expectation: {e}", row.method, row.path));
                continue;
            }
        };
        let projects: Vec<Option<&Project>> =
            if project_scoped { world.projects.iter().map(Some).collect() } else { vec![None] };
        let kinds = USER_KINDS.iter().chain(TRIGGER_KINDS.iter()).filter(|k| expect.contains_key(k));
        for kind in kinds {
            for project in &projects {
                let vis =
                    project.map_or(0, |p| VISIBILITIES.iter().position(|v| *v == p.visibility).unwrap());
                cells += 1;
                if let Some(why) = world.run(row, *project, *kind, &expect[kind][vis]) {
                    let what = if row.obj.label().is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", row.obj.label())
                    };
                    let note = if row.note.is_empty() { String::new() } else { format!(" [{}]", row.note) };
                    failures.push(format!(
                        "{} {}{what} as {}: {why}{note}",
                        row.method,
                        label_path(row, *project),
                        kind.label()
                    ));
                }
            }
        }
    }
    eprintln!(
        "authorization matrix: {} routes, {} rows, {cells} cells in {:.1?}",
        registered.len(),
        ROWS.len(),
        started.elapsed()
    );
    assert!(failures.is_empty(), "{} of {cells} cells failed:\n{}", failures.len(), failures.join("\n"));
}
