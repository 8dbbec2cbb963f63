//! RFC 3339 timestamps (UTC, whole seconds) for unix seconds: the only time
//! format the contract uses. Public so that evaluators and tests can read the
//! simulator's output back without another date library.

use std::fmt::Write as _;

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Latest instant the four-digit-year format can hold: 9999-12-31T23:59:59Z.
pub const MAX_TS: i64 = 253_402_300_799;

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// (year, month, day) to days since 1970-01-01 (`days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn rfc3339(ts: i64) -> String {
    let mut s = String::with_capacity(20);
    push_rfc3339(&mut s, ts);
    s
}

/// Unix seconds as `YYYY-MM-DD` (the UTC date).
pub fn date(ts: i64) -> String {
    let (y, m, d) = civil_from_days(ts.div_euclid(DAY));
    let mut s = String::with_capacity(10);
    let _ = write!(s, "{y:04}-{m:02}-{d:02}");
    s
}

pub(crate) fn push_rfc3339(buf: &mut String, ts: i64) {
    let (y, m, d) = civil_from_days(ts.div_euclid(DAY));
    let secs = ts.rem_euclid(DAY) as u32;
    let year = y.clamp(0, 9999) as u32;
    let mut out = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, value: u32, width: usize| {
        let mut v = value;
        for i in (0..width).rev() {
            out[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year, 4);
    put(5, m, 2);
    put(8, d, 2);
    put(11, secs / 3600, 2);
    put(14, (secs / 60) % 60, 2);
    put(17, secs % 60, 2);
    buf.push_str(std::str::from_utf8(&out).unwrap_or_default());
}

/// Parses an RFC 3339 timestamp (`Z` or a `±HH:MM` offset, optional fraction,
/// which is truncated) to unix seconds. `None` when malformed.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let part = s.get(from..to)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let (y, m, d) = (year, month as u32, day as u32);
    if civil_from_days(days_from_civil(y, m, d)) != (y, m, d) {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || rb[3] != b':' || !matches!(rb[0], b'+' | b'-') {
                return None;
            }
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            let off = oh * 3600 + om * 60;
            if rb[0] == b'-' { -off } else { off }
        }
    };
    Some(days_from_civil(y, m, d) * DAY + hour * 3600 + minute * 60 + second - offset)
}

/// Day of the week, 0 = Sunday.
pub(crate) fn day_of_week(ts: i64) -> u32 {
    (ts.div_euclid(DAY) + 4).rem_euclid(7) as u32
}

/// Hour of the UTC day, 0..24.
pub(crate) fn hour_of_day(ts: i64) -> u32 {
    (ts.rem_euclid(DAY) / 3600) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        let check = |ts: i64, expect: &str| assert_eq!(rfc3339(ts), expect);
        check(0, "1970-01-01T00:00:00Z");
        check(1_740_960_000, "2025-03-03T00:00:00Z");
        check(1_740_993_307, "2025-03-03T09:15:07Z");
        check(951_782_400, "2000-02-29T00:00:00Z");
        check(MAX_TS, "9999-12-31T23:59:59Z");
    }

    #[test]
    fn parses_what_it_formats_and_common_variants() {
        for ts in [0, 1_740_960_000, 1_740_993_307, 951_782_400, 4_102_444_799] {
            assert_eq!(parse_rfc3339(&rfc3339(ts)), Some(ts));
        }
        assert_eq!(
            parse_rfc3339("2025-03-03T10:15:07+01:00"),
            Some(1_740_993_307)
        );
        assert_eq!(
            parse_rfc3339("2025-03-03T09:15:07.250Z"),
            Some(1_740_993_307)
        );
        assert_eq!(parse_rfc3339("not-a-time"), None);
        assert_eq!(parse_rfc3339("2025-02-30T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2025-03-03T09:15:07"), None);
    }

    #[test]
    fn weekday_and_hour() {
        // 2025-03-03 was a Monday.
        assert_eq!(day_of_week(1_740_960_000), 1);
        assert_eq!(day_of_week(0), 4);
        assert_eq!(hour_of_day(1_740_993_307), 9);
        assert_eq!(date(1_740_993_307), "2025-03-03");
    }
}
