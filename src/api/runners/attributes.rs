//! The runner attributes a client may set on registration, creation and update, read and
//! type-checked from the parameters and validated as GitLab's model does; tag lists and a
//! runner's `info` hash.

use serde_json::Value;

use super::{ACCESS_LEVELS, MIN_MAXIMUM_TIMEOUT};
use crate::api::limits;
use crate::api::params::Params;
use crate::auth;
use crate::db::runners::{self as store, NewRunner, RunnerInfo};
use crate::error::{ApiError, ApiResult};

/// The runner attributes a client may set on registration, creation and update.
#[derive(Debug, Default)]
pub(super) struct Attributes {
    pub(super) description: Option<String>,
    pub(super) maintenance_note: Option<String>,
    pub(super) active: Option<bool>,
    pub(super) run_untagged: Option<bool>,
    pub(super) locked: Option<bool>,
    pub(super) access_level: Option<String>,
    pub(super) maximum_timeout: Option<i64>,
    pub(super) tags: Option<Vec<String>>,
}

impl Attributes {
    /// Reads and type-checks the attributes (Grape's parameter validation: `<key> is invalid`,
    /// `active, paused are mutually exclusive`, …). Model validations come later.
    pub(super) fn from_params(p: &Params) -> ApiResult<Attributes> {
        if p.get("active").is_some() && p.get("paused").is_some() {
            return Err(ApiError::Param("active, paused are mutually exclusive".into()));
        }
        let active = match p.bool("paused")? {
            Some(paused) => Some(!paused),
            None => p.bool("active")?,
        };
        let maintenance_note = match p.string("maintenance_note")? {
            Some(n) => Some(n),
            None => p.string("maintainer_note")?,
        };
        Ok(Attributes {
            description: p.string("description")?,
            maintenance_note,
            active,
            run_untagged: p.bool("run_untagged")?,
            locked: p.bool("locked")?,
            access_level: p.one_of("access_level", &ACCESS_LEVELS)?,
            maximum_timeout: p.int("maximum_timeout")?,
            tags: tag_list(p, "tag_list")?,
        })
    }

    /// GitLab's model validations on the values the runner will have.
    pub(super) fn validate(&self, tags: &[String], run_untagged: bool) -> ApiResult<()> {
        limits::RUNNER_DESCRIPTION.check_opt("description", self.description.as_deref())?;
        limits::RUNNER_MAINTENANCE_NOTE.check_opt("maintenance_note", self.maintenance_note.as_deref())?;
        if tags.len() > store::MAX_TAGS {
            return Err(ApiError::validation(
                "tags_list",
                format!("Too many tags specified. Please limit the number of tags to {}", store::MAX_TAGS),
            ));
        }
        for tag in tags {
            limits::RUNNER_TAG.check("tag_list", tag)?;
        }
        if tags.is_empty() && !run_untagged {
            return Err(ApiError::validation(
                "tags_list",
                "can not be empty when runner is not allowed to pick untagged jobs",
            ));
        }
        if self.maximum_timeout.is_some_and(|t| t < MIN_MAXIMUM_TIMEOUT) {
            return Err(ApiError::validation("maximum_timeout", "needs to be at least 10 minutes"));
        }
        Ok(())
    }

    /// A new runner with these attributes (GitLab's defaults for the rest), validated.
    pub(super) fn into_new_runner(self, token: &str, info: RunnerInfo) -> ApiResult<NewRunner> {
        let tags = self.tags.clone().unwrap_or_default();
        let run_untagged = self.run_untagged.unwrap_or(true);
        self.validate(&tags, run_untagged)?;
        Ok(NewRunner {
            token_digest: auth::digest(token),
            short_token: auth::runner_short_token(token),
            runner_type: String::new(),
            registration_type: String::new(),
            project_id: None,
            creator_id: None,
            description: self.description,
            maintenance_note: self.maintenance_note,
            active: self.active.unwrap_or(true),
            run_untagged,
            locked: self.locked.unwrap_or(false),
            access_level: self.access_level.unwrap_or_else(|| "not_protected".into()),
            maximum_timeout: self.maximum_timeout,
            tags,
            info,
        })
    }
}

/// A tag list: a JSON array, repeated fields or a comma-separated string; every item is split
/// at commas too (GitLab's `CommaSeparatedToArray`), trimmed and deduplicated.
pub(super) fn tag_list(p: &Params, key: &str) -> ApiResult<Option<Vec<String>>> {
    Ok(p.string_list(key)?.map(|items| {
        store::normalize_tags(items.iter().flat_map(|i| i.split(',').map(str::to_string).collect::<Vec<_>>()))
    }))
}

/// The runner's `info` hash (`name`, `version`, `revision`, `platform`, `architecture`); each
/// value is cut to [`limits::RUNNER_INFO`]. Anything but a hash is `info is invalid`.
pub(super) fn runner_info(p: &Params) -> ApiResult<RunnerInfo> {
    let Some(info) = p.get("info") else { return Ok(RunnerInfo::default()) };
    let Value::Object(map) = info else { return Err(ApiError::invalid("info")) };
    let field = |key: &str| -> Option<String> {
        let v = match map.get(key)? {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        Some(v.chars().take(limits::RUNNER_INFO.max).collect())
    };
    Ok(RunnerInfo {
        name: field("name"),
        version: field("version"),
        revision: field("revision"),
        platform: field("platform"),
        architecture: field("architecture"),
    })
}
