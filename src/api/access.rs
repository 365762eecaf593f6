//! Finding a project for a caller, in GitLab's order: authentication (401) before visibility
//! (`404 Project Not Found`) before role (403).

use actix_web::HttpRequest;

use crate::auth::{self, Caller, JobCaller};
use crate::db::projects::{self, ProjectRow};
use crate::db::{self, ReadSize, job_tokens};
use crate::error::{ApiError, ApiResult};
use crate::model::{AccessLevel, Visibility};
use crate::state::AppState;

/// A project as seen by one caller.
#[derive(Debug, Clone)]
pub struct ProjectAccess {
    pub project: ProjectRow,
    /// The caller's membership level; `None` for non-members and anonymous callers.
    pub level: Option<AccessLevel>,
    /// The caller is an instance admin (who may do everything).
    pub admin: bool,
    /// The caller's user id, if authenticated.
    pub user_id: Option<i64>,
}

impl ProjectAccess {
    /// True when the caller has at least `level` (admins always do).
    pub fn at_least(&self, level: AccessLevel) -> bool {
        self.admin || self.level.is_some_and(|l| l >= level)
    }

    /// `403 Forbidden` unless the caller has at least `level`.
    pub fn require(&self, level: AccessLevel) -> ApiResult<()> {
        if self.at_least(level) { Ok(()) } else { Err(ApiError::forbidden()) }
    }
}

/// How an `:id` path segment names a project: GitLab takes `/^-?\d+$/` as an id and anything
/// containing `/` as a full path; anything else names nothing.
#[derive(Debug, Clone)]
pub enum ProjectRef {
    Id(i64),
    Path(String),
    Nothing,
}

impl ProjectRef {
    /// Classifies an already percent-decoded `:id` segment.
    pub fn parse(id: &str) -> ProjectRef {
        let digits = id.strip_prefix('-').unwrap_or(id);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return id.parse().map(ProjectRef::Id).unwrap_or(ProjectRef::Nothing);
        }
        if id.contains('/') { ProjectRef::Path(id.to_string()) } else { ProjectRef::Nothing }
    }
}

/// Loads the project named by `id` without any access check (the trigger call's lookup).
pub fn find_project(conn: &rusqlite::Connection, id: &ProjectRef) -> rusqlite::Result<Option<ProjectRow>> {
    match id {
        ProjectRef::Id(n) => projects::find(conn, *n),
        ProjectRef::Path(p) => projects::find_by_full_path(conn, p),
        ProjectRef::Nothing => Ok(None),
    }
}

/// What one read found for a project and a caller: the project, the caller's effective level,
/// and the job token's source project when that project's allowlist refuses it.
type Found = Option<(ProjectRow, Option<i64>, Option<String>)>;

/// The part of a caller [`lookup`] needs.
#[derive(Clone, Copy)]
struct Who {
    user_id: Option<i64>,
    job: Option<JobCaller>,
}

impl Who {
    fn of(caller: Option<&Caller>) -> Who {
        Who { user_id: caller.map(|c| c.user.id), job: caller.and_then(|c| c.job) }
    }
}

/// The point reads behind [`project_for`]: the project, the caller's level and, for a job token,
/// the allowlist.
fn lookup(c: &db::Connection, pref: &ProjectRef, who: Who) -> ApiResult<Found> {
    let Some(p) = find_project(c, pref)? else { return Ok(None) };
    let level = match who.user_id {
        Some(u) => projects::member_level(c, p.id, u)?,
        None => None,
    };
    // A job token reaches another project only through that project's allowlist.
    let refused = match who.job {
        Some(j) if !job_tokens::may_access(c, p.id, j.project_id)? => {
            Some(projects::find(c, j.project_id)?.map(|s| s.path_with_namespace()).unwrap_or_default())
        }
        _ => None,
    };
    Ok(Some((p, level, refused)))
}

/// Decides what [`lookup`] found: 404 for a missing or hidden project, the job token allowlist's
/// 403.
fn decide(found: Found, caller: Option<&Caller>) -> ApiResult<ProjectAccess> {
    let (project, level, refused_job_source) = found.ok_or(ApiError::NotFound("Project"))?;
    if let Some(source) = refused_job_source {
        return Err(ApiError::message(
            actix_web::http::StatusCode::FORBIDDEN,
            format!(
                "403 Forbidden - Authentication by CI/CD job token not allowed from {source} to {}.",
                project.path_with_namespace()
            ),
        ));
    }
    let admin = caller.is_some_and(Caller::is_admin);
    let level = level.and_then(AccessLevel::from_i64);
    if !can_see(&project.visibility, caller.is_some(), admin, level.is_some()) {
        return Err(ApiError::NotFound("Project"));
    }
    Ok(ProjectAccess { project, level, admin, user_id: caller.map(|c| c.user.id) })
}

/// Loads a project the caller can see: `404 Project Not Found` when it does not exist or is
/// hidden from the caller (private: members and admins; internal: signed-in users; public: all).
pub async fn project_for(state: &AppState, caller: Option<&Caller>, id: &str) -> ApiResult<ProjectAccess> {
    let pref = ProjectRef::parse(id);
    let who = Who::of(caller);
    let found = state.db.read_short(move |c| lookup(c, &pref, who)).await?;
    decide(found, caller)
}

/// A request's caller and the project its `:id` names, from ONE read: the credential (token and
/// user, or job), the project and the caller's effective level are short point reads, and doing
/// them in one trip to the blocking pool instead of two is most of an authenticated read's
/// latency. Resolved on every request (nothing cached), so a revoked token, a blocked user or a
/// removed member is refused at once.
pub struct Authenticated<T = ()> {
    /// `None` for an anonymous request.
    pub caller: Option<Caller>,
    /// The project as [`project_for`] would have answered (its errors come after the caller's
    /// own, and after the handler's parameter validation).
    pub project: ApiResult<ProjectAccess>,
    /// What the handler's own read returned (see [`authenticate_with_project_then`]); `None`
    /// when the project was refused, so the read never ran.
    read: Option<ApiResult<T>>,
}

impl<T> Authenticated<T> {
    /// `401 Unauthorized` for an anonymous request (routes that need a user), else itself.
    pub fn signed_in(self) -> ApiResult<Self> {
        if self.caller.is_some() { Ok(self) } else { Err(ApiError::Unauthorized) }
    }

    /// The project, then the handler's read: their errors in that order.
    pub fn project_and_read(self) -> ApiResult<(ProjectAccess, T)> {
        let pa = self.project?;
        let read = self.read.ok_or_else(|| ApiError::Internal("the handler's read did not run".into()))??;
        Ok((pa, read))
    }
}

/// Resolves the request's credential and the project `id` in one read: `Err` when the credential
/// is refused (401, or 403 for a `read_api` token on a write), as the [`Caller`] extractor would.
pub async fn authenticate_with_project(
    state: &AppState,
    req: &HttpRequest,
    id: &str,
) -> ApiResult<Authenticated> {
    authenticate_with_project_then(state, req, id, ReadSize::Short, |_, _| Ok(())).await
}

/// [`authenticate_with_project`] and the handler's own read in the SAME trip to the blocking
/// pool and the same read transaction: `then` runs once the credential is accepted and the
/// project is visible to the caller, with the project and the caller's level, and does the
/// route's role check itself (so a refused caller reads nothing). One hop instead of two: ~13 µs
/// of server CPU per request (BENCHMARKS.md, round three). A handler whose parameters were
/// refused passes a `then` that returns at once: its parameter error is answered before
/// [`Authenticated::project_and_read`] is reached. `size` is that of the whole read, `then`
/// included: [`ReadSize::Short`] runs it in place when a connection is free.
pub async fn authenticate_with_project_then<T, F>(
    state: &AppState,
    req: &HttpRequest,
    id: &str,
    size: ReadSize,
    then: F,
) -> ApiResult<Authenticated<T>>
where
    F: FnOnce(&db::Connection, &ProjectAccess) -> ApiResult<T> + Send + 'static,
    T: Send + 'static,
{
    let presented = auth::Presented::of(req);
    let pref = ProjectRef::parse(id);
    let (resolved, project, read) = state
        .db
        .read_sized(size, move |c| {
            let resolved = auth::resolve_in(c, &presented)?;
            let caller = resolved.as_ref().map(auth::Resolved::caller);
            let project = decide(lookup(c, &pref, Who::of(caller))?, caller);
            let read = match &project {
                Ok(pa) => Some(then(c, pa)),
                Err(_) => None,
            };
            Ok((resolved, project, read))
        })
        .await?;
    let caller = resolved.map(|r| auth::record_use(state, r));
    Ok(Authenticated { caller, project, read })
}

/// GitLab's `read_project` by visibility: admins and members see every project, signed-in users
/// internal and public ones, everyone public ones.
pub fn can_see(visibility: &str, signed_in: bool, admin: bool, member: bool) -> bool {
    admin
        || member
        || match Visibility::parse(visibility) {
            Some(Visibility::Public) => true,
            Some(Visibility::Internal) => signed_in,
            _ => false,
        }
}

/// [`can_see`] for a viewer (`(user id, admin)`, or `None` for anonymous) inside a read, looking
/// the membership up only when it decides.
pub fn viewer_sees(
    conn: &rusqlite::Connection,
    viewer: Option<(i64, bool)>,
    project: &ProjectRow,
) -> rusqlite::Result<bool> {
    let member = match viewer {
        Some((user, false)) if !can_see(&project.visibility, true, false, false) => {
            projects::member_level(conn, project.id, user)?.is_some()
        }
        _ => false,
    };
    Ok(can_see(&project.visibility, viewer.is_some(), viewer.is_some_and(|(_, admin)| admin), member))
}

/// Reads a required integer path id (`:trigger_id`, `:pipeline_id`, …): non-numeric →
/// `{"error":"<name> is invalid"}` as Grape answers.
pub fn path_id(raw: &str, name: &str) -> ApiResult<i64> {
    raw.parse::<i64>().map_err(|_| ApiError::invalid(name))
}

/// Checks `If-Unmodified-Since` against a row's `updated_at`: when the header parses and the row
/// changed after it, `412 Precondition Failed`; an unparsable header is ignored.
pub fn check_unmodified_since(req: &actix_web::HttpRequest, updated_at: &str) -> ApiResult<()> {
    let Some(raw) = req.headers().get("if-unmodified-since").and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let since = crate::model::parse_datetime(raw)
        .or_else(|| time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc2822).ok());
    let updated = crate::model::parse_stored(updated_at);
    match (since, updated) {
        // HTTP dates have whole seconds: compare at that precision.
        (Some(s), Some(u)) if u.unix_timestamp() > s.unix_timestamp() => Err(ApiError::PreconditionFailed),
        _ => Ok(()),
    }
}
