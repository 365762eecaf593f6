//! The CI configuration compiler, as pure logic: no I/O, no SQL, no HTTP, no clock.
//!
//! ```text
//! text ──compile()──► CiConfig ──plan(&config, &vars)──► PipelinePlan
//!        (yaml, config, entry, rules)   (plan)                 │
//!                                                    status::progress / composite
//! ```
//!
//! - [`compile`] loads a `.gitlab-ci.yml` within [`Limits`] (size, depth, alias expansion, job
//!   count), validates the supported keywords and returns a [`CiConfig`], or every error found
//!   ([`ConfigErrors`], GitLab's `yaml_errors`).
//! - [`plan`] evaluates `workflow:rules` and each job's `rules` against one pipeline's variables
//!   and returns the jobs to create ([`PipelinePlan`]) or why there is no pipeline ([`PlanError`]).
//! - [`status`] holds the status enums, GitLab's composite status and stage progression, which
//!   the executor calls after every job state change.
//!
//! Supported: `stages`, `variables` (global, job, rule; `{value, description}` form), `default`
//! (`before_script`, `after_script`, `image`, `tags`, `timeout`), top-level `image`/
//! `before_script`/`after_script`, hidden `.jobs`, `extends`, YAML anchors and merge keys,
//! `workflow:rules`, and per job `stage`, `script`, `before_script`, `after_script`, `rules`
//! (`if`, `when`, `allow_failure`, `variables`; `changes` always holds), `when`, `allow_failure`
//! (boolean), `tags`, `timeout`, `image`, `variables`. Accepted and ignored: `services`, `cache`,
//! `artifacts`, `coverage`, `dependencies`, `environment`, `id_tokens`, `interruptible`,
//! `resource_group`, `retry`. Rejected with an error: `include`, `needs`, `only`/`except`,
//! `parallel`, `when: delayed`, `inherit`, `rules:exists`, other tags than `!!` ones.
//!
//! `trigger:` jobs (bridges: a project's full path, or `project`, `branch`, `strategy: depend`,
//! `forward`) are planned like other jobs with their [`TriggerSpec`]; child pipelines
//! (`trigger: include`) are rejected.

pub mod commit_status;
pub mod config;
pub mod duration;
pub mod entry;
mod extends;
pub mod plan;
pub mod rules;
pub mod status;
pub mod variables;
pub mod yaml;

#[cfg(test)]
mod tests;

pub use config::{CiConfig, ConfigErrors, Job};
pub use entry::{Rule, TriggerSpec, When};
pub use plan::{PipelinePlan, PlanError, PlannedJob, RuleOutcome, evaluate_rules, plan};
pub use rules::Expression;
pub use status::{CompositeStatus, JobStatus, PipelineStatus};
pub use variables::Variables;
pub use yaml::Limits;

/// Parses and validates a `.gitlab-ci.yml` text.
pub fn compile(text: &str, limits: &Limits) -> Result<CiConfig, ConfigErrors> {
    config::parse(text, limits)
}
