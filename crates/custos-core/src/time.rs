//! Event time: an instant in UTC with microsecond precision, parsed from and
//! written as RFC 3339.
//!
//! Hand-written rather than pulled from a date crate: the contract only needs
//! RFC 3339, parsing is on the hottest path (every event), and the civil-date
//! arithmetic is a dozen lines (Howard Hinnant's `days_from_civil`).

use std::fmt;

pub const MICROS_PER_SECOND: i64 = 1_000_000;
pub const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
pub const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;
pub const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;

/// An instant in event time: microseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventTime(i64);

/// A span of event time in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span(i64);

impl Span {
    pub const fn from_micros(micros: i64) -> Span {
        Span(micros)
    }
    pub const fn from_secs(secs: i64) -> Span {
        Span(secs * MICROS_PER_SECOND)
    }
    pub const fn from_minutes(minutes: i64) -> Span {
        Span(minutes * MICROS_PER_MINUTE)
    }
    pub const fn from_hours(hours: i64) -> Span {
        Span(hours * MICROS_PER_HOUR)
    }
    pub const fn from_days(days: i64) -> Span {
        Span(days * MICROS_PER_DAY)
    }
    pub const fn as_micros(self) -> i64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_SECOND as f64
    }
}

/// Why a timestamp was not RFC 3339.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimeParse {
    #[error("expected an RFC 3339 timestamp like `2025-01-02T03:04:05Z`")]
    Syntax,
    #[error("month, day, hour, minute or second out of range")]
    Range,
    #[error("missing time zone: add `Z` or an offset like `+02:00`")]
    NoZone,
}

impl EventTime {
    pub const MIN: EventTime = EventTime(i64::MIN);
    pub const MAX: EventTime = EventTime(i64::MAX);

    pub const fn from_micros(micros: i64) -> EventTime {
        EventTime(micros)
    }
    pub const fn from_unix_secs(secs: i64) -> EventTime {
        EventTime(secs * MICROS_PER_SECOND)
    }
    pub const fn as_micros(self) -> i64 {
        self.0
    }
    pub fn saturating_add(self, span: Span) -> EventTime {
        EventTime(self.0.saturating_add(span.0))
    }
    pub fn saturating_sub(self, span: Span) -> EventTime {
        EventTime(self.0.saturating_sub(span.0))
    }
    /// The span from `earlier` to `self` (negative when `earlier` is later).
    pub fn since(self, earlier: EventTime) -> Span {
        Span(self.0.saturating_sub(earlier.0))
    }
    /// Hour of the day in UTC, 0..=23.
    pub fn hour_of_day(self) -> u8 {
        (self.0.rem_euclid(MICROS_PER_DAY) / MICROS_PER_HOUR) as u8
    }
    /// Days since the epoch (floor), usable as a calendar-day key.
    pub fn day_index(self) -> i64 {
        self.0.div_euclid(MICROS_PER_DAY)
    }

    /// Parses RFC 3339 (`T`, `t` or a space between date and time; `Z`, `z`
    /// or `±HH:MM`; up to nine fraction digits, kept to the microsecond).
    pub fn parse(text: &str) -> Result<EventTime, TimeParse> {
        let b = text.as_bytes();
        if b.len() < 19 {
            return Err(TimeParse::Syntax);
        }
        if !(b[4] == b'-' && b[7] == b'-' && matches!(b[10], b'T' | b't' | b' '))
            || b[13] != b':'
            || b[16] != b':'
        {
            return Err(TimeParse::Syntax);
        }
        let year = digits(&b[0..4])?;
        let month = digits(&b[5..7])?;
        let day = digits(&b[8..10])?;
        let hour = digits(&b[11..13])?;
        let minute = digits(&b[14..16])?;
        let second = digits(&b[17..19])?;
        let mut i = 19;
        let mut micros: i64 = 0;
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 6 {
                    micros = micros * 10 + i64::from(b[i] - b'0');
                }
                i += 1;
            }
            let n = i - start;
            if n == 0 || n > 9 {
                return Err(TimeParse::Syntax);
            }
            for _ in n.min(6)..6 {
                micros *= 10;
            }
        }
        if i >= b.len() {
            return Err(TimeParse::NoZone);
        }
        let offset_secs: i64 = match b[i] {
            b'Z' | b'z' if i + 1 == b.len() => 0,
            sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
                let oh = digits(&b[i + 1..i + 3])?;
                let om = digits(&b[i + 4..i + 6])?;
                if oh > 23 || om > 59 {
                    return Err(TimeParse::Range);
                }
                let off = oh * 3600 + om * 60;
                if sign == b'-' { -off } else { off }
            }
            _ => return Err(TimeParse::Syntax),
        };
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return Err(TimeParse::Range);
        }
        let days = days_from_civil(year, month, day);
        // A leap second (`:60`) is folded into the next second, as most
        // systems do; RFC 3339 allows it, the contract does not forbid it.
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
        Ok(EventTime(secs * MICROS_PER_SECOND + micros))
    }
}

fn digits(b: &[u8]) -> Result<i64, TimeParse> {
    let mut v: i64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return Err(TimeParse::Syntax);
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Ok(v)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for EventTime {
    /// RFC 3339 in UTC: no fraction for whole seconds, milliseconds when
    /// they suffice, microseconds otherwise. Deterministic, so replays are
    /// byte-identical.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(MICROS_PER_SECOND);
        let micros = self.0.rem_euclid(MICROS_PER_SECOND);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            y,
            m,
            d,
            sod / 3600,
            (sod / 60) % 60,
            sod % 60
        )?;
        if micros == 0 {
            f.write_str("Z")
        } else if micros % 1000 == 0 {
            write!(f, ".{:03}Z", micros / 1000)
        } else {
            write!(f, ".{micros:06}Z")
        }
    }
}

impl serde::Serialize for EventTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for EventTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<EventTime, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        EventTime::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(input: &str, expect: Result<&str, TimeParse>) {
        let got = EventTime::parse(input).map(|t| t.to_string());
        assert_eq!(got, expect.map(str::to_owned), "input {input:?}");
    }

    #[test]
    fn parses_and_normalises_to_utc() {
        check("2025-01-01T00:00:00Z", Ok("2025-01-01T00:00:00Z"));
        check("2025-01-01t00:00:00z", Ok("2025-01-01T00:00:00Z"));
        check("2025-01-01 00:00:00Z", Ok("2025-01-01T00:00:00Z"));
        check("2025-01-01T02:30:00+02:30", Ok("2025-01-01T00:00:00Z"));
        check("2024-12-31T23:00:00-01:00", Ok("2025-01-01T00:00:00Z"));
        check("2025-03-03T09:15:07.5Z", Ok("2025-03-03T09:15:07.500Z"));
        check(
            "2025-03-03T09:15:07.123456789Z",
            Ok("2025-03-03T09:15:07.123456Z"),
        );
        check("2024-02-29T12:00:00Z", Ok("2024-02-29T12:00:00Z"));
        check("2016-12-31T23:59:60Z", Ok("2017-01-01T00:00:00Z"));
        check(
            "1969-12-31T23:59:59.999999Z",
            Ok("1969-12-31T23:59:59.999999Z"),
        );
    }

    #[test]
    fn rejects_what_is_not_rfc_3339() {
        check("not-a-time", Err(TimeParse::Syntax));
        check("2025-01-01", Err(TimeParse::Syntax));
        check("2025-01-01T00:00:00", Err(TimeParse::NoZone));
        check("2025-01-01T00:00:00.Z", Err(TimeParse::Syntax));
        check("2025-13-01T00:00:00Z", Err(TimeParse::Range));
        check("2023-02-29T00:00:00Z", Err(TimeParse::Range));
        check("2025-01-01T24:00:00Z", Err(TimeParse::Range));
        check("2025-01-01T00:00:00+0200", Err(TimeParse::Syntax));
        check("2025-01-01T00:00:00Z ", Err(TimeParse::Syntax));
        check("２025-01-01T00:00:00Z", Err(TimeParse::Syntax));
    }

    #[test]
    fn calendar_helpers() {
        let t = EventTime::parse("2025-01-02T03:04:05Z").unwrap();
        assert_eq!(t.hour_of_day(), 3);
        assert_eq!(t.day_index(), 20_090);
        assert_eq!(
            t.since(EventTime::from_unix_secs(0)).as_micros(),
            t.as_micros()
        );
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(micros in -62_135_596_800_000_000i64..253_402_300_799_999_999i64) {
            let t = EventTime::from_micros(micros);
            prop_assert_eq!(EventTime::parse(&t.to_string()), Ok(t));
        }

        #[test]
        fn civil_round_trip(days in -719_162i64..2_932_896i64) {
            let (y, m, d) = civil_from_days(days);
            prop_assert_eq!(days_from_civil(y, m, d), days);
            prop_assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
        }
    }
}
