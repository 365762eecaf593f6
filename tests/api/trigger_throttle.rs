//! Throttled probing (issue 14, point 8): failed trigger calls (unknown, expired or revoked
//! token) are counted per client address in memory; past `triggers.max_failed_attempts` within
//! the window the address gets 429 with `Retry-After`, while other addresses keep triggering.

use std::net::{IpAddr, Ipv4Addr};

use reqwest::Method;
use reqwest::blocking::{Client, Response};
use serde_json::json;

use crate::helpers::*;

const BAD_TOKEN: &str = "glptt-0000000000000000000000000000";

struct Fixture {
    app: TestApp,
    roles: Roles,
    pid: i64,
    token: String,
}

fn fixture(max: u32, header: &str) -> Fixture {
    let header = header.to_string();
    let app = spawn_app_with(move |c| {
        c.triggers.max_failed_attempts = max;
        c.triggers.failed_attempts_window_secs = 3600;
        c.server.client_address_header = header;
    });
    let roles = app.roles();
    let pid = roles.project_id;
    app.seed_ref(pid, "branch", "main");
    let token = app.seed_trigger(pid, &roles.maintainer, "bot").token;
    Fixture { app, roles, pid, token }
}

impl Fixture {
    fn call(&self, token: &str, forwarded_for: Option<&str>) -> Response {
        let rb = self.app.request(Method::POST, &format!("/projects/{}/trigger/pipeline", self.pid), None);
        let rb = match forwarded_for {
            Some(a) => rb.header("X-Forwarded-For", a),
            None => rb,
        };
        rb.json(&json!({"ref": "main", "token": token})).send().unwrap()
    }
}

fn retry_after(resp: &Response) -> u64 {
    resp.headers()["retry-after"].to_str().unwrap().parse().unwrap()
}

#[test]
fn an_address_past_its_failed_attempts_gets_429_with_retry_after_and_creates_nothing() {
    let f = fixture(3, "");
    for _ in 0..3 {
        assert_eq!(f.call(BAD_TOKEN, None).status(), 404);
    }
    let resp = f.call(BAD_TOKEN, None);
    assert_eq!(resp.status(), 429);
    let seconds = retry_after(&resp);
    assert!((1..=3600).contains(&seconds), "{seconds}");
    let body = json_of(resp, 429);
    assert_eq!(body["message"], "429 Too Many Requests - too many failed trigger attempts from this address");
    // The whole address waits, valid tokens included: the check runs before the token is read.
    assert_eq!(f.call(&f.token, None).status(), 429);
    assert_eq!(f.app.count("pipelines"), 0);
}

#[test]
fn another_address_keeps_triggering_while_one_is_throttled() {
    let f = fixture(2, "");
    for _ in 0..5 {
        f.call(BAD_TOKEN, None);
    }
    assert_eq!(f.call(BAD_TOKEN, None).status(), 429);
    let other = Client::builder().local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))).build().unwrap();
    let url = f.app.api(&format!("/projects/{}/trigger/pipeline", f.pid));
    let resp = other.post(&url).json(&json!({"ref": "main", "token": f.token})).send().unwrap();
    assert_eq!(resp.status(), 201);
}

#[test]
fn a_configured_proxy_header_names_the_address_and_is_ignored_otherwise() {
    let f = fixture(2, "X-Forwarded-For");
    for _ in 0..2 {
        assert_eq!(f.call(BAD_TOKEN, Some("203.0.113.9, 192.0.2.1")).status(), 404);
    }
    assert_eq!(f.call(BAD_TOKEN, Some("192.0.2.1")).status(), 429);
    assert_eq!(f.call(&f.token, Some("192.0.2.2")).status(), 201);

    let plain = fixture(2, "");
    for addr in ["192.0.2.1", "192.0.2.2"] {
        assert_eq!(plain.call(BAD_TOKEN, Some(addr)).status(), 404);
    }
    // Without the setting the header is the client's word only: the peer address counts.
    assert_eq!(plain.call(BAD_TOKEN, Some("192.0.2.3")).status(), 429);
}

#[test]
fn accepted_calls_and_refusals_of_a_valid_token_do_not_count() {
    let f = fixture(2, "");
    for _ in 0..4 {
        assert_eq!(f.call(&f.token, None).status(), 201);
    }
    let no_ref = f
        .app
        .request(Method::POST, &format!("/projects/{}/trigger/pipeline", f.pid), None)
        .json(&json!({"ref": "nowhere", "token": f.token}))
        .send()
        .unwrap();
    assert_eq!(no_ref.status(), 400);
    assert_eq!(f.call(BAD_TOKEN, None).status(), 404);
    assert_eq!(f.call(&f.token, None).status(), 201);
}

#[test]
fn zero_failed_attempts_is_no_limit() {
    let f = fixture(0, "");
    for _ in 0..30 {
        assert_eq!(f.call(BAD_TOKEN, None).status(), 404);
    }
    assert_eq!(f.call(&f.token, None).status(), 201);
}

#[test]
fn an_expired_token_counts_as_a_failed_attempt() {
    let f = fixture(1, "");
    let expired =
        f.app.seed_trigger_expiring(f.pid, &f.roles.maintainer, "old", Some("2001-01-01T00:00:00.000Z"));
    assert_eq!(f.call(&expired.token, None).status(), 404);
    assert_eq!(f.call(&f.token, None).status(), 429);
}
