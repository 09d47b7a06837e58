use sea_orm::entity::prelude::*;

/// An EPCI à fiscalité propre (CC, CA, CU, métropole), reference data.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ref_epci")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub siren: String,
    pub name: String,
    /// The name lower-cased, without accents or punctuation.
    pub search: String,
    /// `CC`, `CA`, `CU`, `METRO` or `MET69`.
    pub kind: String,
    pub population: Option<i64>,
    /// Department codes of its communes, space-separated.
    pub departments: String,
    /// Region codes of its communes, space-separated.
    pub regions: String,
    pub member_count: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
