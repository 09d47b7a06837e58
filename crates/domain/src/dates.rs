//! Calendar rules and territory bounds of a Fabrique, and how the dates and instants the API
//! takes are written.

use chrono::{DateTime, Months, NaiveDate, TimeZone, Timelike, Utc};

const fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(d) => d,
        None => NaiveDate::MIN,
    }
}

/// The first calendar day a request may carry: a Fabrique's calendar (its start and end,
/// seminars, roadmap decisions and actions, testimonies) lies in this century.
pub const FIRST_DAY: NaiveDate = ymd(2000, 1, 1);
/// The last calendar day a request may carry.
pub const LAST_DAY: NaiveDate = ymd(2099, 12, 31);

/// What [`parse_day`] takes, as a regular expression (for the OpenAPI document, beside
/// `format: date`): `YYYY-MM-DD` from [`FIRST_DAY`] to [`LAST_DAY`]. It admits a 30 February;
/// `format: date` does not, and neither does [`parse_day`].
pub const DAY_PATTERN: &str = "^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";

/// What [`parse_instant`] takes, as a regular expression (for the OpenAPI document, beside
/// `format: date-time`): RFC 3339 with a year from 0001 to 9999 and an offset. Which days
/// each month has and when a leap second may fall are `format: date-time`'s to say.
pub const INSTANT_PATTERN: &str = "^([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)([.][0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";

/// Why a date or an instant is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("must be a date written YYYY-MM-DD (a four-digit year, a two-digit month and day)")]
    DayFormat,
    #[error("is not a day of the calendar")]
    NotADay,
    #[error("must be a day from {FIRST_DAY} to {LAST_DAY}")]
    DayOutOfRange,
    #[error(
        "must be an RFC 3339 instant with its offset, such as 2026-11-28T09:00:00Z or 2026-11-28T10:00:00+01:00"
    )]
    InstantFormat,
    #[error("is not an instant of the calendar")]
    NotAnInstant,
    #[error("must be an instant of the years 0001 to 9999")]
    InstantOutOfRange,
}

impl DateError {
    /// The stable code of the field error.
    pub fn code(self) -> &'static str {
        match self {
            DateError::DayFormat | DateError::NotADay => "invalid_date",
            DateError::InstantFormat | DateError::NotAnInstant => "invalid_date_time",
            DateError::DayOutOfRange | DateError::InstantOutOfRange => "out_of_range",
        }
    }
}

/// Whether `b` is ASCII digits but at the positions `seps` names, each holding one of the
/// bytes given for it.
fn digits_and(b: &[u8], seps: &[(usize, &[u8])]) -> bool {
    b.iter()
        .enumerate()
        .all(|(i, c)| match seps.iter().find(|(at, _)| *at == i) {
            Some((_, allowed)) => allowed.contains(c),
            None => c.is_ascii_digit(),
        })
}

/// A calendar day written `YYYY-MM-DD` exactly (no sign, no space, no other width), that
/// exists, from [`FIRST_DAY`] to [`LAST_DAY`].
pub fn parse_day(s: &str) -> Result<NaiveDate, DateError> {
    let b = s.as_bytes();
    if b.len() != 10 || !digits_and(b, &[(4, b"-"), (7, b"-")]) {
        return Err(DateError::DayFormat);
    }
    let number = |from: usize, to: usize| {
        b[from..to]
            .iter()
            .fold(0u32, |n, c| n * 10 + u32::from(c - b'0'))
    };
    let year = i32::try_from(number(0, 4)).map_err(|_| DateError::DayFormat)?;
    let day =
        NaiveDate::from_ymd_opt(year, number(5, 7), number(8, 10)).ok_or(DateError::NotADay)?;
    if (FIRST_DAY..=LAST_DAY).contains(&day) {
        Ok(day)
    } else {
        Err(DateError::DayOutOfRange)
    }
}

/// The earliest and latest instants [`parse_instant`] gives, in UTC: what every engine stores
/// and compares as written (SQLite compares the text, and a year of five digits is written
/// with a sign).
fn instant_bounds() -> (DateTime<Utc>, DateTime<Utc>) {
    let first = ymd(1, 1, 1).and_hms_opt(0, 0, 0).unwrap_or_default();
    let last = ymd(9999, 12, 31)
        .and_hms_nano_opt(23, 59, 59, 999_999_999)
        .unwrap_or_default();
    (Utc.from_utc_datetime(&first), Utc.from_utc_datetime(&last))
}

/// An instant written in RFC 3339 (section 5.6) with its offset: `YYYY-MM-DDTHH:MM:SS`, maybe
/// a fraction of a second, then `Z` or `±HH:MM` (`T` and `Z` in either case); a year from 0001
/// to 9999, a day that exists, and a leap second (`:60`) only at 23:59 UTC, as JSON Schema's
/// `date-time` has it. An offset that takes the instant out of those years once in UTC
/// (`0001-01-01T00:00:00+01:00`) gives the first or last instant of them instead, which no
/// stored row is before or after.
pub fn parse_instant(s: &str) -> Result<DateTime<Utc>, DateError> {
    let b = s.as_bytes();
    let (head, tail) = b.split_at(b.len().min(19));
    if head.len() < 19
        || !digits_and(
            head,
            &[(4, b"-"), (7, b"-"), (10, b"Tt"), (13, b":"), (16, b":")],
        )
    {
        return Err(DateError::InstantFormat);
    }
    let (fraction_digits, offset) = match tail.split_first() {
        Some((b'.', rest)) => {
            let n = rest.iter().take_while(|c| c.is_ascii_digit()).count();
            (Some(n), &rest[n..])
        }
        _ => (None, tail),
    };
    let offset_ok = matches!(offset, b"Z" | b"z")
        || (offset.len() == 6 && digits_and(offset, &[(0, b"+-"), (3, b":")]));
    if fraction_digits == Some(0) || !offset_ok {
        return Err(DateError::InstantFormat);
    }
    if &head[..4] == b"0000" {
        return Err(DateError::InstantOutOfRange);
    }
    let utc = DateTime::parse_from_rfc3339(s)
        .map_err(|_| DateError::NotAnInstant)?
        .with_timezone(&Utc);
    if &head[17..19] == b"60" && !(utc.hour() == 23 && utc.minute() == 59) {
        return Err(DateError::NotAnInstant);
    }
    let (first, last) = instant_bounds();
    Ok(utc.clamp(first, last))
}

/// A Fabrique lasts one year: it ends 12 months after its start unless told otherwise.
/// Clamps to the month's last day (31 January + 12 months = 31 January; 29 February → 28).
pub fn default_end(start: NaiveDate) -> NaiveDate {
    start.checked_add_months(Months::new(12)).unwrap_or(start)
}

/// How many territories a Fabrique accompanies: `1 <= min <= max`; 4 and 8 by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerritoryBounds {
    min: u32,
    max: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("territory bounds must satisfy 1 <= min <= max (got min {min}, max {max})")]
pub struct BoundsError {
    pub min: u32,
    pub max: u32,
}

/// No Fabrique has ever accompanied more than a few dozen territories; this keeps figures sane.
pub const MAX_TERRITORIES: u32 = 100;

impl TerritoryBounds {
    pub const DEFAULT_MIN: u32 = 4;
    pub const DEFAULT_MAX: u32 = 8;

    pub fn new(min: u32, max: u32) -> Result<Self, BoundsError> {
        if min >= 1 && min <= max && max <= MAX_TERRITORIES {
            Ok(Self { min, max })
        } else {
            Err(BoundsError { min, max })
        }
    }

    pub fn min(self) -> u32 {
        self.min
    }

    pub fn max(self) -> u32 {
        self.max
    }
}

impl Default for TerritoryBounds {
    fn default() -> Self {
        Self {
            min: Self::DEFAULT_MIN,
            max: Self::DEFAULT_MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn a_fabrique_ends_twelve_months_after_its_start() {
        assert_eq!(default_end(d(2021, 2, 1)), d(2022, 2, 1));
        assert_eq!(default_end(d(2024, 2, 29)), d(2025, 2, 28));
    }

    #[test]
    fn days_are_written_yyyy_mm_dd_within_the_century() {
        assert_eq!(parse_day("2027-02-01"), Ok(d(2027, 2, 1)));
        assert_eq!(parse_day("2000-01-01"), Ok(FIRST_DAY));
        assert_eq!(parse_day("2099-12-31"), Ok(LAST_DAY));
        assert_eq!(parse_day("2028-02-29"), Ok(d(2028, 2, 29)));
        for (bad, why) in [
            ("2026-1-1", DateError::DayFormat),
            (" 2027-02-01", DateError::DayFormat),
            ("2027-02-01 ", DateError::DayFormat),
            ("-0001-01-01", DateError::DayFormat),
            ("-4714-01-01", DateError::DayFormat),
            ("+2027-02-01", DateError::DayFormat),
            ("20270201", DateError::DayFormat),
            ("2027/02/01", DateError::DayFormat),
            ("2027-02-01T00:00:00Z", DateError::DayFormat),
            ("\u{ff12}027-02-01", DateError::DayFormat),
            ("", DateError::DayFormat),
            ("2027-02-30", DateError::NotADay),
            ("2027-13-01", DateError::NotADay),
            ("2027-00-10", DateError::NotADay),
            ("2027-02-00", DateError::NotADay),
            ("2100-02-29", DateError::NotADay),
            ("0000-01-01", DateError::DayOutOfRange),
            ("1999-12-31", DateError::DayOutOfRange),
            ("2100-01-01", DateError::DayOutOfRange),
            ("9999-12-31", DateError::DayOutOfRange),
        ] {
            assert_eq!(parse_day(bad), Err(why), "{bad:?}");
        }
    }

    #[test]
    fn instants_are_rfc_3339_with_an_offset() {
        let utc = |s: &str| parse_instant(s).map(|t| t.to_rfc3339());
        assert_eq!(
            utc("2026-11-28T09:00:00Z"),
            Ok("2026-11-28T09:00:00+00:00".into())
        );
        assert_eq!(
            utc("2026-11-28t10:00:00.5+01:00"),
            Ok("2026-11-28T09:00:00.500+00:00".into())
        );
        assert_eq!(
            utc("1970-01-01T00:00:00Z"),
            Ok("1970-01-01T00:00:00+00:00".into())
        );
        assert!(parse_instant("0001-01-01T00:00:00z").is_ok());
        assert!(parse_instant("9999-12-31T23:59:59-00:00").is_ok());
        assert!(parse_instant("2016-12-31T23:59:60Z").is_ok());
        assert!(parse_instant("2017-01-01T00:59:60+01:00").is_ok());
        // Held to the years 0001 to 9999 once in UTC.
        assert_eq!(
            parse_instant("0001-01-01T00:00:00+01:00"),
            parse_instant("0001-01-01T00:00:00Z")
        );
        assert_eq!(
            utc("9999-12-31T23:00:00-05:00"),
            Ok("9999-12-31T23:59:59.999999999+00:00".into())
        );
        for (bad, why) in [
            ("2026-11-28", DateError::InstantFormat),
            ("2026-11-28T09:00:00", DateError::InstantFormat),
            ("2026-11-28 09:00:00Z", DateError::InstantFormat),
            (" 2026-11-28T09:00:00Z", DateError::InstantFormat),
            ("2026-11-28T09:00:00Z ", DateError::InstantFormat),
            ("2026-11-28T09:00Z", DateError::InstantFormat),
            ("2026-11-28T09:00:00.Z", DateError::InstantFormat),
            ("2026-11-28T09:00:00+0100", DateError::InstantFormat),
            ("2026-11-28T09:00:00+01", DateError::InstantFormat),
            ("2026-11-28T09:00:00\u{2212}01:00", DateError::InstantFormat),
            ("2026-11-28T09:00:00UTC", DateError::InstantFormat),
            ("+2026-11-28T09:00:00Z", DateError::InstantFormat),
            ("-4714-01-01T00:00:00Z", DateError::InstantFormat),
            ("10000-01-01T00:00:00Z", DateError::InstantFormat),
            ("2026-1-1T09:00:00Z", DateError::InstantFormat),
            ("0000-01-01T00:00:00Z", DateError::InstantOutOfRange),
            ("2027-02-30T00:00:00Z", DateError::NotAnInstant),
            ("2026-11-28T24:00:00Z", DateError::NotAnInstant),
            ("2026-11-28T09:60:00Z", DateError::NotAnInstant),
            ("2026-11-28T09:00:61Z", DateError::NotAnInstant),
            ("2026-11-28T09:00:60Z", DateError::NotAnInstant),
            ("2026-11-28T09:00:00+24:00", DateError::NotAnInstant),
            ("2026-11-28T09:00:00+01:60", DateError::NotAnInstant),
        ] {
            assert_eq!(parse_instant(bad), Err(why), "{bad:?}");
        }
    }

    #[test]
    fn bounds_default_to_four_and_eight() {
        let b = TerritoryBounds::default();
        assert_eq!((b.min(), b.max()), (4, 8));
    }

    #[test]
    fn bounds_need_one_at_least_and_min_not_above_max() {
        assert!(TerritoryBounds::new(1, 1).is_ok());
        assert_eq!(
            TerritoryBounds::new(0, 4),
            Err(BoundsError { min: 0, max: 4 })
        );
        assert_eq!(
            TerritoryBounds::new(5, 4),
            Err(BoundsError { min: 5, max: 4 })
        );
        assert!(TerritoryBounds::new(1, MAX_TERRITORIES + 1).is_err());
    }
}
