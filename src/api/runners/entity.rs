//! GitLab's JSON for runners: the `Runner` entity of listings and `RunnerDetails` with the
//! runner's projects.

use serde::Serialize;
use serde_json::Value;

use super::deadlines;
use crate::api::entities::{ProjectIdentity, UserBasic};
use crate::db::projects::ProjectRow;
use crate::db::runners::RunnerRow;
use crate::db::users;

/// GitLab's `Runner` entity (list items, and a job's `runner`).
#[derive(Debug, Clone, Serialize)]
pub struct RunnerJson {
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
    pub fn new(r: &RunnerRow, creator: Option<&users::UserRow>, base: &str) -> Self {
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

/// GitLab's `RunnerDetails` entity.
#[derive(Debug, Serialize)]
pub(super) struct RunnerDetailsJson {
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
    projects: Vec<ProjectIdentity>,
    groups: Vec<Value>,
}

/// Everything a runner's details need, read at once.
pub(super) struct Details {
    pub(super) runner: RunnerRow,
    pub(super) creator: Option<users::UserRow>,
    /// The runner's projects the caller may see (all of them for admins).
    pub(super) projects: Vec<ProjectRow>,
    /// The caller may update (and so see the maintenance note of) the runner.
    pub(super) may_update: bool,
}

impl Details {
    pub(super) fn json(self, base: &str) -> RunnerDetailsJson {
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
            projects: self.projects.iter().map(ProjectIdentity::new).collect(),
            groups: Vec::new(),
        }
    }
}
