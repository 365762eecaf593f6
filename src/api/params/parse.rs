//! Turning request bytes into [`Params`]: the query string, then a JSON, urlencoded or
//! multipart body, with Rack's bracket-key placement and the [`ParamLimits`] on depth and count.
//! Pure and synchronous; the actix extractor (`extract`) only reads the body and calls
//! [`parse_request_params`].

use std::future::Future;
use std::task::{Context, Poll, Waker};

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use serde_json::{Map, Value};

use super::{ParamLimits, Params};
use crate::error::{ApiError, ApiResult};

/// Collects `key=value` pairs into nested parameters, counting them against the limits.
pub(super) struct Collector<'a> {
    map: Map<String, Value>,
    /// See [`Params::repeated`].
    repeated: Map<String, Value>,
    limits: &'a ParamLimits,
    pairs: usize,
}

impl<'a> Collector<'a> {
    pub(super) fn new(limits: &'a ParamLimits) -> Self {
        Collector { map: Map::new(), repeated: Map::new(), limits, pairs: 0 }
    }

    pub(super) fn insert(&mut self, key: &str, value: String) -> ApiResult<()> {
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

    pub(super) fn finish(self) -> Params {
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
pub(super) fn encode_component(s: &str, out: &mut String) {
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

/// A JSON body. Its nesting is checked by a linear scan before serde_json sees it (serde_json
/// itself stops at 128 levels), so the parsed value is never deeper than the limit.
pub(super) fn parse_json(body: &[u8], limits: &ParamLimits) -> ApiResult<Params> {
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
