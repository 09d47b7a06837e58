//! National lessons (enseignements nationaux) drawn from a Fabrique.

use chrono::{Months, NaiveDate};

use crate::blocker::{Blocker, Blockers};
use crate::fabrique::FabriqueStatus;

/// How long after a Fabrique's end its lessons may still be recorded (they usually come
/// after the year).
pub const MONTHS_AFTER_COMPLETION: u32 = 12;

/// Lessons are recorded, changed and removed while the Fabrique recruits or runs, and once it
/// is completed, until [`MONTHS_AFTER_COMPLETION`] months after its end.
pub fn can_record(
    fabrique_status: FabriqueStatus,
    end_date: Option<NaiveDate>,
    today: NaiveDate,
) -> Result<(), Blockers> {
    let late_enough = |end: NaiveDate| {
        end.checked_add_months(Months::new(MONTHS_AFTER_COMPLETION))
            .is_some_and(|limit| today <= limit)
    };
    match fabrique_status {
        FabriqueStatus::Recruiting | FabriqueStatus::Running => Ok(()),
        FabriqueStatus::Completed if end_date.is_some_and(late_enough) => Ok(()),
        other => Err(Blockers::one(Blocker::LessonsClosed {
            current: other.as_str(),
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    #[test]
    fn lessons_are_open_while_the_fabrique_recruits_or_runs() {
        for s in FabriqueStatus::ALL {
            let open = matches!(s, FabriqueStatus::Recruiting | FabriqueStatus::Running);
            assert_eq!(can_record(s, None, day(2027, 1, 1)).is_ok(), open, "{s}");
        }
    }

    #[test]
    fn lessons_are_recorded_up_to_a_year_after_completion() {
        let end = Some(day(2027, 6, 30));
        let ok = |s, today| can_record(s, end, today).is_ok();
        assert!(ok(FabriqueStatus::Running, day(2030, 1, 1)));
        assert!(ok(FabriqueStatus::Completed, day(2027, 7, 1)));
        assert!(ok(FabriqueStatus::Completed, day(2028, 6, 30)));
        assert!(!ok(FabriqueStatus::Completed, day(2028, 7, 1)));
        assert!(!ok(FabriqueStatus::Cancelled, day(2027, 7, 1)));
        assert!(!ok(FabriqueStatus::Draft, day(2027, 7, 1)));
        assert!(can_record(FabriqueStatus::Completed, None, day(2027, 7, 1)).is_err());
    }
}

/// A lesson to record, with the seminars and participations it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLesson {
    pub title: String,
    pub body: String,
    pub kind: crate::vocab::LessonKind,
    pub target_programme_id: Option<uuid::Uuid>,
    pub target_body: Option<String>,
    pub seminar_ids: Option<Vec<uuid::Uuid>>,
    pub participation_ids: Option<Vec<uuid::Uuid>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LessonChanges {
    pub title: Option<String>,
    pub body: Option<String>,
    pub kind: Option<crate::vocab::LessonKind>,
    pub target_programme_id: Option<Option<uuid::Uuid>>,
    pub target_body: Option<Option<String>>,
    pub seminar_ids: Option<Vec<uuid::Uuid>>,
    pub participation_ids: Option<Vec<uuid::Uuid>>,
}
