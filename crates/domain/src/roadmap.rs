//! The roadmap (feuille de route) or action programme of a participation:
//! `draft → submitted → adopted`, with `submitted → draft` when changes are asked for.
//! Adopting it completes the participation.

use chrono::NaiveDate;

use crate::blocker::{Blocker, Blockers};
use crate::participation::ParticipationStatus;
use crate::vocab::named_enum;

named_enum!(
    /// A roadmap (feuille de route) or an action programme (programme d'action).
    RoadmapKind { Roadmap = "roadmap", ActionProgramme = "action_programme" }
);
named_enum!(RoadmapStatus { Draft = "draft", Submitted = "submitted", Adopted = "adopted" });
named_enum!(RoadmapAction { Submit = "submit", ReturnToDraft = "return_to_draft", Adopt = "adopt" });
named_enum!(
    /// Progress of one action of a roadmap.
    ActionStatus { Planned = "planned", InProgress = "in_progress", Done = "done", Abandoned = "abandoned" }
);

impl RoadmapAction {
    pub fn from_statuses(self) -> &'static [&'static str] {
        match self {
            RoadmapAction::Submit => &["draft"],
            RoadmapAction::ReturnToDraft | RoadmapAction::Adopt => &["submitted"],
        }
    }

    pub fn target(self) -> RoadmapStatus {
        match self {
            RoadmapAction::Submit => RoadmapStatus::Submitted,
            RoadmapAction::ReturnToDraft => RoadmapStatus::Draft,
            RoadmapAction::Adopt => RoadmapStatus::Adopted,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoadmapFacts {
    pub status: RoadmapStatus,
    pub participation_status: ParticipationStatus,
    pub action_count: u32,
}

/// The adoption's evidence: a date and a reference (e.g. a council deliberation).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Adoption {
    pub date: Option<NaiveDate>,
    pub reference: Option<String>,
}

pub fn blockers(
    f: &RoadmapFacts,
    action: RoadmapAction,
    adoption: &Adoption,
    today: NaiveDate,
) -> Vec<Blocker> {
    let mut out = Vec::new();
    if !action.from_statuses().contains(&f.status.as_str()) {
        out.push(Blocker::InvalidStatus {
            current: f.status.as_str(),
            allowed_from: action.from_statuses(),
        });
    }
    if action != RoadmapAction::ReturnToDraft
        && f.participation_status != ParticipationStatus::Active
    {
        out.push(Blocker::ParticipationNotActive {
            current: f.participation_status.as_str(),
        });
    }
    match action {
        RoadmapAction::Submit if f.action_count == 0 => out.push(Blocker::NoRoadmapActions),
        RoadmapAction::Adopt => {
            match adoption.date {
                None => out.push(Blocker::AdoptionDateRequired),
                Some(d) if d > today => out.push(Blocker::DateInFuture),
                Some(_) => {}
            }
            if adoption
                .reference
                .as_deref()
                .is_none_or(|r| r.trim().is_empty())
            {
                out.push(Blocker::AdoptionReferenceRequired);
            }
        }
        _ => {}
    }
    out
}

pub fn decide(
    f: &RoadmapFacts,
    action: RoadmapAction,
    adoption: &Adoption,
    today: NaiveDate,
) -> Result<RoadmapStatus, Blockers> {
    Blockers::check(blockers(f, action, adoption, today)).map(|()| action.target())
}

/// A roadmap's content changes only while it is a draft.
pub fn can_edit(status: RoadmapStatus) -> Result<(), Blockers> {
    if status == RoadmapStatus::Draft {
        Ok(())
    } else {
        Err(Blockers(vec![Blocker::InvalidStatus {
            current: status.as_str(),
            allowed_from: &["draft"],
        }]))
    }
}

/// A roadmap's content, created or changed while it is a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoadmapDraft {
    pub kind: RoadmapKind,
    pub title: String,
    pub summary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAction {
    pub title: String,
    pub description: String,
    pub lead: Option<String>,
    pub horizon: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub estimated_cost_cents: Option<i64>,
    pub status: ActionStatus,
}

/// Any field while the roadmap is a draft; only `status` once submitted or adopted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActionChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub lead: Option<Option<String>>,
    pub horizon: Option<Option<String>>,
    pub due_on: Option<Option<NaiveDate>>,
    pub estimated_cost_cents: Option<Option<i64>>,
    pub status: Option<ActionStatus>,
}

impl ActionChanges {
    /// Whether it changes the content (not only the progress).
    pub fn changes_content(&self) -> bool {
        self.title.is_some()
            || self.description.is_some()
            || self.lead.is_some()
            || self.horizon.is_some()
            || self.due_on.is_some()
            || self.estimated_cost_cents.is_some()
    }
}

/// What a roadmap needs of its participation: to be active.
pub fn can_write(participation: ParticipationStatus) -> Result<(), Blockers> {
    if participation == ParticipationStatus::Active {
        Ok(())
    } else {
        Err(Blockers::one(Blocker::ParticipationNotActive {
            current: participation.as_str(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn facts(status: RoadmapStatus) -> RoadmapFacts {
        RoadmapFacts {
            status,
            participation_status: ParticipationStatus::Active,
            action_count: 3,
        }
    }

    fn codes(b: Vec<Blocker>) -> Vec<&'static str> {
        b.iter().map(Blocker::code).collect()
    }

    #[test]
    fn a_roadmap_is_submitted_with_at_least_one_action() {
        let empty = RoadmapFacts {
            action_count: 0,
            ..facts(RoadmapStatus::Draft)
        };
        assert_eq!(
            codes(blockers(
                &empty,
                RoadmapAction::Submit,
                &Adoption::default(),
                d(2027, 1, 1)
            )),
            ["no_roadmap_actions"]
        );
        assert_eq!(
            decide(
                &facts(RoadmapStatus::Draft),
                RoadmapAction::Submit,
                &Adoption::default(),
                d(2027, 1, 1)
            ),
            Ok(RoadmapStatus::Submitted)
        );
    }

    #[test]
    fn adoption_needs_a_past_date_and_a_reference() {
        let f = facts(RoadmapStatus::Submitted);
        assert_eq!(
            codes(blockers(
                &f,
                RoadmapAction::Adopt,
                &Adoption::default(),
                d(2027, 1, 1)
            )),
            ["adoption_date_required", "adoption_reference_required"]
        );
        let future = Adoption {
            date: Some(d(2027, 2, 1)),
            reference: Some("Délibération 2027-12".into()),
        };
        assert_eq!(
            codes(blockers(&f, RoadmapAction::Adopt, &future, d(2027, 1, 1))),
            ["date_in_future"]
        );
        assert_eq!(
            decide(&f, RoadmapAction::Adopt, &future, d(2027, 2, 1)),
            Ok(RoadmapStatus::Adopted)
        );
    }

    #[test]
    fn an_adopted_roadmap_is_final() {
        let f = facts(RoadmapStatus::Adopted);
        let adoption = Adoption {
            date: Some(d(2027, 1, 1)),
            reference: Some("x".into()),
        };
        for a in RoadmapAction::ALL {
            assert!(decide(&f, *a, &adoption, d(2027, 2, 1)).is_err(), "{a}");
        }
        assert!(
            can_edit(RoadmapStatus::Adopted).is_err()
                && can_edit(RoadmapStatus::Submitted).is_err()
        );
    }
}
