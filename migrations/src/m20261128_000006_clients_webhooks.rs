//! Machine clients (OAuth 2.0 client credentials) and their signed webhooks.
//!
//! A client is bound to a role and an organization or territory; its secret is stored only as
//! an argon2id hash. A webhook subscription belongs to a client and reads the journal from its
//! own cursor; each event it selects becomes one delivery, retried until it succeeds or fails
//! for good.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiClients {
    Table,
    Id,
    Name,
    Role,
    OrganizationId,
    TerritoryId,
    SecretHash,
    Status,
    RateLimitPerMinute,
    CreatedAt,
    SecretRotatedAt,
    RevokedAt,
    Version,
}

#[derive(DeriveIden)]
enum WebhookSubscriptions {
    Table,
    Id,
    ClientId,
    Url,
    EventTypes,
    Secret,
    Status,
    ConsecutiveFailures,
    DisabledReason,
    Cursor,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    SubscriptionId,
    EventId,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LastAttemptAt,
    LastStatusCode,
    LastError,
    CreatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Territories {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ApiClients::Table)
                .col(uuid(ApiClients::Id).primary_key())
                .col(string_len(ApiClients::Name, 200))
                .col(string_len(ApiClients::Role, 20))
                .col(uuid_null(ApiClients::OrganizationId))
                .col(uuid_null(ApiClients::TerritoryId))
                .col(string_len(ApiClients::SecretHash, 200))
                .col(string_len(ApiClients::Status, 20).default("active"))
                .col(integer_null(ApiClients::RateLimitPerMinute))
                .col(timestamp_with_time_zone(ApiClients::CreatedAt))
                .col(timestamp_with_time_zone(ApiClients::SecretRotatedAt))
                .col(timestamp_with_time_zone_null(ApiClients::RevokedAt))
                .col(integer(ApiClients::Version).default(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(ApiClients::Table, ApiClients::OrganizationId)
                        .to(Organizations::Table, Organizations::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ApiClients::Table, ApiClients::TerritoryId)
                        .to(Territories::Table, Territories::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WebhookSubscriptions::Table)
                .col(uuid(WebhookSubscriptions::Id).primary_key())
                .col(uuid(WebhookSubscriptions::ClientId))
                .col(string_len(WebhookSubscriptions::Url, 2000))
                .col(string_len(WebhookSubscriptions::EventTypes, 1000))
                .col(string_len(WebhookSubscriptions::Secret, 100))
                .col(string_len(WebhookSubscriptions::Status, 20).default("active"))
                .col(integer(WebhookSubscriptions::ConsecutiveFailures).default(0))
                .col(string_len_null(WebhookSubscriptions::DisabledReason, 500))
                .col(string_len_null(WebhookSubscriptions::Cursor, 200))
                .col(timestamp_with_time_zone(WebhookSubscriptions::CreatedAt))
                .col(timestamp_with_time_zone(WebhookSubscriptions::UpdatedAt))
                .col(integer(WebhookSubscriptions::Version).default(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookSubscriptions::Table, WebhookSubscriptions::ClientId)
                        .to(ApiClients::Table, ApiClients::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_subscriptions_client")
                .table(WebhookSubscriptions::Table)
                .col(WebhookSubscriptions::ClientId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .col(uuid(WebhookDeliveries::Id).primary_key())
                .col(uuid(WebhookDeliveries::SubscriptionId))
                .col(uuid(WebhookDeliveries::EventId))
                .col(text(WebhookDeliveries::Payload))
                .col(string_len(WebhookDeliveries::Status, 20).default("pending"))
                .col(integer(WebhookDeliveries::Attempts).default(0))
                .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                .col(timestamp_with_time_zone_null(
                    WebhookDeliveries::LastAttemptAt,
                ))
                .col(integer_null(WebhookDeliveries::LastStatusCode))
                .col(string_len_null(WebhookDeliveries::LastError, 500))
                .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                .col(timestamp_with_time_zone_null(
                    WebhookDeliveries::DeliveredAt,
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookDeliveries::Table, WebhookDeliveries::SubscriptionId)
                        .to(WebhookSubscriptions::Table, WebhookSubscriptions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_webhook_deliveries_event")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::SubscriptionId)
                .col(WebhookDeliveries::EventId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_due")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::Status)
                .col(WebhookDeliveries::NextAttemptAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            WebhookDeliveries::Table.into_iden(),
            WebhookSubscriptions::Table.into_iden(),
            ApiClients::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
