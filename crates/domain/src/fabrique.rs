//! The Fabrique lifecycle: `draft → recruiting → running → completed`, and `cancelled` from
//! any of the first three.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;

use crate::blocker::{Blocker, Blockers};
use uuid::Uuid;

use crate::dates::{MAX_TERRITORIES, TerritoryBounds, default_end};
use crate::refusal::{FieldError, Refusal};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FabriqueStatus {
    Draft,
    Recruiting,
    Running,
    Completed,
    Cancelled,
}

impl FabriqueStatus {
    pub const ALL: [FabriqueStatus; 5] = [
        FabriqueStatus::Draft,
        FabriqueStatus::Recruiting,
        FabriqueStatus::Running,
        FabriqueStatus::Completed,
        FabriqueStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FabriqueStatus::Draft => "draft",
            FabriqueStatus::Recruiting => "recruiting",
            FabriqueStatus::Running => "running",
            FabriqueStatus::Completed => "completed",
            FabriqueStatus::Cancelled => "cancelled",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, FabriqueStatus::Completed | FabriqueStatus::Cancelled)
    }
}

impl fmt::Display for FabriqueStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FabriqueStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        FabriqueStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum FabriqueAction {
    /// draft → recruiting (ouverture des candidatures)
    OpenRecruitment,
    /// recruiting → running (lancement)
    Launch,
    /// running → completed (clôture)
    Complete,
    /// draft | recruiting | running → cancelled (annulation)
    Cancel,
}

impl FabriqueAction {
    pub const ALL: [FabriqueAction; 4] = [
        FabriqueAction::OpenRecruitment,
        FabriqueAction::Launch,
        FabriqueAction::Complete,
        FabriqueAction::Cancel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FabriqueAction::OpenRecruitment => "open_recruitment",
            FabriqueAction::Launch => "launch",
            FabriqueAction::Complete => "complete",
            FabriqueAction::Cancel => "cancel",
        }
    }

    pub fn from_statuses(self) -> &'static [&'static str] {
        match self {
            FabriqueAction::OpenRecruitment => &["draft"],
            FabriqueAction::Launch => &["recruiting"],
            FabriqueAction::Complete => &["running"],
            FabriqueAction::Cancel => &["draft", "recruiting", "running"],
        }
    }

    pub fn target(self) -> FabriqueStatus {
        match self {
            FabriqueAction::OpenRecruitment => FabriqueStatus::Recruiting,
            FabriqueAction::Launch => FabriqueStatus::Running,
            FabriqueAction::Complete => FabriqueStatus::Completed,
            FabriqueAction::Cancel => FabriqueStatus::Cancelled,
        }
    }
}

impl FromStr for FabriqueAction {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        FabriqueAction::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(())
    }
}

/// How many participations of a Fabrique are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParticipationCounts {
    pub applied: u32,
    pub accepted: u32,
    pub rejected: u32,
    pub active: u32,
    pub completed: u32,
    pub withdrawn: u32,
}

/// What the rules need to know about a Fabrique. Seminars and lessons are counted by the
/// caller (zero until those entities exist), so the completion rule is whole already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FabriqueFacts {
    pub status: FabriqueStatus,
    pub has_title: bool,
    pub has_theme: bool,
    pub planned_start: Option<NaiveDate>,
    /// The planned end (set on launch unless given before).
    pub end_date: Option<NaiveDate>,
    pub min_territories: u32,
    pub max_territories: u32,
    pub has_anct_pilot: bool,
    pub has_contractor: bool,
    pub participations: ParticipationCounts,
    pub planned_seminars: u32,
    pub lessons: u32,
}

/// What an allowed action changes, for the caller to persist in one transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FabriqueEffects {
    pub to: FabriqueStatus,
    /// Set on launch: the actual start and the end (start + 12 months unless already set).
    pub actual_start: Option<NaiveDate>,
    /// The end to record: on launch (see above), and on completion the completion date when
    /// it comes before the planned end.
    pub end: Option<NaiveDate>,
    /// Launch: accepted participations become active.
    pub activate_accepted: bool,
    /// Cancel: applied, accepted and active participations become withdrawn, and planned
    /// seminars are cancelled, with the cancellation reason.
    pub cascade_cancellation: bool,
}

/// Every unmet condition of `action` on a Fabrique described by `facts`.
pub fn blockers(
    facts: &FabriqueFacts,
    action: FabriqueAction,
    reason: Option<&str>,
) -> Vec<Blocker> {
    let mut out = Vec::new();
    if !action.from_statuses().contains(&facts.status.as_str()) {
        out.push(Blocker::InvalidStatus {
            current: facts.status.as_str(),
            allowed_from: action.from_statuses(),
        });
    }
    let p = facts.participations;
    match action {
        FabriqueAction::OpenRecruitment => {
            if !facts.has_title {
                out.push(Blocker::TitleMissing);
            }
            if !facts.has_theme {
                out.push(Blocker::ThemeMissing);
            }
            if facts.planned_start.is_none() {
                out.push(Blocker::PlannedStartMissing);
            }
            if !facts.has_anct_pilot {
                out.push(Blocker::AnctPilotMissing);
            }
            if facts.min_territories < 1 || facts.min_territories > facts.max_territories {
                out.push(Blocker::BoundsInvalid {
                    min: facts.min_territories,
                    max: facts.max_territories,
                });
            }
        }
        FabriqueAction::Launch => {
            if !facts.has_contractor {
                out.push(Blocker::ContractorMissing);
            }
            if p.applied > 0 {
                out.push(Blocker::UndecidedApplications { count: p.applied });
            }
            let accepted = p.accepted + p.active;
            if accepted < facts.min_territories {
                out.push(Blocker::TooFewAccepted {
                    accepted,
                    min: facts.min_territories,
                });
            }
            if accepted > facts.max_territories {
                out.push(Blocker::TooManyAccepted {
                    accepted,
                    max: facts.max_territories,
                });
            }
        }
        FabriqueAction::Complete => {
            let open = p.applied + p.accepted + p.active;
            if open > 0 {
                out.push(Blocker::ParticipationsNotCompleted { count: open });
            }
            if facts.planned_seminars > 0 {
                out.push(Blocker::SeminarsStillPlanned {
                    count: facts.planned_seminars,
                });
            }
            if facts.lessons == 0 {
                out.push(Blocker::NoLesson);
            }
        }
        FabriqueAction::Cancel => {
            if reason.is_none_or(|r| r.trim().is_empty()) {
                out.push(Blocker::ReasonRequired);
            }
        }
    }
    out
}

/// Decides `action`: the effects to persist, or every unmet condition.
pub fn decide(
    facts: &FabriqueFacts,
    action: FabriqueAction,
    reason: Option<&str>,
    today: NaiveDate,
) -> Result<FabriqueEffects, Blockers> {
    Blockers::check(blockers(facts, action, reason))?;
    let mut effects = FabriqueEffects {
        to: action.target(),
        actual_start: None,
        end: None,
        activate_accepted: false,
        cascade_cancellation: false,
    };
    match action {
        FabriqueAction::Launch => {
            effects.actual_start = Some(today);
            effects.end = Some(default_end(today));
            effects.activate_accepted = true;
        }
        FabriqueAction::Complete => {
            // Completed early: the year ended when it was completed, not when it was planned.
            if facts.end_date.is_none_or(|end| today < end) {
                effects.end = Some(today);
            }
        }
        FabriqueAction::Cancel => effects.cascade_cancellation = true,
        FabriqueAction::OpenRecruitment => {}
    }
    Ok(effects)
}

/// Every action with its blockers (empty when allowed), in lifecycle order.
pub fn available(
    facts: &FabriqueFacts,
    reason: Option<&str>,
) -> Vec<(FabriqueAction, Vec<Blocker>)> {
    FabriqueAction::ALL
        .into_iter()
        .map(|a| (a, blockers(facts, a, reason)))
        .collect()
}

/// Whether a Fabrique in this status may still change at all.
fn open(status: FabriqueStatus) -> Result<(), Blocker> {
    if status.is_terminal() {
        Err(Blocker::FabriqueClosed {
            current: status.as_str(),
        })
    } else {
        Ok(())
    }
}

/// A new Fabrique, as the rules accept it: bounds checked, the end after the planned start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFabrique {
    pub title: String,
    pub theme: Option<String>,
    pub description: String,
    pub programme_id: Option<Uuid>,
    pub bounds: TerritoryBounds,
    pub planned_start: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

/// The changes of a `PATCH`: `None` keeps a field, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FabriqueChanges {
    pub title: Option<String>,
    pub theme: Option<Option<String>>,
    pub description: Option<String>,
    pub programme_id: Option<Option<Uuid>>,
    pub min_territories: Option<u32>,
    pub max_territories: Option<u32>,
    pub planned_start: Option<Option<NaiveDate>>,
    pub end_date: Option<Option<NaiveDate>>,
}

/// What the edit rules need to know of the Fabrique being changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditFacts {
    pub status: FabriqueStatus,
    pub min_territories: u32,
    pub max_territories: u32,
    /// Participations accepted, active or completed.
    pub accepted: u32,
    pub planned_start: Option<NaiveDate>,
    pub actual_start: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

/// The values an allowed edit leaves, for the caller to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edited {
    pub bounds: TerritoryBounds,
    pub planned_start: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

/// Territory bounds as a field error (422) naming `min_territories`.
pub fn check_bounds(min: u32, max: u32) -> Result<TerritoryBounds, FieldError> {
    TerritoryBounds::new(min, max).map_err(|e| {
        FieldError::new(
            "/min_territories",
            "territory_bounds_invalid",
            format!(
                "territory bounds must satisfy 1 <= min <= max <= {MAX_TERRITORIES} (min {}, max {})",
                e.min, e.max
            ),
        )
    })
}

/// The end of a Fabrique must come after its start.
pub fn check_dates(start: Option<NaiveDate>, end: Option<NaiveDate>) -> Result<(), FieldError> {
    match (start, end) {
        (Some(s), Some(e)) if e <= s => Err(FieldError::new(
            "/end_date",
            "end_before_start",
            "the end must come after the start",
        )),
        _ => Ok(()),
    }
}

/// Decides an edit: nothing changes once completed or cancelled; the territory bounds change
/// only before launch and never below the territories already accepted; the end stays after
/// the start.
pub fn decide_edit(facts: &EditFacts, changes: &FabriqueChanges) -> Result<Edited, Refusal> {
    open(facts.status).map_err(Blockers::one)?;
    let min = changes.min_territories.unwrap_or(facts.min_territories);
    let max = changes.max_territories.unwrap_or(facts.max_territories);
    let mut blocked = Vec::new();
    let mut invalid = Vec::new();
    let bounds = if (min, max) == (facts.min_territories, facts.max_territories) {
        TerritoryBounds::new(min, max).unwrap_or_default()
    } else {
        if !matches!(
            facts.status,
            FabriqueStatus::Draft | FabriqueStatus::Recruiting
        ) {
            blocked.push(Blocker::BoundsFrozen {
                current: facts.status.as_str(),
            });
        }
        if max < facts.accepted {
            blocked.push(Blocker::BelowAccepted {
                accepted: facts.accepted,
                max,
            });
        }
        match check_bounds(min, max) {
            Ok(b) => b,
            Err(e) => {
                invalid.push(e);
                TerritoryBounds::default()
            }
        }
    };
    let planned_start = changes.planned_start.unwrap_or(facts.planned_start);
    let end_date = changes.end_date.unwrap_or(facts.end_date);
    if let Err(e) = check_dates(facts.actual_start.or(planned_start), end_date) {
        invalid.push(e);
    }
    Blockers::check(blocked)?;
    if !invalid.is_empty() {
        return Err(Refusal::Invalid(invalid));
    }
    Ok(Edited {
        bounds,
        planned_start,
        end_date,
    })
}

/// Only a draft is deleted (with its preparations); a Fabrique past draft is cancelled.
pub fn can_delete(status: FabriqueStatus) -> Result<(), Blockers> {
    if status == FabriqueStatus::Draft {
        Ok(())
    } else {
        Err(Blockers::one(Blocker::NotADraft {
            current: status.as_str(),
        }))
    }
}

/// Partners change until the Fabrique is completed or cancelled.
pub fn can_change_partners(status: FabriqueStatus) -> Result<(), Blockers> {
    open(status).map_err(Blockers::one)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready_draft() -> FabriqueFacts {
        FabriqueFacts {
            status: FabriqueStatus::Draft,
            has_title: true,
            has_theme: true,
            planned_start: NaiveDate::from_ymd_opt(2027, 1, 15),
            end_date: None,
            min_territories: 4,
            max_territories: 8,
            has_anct_pilot: true,
            has_contractor: false,
            participations: ParticipationCounts::default(),
            planned_seminars: 0,
            lessons: 0,
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 2, 1).unwrap_or_default()
    }

    fn codes(b: &[Blocker]) -> Vec<&'static str> {
        b.iter().map(Blocker::code).collect()
    }

    #[test]
    fn a_complete_draft_opens_recruitment() {
        let e = decide(
            &ready_draft(),
            FabriqueAction::OpenRecruitment,
            None,
            today(),
        );
        assert_eq!(e.map(|e| e.to), Ok(FabriqueStatus::Recruiting));
    }

    #[test]
    fn opening_recruitment_names_every_missing_condition() {
        let facts = FabriqueFacts {
            has_title: false,
            has_theme: false,
            planned_start: None,
            has_anct_pilot: false,
            min_territories: 5,
            max_territories: 3,
            ..ready_draft()
        };
        let b = blockers(&facts, FabriqueAction::OpenRecruitment, None);
        assert_eq!(
            codes(&b),
            [
                "title_missing",
                "theme_missing",
                "planned_start_missing",
                "anct_pilot_missing",
                "territory_bounds_invalid"
            ]
        );
    }

    #[test]
    fn launch_is_refused_while_an_application_is_undecided() {
        let facts = FabriqueFacts {
            status: FabriqueStatus::Recruiting,
            has_contractor: true,
            participations: ParticipationCounts {
                applied: 1,
                accepted: 4,
                ..Default::default()
            },
            ..ready_draft()
        };
        assert_eq!(
            codes(&blockers(&facts, FabriqueAction::Launch, None)),
            ["undecided_applications"]
        );
    }

    #[test]
    fn launch_needs_a_contractor_and_enough_territories() {
        let facts = FabriqueFacts {
            status: FabriqueStatus::Recruiting,
            participations: ParticipationCounts {
                accepted: 3,
                ..Default::default()
            },
            ..ready_draft()
        };
        assert_eq!(
            codes(&blockers(&facts, FabriqueAction::Launch, None)),
            ["contractor_missing", "too_few_accepted"]
        );
    }

    #[test]
    fn launch_sets_the_start_and_an_end_one_year_later() {
        let facts = FabriqueFacts {
            status: FabriqueStatus::Recruiting,
            has_contractor: true,
            participations: ParticipationCounts {
                accepted: 4,
                rejected: 2,
                ..Default::default()
            },
            ..ready_draft()
        };
        let e = decide(&facts, FabriqueAction::Launch, None, today());
        assert_eq!(
            e,
            Ok(FabriqueEffects {
                to: FabriqueStatus::Running,
                actual_start: Some(today()),
                end: NaiveDate::from_ymd_opt(2028, 2, 1),
                activate_accepted: true,
                cascade_cancellation: false,
            })
        );
    }

    #[test]
    fn completion_needs_completed_participations_no_planned_seminar_and_a_lesson() {
        let facts = FabriqueFacts {
            status: FabriqueStatus::Running,
            participations: ParticipationCounts {
                active: 2,
                completed: 2,
                withdrawn: 1,
                ..Default::default()
            },
            planned_seminars: 3,
            ..ready_draft()
        };
        assert_eq!(
            codes(&blockers(&facts, FabriqueAction::Complete, None)),
            [
                "participations_not_completed",
                "seminars_still_planned",
                "no_lesson"
            ]
        );
        let done = FabriqueFacts {
            participations: ParticipationCounts {
                completed: 4,
                withdrawn: 1,
                ..Default::default()
            },
            planned_seminars: 0,
            lessons: 1,
            ..facts
        };
        assert!(decide(&done, FabriqueAction::Complete, None, today()).is_ok());
    }

    #[test]
    fn completing_before_the_planned_end_ends_the_year_that_day() {
        let running = |end: Option<NaiveDate>| FabriqueFacts {
            status: FabriqueStatus::Running,
            end_date: end,
            participations: ParticipationCounts {
                completed: 4,
                ..Default::default()
            },
            lessons: 1,
            ..ready_draft()
        };
        let end_of =
            |f: &FabriqueFacts| decide(f, FabriqueAction::Complete, None, today()).map(|e| e.end);
        // today() is 2027-02-01.
        let early = running(NaiveDate::from_ymd_opt(2027, 6, 30));
        assert_eq!(end_of(&early), Ok(Some(today())));
        let late = running(NaiveDate::from_ymd_opt(2027, 1, 31));
        assert_eq!(
            end_of(&late),
            Ok(None),
            "a later completion keeps the planned end"
        );
        let on_the_day = running(Some(today()));
        assert_eq!(end_of(&on_the_day), Ok(None));
        assert_eq!(end_of(&running(None)), Ok(Some(today())));
    }

    #[test]
    fn cancellation_needs_a_reason_and_cascades() {
        let facts = FabriqueFacts {
            status: FabriqueStatus::Running,
            ..ready_draft()
        };
        assert_eq!(
            codes(&blockers(&facts, FabriqueAction::Cancel, Some("  "))),
            ["reason_required"]
        );
        let e = decide(&facts, FabriqueAction::Cancel, Some("budget"), today());
        assert_eq!(
            e.map(|e| (e.to, e.cascade_cancellation)),
            Ok((FabriqueStatus::Cancelled, true))
        );
    }

    #[test]
    fn nothing_leaves_a_terminal_state() {
        for status in [FabriqueStatus::Completed, FabriqueStatus::Cancelled] {
            let facts = FabriqueFacts {
                status,
                ..ready_draft()
            };
            for (action, b) in available(&facts, Some("reason")) {
                assert!(
                    b.iter().any(|b| b.code() == "invalid_status"),
                    "{action:?} from {status}"
                );
            }
        }
    }

    fn editing(status: FabriqueStatus, accepted: u32) -> EditFacts {
        EditFacts {
            status,
            min_territories: 4,
            max_territories: 8,
            accepted,
            planned_start: NaiveDate::from_ymd_opt(2027, 1, 15),
            actual_start: None,
            end_date: None,
        }
    }

    fn edit_codes(r: Result<Edited, Refusal>) -> Vec<&'static str> {
        match r {
            Ok(_) => vec![],
            Err(Refusal::Blocked(b)) => b.0.iter().map(Blocker::code).collect(),
            Err(Refusal::Invalid(e)) => e.iter().map(|e| e.code).collect(),
        }
    }

    #[test]
    fn a_closed_fabrique_refuses_every_edit_with_one_blocker() {
        for status in [FabriqueStatus::Completed, FabriqueStatus::Cancelled] {
            let changes = FabriqueChanges {
                title: Some("x".into()),
                ..FabriqueChanges::default()
            };
            assert_eq!(
                edit_codes(decide_edit(&editing(status, 0), &changes)),
                ["fabrique_closed"]
            );
        }
        assert!(can_change_partners(FabriqueStatus::Cancelled).is_err());
        assert!(can_change_partners(FabriqueStatus::Running).is_ok());
    }

    #[test]
    fn bounds_freeze_at_launch_and_never_go_below_the_accepted() {
        let lower = FabriqueChanges {
            max_territories: Some(5),
            ..FabriqueChanges::default()
        };
        assert_eq!(
            edit_codes(decide_edit(&editing(FabriqueStatus::Running, 6), &lower)),
            ["bounds_frozen", "below_accepted"]
        );
        assert_eq!(
            edit_codes(decide_edit(&editing(FabriqueStatus::Recruiting, 6), &lower)),
            ["below_accepted"]
        );
        let ok = decide_edit(&editing(FabriqueStatus::Recruiting, 5), &lower);
        assert_eq!(ok.map(|e| e.bounds.max()), Ok(5));
        let inverted = FabriqueChanges {
            min_territories: Some(9),
            ..FabriqueChanges::default()
        };
        assert_eq!(
            edit_codes(decide_edit(&editing(FabriqueStatus::Draft, 0), &inverted)),
            ["territory_bounds_invalid"]
        );
    }

    #[test]
    fn the_end_stays_after_the_start() {
        let early = FabriqueChanges {
            end_date: Some(NaiveDate::from_ymd_opt(2027, 1, 1)),
            ..FabriqueChanges::default()
        };
        assert_eq!(
            edit_codes(decide_edit(&editing(FabriqueStatus::Draft, 0), &early)),
            ["end_before_start"]
        );
    }

    #[test]
    fn only_drafts_are_deleted() {
        assert!(can_delete(FabriqueStatus::Draft).is_ok());
        for s in [
            FabriqueStatus::Recruiting,
            FabriqueStatus::Running,
            FabriqueStatus::Completed,
            FabriqueStatus::Cancelled,
        ] {
            assert_eq!(can_delete(s).map_err(|b| b.0[0].code()), Err("not_a_draft"));
        }
    }
}
