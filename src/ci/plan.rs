//! Compiling a validated configuration for one pipeline: `workflow:rules`, then each job's
//! `rules`, against the pipeline's variables (GitLab's `Build::Rules` and `Chain::Populate`).

use serde::Serialize;

use super::config::{CiConfig, Job};
use super::entry::{Rule, TriggerSpec, When};
use super::variables::Variables;

/// What a pipeline will contain: the compiler's only output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelinePlan {
    /// The stages that have jobs, in order.
    pub stages: Vec<String>,
    /// Global YAML variables, with those of the matching `workflow:rules` entry set over them.
    pub variables: Variables,
    /// The jobs to create, in stage order, then document order.
    pub jobs: Vec<PlannedJob>,
}

/// One job to create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedJob {
    pub name: String,
    pub stage: String,
    /// Position of the stage among all the configuration's stages (GitLab's `stage_idx`).
    pub stage_idx: usize,
    pub when: When,
    pub allow_failure: bool,
    pub script: Vec<String>,
    pub before_script: Vec<String>,
    pub after_script: Vec<String>,
    pub image: Option<String>,
    pub tags: Vec<String>,
    pub timeout_secs: Option<u64>,
    /// The job's YAML variables: global, then workflow rule, then job, then matching rule
    /// variables, the later winning.
    pub variables: Variables,
    /// `trigger:`: the job is a bridge to a downstream pipeline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger: Option<TriggerSpec>,
}

/// Why no pipeline is created. Both are GitLab 400s with `{"message":{"base":[<Display>]}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// `workflow:rules` matched nothing, or matched with `when: never`.
    #[error("Pipeline filtered out by workflow rules.")]
    FilteredByWorkflowRules,
    /// Every job's `rules` left it out, or only `.pre`/`.post` jobs are left (GitLab's failure
    /// reason `filtered_by_rules`).
    #[error(
        "Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline."
    )]
    NoJobs,
}

/// The result of evaluating a `rules:` list (GitLab's `Rules::Result`).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleOutcome {
    pub when: When,
    /// Set when the matching rule says so; otherwise the job's own setting applies.
    pub allow_failure: Option<bool>,
    /// The matching rule's `variables:`.
    pub variables: Variables,
}

impl RuleOutcome {
    /// Whether the job is added to the pipeline.
    pub fn passes(&self) -> bool {
        self.when != When::Never
    }
}

/// GitLab's fallbacks: no `rules` → `default_when`; the first matching rule wins, its omitted
/// `when` falling back to `default_when`; no match → `never`.
pub fn evaluate_rules(rules: Option<&[Rule]>, default_when: When, vars: &Variables) -> RuleOutcome {
    let Some(rules) = rules else {
        return RuleOutcome { when: default_when, allow_failure: None, variables: Variables::new() };
    };
    match rules.iter().find(|r| r.matches(vars)) {
        Some(rule) => RuleOutcome {
            when: rule.when.unwrap_or(default_when),
            allow_failure: rule.allow_failure,
            variables: rule.variables.clone(),
        },
        None => RuleOutcome { when: When::Never, allow_failure: None, variables: Variables::new() },
    }
}

/// Plans a pipeline. `vars` are the pipeline's variables (predefined ones such as
/// `CI_PIPELINE_SOURCE`, and the trigger's variables); in expressions they win over YAML
/// variables of the same name.
pub fn plan(config: &CiConfig, vars: &Variables) -> Result<PipelinePlan, PlanError> {
    let mut variables = config.variables.clone();
    if let Some(rules) = &config.workflow_rules {
        let outcome = evaluate_rules(Some(rules), When::Always, &variables.overlaid(vars));
        if !outcome.passes() {
            return Err(PlanError::FilteredByWorkflowRules);
        }
        variables = variables.overlaid(&outcome.variables);
    }
    let mut jobs: Vec<PlannedJob> =
        config.jobs.iter().filter_map(|job| plan_job(job, &config.stages, &variables, vars)).collect();
    // Jobs only in `.pre`/`.post` are not a pipeline either (gitlab-org/gitlab#198518).
    if jobs.iter().all(|j| j.stage == ".pre" || j.stage == ".post") {
        return Err(PlanError::NoJobs);
    }
    jobs.sort_by_key(|j| j.stage_idx);
    let mut stages: Vec<String> = Vec::new();
    for job in &jobs {
        if stages.last() != Some(&job.stage) {
            stages.push(job.stage.clone());
        }
    }
    Ok(PipelinePlan { stages, variables, jobs })
}

fn plan_job(job: &Job, stages: &[String], global: &Variables, vars: &Variables) -> Option<PlannedJob> {
    let yaml_vars = global.overlaid(&job.variables);
    // Only `rules` read the pipeline's variables: a job without them skips building that set
    // (the predefined variables and the trigger's, ~30 entries, for every job of every pipeline).
    let outcome = match job.rules.as_deref() {
        Some(rules) => evaluate_rules(Some(rules), job.when, &yaml_vars.overlaid(vars)),
        None => evaluate_rules(None, job.when, &Variables::new()),
    };
    if !outcome.passes() {
        return None;
    }
    // A job written `when: manual` may fail by default (GitLab's job entry); a rule that makes
    // a job manual does not change that default.
    let default_allow_failure = job.when == When::Manual;
    let allow_failure = outcome.allow_failure.or(job.allow_failure).unwrap_or(default_allow_failure);
    Some(PlannedJob {
        name: job.name.clone(),
        stage: stages.get(job.stage_idx).cloned().unwrap_or_else(|| job.stage.clone()),
        stage_idx: job.stage_idx,
        when: outcome.when,
        allow_failure,
        script: job.script.clone(),
        before_script: job.before_script.clone(),
        after_script: job.after_script.clone(),
        image: job.image.clone(),
        tags: job.tags.clone(),
        timeout_secs: job.timeout_secs,
        variables: if outcome.variables.is_empty() {
            yaml_vars
        } else {
            yaml_vars.overlaid(&outcome.variables)
        },
        trigger: job.trigger.clone(),
    })
}
