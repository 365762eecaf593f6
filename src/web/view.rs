//! What templates show, computed in Rust: the page chrome, status badges, times, and rendering.

use actix_web::HttpResponse;
use actix_web::http::header;
use askama::Template;

use super::WebResult;
use crate::model;

/// The application version in asset URLs (`?v=`), so a new binary's CSS and JS are fetched anew.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the layout needs on every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub title: String,
    /// The signed-in user's username.
    pub user: Option<String>,
    /// The session's form token (empty when signed out).
    pub csrf: String,
    /// A message after a redirect (`?flash=`), from a fixed list.
    pub flash: Option<&'static str>,
    pub version: &'static str,
}

impl Chrome {
    pub fn anonymous(title: &str) -> Chrome {
        Chrome { title: title.into(), user: None, csrf: String::new(), flash: None, version: VERSION }
    }
}

/// The message a `?flash=` code stands for; unknown codes show nothing.
pub fn flash_message(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "trigger_removed" => "Trigger removed.",
        "hook_added" => "Webhook was created.",
        "hook_removed" => "Webhook was deleted.",
        "hook_tested" => "Hook executed successfully: HTTP 2xx.",
        "hook_test_failed" => "Hook execution failed: see the hook's recent deliveries.",
        "hook_test_no_pipeline" => "Hook execution failed. Ensure the project has CI pipelines.",
        "trigger_updated" => "Trigger was successfully updated.",
        "pipeline_canceled" => "Pipeline canceled.",
        "pipeline_retried" => "Pipeline retried.",
        "pipeline_deleted" => "The pipeline has been deleted.",
        "pat_revoked" => "The personal access token was revoked.",
        "runner_paused" => "Runner was paused.",
        "runner_resumed" => "Runner was resumed.",
        "signed_out" => "Signed out successfully.",
        _ => return None,
    })
}

/// The answer to a replayed form that would have shown a secret once (a reload of the page
/// that showed it): nothing is minted or shown again.
#[derive(Template)]
#[template(path = "token_replayed.html")]
pub struct ReplayedPage {
    pub chrome: Chrome,
    /// Where to go back to.
    pub back: String,
    pub back_label: &'static str,
}

/// A 200 HTML page.
pub fn render<T: Template>(page: &T) -> WebResult<HttpResponse> {
    render_with(actix_web::http::StatusCode::OK, page)
}

/// An HTML page with the given status.
pub fn render_with<T: Template>(status: actix_web::http::StatusCode, page: &T) -> WebResult<HttpResponse> {
    let body = page.render()?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// 303 to a path of this site.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location.to_string())).finish()
}

/// A `return_to` that stays on this site: a path starting with one `/` (not `//` or `/\`, which
/// browsers treat as another host), without control characters. Anything else gives `fallback`.
pub fn local_path(raw: Option<&str>, fallback: &str) -> String {
    match raw {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && p.len() <= 2048
                && !p.chars().any(char::is_control) =>
        {
            p.to_string()
        }
        _ => fallback.to_string(),
    }
}

/// Percent-encodes a query value.
pub fn query_escape(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A status badge: CSS class, a glyph and the word (never colour alone).
#[derive(Debug, Clone)]
pub struct Badge {
    pub class: &'static str,
    pub glyph: &'static str,
    pub text: String,
}

impl Badge {
    pub fn status(status: &str) -> Badge {
        let (class, glyph) = match status {
            "success" => ("ok", "✓"),
            "failed" => ("bad", "✕"),
            "running" => ("run", "▶"),
            "pending" | "waiting_for_resource" | "preparing" | "waiting_for_callback" | "scheduled" => {
                ("wait", "◷")
            }
            "canceled" | "canceling" => ("off", "⊘"),
            "manual" => ("off", "⚙"),
            _ => ("off", "○"),
        };
        Badge { class, glyph, text: status.replace('_', " ") }
    }
}

/// A time as the pages show it: the stored value for `<time datetime>`, and "3 minutes ago".
#[derive(Debug, Clone)]
pub struct When {
    pub iso: String,
    pub ago: String,
}

impl When {
    pub fn of(ts: &str) -> When {
        When { iso: ts.to_string(), ago: ago(ts) }
    }

    pub fn maybe(ts: Option<&str>) -> Option<When> {
        ts.map(When::of)
    }
}

/// "just now", "5 minutes ago", "in 3 days", … relative to now.
pub fn ago(ts: &str) -> String {
    let Some(t) = model::parse_stored(ts) else { return ts.to_string() };
    let secs = (time::OffsetDateTime::now_utc() - t).whole_seconds();
    let (n, future) = (secs.unsigned_abs(), secs < 0);
    let (amount, unit) = match n {
        0..60 => return "just now".into(),
        60..3600 => (n / 60, "minute"),
        3600..86_400 => (n / 3600, "hour"),
        86_400..2_592_000 => (n / 86_400, "day"),
        2_592_000..31_536_000 => (n / 2_592_000, "month"),
        _ => (n / 31_536_000, "year"),
    };
    let plural = if amount == 1 { "" } else { "s" };
    if future { format!("in {amount} {unit}{plural}") } else { format!("{amount} {unit}{plural} ago") }
}

/// A duration in seconds as "1m 05s".
pub fn duration(secs: Option<f64>) -> Option<String> {
    let s = secs?.max(0.0).round() as u64;
    Some(match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    })
}

/// The first 8 characters of a commit SHA.
pub fn short_sha(sha: &str) -> String {
    sha.chars().take(8).collect()
}

/// A job log as text: ANSI escape sequences (colours, cursor moves) removed, `\r\n` kept as lines.
pub fn plain_log(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                // Parameters and intermediates, then one final byte in @..~.
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            continue;
        }
        if c == '\r' {
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_stays_on_this_site() {
        assert_eq!(
            local_path(Some("/root/demo/-/pipelines?status=failed"), "/"),
            "/root/demo/-/pipelines?status=failed"
        );
        assert_eq!(local_path(Some("//evil.example/x"), "/"), "/");
        assert_eq!(local_path(Some("/\\evil.example"), "/"), "/");
        assert_eq!(local_path(Some("https://evil.example/"), "/"), "/");
        assert_eq!(local_path(Some("/a\nb"), "/"), "/");
        assert_eq!(local_path(None, "/dashboard/projects"), "/dashboard/projects");
    }

    #[test]
    fn a_log_loses_its_colour_codes_and_carriage_returns() {
        assert_eq!(plain_log(b"\x1b[32;1mok\x1b[0m\r\nnext\n"), "ok\nnext\n");
        assert_eq!(plain_log(b"half \x1b["), "half ");
    }

    #[test]
    fn durations_read_as_minutes_and_seconds() {
        assert_eq!(duration(Some(5.2)).as_deref(), Some("5s"));
        assert_eq!(duration(Some(65.0)).as_deref(), Some("1m 05s"));
        assert_eq!(duration(Some(3_700.0)).as_deref(), Some("1h 01m"));
        assert_eq!(duration(None), None);
    }

    #[test]
    fn every_status_badge_has_a_glyph_and_a_word() {
        for s in crate::api::pipelines::STATUSES {
            let b = Badge::status(s);
            assert!(!b.glyph.is_empty() && !b.text.is_empty(), "{s}");
        }
        assert_eq!(Badge::status("waiting_for_resource").text, "waiting for resource");
    }
}
