//! Territories (collectivités): what a creation or a change carries once parsed.

use crate::codes::{DepartmentCode, RegionCode, TerritoryCode, TerritoryKind};
use crate::refusal::FieldError;

/// A new territory. Its code, when it has one, is already checked against its kind; the
/// store fills and checks the rest against the official geography.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTerritory {
    /// `None` only for a SIREN given without a kind: the store takes the kind of the EPCI the
    /// official geography has under that SIREN.
    pub kind: Option<TerritoryKind>,
    pub code: Option<TerritoryCode>,
    pub name: Option<String>,
    pub department: Option<DepartmentCode>,
    pub region: Option<RegionCode>,
    pub population: Option<i64>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TerritoryChanges {
    pub name: Option<String>,
    pub department: Option<Option<DepartmentCode>>,
    pub region: Option<Option<RegionCode>>,
    pub population: Option<Option<i64>>,
    pub latitude: Option<Option<f64>>,
    pub longitude: Option<Option<f64>>,
}

/// A territory has both coordinates or neither.
pub fn check_coordinates(latitude: Option<f64>, longitude: Option<f64>) -> Result<(), FieldError> {
    if latitude.is_some() == longitude.is_some() {
        Ok(())
    } else {
        Err(FieldError::new(
            "/latitude",
            "incomplete_coordinates",
            "give both latitude and longitude, or neither",
        ))
    }
}

/// The storage scheme of an official code.
pub fn scheme(code: &TerritoryCode) -> &'static str {
    match code {
        TerritoryCode::Insee(_) => "insee",
        TerritoryCode::Siren(_) => "siren",
        TerritoryCode::Department(_) => "department",
        TerritoryCode::Region(_) => "region",
    }
}
