//! The participation lifecycle (candidature / territoire accompagné):
//! `applied → accepted | rejected`, `accepted → active` at launch, `active → completed` when
//! its roadmap is adopted, and `withdrawn` from applied, accepted or active.

use std::fmt;
use std::str::FromStr;

use crate::blocker::{Blocker, Blockers};
use crate::fabrique::FabriqueStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ParticipationStatus {
    Applied,
    Accepted,
    Rejected,
    Active,
    Completed,
    Withdrawn,
}

impl ParticipationStatus {
    pub const ALL: [ParticipationStatus; 6] = [
        ParticipationStatus::Applied,
        ParticipationStatus::Accepted,
        ParticipationStatus::Rejected,
        ParticipationStatus::Active,
        ParticipationStatus::Completed,
        ParticipationStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ParticipationStatus::Applied => "applied",
            ParticipationStatus::Accepted => "accepted",
            ParticipationStatus::Rejected => "rejected",
            ParticipationStatus::Active => "active",
            ParticipationStatus::Completed => "completed",
            ParticipationStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ParticipationStatus::Rejected
                | ParticipationStatus::Completed
                | ParticipationStatus::Withdrawn
        )
    }
}

impl fmt::Display for ParticipationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ParticipationStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        ParticipationStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(())
    }
}

/// Actions a person takes on a participation. Activation (at launch) and completion (when the
/// roadmap is adopted) are consequences of other transitions: see [`complete_on_adoption`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ParticipationAction {
    Accept,
    Reject,
    Withdraw,
}

impl ParticipationAction {
    pub const ALL: [ParticipationAction; 3] = [
        ParticipationAction::Accept,
        ParticipationAction::Reject,
        ParticipationAction::Withdraw,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ParticipationAction::Accept => "accept",
            ParticipationAction::Reject => "reject",
            ParticipationAction::Withdraw => "withdraw",
        }
    }

    pub fn from_statuses(self) -> &'static [&'static str] {
        match self {
            ParticipationAction::Accept | ParticipationAction::Reject => &["applied"],
            ParticipationAction::Withdraw => &["applied", "accepted", "active"],
        }
    }

    pub fn target(self) -> ParticipationStatus {
        match self {
            ParticipationAction::Accept => ParticipationStatus::Accepted,
            ParticipationAction::Reject => ParticipationStatus::Rejected,
            ParticipationAction::Withdraw => ParticipationStatus::Withdrawn,
        }
    }
}

impl FromStr for ParticipationAction {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        ParticipationAction::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(())
    }
}

/// What the rules need to know about a participation and its Fabrique.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParticipationFacts {
    pub status: ParticipationStatus,
    pub fabrique_status: FabriqueStatus,
    /// Participations of the Fabrique already accepted or active.
    pub accepted_in_fabrique: u32,
    pub max_territories: u32,
}

/// Whether a territory may apply: only while the Fabrique recruits, and once.
pub fn can_apply(fabrique_status: FabriqueStatus, already_applied: bool) -> Result<(), Blockers> {
    let mut out = Vec::new();
    if fabrique_status != FabriqueStatus::Recruiting {
        out.push(Blocker::FabriqueNotRecruiting {
            current: fabrique_status.as_str(),
        });
    }
    if already_applied {
        out.push(Blocker::AlreadyApplied);
    }
    Blockers::check(out)
}

pub fn blockers(
    facts: &ParticipationFacts,
    action: ParticipationAction,
    reason: Option<&str>,
) -> Vec<Blocker> {
    let mut out = Vec::new();
    if !action.from_statuses().contains(&facts.status.as_str()) {
        out.push(Blocker::InvalidStatus {
            current: facts.status.as_str(),
            allowed_from: action.from_statuses(),
        });
    }
    match action {
        ParticipationAction::Accept | ParticipationAction::Reject => {
            if facts.fabrique_status != FabriqueStatus::Recruiting {
                out.push(Blocker::FabriqueNotRecruiting {
                    current: facts.fabrique_status.as_str(),
                });
            }
            if action == ParticipationAction::Accept
                && facts.accepted_in_fabrique >= facts.max_territories
            {
                out.push(Blocker::MaximumReached {
                    max: facts.max_territories,
                });
            }
        }
        ParticipationAction::Withdraw => {
            if reason.is_none_or(|r| r.trim().is_empty()) {
                out.push(Blocker::ReasonRequired);
            }
        }
    }
    out
}

/// Decides `action`: the new status, or every unmet condition.
pub fn decide(
    facts: &ParticipationFacts,
    action: ParticipationAction,
    reason: Option<&str>,
) -> Result<ParticipationStatus, Blockers> {
    Blockers::check(blockers(facts, action, reason)).map(|()| action.target())
}

pub fn available(
    facts: &ParticipationFacts,
    reason: Option<&str>,
) -> Vec<(ParticipationAction, Vec<Blocker>)> {
    ParticipationAction::ALL
        .into_iter()
        .map(|a| (a, blockers(facts, a, reason)))
        .collect()
}

/// Adopting a roadmap completes an active participation (used by the roadmap rules).
pub fn complete_on_adoption(status: ParticipationStatus) -> Result<ParticipationStatus, Blockers> {
    if status == ParticipationStatus::Active {
        Ok(ParticipationStatus::Completed)
    } else {
        Err(Blockers(vec![Blocker::InvalidStatus {
            current: status.as_str(),
            allowed_from: &["active"],
        }]))
    }
}

/// A participation (and its working group) changes until it is rejected, completed or
/// withdrawn.
pub fn can_edit(status: ParticipationStatus) -> Result<(), Blockers> {
    if status.is_terminal() {
        Err(Blockers::one(Blocker::ParticipationClosed {
            current: status.as_str(),
        }))
    } else {
        Ok(())
    }
}

/// An application: the territory, its elected sponsor and why it volunteers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewParticipation {
    pub territory_id: uuid::Uuid,
    pub sponsor_name: Option<String>,
    pub sponsor_mandate: Option<String>,
    pub motivation: Option<String>,
    pub focus: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParticipationChanges {
    pub sponsor_name: Option<Option<String>>,
    pub sponsor_mandate: Option<Option<String>>,
    pub motivation: Option<Option<String>>,
    pub focus: Option<Option<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied() -> ParticipationFacts {
        ParticipationFacts {
            status: ParticipationStatus::Applied,
            fabrique_status: FabriqueStatus::Recruiting,
            accepted_in_fabrique: 0,
            max_territories: 8,
        }
    }

    fn codes(b: &[Blocker]) -> Vec<&'static str> {
        b.iter().map(Blocker::code).collect()
    }

    #[test]
    fn an_application_is_accepted_while_recruiting() {
        assert_eq!(
            decide(&applied(), ParticipationAction::Accept, None),
            Ok(ParticipationStatus::Accepted)
        );
    }

    #[test]
    fn accepting_past_the_maximum_is_refused() {
        let f = ParticipationFacts {
            accepted_in_fabrique: 8,
            ..applied()
        };
        assert_eq!(
            codes(&blockers(&f, ParticipationAction::Accept, None)),
            ["maximum_reached"]
        );
    }

    #[test]
    fn deciding_after_launch_names_both_problems() {
        let f = ParticipationFacts {
            status: ParticipationStatus::Active,
            fabrique_status: FabriqueStatus::Running,
            ..applied()
        };
        assert_eq!(
            codes(&blockers(&f, ParticipationAction::Reject, None)),
            ["invalid_status", "fabrique_not_recruiting"]
        );
    }

    #[test]
    fn withdrawing_needs_a_reason() {
        assert_eq!(
            codes(&blockers(&applied(), ParticipationAction::Withdraw, None)),
            ["reason_required"]
        );
        assert_eq!(
            decide(&applied(), ParticipationAction::Withdraw, Some("élections")),
            Ok(ParticipationStatus::Withdrawn)
        );
    }

    #[test]
    fn a_territory_applies_once_and_only_while_recruiting() {
        assert!(can_apply(FabriqueStatus::Recruiting, false).is_ok());
        let e = can_apply(FabriqueStatus::Running, true)
            .err()
            .map(|b| codes(&b.0));
        assert_eq!(e, Some(vec!["fabrique_not_recruiting", "already_applied"]));
    }

    #[test]
    fn adoption_completes_only_an_active_participation() {
        assert_eq!(
            complete_on_adoption(ParticipationStatus::Active),
            Ok(ParticipationStatus::Completed)
        );
        assert!(complete_on_adoption(ParticipationStatus::Accepted).is_err());
    }
}
