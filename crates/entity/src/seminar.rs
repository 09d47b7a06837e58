use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "seminars")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub fabrique_id: Uuid,
    pub participation_id: Option<Uuid>,
    pub kind: String,
    pub number: i32,
    pub scheduled_on: chrono::NaiveDate,
    pub place: Option<String>,
    pub mode: String,
    pub status: String,
    pub attendance: Option<i32>,
    pub summary: Option<String>,
    pub status_reason: Option<String>,
    pub held_at: Option<chrono::DateTime<chrono::Utc>>,
    pub cancelled_at: Option<chrono::DateTime<chrono::Utc>>,
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
