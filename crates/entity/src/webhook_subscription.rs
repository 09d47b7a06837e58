use sea_orm::entity::prelude::*;

/// A client's webhook: where to send which events, signed with `secret`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub client_id: Uuid,
    pub url: String,
    /// Entity types, comma-separated; empty for all.
    pub event_types: String,
    pub secret: String,
    /// `active` or `disabled`.
    pub status: String,
    pub consecutive_failures: i32,
    pub disabled_reason: Option<String>,
    /// The change-feed cursor up to which events have been turned into deliveries.
    pub cursor: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    /// Bumped by every conditional write (`If-Match`).
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
