//! A trigger token's audit log in the web UI: the recorded calls on
//! `/-/triggers/:id/events` (Maintainer+, paginated, newest first, with the pipeline link) and
//! the unknown-token counts on Settings › CI/CD.

use crate::helpers::*;
use crate::web_support::*;

fn call(app: &TestApp, project_id: i64, token: &str, ref_name: &str) -> u16 {
    app.client
        .post(app.api(&format!("/projects/{project_id}/trigger/pipeline")))
        .form(&[("token", token), ("ref", ref_name)])
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn the_audit_log_page_lists_a_tokens_calls_newest_first_with_outcome_reason_and_pipeline_link() {
    let app = spawn_app();
    let r = app.roles();
    add_ci_config(&app, &r);
    let trigger = app.seed_trigger(r.project_id, &r.owner, "deploy");
    assert_eq!(call(&app, r.project_id, &trigger.token, "main"), 201);
    assert_eq!(call(&app, r.project_id, &trigger.token, "nowhere"), 400);
    let pipeline_id: i64 = app.db().query_row("SELECT MAX(id) FROM pipelines", [], |row| row.get(0)).unwrap();
    let b = Browser::sign_in(&app, &r.maintainer);
    let settings = b.page("/owner/demo/-/settings/ci_cd", 200);
    let link = format!("/owner/demo/-/triggers/{}/events", trigger.id);
    assert!(settings.contains(&format!("href=\"{link}\"")), "the token row links its audit log");
    let html = b.page(&link, 200);
    assert!(html.contains("2 recorded."));
    let rejected = html.find("badge bad\">rejected").unwrap();
    let accepted = html.find("badge ok\">accepted").unwrap();
    assert!(rejected < accepted, "newest first");
    assert!(html.contains("nowhere"));
    assert!(html.contains("127.0.0.1"));
    assert!(html.contains(&format!("href=\"/owner/demo/-/pipelines/{pipeline_id}\"")));
    assert!(tokens_in(&html).is_empty(), "the page never shows the token");
}

#[test]
fn the_audit_log_is_paginated_by_fifty() {
    let app = spawn_app();
    let r = app.roles();
    let trigger = app.seed_trigger(r.project_id, &r.owner, "deploy");
    {
        // Dated now: the retention sweep, which runs when the server starts, must not race the
        // test for rows older than `triggers.events_retention_days`.
        let conn = app.db();
        let now = triggerd::model::now();
        for i in 0..51 {
            conn.execute(
                "INSERT INTO trigger_events (trigger_id, created_at, client_address, ref, outcome, status)
                 VALUES (?1, ?3, '10.0.0.1', ?2, 'rejected', 400)",
                rusqlite::params![trigger.id, format!("ref-{i:02}"), now],
            )
            .unwrap();
        }
    }
    let b = Browser::sign_in(&app, &r.maintainer);
    let link = format!("/owner/demo/-/triggers/{}/events", trigger.id);
    let first = b.page(&link, 200);
    assert!(first.contains("ref-50") && !first.contains("ref-00"));
    assert!(first.contains(&format!("href=\"{link}?page=2\"")));
    let second = b.page(&format!("{link}?page=2"), 200);
    assert!(second.contains("ref-00") && !second.contains("ref-50"));
    for bad in ["0", "-1", "x", "99999999999999"] {
        assert_eq!(b.get(&format!("{link}?page={bad}")).status(), 400, "{bad}");
    }
    assert!(b.page(&format!("{link}?page=100000"), 200).contains("No calls on this page."), "past the end");
}

#[test]
fn the_audit_log_is_for_maintainers_and_other_projects_ids_are_not_found() {
    let app = spawn_app();
    let r = app.roles();
    let trigger = app.seed_trigger(r.project_id, &r.owner, "deploy");
    let link = format!("/owner/demo/-/triggers/{}/events", trigger.id);
    for user in [&r.developer, &r.reporter, &r.non_member] {
        let b = Browser::sign_in(&app, user);
        assert_eq!(b.get(&link).status(), 404, "{}", user.username);
    }
    let b = Browser::sign_in(&app, &r.maintainer);
    for bad in ["999999", "x", "-1", "99999999999999999999999"] {
        assert_eq!(b.get(&format!("/owner/demo/-/triggers/{bad}/events")).status(), 404, "{bad}");
    }
    let anonymous = app.client.get(format!("{}{link}", app.address)).send().unwrap();
    assert!(!anonymous.text().unwrap().contains("Trigger token audit log"), "signed out sees no log");
}

#[test]
fn calls_with_unknown_tokens_are_counted_on_the_ci_cd_settings_page() {
    let app = spawn_app();
    let r = app.roles();
    add_ci_config(&app, &r);
    let b = Browser::sign_in(&app, &r.maintainer);
    let before = b.page("/owner/demo/-/settings/ci_cd", 200);
    assert!(before.contains("No calls with a token that is not a trigger token of this project."));
    let secret = "glptt-thisisnotatokenofthisproject00";
    for _ in 0..3 {
        assert_eq!(call(&app, r.project_id, secret, "main"), 404);
    }
    let after = b.page("/owner/demo/-/settings/ci_cd", 200);
    assert!(after.contains("Calls with unknown tokens"));
    assert!(after.contains("<td>3</td>"), "three attempts today");
    assert!(!after.contains(secret));
}
