//! First start: an admin `root` with a personal access token (scope `api`), so a new install
//! can be used at once. Runs on the writer connection before the server accepts requests.

use std::io::Write;
use std::path::PathBuf;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::auth;
use crate::config::Config;
use crate::db::{OpenError, sync_dir, tokens, users};
use crate::model;

/// Where a generated root token is written: `<database path>.root-token`.
pub fn root_token_path(config: &Config) -> PathBuf {
    let mut p = config.database.path.clone().into_os_string();
    p.push(".root-token");
    PathBuf::from(p)
}

/// Creates `root` and its token when the database has no users; does nothing otherwise.
pub fn root_user(conn: &Connection, config: &Config) -> Result<(), OpenError> {
    // Counted inside the write transaction: an admin command opening a new file while the server
    // starts must not create a second root (and overwrite the token file).
    let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    if users::count(&tx)? > 0 {
        return Ok(());
    }
    let fail = |e: crate::error::ApiError| OpenError::Schema(format!("bootstrap: {e}"));
    let (token, generated) = match config.bootstrap.root_token.as_str() {
        "" => (auth::new_personal_access_token().map_err(fail)?, true),
        given => (given.to_string(), false),
    };
    let now = model::now();
    let root = users::insert(
        &tx,
        &users::NewUser {
            username: "root",
            name: "Administrator",
            email: "admin@example.com",
            password_hash: None,
            is_admin: true,
        },
        &now,
    )?;
    tokens::insert(
        &tx,
        &tokens::NewToken {
            user_id: root.id,
            name: "bootstrap",
            digest: &auth::digest(&token),
            scopes: &["api".to_string()],
            expires_at: None,
        },
        &now,
    )?;
    if generated {
        let path = root_token_path(config);
        write_secret_file(&path, &token).map_err(|e| {
            OpenError::Schema(format!("cannot write the root token file {}: {e}", path.display()))
        })?;
        log::info!("created admin user root; its personal access token is in {} (mode 0600)", path.display());
    } else {
        log::info!("created admin user root with the configured bootstrap token");
    }
    tx.commit()?;
    Ok(())
}

/// Writes a secret with mode 0600 and fsyncs the file and its directory. A file left from an
/// earlier database is set to 0600 before the new secret goes into it.
fn write_secret_file(path: &std::path::Path, secret: &str) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(secret.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    sync_dir(path);
    Ok(())
}
