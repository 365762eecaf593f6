//! The typed `.gitlab-ci.yml`: [`parse`] loads the text within [`Limits`], validates every
//! keyword, resolves `extends:` and `default:`, and checks each job's stage. All errors are
//! collected (GitLab's `yaml_errors`), in GitLab's words where GitLab has words for them.

use super::entry::{self, Rule, When};
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
const UNSUPPORTED_JOB_KEYS: [&str; 13] = [
    "needs",
    "only",
    "except",
    "trigger",
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
const MAX_EXTENDS_DEPTH: usize = 11;

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
    let mut budget = Budget { nodes: 0, bytes: 0, limits };
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
    for stage in listed {
        if stage != ".pre" && stage != ".post" && !stages.contains(&stage) {
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

/// Counts what `extends:` copies, so that chains of extends cannot multiply the document.
struct Budget<'l> {
    nodes: usize,
    bytes: usize,
    limits: &'l Limits,
}

impl Budget<'_> {
    fn charge(&mut self, nodes: usize, bytes: usize) -> Result<(), String> {
        self.nodes = self.nodes.saturating_add(nodes);
        self.bytes = self.bytes.saturating_add(bytes);
        if self.nodes > self.limits.max_nodes || self.bytes > self.limits.max_expanded_bytes {
            return Err("The parsed YAML is too big: the jobs expand to more than the size limit".to_string());
        }
        Ok(())
    }
}

/// The job with its `extends:` parents deep-merged underneath it (GitLab's `Extendable`).
fn expand(
    name: &str,
    raw: &Yaml,
    jobs: &[(&str, &Yaml)],
    chain: &mut Vec<String>,
    budget: &mut Budget,
) -> Result<Yaml, String> {
    budget.charge(1, 0)?;
    let Yaml::Map(entries) = raw else { return Ok(raw.clone()) };
    let Some(parents) = raw.get("extends") else { return Ok(raw.clone()) };
    let parents: Vec<&str> = match parents {
        Yaml::Str(s) => vec![s.as_str()],
        Yaml::Seq(items) if items.iter().all(|i| matches!(i, Yaml::Str(_))) => {
            items.iter().filter_map(|i| if let Yaml::Str(s) = i { Some(s.as_str()) } else { None }).collect()
        }
        _ => return Err(format!("jobs:{name}:extends config should be a string or an array of strings")),
    };
    if chain.len() >= MAX_EXTENDS_DEPTH {
        return Err(format!("{name}: nesting too deep in `extends`"));
    }
    chain.push(name.to_string());
    let mut merged = Yaml::Map(Vec::new());
    for parent in parents {
        if chain.iter().any(|c| c == parent) {
            return Err(format!("{parent}: circular dependency detected in `extends`"));
        }
        let Some((_, parent_raw)) = jobs.iter().find(|(n, _)| *n == parent) else {
            return Err(format!("{name}: unknown key in `extends`"));
        };
        let base = expand(parent, parent_raw, jobs, chain, budget)?;
        merged = deep_merge(merged, base);
    }
    chain.pop();
    let own = Yaml::Map(entries.iter().filter(|(k, _)| k != "extends").cloned().collect());
    let result = deep_merge(merged, own);
    let (nodes, bytes) = cost(&result);
    budget.charge(nodes, bytes)?;
    Ok(result)
}

/// Hashes merge key by key (recursively); anything else in `over` replaces `base`.
fn deep_merge(base: Yaml, over: Yaml) -> Yaml {
    match (base, over) {
        (Yaml::Map(mut base), Yaml::Map(over)) => {
            for (k, v) in over {
                match base.iter().position(|(bk, _)| *bk == k) {
                    Some(i) => {
                        let old = std::mem::replace(&mut base[i].1, Yaml::Null);
                        base[i].1 = deep_merge(old, v);
                    }
                    None => base.push((k, v)),
                }
            }
            Yaml::Map(base)
        }
        (_, over) => over,
    }
}

/// Nodes and scalar bytes of a tree (its depth is bounded by the loader).
fn cost(value: &Yaml) -> (usize, usize) {
    match value {
        Yaml::Seq(items) => items.iter().map(cost).fold((1, 0), |a, b| (a.0 + b.0, a.1 + b.1)),
        Yaml::Map(entries) => entries
            .iter()
            .map(|(k, v)| {
                let (nodes, bytes) = cost(v);
                (nodes, bytes + k.len())
            })
            .fold((1, 0), |a, b| (a.0 + b.0, a.1 + b.1)),
        Yaml::Str(s) | Yaml::Float(s) => (1, s.len()),
        _ => (1, 8),
    }
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
    };
    let mut unknown = Vec::new();
    for (key, v) in entries {
        let p = format!("{path} {key}");
        match key.as_str() {
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
    if job.script.is_empty() && value.get("trigger").is_none() {
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
