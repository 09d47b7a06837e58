//! Unique constraints by name: which field and code a violation is about.
//!
//! PostgreSQL names the constraint in its message (`… unique constraint "ux_territories_code"`);
//! SQLite names the columns (`UNIQUE constraint failed: territories.code_scheme,
//! territories.code`). Each constraint of `migrations/` that a write can hit is listed once
//! here with both spellings, so a write inserts and lets the database decide, instead of
//! checking first with a query that races with other writers.

use domain::FieldError;
use sea_orm::{DbErr, SqlErr};

use crate::error::StoreError;

/// A unique constraint of the schema and what its violation means to a client.
pub struct Unique {
    /// Its name on PostgreSQL.
    pub name: &'static str,
    /// Its columns as SQLite reports them.
    pub sqlite: &'static str,
    /// The stable code of the conflict.
    pub code: &'static str,
    /// The request field it is about.
    pub pointer: &'static str,
    pub detail: &'static str,
}

pub const UNIQUES: &[Unique] = &[
    Unique {
        name: "ux_territories_code",
        sqlite: "territories.code_scheme, territories.code",
        code: "duplicate_code",
        pointer: "/code",
        detail: "a territory with this code already exists",
    },
    Unique {
        name: "programmes_name_key",
        sqlite: "programmes.name",
        code: "duplicate_name",
        pointer: "/name",
        detail: "a programme with this name already exists",
    },
    Unique {
        name: "ux_participations_fabrique_territory",
        sqlite: "participations.fabrique_id, participations.territory_id",
        code: "already_applied",
        pointer: "/territory_id",
        detail: "this territory has already applied to this Fabrique",
    },
    Unique {
        name: "ux_seminars_local_number",
        sqlite: "seminars.participation_id, seminars.number",
        code: "seminar_number_taken",
        pointer: "/number",
        detail: "a seminar with this number already exists",
    },
    Unique {
        name: "ux_seminars_intersite_number",
        sqlite: "seminars.fabrique_id, seminars.number",
        code: "seminar_number_taken",
        pointer: "/number",
        detail: "a seminar with this number already exists",
    },
    Unique {
        name: "external_ids_pkey",
        sqlite: "external_ids.organization_id, external_ids.entity_type, external_ids.external_id",
        code: "external_id_taken",
        pointer: "/external_id",
        detail: "this id of yours already names another resource; detach it first",
    },
    Unique {
        name: "ux_external_ids_entity",
        sqlite: "external_ids.organization_id, external_ids.entity_type, external_ids.entity_id",
        code: "entity_already_mapped",
        pointer: "/entity_id",
        detail: "this resource already has another id of yours",
    },
];

/// The constraint a unique-violation message names, if it is one of ours.
pub fn unique_of(message: &str) -> Option<&'static Unique> {
    UNIQUES.iter().find(|u| {
        message.contains(&format!("\"{}\"", u.name))
            || message
                .strip_prefix("UNIQUE constraint failed: ")
                .or_else(|| {
                    message
                        .find("UNIQUE constraint failed: ")
                        .map(|i| &message[i + "UNIQUE constraint failed: ".len()..])
                })
                .is_some_and(|cols| cols.trim() == u.sqlite)
    })
}

/// What a database error means: a known conflict, a fault of the database (unreachable,
/// read-only, full, timed out: [`crate::fault`]), or a failure.
pub fn classify(e: DbErr) -> StoreError {
    if let Some(fault) = crate::fault::of(&e) {
        return StoreError::Unavailable { fault, source: e };
    }
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(msg)) => match unique_of(&msg) {
            Some(u) => StoreError::Conflict {
                code: u.code,
                detail: u.detail.into(),
                field: Some(FieldError::new(u.pointer, u.code, u.detail)),
            },
            None => {
                tracing::warn!(message = %msg, "unique violation of an unlisted constraint");
                StoreError::Conflict {
                    code: "already_exists",
                    detail: "a resource with the same unique key already exists".into(),
                    field: None,
                }
            }
        },
        Some(SqlErr::ForeignKeyConstraintViolation(_)) => still_referenced(),
        // SQLite reports some foreign-key failures without the code sea-orm classifies.
        _ if e.to_string().contains("FOREIGN KEY constraint failed") => still_referenced(),
        _ => StoreError::Db(e),
    }
}

fn still_referenced() -> StoreError {
    StoreError::Conflict {
        code: "still_referenced",
        detail: "the resource is referenced by another one".into(),
        field: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_engines_messages_name_the_same_constraint() {
        let pg = r#"error returned from database: duplicate key value violates unique constraint "ux_territories_code""#;
        let lite = "error returned from database: (code: 2067) UNIQUE constraint failed: territories.code_scheme, territories.code";
        assert_eq!(unique_of(pg).map(|u| u.code), Some("duplicate_code"));
        assert_eq!(unique_of(lite).map(|u| u.code), Some("duplicate_code"));
        let entity = "UNIQUE constraint failed: external_ids.organization_id, external_ids.entity_type, external_ids.entity_id";
        assert_eq!(
            unique_of(entity).map(|u| u.code),
            Some("entity_already_mapped")
        );
        assert!(unique_of("UNIQUE constraint failed: other.thing").is_none());
    }
}
