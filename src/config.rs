//! Configuration: embedded defaults, then `config.toml`, then `TRIGGERD_<SECTION>__<KEY>`
//! environment variables (last wins). Every key has a default, so the server starts with no file.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Prefix of environment overrides: `TRIGGERD_SERVER__LISTEN` sets `[server] listen`.
pub const ENV_PREFIX: &str = "TRIGGERD_";

/// The whole configuration; `config.toml` in the repository documents every key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub bootstrap: BootstrapConfig,
    pub limits: LimitsConfig,
    pub runners: RunnersConfig,
    pub triggers: TriggersConfig,
    pub web: WebConfig,
    pub webhooks: WebhooksConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to bind; port 0 picks a free port.
    pub listen: String,
    /// Base URL clients use to reach the server (for `web_url` and `Link`); empty = the scheme
    /// and `Host` the client used, or the bound address for a request naming no usable host.
    pub external_url: String,
    /// HTTP worker threads; 0 = one per core.
    pub workers: usize,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// A request body must arrive completely within this many seconds.
    pub body_read_timeout_secs: u64,
    /// Seconds a graceful stop (SIGTERM) waits for in-flight requests.
    pub shutdown_timeout_secs: u64,
    /// A request header naming the client's address, set by a reverse proxy in front of
    /// triggerd (e.g. `X-Forwarded-For`, whose last entry counts, or `X-Real-IP`); empty = the
    /// peer address. Only set it when every request comes through that proxy.
    pub client_address_header: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// The SQLite file; its directory is created if missing.
    pub path: PathBuf,
    /// `PRAGMA synchronous`: FULL (survives power loss) or NORMAL (survives a process crash).
    pub synchronous: String,
    /// Read connections in the pool (writes go through one writer connection).
    pub pool_size: u32,
    /// How long a connection waits for a lock before giving up, in milliseconds.
    pub busy_timeout_ms: u64,
    /// Most write requests the writer commits in one transaction.
    pub max_batch: usize,
}

#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BootstrapConfig {
    /// Root's personal access token when the database has no users yet (must start `glpat-`);
    /// empty = generate one and write it to `<database>.root-token` (mode 0600).
    pub root_token: String,
}

impl fmt::Debug for BootstrapConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = if self.root_token.is_empty() { "" } else { "***" };
        f.debug_struct("BootstrapConfig").field("root_token", &shown).finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Most variables one trigger call may carry.
    pub max_variables: usize,
    /// Longest variable key, in characters (keys are `[A-Za-z0-9_]`).
    pub max_variable_key_len: usize,
    /// Largest variable value, in bytes.
    pub max_variable_value_bytes: usize,
    /// Argon2 password hashes computed at once (each holds ~19 MiB).
    pub max_concurrent_password_hashes: usize,
    /// Deepest bracket nesting of a parameter (`a[b][c]=1` is 2 levels; JSON bodies too).
    pub max_param_depth: usize,
    /// Most `key=value` pairs in a request's query string and urlencoded or multipart body.
    pub max_params: usize,
    /// Largest file the Repository Files API stores, in bytes (after base64 decoding).
    pub max_file_bytes: usize,
    /// Most files one commit's tree may hold (the Repository Files API refuses a create beyond).
    pub max_repository_files: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunnersConfig {
    /// How long `POST /jobs/request` waits for a job before answering 204, in seconds
    /// (Workhorse's `apiCiLongPollingDuration`; 0 = answer at once).
    pub long_poll_timeout_secs: u64,
    /// Largest job log kept, in bytes: later output is dropped.
    pub max_trace_bytes: usize,
    /// A running job whose runner sent nothing (no state update, no log) for this many seconds
    /// fails with `stuck_or_timeout_failure` (GitLab's 1 hour).
    pub stuck_running_timeout_secs: u64,
    /// How often the sweeper looks for such jobs, in seconds.
    pub sweep_interval_secs: u64,
}

impl Default for RunnersConfig {
    fn default() -> Self {
        Self {
            long_poll_timeout_secs: 50,
            max_trace_bytes: 4 * 1024 * 1024,
            stuck_running_timeout_secs: 3600,
            sweep_interval_secs: 60,
        }
    }
}

/// Trigger tokens (issue 14).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TriggersConfig {
    /// Failed trigger calls (unknown, expired or revoked token) one client address may make
    /// within `failed_attempts_window_secs`; later calls from it get 429 with `Retry-After` until
    /// the window ends, without touching the database. 0 = no limit.
    pub max_failed_attempts: u32,
    /// The window of `max_failed_attempts`, in seconds.
    pub failed_attempts_window_secs: u64,
    /// Days the audit log of trigger calls keeps a record (and unknown-token counts).
    pub events_retention_days: u64,
    /// Records kept per trigger at most (the newest); older ones go at the next sweep.
    pub max_events_per_trigger: u64,
    /// A new trigger token without `expires_at` expires at midnight UTC this many days from
    /// today; 0 = it never expires (GitLab's behaviour).
    pub default_lifetime_days: u64,
    /// A new trigger token's `expires_at` must be before today + this many days (1 to 365,
    /// GitLab's `MAX_PERSONAL_ACCESS_TOKEN_LIFETIME_IN_DAYS`); later → 400.
    pub max_lifetime_days: u64,
}

impl Default for TriggersConfig {
    fn default() -> Self {
        Self {
            max_failed_attempts: 20,
            failed_attempts_window_secs: 60,
            events_retention_days: 90,
            max_events_per_trigger: 10_000,
            default_lifetime_days: 0,
            max_lifetime_days: 365,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebConfig {
    /// How long a web UI session lasts after sign-in, in seconds (then the user signs in again).
    pub session_ttl_secs: u64,
    /// Failed sign-ins one client address may make within `sign_in_window_secs` before it is
    /// refused with 429 until the window ends.
    pub max_failed_sign_ins: u32,
    /// The window of `max_failed_sign_ins`, in seconds.
    pub sign_in_window_secs: u64,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self { session_ttl_secs: 7 * 24 * 3600, max_failed_sign_ins: 10, sign_in_window_secs: 600 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Allow hook URLs (and resolved addresses) on loopback, private, link-local and other
    /// non-public networks (GitLab's "Allow requests to the local network from webhooks").
    pub allow_local_network: bool,
    /// A delivery attempt must get its answer within this many seconds (GitLab's 10).
    pub timeout_secs: u64,
    /// Hooks delivered to at once (each hook's events go one at a time, in order).
    pub max_concurrency: usize,
    /// How often the deliverer looks for due deliveries without being woken, in milliseconds.
    pub poll_interval_ms: u64,
    /// Wait before retrying after the 1st, 2nd and 3rd consecutive failure (× 1, 2, 3), in ms.
    pub retry_delay_ms: u64,
    /// From the 4th consecutive failure a hook is temporarily disabled for this × 2^(failures − 4)
    /// milliseconds (GitLab: 1 minute) ...
    pub disable_backoff_ms: u64,
    /// ... at most this long (GitLab: 1 day). At the 40th failure it is disabled for good.
    pub max_disable_backoff_ms: u64,
    /// Delivery log rows (and finished outbox rows) are kept this many days (GitLab: 7).
    pub log_retention_days: u64,
}

impl Default for WebhooksConfig {
    fn default() -> Self {
        Self {
            allow_local_network: false,
            timeout_secs: 10,
            max_concurrency: 8,
            poll_interval_ms: 1000,
            retry_delay_ms: 10_000,
            disable_backoff_ms: 60_000,
            max_disable_backoff_ms: 86_400_000,
            log_retention_days: 7,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// env_logger filter, e.g. `info` or `triggerd=debug`; `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            external_url: String::new(),
            workers: 0,
            max_body_bytes: 1024 * 1024,
            body_read_timeout_secs: 10,
            shutdown_timeout_secs: 30,
            client_address_header: String::new(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            path: PathBuf::from("data/triggerd.db"),
            synchronous: "FULL".into(),
            pool_size: 4,
            busy_timeout_ms: 5000,
            max_batch: 256,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_variables: 200,
            max_variable_key_len: 255,
            max_variable_value_bytes: 64 * 1024,
            max_concurrent_password_hashes: 2,
            max_param_depth: 100,
            max_params: 1000,
            max_file_bytes: 1024 * 1024,
            max_repository_files: 1000,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { level: "info".into() }
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid configuration in {origin}: {message}")]
    Invalid { origin: String, message: String },
}

impl Config {
    /// Loads the configuration. `path` is the `--config` argument; without it `config.toml` in
    /// the working directory is read when present. `env` returns environment variables as
    /// `(name, value)` pairs (injected so tests need not touch the process environment).
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let (origin, text) = match path {
            Some(p) => (p.display().to_string(), Some(read(p)?)),
            None if Path::new("config.toml").exists() => {
                ("config.toml".to_string(), Some(read(Path::new("config.toml"))?))
            }
            None => ("defaults".to_string(), None),
        };
        let mut table = match text {
            Some(t) => toml::from_str::<toml::Table>(&t).map_err(|e| invalid(&origin, e))?,
            None => toml::Table::new(),
        };
        apply_env(&mut table, env)?;
        let config: Config = table.try_into().map_err(|e| invalid(&origin, e))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let bad = |message: &str| Err(invalid("configuration", message));
        let sync = self.database.synchronous.to_ascii_uppercase();
        if !["FULL", "NORMAL", "EXTRA"].contains(&sync.as_str()) {
            return bad("database.synchronous must be FULL, NORMAL or EXTRA");
        }
        let token = &self.bootstrap.root_token;
        if !token.is_empty() && (!token.starts_with("glpat-") || token.len() < 26) {
            return bad("bootstrap.root_token must start with `glpat-` followed by at least 20 characters");
        }
        if self.database.pool_size == 0 || self.database.max_batch == 0 {
            return bad("database.pool_size and database.max_batch must be at least 1");
        }
        if self.limits.max_concurrent_password_hashes == 0 {
            return bad("limits.max_concurrent_password_hashes must be at least 1");
        }
        if self.limits.max_repository_files == 0 {
            return bad("limits.max_repository_files must be at least 1");
        }
        if self.triggers.failed_attempts_window_secs == 0 {
            return bad("triggers.failed_attempts_window_secs must be at least 1");
        }
        if self.triggers.events_retention_days == 0 || self.triggers.max_events_per_trigger == 0 {
            return bad(
                "triggers.events_retention_days and triggers.max_events_per_trigger must be at least 1",
            );
        }
        let t = &self.triggers;
        if !(1..=365).contains(&t.max_lifetime_days) || t.default_lifetime_days > t.max_lifetime_days {
            return bad(
                "triggers.max_lifetime_days must be 1 to 365 and triggers.default_lifetime_days at most that",
            );
        }
        let header = &self.server.client_address_header;
        if actix_web::http::header::HeaderName::try_from(header.as_str()).is_err() && !header.is_empty() {
            return bad("server.client_address_header must be empty or a header name");
        }
        if self.webhooks.timeout_secs == 0
            || self.webhooks.max_concurrency == 0
            || self.webhooks.poll_interval_ms == 0
        {
            return bad(
                "webhooks.timeout_secs, webhooks.max_concurrency and webhooks.poll_interval_ms must be at least 1",
            );
        }
        if self.web.session_ttl_secs == 0 {
            return bad("web.session_ttl_secs must be at least 1");
        }
        let url = &self.server.external_url;
        if !(url.is_empty() || url.starts_with("http://") || url.starts_with("https://")) {
            return bad("server.external_url must start with http:// or https://");
        }
        Ok(())
    }
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })
}

fn invalid(origin: &str, message: impl fmt::Display) -> ConfigError {
    ConfigError::Invalid { origin: origin.to_string(), message: message.to_string() }
}

/// Writes `TRIGGERD_<SECTION>__<KEY>` variables into the table, typed like the default value of
/// that key. A variable naming no key is reported and ignored (a typo must not go unnoticed).
fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let defaults = toml::Table::try_from(Config::default()).map_err(|e| invalid("defaults", e))?;
    for (name, value) in env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else { continue };
        let Some((section, key)) = rest.split_once("__") else {
            log::warn!("ignoring environment variable {name}: expected {ENV_PREFIX}<SECTION>__<KEY>");
            continue;
        };
        let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
        let Some(default) = defaults.get(&section).and_then(|s| s.get(&key)) else {
            log::warn!("ignoring environment variable {name}: no key [{section}] {key}");
            continue;
        };
        let typed = match default {
            toml::Value::Integer(_) => value
                .trim()
                .parse::<i64>()
                .map(toml::Value::Integer)
                .map_err(|_| invalid(&name, "expected an integer"))?,
            toml::Value::Boolean(_) => value
                .trim()
                .parse::<bool>()
                .map(toml::Value::Boolean)
                .map_err(|_| invalid(&name, "expected true or false"))?,
            _ => toml::Value::String(value),
        };
        let entry = table.entry(section.clone()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        match entry {
            toml::Value::Table(t) => {
                t.insert(key, typed);
            }
            _ => return Err(invalid(&name, format!("[{section}] is not a table"))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_apply_without_a_file() {
        let c = Config::load(Some(Path::new("config.toml")), env(&[])).unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:8080");
        assert_eq!(c.database.synchronous, "FULL");
    }

    #[test]
    fn environment_overrides_win_and_are_typed() {
        let c = Config::load(
            None,
            env(&[
                ("TRIGGERD_SERVER__LISTEN", "127.0.0.1:0"),
                ("TRIGGERD_DATABASE__PATH", "/tmp/x/db.sqlite"),
                ("TRIGGERD_DATABASE__POOL_SIZE", "7"),
                ("TRIGGERD_BOOTSTRAP__ROOT_TOKEN", "glpat-abcdefghijklmnopqrstuvwxyz"),
                ("TRIGGERD_NOT__A_KEY", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:0");
        assert_eq!(c.database.path, PathBuf::from("/tmp/x/db.sqlite"));
        assert_eq!(c.database.pool_size, 7);
        assert_eq!(c.bootstrap.root_token, "glpat-abcdefghijklmnopqrstuvwxyz");
    }

    #[test]
    fn a_non_numeric_integer_override_is_an_error() {
        let r = Config::load(None, env(&[("TRIGGERD_DATABASE__POOL_SIZE", "many")]));
        assert!(r.is_err());
    }

    #[test]
    fn a_root_token_without_the_glpat_prefix_is_refused() {
        let r = Config::load(None, env(&[("TRIGGERD_BOOTSTRAP__ROOT_TOKEN", "secret-secret-secret-secret")]));
        assert!(r.is_err());
    }

    #[test]
    fn trigger_lifetimes_are_checked() {
        let load = |max: &str, default: &str| {
            Config::load(
                None,
                env(&[
                    ("TRIGGERD_TRIGGERS__MAX_LIFETIME_DAYS", max),
                    ("TRIGGERD_TRIGGERS__DEFAULT_LIFETIME_DAYS", default),
                ]),
            )
        };
        assert!(load("30", "30").is_ok());
        assert!(load("30", "31").is_err());
        assert!(load("0", "0").is_err());
        assert!(load("366", "0").is_err());
    }

    #[test]
    fn debug_output_hides_the_root_token() {
        let mut c = Config::default();
        c.bootstrap.root_token = "glpat-abcdefghijklmnopqrstuvwxyz".into();
        assert!(!format!("{c:?}").contains("abcdefghij"));
    }

    #[test]
    fn the_repository_config_file_parses_and_matches_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml");
        let c = Config::load(Some(&path), env(&[])).unwrap();
        let d = Config::default();
        assert_eq!(toml::to_string(&c).unwrap(), toml::to_string(&d).unwrap());
    }
}
