//! National lessons (enseignements nationaux) drawn from a Fabrique.

use crate::blocker::{Blocker, Blockers};
use crate::fabrique::FabriqueStatus;

/// Lessons are recorded, changed and removed while the Fabrique recruits or runs.
pub fn can_record(fabrique_status: FabriqueStatus) -> Result<(), Blockers> {
    match fabrique_status {
        FabriqueStatus::Recruiting | FabriqueStatus::Running => Ok(()),
        other => Err(Blockers::one(Blocker::LessonsClosed {
            current: other.as_str(),
        })),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lessons_are_open_while_the_fabrique_recruits_or_runs() {
        for s in FabriqueStatus::ALL {
            let open = matches!(s, FabriqueStatus::Recruiting | FabriqueStatus::Running);
            assert_eq!(can_record(s).is_ok(), open, "{s}");
        }
    }
}
