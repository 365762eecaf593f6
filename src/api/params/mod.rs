//! Request parameters the way GitLab (Grape/Rack) sees them: the query string merged with a
//! JSON, urlencoded or multipart body (body wins), `key[sub]=v` bracket keys nested, an empty body
//! with any content type meaning "no parameters". Handlers then read typed values with GitLab's
//! validation messages (`description is missing`, `expires_at is invalid`, …).
//!
//! Parsing is one pure, synchronous function, [`parse_request_params`], bounded by
//! [`ParamLimits`] like Rack's query parser: at most `max_depth` bracket levels (Rack's
//! `param_depth_limit`, 100) and at most `max_params` `key=value` pairs in the query string and a
//! urlencoded or multipart body together. Nothing here recurses in proportion to the input, and
//! no accepted [`Params`] is nested deeper than the limit, so dropping, cloning or serialising
//! one stays within a small, fixed stack. The actix extractor only reads the body and calls it.
//!
//! This module holds the [`Params`] type, its limits and its typed accessors; `parse` turns
//! request bytes into it and `extract` is the actix extractor.

use serde_json::{Map, Value};

use crate::config::LimitsConfig;
use crate::error::{ApiError, ApiResult};

mod extract;
mod parse;
#[cfg(test)]
mod tests;

use parse::{Collector, encode_component};
pub use parse::{decode_urlencoded, parse_request_params};

/// Bounds on the shape of a request's parameters (`[limits]` `max_param_depth` and `max_params`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamLimits {
    /// Deepest nesting below a top-level key: `a=1` is 0 levels, `a[]=1` and `{"a":[1]}` are 1,
    /// `a[b][c]=1` and `{"a":{"b":{"c":1}}}` are 2. Rack's `param_depth_limit` is 100.
    pub max_depth: usize,
    /// Most `key=value` pairs in the query string plus a urlencoded or multipart body. A JSON
    /// body's members do not count (a webhook's push event has many); its size is bounded by
    /// `server.max_body_bytes` and its nesting by `max_depth`.
    pub max_params: usize,
}

impl ParamLimits {
    /// The limits `[limits]` configures.
    pub fn from_config(limits: &LimitsConfig) -> Self {
        ParamLimits { max_depth: limits.max_param_depth, max_params: limits.max_params }
    }

    fn too_deep(&self) -> ApiError {
        ApiError::Param(format!("the parameters are nested too deeply (more than {} levels)", self.max_depth))
    }

    fn too_many(&self) -> ApiError {
        ApiError::Param(format!("too many parameters (more than {})", self.max_params))
    }
}

impl Default for ParamLimits {
    fn default() -> Self {
        ParamLimits::from_config(&LimitsConfig::default())
    }
}

/// All parameters of a request, merged. JSON `null` counts as absent.
#[derive(Debug, Clone, Default)]
pub struct Params {
    map: Map<String, Value>,
    /// Every value of a plain key sent more than once in urlencoded or multipart data
    /// (`tag_list=a&tag_list=b`, as gitlab-python-runner sends a runner's tags): `map` keeps the
    /// last one as Rack does, [`Params::string_list`] reads them all.
    repeated: Map<String, Value>,
}

/// Parameters are equal when their values are: the record of repeated keys only widens what
/// [`Params::string_list`] reads, and [`Params::to_pairs`] does not reproduce it.
impl PartialEq for Params {
    fn eq(&self, other: &Self) -> bool {
        self.map == other.map
    }
}

impl Params {
    /// Builds parameters from `(key, value)` pairs with bracket-key nesting, within `limits`.
    pub fn try_from_pairs<K: AsRef<str>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
        limits: &ParamLimits,
    ) -> ApiResult<Self> {
        let mut collector = Collector::new(limits);
        for (k, v) in pairs {
            collector.insert(k.as_ref(), v.into())?;
        }
        Ok(collector.finish())
    }

    /// How deeply the parameters nest below their top-level keys (see [`ParamLimits::max_depth`]).
    /// Computed without recursion.
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack: Vec<(&Value, usize)> = self.map.values().map(|v| (v, 0)).collect();
        while let Some((value, depth)) = stack.pop() {
            deepest = deepest.max(depth);
            match value {
                Value::Array(items) => stack.extend(items.iter().map(|v| (v, depth + 1))),
                Value::Object(obj) => stack.extend(obj.values().map(|v| (v, depth + 1))),
                _ => {}
            }
        }
        deepest
    }

    /// Every leaf as its bracket key and value, in order: `{"a":{"b":["x"]}}` gives
    /// `("a[b][]", "x")`. Strings come out as they are, other scalars as their JSON text, and
    /// empty containers are left out. For parameters parsed from urlencoded or multipart data,
    /// parsing these pairs again gives back the same parameters.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        // A stack of (key so far, value), pushed in reverse so leaves come out in order.
        let mut stack: Vec<(String, &Value)> = self.map.iter().rev().map(|(k, v)| (k.clone(), v)).collect();
        while let Some((key, value)) = stack.pop() {
            match value {
                Value::Array(items) => stack.extend(items.iter().rev().map(|v| (format!("{key}[]"), v))),
                Value::Object(obj) => stack.extend(obj.iter().rev().map(|(k, v)| (format!("{key}[{k}]"), v))),
                Value::String(s) => out.push((key, s.clone())),
                other => out.push((key, other.to_string())),
            }
        }
        out
    }

    /// [`Params::to_pairs`] as `application/x-www-form-urlencoded` data.
    pub fn to_urlencoded(&self) -> String {
        let mut out = String::new();
        for (k, v) in self.to_pairs() {
            if !out.is_empty() {
                out.push('&');
            }
            encode_component(&k, &mut out);
            out.push('=');
            encode_component(&v, &mut out);
        }
        out
    }
    /// The raw value, `None` when absent or JSON `null`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// Sets a value (path parameters win over everything, so handlers call this last).
    pub fn set(&mut self, key: &str, value: Value) {
        self.map.insert(key.to_string(), value);
    }

    /// Removes and returns a value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.map.remove(key)
    }

    /// Every parameter, in arrival order.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }

    /// A string parameter. Numbers and booleans are coerced as Grape does; arrays and objects
    /// are `{"error":"<key> is invalid"}`.
    pub fn string(&self, key: &str) -> ApiResult<Option<String>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(ApiError::invalid(key)),
        }
    }

    /// A required string: absent → `<key> is missing`.
    pub fn required_string(&self, key: &str) -> ApiResult<String> {
        self.string(key)?.ok_or_else(|| ApiError::missing(key))
    }

    /// `{"error":"a is missing, b is missing"}` for every absent key, all at once as Grape
    /// reports them.
    pub fn check_present(&self, keys: &[&str]) -> ApiResult<()> {
        let missing: Vec<String> =
            keys.iter().filter(|k| self.get(k).is_none()).map(|k| format!("{k} is missing")).collect();
        if missing.is_empty() { Ok(()) } else { Err(ApiError::Param(missing.join(", "))) }
    }

    /// Several required strings: a present non-string is `<key> is invalid`, and every absent
    /// key is reported together (see [`Params::check_present`]).
    pub fn required_strings<const N: usize>(&self, keys: [&str; N]) -> ApiResult<[String; N]> {
        let mut values = Vec::with_capacity(N);
        for key in keys {
            values.push(self.string(key)?.unwrap_or_default());
        }
        self.check_present(&keys)?;
        values.try_into().map_err(|_| ApiError::Internal("required_strings: length mismatch".into()))
    }

    /// A required, non-blank string: blank → `<key> is empty`.
    pub fn required_nonblank(&self, key: &str) -> ApiResult<String> {
        let s = self.required_string(key)?;
        if s.trim().is_empty() {
            return Err(ApiError::Param(format!("{key} is empty")));
        }
        Ok(s)
    }

    /// An integer parameter (JSON number or decimal string); anything else → `<key> is invalid`.
    pub fn int(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| ApiError::invalid(key)),
            Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| ApiError::invalid(key)),
            Some(_) => Err(ApiError::invalid(key)),
        }
    }

    /// A boolean parameter: `true`/`false`, `1`/`0`, `t`/`f`, `yes`/`no` (Grape's Boolean).
    pub fn bool(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
            Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "t" | "yes" | "y" | "on" => Ok(Some(true)),
                "false" | "0" | "f" | "no" | "n" | "off" => Ok(Some(false)),
                _ => Err(ApiError::invalid(key)),
            },
            Some(_) => Err(ApiError::invalid(key)),
        }
    }

    /// A string restricted to `allowed`; otherwise `<key> does not have a valid value`.
    pub fn one_of(&self, key: &str, allowed: &[&str]) -> ApiResult<Option<String>> {
        match self.string(key)? {
            Some(s) if allowed.contains(&s.as_str()) => Ok(Some(s)),
            Some(_) => Err(ApiError::not_valid_value(key)),
            None => Ok(None),
        }
    }

    /// A list of strings: a JSON array, repeated `key[]=` fields, a comma-separated string, or
    /// (every value of) a plain key sent more than once.
    pub fn string_list(&self, key: &str) -> ApiResult<Option<Vec<String>>> {
        let value = match self.repeated.get(key) {
            Some(all) => Some(all),
            None => self.get(key),
        };
        match value {
            None => Ok(None),
            Some(Value::String(s)) => {
                Ok(Some(s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()))
            }
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(String::from).ok_or_else(|| ApiError::invalid(key)))
                .collect::<ApiResult<Vec<_>>>()
                .map(Some),
            Some(_) => Err(ApiError::invalid(key)),
        }
    }
}
