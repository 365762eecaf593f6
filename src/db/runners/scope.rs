//! Which jobs a runner may pick: its projects, its tags and `run_untagged` ([`RunnerScope`]).

use rusqlite::Connection;

use super::{find, project_ids};

/// What decides which jobs a runner may pick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerScope {
    pub runner_id: i64,
    /// Paused runners get no jobs.
    pub active: bool,
    /// Instance runners serve every project.
    pub instance: bool,
    pub project_ids: Vec<i64>,
    pub tags: Vec<String>,
    pub run_untagged: bool,
}

impl RunnerScope {
    /// True when the runner may run a job of `project_id` with `job_tags`: it is not paused,
    /// serves the project, has every tag of the job, and a job without tags needs `run_untagged`.
    pub fn can_pick(&self, project_id: i64, job_tags: &[String]) -> bool {
        self.active
            && (self.instance || self.project_ids.contains(&project_id))
            && tags_match(&self.tags, self.run_untagged, job_tags)
    }
}

/// GitLab's tag matching: a tagged job needs a runner with all its tags; an untagged job needs a
/// `run_untagged` runner.
pub fn tags_match(runner_tags: &[String], run_untagged: bool, job_tags: &[String]) -> bool {
    if job_tags.is_empty() { run_untagged } else { job_tags.iter().all(|t| runner_tags.contains(t)) }
}

/// A runner's projects and tags, for matching; `None` when the runner is gone.
pub fn scope(conn: &Connection, runner_id: i64) -> rusqlite::Result<Option<RunnerScope>> {
    let Some(r) = find(conn, runner_id)? else { return Ok(None) };
    Ok(Some(RunnerScope {
        runner_id,
        active: r.active,
        instance: r.is_instance(),
        project_ids: project_ids(conn, runner_id)?,
        tags: r.tags,
        run_untagged: r.run_untagged,
    }))
}

/// The matching data of every runner that may serve `project_id` (its project runners and all
/// instance runners, paused ones included: [`RunnerScope::can_pick`] refuses those), by id. For
/// waking the right long-polling runners when a job of the project becomes pending.
pub fn scopes_for_project(conn: &Connection, project_id: i64) -> rusqlite::Result<Vec<RunnerScope>> {
    let ids: Vec<i64> = conn
        .prepare_cached(
            "SELECT r.id FROM runners r
             WHERE r.runner_type = 'instance_type'
                OR EXISTS (SELECT 1 FROM runner_projects rp WHERE rp.runner_id = r.id AND rp.project_id = ?1)
             ORDER BY r.id",
        )?
        .query_map([project_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(s) = scope(conn, id)? {
            out.push(s);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_tagged_job_needs_every_tag_and_an_untagged_job_needs_run_untagged() {
        assert!(tags_match(&strings(&["a", "b"]), false, &strings(&["a"])));
        assert!(tags_match(&strings(&["a", "b"]), false, &strings(&["b", "a"])));
        assert!(!tags_match(&strings(&["a"]), true, &strings(&["a", "b"])));
        assert!(tags_match(&strings(&["a"]), true, &[]));
        assert!(!tags_match(&strings(&["a"]), false, &[]));
    }

    #[test]
    fn a_paused_or_foreign_runner_picks_nothing() {
        let s = RunnerScope {
            runner_id: 1,
            active: true,
            instance: false,
            project_ids: vec![3],
            tags: vec![],
            run_untagged: true,
        };
        assert!(s.can_pick(3, &[]));
        assert!(!s.can_pick(4, &[]));
        assert!(!RunnerScope { active: false, ..s.clone() }.can_pick(3, &[]));
        assert!(RunnerScope { instance: true, ..s }.can_pick(4, &[]));
    }
}
