//! Trigger token lifetimes (issue 14, point 4): the instance's default `expires_at` and maximum
//! lifetime (`triggers.default_lifetime_days`, `triggers.max_lifetime_days`), and GitLab's
//! `expires_soon` flag on the trigger JSON.

use serde_json::{Value, json};

use crate::helpers::*;

fn date_in(days: i64) -> String {
    triggerd::model::format_date(triggerd::model::today().saturating_add(time::Duration::days(days)))
}

fn create(app: &TestApp, roles: &Roles, body: Value) -> reqwest::blocking::Response {
    app.post_json(&format!("/projects/{}/triggers", roles.project_id), Some(&roles.maintainer.token), &body)
}

#[test]
fn a_token_created_without_expires_at_gets_the_instance_default() {
    let app = spawn_app_with(|c| c.triggers.default_lifetime_days = 30);
    let roles = app.roles();
    let body = json_of(create(&app, &roles, json!({"description": "bot"})), 201);
    assert_eq!(body["expires_at"], format!("{}T00:00:00.000Z", date_in(30)));
    assert_eq!(body["expires_soon"], false);
    // An explicit date still wins.
    let body = json_of(create(&app, &roles, json!({"description": "bot", "expires_at": date_in(3)})), 201);
    assert_eq!(body["expires_at"], format!("{}T00:00:00.000Z", date_in(3)));
    assert_eq!(body["expires_soon"], true);
}

#[test]
fn without_a_default_a_token_never_expires() {
    let app = spawn_app();
    let roles = app.roles();
    let body = json_of(create(&app, &roles, json!({"description": "bot"})), 201);
    assert_eq!(body["expires_at"], Value::Null);
    assert_eq!(body["expires_soon"], false);
}

#[test]
fn an_expires_at_beyond_the_configured_maximum_is_a_400_and_creates_nothing() {
    let app = spawn_app_with(|c| c.triggers.max_lifetime_days = 30);
    let roles = app.roles();
    let before = app.count("triggers");
    let resp = create(&app, &roles, json!({"description": "bot", "expires_at": date_in(30)}));
    let body = json_of(resp, 400);
    let expected = json!({"expires_at": [format!("must be before {}", date_in(30))]}).to_string();
    assert_eq!(body["message"], format!("400 Bad request - {expected}"));
    assert_eq!(app.count("triggers"), before);
    assert_eq!(create(&app, &roles, json!({"description": "bot", "expires_at": date_in(29)})).status(), 201);
}

#[test]
fn expires_soon_is_true_within_seven_days_and_for_an_expired_token() {
    let app = spawn_app();
    let roles = app.roles();
    let pid = roles.project_id;
    let at =
        |days: i64| triggerd::model::format_ts(time::OffsetDateTime::now_utc() + time::Duration::days(days));
    for (days, soon) in [(3, true), (-1, true), (30, false)] {
        let t = app.seed_trigger_expiring(pid, &roles.maintainer, "t", Some(&at(days)));
        let path = format!("/projects/{pid}/triggers/{}", t.id);
        let body = json_of(app.get(&path, Some(&roles.maintainer.token)), 200);
        assert_eq!(body["expires_soon"], soon, "{days} days");
    }
}
