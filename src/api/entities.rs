//! JSON shapes shared by several resources.

use serde::Serialize;

use crate::db::projects::ProjectRow;
use crate::db::users::UserRow;

/// GitLab's `UserBasic`: the `owner` of a trigger, the `user` of a pipeline, a member's base.
#[derive(Debug, Clone, Serialize)]
pub struct UserBasic {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub state: String,
    pub locked: bool,
    pub avatar_url: String,
    pub web_url: String,
}

impl UserBasic {
    pub fn new(u: &UserRow, base_url: &str) -> Self {
        UserBasic {
            id: u.id,
            username: u.username.clone(),
            name: u.name.clone(),
            state: u.state.clone(),
            locked: false,
            avatar_url: avatar_url(&u.email),
            web_url: format!("{base_url}/{}", u.username),
        }
    }
}

pub use crate::model::avatar_url;

/// GitLab's `ProjectIdentity`: a runner's `projects`, the `project` of a runner's jobs.
#[derive(Debug, Clone, Serialize)]
pub struct ProjectIdentity {
    pub id: i64,
    pub description: Option<String>,
    pub name: String,
    pub name_with_namespace: String,
    pub path: String,
    pub path_with_namespace: String,
    pub created_at: String,
}

impl ProjectIdentity {
    pub fn new(p: &ProjectRow) -> Self {
        ProjectIdentity {
            id: p.id,
            description: p.description.clone(),
            name: p.name.clone(),
            name_with_namespace: p.name_with_namespace(),
            path: p.path.clone(),
            path_with_namespace: p.path_with_namespace(),
            created_at: p.created_at.clone(),
        }
    }
}
