use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "testimonies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub fabrique_id: Uuid,
    pub territory_id: Option<Uuid>,
    pub speaker: String,
    pub role: Option<String>,
    pub media_url: Option<String>,
    pub quote: Option<String>,
    /// The searched fields, normalized (see the `search` migration); never served.
    pub search: String,
    pub given_on: Option<chrono::NaiveDate>,
    pub published: bool,
    pub version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
