//! JSON shapes shared by several resources.

use serde::Serialize;
use sha2::{Digest, Sha256};

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

/// A Gravatar identicon URL (Gravatar accepts SHA-256 of the trimmed, lower-cased email).
pub fn avatar_url(email: &str) -> String {
    let hash = hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()));
    format!("https://www.gravatar.com/avatar/{hash}?s=80&d=identicon")
}
