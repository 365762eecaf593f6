//! `extends:` (GitLab's `Config::Extendable`): a job's parents, hidden or not, are deep-merged
//! underneath it, up to 11 levels, without cycles. What the merges copy is charged to a
//! [`Budget`], so chains of extends cannot multiply a document past the limits.

use super::yaml::{Entries, Limits, Yaml};

const MAX_EXTENDS_DEPTH: usize = 11;

/// Counts what `extends:` copies, so that chains of extends cannot multiply the document.
pub(super) struct Budget<'l> {
    nodes: usize,
    bytes: usize,
    limits: &'l Limits,
}

impl<'l> Budget<'l> {
    pub(super) fn new(limits: &'l Limits) -> Self {
        Budget { nodes: 0, bytes: 0, limits }
    }

    pub(super) fn charge(&mut self, nodes: usize, bytes: usize) -> Result<(), String> {
        self.nodes = self.nodes.saturating_add(nodes);
        self.bytes = self.bytes.saturating_add(bytes);
        if self.nodes > self.limits.max_nodes || self.bytes > self.limits.max_expanded_bytes {
            return Err("The parsed YAML is too big: the jobs expand to more than the size limit".to_string());
        }
        Ok(())
    }
}

/// The job with its `extends:` parents deep-merged underneath it (GitLab's `Extendable`).
pub(super) fn expand(
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
        (Yaml::Map(base), Yaml::Map(over)) => {
            let mut merged = Entries::from_vec(base);
            for (k, v) in over {
                let slot = merged.slot(k);
                let old = std::mem::replace(slot, Yaml::Null);
                *slot = deep_merge(old, v);
            }
            Yaml::Map(merged.entries)
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
