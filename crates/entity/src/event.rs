use sea_orm::entity::prelude::*;

/// One row of the journal: every write, with who did it and the new state (JSON text).
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub actor_sub: String,
    pub actor_role: String,
    pub actor_organization: Option<Uuid>,
    pub actor_territory: Option<Uuid>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Uuid,
    pub fabrique_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub state: String,
    /// The writing transaction (PostgreSQL) or 0 (SQLite): filled in by the database.
    pub txid: i64,
    /// Why, for a correction.
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
