//! `spawn_app()` and the `TestApp` every test talks through.

// Not every helper is used by every test module at every stage.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;

use reqwest::Method;
use reqwest::blocking::{Client, RequestBuilder, Response};
use rusqlite::Connection;
use serde_json::Value;
use triggerd::config::Config;
use triggerd::db::{members, projects, tokens, users};
use triggerd::{auth, model};

/// The bootstrap root token every test server starts with.
pub const ROOT_TOKEN: &str = "glpat-roottokenroottokenroot";

/// GitLab access levels, for readability in tests.
pub const GUEST: i64 = 10;
pub const REPORTER: i64 = 20;
pub const DEVELOPER: i64 = 30;
pub const MAINTAINER: i64 = 40;
pub const OWNER: i64 = 50;

/// A running server with its own database directory (removed on drop).
pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    pub client: Client,
    pub dir: PathBuf,
    pub db_path: PathBuf,
    stopper: triggerd::Stopper,
}

/// A user seeded for a test, with an `api`-scoped personal access token.
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub username: String,
    pub token: String,
}

/// A project with one user per role (see [`TestApp::roles`]).
pub struct Roles {
    pub project_id: i64,
    /// `owner-username/path`
    pub project_path: String,
    pub owner: TestUser,
    pub maintainer: TestUser,
    pub developer: TestUser,
    pub reporter: TestUser,
    pub guest: TestUser,
    pub non_member: TestUser,
    pub admin: TestUser,
}

/// Starts a server with default configuration on a fresh database.
pub fn spawn_app() -> TestApp {
    spawn_app_with(|_| {})
}

/// Starts a server after letting the test adjust the configuration.
pub fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    let _ = env_logger::builder().is_test(true).try_init();
    let dir = std::env::temp_dir().join(format!("triggerd-test-{}", random_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut config = Config::default();
    config.database.path = dir.join("triggerd.db");
    config.bootstrap.root_token = ROOT_TOKEN.into();
    config.server.workers = 2;
    adjust(&mut config);
    // A test may move the database (somewhere under `dir`, which is removed on drop).
    let db_path = config.database.path.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let system = actix_web::rt::System::new();
        system.block_on(async move {
            let (server, stopper) = triggerd::start(config, listener).unwrap();
            tx.send(stopper).unwrap();
            server.await.unwrap();
        });
    });
    let stopper = rx.recv().expect("the test server failed to start");
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        dir,
        db_path,
        stopper,
    }
}

fn random_suffix() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("{}-{n:016x}", std::process::id())
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let stopper = self.stopper.clone();
        let _ = std::thread::spawn(move || actix_web::rt::System::new().block_on(stopper.stop(false))).join();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl TestApp {
    /// Starts a graceful stop (as SIGTERM does) in the background; the thread ends when the
    /// server has stopped.
    pub fn begin_graceful_stop(&self) -> std::thread::JoinHandle<()> {
        let stopper = self.stopper.clone();
        std::thread::spawn(move || actix_web::rt::System::new().block_on(stopper.stop(true)))
    }

    /// The root (admin) user created by the bootstrap.
    pub fn root(&self) -> TestUser {
        TestUser { id: 1, username: "root".into(), token: ROOT_TOKEN.into() }
    }

    /// A URL under `/api/v4`; `path` starts with `/`.
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v4{path}", self.address)
    }

    /// A request to `/api/v4{path}` with `PRIVATE-TOKEN` when `token` is given.
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let rb = self.client.request(method, self.api(path));
        match token {
            Some(t) => rb.header("PRIVATE-TOKEN", t),
            None => rb,
        }
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token).send().unwrap()
    }

    pub fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::POST, path, token).json(body).send().unwrap()
    }

    pub fn put_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::PUT, path, token).json(body).send().unwrap()
    }

    pub fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::DELETE, path, token).send().unwrap()
    }

    /// A direct connection to the test database (for seeding and for checking what was stored).
    pub fn db(&self) -> Connection {
        let c = Connection::open(&self.db_path).unwrap();
        c.busy_timeout(std::time::Duration::from_secs(30)).unwrap();
        c.pragma_update(None, "foreign_keys", "ON").unwrap();
        c
    }

    /// `SELECT COUNT(*) FROM {table}`.
    pub fn count(&self, table: &str) -> i64 {
        self.db().query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).unwrap()
    }

    /// Seeds a user (not admin) with an `api` personal access token.
    pub fn create_user(&self, username: &str) -> TestUser {
        self.seed_user(username, false, &["api"])
    }

    /// Seeds an instance admin.
    pub fn create_admin(&self, username: &str) -> TestUser {
        self.seed_user(username, true, &["api"])
    }

    /// Seeds a user with a token of the given scopes.
    pub fn seed_user(&self, username: &str, admin: bool, scopes: &[&str]) -> TestUser {
        let conn = self.db();
        let now = model::now();
        // `admin@example.com` is the bootstrap root's address (see `roles()`'s `admin`).
        let email = if username == "admin" {
            "admin-user@example.com".into()
        } else {
            format!("{username}@example.com")
        };
        let user = users::insert(
            &conn,
            &users::NewUser { username, name: username, email: &email, password_hash: None, is_admin: admin },
            &now,
        )
        .unwrap();
        let token = self.seed_token(user.id, scopes, None);
        TestUser { id: user.id, username: username.into(), token }
    }

    /// Seeds another personal access token for a user and returns it.
    pub fn seed_token(&self, user_id: i64, scopes: &[&str], expires_at: Option<&str>) -> String {
        let token = auth::new_personal_access_token().unwrap();
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        tokens::insert(
            &self.db(),
            &tokens::NewToken {
                user_id,
                name: "test",
                digest: &auth::digest(&token),
                scopes: &scopes,
                expires_at,
            },
            &model::now(),
        )
        .unwrap();
        token
    }

    /// Seeds a project in `owner`'s namespace (owner becomes an Owner member); returns its id.
    pub fn create_project(&self, owner: &TestUser, path: &str, visibility: &str) -> i64 {
        let p = projects::insert(
            &self.db(),
            &projects::NewProject {
                namespace_id: owner.id,
                creator_id: owner.id,
                creator_level: Some(50),
                name: path,
                path,
                description: None,
                visibility,
                default_branch: Some("main"),
            },
            &model::now(),
        )
        .unwrap();
        p.id
    }

    /// Seeds a membership.
    pub fn add_member(&self, project_id: i64, user: &TestUser, level: i64) {
        members::upsert(&self.db(), project_id, user.id, level, &model::now()).unwrap();
    }

    /// A private project `owner/demo` with one user per role and an admin.
    pub fn roles(&self) -> Roles {
        self.roles_with_visibility("private")
    }

    pub fn roles_with_visibility(&self, visibility: &str) -> Roles {
        let owner = self.create_user("owner");
        let project_id = self.create_project(&owner, "demo", visibility);
        let maintainer = self.create_user("maintainer");
        let developer = self.create_user("developer");
        let reporter = self.create_user("reporter");
        let guest = self.create_user("guest");
        self.add_member(project_id, &maintainer, MAINTAINER);
        self.add_member(project_id, &developer, DEVELOPER);
        self.add_member(project_id, &reporter, REPORTER);
        self.add_member(project_id, &guest, GUEST);
        Roles {
            project_id,
            project_path: "owner/demo".into(),
            owner,
            maintainer,
            developer,
            reporter,
            guest,
            non_member: self.create_user("stranger"),
            admin: self.create_admin("admin"),
        }
    }
}

/// Asserts the status and that the body is JSON whose `key` equals `expected`; returns the body.
#[track_caller]
pub fn assert_error(resp: Response, status: u16, key: &str, expected: Value) -> Value {
    let got_status = resp.status().as_u16();
    let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    let body: Value = resp.json().unwrap_or(Value::Null);
    assert_eq!(got_status, status, "status; body was {body}");
    assert!(ct.starts_with("application/json"), "content type {ct}");
    assert_eq!(body[key], expected, "body was {body}");
    body
}

/// Asserts the status and returns the JSON body.
#[track_caller]
pub fn json_of(resp: Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let text = resp.text().unwrap();
    assert_eq!(got, status, "status; body was {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A trigger seeded directly in the database.
#[derive(Debug, Clone)]
pub struct SeededTrigger {
    pub id: i64,
    pub token: String,
}

impl TestApp {
    /// Seeds a trigger owned by `owner` (no expiry) and returns its id and full token.
    pub fn seed_trigger(&self, project_id: i64, owner: &TestUser, description: &str) -> SeededTrigger {
        self.seed_trigger_expiring(project_id, owner, description, None)
    }

    /// Seeds a trigger with an `expires_at` (our timestamp format) and returns its id and token.
    pub fn seed_trigger_expiring(
        &self,
        project_id: i64,
        owner: &TestUser,
        description: &str,
        expires_at: Option<&str>,
    ) -> SeededTrigger {
        let token = auth::new_trigger_token().unwrap();
        let now = model::now();
        let conn = self.db();
        conn.execute(
            "INSERT INTO triggers (project_id, owner_id, description, token_digest, short_token, expires_at,
                                   created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
            rusqlite::params![
                project_id,
                owner.id,
                description,
                auth::digest(&token),
                auth::short_token(&token),
                expires_at,
                now
            ],
        )
        .unwrap();
        SeededTrigger { id: conn.last_insert_rowid(), token }
    }

    /// Seeds a branch (`kind` = `branch`) or tag (`kind` = `tag`) at a random SHA; returns the SHA.
    pub fn seed_ref(&self, project_id: i64, kind: &str, name: &str) -> String {
        use rand::Rng;
        let bytes: [u8; 20] = rand::rng().random();
        let sha = hex::encode(bytes);
        self.db()
            .execute(
                "INSERT INTO refs (project_id, kind, name, sha, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![project_id, kind, name, sha, model::now()],
            )
            .unwrap();
        sha
    }
}

/// Sends two requests at the same moment from two threads; returns their statuses in order.
pub fn at_once(a: RequestBuilder, b: RequestBuilder) -> [u16; 2] {
    let barrier = std::sync::Barrier::new(2);
    let send = |req: RequestBuilder| {
        barrier.wait();
        req.send().unwrap().status().as_u16()
    };
    std::thread::scope(|s| {
        let first = s.spawn(|| send(a));
        let second = s.spawn(|| send(b));
        [first.join().unwrap(), second.join().unwrap()]
    })
}

impl TestApp {
    /// Seeds a pipeline of `project_id` on `main` (source `api`, user `user`) with the jobs the
    /// CI configuration `yaml` plans, through the same db functions the server uses; returns
    /// the pipeline id.
    pub fn seed_ci_pipeline(&self, project_id: i64, user: &TestUser, yaml: &str) -> i64 {
        use triggerd::ci;
        use triggerd::db::{jobs, pipelines};
        let config = ci::compile(yaml, &ci::Limits::default()).unwrap();
        let vars: ci::Variables = [("CI_PIPELINE_SOURCE", "api")].into_iter().collect();
        let plan = ci::plan(&config, &vars).unwrap();
        let conn = self.db();
        let now = model::now();
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let new = pipelines::NewPipeline {
            project_id,
            trigger_id: None,
            user_id: Some(user.id),
            ref_name: "main",
            sha,
            tag: false,
            status: "created",
            source: "api",
            inputs: None,
        };
        let (id, _) = pipelines::insert(&conn, &new, &[], &now).unwrap();
        jobs::insert_plan(&conn, id, project_id, Some(user.id), &plan, &now).unwrap();
        id
    }

    /// The ids of a pipeline's latest jobs by name.
    pub fn job_id(&self, pipeline_id: i64, name: &str) -> i64 {
        self.db()
            .query_row(
                "SELECT id FROM jobs WHERE pipeline_id = ?1 AND name = ?2 AND retried = 0",
                rusqlite::params![pipeline_id, name],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// Runs a pending job and finishes it with `status` (`success`, `failed`, `canceled`), as a
    /// runner would, through the db functions the runner protocol uses.
    pub fn run_job(&self, job_id: i64, status: &str) {
        use triggerd::ci::JobStatus;
        use triggerd::db::jobs;
        let conn = self.db();
        assert!(jobs::run(&conn, job_id, None, &model::now()).unwrap(), "job {job_id} was not pending");
        let to = JobStatus::parse(status).unwrap();
        assert!(jobs::finish(&conn, job_id, to, None, &model::now()).unwrap().changed());
    }

    /// A pipeline's status as stored.
    pub fn pipeline_status(&self, pipeline_id: i64) -> String {
        self.db()
            .query_row("SELECT status FROM pipelines WHERE id = ?1", [pipeline_id], |r| r.get(0))
            .unwrap()
    }

    /// `roles()` with one project per visibility: the private `owner/demo` of `roles()` plus
    /// `owner/demo-internal` and `owner/demo-public`, each with the same members.
    /// Returns the users and `(visibility, project id)` in the order private, internal, public.
    pub fn roles_per_visibility(&self) -> (Roles, Vec<(&'static str, i64)>) {
        let roles = self.roles();
        let mut projects = vec![("private", roles.project_id)];
        for visibility in ["internal", "public"] {
            projects.push((
                visibility,
                self.project_with_roles(&roles, &format!("demo-{visibility}"), visibility),
            ));
        }
        (roles, projects)
    }

    /// Another project of `roles.owner` whose maintainer, developer, reporter and guest are
    /// those of `roles` (the stranger and the admin stay outside); returns its id.
    pub fn project_with_roles(&self, roles: &Roles, path: &str, visibility: &str) -> i64 {
        let id = self.create_project(&roles.owner, path, visibility);
        self.add_member(id, &roles.maintainer, MAINTAINER);
        self.add_member(id, &roles.developer, DEVELOPER);
        self.add_member(id, &roles.reporter, REPORTER);
        self.add_member(id, &roles.guest, GUEST);
        id
    }

    /// Seeds a personal access token and returns `(id, token)`; `revoked` marks it revoked.
    pub fn seed_token_row(
        &self,
        user_id: i64,
        scopes: &[&str],
        expires_at: Option<&str>,
        revoked: bool,
    ) -> (i64, String) {
        let token = auth::new_personal_access_token().unwrap();
        let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
        let conn = self.db();
        let row = tokens::insert(
            &conn,
            &tokens::NewToken {
                user_id,
                name: "test",
                digest: &auth::digest(&token),
                scopes: &scopes,
                expires_at,
            },
            &model::now(),
        )
        .unwrap();
        if revoked {
            tokens::revoke(&conn, row.id).unwrap();
        }
        (row.id, token)
    }

    /// Seeds a pipeline (status `created`, source `trigger`) on `ref_name` at `sha`, started by
    /// `user_id`; returns its id.
    pub fn seed_pipeline(&self, project_id: i64, user_id: Option<i64>, ref_name: &str, sha: &str) -> i64 {
        let new = triggerd::db::pipelines::NewPipeline {
            project_id,
            trigger_id: None,
            user_id,
            ref_name,
            sha,
            tag: false,
            status: "created",
            source: "trigger",
            inputs: None,
        };
        let var = triggerd::db::pipelines::NewVariable {
            key: "TRIGGER_PAYLOAD",
            value: "{}",
            variable_type: "file",
        };
        triggerd::db::pipelines::insert(&self.db(), &new, &[var], &model::now()).unwrap().0
    }
}
