//! The large lists (`GET /projects/:id/pipelines`, `GET /projects/:id/jobs`): GitLab's bounded
//! count (no `X-Total`, `X-Total-Pages` or `rel="last"` past 10,000 rows) and its cursor-based
//! keyset pagination (`pagination=keyset`, `order_by=id`, `sort`, `cursor`, `Link: rel="next"`).

use reqwest::blocking::Response;
use serde_json::{Value, json};

use crate::helpers::*;

/// Inserts `n` pipelines of `project_id` on `ref_name` in one statement (iids after the
/// project's counter, which is moved past them); returns nothing, the ids are consecutive.
fn bulk_pipelines(app: &TestApp, project_id: i64, ref_name: &str, n: i64) {
    let db = app.db();
    let start: i64 = db
        .query_row("SELECT last_pipeline_iid FROM projects WHERE id = ?1", [project_id], |r| r.get(0))
        .unwrap();
    db.execute(
        "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?3)
         INSERT INTO pipelines (project_id, iid, ref, sha, before_sha, tag, status, source, created_at, updated_at)
         SELECT ?1, ?4 + i, ?2, '0123456789abcdef0123456789abcdef01234567',
                '0000000000000000000000000000000000000000', 0, 'created', 'trigger',
                '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'
         FROM seq",
        rusqlite::params![project_id, ref_name, n, start],
    )
    .unwrap();
    db.execute(
        "UPDATE projects SET last_pipeline_iid = ?2 WHERE id = ?1",
        rusqlite::params![project_id, start + n],
    )
    .unwrap();
}

fn ids(body: &Value) -> Vec<i64> {
    body.as_array().unwrap().iter().map(|v| v["id"].as_i64().unwrap()).collect()
}

fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers().get(name).map(|v| v.to_str().unwrap().to_string())
}

/// The URL of the `rel="next"` link, if any.
fn next_link(resp: &Response) -> Option<String> {
    let link = header(resp, "link")?;
    link.split(", ")
        .find(|l| l.ends_with("rel=\"next\""))
        .map(|l| l.trim_start_matches('<').split('>').next().unwrap().to_string())
}

/// Follows `rel="next"` links from `first` (a path under `/api/v4`) and returns every page's ids.
fn walk(app: &TestApp, first: &str, token: &str) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut resp = app.get(first, Some(token));
    loop {
        assert_eq!(resp.status(), 200);
        for h in ["x-total", "x-total-pages", "x-page"] {
            assert!(resp.headers().get(h).is_none(), "keyset responses carry no {h}");
        }
        let next = next_link(&resp);
        if let Some(n) = &next {
            assert_eq!(header(&resp, "links").as_deref(), header(&resp, "link").as_deref());
            assert!(!n.contains("private_token") && !n.contains(token), "{n}");
        }
        pages.push(ids(&resp.json::<Value>().unwrap()));
        let Some(url) = next else { break };
        assert!(pages.len() < 50, "the links never end");
        resp = app.client.get(&url).header("PRIVATE-TOKEN", token).send().unwrap();
    }
    pages
}

#[test]
fn more_than_ten_thousand_pipelines_leave_out_the_total_and_the_last_page() {
    let app = spawn_app();
    let r = app.roles();
    let t = r.reporter.token.clone();
    bulk_pipelines(&app, r.project_id, "main", 10_000);
    let resp = app.get(&format!("/projects/{}/pipelines?per_page=100", r.project_id), Some(&t));
    assert_eq!(header(&resp, "x-total").as_deref(), Some("10000"));
    assert_eq!(header(&resp, "x-total-pages").as_deref(), Some("100"));
    assert!(header(&resp, "link").unwrap().contains("rel=\"last\""));

    bulk_pipelines(&app, r.project_id, "main", 1);
    let resp = app.get(&format!("/projects/{}/pipelines?per_page=100&page=2", r.project_id), Some(&t));
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "x-total"), None);
    assert_eq!(header(&resp, "x-total-pages"), None);
    assert_eq!(header(&resp, "x-page").as_deref(), Some("2"));
    assert_eq!(header(&resp, "x-next-page").as_deref(), Some("3"));
    assert_eq!(header(&resp, "x-prev-page").as_deref(), Some("1"));
    let link = header(&resp, "link").unwrap();
    assert!(link.contains("rel=\"next\"") && link.contains("rel=\"first\""), "{link}");
    assert!(!link.contains("rel=\"last\""), "{link}");
    assert_eq!(resp.json::<Value>().unwrap().as_array().unwrap().len(), 100);

    // The last page still knows it is the last: no next page, without a count.
    let resp = app.get(&format!("/projects/{}/pipelines?per_page=100&page=101", r.project_id), Some(&t));
    assert_eq!(header(&resp, "x-next-page").as_deref(), Some(""));
    assert!(!header(&resp, "link").unwrap().contains("rel=\"next\""));
    assert_eq!(resp.json::<Value>().unwrap().as_array().unwrap().len(), 1);

    // A filter that matches few rows is counted again.
    bulk_pipelines(&app, r.project_id, "feature", 3);
    let resp = app.get(&format!("/projects/{}/pipelines?ref=feature", r.project_id), Some(&t));
    assert_eq!(header(&resp, "x-total").as_deref(), Some("3"));
}

#[test]
fn more_than_ten_thousand_jobs_leave_out_the_total() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, "build:\n  script: make\n");
    app.db()
        .execute(
            "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 10000)
             INSERT INTO jobs (project_id, pipeline_id, user_id, name, stage, stage_idx, status, run_when,
                               allow_failure, spec, created_at, updated_at)
             SELECT project_id, pipeline_id, user_id, name, stage, stage_idx, status, run_when,
                    allow_failure, spec, created_at, updated_at
             FROM jobs, seq WHERE pipeline_id = ?1",
            [p],
        )
        .unwrap();
    let resp = app.get(&format!("/projects/{}/jobs", r.project_id), Some(&r.developer.token));
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "x-total"), None);
    assert_eq!(header(&resp, "x-total-pages"), None);
    assert_eq!(header(&resp, "x-next-page").as_deref(), Some("2"));
    assert!(!header(&resp, "link").unwrap().contains("rel=\"last\""));
}

#[test]
fn keyset_pagination_walks_every_pipeline_once_in_either_order() {
    let app = spawn_app();
    let r = app.roles();
    bulk_pipelines(&app, r.project_id, "main", 7);
    let all: Vec<i64> = app
        .db()
        .prepare("SELECT id FROM pipelines ORDER BY id DESC")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let base = format!("/projects/{}/pipelines?pagination=keyset&per_page=3", r.project_id);
    let pages = walk(&app, &format!("{base}&order_by=id"), &r.reporter.token);
    assert_eq!(pages, vec![all[0..3].to_vec(), all[3..6].to_vec(), all[6..].to_vec()]);

    let pages = walk(&app, &format!("{base}&order_by=id&sort=asc"), &r.reporter.token);
    let mut ascending = all.clone();
    ascending.reverse();
    assert_eq!(pages.concat(), ascending);
    assert_eq!(pages.len(), 3);

    // A page that ends exactly at the last row has no next link.
    let pages = walk(
        &app,
        &format!("/projects/{}/pipelines?pagination=keyset&per_page=7", r.project_id),
        &r.reporter.token,
    );
    assert_eq!(pages, vec![all.clone()]);
}

#[test]
fn keyset_next_links_keep_the_filters() {
    let app = spawn_app();
    let r = app.roles();
    bulk_pipelines(&app, r.project_id, "main", 3);
    bulk_pipelines(&app, r.project_id, "feature", 4);
    bulk_pipelines(&app, r.project_id, "main", 3);
    let first = app.get(
        &format!("/projects/{}/pipelines?pagination=keyset&per_page=2&ref=feature", r.project_id),
        Some(&r.reporter.token),
    );
    let link = next_link(&first).unwrap();
    assert!(
        link.contains("ref=feature") && link.contains("pagination=keyset") && link.contains("per_page=2"),
        "{link}"
    );
    assert!(link.starts_with(&app.address), "{link}");
    let pages = walk(
        &app,
        &format!("/projects/{}/pipelines?pagination=keyset&per_page=2&ref=feature", r.project_id),
        &r.reporter.token,
    );
    assert_eq!(pages.len(), 2);
    let feature: Vec<i64> = app
        .db()
        .prepare("SELECT id FROM pipelines WHERE ref = 'feature' ORDER BY id DESC")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(pages.concat(), feature);
}

#[test]
fn keyset_pagination_walks_a_projects_jobs_newest_first() {
    let app = spawn_app();
    let r = app.roles();
    let yaml = "a:\n  script: x\nb:\n  script: x\nc:\n  script: x\n";
    app.seed_ci_pipeline(r.project_id, &r.developer, yaml);
    app.seed_ci_pipeline(r.project_id, &r.developer, yaml);
    let all: Vec<i64> = app
        .db()
        .prepare("SELECT id FROM jobs ORDER BY id DESC")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(all.len(), 6);
    let pages = walk(
        &app,
        &format!("/projects/{}/jobs?pagination=keyset&per_page=4", r.project_id),
        &r.developer.token,
    );
    assert_eq!(pages, vec![all[0..4].to_vec(), all[4..].to_vec()]);
    let pages = walk(
        &app,
        &format!(
            "/projects/{}/jobs?pagination=keyset&per_page=1&order_by=id&sort=desc&scope[]=pending",
            r.project_id
        ),
        &r.developer.token,
    );
    assert_eq!(pages.concat(), all);
}

#[test]
fn bad_keyset_parameters_are_refused_as_gitlab_refuses_them() {
    let app = spawn_app();
    let r = app.roles();
    bulk_pipelines(&app, r.project_id, "main", 2);
    let t = Some(r.reporter.token.as_str());
    let pid = r.project_id;
    let b64 = |s: &str| triggerd::base64::base64_encode(s.as_bytes());
    for cursor in [
        "garbage!",
        &b64("{\"id\":\"x\"}"),
        &b64("{\"id\":\"1\",\"_kd\":\"p\"}"),
        &b64("[]"),
        &"QQ".repeat(500),
    ] {
        for path in ["pipelines", "jobs"] {
            let resp = app.get(&format!("/projects/{pid}/{path}?pagination=keyset&cursor={cursor}"), t);
            assert_error(resp, 400, "error", json!("cursor is invalid"));
        }
    }
    for path in ["pipelines", "jobs"] {
        let resp = app.get(&format!("/projects/{pid}/{path}?pagination=sideways"), t);
        assert_error(resp, 400, "error", json!("pagination does not have a valid value"));
    }
    let unavailable = json!("Keyset pagination is not yet available for this type of request");
    for query in [
        "pipelines?pagination=keyset&order_by=status",
        "jobs?pagination=keyset&sort=asc",
        "jobs?pagination=keyset&order_by=name",
    ] {
        assert_error(app.get(&format!("/projects/{pid}/{query}"), t), 405, "error", unavailable.clone());
    }
    // Offset mode ignores a cursor, as GitLab does.
    let resp = app.get(&format!("/projects/{pid}/pipelines?cursor=garbage"), t);
    assert_eq!(resp.status(), 200);
    // Other projects' lists are still guarded before any paging.
    let stranger =
        app.get(&format!("/projects/{pid}/pipelines?pagination=keyset"), Some(&r.non_member.token));
    assert_eq!(stranger.status(), 404);
}

#[test]
fn the_unfiltered_total_follows_creations_and_deletions() {
    let app = spawn_app();
    let r = app.roles();
    let other = app.create_project(&r.owner, "other", "private");
    bulk_pipelines(&app, r.project_id, "main", 4);
    bulk_pipelines(&app, other, "main", 2);
    let total = |pid: i64| {
        let resp = app.get(&format!("/projects/{pid}/pipelines"), Some(&r.owner.token));
        header(&resp, "x-total").unwrap()
    };
    assert_eq!(total(r.project_id), "4");
    let newest =
        ids(&json_of(app.get(&format!("/projects/{}/pipelines", r.project_id), Some(&r.owner.token)), 200))
            [0];
    let resp = app.delete(&format!("/projects/{}/pipelines/{newest}", r.project_id), Some(&r.owner.token));
    assert_eq!(resp.status(), 204);
    assert_eq!(total(r.project_id), "3");
    assert_eq!(total(other), "2");
    let stored: i64 = app
        .db()
        .query_row("SELECT pipelines_count FROM projects WHERE id = ?1", [r.project_id], |row| row.get(0))
        .unwrap();
    assert_eq!(stored, 3);
}
