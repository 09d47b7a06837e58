//! Corrections: ANCT (admins and staff) may put right what the lifecycle otherwise freezes, a
//! held seminar's date, attendance and summary, and a started Fabrique's actual start and end,
//! always with a reason, journalled as a correction (`<entity>.corrected`, with the reason).

use chrono::NaiveDate;

use crate::blocker::{Blocker, Blockers};
use crate::fabrique::{FabriqueStatus, check_dates};
use crate::refusal::{FieldError, Refusal};
use crate::seminar::SeminarStatus;

/// What a correction of a held seminar changes (at least one of them), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeminarCorrection {
    pub scheduled_on: Option<NaiveDate>,
    pub attendance: Option<u32>,
    /// `Some(None)` clears the summary.
    pub summary: Option<Option<String>>,
    pub reason: String,
}

/// What a correction of a Fabrique's dates changes (at least one of them), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FabriqueCorrection {
    pub actual_start: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub reason: String,
}

fn nothing(what: &str) -> FieldError {
    FieldError::new(
        "",
        "nothing_to_correct",
        format!("give at least one of {what} beside the reason"),
    )
}

fn not_after_today(pointer: &str, day: NaiveDate, today: NaiveDate) -> Option<FieldError> {
    (day > today).then(|| {
        FieldError::new(
            pointer,
            "date_in_future",
            "a correction records what happened: the date cannot be after today",
        )
    })
}

/// A held seminar's correction: only a held seminar, and its date is not after today.
pub fn check_seminar(
    status: SeminarStatus,
    c: &SeminarCorrection,
    today: NaiveDate,
) -> Result<(), Refusal> {
    if status != SeminarStatus::Held {
        return Err(Blockers::one(Blocker::SeminarNotHeld {
            current: status.as_str(),
        })
        .into());
    }
    if c.scheduled_on.is_none() && c.attendance.is_none() && c.summary.is_none() {
        return Err(Refusal::Invalid(vec![nothing(
            "scheduled_on, attendance, summary",
        )]));
    }
    match c
        .scheduled_on
        .and_then(|d| not_after_today("/scheduled_on", d, today))
    {
        Some(e) => Err(Refusal::Invalid(vec![e])),
        None => Ok(()),
    }
}

/// A Fabrique's dates corrected: only once it runs or is completed; the start not after
/// today, the end after the start. Gives the start and end to store.
pub fn correct_fabrique(
    status: FabriqueStatus,
    current: (Option<NaiveDate>, Option<NaiveDate>),
    c: &FabriqueCorrection,
    today: NaiveDate,
) -> Result<(Option<NaiveDate>, Option<NaiveDate>), Refusal> {
    if !matches!(status, FabriqueStatus::Running | FabriqueStatus::Completed) {
        return Err(Blockers::one(Blocker::FabriqueNotStarted {
            current: status.as_str(),
        })
        .into());
    }
    if c.actual_start.is_none() && c.end_date.is_none() {
        return Err(Refusal::Invalid(vec![nothing("actual_start, end_date")]));
    }
    let start = c.actual_start.or(current.0);
    let end = c.end_date.or(current.1);
    let mut errors: Vec<FieldError> = c
        .actual_start
        .and_then(|d| not_after_today("/actual_start", d, today))
        .into_iter()
        .collect();
    if let Err(e) = check_dates(start, end) {
        errors.push(e);
    }
    if errors.is_empty() {
        Ok((start, end))
    } else {
        Err(Refusal::Invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn seminar(scheduled_on: Option<NaiveDate>, attendance: Option<u32>) -> SeminarCorrection {
        SeminarCorrection {
            scheduled_on,
            attendance,
            summary: None,
            reason: "erreur de saisie".into(),
        }
    }

    fn codes(r: Result<(), Refusal>) -> Vec<&'static str> {
        match r {
            Ok(()) => Vec::new(),
            Err(Refusal::Invalid(e)) => e.iter().map(|e| e.code).collect(),
            Err(Refusal::Blocked(b)) => b.0.iter().map(Blocker::code).collect(),
        }
    }

    #[test]
    fn only_a_held_seminar_is_corrected_and_never_into_the_future() {
        let today = day(2027, 3, 1);
        let fix = seminar(None, Some(31));
        assert_eq!(
            codes(check_seminar(SeminarStatus::Held, &fix, today)),
            Vec::<&str>::new()
        );
        assert_eq!(
            codes(check_seminar(SeminarStatus::Planned, &fix, today)),
            ["seminar_not_held"]
        );
        assert_eq!(
            codes(check_seminar(SeminarStatus::Cancelled, &fix, today)),
            ["seminar_not_held"]
        );
        assert_eq!(
            codes(check_seminar(
                SeminarStatus::Held,
                &seminar(Some(day(2027, 3, 2)), None),
                today
            )),
            ["date_in_future"]
        );
        assert_eq!(
            codes(check_seminar(
                SeminarStatus::Held,
                &seminar(None, None),
                today
            )),
            ["nothing_to_correct"]
        );
    }

    #[test]
    fn a_started_fabrique_gets_its_dates_corrected_in_order() {
        let today = day(2027, 3, 1);
        let current = (Some(day(2027, 2, 1)), Some(day(2028, 2, 1)));
        let fix = |start, end| FabriqueCorrection {
            actual_start: start,
            end_date: end,
            reason: "date réelle".into(),
        };
        assert_eq!(
            correct_fabrique(
                FabriqueStatus::Running,
                current,
                &fix(Some(day(2027, 1, 15)), None),
                today
            ),
            Ok((Some(day(2027, 1, 15)), Some(day(2028, 2, 1))))
        );
        assert_eq!(
            correct_fabrique(
                FabriqueStatus::Completed,
                current,
                &fix(None, Some(day(2027, 12, 1))),
                today
            ),
            Ok((Some(day(2027, 2, 1)), Some(day(2027, 12, 1))))
        );
        let codes_of = |r: Result<_, Refusal>| match r {
            Ok(_) => Vec::new(),
            Err(Refusal::Invalid(e)) => e.iter().map(|e| e.code).collect(),
            Err(Refusal::Blocked(b)) => b.0.iter().map(Blocker::code).collect::<Vec<_>>(),
        };
        assert_eq!(
            codes_of(correct_fabrique(
                FabriqueStatus::Recruiting,
                current,
                &fix(Some(day(2027, 1, 1)), None),
                today
            )),
            ["fabrique_not_started"]
        );
        assert_eq!(
            codes_of(correct_fabrique(
                FabriqueStatus::Running,
                current,
                &fix(Some(day(2027, 4, 1)), Some(day(2027, 3, 1))),
                today
            )),
            ["date_in_future", "end_before_start"]
        );
        assert_eq!(
            codes_of(correct_fabrique(
                FabriqueStatus::Running,
                current,
                &fix(None, None),
                today
            )),
            ["nothing_to_correct"]
        );
    }
}
