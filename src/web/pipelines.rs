//! `/:namespace/:project/-/pipelines` (list with the API's filter names; the table alone with
//! `?fragment=table`, which app.js fetches to refresh it while a pipeline in it runs) and
//! `/-/pipelines/:id` (header, variables for Maintainers, jobs by stage, linked pipelines).
//! Reads follow the API's rules (`require_read`) and the variables rule of the variables
//! endpoint; the buttons' writes are in `pipeline_actions`.

use std::collections::HashSet;

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::forms::Fields;
use super::projects::{PipelineItem, all_pipelines, project_page};
use super::session::MaybeViewer;
use super::view::{self, Badge, Chrome, When};
use super::{WebError, WebResult};
use crate::api::access::ProjectAccess;
use crate::api::pipelines::{SOURCES, STATUSES};
use crate::db::pipelines::{self as store, PipelineRow, Scope};
use crate::db::{COUNT_LIMIT, Window, commit_statuses, jobs, triggers};
use crate::model::AccessLevel;
use crate::state::AppState;

/// Pipelines per page.
const PER_PAGE: i64 = 20;
/// Jobs shown on a pipeline page.
const MAX_JOBS: i64 = 1000;

/// The statuses a pipeline can still be canceled from (GitLab's `cancelable`).
pub(super) fn cancelable(status: &str) -> bool {
    matches!(
        status,
        "created"
            | "waiting_for_resource"
            | "preparing"
            | "waiting_for_callback"
            | "pending"
            | "running"
            | "scheduled"
            | "manual"
    )
}

/// GitLab's `retryable` for a pipeline.
pub(super) fn retryable(status: &str) -> bool {
    matches!(status, "failed" | "canceled")
}

/// A tab of the list: its label, link and whether it is the current one.
struct Tab {
    label: &'static str,
    url: String,
    current: bool,
}

/// An `<option>` of a filter `<select>`.
struct Choice {
    value: &'static str,
    selected: bool,
}

struct Row {
    item: PipelineItem,
    trigger: Option<String>,
    can_cancel: bool,
    can_retry: bool,
}

#[derive(Template)]
#[template(path = "pipelines.html")]
struct ListPage {
    chrome: Chrome,
    path: String,
    tabs: Vec<Tab>,
    statuses: Vec<Choice>,
    sources: Vec<Choice>,
    ref_name: String,
    username: String,
    scope: String,
    /// The count, or "10000+" past the count limit.
    total: String,
    prev: Option<String>,
    next: Option<String>,
    /// The rendered [`Table`].
    table_html: String,
}

/// The table of the list, also answered alone (`?fragment=table`) for the script that refreshes
/// it while a pipeline in it is running.
#[derive(Template)]
#[template(path = "_pipelines_table.html")]
struct Table {
    csrf: String,
    path: String,
    rows: Vec<Row>,
    total: String,
    return_to: String,
    empty_text: &'static str,
    /// A pipeline in the table may still change: the script refreshes it.
    follow: bool,
}

/// The statuses a pipeline leaves by itself (the list refreshes while one is shown).
fn in_progress(status: &str) -> bool {
    matches!(
        status,
        "created"
            | "waiting_for_resource"
            | "preparing"
            | "waiting_for_callback"
            | "pending"
            | "running"
            | "canceling"
    )
}

/// "abcd (description)" for a pipeline's trigger, if it still exists.
fn trigger_label(c: &rusqlite::Connection, row: &PipelineRow) -> rusqlite::Result<Option<String>> {
    let Some(tid) = row.trigger_id else { return Ok(None) };
    Ok(triggers::find(c, row.project_id, tid)?.map(|t| match t.description.filter(|d| !d.is_empty()) {
        Some(d) => format!("{} ({d})", t.short_token),
        None => t.short_token,
    }))
}

/// `GET /:namespace/:project/-/pipelines`: `scope` (tabs), `status`, `source`, `ref`,
/// `username`, `page`, as the API names them.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String)>,
) -> WebResult<HttpResponse> {
    let (ns, project) = path.into_inner();
    let pa = project_page(&state, &viewer, &req, &ns, &project).await?;
    let q = Fields::from_query(req.query_string())?;
    let scope = q.one_of("scope", &["all", "finished", "branches", "tags", "running", "pending"])?;
    let status = q.one_of("status", STATUSES)?;
    let source = q.one_of("source", SOURCES)?;
    let ref_name = q.text("ref").map(str::to_string);
    let username = q.text("username").map(str::to_string);
    let page = q.page()?;
    let mut filter = all_pipelines();
    filter.scope = scope.as_deref().and_then(Scope::parse);
    filter.status = status.clone();
    filter.source = source.clone();
    filter.ref_name = ref_name.clone();
    filter.username = username.clone();
    let pid = pa.project.id;
    // The API's bounded page: counted up to db::COUNT_LIMIT rows (past it the count shows as
    // "10000+"), the next link from one extra row, so a page costs the same at any size.
    let (rows, total, more) = state
        .db
        .read(move |c| {
            let found = store::page(c, pid, &filter, PER_PAGE, Window::Offset((page - 1) * PER_PAGE))?;
            let mut out = Vec::with_capacity(found.rows.len());
            for r in found.rows {
                let label = trigger_label(c, &r)?;
                out.push((r, label));
            }
            Ok((out, found.total, found.more))
        })
        .await?;
    let total = total.map_or_else(|| format!("{COUNT_LIMIT}+"), |n| n.to_string());
    let full = pa.project.path_with_namespace();
    let may_act = pa.at_least(AccessLevel::Developer);
    let base = format!("/{full}/-/pipelines");
    let mut params: Vec<(&str, String)> = Vec::new();
    for (k, v) in [("status", &status), ("source", &source), ("ref", &ref_name), ("username", &username)] {
        if let Some(v) = v {
            params.push((k, v.clone()));
        }
    }
    let url_with = |scope: Option<&str>, page: i64| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        if let Some(sc) = scope {
            s.append_pair("scope", sc);
        }
        for (k, v) in &params {
            s.append_pair(k, v);
        }
        if page > 1 {
            s.append_pair("page", &page.to_string());
        }
        let q = s.finish();
        if q.is_empty() { base.clone() } else { format!("{base}?{q}") }
    };
    let current = scope.as_deref().unwrap_or("all");
    let tabs = [("All", "all"), ("Finished", "finished"), ("Branches", "branches"), ("Tags", "tags")]
        .into_iter()
        .map(|(label, value)| Tab {
            label,
            url: url_with((value != "all").then_some(value), 1),
            current: current == value,
        })
        .collect();
    let scope_param = scope.as_deref().filter(|s| *s != "all");
    let table = Table {
        csrf: viewer.0.as_ref().map(|v| v.csrf.clone()).unwrap_or_default(),
        path: full.clone(),
        follow: rows.iter().any(|(r, _)| in_progress(&r.status)),
        rows: rows
            .into_iter()
            .map(|(r, trigger)| Row {
                can_cancel: may_act && cancelable(&r.status),
                can_retry: may_act && retryable(&r.status),
                item: PipelineItem::new(&r, &full),
                trigger,
            })
            .collect(),
        total: total.clone(),
        return_to: url_with(scope_param, page),
        empty_text: if current == "finished" {
            "There are currently no finished pipelines."
        } else {
            "There are currently no pipelines."
        },
    };
    if q.get("fragment") == Some("table") {
        return view::render(&table);
    }
    let page_view = ListPage {
        chrome: viewer.chrome(&format!("Pipelines · {full}"), view::flash_message(q.get("flash"))),
        tabs,
        statuses: STATUSES
            .iter()
            .map(|s| Choice { value: s, selected: status.as_deref() == Some(*s) })
            .collect(),
        sources: SOURCES
            .iter()
            .map(|s| Choice { value: s, selected: source.as_deref() == Some(*s) })
            .collect(),
        ref_name: ref_name.clone().unwrap_or_default(),
        username: username.clone().unwrap_or_default(),
        scope: scope_param.unwrap_or_default().to_string(),
        total,
        prev: (page > 1).then(|| url_with(scope_param, page - 1)),
        next: more.then(|| url_with(scope_param, page + 1)),
        table_html: table.render()?,
        path: full,
    };
    view::render(&page_view)
}

struct JobItem {
    /// The job's page (builds), or `None` (bridges and external jobs have none).
    url: Option<String>,
    name: String,
    badge: Badge,
    duration: Option<String>,
    allow_failure: bool,
    /// What the job is when it is not a build: "trigger job" (a bridge) or "external".
    label: Option<&'static str>,
    /// An external job's `target_url` (http or https only) and description.
    target_url: Option<String>,
    description: Option<String>,
}

/// What kind of job a row of the pipeline is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Build,
    Bridge,
    External,
}

/// A pipeline's jobs by stage: builds (linked to their page), bridges and external jobs
/// (commit statuses, in their stage with their `target_url` and description), as the commit
/// status API's list of the pipeline reads them.
fn pipeline_stages(
    c: &rusqlite::Connection,
    pid: i64,
    id: i64,
    sha: &str,
    path: &str,
) -> rusqlite::Result<Vec<Stage>> {
    let ids_of = |kind: jobs::JobKind| -> rusqlite::Result<HashSet<i64>> {
        let filter = jobs::ListFilter { kind, pipeline_id: Some(id), ..Default::default() };
        Ok(jobs::list(c, pid, &filter, MAX_JOBS, 0)?.0.into_iter().map(|j| j.id).collect())
    };
    let (builds, bridges) = (ids_of(jobs::JobKind::Builds)?, ids_of(jobs::JobKind::Bridges)?);
    let filter = commit_statuses::ListFilter { pipeline_id: Some(id), ..Default::default() };
    let (mut rows, _) = commit_statuses::list(c, pid, sha, &filter, MAX_JOBS, 0)?;
    rows.sort_by_key(|r| (r.job.stage_idx, r.job.id));
    let mut stages: Vec<Stage> = Vec::new();
    for r in rows {
        let j = r.job;
        let kind = if builds.contains(&j.id) {
            Kind::Build
        } else if bridges.contains(&j.id) {
            Kind::Bridge
        } else {
            Kind::External
        };
        let external = kind == Kind::External;
        let item = JobItem {
            url: (kind == Kind::Build).then(|| format!("/{path}/-/jobs/{}", j.id)),
            badge: Badge::status(&j.status),
            duration: view::duration(j.duration),
            allow_failure: j.allow_failure,
            label: match kind {
                Kind::Build => None,
                Kind::Bridge => Some("trigger job"),
                Kind::External => Some("external"),
            },
            target_url: r.target_url.filter(|u| external && web_link(u)),
            description: r.description.filter(|d| external && !d.is_empty()),
            name: j.name,
        };
        match stages.last_mut() {
            Some(s) if s.name == j.stage => s.jobs.push(item),
            _ => stages.push(Stage { name: j.stage, jobs: vec![item] }),
        }
    }
    Ok(stages)
}

/// A URL the page may link: http or https only.
fn web_link(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

struct Stage {
    name: String,
    jobs: Vec<JobItem>,
}

struct VariableItem {
    key: String,
    variable_type: String,
    value: String,
}

struct Link {
    id: i64,
    url: String,
    badge: Badge,
}

#[derive(Template)]
#[template(path = "pipeline.html")]
struct ShowPage {
    chrome: Chrome,
    path: String,
    p: PipelineItem,
    sha: String,
    trigger: Option<String>,
    started: Option<When>,
    finished: Option<When>,
    queued: Option<String>,
    yaml_errors: Option<String>,
    can_cancel: bool,
    can_retry: bool,
    /// Owners (GitLab shows Delete to them only).
    can_delete: bool,
    /// `None` when the viewer may not see the variables (Maintainer+ or the pipeline's own
    /// Developer+ user, as the API's variables endpoint).
    variables: Option<Vec<VariableItem>>,
    stages: Vec<Stage>,
    upstream: Option<Link>,
    downstream: Vec<Link>,
    return_to: String,
}

pub(super) fn parse_id(raw: &str) -> WebResult<i64> {
    raw.parse::<i64>().map_err(|_| WebError::NotFound)
}

pub(super) async fn find_pipeline(state: &AppState, pa: &ProjectAccess, id: i64) -> WebResult<PipelineRow> {
    let pid = pa.project.id;
    state.db.read(move |c| Ok(store::find(c, pid, id)?)).await?.ok_or(WebError::NotFound)
}

/// `GET /:namespace/:project/-/pipelines/:id` (the API's `web_url`).
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String, String)>,
) -> WebResult<HttpResponse> {
    let (ns, project, raw) = path.into_inner();
    let pa = project_page(&state, &viewer, &req, &ns, &project).await?;
    let id = parse_id(&raw)?;
    let row = find_pipeline(&state, &pa, id).await?;
    let own = row.user_id.is_some() && row.user_id == pa.user_id;
    let may_see_variables =
        pa.at_least(AccessLevel::Maintainer) || (own && pa.at_least(AccessLevel::Developer));
    let full = pa.project.path_with_namespace();
    let (pid, job_path) = (pa.project.id, full.clone());
    let probe = row.clone();
    let (trigger, variables, stages) = state
        .db
        .read(move |c| {
            let trigger = trigger_label(c, &probe)?;
            let variables = if may_see_variables {
                Some(
                    store::variables(c, id)?
                        .into_iter()
                        .map(|v| VariableItem { key: v.key, variable_type: v.variable_type, value: v.value })
                        .collect::<Vec<_>>(),
                )
            } else {
                None
            };
            let stages = pipeline_stages(c, pid, id, &probe.sha, &job_path)?;
            Ok((trigger, variables, stages))
        })
        .await?;
    let caller = viewer.caller();
    let links = crate::api::pipeline_links::load(&state, caller.as_ref(), id, String::new()).await?;
    let link = |l: crate::api::pipeline_links::LinkedPipeline| Link {
        id: l.id,
        url: l.web_url,
        badge: Badge::status(&l.status),
    };
    let may_act = pa.at_least(AccessLevel::Developer);
    let page = ShowPage {
        chrome: viewer.chrome(
            &format!("Pipeline #{id} · {full}"),
            view::flash_message(Fields::from_query(req.query_string())?.get("flash")),
        ),
        p: PipelineItem::new(&row, &full),
        sha: row.sha.clone(),
        trigger,
        started: When::maybe(row.started_at.as_deref()),
        finished: When::maybe(row.finished_at.as_deref()),
        queued: view::duration(row.queued_duration.map(|d| d as f64)),
        yaml_errors: row.yaml_errors.clone(),
        can_cancel: may_act && cancelable(&row.status),
        can_retry: may_act && retryable(&row.status),
        can_delete: pa.at_least(AccessLevel::Owner),
        variables,
        stages,
        upstream: links.upstream_pipeline.map(link),
        downstream: links.downstream_pipelines.into_iter().map(link).collect(),
        return_to: format!("/{full}/-/pipelines/{id}"),
        path: full,
    };
    view::render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_and_https_target_urls_become_links() {
        assert!(web_link("https://ci.example/b/1") && web_link("HTTP://ci.example"));
        assert!(!web_link("javascript:alert(1)") && !web_link("data:text/html,x") && !web_link("ftp://x"));
    }
}
