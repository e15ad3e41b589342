//! `X-Amz-Date` parsing and formatting, and the calendar arithmetic behind them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian `(year, month, day)` of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`), the inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are in range by construction (1..=31, 1..=12).
    (year, month as u32, day as u32)
}

fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs())
            .map(|s| -s)
            .unwrap_or(i64::MIN),
    }
}

fn system_time(seconds: i64) -> Option<SystemTime> {
    if seconds >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(seconds.unsigned_abs()))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(seconds.unsigned_abs()))
    }
}

/// Formats `t` (truncated to the second) as an `X-Amz-Date`: `YYYYMMDDTHHMMSSZ`, UTC.
pub fn format_amz_date(t: SystemTime) -> String {
    let seconds = unix_seconds(t);
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        in_day / 3600,
        (in_day % 3600) / 60,
        in_day % 60
    )
}

/// Builds a time from calendar fields, rejecting impossible dates.
fn time_from_fields(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> Option<SystemTime> {
    if !(1..=12).contains(&month) || day == 0 || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // Reject 31 February and the like by a round trip.
    if civil_from_days(days) != (year, month, day) {
        return None;
    }
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    system_time(seconds)
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses an `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`, ISO 8601 basic format, UTC).
pub fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let year = digits(s.get(0..4)?)?;
    let month = digits(s.get(4..6)?)?;
    let day = digits(s.get(6..8)?)?;
    let hour = digits(s.get(9..11)?)?;
    let minute = digits(s.get(11..13)?)?;
    let second = digits(s.get(13..15)?)?;
    time_from_fields(i64::from(year), month, day, hour, minute, second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_from_days_is_year_month_day() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        // 2015-08-30, the AWS suite's date: a day above 12 and a month that is not.
        assert_eq!(civil_from_days(16_677), (2015, 8, 30));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        for (year, month, day) in [(2024, 2, 29), (2000, 3, 1), (1900, 2, 28), (2015, 12, 13)] {
            assert_eq!(
                civil_from_days(days_from_civil(year, month, day)),
                (year, month, day)
            );
        }
    }

    #[test]
    fn amz_dates_round_trip() {
        let t = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_440_938_160
        );
        assert_eq!(format_amz_date(t), "20150830T123600Z");
        assert_eq!(format_amz_date(UNIX_EPOCH), "19700101T000000Z");
        let leap = parse_amz_date("20240229T235959Z").unwrap();
        assert_eq!(format_amz_date(leap), "20240229T235959Z");
        assert_eq!(parse_amz_date("20230229T000000Z"), None);
        assert_eq!(parse_amz_date("2015-08-30T12:36:00Z"), None);
        assert_eq!(parse_amz_date("20150830T123600"), None);
        assert_eq!(parse_amz_date("2015083+T123600Z"), None);
        assert_eq!(parse_amz_date("20150830T246000Z"), None);
        let before = UNIX_EPOCH - Duration::from_secs(86_400 + 1);
        assert_eq!(format_amz_date(before), "19691230T235959Z");
    }
}
