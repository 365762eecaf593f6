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

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use crate::config::LimitsConfig;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

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

/// Collects `key=value` pairs into nested parameters, counting them against the limits.
struct Collector<'a> {
    map: Map<String, Value>,
    /// See [`Params::repeated`].
    repeated: Map<String, Value>,
    limits: &'a ParamLimits,
    pairs: usize,
}

impl<'a> Collector<'a> {
    fn new(limits: &'a ParamLimits) -> Self {
        Collector { map: Map::new(), repeated: Map::new(), limits, pairs: 0 }
    }

    fn insert(&mut self, key: &str, value: String) -> ApiResult<()> {
        self.pairs += 1;
        if self.pairs > self.limits.max_params {
            return Err(self.limits.too_many());
        }
        if !key.contains('[')
            && let Some(Value::String(previous)) = self.map.get(key)
        {
            let all = self
                .repeated
                .entry(key.to_string())
                .or_insert_with(|| Value::Array(vec![Value::String(previous.clone())]));
            if let Value::Array(items) = all {
                items.push(Value::String(value.clone()));
            }
        }
        insert_bracketed(&mut self.map, key, Value::String(value), self.limits)
    }

    fn finish(self) -> Params {
        Params { map: self.map, repeated: self.repeated }
    }
}

/// Inserts `key=value`, nesting `a[b][c]` into objects and `a[]` / `a[b][]` into arrays, at most
/// `limits.max_depth` levels deep. Iterative: the walk down the existing value is a loop.
fn insert_bracketed(
    map: &mut Map<String, Value>,
    key: &str,
    value: Value,
    limits: &ParamLimits,
) -> ApiResult<()> {
    let (head, rest) = match key.find('[') {
        Some(i) if i > 0 && key.ends_with(']') => (&key[..i], &key[i..]),
        _ => {
            map.insert(key.to_string(), value);
            return Ok(());
        }
    };
    // rest is like "[b][c]" or "[]"; split into segments, refusing more than the limit before
    // touching the map (so a refused key leaves nothing half-inserted).
    let mut segments = Vec::new();
    for segment in rest.trim_start_matches('[').trim_end_matches(']').split("][") {
        if segments.len() == limits.max_depth {
            return Err(limits.too_deep());
        }
        segments.push(segment);
    }
    let mut slot = map.entry(head.to_string()).or_insert(Value::Null);
    for (i, segment) in segments.iter().enumerate() {
        slot = child(slot, segment, segments.get(i + 1).copied());
    }
    *slot = value;
    Ok(())
}

/// The slot one bracket segment below `slot`: `""` pushes a new array item (or, when the `next`
/// segment names a key the last item, a hash, lacks, selects that item), a name selects (or
/// creates) an object member. A slot of another type is replaced, as Rack does.
fn child<'v>(slot: &'v mut Value, segment: &str, next: Option<&str>) -> &'v mut Value {
    if segment.is_empty() {
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        match slot {
            Value::Array(items) => {
                // Rack: `a[][k]=v` adds `k` to the last hash unless it already has `k`, so
                // `a[][key]=A&a[][value]=1&a[][key]=B` is `[{key:A, value:1}, {key:B}]`.
                let fills_last = match (next, items.last()) {
                    (Some(k), Some(Value::Object(last))) => !k.is_empty() && !last.contains_key(k),
                    _ => false,
                };
                if !fills_last {
                    items.push(Value::Null);
                }
                let last = items.len() - 1;
                &mut items[last]
            }
            other => other,
        }
    } else {
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        match slot {
            Value::Object(obj) => obj.entry(segment.to_string()).or_insert(Value::Null),
            other => other,
        }
    }
}

/// Parses a request's parameters: the raw query string (without `?`), then the body by its
/// `Content-Type` (JSON, urlencoded or multipart; a blank body is no parameters whatever the
/// type), body keys replacing query keys. Pure and synchronous (multipart is driven to completion
/// in place, the body being in memory), so fuzz targets and property tests call it directly.
///
/// Errors: malformed input and exceeded [`ParamLimits`] are 400 `{"error":…}`; an unsupported
/// content type is 415.
pub fn parse_request_params(
    query: &[u8],
    content_type: &str,
    body: &[u8],
    limits: &ParamLimits,
) -> ApiResult<Params> {
    let mut collector = Collector::new(limits);
    for pair in urlencoded_pairs(query) {
        let (k, v) = pair.map_err(|why| ApiError::Param(format!("the query string is malformed: {why}")))?;
        collector.insert(&k, v)?;
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(collector.finish());
    }
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let (body_map, body_repeated) = if mime == "application/json" || mime.ends_with("+json") {
        (parse_json(body, limits)?.map, Map::new())
    } else if mime == "application/x-www-form-urlencoded" || mime == "multipart/form-data" {
        // The body's pairs share the query's budget but build their own map: body keys replace
        // query keys whole, they do not merge into them.
        let mut body_collector =
            Collector { map: Map::new(), repeated: Map::new(), limits, pairs: collector.pairs };
        if mime == "multipart/form-data" {
            parse_multipart(content_type, body, &mut body_collector)?;
        } else {
            for pair in urlencoded_pairs(body) {
                let (k, v) =
                    pair.map_err(|why| ApiError::Param(format!("the urlencoded body is malformed: {why}")))?;
                body_collector.insert(&k, v)?;
            }
        }
        (body_collector.map, body_collector.repeated)
    } else {
        let shown = if mime.is_empty() { "none" } else { mime.as_str() };
        return Err(ApiError::Message(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Value::String(format!(
                "415 Unsupported Media Type - the content type '{shown}' is not supported; send \
                 application/json, application/x-www-form-urlencoded or multipart/form-data"
            )),
        ));
    };
    let mut params = collector.finish();
    for (k, v) in body_map {
        params.repeated.remove(&k);
        params.map.insert(k, v);
    }
    params.repeated.extend(body_repeated);
    Ok(params)
}

impl FromRequest for Params {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move { parse(req, payload).await })
    }
}

async fn parse(req: HttpRequest, payload: Payload) -> ApiResult<Params> {
    let (body_limit, timeout, limits) = match req.app_data::<web::Data<AppState>>() {
        Some(s) => (
            s.config.server.max_body_bytes,
            s.config.server.body_read_timeout_secs,
            ParamLimits::from_config(&s.config.limits),
        ),
        None => (1024 * 1024, 10, ParamLimits::default()),
    };
    let body = read_body(&req, payload, body_limit, Duration::from_secs(timeout)).await?;
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    parse_request_params(req.query_string().as_bytes(), content_type, &body, &limits)
}

/// Strictly decodes `application/x-www-form-urlencoded` data: `+` is a space, every `%` must
/// start a two-digit hex escape, and the decoded keys and values must be UTF-8.
pub fn decode_urlencoded(raw: &[u8]) -> Result<Vec<(String, String)>, &'static str> {
    urlencoded_pairs(raw).collect()
}

/// The pairs of urlencoded data one at a time, so a caller can stop at its limit.
fn urlencoded_pairs(raw: &[u8]) -> impl Iterator<Item = Result<(String, String), &'static str>> + '_ {
    fn decode(part: &[u8]) -> Result<String, &'static str> {
        let mut out = Vec::with_capacity(part.len());
        let mut i = 0;
        while i < part.len() {
            match part[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = part.get(i + 1..i + 3).ok_or("a % escape is cut short")?;
                    let hex = std::str::from_utf8(hex).map_err(|_| "a % escape is not hexadecimal")?;
                    out.push(u8::from_str_radix(hex, 16).map_err(|_| "a % escape is not hexadecimal")?);
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).map_err(|_| "a decoded value is not UTF-8")
    }
    raw.split(|b| *b == b'&').filter(|pair| !pair.is_empty()).map(|pair| {
        let mut kv = pair.splitn(2, |b| *b == b'=');
        let key = decode(kv.next().unwrap_or_default())?;
        let value = decode(kv.next().unwrap_or_default())?;
        Ok((key, value))
    })
}

/// Percent-encodes everything but `A-Za-z0-9*-._`, with `+` for a space (the inverse of
/// [`decode_urlencoded`]).
fn encode_component(s: &str, out: &mut String) {
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
}

async fn read_body(
    req: &HttpRequest,
    mut payload: Payload,
    limit: usize,
    timeout: Duration,
) -> ApiResult<Bytes> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge);
    }
    let read = async {
        let mut buf = BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::Param(format!("the request body could not be read: {e}")))?;
            if buf.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge);
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    };
    // actix-web times out a slow request head but never a slowly dribbled body.
    actix_web::rt::time::timeout(timeout, read).await.map_err(|_| ApiError::RequestTimeout)?
}

/// A JSON body. Its nesting is checked by a linear scan before serde_json sees it (serde_json
/// itself stops at 128 levels), so the parsed value is never deeper than the limit.
fn parse_json(body: &[u8], limits: &ParamLimits) -> ApiResult<Params> {
    // The top-level object is the parameter map itself, one level above `max_depth`.
    if json_nesting_exceeds(body, limits.max_depth.saturating_add(1)) {
        return Err(limits.too_deep());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(Params { map, repeated: Map::new() }),
        Ok(Value::Null) => Ok(Params::default()),
        Ok(_) => Err(ApiError::Param("the JSON body must be an object".into())),
        Err(e) => Err(ApiError::Param(format!("the JSON body is malformed: {e}"))),
    }
}

/// Whether `[`/`{` outside strings nest more than `max` deep (exact for valid JSON).
fn json_nesting_exceeds(body: &[u8], max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in body {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// A multipart body, with `multer`. The body is already in memory, so multer's futures never
/// wait: they are polled to completion here without an executor.
fn parse_multipart(content_type: &str, body: &[u8], collector: &mut Collector<'_>) -> ApiResult<()> {
    let malformed = |e: multer::Error| ApiError::Param(format!("the multipart body is malformed: {e}"));
    let boundary = multer::parse_boundary(content_type).map_err(malformed)?;
    let body = Bytes::copy_from_slice(body);
    // Each poll either finishes or consumes input; this bound is never reached in practice.
    let max_polls = body.len().saturating_mul(2).saturating_add(1024);
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let fields = async {
        while let Some(field) = multipart.next_field().await.map_err(malformed)? {
            let name = field.name().unwrap_or_default().to_string();
            // Bytes, not `text()`: multer's decoding drops a leading BOM, which the other
            // encodings keep; invalid UTF-8 (a file field) is replaced, as before.
            let text = String::from_utf8_lossy(&field.bytes().await.map_err(malformed)?).into_owned();
            if !name.is_empty() {
                collector.insert(&name, text)?;
            }
        }
        Ok(())
    };
    let mut fields = std::pin::pin!(fields);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..max_polls {
        if let Poll::Ready(result) = fields.as_mut().poll(&mut cx) {
            return result;
        }
    }
    Err(ApiError::Param("the multipart body is malformed: the parser made no progress".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LIMITS: ParamLimits = ParamLimits { max_depth: 100, max_params: 1000 };

    fn from_pairs(pairs: &[(&str, &str)]) -> Params {
        Params::try_from_pairs(pairs.iter().copied(), &LIMITS).unwrap()
    }

    fn parse_json(body: &[u8]) -> ApiResult<Params> {
        super::parse_json(body, &LIMITS)
    }

    fn error_text(result: ApiResult<Params>) -> String {
        match result {
            Err(ApiError::Param(m)) => m,
            other => panic!("expected a parameter error, got {other:?}"),
        }
    }

    #[test]
    fn array_of_hashes_keys_fill_the_last_hash_as_rack_does() {
        let p = from_pairs(&[
            ("variables[][key]", "A"),
            ("variables[][value]", "1"),
            ("variables[][key]", "B"),
            ("variables[][value]", "2"),
            ("variables[][variable_type]", "file"),
        ]);
        assert_eq!(
            p.get("variables"),
            Some(&json!([{"key": "A", "value": "1"}, {"key": "B", "value": "2", "variable_type": "file"}]))
        );
        let p = from_pairs(&[("a[]", "x"), ("a[]", "y")]);
        assert_eq!(p.get("a"), Some(&json!(["x", "y"])));
    }

    #[test]
    fn bracket_keys_nest_into_objects_and_arrays() {
        let p = from_pairs(&[
            ("ref", "main"),
            ("variables[A]", "1"),
            ("variables[B]", "two"),
            ("variables[C][]", "x"),
            ("variables[C][]", "y"),
            ("list[]", "a"),
        ]);
        assert_eq!(
            Value::Object(p.map),
            json!({"ref": "main", "variables": {"A": "1", "B": "two", "C": ["x", "y"]}, "list": ["a"]})
        );
    }

    #[test]
    fn a_repeated_plain_key_is_the_last_value_but_a_list_of_all_of_them() {
        let p = from_pairs(&[("tag_list", "a"), ("x", "1"), ("tag_list", "b,c"), ("tag_list", "d")]);
        assert_eq!(p.string("tag_list").unwrap().as_deref(), Some("d"));
        assert_eq!(p.string_list("tag_list").unwrap().unwrap(), vec!["a", "b,c", "d"]);
        assert_eq!(p.string_list("x").unwrap().unwrap(), vec!["1"]);
        // A body key replaces the query's values, repeated or not.
        let form = "application/x-www-form-urlencoded";
        let p = parse_request_params(b"t=q1&t=q2&u=q1&u=q2", form, b"t=b1&v=b1&v=b2", &LIMITS).unwrap();
        assert_eq!(p.string_list("t").unwrap().unwrap(), vec!["b1"]);
        assert_eq!(p.string_list("u").unwrap().unwrap(), vec!["q1", "q2"]);
        assert_eq!(p.string_list("v").unwrap().unwrap(), vec!["b1", "b2"]);
    }

    #[test]
    fn urlencoded_data_is_decoded_strictly() {
        let pairs = decode_urlencoded(b"variables%5BK%5D=a+b%21&ref=main&flag").unwrap();
        assert_eq!(
            pairs,
            vec![
                ("variables[K]".to_string(), "a b!".to_string()),
                ("ref".to_string(), "main".to_string()),
                ("flag".to_string(), String::new())
            ]
        );
        assert!(decode_urlencoded(b"a=%zz").is_err());
        assert!(decode_urlencoded(b"a=%4").is_err());
        assert!(decode_urlencoded(b"a=%ff%fe").is_err());
    }

    #[test]
    fn json_null_counts_as_absent() {
        let p = parse_json(br#"{"token": null, "ref": "main"}"#).unwrap();
        assert!(p.get("token").is_none());
        assert!(matches!(p.required_string("token"), Err(ApiError::Param(m)) if m == "token is missing"));
    }

    #[test]
    fn malformed_json_is_a_parameter_error() {
        assert!(matches!(parse_json(b"{nope"), Err(ApiError::Param(_))));
        assert!(matches!(parse_json(b"[1,2]"), Err(ApiError::Param(_))));
    }

    #[test]
    fn typed_accessors_follow_grape_coercion() {
        let p = parse_json(br#"{"n": "12", "b": "true", "o": {"x": 1}, "f": 1.5}"#).unwrap();
        assert_eq!(p.int("n").unwrap(), Some(12));
        assert_eq!(p.bool("b").unwrap(), Some(true));
        assert!(p.string("o").is_err());
        assert!(p.int("f").is_err());
    }

    #[test]
    fn a_key_nested_exactly_to_the_limit_is_accepted_and_one_level_more_is_refused() {
        let at_limit = format!("a{}=1", "[]".repeat(100));
        let p = parse_request_params(at_limit.as_bytes(), "", b"", &LIMITS).unwrap();
        assert_eq!(p.depth(), 100);
        let over = format!("a{}=1", "[]".repeat(101));
        assert_eq!(
            error_text(parse_request_params(over.as_bytes(), "", b"", &LIMITS)),
            "the parameters are nested too deeply (more than 100 levels)"
        );
        let named = format!("a{}=1", "[k]".repeat(101));
        assert!(parse_request_params(named.as_bytes(), "", b"", &LIMITS).is_err());
    }

    #[test]
    fn eight_thousand_bracket_levels_get_a_parameter_error_in_every_encoding() {
        let key = format!("a{}", "[]".repeat(8000));
        let expected = "the parameters are nested too deeply (more than 100 levels)";
        let form = format!("{key}=1");
        assert_eq!(error_text(parse_request_params(form.as_bytes(), "", b"", &LIMITS)), expected);
        let ct = "application/x-www-form-urlencoded";
        assert_eq!(error_text(parse_request_params(b"", ct, form.as_bytes(), &LIMITS)), expected);
        let multipart =
            format!("--b\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n1\r\n--b--\r\n");
        let ct = "multipart/form-data; boundary=b";
        assert_eq!(error_text(parse_request_params(b"", ct, multipart.as_bytes(), &LIMITS)), expected);
    }

    #[test]
    fn json_nested_beyond_the_limit_is_refused_before_serde_json_recurses() {
        let expected = "the parameters are nested too deeply (more than 100 levels)";
        for depth in [102, 129, 100_000] {
            let body = format!("{{\"a\":{}1{}}}", "[".repeat(depth - 1), "]".repeat(depth - 1));
            let result = parse_request_params(b"", "application/json", body.as_bytes(), &LIMITS);
            assert_eq!(error_text(result), expected, "depth {depth}");
        }
        // 100 levels below the top-level object are fine; brackets inside strings do not count.
        let body = format!("{{\"a\":{}\"[[[{{{{\"{}}}", "[".repeat(100), "]".repeat(100));
        let p = parse_request_params(b"", "application/json", body.as_bytes(), &LIMITS).unwrap();
        assert_eq!(p.depth(), 100);
        // Unclosed deep nesting is also refused as too deep, not handed to serde_json.
        let body = "[".repeat(100_000);
        assert_eq!(
            error_text(parse_request_params(b"", "application/json", body.as_bytes(), &LIMITS)),
            expected
        );
    }

    #[test]
    fn parameters_at_the_depth_limit_are_parsed_cloned_serialised_and_dropped_on_a_small_stack() {
        // A worker thread has 2 MiB; everything a handler does with accepted parameters must
        // fit in far less, in a debug build.
        let run = std::thread::Builder::new().stack_size(256 * 1024).spawn(|| {
            let form = format!("a{}=1", "[k]".repeat(100));
            let json = format!("{{\"a\":{}1{}}}", "[".repeat(100), "]".repeat(100));
            for (ct, body) in [("application/x-www-form-urlencoded", form), ("application/json", json)] {
                let p = parse_request_params(b"", ct, body.as_bytes(), &LIMITS).unwrap();
                assert_eq!(p.depth(), 100);
                let copy = p.clone();
                let text = Value::Object(copy.map.clone()).to_string();
                assert!(text.len() > 200);
                assert_eq!(p.to_pairs().len(), 1);
                drop((p, copy));
            }
        });
        run.unwrap().join().unwrap();
    }

    #[test]
    fn more_pairs_than_the_limit_are_refused_across_query_and_body() {
        let limits = ParamLimits { max_depth: 100, max_params: 3 };
        let ct = "application/x-www-form-urlencoded";
        assert!(parse_request_params(b"a=1&b=2", ct, b"c=3", &limits).is_ok());
        assert_eq!(
            error_text(parse_request_params(b"a=1&b=2", ct, b"c=3&d=4", &limits)),
            "too many parameters (more than 3)"
        );
        assert!(parse_request_params(b"a=1&b=2&c=3&d=4", "", b"", &limits).is_err());
        let multipart = "--b\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n3\r\n\
                         --b\r\nContent-Disposition: form-data; name=\"d\"\r\n\r\n4\r\n--b--\r\n";
        let ct = "multipart/form-data; boundary=b";
        assert!(parse_request_params(b"a=1", ct, multipart.as_bytes(), &limits).is_ok());
        assert!(parse_request_params(b"a=1&b=2", ct, multipart.as_bytes(), &limits).is_err());
        // JSON members do not count against the pair limit.
        let json = br#"{"c":"3","d":"4","e":"5","f":"6"}"#;
        assert!(parse_request_params(b"a=1", "application/json", json, &limits).is_ok());
    }

    #[test]
    fn body_keys_replace_query_keys_whole() {
        let ct = "application/x-www-form-urlencoded";
        let p = parse_request_params(b"v[a]=1&ref=q", ct, b"v[b]=2", &LIMITS).unwrap();
        assert_eq!(Value::Object(p.map), json!({"v": {"b": "2"}, "ref": "q"}));
    }

    #[test]
    fn a_blank_body_means_no_body_parameters_whatever_the_content_type() {
        let p = parse_request_params(b"a=1", "text/plain", b" \r\n", &LIMITS).unwrap();
        assert_eq!(Value::Object(p.map), json!({"a": "1"}));
        assert!(matches!(
            parse_request_params(b"", "text/plain", b"a=1", &LIMITS),
            Err(ApiError::Message(StatusCode::UNSUPPORTED_MEDIA_TYPE, _))
        ));
    }

    #[test]
    fn to_urlencoded_gives_back_the_same_parameters() {
        let raw = b"ref=main&variables%5BA%5D=x+y&variables%5BB%5D%5B%5D=1&variables%5BB%5D%5B%5D=%26&l%5B%5D%5B%5D=z";
        let p = parse_request_params(raw, "", b"", &LIMITS).unwrap();
        let again = parse_request_params(p.to_urlencoded().as_bytes(), "", b"", &LIMITS).unwrap();
        assert_eq!(again, p);
        assert_eq!(p.to_pairs()[2], ("variables[B][]".to_string(), "1".to_string()));
    }

    #[test]
    fn a_multipart_body_is_parsed_synchronously() {
        let body = "--xyz\r\nContent-Disposition: form-data; name=\"variables[K]\"\r\n\r\nv\r\n\
                    --xyz\r\nContent-Disposition: form-data; name=\"ref\"\r\n\r\nmain\r\n--xyz--\r\n";
        let p =
            parse_request_params(b"", "multipart/form-data; boundary=xyz", body.as_bytes(), &LIMITS).unwrap();
        assert_eq!(Value::Object(p.map), json!({"variables": {"K": "v"}, "ref": "main"}));
    }
}
