use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "fabriques")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub title: String,
    /// The searched fields, normalized (see the `search` migration); never served.
    pub search: String,
    pub theme: Option<String>,
    pub description: String,
    pub programme_id: Option<Uuid>,
    pub min_territories: i32,
    pub max_territories: i32,
    pub planned_start: Option<chrono::NaiveDate>,
    pub actual_start: Option<chrono::NaiveDate>,
    pub end_date: Option<chrono::NaiveDate>,
    pub status: String,
    pub status_reason: Option<String>,
    pub status_changed_at: chrono::DateTime<chrono::Utc>,
    /// Provenance note for demo or imported data (e.g. which facts are unverified).
    pub source: Option<String>,
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
