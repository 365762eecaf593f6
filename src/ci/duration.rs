//! GitLab duration strings (`timeout: 1h 30m`, `10 minutes`, `3600`), as ChronicDuration reads
//! them: numbers followed by units, optionally separated by spaces, commas or `and`; a bare
//! number is seconds.

/// The longest job timeout GitLab accepts (one month of 30 days).
pub const MAX_TIMEOUT_SECS: u64 = 30 * 24 * 3600;

/// Parses a duration into whole seconds (rounded down); `None` if it is not a duration.
pub fn parse_duration(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    if text.is_empty() || text.len() > 200 {
        return None;
    }
    let mut total = 0f64;
    let mut rest = text.as_str();
    let mut seen = false;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        if let Some(after) = rest.strip_prefix("and ") {
            rest = after;
            continue;
        }
        if rest.is_empty() {
            break;
        }
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = rest[number_len..].trim_start();
        let unit_len = rest.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        total += number * unit_seconds(unit)?;
        seen = true;
    }
    if !seen || !total.is_finite() || total < 0.0 || total > u64::MAX as f64 {
        return None;
    }
    Some(total as u64)
}

fn unit_seconds(unit: &str) -> Option<f64> {
    Some(match unit {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86_400.0,
        "w" | "wk" | "wks" | "week" | "weeks" => 604_800.0,
        "mo" | "mos" | "month" | "months" => 2_592_000.0,
        "y" | "yr" | "yrs" | "year" | "years" => 31_536_000.0,
        _ => return None,
    })
}
