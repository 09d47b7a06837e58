use sea_orm::entity::prelude::*;

/// A current commune (`commune-actuelle`) of the official geography, reference data.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ref_communes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    /// The name lower-cased, without accents or punctuation.
    pub search: String,
    pub department: String,
    pub region: String,
    pub epci_siren: Option<String>,
    pub population: Option<i64>,
    /// Postal codes, space-separated.
    pub postal_codes: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
