//! The command line: `serve` (the default) and the admin subcommands, which work on the
//! database file directly and are safe to run while the server is up.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rusqlite::{Connection, TransactionBehavior};

use crate::api::limits;
use crate::config::Config;
use crate::db::{self, sync_dir, tokens, users};
use crate::{auth, model};

#[derive(Parser, Debug)]
#[command(name = "triggerd", version, about = "GitLab-compatible pipeline trigger server on one SQLite file")]
struct Cli {
    /// Configuration file (default: ./config.toml when present, else built-in defaults).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Create a user.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        email: String,
        /// Display name (default: the username).
        #[arg(long)]
        name: Option<String>,
        /// Password (8+ characters); read from TRIGGERD_PASSWORD when omitted, none if unset.
        #[arg(long)]
        password: Option<String>,
        /// Make the user an instance admin.
        #[arg(long)]
        admin: bool,
    },
    /// Set a user's password (so the bootstrap root can sign in to the web UI); ends the user's
    /// web sessions.
    SetPassword {
        #[arg(long)]
        username: String,
        /// Password (8+ characters); read from TRIGGERD_PASSWORD when omitted.
        #[arg(long)]
        password: Option<String>,
    },
    /// Create a personal access token for a user and print it (once).
    CreateToken {
        #[arg(long)]
        username: String,
        /// Token name.
        #[arg(long, default_value = "cli")]
        name: String,
        /// Comma-separated scopes: api, read_api.
        #[arg(long, default_value = "api")]
        scopes: String,
        /// Last day of validity, YYYY-MM-DD.
        #[arg(long)]
        expires_at: Option<String>,
    },
    /// Write a consistent copy of the database to a file (safe while the server runs).
    Backup {
        /// Destination file; must not exist.
        destination: PathBuf,
    },
}

/// Entry point used by `main.rs`.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let env: Vec<(String, String)> = std::env::vars().collect();
    let config = match Config::load(cli.config.as_deref(), env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("triggerd: {e}");
            return ExitCode::from(2);
        }
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(&config.log.level)).init();
    crate::api::panic_guard::install_panic_hook();
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::CreateUser { username, email, name, password, admin } => {
            let password = password.or_else(|| std::env::var("TRIGGERD_PASSWORD").ok());
            create_user(&config, &username, &email, name.as_deref(), password.as_deref(), admin)
        }
        Command::SetPassword { username, password } => {
            match password.or_else(|| std::env::var("TRIGGERD_PASSWORD").ok()) {
                Some(p) => set_password(&config, &username, &p),
                None => Err("give the password with --password or TRIGGERD_PASSWORD".into()),
            }
        }
        Command::CreateToken { username, name, scopes, expires_at } => {
            create_token(&config, &username, &name, &scopes, expires_at.as_deref())
        }
        Command::Backup { destination } => backup(&config, &destination),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("triggerd: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: Config) -> Result<(), String> {
    let listener = TcpListener::bind(&config.server.listen)
        .map_err(|e| format!("cannot bind {}: {e}", config.server.listen))?;
    let system = actix_web::rt::System::new();
    system.block_on(async move {
        let server = crate::build(config, listener).map_err(|e| e.to_string())?;
        server.await.map_err(|e| e.to_string())
    })
}

/// Opens the database for an admin command, creating and bootstrapping it if needed.
fn open(config: &Config) -> Result<Connection, String> {
    // Opening through Db runs migrations and the root bootstrap exactly as the server would.
    drop(
        db::Db::open(&config.database, |c| crate::bootstrap::root_user(c, config))
            .map_err(|e| e.to_string())?,
    );
    let conn = Connection::open(&config.database.path).map_err(|e| e.to_string())?;
    db::configure(&conn, &config.database).map_err(|e| e.to_string())?;
    Ok(conn)
}

/// A password's hash, after GitLab's length rules.
fn hash_new_password(password: &str) -> Result<String, String> {
    check_len("password", password, limits::PASSWORD)?;
    if password.chars().count() < limits::PASSWORD_MIN {
        return Err(format!("the password must have at least {} characters", limits::PASSWORD_MIN));
    }
    auth::hash_password(password).map_err(|e| e.to_string())
}

fn set_password(config: &Config, username: &str, password: &str) -> Result<(), String> {
    let hash = hash_new_password(password)?;
    let mut conn = open(config)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| e.to_string())?;
    let user = users::find_by_username(&tx, username)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no user {username}"))?;
    users::set_password_hash(&tx, user.id, &hash).map_err(|e| e.to_string())?;
    db::web_sessions::delete_for_user(&tx, user.id).map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())?;
    eprintln!("password set for {username}");
    Ok(())
}

fn create_user(
    config: &Config,
    username: &str,
    email: &str,
    name: Option<&str>,
    password: Option<&str>,
    admin: bool,
) -> Result<(), String> {
    check_len("username", username, limits::USERNAME)?;
    check_len("email", email, limits::EMAIL)?;
    check_len("name", name.unwrap_or(username), limits::USER_NAME)?;
    let hash = password.map(hash_new_password).transpose()?;
    let mut conn = open(config)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| e.to_string())?;
    let user = users::insert(
        &tx,
        &users::NewUser {
            username,
            name: name.unwrap_or(username),
            email,
            password_hash: hash.as_deref(),
            is_admin: admin,
        },
        &model::now(),
    )
    .map_err(|e| {
        if crate::error::is_unique_violation(&e) {
            "a user with that username or email already exists".to_string()
        } else {
            e.to_string()
        }
    })?;
    tx.commit().map_err(|e| e.to_string())?;
    println!("created user {} (id {}){}", user.username, user.id, if admin { " as admin" } else { "" });
    Ok(())
}

/// The API's length limits apply to the admin commands too.
fn check_len(field: &str, value: &str, limit: limits::Limit) -> Result<(), String> {
    limit.error(value).map_or(Ok(()), |e| Err(format!("{field} {e}")))
}

fn create_token(
    config: &Config,
    username: &str,
    name: &str,
    scopes: &str,
    expires_at: Option<&str>,
) -> Result<(), String> {
    let scopes: Vec<String> =
        scopes.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
    if scopes.is_empty() || scopes.iter().any(|s| s != "api" && s != "read_api") {
        return Err("scopes must be a comma-separated list of api and read_api".into());
    }
    let expires_at = match expires_at {
        Some(e) => {
            Some(model::format_date(model::parse_date(e).ok_or("expires_at must be a date, YYYY-MM-DD")?))
        }
        None => None,
    };
    let expires_at = expires_at.as_deref();
    check_len("name", name, limits::TOKEN_NAME)?;
    let mut conn = open(config)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| e.to_string())?;
    let user = users::find_by_username(&tx, username).map_err(|e| e.to_string())?.ok_or("no such user")?;
    let token = auth::new_personal_access_token().map_err(|e| e.to_string())?;
    tokens::insert(
        &tx,
        &tokens::NewToken {
            user_id: user.id,
            name,
            digest: &auth::digest(&token),
            scopes: &scopes,
            expires_at,
        },
        &model::now(),
    )
    .map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())?;
    // The one and only time this token is shown.
    println!("{token}");
    Ok(())
}

/// `VACUUM INTO` reads one snapshot (it does not restart when others write, unlike the online
/// backup API), then the copy and its directory are fsynced and the copy is integrity-checked.
/// The copy is private from its first byte: an empty 0600 file is created first (which
/// `VACUUM INTO` accepts as its output) and removed again if the backup fails.
pub fn backup(config: &Config, destination: &Path) -> Result<(), String> {
    let dest = destination.to_str().ok_or("the destination path must be valid UTF-8")?;
    let conn = open(config)?;
    match db::private_file_options().open(destination) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(format!("{} already exists", destination.display()));
        }
        Err(e) => return Err(format!("cannot create {}: {e}", destination.display())),
    }
    let written =
        conn.execute("VACUUM INTO ?1", [dest]).map_err(|e| format!("backup failed: {e}")).and_then(|_| {
            std::fs::File::open(destination).and_then(|f| f.sync_all()).map_err(|e| format!("fsync: {e}"))
        });
    if let Err(e) = written {
        let _ = std::fs::remove_file(destination);
        return Err(e);
    }
    sync_dir(destination);
    let copy = Connection::open(destination).map_err(|e| e.to_string())?;
    let check: String =
        copy.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| e.to_string())?;
    if check != "ok" {
        return Err(format!("the backup failed its integrity check: {check}"));
    }
    println!("backup written to {}", destination.display());
    Ok(())
}
