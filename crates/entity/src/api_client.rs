use sea_orm::entity::prelude::*;

/// A machine client (OAuth 2.0 client credentials), bound to a role and an organization or
/// territory. `secret_hash` is an argon2id PHC string; the secret itself is never stored.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "api_clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub role: String,
    pub organization_id: Option<Uuid>,
    pub territory_id: Option<Uuid>,
    pub secret_hash: String,
    /// `active` or `revoked`.
    pub status: String,
    /// Requests per minute; the server's default when absent.
    pub rate_limit_per_minute: Option<i32>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub secret_rotated_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Bumped by every conditional write (`If-Match`).
    pub version: i32,
    /// Bumped by every secret rotation. A token carries the generation it was issued under
    /// (its `cgen` claim) and is refused once the client has moved past it.
    pub secret_generation: i32,
    /// The scopes it may ask for, space-separated (`read write`).
    pub scopes: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
