use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};

const BASIC_KEYS: &[&str] = &["id", "username", "name", "state", "locked", "avatar_url", "web_url"];

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn new_user_body(username: &str) -> Value {
    json!({
        "username": username,
        "name": format!("{username} name"),
        "email": format!("{username}@example.org"),
        "password": "correct horse battery",
    })
}

// ---- GET /user ----------------------------------------------------------------------------------

#[test]
fn get_user_returns_the_caller_with_the_detailed_fields() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let body = json_of(app.get("/user", Some(&alice.token)), 200);
    assert_eq!(body["id"], alice.id);
    assert_eq!(body["username"], "alice");
    assert_eq!(body["name"], "alice");
    assert_eq!(body["state"], "active");
    assert_eq!(body["locked"], false);
    assert_eq!(body["email"], "alice@example.com");
    assert_eq!(body["is_admin"], false);
    assert_eq!(body["bot"], false);
    assert_eq!(body["two_factor_enabled"], false);
    assert_eq!(body["external"], false);
    assert_eq!(body["private_profile"], false);
    assert_eq!(body["public_email"], Value::Null);
    assert_eq!(body["bio"], "");
    assert_eq!(body["location"], Value::Null);
    assert_eq!(body["last_sign_in_at"], Value::Null);
    assert_eq!(body["current_sign_in_at"], Value::Null);
    assert_eq!(body["confirmed_at"], body["created_at"]);
    assert_eq!(body["can_create_project"], true);
    assert_eq!(body["can_create_group"], false);
    assert_eq!(body["web_url"], format!("{}/alice", app.address));
    assert!(body["avatar_url"].as_str().unwrap().starts_with("https://www.gravatar.com/avatar/"));
    let created = body["created_at"].as_str().unwrap();
    assert_eq!(created.len(), 24, "{created}");
    assert!(created.ends_with('Z'));
}

#[test]
fn get_user_shows_is_admin_true_for_an_admin() {
    let app = spawn_app();
    let body = json_of(app.get("/user", Some(ROOT_TOKEN)), 200);
    assert_eq!(body["id"], 1);
    assert_eq!(body["username"], "root");
    assert_eq!(body["is_admin"], true);
}

#[test]
fn get_user_returns_401_for_an_anonymous_caller() {
    let app = spawn_app();
    assert_error(app.get("/user", None), 401, "message", json!("401 Unauthorized"));
}

#[test]
fn get_user_works_with_a_read_api_token() {
    let app = spawn_app();
    let reader = app.seed_user("reader", false, &["read_api"]);
    assert_eq!(json_of(app.get("/user", Some(&reader.token)), 200)["username"], "reader");
}

#[test]
fn post_on_get_user_is_a_json_405() {
    let app = spawn_app();
    assert_error(
        app.post_json("/user", Some(ROOT_TOKEN), &json!({})),
        405,
        "error",
        json!("405 Not Allowed"),
    );
}

// ---- GET /users ---------------------------------------------------------------------------------

#[test]
fn list_users_returns_401_for_an_anonymous_caller() {
    let app = spawn_app();
    assert_error(app.get("/users", None), 401, "message", json!("401 Unauthorized"));
}

#[test]
fn list_users_returns_every_user_ordered_by_id_with_pagination_headers() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let bob = app.create_user("bob");
    let resp = app.get("/users?per_page=2", Some(&alice.token));
    assert_eq!(resp.headers()["x-total"], "3");
    assert_eq!(resp.headers()["x-total-pages"], "2");
    assert_eq!(resp.headers()["x-next-page"], "2");
    assert!(resp.headers()["link"].to_str().unwrap().contains("rel=\"next\""));
    let body = json_of(resp, 200);
    let ids: Vec<i64> = body.as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![1, alice.id]);
    let page2 = json_of(app.get("/users?per_page=2&page=2", Some(&alice.token)), 200);
    assert_eq!(page2.as_array().unwrap().len(), 1);
    assert_eq!(page2[0]["id"], bob.id);
}

#[test]
fn list_users_shows_only_basic_fields_to_a_non_admin() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let body = json_of(app.get("/users", Some(&alice.token)), 200);
    for u in body.as_array().unwrap() {
        assert_eq!(keys(u), BASIC_KEYS, "{u}");
    }
}

#[test]
fn list_users_shows_email_and_is_admin_to_an_admin() {
    let app = spawn_app();
    app.create_user("alice");
    let body = json_of(app.get("/users", Some(ROOT_TOKEN)), 200);
    assert_eq!(body[0]["email"], "admin@example.com");
    assert_eq!(body[0]["is_admin"], true);
    assert_eq!(body[1]["email"], "alice@example.com");
    assert_eq!(body[1]["is_admin"], false);
}

#[test]
fn list_users_filters_by_exact_username_case_insensitively() {
    let app = spawn_app();
    app.create_user("alice");
    app.create_user("alice2");
    let body = json_of(app.get("/users?username=ALICE", Some(ROOT_TOKEN)), 200);
    assert_eq!(body.as_array().unwrap().len(), 1);
    assert_eq!(body[0]["username"], "alice");
    let none = json_of(app.get("/users?username=nobody", Some(ROOT_TOKEN)), 200);
    assert_eq!(none, json!([]));
}

#[test]
fn list_users_searches_username_name_and_email() {
    let app = spawn_app();
    app.create_user("alice");
    app.create_user("bob");
    let body = json_of(app.get("/users?search=LIC", Some(ROOT_TOKEN)), 200);
    let names: Vec<&str> = body.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["alice"]);
    let by_email = json_of(app.get("/users?search=example.com", Some(ROOT_TOKEN)), 200);
    assert_eq!(by_email.as_array().unwrap().len(), 3);
}

#[test]
fn list_users_filters_active_and_blocked() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    app.create_user("bob");
    assert_eq!(
        app.post_json(&format!("/users/{}/block", alice.id), Some(ROOT_TOKEN), &json!({})).status(),
        201
    );
    let blocked = json_of(app.get("/users?blocked=true", Some(ROOT_TOKEN)), 200);
    let names: Vec<&str> =
        blocked.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["alice"]);
    assert_eq!(blocked[0]["state"], "blocked");
    let active = json_of(app.get("/users?active=true", Some(ROOT_TOKEN)), 200);
    let names: Vec<&str> =
        active.as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["root", "bob"]);
    let all = json_of(app.get("/users?active=false", Some(ROOT_TOKEN)), 200);
    assert_eq!(all.as_array().unwrap().len(), 3);
}

#[test]
fn list_users_rejects_a_non_boolean_filter_and_a_bad_page() {
    let app = spawn_app();
    assert_error(app.get("/users?active=maybe", Some(ROOT_TOKEN)), 400, "error", json!("active is invalid"));
    assert_error(
        app.get("/users?page=0", Some(ROOT_TOKEN)),
        400,
        "error",
        json!("page does not have a valid value"),
    );
}

// ---- GET /users/:id -----------------------------------------------------------------------------

#[test]
fn get_user_by_id_shows_basic_fields_of_another_user_to_a_non_admin() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let bob = app.create_user("bob");
    let body = json_of(app.get(&format!("/users/{}", bob.id), Some(&alice.token)), 200);
    assert_eq!(keys(&body), BASIC_KEYS);
    assert_eq!(body["username"], "bob");
}

#[test]
fn get_user_by_id_shows_the_detailed_view_of_oneself_and_to_admins() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let own = json_of(app.get(&format!("/users/{}", alice.id), Some(&alice.token)), 200);
    assert_eq!(own["email"], "alice@example.com");
    let admin_view = json_of(app.get(&format!("/users/{}", alice.id), Some(ROOT_TOKEN)), 200);
    assert_eq!(admin_view["email"], "alice@example.com");
    assert_eq!(admin_view["is_admin"], false);
}

#[test]
fn get_user_by_id_returns_404_user_not_found_for_a_missing_user() {
    let app = spawn_app();
    assert_error(app.get("/users/999", Some(ROOT_TOKEN)), 404, "message", json!("404 User Not Found"));
}

#[test]
fn get_user_by_id_returns_400_for_a_non_numeric_id() {
    let app = spawn_app();
    assert_error(app.get("/users/alice", Some(ROOT_TOKEN)), 400, "error", json!("id is invalid"));
}

#[test]
fn get_user_by_id_returns_401_for_an_anonymous_caller() {
    let app = spawn_app();
    assert_error(app.get("/users/1", None), 401, "message", json!("401 Unauthorized"));
}

// ---- POST /users --------------------------------------------------------------------------------

#[test]
fn create_user_as_admin_returns_201_with_the_admin_view() {
    let app = spawn_app();
    let body = json_of(app.post_json("/users", Some(ROOT_TOKEN), &new_user_body("carol")), 201);
    assert_eq!(body["username"], "carol");
    assert_eq!(body["name"], "carol name");
    assert_eq!(body["email"], "carol@example.org");
    assert_eq!(body["state"], "active");
    assert_eq!(body["is_admin"], false);
    assert!(body["id"].as_i64().unwrap() > 1);
    assert!(body.get("password").is_none());
    let listed = json_of(app.get("/users?username=carol", Some(ROOT_TOKEN)), 200);
    assert_eq!(listed[0]["id"], body["id"]);
}

#[test]
fn create_user_stores_an_argon2id_hash_never_the_password() {
    let app = spawn_app();
    let body = json_of(app.post_json("/users", Some(ROOT_TOKEN), &new_user_body("carol")), 201);
    let hash: String = app
        .db()
        .query_row("SELECT password_hash FROM users WHERE id = ?1", [body["id"].as_i64().unwrap()], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains("correct horse"));
    assert!(triggerd::auth::verify_password("correct horse battery", &hash));
}

#[test]
fn create_user_with_admin_true_creates_an_admin() {
    let app = spawn_app();
    let mut req = new_user_body("boss");
    req["admin"] = json!(true);
    req["skip_confirmation"] = json!(true);
    let body = json_of(app.post_json("/users", Some(ROOT_TOKEN), &req), 201);
    assert_eq!(body["is_admin"], true);
}

#[test]
fn create_user_accepts_a_form_encoded_body() {
    let app = spawn_app();
    let resp = app
        .request(Method::POST, "/users", Some(ROOT_TOKEN))
        .form(&[
            ("username", "dave"),
            ("name", "Dave"),
            ("email", "dave@example.org"),
            ("password", "12345678"),
            ("admin", "false"),
        ])
        .send()
        .unwrap();
    assert_eq!(json_of(resp, 201)["username"], "dave");
}

#[test]
fn create_user_with_reset_password_stores_no_password() {
    let app = spawn_app();
    let body = json_of(
        app.post_json(
            "/users",
            Some(ROOT_TOKEN),
            &json!({"username": "nopw", "name": "No Pw", "email": "nopw@example.org", "reset_password": true}),
        ),
        201,
    );
    let hash: Option<String> = app
        .db()
        .query_row("SELECT password_hash FROM users WHERE id = ?1", [body["id"].as_i64().unwrap()], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(hash, None);
}

#[test]
fn create_user_returns_403_for_a_non_admin_and_creates_nothing() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let before = app.count("users");
    assert_error(
        app.post_json("/users", Some(&alice.token), &new_user_body("carol")),
        403,
        "message",
        json!("403 Forbidden"),
    );
    assert_eq!(app.count("users"), before);
}

#[test]
fn create_user_returns_401_for_an_anonymous_caller() {
    let app = spawn_app();
    let before = app.count("users");
    assert_error(
        app.post_json("/users", None, &new_user_body("carol")),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    assert_eq!(app.count("users"), before);
}

#[test]
fn create_user_with_a_read_api_admin_token_returns_403_insufficient_scope() {
    let app = spawn_app();
    let reader = app.seed_user("readadmin", true, &["read_api"]);
    assert_error(
        app.post_json("/users", Some(&reader.token), &new_user_body("carol")),
        403,
        "error",
        json!("insufficient_scope"),
    );
}

#[test]
fn create_user_reports_each_missing_parameter() {
    let app = spawn_app();
    let before = app.count("users");
    for field in ["email", "name", "username"] {
        let mut req = new_user_body("carol");
        req.as_object_mut().unwrap().remove(field);
        assert_error(
            app.post_json("/users", Some(ROOT_TOKEN), &req),
            400,
            "error",
            json!(format!("{field} is missing")),
        );
    }
    let mut req = new_user_body("carol");
    req.as_object_mut().unwrap().remove("password");
    assert_error(
        app.post_json("/users", Some(ROOT_TOKEN), &req),
        400,
        "error",
        json!(
            "password, reset_password, force_random_password are missing, at least one parameter must be provided"
        ),
    );
    assert_error(
        app.post_json("/users", Some(ROOT_TOKEN), &json!({"password": "12345678"})),
        400,
        "error",
        json!("email is missing, name is missing, username is missing"),
    );
    assert_eq!(app.count("users"), before);
}

#[test]
fn create_user_rejects_a_short_password() {
    let app = spawn_app();
    let before = app.count("users");
    let mut req = new_user_body("carol");
    req["password"] = json!("1234567");
    assert_error(
        app.post_json("/users", Some(ROOT_TOKEN), &req),
        400,
        "message",
        json!({"password": ["is too short (minimum is 8 characters)"]}),
    );
    assert_eq!(app.count("users"), before);
}

#[test]
fn create_user_rejects_invalid_usernames() {
    let app = spawn_app();
    let before = app.count("users");
    let rule = "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-' or '.', or end in '.', \
                '.git' or '.atom'.";
    for bad in ["-lead", ".lead", "trail.", "has space", "slash/y", "x.git", "ünï"] {
        let mut req = new_user_body("x");
        req["username"] = json!(bad);
        assert_error(
            app.post_json("/users", Some(ROOT_TOKEN), &req),
            400,
            "message",
            json!({"username": [rule]}),
        );
    }
    let mut req = new_user_body("x");
    req["username"] = json!("a".repeat(256));
    assert_error(
        app.post_json("/users", Some(ROOT_TOKEN), &req),
        400,
        "message",
        json!({"username": ["is too long (maximum is 255 characters)"]}),
    );
    req["username"] = json!("  ");
    assert_error(
        app.post_json("/users", Some(ROOT_TOKEN), &req),
        400,
        "message",
        json!({"username": ["can't be blank"]}),
    );
    assert_eq!(app.count("users"), before);
}

#[test]
fn create_user_accepts_letters_digits_underscore_dash_and_dot() {
    let app = spawn_app();
    let mut req = new_user_body("x");
    req["username"] = json!("A_b-c.9");
    assert_eq!(json_of(app.post_json("/users", Some(ROOT_TOKEN), &req), 201)["username"], "A_b-c.9");
}

#[test]
fn create_user_rejects_an_invalid_email_and_a_blank_name() {
    let app = spawn_app();
    let before = app.count("users");
    let mut req = new_user_body("carol");
    req["email"] = json!("not-an-email");
    assert_error(
        app.post_json("/users", Some(ROOT_TOKEN), &req),
        400,
        "message",
        json!({"email": ["is invalid"]}),
    );
    let mut req = new_user_body("carol");
    req["name"] = json!(" ");
    assert_error(
        app.post_json("/users", Some(ROOT_TOKEN), &req),
        400,
        "message",
        json!({"name": ["can't be blank"]}),
    );
    assert_eq!(app.count("users"), before);
}

#[test]
fn create_user_returns_409_for_a_taken_username_in_any_case() {
    let app = spawn_app();
    app.create_user("alice");
    let before = app.count("users");
    let mut req = new_user_body("ALICE");
    req["email"] = json!("other@example.org");
    assert_error(
        app.post_json("/users", Some(ROOT_TOKEN), &req),
        409,
        "message",
        json!("Username has already been taken"),
    );
    assert_eq!(app.count("users"), before);
}

#[test]
fn create_user_returns_409_for_a_taken_email_checked_before_the_username() {
    let app = spawn_app();
    app.create_user("alice");
    let before = app.count("users");
    let mut req = new_user_body("alice");
    req["email"] = json!("ALICE@example.com");
    assert_error(
        app.post_json("/users", Some(ROOT_TOKEN), &req),
        409,
        "message",
        json!("Email has already been taken"),
    );
    assert_eq!(app.count("users"), before);
}

#[test]
fn a_created_user_can_receive_a_token_and_call_the_api() {
    let app = spawn_app();
    let user = json_of(app.post_json("/users", Some(ROOT_TOKEN), &new_user_body("carol")), 201);
    let token = json_of(
        app.post_json(
            &format!("/users/{}/personal_access_tokens", user["id"]),
            Some(ROOT_TOKEN),
            &json!({"name": "ci", "scopes": ["api"]}),
        ),
        201,
    );
    let me = json_of(app.get("/user", token["token"].as_str()), 200);
    assert_eq!(me["username"], "carol");
}

// ---- block / unblock ----------------------------------------------------------------------------

#[test]
fn block_returns_201_true_and_the_users_tokens_stop_working() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    assert_eq!(json_of(app.get("/user", Some(&alice.token)), 200)["state"], "active");
    let resp = app.post_json(&format!("/users/{}/block", alice.id), Some(ROOT_TOKEN), &json!({}));
    assert_eq!(json_of(resp, 201), json!(true));
    assert_error(app.get("/user", Some(&alice.token)), 401, "message", json!("401 Unauthorized"));
    let seen = json_of(app.get(&format!("/users/{}", alice.id), Some(ROOT_TOKEN)), 200);
    assert_eq!(seen["state"], "blocked");
}

#[test]
fn blocking_an_already_blocked_user_still_returns_201_true() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    for _ in 0..2 {
        let resp = app.post_json(&format!("/users/{}/block", alice.id), Some(ROOT_TOKEN), &json!({}));
        assert_eq!(json_of(resp, 201), json!(true));
    }
}

#[test]
fn unblock_returns_201_true_and_the_users_tokens_work_again() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    app.post_json(&format!("/users/{}/block", alice.id), Some(ROOT_TOKEN), &json!({}));
    let resp = app.post_json(&format!("/users/{}/unblock", alice.id), Some(ROOT_TOKEN), &json!({}));
    assert_eq!(json_of(resp, 201), json!(true));
    assert_eq!(json_of(app.get("/user", Some(&alice.token)), 200)["state"], "active");
}

#[test]
fn block_and_unblock_return_403_for_a_non_admin_and_change_nothing() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let bob = app.create_user("bob");
    for action in ["block", "unblock"] {
        assert_error(
            app.post_json(&format!("/users/{}/{action}", bob.id), Some(&alice.token), &json!({})),
            403,
            "message",
            json!("403 Forbidden"),
        );
    }
    assert_eq!(json_of(app.get("/user", Some(&bob.token)), 200)["state"], "active");
}

#[test]
fn block_returns_401_for_an_anonymous_caller() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    assert_error(
        app.post_json(&format!("/users/{}/block", alice.id), None, &json!({})),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    assert_eq!(json_of(app.get("/user", Some(&alice.token)), 200)["state"], "active");
}

#[test]
fn block_and_unblock_return_404_for_a_missing_user_and_400_for_a_bad_id() {
    let app = spawn_app();
    for action in ["block", "unblock"] {
        assert_error(
            app.post_json(&format!("/users/999/{action}"), Some(ROOT_TOKEN), &json!({})),
            404,
            "message",
            json!("404 User Not Found"),
        );
        assert_error(
            app.post_json(&format!("/users/abc/{action}"), Some(ROOT_TOKEN), &json!({})),
            400,
            "error",
            json!("id is invalid"),
        );
    }
}

#[test]
fn an_admin_cannot_block_themself() {
    let app = spawn_app();
    assert_error(
        app.post_json("/users/1/block", Some(ROOT_TOKEN), &json!({})),
        403,
        "message",
        json!("403 Forbidden - you cannot block yourself"),
    );
    assert_eq!(json_of(app.get("/user", Some(ROOT_TOKEN)), 200)["state"], "active");
}

#[test]
fn an_admin_can_block_another_admin() {
    let app = spawn_app();
    let other = app.create_admin("other");
    let resp = app.post_json(&format!("/users/{}/block", other.id), Some(ROOT_TOKEN), &json!({}));
    assert_eq!(json_of(resp, 201), json!(true));
    assert_error(app.get("/user", Some(&other.token)), 401, "message", json!("401 Unauthorized"));
}

// ---- DELETE /users/:id --------------------------------------------------------------------------

#[test]
fn delete_user_returns_204_and_removes_their_projects_memberships_tokens_and_triggers() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let bob = app.create_user("bob");
    let own = app.create_project(&alice, "mine", "private");
    app.seed_ref(own, "branch", "main");
    let bobs = app.create_project(&bob, "theirs", "private");
    app.add_member(bobs, &alice, DEVELOPER);
    app.seed_trigger(bobs, &alice, "alice's trigger");
    app.seed_trigger(bobs, &bob, "bob's trigger");
    let resp = app.delete(&format!("/users/{}", alice.id), Some(ROOT_TOKEN));
    assert_eq!(resp.status(), 204);
    assert!(resp.text().unwrap().is_empty());
    let db = app.db();
    let count = |sql: &str| -> i64 { db.query_row(sql, [alice.id], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT COUNT(*) FROM users WHERE id = ?1"), 0);
    assert_eq!(count("SELECT COUNT(*) FROM projects WHERE namespace_id = ?1"), 0);
    assert_eq!(count("SELECT COUNT(*) FROM members WHERE user_id = ?1"), 0);
    assert_eq!(count("SELECT COUNT(*) FROM personal_access_tokens WHERE user_id = ?1"), 0);
    assert_eq!(count("SELECT COUNT(*) FROM triggers WHERE owner_id = ?1"), 0);
    assert_eq!(app.count("refs"), 0);
    // Bob, his project and his own trigger stay.
    assert_eq!(app.count("projects"), 1);
    assert_eq!(app.count("triggers"), 1);
    assert_error(app.get("/user", Some(&alice.token)), 401, "message", json!("401 Unauthorized"));
    assert_eq!(json_of(app.get("/user", Some(&bob.token)), 200)["username"], "bob");
}

#[test]
fn delete_user_returns_404_for_a_missing_user_and_400_for_a_bad_id() {
    let app = spawn_app();
    assert_error(app.delete("/users/999", Some(ROOT_TOKEN)), 404, "message", json!("404 User Not Found"));
    assert_error(app.delete("/users/x", Some(ROOT_TOKEN)), 400, "error", json!("id is invalid"));
}

#[test]
fn delete_user_returns_403_for_a_non_admin_and_deletes_nothing() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let bob = app.create_user("bob");
    let before = app.count("users");
    assert_error(
        app.delete(&format!("/users/{}", bob.id), Some(&alice.token)),
        403,
        "message",
        json!("403 Forbidden"),
    );
    assert_error(app.delete(&format!("/users/{}", bob.id), None), 401, "message", json!("401 Unauthorized"));
    assert_eq!(app.count("users"), before);
}

#[test]
fn the_last_admin_cannot_be_deleted() {
    let app = spawn_app();
    let before = app.count("users");
    assert_error(
        app.delete("/users/1", Some(ROOT_TOKEN)),
        403,
        "message",
        json!("403 Forbidden - cannot delete the last admin"),
    );
    assert_eq!(app.count("users"), before);
}

#[test]
fn an_admin_may_delete_themself_when_another_active_admin_remains() {
    let app = spawn_app();
    let other = app.create_admin("other");
    assert_eq!(app.delete("/users/1", Some(ROOT_TOKEN)).status(), 204);
    assert_eq!(json_of(app.get("/user", Some(&other.token)), 200)["is_admin"], true);
}

#[test]
fn a_blocked_admin_does_not_count_as_a_remaining_admin() {
    let app = spawn_app();
    let other = app.create_admin("other");
    app.post_json(&format!("/users/{}/block", other.id), Some(ROOT_TOKEN), &json!({}));
    assert_error(
        app.delete("/users/1", Some(ROOT_TOKEN)),
        403,
        "message",
        json!("403 Forbidden - cannot delete the last admin"),
    );
}

#[test]
fn deleting_a_user_keeps_pipelines_they_started_without_a_user() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let bob = app.create_user("bob");
    let pid = app.create_project(&bob, "proj", "private");
    let now = triggerd::model::now();
    app.db()
        .execute(
            "INSERT INTO pipelines (project_id, iid, user_id, ref, sha, before_sha, tag, status, source,
                                    created_at, updated_at)
             VALUES (?1, 1, ?2, 'main', ?3, ?3, 0, 'created', 'api', ?4, ?4)",
            rusqlite::params![pid, alice.id, "0".repeat(40), now],
        )
        .unwrap();
    assert_eq!(app.delete(&format!("/users/{}", alice.id), Some(ROOT_TOKEN)).status(), 204);
    let user: Option<i64> = app.db().query_row("SELECT user_id FROM pipelines", [], |r| r.get(0)).unwrap();
    assert_eq!(user, None);
}

// ---- rules that depend on other rows are checked inside the write --------------------------------

fn active_admins(app: &TestApp) -> i64 {
    app.db()
        .query_row("SELECT COUNT(*) FROM users WHERE is_admin = 1 AND state = 'active'", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn two_admins_blocking_each_other_at_the_same_time_always_leave_one_active_admin() {
    let app = spawn_app();
    let mut survivor = app.root();
    for round in 0..20 {
        let a = app.create_admin(&format!("a{round}"));
        let b = app.create_admin(&format!("b{round}"));
        // Leave `a` and `b` as the only active admins.
        let resp = app.post_json(&format!("/users/{}/block", survivor.id), Some(&a.token), &json!({}));
        assert_eq!(resp.status(), 201, "round {round}");
        let mut statuses = at_once(
            app.request(Method::POST, &format!("/users/{}/block", b.id), Some(&a.token)),
            app.request(Method::POST, &format!("/users/{}/block", a.id), Some(&b.token)),
        );
        statuses.sort();
        assert_eq!(active_admins(&app), 1, "round {round}: statuses {statuses:?}");
        // One block went through; the other admin was blocked first and is refused.
        assert_eq!(statuses[0], 201, "round {round}");
        assert!(matches!(statuses[1], 401 | 403), "round {round}: {statuses:?}");
        let a_state: String =
            app.db().query_row("SELECT state FROM users WHERE id = ?1", [a.id], |r| r.get(0)).unwrap();
        survivor = if a_state == "active" { a } else { b };
    }
}

#[test]
fn an_admin_blocked_meanwhile_cannot_block_the_admin_who_blocked_them() {
    let app = spawn_app();
    let other = app.create_admin("other");
    let resp = app.post_json(&format!("/users/{}/block", other.id), Some(ROOT_TOKEN), &json!({}));
    assert_eq!(json_of(resp, 201), json!(true));
    // The blocked admin's token no longer acts at all.
    assert_error(
        app.post_json("/users/1/block", Some(&other.token), &json!({})),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    assert_error(app.delete("/users/1", Some(&other.token)), 401, "message", json!("401 Unauthorized"));
    assert_eq!(active_admins(&app), 1);
    assert_eq!(json_of(app.get("/user", Some(ROOT_TOKEN)), 200)["state"], "active");
}

#[test]
fn the_only_owner_of_a_project_outside_their_namespace_cannot_be_deleted() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let bob = app.create_user("bob");
    let pid = app.create_project(&alice, "shared", "private");
    app.add_member(pid, &bob, OWNER);
    app.db().execute("DELETE FROM members WHERE user_id = ?1", [alice.id]).unwrap();
    assert_error(
        app.delete(&format!("/users/{}", bob.id), Some(ROOT_TOKEN)),
        409,
        "message",
        json!("User cannot be removed while is the sole-owner of a project (alice/shared)"),
    );
    assert_eq!(app.count("members"), 1);
    // Once someone else owns it too, bob may go.
    app.add_member(pid, &alice, OWNER);
    assert_eq!(app.delete(&format!("/users/{}", bob.id), Some(ROOT_TOKEN)).status(), 204);
}

// ---------------------------------------------------------------- PUT /users/:id

#[test]
fn an_admin_edits_a_users_name_email_username_and_admin_flag() {
    let app = spawn_app();
    let u = app.create_user("edit-me");
    let body = json_of(
        app.put_json(
            &format!("/users/{}", u.id),
            Some(ROOT_TOKEN),
            &json!({"name": "New Name", "email": "new@example.com", "username": "renamed", "admin": true}),
        ),
        200,
    );
    assert_eq!(body["name"], "New Name");
    assert_eq!(body["email"], "new@example.com");
    assert_eq!(body["username"], "renamed");
    assert_eq!(body["is_admin"], true);
    // An empty edit changes nothing.
    let same = json_of(app.put_json(&format!("/users/{}", u.id), Some(ROOT_TOKEN), &json!({})), 200);
    assert_eq!(same["username"], "renamed");
}

#[test]
fn editing_a_user_keeps_the_uniqueness_and_format_rules_of_creation() {
    let app = spawn_app();
    let u = app.create_user("first");
    app.create_user("second");
    json_of(app.post_json("/groups", Some(ROOT_TOKEN), &json!({"name": "G", "path": "grp"})), 201);
    let put = |body: serde_json::Value| app.put_json(&format!("/users/{}", u.id), Some(ROOT_TOKEN), &body);
    assert_error(
        put(json!({"email": "SECOND@example.com"})),
        409,
        "message",
        json!("Email has already been taken"),
    );
    assert_error(
        put(json!({"username": "Second"})),
        409,
        "message",
        json!("Username has already been taken"),
    );
    assert_error(put(json!({"username": "grp"})), 409, "message", json!("Username has already been taken"));
    assert_eq!(put(json!({"username": "a b"})).status().as_u16(), 400);
    assert_eq!(put(json!({"email": "nope"})).status().as_u16(), 400);
    assert_eq!(put(json!({"name": " "})).status().as_u16(), 400);
    assert_eq!(put(json!({"password": "short"})).status().as_u16(), 400);
    assert_eq!(put(json!({"admin": "maybe"})).status().as_u16(), 400);
    // Its own values are not "taken".
    json_of(put(json!({"username": "FIRST", "email": "first@example.com"})), 200);
    assert_eq!(app.put_json("/users/999999", Some(ROOT_TOKEN), &json!({"name": "x"})).status().as_u16(), 404);
    assert_eq!(app.put_json("/users/abc", Some(ROOT_TOKEN), &json!({"name": "x"})).status().as_u16(), 400);
}

#[test]
fn only_admins_edit_users_and_the_last_admin_keeps_the_flag() {
    let app = spawn_app();
    let u = app.create_user("plain");
    let resp = app.put_json(&format!("/users/{}", u.id), Some(&u.token), &json!({"name": "Me"}));
    assert_eq!(resp.status().as_u16(), 403);
    let resp = app.put_json("/users/1", Some(ROOT_TOKEN), &json!({"admin": false}));
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(app.put_json("/users/1", None, &json!({"name": "x"})).status().as_u16(), 401);
}

#[test]
fn a_new_password_set_by_an_admin_is_hashed_and_ends_the_users_web_sessions() {
    let app = spawn_app();
    let u = app.create_user("pw");
    app.db()
        .execute(
            "INSERT INTO web_sessions (user_id, token_digest, created_at, expires_at) VALUES (?1, x'01', 't', '9999')",
            [u.id],
        )
        .unwrap();
    json_of(
        app.put_json(
            &format!("/users/{}", u.id),
            Some(ROOT_TOKEN),
            &json!({"password": "a-long-new-password"}),
        ),
        200,
    );
    let hash: String =
        app.db().query_row("SELECT password_hash FROM users WHERE id = ?1", [u.id], |r| r.get(0)).unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert_eq!(app.count("web_sessions"), 0);
}
