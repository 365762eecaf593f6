//! The vocabulary `api/` and `db/` share: access levels, visibility, timestamps.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// GitLab's project access levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AccessLevel {
    Guest = 10,
    Reporter = 20,
    Developer = 30,
    Maintainer = 40,
    Owner = 50,
}

impl AccessLevel {
    /// The level for a stored or requested number; `None` for anything GitLab does not define.
    pub fn from_i64(n: i64) -> Option<Self> {
        Some(match n {
            10 => Self::Guest,
            20 => Self::Reporter,
            30 => Self::Developer,
            40 => Self::Maintainer,
            50 => Self::Owner,
            _ => return None,
        })
    }
}

/// Project visibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Private,
    Internal,
    Public,
}

impl Visibility {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "private" => Some(Self::Private),
            "internal" => Some(Self::Internal),
            "public" => Some(Self::Public),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Internal => "internal",
            Self::Public => "public",
        }
    }
}

/// The years a timestamp from input may have: four digits, as the stored format and GitLab's
/// JSON write them. Anything outside is `<param> is invalid`, never an overflow.
pub const YEARS: std::ops::RangeInclusive<i32> = 1..=9999;

/// Formats a time as GitLab does: `2016-01-07T09:53:58.235Z` (UTC, milliseconds).
///
/// Times from input arrive already in UTC (see [`parse_datetime`]); a time that has no UTC
/// equivalent (an offset pushing it past year 9999) saturates to the nearest representable one
/// instead of panicking as `to_offset` would.
pub fn format_ts(t: OffsetDateTime) -> String {
    let t = t.checked_to_offset(UtcOffset::UTC).unwrap_or(if t.year() > 0 {
        PrimitiveDateTime::MAX.assume_utc()
    } else {
        PrimitiveDateTime::MIN.assume_utc()
    });
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Now, in the stored/wire format.
pub fn now() -> String {
    format_ts(OffsetDateTime::now_utc())
}

/// Today's UTC date as `YYYY-MM-DD`.
pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

/// Formats a date as `YYYY-MM-DD`.
pub fn format_date(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Parses a date `YYYY-MM-DD` with a year in [`YEARS`].
pub fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s.trim(), format_description!("[year]-[month]-[day]"))
        .ok()
        .filter(|d| YEARS.contains(&d.year()))
}

/// Parses an ISO-8601 date-time as clients send it: RFC 3339 (`2026-01-02T03:04:05.678Z`,
/// `…+02:00`), a basic offset (`1990-01-12T00:00:48-0600`), no offset (taken as UTC), or a bare
/// date (midnight UTC). Anything else (`01/01/2050`, `2308`, `abc`) is `None`, and so is a time
/// whose UTC equivalent falls outside years 1–9999 (`9999-12-31T23:59:59-01:00`). The result is
/// always in UTC, so later arithmetic and formatting cannot overflow.
pub fn parse_datetime(s: &str) -> Option<OffsetDateTime> {
    parse_datetime_any_offset(s)
        .and_then(|t| t.checked_to_offset(UtcOffset::UTC))
        .filter(|t| YEARS.contains(&t.year()))
}

fn parse_datetime_any_offset(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t);
    }
    if let Some(d) = parse_date(s) {
        return Some(d.midnight().assume_utc());
    }
    // `T` or space separator, optional fraction, optional `Z`/`±HHMM`/`±HH:MM`/`±HH`.
    let (body, offset) = split_offset(s)?;
    let body = body.replacen(' ', "T", 1);
    let formats = [
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
    ];
    formats.iter().find_map(|f| PrimitiveDateTime::parse(&body, f).ok()).map(|p| p.assume_offset(offset))
}

fn split_offset(s: &str) -> Option<(&str, UtcOffset)> {
    if let Some(b) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        return Some((b, UtcOffset::UTC));
    }
    // Look for a sign after the time part (the date's own dashes come before `T`).
    let t = s.find(['T', ' '])?;
    match s[t..].rfind(['+', '-']) {
        None => Some((s, UtcOffset::UTC)),
        Some(i) => {
            let (body, off) = s.split_at(t + i);
            let sign: i8 = if off.starts_with('-') { -1 } else { 1 };
            let digits: String = off[1..].chars().filter(|c| *c != ':').collect();
            if !digits.chars().all(|c| c.is_ascii_digit()) || !(digits.len() == 2 || digits.len() == 4) {
                return None;
            }
            let h: i8 = digits[..2].parse().ok()?;
            let m: i8 = if digits.len() == 4 { digits[2..].parse().ok()? } else { 0 };
            Some((body, UtcOffset::from_hms(sign * h, sign * m, 0).ok()?))
        }
    }
}

/// Parses a stored timestamp (always our own format).
pub fn parse_stored(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// A Gravatar identicon URL (Gravatar accepts SHA-256 of the trimmed, lower-cased email): the
/// `avatar_url` of users in API entities and webhook payloads.
///
/// Lists repeat the same few users (every trigger of a project has one of its maintainers as
/// owner), so each thread remembers the URLs it computed, up to [`AVATAR_MEMO`] emails: a list
/// item costs a map lookup instead of a SHA-256 (issue 13: no per-item hashing in lists).
pub fn avatar_url(email: &str) -> String {
    use sha2::{Digest, Sha256};
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static MEMO: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
    }
    MEMO.with_borrow_mut(|memo| {
        if let Some(url) = memo.get(email) {
            return url.clone();
        }
        let hash = hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()));
        let url = format!("https://www.gravatar.com/avatar/{hash}?s=80&d=identicon");
        if memo.len() >= AVATAR_MEMO {
            memo.clear();
        }
        memo.insert(email.to_string(), url.clone());
        url
    })
}

/// How many avatar URLs one thread keeps (about 200 bytes each).
const AVATAR_MEMO: usize = 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avatar_urls_are_the_same_remembered_or_not() {
        let direct = |email: &str| {
            use sha2::{Digest, Sha256};
            let hash = hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()));
            format!("https://www.gravatar.com/avatar/{hash}?s=80&d=identicon")
        };
        // Past the memo's size, so it is cleared once on the way; every email is asked twice.
        for round in 0..2 {
            for i in 0..AVATAR_MEMO + 10 {
                let email = format!(" User{i}@Example.com ");
                assert_eq!(avatar_url(&email), direct(&email), "round {round}, email {i}");
            }
        }
    }

    #[test]
    fn timestamps_have_gitlabs_millisecond_utc_format() {
        let t = parse_datetime("2016-01-07T10:53:58.2357+01:00").unwrap();
        assert_eq!(format_ts(t), "2016-01-07T09:53:58.235Z");
    }

    #[test]
    fn iso_8601_forms_parse_and_others_do_not() {
        for ok in [
            "2050-01-01",
            "2050-01-01T12:00:00Z",
            "2050-01-01T12:00:00.123Z",
            "2050-01-01T12:00:00+02:00",
            "1990-01-12T00:00:48-0600",
            "2050-01-01 12:00:00",
            "2050-01-01T12:00",
        ] {
            assert!(parse_datetime(ok).is_some(), "{ok} should parse");
        }
        for bad in ["abc", "01/01/2050", "25/26/27", "2308", "", "2050-13-01", "2050-01-01T25:00:00Z"] {
            assert!(parse_datetime(bad).is_none(), "{bad} should not parse");
        }
    }

    #[test]
    fn times_without_a_utc_equivalent_in_years_1_to_9999_do_not_parse() {
        for bad in [
            "9999-12-31T23:59:59-01:00",
            "9999-12-31T23:59:59.999-0001",
            "0001-01-01T00:00:00+01:00",
            "0000-06-01",
            "-0001-01-01T00:00:00Z",
            "+10000-01-01T00:00:00Z",
        ] {
            assert!(parse_datetime(bad).is_none(), "{bad} should not parse");
        }
        for bad in ["0000-01-01", "-0001-01-01", "+10000-01-01"] {
            assert!(parse_date(bad).is_none(), "{bad} should not parse");
        }
        let last = parse_datetime("9999-12-31T22:59:59-01:00").unwrap();
        assert_eq!(format_ts(last), "9999-12-31T23:59:59.000Z");
        assert_eq!(
            parse_datetime("0001-01-01T01:00:00+01:00").map(format_ts).unwrap(),
            "0001-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn odd_input_never_panics_the_parser() {
        for odd in [
            "2050-01-01Tä+01",
            "2050-01-01T+",
            "2050-01-01T-",
            "2050-01-01T12:00:00+99:99",
            "2050-01-01T12:00:00-9",
            "2050-01-01 12:00:00+ä",
            "ä-ö-üTx",
            "T",
            " ",
        ] {
            let _ = parse_datetime(odd);
        }
    }

    #[test]
    fn formatting_saturates_instead_of_overflowing() {
        let t = PrimitiveDateTime::MAX.assume_offset(UtcOffset::from_hms(-1, 0, 0).unwrap());
        assert_eq!(format_ts(t), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn a_basic_offset_is_applied() {
        let t = parse_datetime("1990-01-12T00:00:48-0600").unwrap();
        assert_eq!(format_ts(t), "1990-01-12T06:00:48.000Z");
    }
}
