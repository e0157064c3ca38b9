//! Times and durations as `dev` prints them (the official CLI's formats).

use std::time::{Duration, SystemTime};

/// `375ms`, `1.31s`, `2.5m`, `12.5µs`: the unit that keeps the number small,
/// at most two decimals, no trailing zeros.
pub fn format_duration(duration: Duration) -> String {
    let ms = duration.as_secs_f64() * 1000.0;
    if ms < 1e-3 {
        return format!("{}ns", two_decimals(ms * 1e6));
    }
    if ms < 1.0 {
        return format!("{}µs", two_decimals(ms * 1e3));
    }
    if ms < 1e3 {
        return format!("{}ms", two_decimals(ms));
    }
    let s = ms / 1e3;
    if s < 60.0 {
        return format!("{}s", two_decimals(s));
    }
    format!("{}m", two_decimals(s / 60.0))
}

/// A number with at most two decimals and thousands separators, as
/// `toLocaleString("en-US", { maximumFractionDigits: 2 })`.
fn two_decimals(n: f64) -> String {
    let rounded = (n * 100.0).round() / 100.0;
    let text = format!("{rounded:.2}");
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let frac = frac.trim_end_matches('0');
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if frac.is_empty() {
        grouped
    } else {
        format!("{grouped}.{frac}")
    }
}

fn zoned(time: SystemTime, tz: &jiff::tz::TimeZone) -> Option<jiff::ZonedDateTime> {
    let ts = jiff::Timestamp::try_from(time).ok()?;
    Some(ts.to_zoned_datetime(tz.clone()))
}

/// `HH:MM:SS` of the local wall clock.
pub fn clock_time(time: SystemTime) -> String {
    match zoned(time, &jiff::tz::TimeZone::system()) {
        Some(z) => format!("{:02}:{:02}:{:02}", z.hour(), z.minute(), z.second()),
        None => "00:00:00".to_string(),
    }
}

/// `11/26/2025, 6:50:00 PM`: JavaScript's `Date.toLocaleString()` in the
/// en-US locale, in the local time zone. `ms` since the Unix epoch.
pub fn locale_string(ms: f64) -> String {
    locale_string_in(ms, &jiff::tz::TimeZone::system())
}

fn locale_string_in(ms: f64, tz: &jiff::tz::TimeZone) -> String {
    let time = if ms >= 0.0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs_f64(ms / 1000.0)
    } else {
        SystemTime::UNIX_EPOCH - Duration::from_secs_f64(-ms / 1000.0)
    };
    let Some(z) = zoned(time, tz) else {
        return "Invalid Date".to_string();
    };
    let hour = z.hour();
    let (h12, meridiem) = match hour {
        0 => (12, "AM"),
        1..=11 => (hour, "AM"),
        12 => (12, "PM"),
        _ => (hour - 12, "PM"),
    };
    format!(
        "{}/{}/{}, {}:{:02}:{:02} {}",
        z.month(),
        z.day(),
        z.year(),
        h12,
        z.minute(),
        z.second(),
        meridiem
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_like_the_reference() {
        let ms = |v: f64| Duration::from_secs_f64(v / 1000.0);
        assert_eq!(format_duration(ms(375.0)), "375ms");
        assert_eq!(format_duration(ms(358.5)), "358.5ms");
        assert_eq!(format_duration(ms(1310.0)), "1.31s");
        assert_eq!(format_duration(ms(1040.4)), "1.04s");
        assert_eq!(format_duration(ms(594.2)), "594.2ms");
        assert_eq!(format_duration(ms(2000.0)), "2s");
        assert_eq!(format_duration(ms(90_000.0)), "1.5m");
        assert_eq!(format_duration(ms(0.5)), "500µs");
        assert_eq!(format_duration(Duration::from_nanos(250)), "250ns");
        assert_eq!(two_decimals(1234.567), "1,234.57");
        assert_eq!(two_decimals(999.999), "1,000");
    }

    #[test]
    fn locale_strings() {
        let utc = jiff::tz::TimeZone::UTC;
        assert_eq!(
            locale_string_in(1_764_183_000_000.0, &utc),
            "11/26/2025, 6:50:00 PM"
        );
        assert_eq!(locale_string_in(0.0, &utc), "1/1/1970, 12:00:00 AM");
        assert_eq!(
            locale_string_in(43_200_000.0, &utc),
            "1/1/1970, 12:00:00 PM"
        );
        let berlin = jiff::tz::TimeZone::fixed(jiff::tz::offset(1));
        assert_eq!(
            locale_string_in(1_764_183_000_000.0, &berlin),
            "11/26/2025, 7:50:00 PM"
        );
    }
}
