//! Bounded YAML loading: `.gitlab-ci.yml` text → [`Yaml`] tree.
//!
//! The tree is built from `saphyr-parser`'s event stream with an explicit stack (no recursion),
//! so the limits are checked while loading, before memory is spent:
//! - the text's size ([`Limits::max_bytes`]),
//! - nesting depth, counting what aliases bring in ([`Limits::max_depth`]),
//! - the expanded size: every node and every scalar byte an alias copies counts again
//!   ([`Limits::max_nodes`], [`Limits::max_expanded_bytes`]), so a billion-laughs document
//!   is an error after a bounded amount of work.
//!
//! Scalars follow what GitLab's loader (Psych, YAML 1.1) does for plain scalars: `null`/`~`/empty,
//! `true`/`false`/`yes`/`no`/`on`/`off`, decimal integers and floats; quoted scalars are strings.
//! Merge keys (`<<: *anchor`) are supported; other tags than the core `!!` ones (e.g. GitLab's
//! `!reference`) are errors.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};

/// Size limits for one configuration. `Default` gives GitLab's 1 MiB and depth 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted text, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted nesting of sequences and mappings.
    pub max_depth: usize,
    /// Most nodes in the loaded tree, aliases expanded.
    pub max_nodes: usize,
    /// Most scalar bytes in the loaded tree, aliases expanded.
    pub max_expanded_bytes: usize,
    /// Most visible jobs in one configuration.
    pub max_jobs: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 1024 * 1024,
            max_depth: 100,
            max_nodes: 200_000,
            max_expanded_bytes: 4 * 1024 * 1024,
            max_jobs: 500,
        }
    }
}

/// A loaded YAML value. Mapping keys are scalars, kept as their text, in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    Int(i64),
    /// A float, as written (`1.5`, `.inf`).
    Float(String),
    Str(String),
    Seq(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Strings, numbers and booleans as text (what GitLab does with a variable's value).
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Yaml::Str(s) | Yaml::Float(s) => Some(s.clone()),
            Yaml::Int(i) => Some(i.to_string()),
            Yaml::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// Loads one YAML document within `limits`. The error is one message in GitLab's words where
/// GitLab has them.
pub fn load(text: &str, limits: &Limits) -> Result<Yaml, String> {
    if text.len() > limits.max_bytes {
        return Err(format!(
            "The parsed YAML is too big: {} bytes, the limit is {} bytes",
            text.len(),
            limits.max_bytes
        ));
    }
    let mut builder = Builder { limits, stack: Vec::new(), anchors: HashMap::new(), nodes: 0, bytes: 0 };
    let mut root: Option<Built> = None;
    let mut documents = 0usize;
    for item in Parser::new_from_str(text) {
        let (event, span) = item.map_err(|e| {
            format!("(<unknown>): {} at line {} column {}", e.info(), e.marker().line(), e.marker().col() + 1)
        })?;
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(format!(
                        "(<unknown>): multiple YAML documents are not supported (second document at line {})",
                        span.start.line()
                    ));
                }
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
            other => {
                if let Some(done) = builder.event(other)? {
                    root = Some(done);
                }
            }
        }
    }
    Ok(root.map_or(Yaml::Null, |b| b.value))
}

/// A finished node with what it cost: nodes, scalar bytes and depth (aliases expanded).
#[derive(Clone)]
struct Built {
    value: Yaml,
    nodes: usize,
    bytes: usize,
    depth: usize,
}

enum Kind {
    Seq,
    Map,
}

struct Frame {
    kind: Kind,
    anchor: usize,
    items: Vec<Yaml>,
    /// For mappings: which of `items` were written as a plain `<<` key.
    merge_keys: Vec<bool>,
    start_nodes: usize,
    start_bytes: usize,
    child_depth: usize,
}

struct Builder<'l> {
    limits: &'l Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Built>,
    nodes: usize,
    bytes: usize,
}

impl Builder<'_> {
    /// Feeds one event; returns the root once it is complete.
    fn event(&mut self, event: Event<'_>) -> Result<Option<Built>, String> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.charge(1, text.len())?;
                let is_merge_key = style == ScalarStyle::Plain && text == "<<" && self.expecting_key();
                let value = resolve_scalar(&text, style, tag.as_deref())?;
                let built = Built { value, nodes: 1, bytes: text.len(), depth: 1 };
                self.finish(built, anchor, is_merge_key)
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    return Err("(<unknown>): an alias refers to an unknown or unfinished anchor".to_string());
                };
                self.charge(target.nodes, target.bytes)?;
                self.finish(target, 0, false)
            }
            Event::SequenceStart(anchor, tag) => self.open(Kind::Seq, anchor, tag.as_deref()),
            Event::MappingStart(anchor, tag) => self.open(Kind::Map, anchor, tag.as_deref()),
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else { return Ok(None) };
                let value = match frame.kind {
                    Kind::Seq => Yaml::Seq(frame.items),
                    Kind::Map => Yaml::Map(build_map(frame.items, &frame.merge_keys)?),
                };
                let built = Built {
                    value,
                    nodes: self.nodes - frame.start_nodes,
                    bytes: self.bytes - frame.start_bytes,
                    depth: frame.child_depth + 1,
                };
                self.finish(built, frame.anchor, false)
            }
            _ => Ok(None),
        }
    }

    fn open(&mut self, kind: Kind, anchor: usize, tag: Option<&Tag>) -> Result<Option<Built>, String> {
        check_tag(tag)?;
        if self.stack.len() + 1 > self.limits.max_depth {
            return Err(too_deep(self.limits));
        }
        self.charge(1, 0)?;
        self.stack.push(Frame {
            kind,
            anchor,
            items: Vec::new(),
            merge_keys: Vec::new(),
            start_nodes: self.nodes - 1,
            start_bytes: self.bytes,
            child_depth: 0,
        });
        Ok(None)
    }

    fn expecting_key(&self) -> bool {
        matches!(self.stack.last(), Some(f) if matches!(f.kind, Kind::Map) && f.items.len() % 2 == 0)
    }

    fn charge(&mut self, nodes: usize, bytes: usize) -> Result<(), String> {
        self.nodes = self.nodes.saturating_add(nodes);
        self.bytes = self.bytes.saturating_add(bytes);
        if self.nodes > self.limits.max_nodes {
            return Err(format!(
                "The parsed YAML is too big: more than {} nodes once aliases are expanded",
                self.limits.max_nodes
            ));
        }
        if self.bytes > self.limits.max_expanded_bytes {
            return Err(format!(
                "The parsed YAML is too big: more than {} bytes of text once aliases are expanded",
                self.limits.max_expanded_bytes
            ));
        }
        Ok(())
    }

    /// Records an anchor, then hands the node to its parent (or returns it as the root).
    fn finish(&mut self, built: Built, anchor: usize, is_merge_key: bool) -> Result<Option<Built>, String> {
        if anchor != 0 {
            // The kept copy costs memory too: charge it, so nested anchors stay within budget.
            self.charge(built.nodes, built.bytes)?;
            self.anchors.insert(anchor, built.clone());
        }
        if self.stack.len() + built.depth > self.limits.max_depth {
            return Err(too_deep(self.limits));
        }
        let Some(parent) = self.stack.last_mut() else { return Ok(Some(built)) };
        parent.child_depth = parent.child_depth.max(built.depth);
        if matches!(parent.kind, Kind::Map) && parent.items.len() % 2 == 0 {
            parent.merge_keys.push(is_merge_key);
        }
        parent.items.push(built.value);
        Ok(None)
    }
}

fn too_deep(limits: &Limits) -> String {
    format!("The parsed YAML is too big: nesting deeper than {} levels", limits.max_depth)
}

/// Pairs keys and values; `<<` merges mappings in (explicit keys win); a repeated key keeps
/// its first position and its last value (as Psych). Linear in the number of keys.
fn build_map(items: Vec<Yaml>, merge_keys: &[bool]) -> Result<Vec<(String, Yaml)>, String> {
    let mut explicit = Entries::default();
    let mut merged = Entries::default();
    let mut iter = items.into_iter();
    let mut index = 0;
    while let (Some(key), Some(value)) = (iter.next(), iter.next()) {
        if merge_keys.get(index).copied().unwrap_or(false) {
            let sources = match value {
                Yaml::Seq(items) => items,
                other => vec![other],
            };
            for source in sources {
                let Yaml::Map(entries) = source else {
                    return Err("(<unknown>): a merge key (<<) must refer to a mapping".to_string());
                };
                for (k, v) in entries {
                    merged.insert_if_absent(k, v);
                }
            }
        } else {
            let key = match key {
                Yaml::Null => String::new(),
                Yaml::Seq(_) | Yaml::Map(_) => {
                    return Err("(<unknown>): mapping keys must be scalars".to_string());
                }
                scalar => scalar.scalar_text().unwrap_or_default(),
            };
            explicit.upsert(key, value);
        }
        index += 1;
    }
    for (k, v) in explicit.entries {
        merged.upsert(k, v);
    }
    Ok(merged.entries)
}

/// Mapping entries in order, with a key index so that building a mapping stays linear.
#[derive(Default)]
pub(super) struct Entries {
    pub(super) entries: Vec<(String, Yaml)>,
    index: HashMap<String, usize>,
}

impl Entries {
    pub(super) fn from_vec(entries: Vec<(String, Yaml)>) -> Self {
        let index = entries.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect();
        Entries { entries, index }
    }

    /// The value of `key`, replaced in place or appended.
    pub(super) fn slot(&mut self, key: String) -> &mut Yaml {
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                self.index.insert(key.clone(), self.entries.len());
                self.entries.push((key, Yaml::Null));
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].1
    }

    pub(super) fn upsert(&mut self, key: String, value: Yaml) {
        *self.slot(key) = value;
    }

    fn insert_if_absent(&mut self, key: String, value: Yaml) {
        if !self.index.contains_key(&key) {
            self.upsert(key, value);
        }
    }
}

fn check_tag(tag: Option<&Tag>) -> Result<(), String> {
    match tag {
        None => Ok(()),
        Some(t) if t.is_yaml_core_schema() => Ok(()),
        Some(t) => Err(format!("(<unknown>): unsupported YAML tag {}{}", t.handle, t.suffix)),
    }
}

fn resolve_scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Yaml, String> {
    check_tag(tag)?;
    if tag.is_some_and(|t| t.suffix == "str") || style != ScalarStyle::Plain {
        return Ok(Yaml::Str(text.to_string()));
    }
    Ok(match text {
        "" | "~" | "null" | "Null" | "NULL" => Yaml::Null,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Yaml::Bool(true),
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Yaml::Bool(false),
        ".inf" | ".Inf" | ".INF" | "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN" => {
            Yaml::Float(text.to_string())
        }
        _ if is_integer(text) => text.parse().map_or_else(|_| Yaml::Str(text.to_string()), Yaml::Int),
        _ if is_float(text) => Yaml::Float(text.to_string()),
        _ => Yaml::Str(text.to_string()),
    })
}

fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
}

fn is_float(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let Some((int, frac)) = mantissa.split_once('.') else { return false };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    (!int.is_empty() || !frac.is_empty()) && digits(int) && digits(frac) && exponent_ok
}
