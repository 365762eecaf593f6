//! One validating reader per keyword value (`script`, `tags`, `image`, `timeout`, `variables`,
//! `when`, `rules`, …). Each takes the YAML path for its messages (GitLab's `jobs:build:rules:rule`
//! style) and returns the typed value or one error string.

use serde::Serialize;

use super::duration::{MAX_TIMEOUT_SECS, parse_duration};
use super::rules::Expression;
use super::variables::Variables;
use super::yaml::Yaml;

/// When a job runs, relative to the stages before it (`when:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum When {
    OnSuccess,
    OnFailure,
    Always,
    Manual,
    Never,
}

impl When {
    pub fn as_str(self) -> &'static str {
        match self {
            When::OnSuccess => "on_success",
            When::OnFailure => "on_failure",
            When::Always => "always",
            When::Manual => "manual",
            When::Never => "never",
        }
    }

    /// The value named by GitLab's string.
    pub fn parse(s: &str) -> Option<When> {
        [When::OnSuccess, When::OnFailure, When::Always, When::Manual, When::Never]
            .into_iter()
            .find(|w| w.as_str() == s)
    }
}

/// One entry of `rules:` or `workflow:rules:`.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The `if:` clause; a rule without one always matches.
    pub if_expr: Option<Expression>,
    pub when: Option<When>,
    pub allow_failure: Option<bool>,
    pub variables: Variables,
}

impl Rule {
    /// Whether every clause of the rule holds (`changes:` always holds for triggered pipelines).
    pub fn matches(&self, vars: &Variables) -> bool {
        self.if_expr.as_ref().is_none_or(|e| e.evaluate(vars))
    }
}

const SCRIPT_DEPTH: usize = 10;

/// `script`, `before_script`, `after_script`: a string or a nested array of strings (≤ 10 deep),
/// flattened to lines.
pub fn script(path: &str, value: &Yaml) -> Result<Vec<String>, String> {
    let err =
        || format!("{path} config should be a string or a nested array of strings up to 10 levels deep");
    let mut out = Vec::new();
    // Explicit stack of (value, depth): no recursion on user input.
    let mut stack = vec![(value, 0usize)];
    while let Some((v, depth)) = stack.pop() {
        match v {
            Yaml::Str(s) => out.push(s.clone()),
            Yaml::Int(_) | Yaml::Float(_) | Yaml::Bool(_) if depth > 0 => {
                out.push(v.scalar_text().unwrap_or_default())
            }
            Yaml::Seq(items) if depth < SCRIPT_DEPTH => {
                stack.extend(items.iter().rev().map(|i| (i, depth + 1)))
            }
            _ => return Err(err()),
        }
    }
    Ok(out)
}

pub fn string(path: &str, value: &Yaml) -> Result<String, String> {
    match value {
        Yaml::Str(s) => Ok(s.clone()),
        _ => Err(format!("{path} config should be a string")),
    }
}

pub fn string_list(path: &str, value: &Yaml) -> Result<Vec<String>, String> {
    let err = || format!("{path} config should be an array of strings");
    match value {
        Yaml::Seq(items) => items
            .iter()
            .map(|i| match i {
                Yaml::Str(s) => Ok(s.clone()),
                _ => Err(err()),
            })
            .collect(),
        _ => Err(err()),
    }
}

pub fn boolean(path: &str, value: &Yaml) -> Result<bool, String> {
    match value {
        Yaml::Bool(b) => Ok(*b),
        Yaml::Map(_) => Err(format!("{path} config should be a boolean value (exit_codes is not supported)")),
        _ => Err(format!("{path} config should be a boolean value")),
    }
}

/// `image`: a string or a hash with `name` (other image keys are accepted and ignored).
pub fn image(path: &str, value: &Yaml) -> Result<String, String> {
    match value {
        Yaml::Str(s) => Ok(s.clone()),
        Yaml::Map(_) => match value.get("name") {
            Some(Yaml::Str(s)) => Ok(s.clone()),
            _ => Err(format!("{path} config should be a hash with a name string")),
        },
        _ => Err(format!("{path} config should be a hash or a string")),
    }
}

/// `timeout`: a duration string (or a number of seconds), at most one month.
pub fn timeout(path: &str, value: &Yaml) -> Result<u64, String> {
    let secs = match value {
        Yaml::Str(s) => parse_duration(s),
        Yaml::Int(i) => u64::try_from(*i).ok(),
        _ => None,
    }
    .ok_or_else(|| format!("{path} config should be a duration"))?;
    if secs > MAX_TIMEOUT_SECS {
        return Err(format!("{path} config should not exceed the limit"));
    }
    Ok(secs)
}

/// `variables`: `KEY: value` with string or number values, or `KEY: {value, description, …}`.
pub fn variables(path: &str, value: &Yaml) -> Result<Variables, String> {
    let err = || format!("{path} config should be a hash of key value pairs, value can be a hash");
    let Yaml::Map(entries) = value else { return Err(err()) };
    let mut vars = Variables::new();
    for (key, v) in entries {
        let text = match v {
            Yaml::Str(_) | Yaml::Int(_) | Yaml::Float(_) => v.scalar_text(),
            Yaml::Null => Some(String::new()),
            Yaml::Map(fields) => {
                let allowed = ["value", "description", "expand", "options"];
                if fields.iter().any(|(k, _)| !allowed.contains(&k.as_str())) {
                    return Err(err());
                }
                match v.get("value") {
                    None | Some(Yaml::Null) => Some(String::new()),
                    Some(inner @ (Yaml::Str(_) | Yaml::Int(_) | Yaml::Float(_))) => inner.scalar_text(),
                    Some(_) => None,
                }
            }
            _ => None,
        };
        vars.set(key.clone(), text.ok_or_else(err)?);
    }
    Ok(vars)
}

/// A job's `when:` (`delayed` is rejected: triggerd has no scheduler for it yet).
pub fn when(path: &str, value: &Yaml) -> Result<When, String> {
    match value {
        Yaml::Str(s) => match s.as_str() {
            "on_success" => Ok(When::OnSuccess),
            "on_failure" => Ok(When::OnFailure),
            "always" => Ok(When::Always),
            "manual" => Ok(When::Manual),
            "never" => Ok(When::Never),
            "delayed" => Err(format!("{path} delayed is not supported by triggerd")),
            _ => {
                Err(format!("{path} config should be one of: on_success, on_failure, always, manual, never"))
            }
        },
        _ => Err(format!("{path} config should be one of: on_success, on_failure, always, manual, never")),
    }
}

/// `rules:` (or `workflow:rules:` when `workflow` is set): an array of hashes. Errors are pushed
/// to `errors`; the rules that parsed are returned.
pub fn rules(path: &str, value: &Yaml, workflow: bool, errors: &mut Vec<String>) -> Vec<Rule> {
    let Yaml::Seq(items) = value else {
        errors.push(format!("{path} config should be an array of hashes"));
        return Vec::new();
    };
    let rule_path = format!("{path}:rule");
    let mut out = Vec::new();
    for item in items {
        let Yaml::Map(entries) = item else {
            errors.push(format!("{rule_path} config should be a hash"));
            continue;
        };
        let mut rule = Rule { if_expr: None, when: None, allow_failure: None, variables: Variables::new() };
        let mut ok = true;
        let mut unknown = Vec::new();
        for (key, v) in entries {
            let result = match key.as_str() {
                "if" => match v {
                    Yaml::Str(s) => Expression::parse(s).map(|e| rule.if_expr = Some(e)),
                    _ => Err(String::new()),
                }
                .map_err(|_| format!("{rule_path} if invalid expression syntax")),
                "when" => when(&format!("{rule_path} when"), v).and_then(|w| {
                    if workflow && !matches!(w, When::Always | When::Never) {
                        return Err(format!("{rule_path} when config should be one of: always, never"));
                    }
                    rule.when = Some(w);
                    Ok(())
                }),
                "allow_failure" if !workflow => {
                    boolean(&format!("{rule_path} allow_failure"), v).map(|b| rule.allow_failure = Some(b))
                }
                "variables" => {
                    variables(&format!("{rule_path}:variables"), v).map(|vars| rule.variables = vars)
                }
                // `changes:` always holds for pipelines that are not pushes or merge requests.
                "changes" => Ok(()),
                "exists" | "needs" | "start_in" | "interruptible" | "auto_cancel" => {
                    Err(format!("{rule_path} {key} is not supported by triggerd"))
                }
                _ => {
                    unknown.push(key.as_str());
                    Ok(())
                }
            };
            if let Err(e) = result {
                errors.push(e);
                ok = false;
            }
        }
        if !unknown.is_empty() {
            errors.push(format!("{rule_path} config contains unknown keys: {}", unknown.join(", ")));
            ok = false;
        }
        if ok {
            out.push(rule);
        }
    }
    out
}

/// A `trigger:` job's downstream (a multi-project pipeline; GitLab's `Entry::Trigger`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TriggerSpec {
    /// The downstream project's full path.
    pub project: String,
    /// The downstream ref; `None`: the project's default branch.
    pub branch: Option<String>,
    /// `strategy: depend`: the trigger job takes the downstream pipeline's status.
    pub depend: bool,
    /// `forward:yaml_variables` (default true): the job's YAML variables go downstream.
    pub forward_yaml_variables: bool,
    /// `forward:pipeline_variables` (default false): the pipeline's variables go downstream.
    pub forward_pipeline_variables: bool,
}

/// `trigger:`: a project's full path, or a hash with `project` (required), `branch`,
/// `strategy: depend` and `forward`. Child pipelines (`include`) are not supported.
pub fn trigger(path: &str, value: &Yaml) -> Result<TriggerSpec, String> {
    let tpath = format!("{path}:trigger");
    let mut spec = TriggerSpec {
        project: String::new(),
        branch: None,
        depend: false,
        forward_yaml_variables: true,
        forward_pipeline_variables: false,
    };
    let entries = match value {
        Yaml::Str(s) if !s.trim().is_empty() => {
            spec.project = s.clone();
            return Ok(spec);
        }
        Yaml::Map(entries) => entries,
        _ => return Err(format!("{path} trigger config should be a string or a hash")),
    };
    if value.get("include").is_some() {
        return Err(format!("{path} trigger include (child pipelines) is not supported by triggerd"));
    }
    let mut unknown = Vec::new();
    for (key, v) in entries {
        match key.as_str() {
            "project" => match v {
                Yaml::Str(s) if !s.trim().is_empty() => spec.project = s.clone(),
                _ => return Err(format!("{tpath} project config should be a string")),
            },
            "branch" => spec.branch = Some(string(&format!("{tpath} branch"), v)?),
            "strategy" => match v {
                Yaml::Str(s) if s == "depend" => spec.depend = true,
                Yaml::Str(s) if s == "mirror" => {
                    return Err(format!("{tpath} strategy mirror is not supported by triggerd"));
                }
                _ => return Err(format!("{tpath} strategy should be depend")),
            },
            "forward" => {
                let fpath = format!("{tpath}:forward");
                let Yaml::Map(fields) = v else { return Err(format!("{fpath} config should be a hash")) };
                let mut unknown_forward = Vec::new();
                for (k, fv) in fields {
                    match k.as_str() {
                        "yaml_variables" => {
                            spec.forward_yaml_variables = boolean(&format!("{fpath} {k}"), fv)?
                        }
                        "pipeline_variables" => {
                            spec.forward_pipeline_variables = boolean(&format!("{fpath} {k}"), fv)?
                        }
                        _ => unknown_forward.push(k.as_str()),
                    }
                }
                if !unknown_forward.is_empty() {
                    return Err(format!(
                        "{fpath} config contains unknown keys: {}",
                        unknown_forward.join(", ")
                    ));
                }
            }
            _ => unknown.push(key.as_str()),
        }
    }
    if !unknown.is_empty() {
        return Err(format!("{tpath} config contains unknown keys: {}", unknown.join(", ")));
    }
    if spec.project.is_empty() {
        return Err(format!("{tpath} config is missing the project"));
    }
    Ok(spec)
}
