//! Settings › Webhooks over HTTP: the list with events, state and recent deliveries, the add
//! form through the API's handler (its URL rules included), the signing secret shown once, Test
//! and delete with confirmation, for Maintainers only.

use crate::helpers::*;
use crate::runner_protocol::setup_ci_with;
use crate::web_support::*;
use crate::webhook_receiver::Receiver;
use crate::webhooks::{ONE_JOB, fast_hooks};

const HOOKS: &str = "/owner/demo/-/hooks";

fn add_form(page: &str, url: &str, extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, String)> {
    let mut form = vec![
        ("_csrf", hidden(page, "_csrf")),
        ("nonce", hidden(page, "nonce")),
        ("url", url.to_string()),
        ("pipeline_events", "true".to_string()),
        ("enable_ssl_verification", "true".to_string()),
    ];
    form.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    form
}

fn pairs<'a>(form: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn hook_id(app: &TestApp) -> i64 {
    app.db().query_row("SELECT MAX(id) FROM project_hooks", [], |r| r.get(0)).unwrap()
}

#[test]
fn a_maintainer_adds_a_webhook_tests_it_and_sees_the_delivery_with_its_event_uuid() {
    let s = setup_ci_with(ONE_JOB, fast_hooks);
    let rx = Receiver::start();
    let b = Browser::sign_in(&s.app, &s.r.maintainer);
    let empty = b.page(HOOKS, 200);
    assert!(empty.contains("No webhooks yet."));
    let form = add_form(&empty, &rx.url, &[("token", "shh")]);
    let resp = b.post(HOOKS, &pairs(&form));
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), format!("{HOOKS}?flash=hook_added"));
    let id = hook_id(&s.app);
    let list = b.page(HOOKS, 200);
    assert!(list.contains(&rx.url) && list.contains("Pipeline events") && list.contains(">enabled<"));
    assert!(!list.contains("shh"), "the secret token is never shown");
    assert!(list.contains("No deliveries yet."));

    let csrf = hidden(&list, "_csrf");
    let tested = b.post(&format!("{HOOKS}/{id}/test"), &[("_csrf", &csrf)]);
    assert_eq!(location(&tested), format!("{HOOKS}?flash=hook_test_no_pipeline"));
    s.trigger(serde_json::json!({}));
    let tested = b.post(&format!("{HOOKS}/{id}/test"), &[("_csrf", &csrf)]);
    assert_eq!(location(&tested), format!("{HOOKS}?flash=hook_tested"));
    assert!(b.page(&format!("{HOOKS}?flash=hook_tested"), 200).contains("Hook executed successfully"));
    // The test call's delivery, and the pipeline's own (sent in the background), are listed
    // once logged.
    let got = rx.received();
    assert!(got.iter().all(|g| g.header("x-gitlab-token") == "shh"));
    let uuids: Vec<String> = got.iter().map(|g| g.header("x-gitlab-event-uuid").to_string()).collect();
    let mut list = String::new();
    for _ in 0..100 {
        list = b.page(HOOKS, 200);
        if uuids.iter().all(|u| list.contains(u.as_str())) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(uuids.iter().all(|u| list.contains(u.as_str())), "every delivery is listed: {uuids:?}");
    assert!(list.contains(">200<"));
}

#[test]
fn a_signing_secret_is_shown_once_and_a_replayed_form_adds_nothing() {
    let s = setup_ci_with(ONE_JOB, fast_hooks);
    let b = Browser::sign_in(&s.app, &s.r.maintainer);
    let page = b.page(HOOKS, 200);
    let form = add_form(&page, "https://hooks.example.com/signed", &[("generate_signing_token", "true")]);
    let resp = b.post(HOOKS, &pairs(&form));
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers().get("cache-control").unwrap(), "no-store");
    let html = resp.text().unwrap();
    let secret = hidden_value(&html, "signing-token");
    assert!(secret.starts_with("whsec_"), "{secret}");
    let replay = b.post(HOOKS, &pairs(&form));
    assert_eq!(replay.status(), 409);
    assert!(!replay.text().unwrap().contains(&secret));
    assert_eq!(s.app.count("project_hooks"), 1);
    let list = b.page(HOOKS, 200);
    assert!(list.contains("signed") && !list.contains(&secret));
}

/// The `value` of the input with this id.
fn hidden_value(html: &str, id: &str) -> String {
    let at = html.find(&format!("id=\"{id}\"")).unwrap();
    let rest = &html[at..];
    let start = rest.find("value=\"").unwrap() + 7;
    rest[start..start + rest[start..].find('"').unwrap()].to_string()
}

#[test]
fn a_url_the_api_refuses_comes_back_with_its_message_and_adds_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let b = Browser::sign_in(&app, &r.maintainer);
    let huge = format!("https://hooks.example.com/{}", "a".repeat(10_000));
    for url in ["http://127.0.0.1:9/hook", "not a url", "", "javascript:alert(1)", huge.as_str()] {
        let page = b.page(HOOKS, 200);
        let form = add_form(&page, url, &[]);
        let resp = b.post(HOOKS, &pairs(&form));
        assert_eq!(resp.status(), 422, "{url}");
        let html = resp.text().unwrap();
        assert!(html.contains("role=\"alert\""), "{url}");
    }
    assert_eq!(app.count("project_hooks"), 0);
}

#[test]
fn deleting_asks_first_and_only_maintainers_reach_the_webhooks() {
    let s = setup_ci_with(ONE_JOB, fast_hooks);
    let b = Browser::sign_in(&s.app, &s.r.maintainer);
    let page = b.page(HOOKS, 200);
    assert_eq!(b.post(HOOKS, &pairs(&add_form(&page, "https://hooks.example.com/x", &[]))).status(), 303);
    let id = hook_id(&s.app);
    for user in [&s.r.developer, &s.r.reporter, &s.r.non_member] {
        let other = Browser::sign_in(&s.app, user);
        assert_eq!(other.get(HOOKS).status(), 404, "{}", user.username);
        let csrf = other.csrf("/dashboard/projects");
        let delete = other.post(&format!("{HOOKS}/{id}/delete"), &[("_csrf", &csrf), ("confirm", "1")]);
        assert_eq!(delete.status(), 404, "{}", user.username);
    }
    let csrf = hidden(&page, "_csrf");
    for bad in ["999999", "x", "99999999999999999999"] {
        let resp = b.post(&format!("{HOOKS}/{bad}/delete"), &[("_csrf", &csrf), ("confirm", "1")]);
        assert_eq!(resp.status(), 404, "{bad}");
    }
    let ask = b.post(&format!("{HOOKS}/{id}/delete"), &[("_csrf", &csrf), ("confirm", "0")]);
    assert_eq!(ask.status(), 200);
    assert!(ask.text().unwrap().contains("Delete webhook?"));
    assert_eq!(s.app.count("project_hooks"), 1);
    let gone = b.post(&format!("{HOOKS}/{id}/delete"), &[("_csrf", &csrf), ("confirm", "1")]);
    assert_eq!(location(&gone), format!("{HOOKS}?flash=hook_removed"));
    assert_eq!(s.app.count("project_hooks"), 0);
    let no_csrf = b.post(&format!("{HOOKS}/{id}/delete"), &[("confirm", "1")]);
    assert_ne!(no_csrf.status(), 200);
}
