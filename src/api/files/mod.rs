//! GitLab's Repository Files API without git: `GET`/`HEAD`/`POST`/`PUT`/`DELETE
//! /projects/:id/repository/files/:file_path` and `GET …/files/:file_path/raw`.
//!
//! Every write is a commit (a new random 40-hex SHA whose parent is the branch head) that moves
//! the branch; `start_branch` makes a new branch from another one's head. A read at a ref (branch,
//! tag, full or short commit SHA) sees the tree of that commit. Reading needs what reading
//! branches needs (Reporter+ on a private project); writing needs Developer+ (`push_code`).
//!
//! This module registers the routes; `read` serves the reads, `write` turns a write into a
//! commit, `path` checks a `file_path` and `encoding` holds git's blob id and base64.

mod encoding;
mod path;
mod read;
mod write;

pub use encoding::{base64_decode, base64_encode, blob_sha};
pub use path::{FILE_PATH, check_path};
pub use write::COMMIT_MESSAGE;

use read::{head_file, raw_file, show_file};
use write::{create_file, delete_file, update_file};

pub fn configure(r: &mut super::Routes) {
    // GitLab's route is `files/*file_path/raw`; `files/raw` is a file named `raw`. Only GET and
    // HEAD match here, so a write to `files/a/raw` reaches the next resource.
    r.reads_only("/projects/{id}/repository/files/{file_path:.+}/raw", |m| m.get(raw_file).head(raw_file));
    // `.+`: the path usually arrives `%2F`-encoded, but raw slashes are accepted too.
    r.resource("/projects/{id}/repository/files/{file_path:.+}", |m| {
        m.get(show_file).head(head_file).post(create_file).put(update_file).delete(delete_file)
    });
}
