//! The pipeline pages over HTTP: every `web_url` of a triggered pipeline, what a Reporter sees,
//! cancel, Delete for Owners (after a confirmation, through the API's rules) and the table alone
//! for the list's live refresh.

use crate::helpers::*;
use crate::web_support::*;

#[test]
fn an_owner_deletes_a_pipeline_after_confirming_and_a_maintainer_gets_404() {
    let app = spawn_app();
    let r = app.roles();
    let id = app.seed_pipeline(r.project_id, Some(r.owner.id), "main", &"c".repeat(40));
    let page = format!("/owner/demo/-/pipelines/{id}");
    let delete = format!("{page}/delete");

    let maintainer = Browser::sign_in(&app, &r.maintainer);
    let html = maintainer.page(&page, 200);
    assert!(!html.contains(&delete), "no Delete button below Owner");
    let csrf = hidden(&html, "_csrf");
    assert_eq!(maintainer.post(&delete, &[("_csrf", &csrf), ("confirm", "1")]).status(), 404);
    assert_eq!(app.count("pipelines"), 1);

    let owner = Browser::sign_in(&app, &r.owner);
    let html = owner.page(&page, 200);
    assert!(html.contains(&delete));
    let csrf = hidden(&html, "_csrf");
    let ask = owner.post(&delete, &[("_csrf", &csrf), ("confirm", "0")]);
    assert_eq!(ask.status(), 200);
    assert!(ask.text().unwrap().contains(&format!("Delete pipeline #{id}?")));
    assert_eq!(app.count("pipelines"), 1, "asking deletes nothing");
    assert_eq!(owner.post(&delete, &[("_csrf", "forged"), ("confirm", "1")]).status(), 422);

    let done = owner.post(&delete, &[("_csrf", &csrf), ("confirm", "1")]);
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), "/owner/demo/-/pipelines?flash=pipeline_deleted");
    assert!(owner.page(&location(&done), 200).contains("The pipeline has been deleted."));
    assert_eq!(app.count("pipelines"), 0);
    assert_eq!(
        app.get(&format!("/projects/{}/pipelines/{id}", r.project_id), Some(&r.owner.token)).status(),
        404
    );
    assert_eq!(owner.post(&delete, &[("_csrf", &csrf), ("confirm", "1")]).status(), 404, "already gone");
    assert_eq!(
        owner.post("/owner/demo/-/pipelines/x/delete", &[("_csrf", &csrf), ("confirm", "1")]).status(),
        404
    );
}

#[test]
fn the_list_table_comes_alone_for_the_refresh_and_is_followed_only_while_a_pipeline_may_change() {
    let app = spawn_app();
    let r = app.roles();
    let id = app.seed_pipeline(r.project_id, Some(r.owner.id), "main", &"d".repeat(40));
    let b = Browser::sign_in(&app, &r.reporter);
    let page = b.page("/owner/demo/-/pipelines", 200);
    assert!(page.contains("<div id=\"pipelines-live\" data-follow>"));
    let resp = b.get("/owner/demo/-/pipelines?status=created&fragment=table");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().get("cache-control").unwrap(), "no-store");
    assert!(resp.headers().get("content-security-policy").is_some());
    let fragment = resp.text().unwrap();
    assert!(fragment.starts_with("<div id=\"pipelines-live\" data-follow>"), "{fragment}");
    assert!(!fragment.contains("<html") && fragment.contains(&format!("#{id}")));

    app.db().execute("UPDATE pipelines SET status = 'success' WHERE id = ?1", [id]).unwrap();
    let fragment = b.page("/owner/demo/-/pipelines?fragment=table", 200);
    assert!(fragment.starts_with("<div id=\"pipelines-live\">"), "nothing left to follow");
    // The fragment keeps the list's rules: bad filters are 400, a visitor signs in first.
    assert_eq!(b.get("/owner/demo/-/pipelines?fragment=table&status=bogus").status(), 400);
    assert_eq!(Browser::new(&app).get("/owner/demo/-/pipelines?fragment=table").status(), 303);
}

#[test]
fn a_reporter_sees_pipelines_but_no_settings_and_no_variables() {
    let app = spawn_app();
    let r = app.roles();
    let pipeline = app.seed_pipeline(r.project_id, Some(r.owner.id), "main", &"a".repeat(40));
    let reporter = Browser::sign_in(&app, &r.reporter);
    assert_eq!(reporter.get("/owner/demo/-/settings/ci_cd").status(), 404);
    let page = reporter.page(&format!("/owner/demo/-/pipelines/{pipeline}"), 200);
    assert!(!page.contains("TRIGGER_PAYLOAD") && !page.contains("Variables"));
    assert!(!page.contains("/cancel"), "a Reporter gets no cancel button");
    let csrf = reporter.csrf("/owner/demo/-/pipelines");
    let resp = reporter
        .post(&format!("/owner/demo/-/pipelines/{pipeline}/cancel"), &[("_csrf", &csrf), ("confirm", "1")]);
    assert_eq!(resp.status(), 404);
    assert_eq!(app.pipeline_status(pipeline), "created");
    let maintainer = Browser::sign_in(&app, &r.maintainer);
    let page = maintainer.page(&format!("/owner/demo/-/pipelines/{pipeline}"), 200);
    assert!(page.contains("TRIGGER_PAYLOAD") && page.contains("••••••"));
    assert!(maintainer.page("/owner/demo/-/settings/ci_cd", 200).contains("Add new pipeline trigger token"));
}

#[test]
fn every_web_url_of_a_triggered_pipeline_opens_its_page() {
    let app = spawn_app();
    let r = app.roles();
    add_ci_config(&app, &r);
    let trigger = app.seed_trigger(r.project_id, &r.owner, "from ci");
    let created = app
        .client
        .post(app.api(&format!("/projects/{}/trigger/pipeline", r.project_id)))
        .form(&[("token", trigger.token.as_str()), ("ref", "main"), ("variables[GREETING]", "hello")])
        .send()
        .unwrap();
    let pipeline = json_of(created, 201);
    let b = Browser::sign_in(&app, &r.developer);
    let open = |url: &str| {
        let path = url.strip_prefix(&app.address).unwrap_or_else(|| panic!("{url}"));
        b.page(path, 200)
    };
    let page = open(pipeline["web_url"].as_str().unwrap());
    assert!(page.contains(&format!("Pipeline #{}", pipeline["id"])));
    assert!(page.contains("from ci"), "the trigger token's description is shown");
    assert!(page.contains("build") && page.contains("test"));
    let jobs = json_of(
        app.get(
            &format!("/projects/{}/pipelines/{}/jobs", r.project_id, pipeline["id"]),
            Some(&r.owner.token),
        ),
        200,
    );
    for job in jobs.as_array().unwrap() {
        assert!(open(job["web_url"].as_str().unwrap()).contains(job["name"].as_str().unwrap()));
    }
    let project = json_of(app.get(&format!("/projects/{}", r.project_id), Some(&r.owner.token)), 200);
    assert!(open(project["web_url"].as_str().unwrap()).contains(&format!(">{}<", r.project_id)));
    let namespace = open(project["namespace"]["web_url"].as_str().unwrap());
    assert!(namespace.contains("owner/demo"), "the namespace's page lists the project");
    assert!(open(pipeline["user"]["web_url"].as_str().unwrap()).contains("@owner"));
    let commit = json_of(
        app.get(&format!("/projects/{}/repository/commits/main", r.project_id), Some(&r.owner.token)),
        200,
    );
    let page = open(commit["web_url"].as_str().unwrap());
    assert!(page.contains(commit["id"].as_str().unwrap()) && page.contains(&format!("#{}", pipeline["id"])));
    let branch = json_of(
        app.get(&format!("/projects/{}/repository/branches/main", r.project_id), Some(&r.owner.token)),
        200,
    );
    let tree = b.get(branch["web_url"].as_str().unwrap().strip_prefix(&app.address).unwrap());
    assert_eq!(tree.status(), 303);
    assert_eq!(location(&tree), "/owner/demo/-/pipelines?ref=main");
    let list = b.page("/owner/demo/-/pipelines?source=trigger", 200);
    assert!(list.contains(&format!("#{}", pipeline["id"])) && list.contains("trigger token"));
    assert!(b.page("/dashboard/projects", 200).contains("owner/demo"));
}

#[test]
fn cancel_asks_first_then_stops_the_pipeline_and_returns_to_the_filtered_list() {
    let app = spawn_app();
    let r = app.roles();
    add_ci_config(&app, &r);
    let trigger = app.seed_trigger(r.project_id, &r.owner, "t");
    let created = app
        .client
        .post(app.api(&format!("/projects/{}/trigger/pipeline", r.project_id)))
        .form(&[("token", trigger.token.as_str()), ("ref", "main")])
        .send()
        .unwrap();
    let id = json_of(created, 201)["id"].as_i64().unwrap();
    let b = Browser::sign_in(&app, &r.developer);
    let list = b.page("/owner/demo/-/pipelines?status=pending", 200);
    let csrf = hidden(&list, "_csrf");
    let return_to = "/owner/demo/-/pipelines?status=pending";
    let path = format!("/owner/demo/-/pipelines/{id}/cancel");
    let ask = b.post(&path, &[("_csrf", &csrf), ("return_to", return_to), ("confirm", "0")]);
    assert_eq!(ask.status(), 200);
    assert!(ask.text().unwrap().contains(&format!("Stop pipeline #{id}?")));
    assert_eq!(app.pipeline_status(id), "pending");
    let done = b.post(&path, &[("_csrf", &csrf), ("return_to", return_to), ("confirm", "1")]);
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), format!("{return_to}&flash=pipeline_canceled"));
    assert_eq!(app.pipeline_status(id), "canceled");
    let page = b.page(&format!("/owner/demo/-/pipelines/{id}"), 200);
    assert!(page.contains("Status: canceled"));
    let retry = b.post(&format!("/owner/demo/-/pipelines/{id}/retry"), &[("_csrf", &csrf)]);
    assert_eq!(retry.status(), 303);
    assert_ne!(app.pipeline_status(id), "canceled");
}

#[test]
fn the_pipeline_page_shows_external_jobs_with_their_link_and_description_and_bridges_beside_builds() {
    let app = spawn_app();
    let r = app.roles();
    let resp = app.post_json(
        &format!("/projects/{}/repository/files/.gitlab-ci.yml", r.project_id),
        Some(&r.owner.token),
        &serde_json::json!({"branch": "main", "commit_message": "ci", "content":
            "build:\n  stage: build\n  script: [make]\ndownstream:\n  stage: test\n  trigger:\n    project: owner/elsewhere\n"}),
    );
    assert_eq!(resp.status(), 201, "{}", resp.text().unwrap());
    let trigger = app.seed_trigger(r.project_id, &r.owner, "ci");
    let created = app
        .client
        .post(app.api(&format!("/projects/{}/trigger/pipeline", r.project_id)))
        .form(&[("token", trigger.token.as_str()), ("ref", "main")])
        .send()
        .unwrap();
    let pipeline = json_of(created, 201);
    let (pid, sha) = (pipeline["id"].as_i64().unwrap(), pipeline["sha"].as_str().unwrap().to_string());
    let status = crate::commit_statuses::posted(
        &app,
        r.project_id,
        &sha,
        &r.developer.token,
        serde_json::json!({"state": "running", "name": "lint", "pipeline_id": pid,
            "target_url": "https://ci.example/builds/7", "description": "lint is running"}),
    );
    assert_eq!(status["pipeline_id"].as_i64(), Some(pid));
    let b = Browser::sign_in(&app, &r.reporter);
    let page = b.page(&format!("/owner/demo/-/pipelines/{pid}"), 200);
    assert!(page.contains(">external</h3>"), "the external stage");
    assert!(
        page.contains(
            "<a href=\"https://ci.example/builds/7\" rel=\"noopener noreferrer nofollow\">lint</a>"
        )
    );
    assert!(page.contains("lint is running"));
    assert!(page.contains("downstream <span class=\"label\">trigger job</span>"), "the bridge is shown");
    let build_id: i64 = app
        .db()
        .query_row("SELECT id FROM jobs WHERE pipeline_id = ?1 AND name = 'build'", [pid], |row| row.get(0))
        .unwrap();
    assert!(page.contains(&format!("href=\"/owner/demo/-/jobs/{build_id}\">build</a>")));
    let external_id = status["id"].as_i64().unwrap();
    assert!(!page.contains(&format!("/-/jobs/{external_id}\"")), "an external job has no job page");
}

#[test]
fn the_list_counts_up_to_ten_thousand_pipelines_and_pages_on_past_them() {
    let app = spawn_app();
    let r = app.roles();
    for _ in 0..21 {
        app.seed_pipeline(r.project_id, Some(r.owner.id), "main", &"e".repeat(40));
    }
    let b = Browser::sign_in(&app, &r.reporter);
    let page = b.page("/owner/demo/-/pipelines", 200);
    assert!(page.contains("<span class=\"count\">21</span>"), "an exact count below the limit");
    assert!(
        page.contains("rel=\"next\"")
            && b.page("/owner/demo/-/pipelines?page=2", 200).contains("<span class=\"count\">21</span>")
    );
    assert!(
        !b.page("/owner/demo/-/pipelines?page=2", 200).contains("rel=\"next\""),
        "page 2 holds the last one"
    );

    // Past 10,000 (seeded in one statement) the count stops at the limit and the pages go on.
    app.db()
        .execute(
            "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 10000)
             INSERT INTO pipelines (project_id, iid, ref, sha, before_sha, tag, status, source, created_at, updated_at)
             SELECT ?1, 100 + i, 'main', '0123456789abcdef0123456789abcdef01234567',
                    '0000000000000000000000000000000000000000', 0, 'success', 'trigger',
                    '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'
             FROM seq",
            [r.project_id],
        )
        .unwrap();
    let page = b.page("/owner/demo/-/pipelines", 200);
    assert!(page.contains("<span class=\"count\">10000+</span>"), "no exact count past the limit");
    assert!(page.contains("Pipelines (10000+)") && page.contains("rel=\"next\""));
    assert!(b.page("/owner/demo/-/pipelines?page=501", 200).contains("rel=\"next\""));
    let last = b.page("/owner/demo/-/pipelines?page=502", 200);
    assert!(
        last.contains("rel=\"prev\"") && !last.contains("rel=\"next\""),
        "10,021 rows: page 502 is the last"
    );
    let finished = b.page("/owner/demo/-/pipelines?scope=finished", 200);
    assert!(
        finished.contains("<span class=\"count\">10000</span>"),
        "a filtered count below the limit is exact"
    );
}
