//! One HTTP delivery attempt: resolve and check the address (SSRF guard), connect to exactly
//! that address, POST the body with GitLab's headers (and the Standard Webhooks signature), no
//! redirects, a timeout, and keep a bounded copy of the answer for the delivery log.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::signature;
use super::ssrf;

/// GitLab's version in `User-Agent: GitLab/<version>` (as `GET /version` reports it).
pub const USER_AGENT: &str = "GitLab/17.11.0";
/// Response body kept in the log (GitLab: 8 KB).
const MAX_RESPONSE_BODY: usize = 8 * 1024;
/// Response headers kept in the log (GitLab: 50 of at most 1 KB each).
const MAX_RESPONSE_HEADERS: usize = 50;
const MAX_RESPONSE_HEADER_LEN: usize = 1024;

/// What to send.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: String,
    pub body: String,
    /// `X-Gitlab-Event`, e.g. `Pipeline Hook`.
    pub event_name: String,
    /// `X-Gitlab-Event-UUID`, `Idempotency-Key` and `webhook-id`: the same for every attempt.
    pub event_uuid: String,
    pub token: Option<String>,
    pub signing_secret: Option<Vec<u8>>,
    pub custom_headers: Vec<(String, String)>,
    pub verify_tls: bool,
    /// `X-Gitlab-Instance`: the server's base URL.
    pub instance: String,
}

/// How the network may be used.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub allow_local_network: bool,
    pub timeout: Duration,
}

/// What happened, as the delivery log shows it.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The receiver's status code (`None`: no answer).
    pub status: Option<u16>,
    pub request_headers: Vec<(String, String)>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: String,
    pub duration: f64,
    pub error: Option<String>,
}

impl Outcome {
    /// GitLab's rule: a 2xx or 3xx answer (redirects are not followed) is a success.
    pub fn ok(&self) -> bool {
        self.status.is_some_and(|s| (200..400).contains(&s))
    }

    /// `response_status` of the log: the code, or `internal error`.
    pub fn status_text(&self) -> String {
        self.status.map(|s| s.to_string()).unwrap_or_else(|| "internal error".into())
    }
}

/// A fresh random (version 4) UUID.
pub fn new_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

fn headers(req: &Request, now_unix: i64) -> Vec<(String, String)> {
    // Custom headers first; GitLab's own headers win over a custom header of the same name.
    let mut out: Vec<(String, String)> = req.custom_headers.clone();
    let mut own = vec![
        ("Content-Type".to_string(), "application/json".to_string()),
        ("User-Agent".into(), USER_AGENT.into()),
        ("Idempotency-Key".into(), req.event_uuid.clone()),
        ("X-Gitlab-Event".into(), req.event_name.clone()),
        ("X-Gitlab-Webhook-UUID".into(), new_uuid()),
        ("X-Gitlab-Instance".into(), req.instance.clone()),
        ("X-Gitlab-Event-UUID".into(), req.event_uuid.clone()),
    ];
    if let Some(t) = &req.token {
        own.push(("X-Gitlab-Token".into(), t.replace(['\r', '\n'], "")));
    }
    if let Some(secret) = &req.signing_secret {
        own.push(("webhook-id".into(), req.event_uuid.clone()));
        own.push(("webhook-timestamp".into(), now_unix.to_string()));
        own.push(("webhook-signature".into(), signature::sign(secret, &req.event_uuid, now_unix, &req.body)));
    }
    out.retain(|(k, _)| !own.iter().any(|(o, _)| o.eq_ignore_ascii_case(k)));
    out.extend(own);
    out
}

/// The request headers as logged: the token and custom header values hidden.
pub fn logged_headers(sent: &[(String, String)], custom: &[(String, String)]) -> Vec<(String, String)> {
    sent.iter()
        .map(|(k, v)| {
            let hidden = k.eq_ignore_ascii_case("X-Gitlab-Token")
                || custom.iter().any(|(c, _)| c.eq_ignore_ascii_case(k));
            (k.clone(), if hidden { "[REDACTED]".to_string() } else { v.clone() })
        })
        .collect()
}

/// Sends one attempt. Never fails: every problem is an [`Outcome`] without a status.
pub async fn send(req: &Request, limits: Limits) -> Outcome {
    let started = Instant::now();
    let now_unix = time::OffsetDateTime::now_utc().unix_timestamp();
    let sent = headers(req, now_unix);
    let mut outcome =
        Outcome { request_headers: logged_headers(&sent, &req.custom_headers), ..Outcome::default() };
    match attempt(req, &sent, limits, &mut outcome).await {
        Ok(()) => {}
        Err(e) => outcome.error = Some(e),
    }
    outcome.duration = started.elapsed().as_secs_f64();
    outcome
}

async fn attempt(
    req: &Request,
    sent: &[(String, String)],
    limits: Limits,
    out: &mut Outcome,
) -> Result<(), String> {
    let url = ssrf::parse(&req.url).map_err(|e| e.to_string())?;
    let check_url = url.clone();
    let allow = limits.allow_local_network;
    // DNS is blocking; the address checked is the address connected to (no rebinding between).
    let addr = crate::db::blocking(move || Ok(ssrf::resolve(&check_url, allow)))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let name = url.host_str().filter(|h| !h.starts_with('[') && h.parse::<std::net::IpAddr>().is_err());
    let client = client_for(name, addr, req.verify_tls, limits.timeout)?;
    let mut map = HeaderMap::new();
    for (k, v) in sent {
        if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
            map.append(name, value);
        }
    }
    let mut resp = client.post(url).headers(map).body(req.body.clone()).send().await.map_err(describe)?;
    out.status = Some(resp.status().as_u16());
    out.response_headers = resp
        .headers()
        .iter()
        .take(MAX_RESPONSE_HEADERS)
        .map(|(k, v)| {
            let v = String::from_utf8_lossy(v.as_bytes());
            (k.as_str().to_string(), v.chars().take(MAX_RESPONSE_HEADER_LEN).collect())
        })
        .collect();
    let mut body = Vec::new();
    while body.len() < MAX_RESPONSE_BODY {
        match resp.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => break,
            // The status is what counts; a body cut short is logged as far as it came.
            Err(_) => break,
        }
    }
    body.truncate(MAX_RESPONSE_BODY);
    out.response_body = String::from_utf8_lossy(&body).into_owned();
    Ok(())
}

/// Clients kept for reuse (their connection pools save a TCP and TLS handshake per delivery),
/// keyed by everything they were built with: a client only ever connects to the address it was
/// built for, so reusing one never skips the SSRF check made before each attempt. The thread is
/// part of the key: each of actix's threads runs its own runtime, which owns the pooled connections.
type ClientKey = (std::thread::ThreadId, Option<String>, SocketAddr, bool, Duration);
static CLIENTS: OnceLock<Mutex<HashMap<ClientKey, reqwest::Client>>> = OnceLock::new();
/// Most clients kept; past it the cache starts over.
const MAX_CLIENTS: usize = 256;

fn client_for(
    name: Option<&str>,
    addr: SocketAddr,
    verify_tls: bool,
    timeout: Duration,
) -> Result<reqwest::Client, String> {
    let key: ClientKey = (std::thread::current().id(), name.map(str::to_string), addr, verify_tls, timeout);
    let cache = CLIENTS.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(c) = cache.lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
        return Ok(c.clone());
    }
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .connect_timeout(timeout)
        .no_proxy()
        // `X-Gitlab-Event`, as GitLab writes it, rather than hyper's lower case, for receivers
        // that compare header names by case.
        .http1_title_case_headers()
        .danger_accept_invalid_certs(!verify_tls);
    if let Some(host) = name {
        // Connect to the checked address, whatever DNS says by now (no rebinding).
        builder = builder.resolve(host, addr);
    }
    let client = builder.build().map_err(|e| format!("client: {e}"))?;
    let mut map = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if map.len() >= MAX_CLIENTS {
        map.clear();
    }
    map.insert(key, client.clone());
    Ok(client)
}

fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "Net::ReadTimeout: the receiver did not answer in time".into()
    } else if e.is_connect() {
        "connection refused or unreachable".into()
    } else {
        format!("request failed: {e}")
    }
}
