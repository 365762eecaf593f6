//! GitLab's Projects API (the subset triggerd needs): create a project in the caller's namespace
//! (or, for admins, in a user's), list the projects a caller can see, get, update and delete
//! one. Owns the Project JSON every project endpoint returns ([`project_json`]).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value, json};

use super::access;
use super::limits;
use super::pagination::{self, Page};
use super::params::Params;
use crate::auth::{Caller, MaybeCaller};
use crate::db::projects::{self, ListFilter, NewProject, ProjectChanges, ProjectOrder, ProjectView};
use crate::db::users;
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccessLevel};
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/projects", |m| m.get(list).post(create));
    r.resource("/projects/user/{user_id}", |m| m.post(create_for_user));
    r.resource("/projects/{id}", |m| m.get(show).put(update).delete(destroy));
    r.resource("/projects/{id}/transfer", |m| m.put(super::project_transfer::transfer));
}

const VISIBILITIES: &[&str] = &["private", "internal", "public"];
const DEFAULT_BRANCH: &str = "main";

const PATH_FORMAT: &str = "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', \
                           end in '.git' or end in '.atom'";
const PATH_SPECIAL: &str =
    "must not start or end with a special character and must not contain consecutive special characters.";
const NAME_FORMAT: &str = "can contain only letters, digits, emoji, '_', '.', '+', dashes, or spaces. \
                           It must start with a letter, digit, emoji, or '_'.";
const BLANK: &str = "can't be blank";
const TAKEN: &str = "has already been taken";

/// `POST /projects` — creates a project in the caller's namespace (the caller becomes Owner),
/// or with `namespace_id` (an id or full path) in a group where the caller is Developer+ (they
/// become a Maintainer unless they inherit more) or, for admins, in any namespace.
async fn create(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let input = CreateInput::parse(&params)?;
    let wanted = params.string("namespace_id")?.filter(|s| !s.trim().is_empty());
    let Some(wanted) = wanted else {
        return create_in(&req, &state, &caller, caller.user.id, input).await;
    };
    let (me, admin) = (caller.user.id, caller.is_admin());
    let visibility = input.visibility.clone();
    let namespace = state
        .db
        .read(move |c| {
            let ns = super::namespaces::find_ref(c, wanted.trim())?.ok_or(ApiError::NotFound("Namespace"))?;
            if ns.is_group() {
                super::groups::may_create_project_in(c, &ns, me, admin)?;
                super::groups::visibility_error(&visibility, &ns)?;
            } else if ns.owner_id != Some(me) && !admin {
                return Err(ApiError::NotFound("Namespace"));
            }
            Ok(ns)
        })
        .await?;
    create_in(&req, &state, &caller, namespace.id, input).await
}

/// `POST /projects/user/:user_id` — (admins) creates a project in a user's namespace; that
/// user becomes its creator and Owner.
async fn create_for_user(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let user_id = access::path_id(&path.into_inner(), "user_id")?;
    let input = CreateInput::parse(&params)?;
    if !caller.is_admin() {
        return Err(ApiError::forbidden());
    }
    let user =
        state.db.read(move |c| Ok(users::find(c, user_id)?)).await?.ok_or(ApiError::NotFound("User"))?;
    create_in(&req, &state, &caller, user.id, input).await
}

/// `GET /projects` — the projects the caller can see (anonymous: public; signed in: public,
/// internal and their own; admins: all), newest first, paginated.
async fn list(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let page = Page::from_params(&params)?;
    let order = match params
        .one_of("order_by", &["id", "name", "path", "created_at", "updated_at", "last_activity_at"])?
        .as_deref()
    {
        Some("id") => ProjectOrder::Id,
        Some("name") => ProjectOrder::Name,
        Some("path") => ProjectOrder::Path,
        Some("updated_at" | "last_activity_at") => ProjectOrder::UpdatedAt,
        _ => ProjectOrder::CreatedAt,
    };
    let descending = params.one_of("sort", &["asc", "desc"])?.as_deref() != Some("asc");
    let visibility = params.one_of("visibility", VISIBILITIES)?;
    let membership = params.bool("membership")?.unwrap_or(false);
    let owned = params.bool("owned")?.unwrap_or(false);
    let archived_only = params.bool("archived")?.unwrap_or(false);
    let _simple = params.bool("simple")?; // accepted; the full representation is returned
    let min_access_level = match params.int("min_access_level")? {
        Some(n) if AccessLevel::from_i64(n).is_none() => {
            return Err(ApiError::not_valid_value("min_access_level"));
        }
        other => other,
    };
    let search = params.string("search")?.filter(|s| !s.is_empty());
    let user = caller.0.as_ref().map(|c| c.user.id);
    let signed_in = user.is_some();
    let filter = ListFilter {
        namespace_id: None,
        caller: user,
        admin: caller.0.as_ref().is_some_and(Caller::is_admin),
        // Anonymous callers have no memberships: these filters do not apply to them.
        membership: membership && signed_in,
        owned: owned && signed_in,
        min_access_level: min_access_level.filter(|_| signed_in),
        search,
        visibility,
        archived_only,
        order,
        descending,
    };
    let (rows, total) =
        state.db.read(move |c| Ok(projects::list(c, &filter, page.limit(), page.offset())?)).await?;
    let base = pagination::base_url(&req, &state);
    let items: Vec<Value> = rows.iter().map(|v| project_json(v, &base, signed_in)).collect();
    Ok(pagination::respond(&req, &state, page, total, &items))
}

/// `GET /projects/:id` — one project (anonymous callers see public projects).
async fn show(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let pa = access::project_for(&state, caller.0.as_ref(), &path.into_inner()).await?;
    let (id, user) = (pa.project.id, pa.user_id);
    let view = state
        .db
        .read(move |c| Ok(projects::view(c, id, user)?))
        .await?
        .ok_or(ApiError::NotFound("Project"))?;
    Ok(HttpResponse::Ok().json(project_json(&view, &pagination::base_url(&req, &state), user.is_some())))
}

/// `PUT /projects/:id` — (Maintainer+) changes path, description or default branch; `name` and
/// `visibility` need an Owner. An empty request changes nothing.
async fn update(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let name = params.string("name")?;
    let new_path = params.string("path")?;
    let description = params.string("description")?;
    let visibility = params.one_of("visibility", VISIBILITIES)?;
    let default_branch = params.string("default_branch")?;
    let pa = access::project_for(&state, Some(&caller), &path.into_inner()).await?;
    pa.require(AccessLevel::Maintainer)?;
    // GitLab's `authorize! :change_visibility_level` and `:rename_project`: sending `visibility`
    // (even unchanged) or `name` needs an Owner; admins pass as everywhere.
    if visibility.is_some() || name.is_some() {
        pa.require(AccessLevel::Owner)?;
    }

    let mut errors = Errors::default();
    if let Some(n) = &name {
        errors.add("name", name_errors(n));
    }
    if let Some(p) = &new_path
        && *p != pa.project.path
    {
        errors.add("path", path_errors(p));
    }
    if let Some(d) = &description {
        errors.add("description", description_errors(d));
    }
    if let Some(b) = &default_branch {
        errors.add("default_branch", branch_errors(b));
    }
    errors.into_result()?;

    let (id, user) = (pa.project.id, pa.user_id);
    let view = state
        .db
        .write(move |c| {
            let current = projects::find(c, id)?.ok_or(ApiError::NotFound("Project"))?;
            let next_name = name.unwrap_or_else(|| current.name.clone());
            let next_path = new_path.unwrap_or_else(|| current.path.clone());
            let next_description = description.or_else(|| current.description.clone());
            let next_visibility = visibility.unwrap_or_else(|| current.visibility.clone());
            let next_branch = default_branch.or_else(|| current.default_branch.clone());
            let unchanged = next_name == current.name
                && next_path == current.path
                && next_description == current.description
                && next_visibility == current.visibility
                && next_branch == current.default_branch;
            if !unchanged {
                let (name_taken, path_taken) =
                    projects::taken(c, current.namespace_id, &next_name, &next_path, Some(id))?;
                let mut errors = Errors::default();
                if name_taken && next_name != current.name {
                    errors.add("name", vec![TAKEN.into()]);
                }
                if path_taken {
                    errors.add("path", vec![TAKEN.into()]);
                }
                errors.into_result()?;
                // Like GitLab: once the repository has refs, the default branch must exist.
                if let Some(b) = next_branch.as_deref()
                    && next_branch != current.default_branch
                    && !projects::has_branch(c, id, b)?
                    && projects::view(c, id, None)?.is_some_and(|v| !v.empty_repo)
                {
                    return Err(ApiError::message(
                        StatusCode::BAD_REQUEST,
                        format!("Could not set the default branch. Do you have a branch named '{b}' in your repository?"),
                    ));
                }
                let changes = ProjectChanges {
                    name: &next_name,
                    path: &next_path,
                    description: next_description.as_deref(),
                    visibility: &next_visibility,
                    default_branch: next_branch.as_deref(),
                };
                projects::update(c, id, &changes, &model::now()).map_err(crate::error::taken("path"))?;
            }
            projects::view(c, id, user)?.ok_or(ApiError::NotFound("Project"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(project_json(&view, &pagination::base_url(&req, &state), true)))
}

/// `DELETE /projects/:id` — (Owner or admin) deletes the project with everything in it
/// (members, refs, triggers, pipelines); answers `202 Accepted` as GitLab does.
async fn destroy(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let pa = access::project_for(&state, Some(&caller), &path.into_inner()).await?;
    pa.require(AccessLevel::Owner)?;
    access::check_unmodified_since(&req, &pa.project.updated_at)?;
    let id = pa.project.id;
    let deleted = state.db.write(move |c| Ok(projects::delete(c, id)?)).await?;
    if !deleted {
        return Err(ApiError::NotFound("Project"));
    }
    Ok(HttpResponse::Accepted().json(json!({"message": "202 Accepted"})))
}

/// The parameters of a project creation that Grape checks before the endpoint runs.
struct CreateInput {
    name: Option<String>,
    path: Option<String>,
    description: Option<String>,
    visibility: String,
    default_branch: String,
    initialize_with_readme: bool,
}

impl CreateInput {
    fn parse(params: &Params) -> ApiResult<CreateInput> {
        let name = params.string("name")?;
        let path = params.string("path")?;
        if name.is_none() && path.is_none() {
            return Err(ApiError::Param(
                "name, path are missing, at least one parameter must be provided".into(),
            ));
        }
        Ok(CreateInput {
            name,
            path,
            description: params.string("description")?,
            visibility: params.one_of("visibility", VISIBILITIES)?.unwrap_or_else(|| "private".into()),
            default_branch: params
                .string("default_branch")?
                .filter(|b| !b.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_BRANCH.into()),
            initialize_with_readme: params.bool("initialize_with_readme")?.unwrap_or(false),
        })
    }

    /// The name and path to store: a missing one is derived from the other as GitLab does
    /// (name = path; path = name when that is a valid path, else the name parameterized).
    fn name_and_path(&self) -> (String, String) {
        let name = self.name.clone().filter(|n| !n.trim().is_empty());
        let path = self.path.clone().filter(|p| !p.trim().is_empty());
        match (name, path) {
            (Some(n), Some(p)) => (n, p),
            (None, Some(p)) => (p.clone(), p),
            (Some(n), None) => {
                let p = if path_errors(&n).is_empty() { n.clone() } else { parameterize(&n) };
                (n, p)
            }
            (None, None) => (String::new(), String::new()),
        }
    }
}

/// Validates and stores a new project in `namespace_id`: in a user's namespace that user becomes
/// creator and Owner; in a group the caller is the creator and a Maintainer unless they inherit
/// Maintainer or more.
async fn create_in(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    namespace_id: i64,
    input: CreateInput,
) -> ApiResult<HttpResponse> {
    let (name, path) = input.name_and_path();
    let mut errors = Errors::default();
    errors.add("name", name_errors(&name));
    errors.add("path", path_errors(&path));
    if let Some(d) = &input.description {
        errors.add("description", description_errors(d));
    }
    errors.add("default_branch", branch_errors(&input.default_branch));
    errors.into_result()?;

    let sha = input.initialize_with_readme.then(crate::db::refs::random_sha);
    let viewer = caller.user.id;
    let view = state
        .db
        .write(move |c| {
            let (name_taken, path_taken) = projects::taken(c, namespace_id, &name, &path, None)?;
            let mut errors = Errors::default();
            if name_taken {
                errors.add("name", vec![TAKEN.into()]);
            }
            if path_taken {
                errors.add("path", vec![TAKEN.into()]);
            }
            errors.into_result()?;
            let ns = crate::db::namespaces::find(c, namespace_id)?.ok_or(ApiError::NotFound("Namespace"))?;
            let (creator_id, creator_level) = match ns.owner_id {
                Some(owner) => (owner, Some(AccessLevel::Owner as i64)),
                None => {
                    let inherited = crate::db::access::group_level(c, ns.id, viewer)?.unwrap_or(0);
                    (
                        viewer,
                        (inherited < AccessLevel::Maintainer as i64)
                            .then_some(AccessLevel::Maintainer as i64),
                    )
                }
            };
            let new = NewProject {
                namespace_id,
                creator_id,
                creator_level,
                name: &name,
                path: &path,
                description: input.description.as_deref(),
                visibility: &input.visibility,
                default_branch: Some(&input.default_branch),
            };
            let now = model::now();
            let row = match &sha {
                Some(sha) => projects::insert_with_branch(c, &new, sha, &now),
                None => projects::insert(c, &new, &now),
            }
            .map_err(crate::error::taken("path"))?;
            projects::view(c, row.id, Some(viewer))?.ok_or(ApiError::NotFound("Project"))
        })
        .await?;
    Ok(HttpResponse::Created().json(project_json(&view, &pagination::base_url(req, state), true)))
}

/// GitLab's `BasicProjectDetails`: the project fields every project entity starts with (the job
/// token allowlist shows exactly these).
pub fn basic_project_json(p: &crate::db::projects::ProjectRow, base: &str) -> Value {
    let full_path = p.path_with_namespace();
    let web_url = format!("{base}/{full_path}");
    json!({
        "id": p.id,
        "description": p.description,
        "name": p.name,
        "name_with_namespace": p.name_with_namespace(),
        "path": p.path,
        "path_with_namespace": full_path,
        "created_at": p.created_at,
        "default_branch": p.default_branch,
        "tag_list": [],
        "topics": [],
        "ssh_url_to_repo": format!("git@{}:{full_path}.git", ssh_host(base)),
        "http_url_to_repo": format!("{web_url}.git"),
        "web_url": web_url,
        "readme_url": null,
        "avatar_url": null,
        "forks_count": 0,
        "star_count": 0,
        "last_activity_at": p.updated_at,
        "namespace": {
            "id": p.namespace_id,
            "name": p.namespace_short_name,
            "path": p.namespace_path,
            "kind": p.namespace_kind,
            "full_path": p.namespace,
            "parent_id": p.namespace_parent_id,
            "avatar_url": null,
            "web_url": super::namespaces::web_url(base, &p.namespace_kind, &p.namespace),
        },
    })
}

/// GitLab's project JSON (`ProjectDetails`). `permissions` only for an authenticated viewer.
pub fn project_json(v: &ProjectView, base: &str, with_permissions: bool) -> Value {
    let p = &v.project;
    let mut out = basic_project_json(p, base);
    if let Value::Object(map) = &mut out {
        let more = json!({
            "updated_at": p.updated_at,
            "visibility": p.visibility,
            "empty_repo": v.empty_repo,
            "archived": false,
            "creator_id": p.creator_id,
            "open_issues_count": 0,
            "jobs_enabled": true,
            "builds_access_level": "enabled",
            "ci_config_path": null,
        });
        if let Value::Object(more) = more {
            map.extend(more);
        }
        // GitLab shows `owner` for projects in a personal namespace only.
        if let Some(owner) = &v.owner {
            map.insert("owner".into(), json!(super::entities::UserBasic::new(owner, base)));
        }
    }
    if with_permissions && let Value::Object(map) = &mut out {
        let access = |level: Option<i64>| match level {
            Some(level) => json!({"access_level": level, "notification_level": 3}),
            None => Value::Null,
        };
        map.insert(
            "permissions".into(),
            json!({"project_access": access(v.caller_direct_level), "group_access": access(v.caller_group_level)}),
        );
    }
    out
}

/// The host part of the base URL, for `git@host:…` (no scheme, port or path).
fn ssh_host(base: &str) -> &str {
    let authority = base.split_once("://").map_or(base, |(_, rest)| rest);
    let authority = authority.split('/').next().unwrap_or(authority);
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    authority.split(':').next().unwrap_or(authority)
}

/// Validation messages per field, in GitLab's `{"message":{field:[…]}}` shape.
#[derive(Default)]
pub(super) struct Errors(Map<String, Value>);

impl Errors {
    pub(super) fn add(&mut self, field: &str, messages: Vec<String>) {
        if messages.is_empty() {
            return;
        }
        let entry = self.0.entry(field.to_string()).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = entry {
            list.extend(messages.into_iter().map(Value::String));
        }
    }

    pub(super) fn into_result(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Message(StatusCode::BAD_REQUEST, Value::Object(self.0)))
        }
    }
}

/// GitLab's project name rule: letters, digits, emoji, `_`, `.`, `+`, dashes, spaces; starting
/// with a letter, digit, emoji or `_`.
pub(super) fn name_errors(name: &str) -> Vec<String> {
    if name.trim().is_empty() {
        return vec![BLANK.into()];
    }
    let mut out = Vec::new();
    let emoji = |c: char| ('\u{00A9}'..='\u{1F9FF}').contains(&c) && !c.is_alphanumeric();
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_alphanumeric() || c == '_' || emoji(c));
    let rest_ok = chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '+' | '-' | ' ') || emoji(c));
    if !first_ok || !rest_ok {
        out.push(NAME_FORMAT.into());
    }
    out.extend(limits::PROJECT_NAME.error(name));
    out
}

/// GitLab's project path rules: `[A-Za-z0-9_.-]`, not starting with `-`, not ending in `.git`
/// or `.atom`; no special character first or last and no two in a row.
pub(super) fn path_errors(path: &str) -> Vec<String> {
    if path.trim().is_empty() {
        return vec![BLANK.into()];
    }
    let mut out = Vec::new();
    let special = |c: char| matches!(c, '_' | '.' | '-');
    let charset_ok = path.chars().all(|c| c.is_ascii_alphanumeric() || special(c));
    if !charset_ok || path.starts_with('-') || path.ends_with(".git") || path.ends_with(".atom") {
        out.push(PATH_FORMAT.into());
    }
    let chars: Vec<char> = path.chars().collect();
    let edges = chars.first().is_some_and(|c| special(*c)) || chars.last().is_some_and(|c| special(*c));
    let doubled = chars.windows(2).any(|w| special(w[0]) && special(w[1]));
    if charset_ok && (edges || doubled) {
        out.push(PATH_SPECIAL.into());
    }
    out.extend(limits::PROJECT_PATH.error(path));
    out
}

pub(super) fn description_errors(description: &str) -> Vec<String> {
    limits::PROJECT_DESCRIPTION.error(description).into_iter().collect()
}

/// A branch name git would accept (`git check-ref-format --branch`, simplified).
fn branch_errors(branch: &str) -> Vec<String> {
    let bad_char = |c: char| {
        c.is_control() || c.is_whitespace() || matches!(c, '~' | '^' | ':' | '?' | '*' | '[' | '\\')
    };
    if let Some(too_long) = limits::REF_NAME.error(branch) {
        return vec![too_long];
    }
    let ok = !branch.is_empty()
        && !branch.starts_with(['-', '/', '.'])
        && !branch.ends_with(['/', '.'])
        && !branch.ends_with(".lock")
        && !branch.contains("..")
        && !branch.contains("//")
        && !branch.contains("@{")
        && branch != "@"
        && !branch.chars().any(bad_char);
    if ok { Vec::new() } else { vec!["is invalid".into()] }
}

/// Rails' `parameterize`: lower-case, runs of anything but `[a-z0-9_-]` become one `-`, no
/// leading or trailing `-`.
fn parameterize(s: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
    }
    // Collapse `-` runs produced by literal dashes next to replaced characters.
    let mut collapsed = String::with_capacity(out.len());
    for c in out.chars() {
        if !(c == '-' && collapsed.ends_with('-')) {
            collapsed.push(c);
        }
    }
    collapsed.trim_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parameterize_into_paths() {
        assert_eq!(parameterize("My Project"), "my-project");
        assert_eq!(parameterize("  Hello, World! "), "hello-world");
        assert_eq!(parameterize("a - b"), "a-b");
        assert_eq!(parameterize("snake_case"), "snake_case");
    }

    #[test]
    fn gitlab_path_rules_apply() {
        for ok in ["demo", "Demo", "my-project", "a.b_c", "x1"] {
            assert!(path_errors(ok).is_empty(), "{ok}");
        }
        for bad in ["-x", ".x", "x.git", "x.atom", "a b", "a/b", "x-", "a--b", "a._b", ""] {
            assert!(!path_errors(bad).is_empty(), "{bad}");
        }
    }

    #[test]
    fn gitlab_name_rules_apply() {
        for ok in ["Demo", "My Project", "a+b", "_x", "Ünïcödé"] {
            assert!(name_errors(ok).is_empty(), "{ok}");
        }
        for bad in ["-x", ".x", "a/b", "", "   "] {
            assert!(!name_errors(bad).is_empty(), "{bad}");
        }
    }

    #[test]
    fn the_ssh_host_drops_scheme_and_port() {
        assert_eq!(ssh_host("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(ssh_host("https://git.example.com"), "git.example.com");
        assert_eq!(ssh_host("http://[::1]:80/x"), "::1");
    }
}
