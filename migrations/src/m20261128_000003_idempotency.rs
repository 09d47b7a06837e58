//! Idempotency keys: the first response to a POST, kept per client and key so that a retry
//! replays it instead of writing again. The primary key is what makes two instances agree.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    Client,
    Key,
    Fingerprint,
    State,
    Status,
    ContentType,
    Location,
    Body,
    CreatedAt,
    CompletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(IdempotencyKeys::Table)
                .col(string_len(IdempotencyKeys::Client, 300))
                .col(string_len(IdempotencyKeys::Key, 255))
                .col(string_len(IdempotencyKeys::Fingerprint, 64))
                .col(string_len(IdempotencyKeys::State, 20))
                .col(integer_null(IdempotencyKeys::Status))
                .col(string_len_null(IdempotencyKeys::ContentType, 100))
                .col(string_len_null(IdempotencyKeys::Location, 500))
                .col(text_null(IdempotencyKeys::Body))
                .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                .col(timestamp_with_time_zone_null(IdempotencyKeys::CompletedAt))
                .primary_key(
                    Index::create()
                        .col(IdempotencyKeys::Client)
                        .col(IdempotencyKeys::Key),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_idempotency_keys_created_at")
                .table(IdempotencyKeys::Table)
                .col(IdempotencyKeys::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await
    }
}
