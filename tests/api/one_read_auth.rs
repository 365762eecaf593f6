//! The routes that resolve the credential, the project and the caller's level in one read
//! (`GET /projects/:id/triggers`, `…/triggers/:trigger_id`, `…/pipelines`,
//! `…/pipelines/:pipeline_id`): nothing is cached, so a revocation, a block or a removal is
//! refused on the very next request, and the errors keep GitLab's order.

use crate::helpers::*;
use serde_json::json;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

#[test]
fn a_revoked_token_a_blocked_user_and_a_removed_member_are_refused_on_the_next_request() {
    let app = spawn_app();
    let r = app.roles();
    let pid = r.project_id;
    let pipeline = app.seed_pipeline(pid, Some(r.owner.id), "main", SHA);
    let trigger = app.seed_trigger(pid, &r.owner, "t");
    let (triggers, one_trigger) =
        (format!("/projects/{pid}/triggers"), format!("/projects/{pid}/triggers/{}", trigger.id));
    let (pipelines, one_pipeline) =
        (format!("/projects/{pid}/pipelines"), format!("/projects/{pid}/pipelines/{pipeline}"));

    // A spare token of the maintainer works, then is revoked: 401 at once.
    let (spare_id, spare) = app.seed_token_row(r.maintainer.id, &["api"], None, false);
    for path in [&triggers, &one_trigger, &pipelines, &one_pipeline] {
        assert_eq!(app.get(path, Some(&spare)).status(), 200, "{path}");
    }
    assert_eq!(app.delete(&format!("/personal_access_tokens/{spare_id}"), Some(ROOT_TOKEN)).status(), 204);
    for path in [&triggers, &one_trigger, &pipelines, &one_pipeline] {
        let body = assert_error(app.get(path, Some(&spare)), 401, "error", json!("invalid_token"));
        assert_eq!(body["error_description"], "Token was revoked. You have to re-authorize from the user.");
    }

    // The developer reads pipelines, is blocked: 401 at once.
    assert_eq!(app.get(&one_pipeline, Some(&r.developer.token)).status(), 200);
    assert_eq!(
        app.post_json(&format!("/users/{}/block", r.developer.id), Some(ROOT_TOKEN), &json!({})).status(),
        201
    );
    for path in [&pipelines, &one_pipeline] {
        assert_error(app.get(path, Some(&r.developer.token)), 401, "message", json!("401 Unauthorized"));
    }

    // The maintainer manages triggers, is removed from the (private) project: 404 at once.
    assert_eq!(app.get(&triggers, Some(&r.maintainer.token)).status(), 200);
    let removal = format!("/projects/{pid}/members/{}", r.maintainer.id);
    assert_eq!(app.delete(&removal, Some(&r.owner.token)).status(), 204);
    for path in [&triggers, &one_trigger, &pipelines, &one_pipeline] {
        assert_error(
            app.get(path, Some(&r.maintainer.token)),
            404,
            "message",
            json!("404 Project Not Found"),
        );
    }

    // A reporter sees the pipelines, not the triggers (Maintainer+).
    assert_eq!(app.get(&pipelines, Some(&r.reporter.token)).status(), 200);
    assert_error(app.get(&triggers, Some(&r.reporter.token)), 403, "message", json!("403 Forbidden"));
}

#[test]
fn the_one_read_routes_refuse_the_credential_before_the_parameters_and_the_parameters_before_the_project() {
    let app = spawn_app();
    let r = app.roles();
    let pid = r.project_id;
    // Anonymous: triggers need a user; a private project's pipelines are hidden.
    assert_error(
        app.get(&format!("/projects/{pid}/triggers"), None),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    assert_error(
        app.get(&format!("/projects/{pid}/pipelines"), None),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    // An unknown token is 401 even with an invalid filter on a project that does not exist.
    let bad_filter = "/projects/999999/pipelines?scope=nonsense";
    assert_error(
        app.get(bad_filter, Some("glpat-unknownunknownunknown")),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    // A valid token: the filter's 400 before the project's 404.
    assert_eq!(app.get(bad_filter, Some(&r.owner.token)).status(), 400);
    assert_error(
        app.get("/projects/999999/pipelines", Some(&r.owner.token)),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    // A non-numeric pipeline id after the credential, an unknown one after the project.
    assert_error(
        app.get(&format!("/projects/{pid}/pipelines/x"), Some("glpat-unknownunknownunknown")),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    assert_error(
        app.get(&format!("/projects/{pid}/pipelines/x"), Some(&r.owner.token)),
        400,
        "error",
        json!("pipeline_id is invalid"),
    );
    assert_error(
        app.get(&format!("/projects/{pid}/pipelines/424242"), Some(&r.owner.token)),
        404,
        "message",
        json!("404 Not found"),
    );
    assert_error(
        app.get(&format!("/projects/{pid}/pipelines/424242"), Some(&r.non_member.token)),
        404,
        "message",
        json!("404 Project Not Found"),
    );
}
