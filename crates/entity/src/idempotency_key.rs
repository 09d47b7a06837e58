use sea_orm::entity::prelude::*;

/// The first response to a POST, per client and `Idempotency-Key`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// SHA-256 of the method, path, query and body.
    pub fingerprint: String,
    /// `in_flight` while the first request runs, `done` once its response is kept, or
    /// `not_replayable` once it completed with an answer that carried a secret: that answer is
    /// not kept, and a retry is refused (409 `not_replayable`).
    pub state: String,
    pub status: Option<i32>,
    pub content_type: Option<String>,
    pub location: Option<String>,
    /// The response body when `done`; when `not_replayable`, never the answer, only the advice
    /// the refusal of a retry gives (what to do instead).
    pub body: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub completed_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
