//! `/dashboard/projects` (the viewer's projects) and `/:namespace/:project` (the overview).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::forms::Fields;
use super::session::{self, MaybeViewer};
use super::view::{self, Badge, Chrome, When};
use super::{WebError, WebResult};
use crate::api::access::{self, ProjectAccess};
use crate::db::pipelines::{self, ListFilter, OrderBy, PipelineRow};
use crate::db::projects::{self as store, ProjectOrder};
use crate::db::{refs, triggers};
use crate::model::AccessLevel;
use crate::state::AppState;

/// Projects per dashboard page.
const PER_PAGE: i64 = 20;

/// The project a page is about, as the API's access rules let this viewer see it (Reporter+ on
/// a private project, as the API's pipeline reads). Hidden or missing: 404 when signed in, else
/// sign in first (GitLab does the same).
pub async fn project_page(
    state: &AppState,
    viewer: &MaybeViewer,
    req: &HttpRequest,
    ns: &str,
    project: &str,
) -> WebResult<ProjectAccess> {
    let caller = viewer.caller();
    let found = access::project_for(state, caller.as_ref(), &format!("{ns}/{project}")).await;
    let pa = match found {
        Ok(pa) if crate::api::pipelines::require_read(&pa).is_ok() => pa,
        Ok(_) | Err(crate::error::ApiError::NotFound(_)) if viewer.0.is_none() => {
            return Err(WebError::SignIn(session::this_path(req)));
        }
        Ok(_) => return Err(WebError::NotFound),
        Err(e) => return Err(e.into()),
    };
    Ok(pa)
}

/// A role's name as GitLab shows it.
pub fn role_name(level: Option<AccessLevel>, admin: bool) -> &'static str {
    match level {
        Some(AccessLevel::Owner) => "Owner",
        Some(AccessLevel::Maintainer) => "Maintainer",
        Some(AccessLevel::Developer) => "Developer",
        Some(AccessLevel::Reporter) => "Reporter",
        Some(AccessLevel::Guest) => "Guest",
        _ if admin => "Administrator",
        _ => "",
    }
}

/// One pipeline in a table.
#[derive(Debug, Clone)]
pub struct PipelineItem {
    pub id: i64,
    pub url: String,
    pub badge: Badge,
    pub ref_name: String,
    pub tag: bool,
    pub short_sha: String,
    pub source: String,
    pub user: Option<String>,
    pub created: When,
    pub duration: Option<String>,
}

impl PipelineItem {
    pub fn new(row: &PipelineRow, project_path: &str) -> PipelineItem {
        PipelineItem {
            id: row.id,
            url: format!("/{project_path}/-/pipelines/{}", row.id),
            badge: Badge::status(&row.status),
            ref_name: row.ref_name.clone(),
            tag: row.tag,
            short_sha: view::short_sha(&row.sha),
            source: row.source.clone(),
            user: row.user.as_ref().map(|u| u.username.clone()),
            created: When::of(&row.created_at),
            duration: view::duration(row.duration.map(|d| d as f64)),
        }
    }
}

/// Every pipeline, newest first.
pub fn all_pipelines() -> ListFilter {
    ListFilter {
        scope: None,
        status: None,
        source: None,
        ref_name: None,
        sha: None,
        username: None,
        yaml_errors: None,
        updated_after: None,
        updated_before: None,
        created_after: None,
        created_before: None,
        name: None,
        order_by: OrderBy::Id,
        descending: true,
    }
}

struct DashboardRow {
    id: i64,
    path: String,
    role: &'static str,
    visibility: String,
    triggers: i64,
    latest: Option<PipelineItem>,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct Dashboard {
    chrome: Chrome,
    search: String,
    rows: Vec<DashboardRow>,
    total: i64,
    prev: Option<String>,
    next: Option<String>,
}

/// `GET /dashboard/projects`: the projects the viewer is a member of (admins: all), with their
/// ids, the viewer's role, active trigger tokens and the latest pipeline. `?search=`, `?page=`.
pub async fn dashboard(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
) -> WebResult<HttpResponse> {
    let viewer = viewer.require(&req)?;
    let query = Fields::from_query(req.query_string())?;
    let search = query.text("search").map(str::to_string);
    let page = query.page()?;
    let filter = store::ListFilter {
        namespace_id: None,
        caller: Some(viewer.user.id),
        admin: viewer.user.is_admin,
        membership: !viewer.user.is_admin,
        owned: false,
        min_access_level: None,
        search: search.clone(),
        visibility: None,
        archived_only: false,
        order: ProjectOrder::Path,
        descending: false,
    };
    let (rows, total) = state
        .db
        .read(move |c| {
            let (projects, total) = store::list(c, &filter, PER_PAGE, (page - 1) * PER_PAGE)?;
            let mut rows = Vec::with_capacity(projects.len());
            for v in projects {
                let path = v.project.path_with_namespace();
                let latest = pipelines::list(c, v.project.id, &all_pipelines(), 1, 0)?.0;
                let level = v.caller_level.and_then(AccessLevel::from_i64);
                rows.push(DashboardRow {
                    id: v.project.id,
                    role: role_name(level, false),
                    visibility: v.project.visibility.clone(),
                    triggers: triggers::count(c, v.project.id)?,
                    latest: latest.first().map(|p| PipelineItem::new(p, &path)),
                    path,
                });
            }
            Ok((rows, total))
        })
        .await?;
    let link = |p: i64| {
        let search =
            search.as_deref().map(|s| format!("&search={}", view::query_escape(s))).unwrap_or_default();
        format!("/dashboard/projects?page={p}{search}")
    };
    let page_view = Dashboard {
        chrome: viewer.chrome("Projects", None),
        search: search.clone().unwrap_or_default(),
        prev: (page > 1).then(|| link(page - 1)),
        next: (page * PER_PAGE < total).then(|| link(page + 1)),
        rows,
        total,
    };
    view::render(&page_view)
}

struct RefItem {
    name: String,
    short_sha: String,
    pipelines_url: String,
}

#[derive(Template)]
#[template(path = "project.html")]
struct Overview {
    chrome: Chrome,
    id: i64,
    path: String,
    name: String,
    description: String,
    visibility: String,
    default_branch: String,
    role: &'static str,
    can_settings: bool,
    branches: Vec<RefItem>,
    tags: Vec<RefItem>,
    pipelines: Vec<PipelineItem>,
}

/// `GET /:namespace/:project`: the project's id, branches and tags, and its last 5 pipelines.
pub async fn overview(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String)>,
) -> WebResult<HttpResponse> {
    let (ns, project) = path.into_inner();
    let pa = project_page(&state, &viewer, &req, &ns, &project).await?;
    let full = pa.project.path_with_namespace();
    let (pid, full_path) = (pa.project.id, full.clone());
    let (branches, tags, recent) = state
        .db
        .read(move |c| {
            let refs_of = |kind: &str| -> rusqlite::Result<Vec<RefItem>> {
                let (rows, _) = refs::list(c, pid, kind, &refs::Search::All, refs::Order::NameAsc, 50, 0)?;
                Ok(rows
                    .into_iter()
                    .map(|r| RefItem {
                        pipelines_url: format!(
                            "/{full_path}/-/pipelines?ref={}",
                            view::query_escape(&r.name)
                        ),
                        short_sha: view::short_sha(&r.sha),
                        name: r.name,
                    })
                    .collect())
            };
            let recent = pipelines::list(c, pid, &all_pipelines(), 5, 0)?.0;
            Ok((refs_of(refs::BRANCH)?, refs_of(refs::TAG)?, recent))
        })
        .await?;
    let page = Overview {
        chrome: viewer.chrome(&full, None),
        id: pa.project.id,
        name: pa.project.name.clone(),
        description: pa.project.description.clone().unwrap_or_default(),
        visibility: pa.project.visibility.clone(),
        default_branch: pa.project.default_branch.clone().unwrap_or_default(),
        role: role_name(pa.level, pa.admin),
        can_settings: pa.at_least(AccessLevel::Maintainer),
        pipelines: recent.iter().map(|p| PipelineItem::new(p, &full)).collect(),
        path: full,
        branches,
        tags,
    };
    view::render(&page)
}

struct UserProject {
    path: String,
    id: i64,
}

#[derive(Template)]
#[template(path = "user.html")]
struct UserPage {
    chrome: Chrome,
    username: String,
    name: String,
    blocked: bool,
    projects: Vec<UserProject>,
}

/// Most projects a user page lists.
const USER_PAGE_PROJECTS: i64 = 100;

/// `GET /:username` (the `web_url` of a user and of a namespace): the user and the projects in
/// their namespace that the viewer may see (each through `api::access`).
pub async fn user(
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<String>,
) -> WebResult<HttpResponse> {
    let username = path.into_inner();
    let (user, ids) = state
        .db
        .read(move |c| {
            let Some(user) = crate::db::users::find_by_username(c, &username)? else { return Ok(None) };
            let ids = store::ids_in_namespace(c, user.id, USER_PAGE_PROJECTS)?;
            Ok(Some((user, ids)))
        })
        .await?
        .ok_or(WebError::NotFound)?;
    let caller = viewer.caller();
    let mut projects = Vec::new();
    for id in ids {
        match access::project_for(&state, caller.as_ref(), &id.to_string()).await {
            Ok(pa) => projects.push(UserProject { path: pa.project.path_with_namespace(), id }),
            Err(crate::error::ApiError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let page = UserPage {
        chrome: viewer.chrome(&user.username, None),
        blocked: !user.is_active(),
        username: user.username,
        name: user.name,
        projects,
    };
    view::render(&page)
}

#[derive(Template)]
#[template(path = "commit.html")]
struct CommitPage {
    chrome: Chrome,
    path: String,
    sha: String,
    title: String,
    message: String,
    author: Option<String>,
    committed: Option<When>,
    pipelines: Vec<PipelineItem>,
}

/// `GET /:namespace/:project/-/commit/:sha` (a commit's `web_url`): the commit and its pipelines.
pub async fn commit(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String, String)>,
) -> WebResult<HttpResponse> {
    let (ns, project, sha) = path.into_inner();
    let pa = project_page(&state, &viewer, &req, &ns, &project).await?;
    if !crate::db::refs::is_full_sha(&sha) {
        return Err(WebError::NotFound);
    }
    let pid = pa.project.id;
    let wanted = sha.clone();
    let (commit, rows, referenced) = state
        .db
        .read(move |c| {
            let commit = crate::db::commits::find(c, pid, &wanted)?;
            let mut filter = all_pipelines();
            filter.sha = Some(wanted.clone());
            let (rows, _) = pipelines::list(c, pid, &filter, 50, 0)?;
            let referenced = crate::db::commits::ref_points_at(c, pid, &wanted)?.is_some();
            Ok((commit, rows, referenced))
        })
        .await?;
    if commit.is_none() && rows.is_empty() && !referenced {
        return Err(WebError::NotFound);
    }
    let full = pa.project.path_with_namespace();
    let message = commit
        .as_ref()
        .map(|c| c.message.clone())
        .unwrap_or_else(|| format!("Commit {}", view::short_sha(&sha)));
    let page = CommitPage {
        chrome: viewer.chrome(&format!("Commit {} · {full}", view::short_sha(&sha)), None),
        title: message.lines().next().unwrap_or_default().to_string(),
        author: commit.as_ref().map(|c| c.author_name.clone()),
        committed: commit.as_ref().map(|c| When::of(&c.committed_date)),
        pipelines: rows.iter().map(|p| PipelineItem::new(p, &full)).collect(),
        path: full,
        sha,
        message,
    };
    view::render(&page)
}

/// `GET /:namespace/:project/-/tree/:ref` (a branch's or tag's `web_url`): there are no files to
/// browse here, so it opens the ref's pipelines.
pub async fn tree(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String, String)>,
) -> WebResult<HttpResponse> {
    let (ns, project, name) = path.into_inner();
    let pa = project_page(&state, &viewer, &req, &ns, &project).await?;
    Ok(view::see_other(&format!(
        "/{}/-/pipelines?ref={}",
        pa.project.path_with_namespace(),
        view::query_escape(&name)
    )))
}
