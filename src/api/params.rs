//! Request parameters the way GitLab (Grape/Rack) sees them: the query string merged with a
//! JSON, urlencoded or multipart body (body wins), `key[sub]=v` bracket keys nested, an empty body
//! with any content type meaning "no parameters". Handlers then read typed values with GitLab's
//! validation messages (`description is missing`, `expires_at is invalid`, …).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// All parameters of a request, merged. JSON `null` counts as absent.
#[derive(Debug, Clone, Default)]
pub struct Params {
    map: Map<String, Value>,
}

impl Params {
    /// Builds parameters from `(key, value)` pairs with bracket-key nesting.
    pub fn from_pairs<K: AsRef<str>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        let mut map = Map::new();
        for (k, v) in pairs {
            insert_bracketed(&mut map, k.as_ref(), Value::String(v.into()));
        }
        Params { map }
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

    /// A list of strings: a JSON array, repeated `key[]=` fields, or a comma-separated string.
    pub fn string_list(&self, key: &str) -> ApiResult<Option<Vec<String>>> {
        match self.get(key) {
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

/// Inserts `key=value`, nesting `a[b][c]` into objects and `a[]` / `a[b][]` into arrays.
fn insert_bracketed(map: &mut Map<String, Value>, key: &str, value: Value) {
    let (head, rest) = match key.find('[') {
        Some(i) if i > 0 && key.ends_with(']') => (&key[..i], &key[i..]),
        _ => {
            map.insert(key.to_string(), value);
            return;
        }
    };
    // rest is like "[b][c]" or "[]"; split into segments.
    let segments: Vec<&str> = rest.trim_start_matches('[').trim_end_matches(']').split("][").collect();
    place(map.entry(head.to_string()).or_insert(Value::Null), &segments, value);
}

fn place(slot: &mut Value, segments: &[&str], value: Value) {
    let Some((first, rest)) = segments.split_first() else {
        *slot = value;
        return;
    };
    if first.is_empty() {
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        if let Value::Array(items) = slot {
            // Rack: `a[][k]=v` adds `k` to the last hash unless it already has `k`, so
            // `a[][key]=A&a[][value]=1&a[][key]=B` is `[{key:A, value:1}, {key:B}]`.
            if let (Some(key), Some(Value::Object(last))) =
                (rest.first().filter(|k| !k.is_empty()), items.last_mut())
                && !last.contains_key(*key)
            {
                place(last.entry(key.to_string()).or_insert(Value::Null), &rest[1..], value);
                return;
            }
            let mut item = Value::Null;
            place(&mut item, rest, value);
            items.push(item);
        }
    } else {
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        if let Value::Object(obj) = slot {
            place(obj.entry(first.to_string()).or_insert(Value::Null), rest, value);
        }
    }
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
    let (limit, timeout) = match req.app_data::<web::Data<AppState>>() {
        Some(s) => (s.config.server.max_body_bytes, s.config.server.body_read_timeout_secs),
        None => (1024 * 1024, 10),
    };
    let query = decode_urlencoded(req.query_string().as_bytes())
        .map_err(|why| ApiError::Param(format!("the query string is malformed: {why}")))?;
    let mut params = Params::from_pairs(query);
    let body = read_body(&req, payload, limit, Duration::from_secs(timeout)).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(params);
    }
    let content_type =
        req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let mime = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let body_params = if mime == "application/json" || mime.ends_with("+json") {
        parse_json(&body)?
    } else if mime == "application/x-www-form-urlencoded" {
        Params::from_pairs(
            decode_urlencoded(&body)
                .map_err(|why| ApiError::Param(format!("the urlencoded body is malformed: {why}")))?,
        )
    } else if mime == "multipart/form-data" {
        parse_multipart(&content_type, body).await?
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
    for (k, v) in body_params.map {
        params.map.insert(k, v);
    }
    Ok(params)
}

/// Strictly decodes `application/x-www-form-urlencoded` data: `+` is a space, every `%` must
/// start a two-digit hex escape, and the decoded keys and values must be UTF-8.
pub fn decode_urlencoded(raw: &[u8]) -> Result<Vec<(String, String)>, &'static str> {
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
    raw.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut kv = pair.splitn(2, |b| *b == b'=');
            let key = decode(kv.next().unwrap_or_default())?;
            let value = decode(kv.next().unwrap_or_default())?;
            Ok((key, value))
        })
        .collect()
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

fn parse_json(body: &[u8]) -> ApiResult<Params> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(Params { map }),
        Ok(Value::Null) => Ok(Params::default()),
        Ok(_) => Err(ApiError::Param("the JSON body must be an object".into())),
        Err(e) => Err(ApiError::Param(format!("the JSON body is malformed: {e}"))),
    }
}

async fn parse_multipart(content_type: &str, body: Bytes) -> ApiResult<Params> {
    let malformed = |e: multer::Error| ApiError::Param(format!("the multipart body is malformed: {e}"));
    let boundary = multer::parse_boundary(content_type).map_err(malformed)?;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut pairs = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_string();
        let text = field.text().await.map_err(malformed)?;
        if !name.is_empty() {
            pairs.push((name, text));
        }
    }
    Ok(Params::from_pairs(pairs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn array_of_hashes_keys_fill_the_last_hash_as_rack_does() {
        let p = Params::from_pairs([
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
        let p = Params::from_pairs([("a[]", "x"), ("a[]", "y")]);
        assert_eq!(p.get("a"), Some(&json!(["x", "y"])));
    }

    #[test]
    fn bracket_keys_nest_into_objects_and_arrays() {
        let p = Params::from_pairs([
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
}
