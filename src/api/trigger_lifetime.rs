//! Trigger token lifetimes (issue 14, point 4): the instance's maximum lifetime of a new token
//! (`triggers.max_lifetime_days`, at most GitLab's 365), the default `expires_at` of a token
//! created without one (`triggers.default_lifetime_days`, 0 = never expires), and GitLab's
//! "expires soon" rule (`Expirable#expires_soon?`: it expires within 7 days). Shared by the API
//! and the web UI.

use time::{Date, OffsetDateTime};

use crate::config::TriggersConfig;
use crate::model;

/// GitLab's `Expirable::DAYS_TO_EXPIRE`: a token expiring within this many days expires soon.
pub const SOON_DAYS: i64 = 7;

/// The first date a new token may no longer expire on: `expires_at` must be before it.
pub fn max_date(cfg: &TriggersConfig) -> Date {
    let days = i64::try_from(cfg.max_lifetime_days).unwrap_or(i64::MAX);
    model::today().saturating_add(time::Duration::days(days))
}

/// The `expires_at` of a new token created without one: midnight UTC `default_lifetime_days`
/// from today, or `None` (never expires) when that is 0.
pub fn default_expires_at(cfg: &TriggersConfig) -> Option<String> {
    let days = i64::try_from(cfg.default_lifetime_days).ok().filter(|d| *d > 0)?;
    let date = model::today().saturating_add(time::Duration::days(days));
    Some(model::format_ts(date.midnight().assume_utc()))
}

/// True when the token has an `expires_at` within [`SOON_DAYS`] of `now` (or already past).
pub fn expires_soon(expires_at: Option<&str>, now: OffsetDateTime) -> bool {
    let Some(e) = expires_at else { return false };
    let soon = model::format_ts(now.saturating_add(time::Duration::days(SOON_DAYS)));
    super::trigger_call::is_expired(Some(e), &soon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_expires_soon_within_seven_days_and_never_without_an_expiry() {
        let now = OffsetDateTime::now_utc();
        let at = |days: i64| model::format_ts(now + time::Duration::days(days));
        assert!(expires_soon(Some(&at(6)), now));
        assert!(expires_soon(Some(&at(-1)), now));
        assert!(!expires_soon(Some(&at(8)), now));
        assert!(!expires_soon(None, now));
    }

    #[test]
    fn the_default_expiry_is_midnight_utc_days_ahead_or_none() {
        let mut cfg = TriggersConfig::default();
        assert_eq!(default_expires_at(&cfg), None);
        cfg.default_lifetime_days = 30;
        let expected = model::today().saturating_add(time::Duration::days(30));
        assert_eq!(default_expires_at(&cfg), Some(format!("{}T00:00:00.000Z", model::format_date(expected))));
    }
}
