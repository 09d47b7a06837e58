//! No secret in an idempotency record. An answer that carries a secret (a machine client's
//! creation or rotation, a webhook subscription) is no longer kept with its key: its record
//! becomes `not_replayable` (its status and `Location`, and in `body` only the advice a retry
//! gets). The records kept before this migration whose body holds a client's or a webhook's
//! secret are turned into such records here.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    State,
    ContentType,
    Body,
}

/// The advice of a record scrubbed here (the middleware writes its own for new ones).
const SCRUBBED: &str = "Read the resource it made or changed to see where it stands: if the secret was not stored, rotate it (a client) or delete and subscribe again (a webhook), with a new key.";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let body = || Expr::col(IdempotencyKeys::Body);
        m.exec_stmt(
            Query::update()
                .table(IdempotencyKeys::Table)
                .value(IdempotencyKeys::State, "not_replayable")
                .value(IdempotencyKeys::ContentType, Option::<String>::None)
                .value(IdempotencyKeys::Body, SCRUBBED)
                .cond_where(
                    Condition::all()
                        .add(Expr::col(IdempotencyKeys::State).eq("done"))
                        .add(
                            Condition::any()
                                .add(body().like(r#"%"client_secret":%"#))
                                .add(body().like(r#"%"secret":"whsec%"#)),
                        ),
                )
                .to_owned(),
        )
        .await
    }

    /// The secrets are gone: nothing to restore (a scrubbed key refuses its retry until it
    /// expires, as under the new rule).
    async fn down(&self, _: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
