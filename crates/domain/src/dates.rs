//! Calendar rules and territory bounds of a Fabrique.

use chrono::{Months, NaiveDate};

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
