//! The typed `.gitlab-ci.yml`: [`parse`] loads the text within [`Limits`], validates every
//! keyword, resolves `extends:` and `default:`, and checks each job's stage. All errors are
//! collected (GitLab's `yaml_errors`), in GitLab's words where GitLab has words for them.

use super::entry::{self, Rule, TriggerSpec, When};
use super::extends::{Budget, expand};
use super::variables::Variables;
use super::yaml::{self, Limits, Yaml};

/// GitLab's stages when `stages:` is absent (`.pre` and `.post` are always first and last).
pub const DEFAULT_STAGES: [&str; 3] = ["build", "test", "deploy"];

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct CiConfig {
    /// Every stage, `.pre` first and `.post` last.
    pub stages: Vec<String>,
    /// Global `variables:`.
    pub variables: Variables,
    /// `workflow:rules:`, if present.
    pub workflow_rules: Option<Vec<Rule>>,
    /// Visible jobs in document order, `extends:` and `default:` applied.
    pub jobs: Vec<Job>,
}

/// One visible job of the configuration.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub stage: String,
    /// Position of `stage` in [`CiConfig::stages`].
    pub stage_idx: usize,
    pub script: Vec<String>,
    pub before_script: Vec<String>,
    pub after_script: Vec<String>,
    /// `rules:`; `None` when the job has none (then `when` decides alone).
    pub rules: Option<Vec<Rule>>,
    pub when: When,
    /// `allow_failure:` as written; `None` lets the planner apply GitLab's default.
    pub allow_failure: Option<bool>,
    pub tags: Vec<String>,
    pub timeout_secs: Option<u64>,
    pub image: Option<String>,
    /// The job's own `variables:` (global ones are merged in by the planner).
    pub variables: Variables,
    /// `trigger:`: the job is a bridge creating a downstream pipeline (it has no script and
    /// never reaches a runner).
    pub trigger: Option<TriggerSpec>,
}

/// The configuration errors, in order (GitLab's `yaml_errors`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.join(", "))]
pub struct ConfigErrors(pub Vec<String>);

/// Settings shared by every job: `default:` plus the older top-level keywords.
#[derive(Default)]
struct Defaults {
    before_script: Option<Vec<String>>,
    after_script: Option<Vec<String>>,
    image: Option<String>,
    tags: Option<Vec<String>>,
    timeout_secs: Option<u64>,
}

const IGNORED_KEYS: [&str; 10] = [
    "artifacts",
    "cache",
    "coverage",
    "dependencies",
    "environment",
    "id_tokens",
    "interruptible",
    "resource_group",
    "retry",
    "services",
];
/// Keys a `trigger:` job may not have (GitLab's `Entry::Bridge` does not know them).
const NOT_BRIDGE_KEYS: [&str; 6] = ["script", "before_script", "after_script", "image", "tags", "timeout"];
const UNSUPPORTED_JOB_KEYS: [&str; 12] = [
    "needs",
    "only",
    "except",
    "parallel",
    "start_in",
    "inherit",
    "release",
    "secrets",
    "hooks",
    "pages",
    "run",
    "manual_confirmation",
];

/// Parses and validates a `.gitlab-ci.yml`.
pub fn parse(text: &str, limits: &Limits) -> Result<CiConfig, ConfigErrors> {
    let fail = |m: String| ConfigErrors(vec![m]);
    if text.trim().is_empty() {
        return Err(fail("Please provide content of .gitlab-ci.yml".to_string()));
    }
    let root = yaml::load(text, limits).map_err(fail)?;
    let Yaml::Map(entries) = &root else { return Err(fail("Invalid configuration format".to_string())) };

    let mut errors = Vec::new();
    let mut stages = None;
    let mut variables = Variables::new();
    let mut workflow_rules = None;
    let mut defaults = Defaults::default();
    let mut globals = Defaults::default();
    let mut jobs: Vec<(&str, &Yaml)> = Vec::new();
    for (key, value) in entries {
        match key.as_str() {
            "stages" => stages = collect(&mut errors, entry::string_list("stages", value)),
            "variables" => variables = collect(&mut errors, entry::variables("variables", value)).unwrap_or_default(),
            "default" => defaults = parse_defaults(value, &mut errors),
            "workflow" => workflow_rules = parse_workflow(value, &mut errors),
            "include" => errors.push(
                "include config is not supported by triggerd: put the included configuration in .gitlab-ci.yml"
                    .to_string(),
            ),
            "image" => globals.image = collect(&mut errors, entry::image("image", value)),
            "before_script" => globals.before_script = collect(&mut errors, entry::script("before_script", value)),
            "after_script" => globals.after_script = collect(&mut errors, entry::script("after_script", value)),
            "services" | "cache" => {}
            _ => jobs.push((key, value)),
        }
    }
    let stages = all_stages(stages.as_deref());
    let visible: Vec<(&str, &Yaml)> =
        jobs.iter().copied().filter(|(name, _)| !name.starts_with('.')).collect();
    if visible.len() > limits.max_jobs {
        errors.push(format!(
            "The configuration has too many jobs: {}, the limit is {}",
            visible.len(),
            limits.max_jobs
        ));
        return Err(ConfigErrors(errors));
    }
    if visible.is_empty() {
        errors.push("jobs config should contain at least one visible job".to_string());
    }
    let defaults = Defaults {
        before_script: defaults.before_script.or(globals.before_script),
        after_script: defaults.after_script.or(globals.after_script),
        image: defaults.image.or(globals.image),
        tags: defaults.tags,
        timeout_secs: defaults.timeout_secs,
    };
    let mut budget = Budget::new(limits);
    let mut parsed = Vec::new();
    for (name, raw) in visible {
        let expanded = match expand(name, raw, &jobs, &mut Vec::new(), &mut budget) {
            Ok(v) => v,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if let Some(job) = parse_job(name, &expanded, &defaults, &stages, &mut errors) {
            let cost = job_bytes(&job);
            if let Err(e) = budget.charge(0, cost) {
                errors.push(e);
                break;
            }
            parsed.push(job);
        }
    }
    if errors.is_empty() {
        Ok(CiConfig { stages, variables, workflow_rules, jobs: parsed })
    } else {
        Err(ConfigErrors(errors))
    }
}

fn collect<T>(errors: &mut Vec<String>, result: Result<T, String>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

/// `.pre`, the listed stages without duplicates, `.post`.
fn all_stages(listed: Option<&[String]>) -> Vec<String> {
    let listed: Vec<String> = match listed {
        Some(l) => l.to_vec(),
        None => DEFAULT_STAGES.iter().map(|s| s.to_string()).collect(),
    };
    let mut stages = vec![".pre".to_string()];
    let mut seen = std::collections::HashSet::new();
    for stage in listed {
        if stage != ".pre" && stage != ".post" && seen.insert(stage.clone()) {
            stages.push(stage);
        }
    }
    stages.push(".post".to_string());
    stages
}

fn parse_defaults(value: &Yaml, errors: &mut Vec<String>) -> Defaults {
    let mut d = Defaults::default();
    let Yaml::Map(entries) = value else {
        errors.push("default config should be a hash".to_string());
        return d;
    };
    let mut unknown = Vec::new();
    for (key, v) in entries {
        let path = format!("default:{key}");
        match key.as_str() {
            "before_script" => d.before_script = collect(errors, entry::script(&path, v)),
            "after_script" => d.after_script = collect(errors, entry::script(&path, v)),
            "image" => d.image = collect(errors, entry::image(&path, v)),
            "tags" => d.tags = collect(errors, entry::string_list(&path, v)),
            "timeout" => d.timeout_secs = collect(errors, entry::timeout(&path, v)),
            k if IGNORED_KEYS.contains(&k) => {}
            _ => unknown.push(key.as_str()),
        }
    }
    if !unknown.is_empty() {
        errors.push(format!("default config contains unknown keys: {}", unknown.join(", ")));
    }
    d
}

fn parse_workflow(value: &Yaml, errors: &mut Vec<String>) -> Option<Vec<Rule>> {
    let Yaml::Map(entries) = value else {
        errors.push("workflow config should be a hash".to_string());
        return None;
    };
    let mut rules = None;
    for (key, v) in entries {
        match key.as_str() {
            "rules" => rules = Some(entry::rules("workflow:rules", v, true, errors)),
            "name" | "auto_cancel" => {}
            _ => errors.push(format!("workflow config contains unknown keys: {key}")),
        }
    }
    rules
}

fn job_bytes(job: &Job) -> usize {
    let lines =
        job.script.iter().chain(&job.before_script).chain(&job.after_script).map(String::len).sum::<usize>();
    lines + job.variables.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
}

fn parse_job(
    name: &str,
    value: &Yaml,
    defaults: &Defaults,
    stages: &[String],
    errors: &mut Vec<String>,
) -> Option<Job> {
    let path = format!("jobs:{name}");
    let Yaml::Map(entries) = value else {
        errors.push(format!("{path} config should be a hash"));
        return None;
    };
    let before = errors.len();
    if name.chars().count() > 255 {
        errors.push(format!("{path} name is too long (maximum is 255 characters)"));
    }
    let mut job = Job {
        name: name.to_string(),
        stage: "test".to_string(),
        stage_idx: 0,
        script: Vec::new(),
        before_script: defaults.before_script.clone().unwrap_or_default(),
        after_script: defaults.after_script.clone().unwrap_or_default(),
        rules: None,
        when: When::OnSuccess,
        allow_failure: None,
        tags: defaults.tags.clone().unwrap_or_default(),
        timeout_secs: defaults.timeout_secs,
        image: defaults.image.clone(),
        variables: Variables::new(),
        trigger: None,
    };
    let bridge = value.get("trigger").is_some();
    let mut unknown = Vec::new();
    for (key, v) in entries {
        let p = format!("{path} {key}");
        match key.as_str() {
            k if bridge && NOT_BRIDGE_KEYS.contains(&k) => unknown.push(k),
            "trigger" => job.trigger = collect(errors, entry::trigger(&path, v)),
            "stage" => job.stage = collect(errors, entry::string(&p, v)).unwrap_or_default(),
            "script" => job.script = collect(errors, entry::script(&p, v)).unwrap_or_default(),
            "before_script" => job.before_script = collect(errors, entry::script(&p, v)).unwrap_or_default(),
            "after_script" => job.after_script = collect(errors, entry::script(&p, v)).unwrap_or_default(),
            "rules" => job.rules = Some(entry::rules(&format!("{path}:rules"), v, false, errors)),
            "when" => job.when = collect(errors, entry::when(&p, v)).unwrap_or(When::OnSuccess),
            "allow_failure" => job.allow_failure = collect(errors, entry::boolean(&p, v)),
            "tags" => job.tags = collect(errors, entry::string_list(&p, v)).unwrap_or_default(),
            "timeout" => job.timeout_secs = collect(errors, entry::timeout(&p, v)),
            "image" => job.image = collect(errors, entry::image(&p, v)),
            "variables" => {
                job.variables =
                    collect(errors, entry::variables(&format!("{path}:variables"), v)).unwrap_or_default()
            }
            k if IGNORED_KEYS.contains(&k) => {}
            k if UNSUPPORTED_JOB_KEYS.contains(&k) => {
                errors.push(format!("{path} {k} is not supported by triggerd"))
            }
            _ => unknown.push(key.as_str()),
        }
    }
    if !unknown.is_empty() {
        errors.push(format!("{path} config contains unknown keys: {}", unknown.join(", ")));
    }
    if bridge {
        // A bridge inherits none of the runner settings of `default:`.
        job.before_script.clear();
        job.after_script.clear();
        job.image = None;
        job.tags.clear();
        job.timeout_secs = None;
    } else if job.script.is_empty() {
        errors.push(format!("{path} config should implement a script: or a trigger: keyword"));
    }
    match stages.iter().position(|s| *s == job.stage) {
        Some(i) => job.stage_idx = i,
        None if errors.len() == before => errors.push(format!(
            "{name} job: chosen stage {} does not exist; available stages are {}",
            job.stage,
            stages.join(", ")
        )),
        None => {}
    }
    (errors.len() == before).then_some(job)
}
