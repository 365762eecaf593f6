//! Pure timing rules of delivery: the retry delay after a failure and GitLab's auto-disabling
//! (`app/models/concerns/web_hooks/auto_disabling.rb`): failures 1–3 are free (retried after
//! `retry_delay × n`), from the 4th the hook is temporarily disabled for
//! `disable_backoff × 2^(n − 4)` (1, 2, 4, … minutes with GitLab's numbers, capped), and after the 39th it is disabled for good.

use std::time::Duration;

/// Failures before the hook is temporarily disabled.
pub const FREE_FAILURES: i64 = 3;
/// Above this many consecutive failures the hook is disabled until a successful test call.
pub const PERMANENT_FAILURES: i64 = 39;

/// The timing knobs (from `[webhooks]` in the configuration).
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub retry_delay: Duration,
    pub disable_backoff: Duration,
    pub max_disable_backoff: Duration,
}

/// What happens to a hook after a failed attempt that made `failures` consecutive failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Retry the same event after this long.
    RetryIn(Duration),
    /// Temporarily disabled for this long (the event waits and is retried then).
    DisabledFor(Duration),
    /// Disabled until a successful test call.
    Disabled,
}

impl Backoff {
    pub fn after_failure(&self, failures: i64) -> AfterFailure {
        if failures > PERMANENT_FAILURES {
            AfterFailure::Disabled
        } else if failures > FREE_FAILURES {
            let exp = (failures - FREE_FAILURES - 1).clamp(0, 30) as u32;
            let wait = self.disable_backoff.saturating_mul(1u32 << exp);
            AfterFailure::DisabledFor(wait.min(self.max_disable_backoff))
        } else {
            AfterFailure::RetryIn(self.retry_delay.saturating_mul(failures.max(1) as u32))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GITLAB: Backoff = Backoff {
        retry_delay: Duration::from_secs(10),
        disable_backoff: Duration::from_secs(60),
        max_disable_backoff: Duration::from_secs(86_400),
    };

    #[test]
    fn the_first_three_failures_are_retried_after_growing_delays() {
        assert_eq!(GITLAB.after_failure(1), AfterFailure::RetryIn(Duration::from_secs(10)));
        assert_eq!(GITLAB.after_failure(3), AfterFailure::RetryIn(Duration::from_secs(30)));
    }

    #[test]
    fn from_the_fourth_failure_the_hook_is_disabled_for_doubling_minutes_up_to_a_day() {
        assert_eq!(GITLAB.after_failure(4), AfterFailure::DisabledFor(Duration::from_secs(60)));
        assert_eq!(GITLAB.after_failure(5), AfterFailure::DisabledFor(Duration::from_secs(120)));
        assert_eq!(GITLAB.after_failure(39), AfterFailure::DisabledFor(Duration::from_secs(86_400)));
    }

    #[test]
    fn the_fortieth_failure_disables_the_hook_for_good() {
        assert_eq!(GITLAB.after_failure(40), AfterFailure::Disabled);
    }
}
