//! Seminars: four local seminars per territory (participation), four intersite seminars per
//! Fabrique. `planned → held | cancelled`; a planned seminar may be rescheduled.

use chrono::NaiveDate;

use crate::blocker::{Blocker, Blockers};
use crate::fabrique::FabriqueStatus;
use crate::participation::ParticipationStatus;
use crate::vocab::named_enum;

/// How many seminars of each kind an owner has: 4 local per territory, 4 intersite per Fabrique.
pub const SEMINARS_PER_OWNER: u32 = 4;

named_enum!(
    /// Local (séminaire local, in one territory) or intersite (séminaire intersite, the whole Fabrique).
    SeminarKind { Local = "local", Intersite = "intersite" }
);
named_enum!(SeminarStatus { Planned = "planned", Held = "held", Cancelled = "cancelled" });
named_enum!(
    /// How a seminar is held.
    SeminarMode { InPerson = "in_person", Online = "online", Hybrid = "hybrid" }
);
named_enum!(SeminarAction { Hold = "hold", Cancel = "cancel" });

impl SeminarAction {
    pub fn target(self) -> SeminarStatus {
        match self {
            SeminarAction::Hold => SeminarStatus::Held,
            SeminarAction::Cancel => SeminarStatus::Cancelled,
        }
    }
}

/// What planning a new seminar depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFacts {
    pub kind: SeminarKind,
    pub fabrique_status: FabriqueStatus,
    /// The participation of a local seminar.
    pub participation_status: Option<ParticipationStatus>,
    pub number: u32,
    /// Numbers of the owner's seminars of this kind that are not cancelled.
    pub numbers_taken: Vec<u32>,
}

/// Whether a seminar may be planned: in a Fabrique not yet closed, for an active
/// participation (local), with a free number 1..4 and fewer than four already.
pub fn can_plan(f: &PlanFacts) -> Result<(), Blockers> {
    let mut out = Vec::new();
    if f.fabrique_status.is_terminal() {
        out.push(Blocker::FabriqueClosed {
            current: f.fabrique_status.as_str(),
        });
    }
    if f.kind == SeminarKind::Local
        && let Some(p) = f
            .participation_status
            .filter(|p| *p != ParticipationStatus::Active)
    {
        out.push(Blocker::ParticipationNotActive {
            current: p.as_str(),
        });
    }
    if f.numbers_taken.len() as u32 >= SEMINARS_PER_OWNER {
        out.push(Blocker::SeminarLimitReached {
            max: SEMINARS_PER_OWNER,
        });
    } else if !(1..=SEMINARS_PER_OWNER).contains(&f.number) {
        out.push(Blocker::SeminarNumberOutOfRange {
            number: f.number,
            max: SEMINARS_PER_OWNER,
        });
    } else if f.numbers_taken.contains(&f.number) {
        out.push(Blocker::SeminarNumberTaken { number: f.number });
    }
    Blockers::check(out)
}

/// What holding or cancelling a seminar depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeminarFacts {
    pub status: SeminarStatus,
    pub fabrique_status: FabriqueStatus,
    pub scheduled_on: NaiveDate,
}

pub fn blockers(
    f: &SeminarFacts,
    action: SeminarAction,
    attendance: Option<u32>,
    today: NaiveDate,
) -> Vec<Blocker> {
    let mut out = Vec::new();
    if f.status != SeminarStatus::Planned {
        out.push(Blocker::InvalidStatus {
            current: f.status.as_str(),
            allowed_from: &["planned"],
        });
    }
    if action == SeminarAction::Hold {
        if f.fabrique_status != FabriqueStatus::Running {
            out.push(Blocker::FabriqueNotRunning {
                current: f.fabrique_status.as_str(),
            });
        }
        if f.scheduled_on > today {
            out.push(Blocker::DateInFuture);
        }
        if attendance.is_none() {
            out.push(Blocker::AttendanceRequired);
        }
    }
    out
}

pub fn decide(
    f: &SeminarFacts,
    action: SeminarAction,
    attendance: Option<u32>,
    today: NaiveDate,
) -> Result<SeminarStatus, Blockers> {
    Blockers::check(blockers(f, action, attendance, today)).map(|()| action.target())
}

/// A planned seminar may move to another date; a held or cancelled one may not.
pub fn can_reschedule(status: SeminarStatus) -> Result<(), Blockers> {
    if status == SeminarStatus::Planned {
        Ok(())
    } else {
        Err(Blockers(vec![Blocker::InvalidStatus {
            current: status.as_str(),
            allowed_from: &["planned"],
        }]))
    }
}

/// A seminar to plan: its number within its kind and owner, its date, place and mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSeminar {
    pub number: u32,
    pub scheduled_on: NaiveDate,
    pub place: Option<String>,
    pub mode: SeminarMode,
}

/// Rescheduling (date, place, mode) while planned; the summary at any time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeminarChanges {
    pub scheduled_on: Option<NaiveDate>,
    pub place: Option<Option<String>>,
    pub mode: Option<SeminarMode>,
    pub summary: Option<Option<String>>,
}

impl SeminarChanges {
    pub fn reschedules(&self) -> bool {
        self.scheduled_on.is_some() || self.place.is_some() || self.mode.is_some()
    }
}

/// Holding or cancelling a seminar, with what comes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeminarTransition {
    pub action: SeminarAction,
    pub attendance: Option<u32>,
    pub attending_organization_ids: Vec<uuid::Uuid>,
    pub summary: Option<String>,
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn plan(kind: SeminarKind, number: u32, taken: &[u32]) -> PlanFacts {
        PlanFacts {
            kind,
            fabrique_status: FabriqueStatus::Running,
            participation_status: (kind == SeminarKind::Local)
                .then_some(ParticipationStatus::Active),
            number,
            numbers_taken: taken.to_vec(),
        }
    }

    fn codes(r: Result<(), Blockers>) -> Vec<&'static str> {
        r.err()
            .map(|b| b.0.iter().map(Blocker::code).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_fifth_seminar_is_refused() {
        assert!(can_plan(&plan(SeminarKind::Local, 4, &[1, 2, 3])).is_ok());
        assert_eq!(
            codes(can_plan(&plan(SeminarKind::Local, 5, &[1, 2, 3, 4]))),
            ["seminar_limit_reached"]
        );
        assert_eq!(
            codes(can_plan(&plan(SeminarKind::Intersite, 5, &[]))),
            ["seminar_number_out_of_range"]
        );
        assert_eq!(
            codes(can_plan(&plan(SeminarKind::Intersite, 2, &[2]))),
            ["seminar_number_taken"]
        );
    }

    #[test]
    fn local_seminars_need_an_active_participation() {
        let f = PlanFacts {
            participation_status: Some(ParticipationStatus::Accepted),
            ..plan(SeminarKind::Local, 1, &[])
        };
        assert_eq!(codes(can_plan(&f)), ["participation_not_active"]);
    }

    #[test]
    fn holding_needs_a_running_fabrique_a_past_date_and_an_attendance() {
        let f = SeminarFacts {
            status: SeminarStatus::Planned,
            fabrique_status: FabriqueStatus::Recruiting,
            scheduled_on: d(2027, 6, 1),
        };
        let b: Vec<_> = blockers(&f, SeminarAction::Hold, None, d(2027, 5, 1))
            .iter()
            .map(Blocker::code)
            .collect();
        assert_eq!(
            b,
            [
                "fabrique_not_running",
                "date_in_future",
                "attendance_required"
            ]
        );
        let ok = SeminarFacts {
            fabrique_status: FabriqueStatus::Running,
            ..f
        };
        assert_eq!(
            decide(&ok, SeminarAction::Hold, Some(25), d(2027, 6, 1)),
            Ok(SeminarStatus::Held)
        );
    }

    #[test]
    fn a_held_seminar_cannot_be_cancelled_nor_rescheduled() {
        let f = SeminarFacts {
            status: SeminarStatus::Held,
            fabrique_status: FabriqueStatus::Running,
            scheduled_on: d(2027, 6, 1),
        };
        assert!(decide(&f, SeminarAction::Cancel, None, d(2027, 7, 1)).is_err());
        assert!(can_reschedule(SeminarStatus::Held).is_err());
        assert!(can_reschedule(SeminarStatus::Planned).is_ok());
    }
}
