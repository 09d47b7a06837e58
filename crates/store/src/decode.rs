//! Strict decoding of the values the database stores as text.
//!
//! Policy: a stored string that names no known value is an error ([`StoreError::Corrupt`]),
//! logged with its table and column, never turned into a default (an unknown Fabrique status
//! read as `draft` would be hidden and deletable).

use std::str::FromStr;

use crate::error::StoreError;

/// Parses a stored name into its domain value.
pub fn decode<T: FromStr>(
    table: &'static str,
    column: &'static str,
    value: &str,
) -> Result<T, StoreError> {
    value.parse().map_err(|_| {
        tracing::error!(table, column, value, "stored value names nothing known");
        StoreError::Corrupt {
            table,
            column,
            value: value.to_owned(),
        }
    })
}

/// A count from the database, as the domain's `u32`.
pub fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::FabriqueStatus;

    #[test]
    fn an_unknown_stored_value_is_an_error_not_a_default() {
        assert_eq!(
            decode::<FabriqueStatus>("fabriques", "status", "running").ok(),
            Some(FabriqueStatus::Running)
        );
        assert!(matches!(
            decode::<FabriqueStatus>("fabriques", "status", "archived"),
            Err(StoreError::Corrupt { .. })
        ));
    }
}
