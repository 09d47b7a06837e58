//! A subscription's due deliveries, oldest first: the webhook worker claims a few per
//! subscription (so one slow receiver does not hold up the others), and walks this index
//! instead of filtering every due delivery by subscription.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    SubscriptionId,
    Status,
    NextAttemptAt,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_subscription_due")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::SubscriptionId)
                .col(WebhookDeliveries::Status)
                .col(WebhookDeliveries::NextAttemptAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name("ix_webhook_deliveries_subscription_due")
                .table(WebhookDeliveries::Table)
                .to_owned(),
        )
        .await
    }
}
