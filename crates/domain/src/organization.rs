//! Partner organizations and the roles they hold in a Fabrique.

use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Kind of organization (partenaire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum OrganizationKind {
    /// ANCT itself.
    Anct,
    /// Elected officials' association (AMF, AdCF / Intercommunalités de France, Villes de France...).
    ElectedOfficialsAssociation,
    /// Public operator (Cerema, OFB...).
    PublicOperator,
    /// Ministry directorate (DGALN, DGOM, CGDD...).
    MinistryDirectorate,
    /// Funder (Caisse des dépôts / Banque des Territoires...).
    Funder,
    /// Qualified contractor (prestataire).
    Contractor,
    /// University or research body.
    Research,
    Other,
}

impl OrganizationKind {
    pub const ALL: [OrganizationKind; 8] = [
        OrganizationKind::Anct,
        OrganizationKind::ElectedOfficialsAssociation,
        OrganizationKind::PublicOperator,
        OrganizationKind::MinistryDirectorate,
        OrganizationKind::Funder,
        OrganizationKind::Contractor,
        OrganizationKind::Research,
        OrganizationKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrganizationKind::Anct => "anct",
            OrganizationKind::ElectedOfficialsAssociation => "elected_officials_association",
            OrganizationKind::PublicOperator => "public_operator",
            OrganizationKind::MinistryDirectorate => "ministry_directorate",
            OrganizationKind::Funder => "funder",
            OrganizationKind::Contractor => "contractor",
            OrganizationKind::Research => "research",
            OrganizationKind::Other => "other",
        }
    }
}

impl FromStr for OrganizationKind {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        OrganizationKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(())
    }
}

/// Role of an organization in one Fabrique (an organization may hold several).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum PartnerRole {
    /// Pilots the Fabrique (ANCT).
    Pilot,
    /// Co-animates (associations of elected officials, operators, directorates).
    CoAnimator,
    /// Co-finances.
    CoFunder,
    /// The qualified contractor (prestataire) running it.
    Contractor,
}

impl PartnerRole {
    pub const ALL: [PartnerRole; 4] = [
        PartnerRole::Pilot,
        PartnerRole::CoAnimator,
        PartnerRole::CoFunder,
        PartnerRole::Contractor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PartnerRole::Pilot => "pilot",
            PartnerRole::CoAnimator => "co_animator",
            PartnerRole::CoFunder => "co_funder",
            PartnerRole::Contractor => "contractor",
        }
    }

    /// Roles whose organizations see the personal data of the Fabrique's participations.
    pub fn sees_personal_data(self) -> bool {
        matches!(self, PartnerRole::CoAnimator | PartnerRole::Contractor)
    }
}

impl FromStr for PartnerRole {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        PartnerRole::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_roles_round_trip_through_their_names() {
        for k in OrganizationKind::ALL {
            assert_eq!(k.as_str().parse::<OrganizationKind>(), Ok(k));
        }
        for r in PartnerRole::ALL {
            assert_eq!(r.as_str().parse::<PartnerRole>(), Ok(r));
        }
    }
}
