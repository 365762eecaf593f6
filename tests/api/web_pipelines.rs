//! The pipeline pages' newer parts over HTTP: Delete for Owners (after a confirmation, through
//! the API's rules) and the table alone for the list's live refresh.

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
