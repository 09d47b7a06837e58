//! Unmet conditions: each refused transition names every one of them, with a stable code.

use std::fmt;

/// One condition that stops an action. The `code` is part of the public contract (clients
/// branch on it); the message is for people and may be reworded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocker {
    /// The action does not start from the current status.
    InvalidStatus {
        current: &'static str,
        allowed_from: &'static [&'static str],
    },
    TitleMissing,
    ThemeMissing,
    PlannedStartMissing,
    AnctPilotMissing,
    BoundsInvalid {
        min: u32,
        max: u32,
    },
    ContractorMissing,
    UndecidedApplications {
        count: u32,
    },
    TooFewAccepted {
        accepted: u32,
        min: u32,
    },
    TooManyAccepted {
        accepted: u32,
        max: u32,
    },
    ParticipationsNotCompleted {
        count: u32,
    },
    SeminarsStillPlanned {
        count: u32,
    },
    NoLesson,
    ReasonRequired,
    FabriqueNotRecruiting {
        current: &'static str,
    },
    MaximumReached {
        max: u32,
    },
    AlreadyApplied,
    FabriqueClosed {
        current: &'static str,
    },
    FabriqueNotRunning {
        current: &'static str,
    },
    ParticipationNotActive {
        current: &'static str,
    },
    SeminarLimitReached {
        max: u32,
    },
    SeminarNumberOutOfRange {
        number: u32,
        max: u32,
    },
    SeminarNumberTaken {
        number: u32,
    },
    DateInFuture,
    AttendanceRequired,
    NoRoadmapActions,
    AdoptionDateRequired,
    AdoptionReferenceRequired,
    /// Territory bounds change only before launch.
    BoundsFrozen {
        current: &'static str,
    },
    /// The maximum cannot go below the territories already accepted.
    BelowAccepted {
        accepted: u32,
        max: u32,
    },
    /// Only a draft Fabrique can be deleted (the others are cancelled).
    NotADraft {
        current: &'static str,
    },
    ParticipationClosed {
        current: &'static str,
    },
    /// An ANCT funding line must come from ANCT.
    FunderNotAnct,
    /// A co-funding line must come from a co_funder partner of the Fabrique.
    FunderNotCoFunder,
    /// Lessons are recorded while the Fabrique recruits or runs.
    LessonsClosed {
        current: &'static str,
    },
    /// Only a held seminar is corrected (a planned one is rescheduled).
    SeminarNotHeld {
        current: &'static str,
    },
    /// Only a running or completed Fabrique's dates are corrected.
    FabriqueNotStarted {
        current: &'static str,
    },
    /// A revoked machine client cannot get a new secret.
    ClientRevoked,
    /// A machine client has as many webhook subscriptions as it may.
    WebhookLimitReached {
        limit: u32,
    },
    /// Other resources still refer to this one.
    StillReferenced {
        count: u32,
        by: &'static str,
    },
}

impl Blocker {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Blocker::InvalidStatus { .. } => "invalid_status",
            Blocker::TitleMissing => "title_missing",
            Blocker::ThemeMissing => "theme_missing",
            Blocker::PlannedStartMissing => "planned_start_missing",
            Blocker::AnctPilotMissing => "anct_pilot_missing",
            Blocker::BoundsInvalid { .. } => "territory_bounds_invalid",
            Blocker::ContractorMissing => "contractor_missing",
            Blocker::UndecidedApplications { .. } => "undecided_applications",
            Blocker::TooFewAccepted { .. } => "too_few_accepted",
            Blocker::TooManyAccepted { .. } => "too_many_accepted",
            Blocker::ParticipationsNotCompleted { .. } => "participations_not_completed",
            Blocker::SeminarsStillPlanned { .. } => "seminars_still_planned",
            Blocker::NoLesson => "no_lesson",
            Blocker::ReasonRequired => "reason_required",
            Blocker::FabriqueNotRecruiting { .. } => "fabrique_not_recruiting",
            Blocker::MaximumReached { .. } => "maximum_reached",
            Blocker::AlreadyApplied => "already_applied",
            Blocker::FabriqueClosed { .. } => "fabrique_closed",
            Blocker::FabriqueNotRunning { .. } => "fabrique_not_running",
            Blocker::ParticipationNotActive { .. } => "participation_not_active",
            Blocker::SeminarLimitReached { .. } => "seminar_limit_reached",
            Blocker::SeminarNumberOutOfRange { .. } => "seminar_number_out_of_range",
            Blocker::SeminarNumberTaken { .. } => "seminar_number_taken",
            Blocker::DateInFuture => "date_in_future",
            Blocker::AttendanceRequired => "attendance_required",
            Blocker::NoRoadmapActions => "no_roadmap_actions",
            Blocker::AdoptionDateRequired => "adoption_date_required",
            Blocker::AdoptionReferenceRequired => "adoption_reference_required",
            Blocker::BoundsFrozen { .. } => "bounds_frozen",
            Blocker::BelowAccepted { .. } => "below_accepted",
            Blocker::NotADraft { .. } => "not_a_draft",
            Blocker::ParticipationClosed { .. } => "participation_closed",
            Blocker::FunderNotAnct => "not_anct",
            Blocker::FunderNotCoFunder => "not_a_co_funder",
            Blocker::LessonsClosed { .. } => "fabrique_not_open",
            Blocker::SeminarNotHeld { .. } => "seminar_not_held",
            Blocker::FabriqueNotStarted { .. } => "fabrique_not_started",
            Blocker::ClientRevoked => "client_revoked",
            Blocker::WebhookLimitReached { .. } => "webhook_limit_reached",
            Blocker::StillReferenced { .. } => "still_referenced",
        }
    }

    /// A JSON pointer to the field at fault, where one applies.
    pub fn pointer(&self) -> &'static str {
        match self {
            Blocker::InvalidStatus { .. } => "/status",
            Blocker::TitleMissing => "/title",
            Blocker::ThemeMissing => "/theme",
            Blocker::PlannedStartMissing => "/planned_start",
            Blocker::AnctPilotMissing | Blocker::ContractorMissing => "/partners",
            Blocker::BoundsInvalid { .. } => "/min_territories",
            Blocker::UndecidedApplications { .. }
            | Blocker::TooFewAccepted { .. }
            | Blocker::TooManyAccepted { .. }
            | Blocker::ParticipationsNotCompleted { .. }
            | Blocker::MaximumReached { .. }
            | Blocker::AlreadyApplied => "/participations",
            Blocker::SeminarsStillPlanned { .. } => "/seminars",
            Blocker::NoLesson => "/lessons",
            Blocker::ReasonRequired => "/reason",
            Blocker::FabriqueNotRecruiting { .. } => "/fabrique/status",
            Blocker::FabriqueClosed { .. } | Blocker::FabriqueNotRunning { .. } => {
                "/fabrique/status"
            }
            Blocker::ParticipationNotActive { .. } => "/participation/status",
            Blocker::SeminarLimitReached { .. }
            | Blocker::SeminarNumberOutOfRange { .. }
            | Blocker::SeminarNumberTaken { .. } => "/number",
            Blocker::DateInFuture => "/date",
            Blocker::AttendanceRequired => "/attendance",
            Blocker::NoRoadmapActions => "/actions",
            Blocker::AdoptionDateRequired => "/adoption_date",
            Blocker::AdoptionReferenceRequired => "/adoption_reference",
            Blocker::BoundsFrozen { .. } => "/min_territories",
            Blocker::BelowAccepted { .. } => "/max_territories",
            Blocker::NotADraft { .. } | Blocker::LessonsClosed { .. } => "/fabrique/status",
            Blocker::ParticipationClosed { .. } => "/participation/status",
            Blocker::FunderNotAnct | Blocker::FunderNotCoFunder => "/organization_id",
            Blocker::ClientRevoked | Blocker::SeminarNotHeld { .. } => "/status",
            Blocker::FabriqueNotStarted { .. } => "/fabrique/status",
            Blocker::WebhookLimitReached { .. } => "/client_id",
            Blocker::StillReferenced { .. } => "",
        }
    }
}

impl fmt::Display for Blocker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blocker::InvalidStatus {
                current,
                allowed_from,
            } => write!(
                f,
                "the status is {current}; this action is only possible from {}",
                allowed_from.join(" or ")
            ),
            Blocker::TitleMissing => f.write_str("a title is required"),
            Blocker::ThemeMissing => f.write_str("a theme is required"),
            Blocker::PlannedStartMissing => f.write_str("a planned start date is required"),
            Blocker::AnctPilotMissing => f.write_str("ANCT must be a partner with the pilot role"),
            Blocker::BoundsInvalid { min, max } => write!(
                f,
                "territory bounds must satisfy 1 <= min <= max (min {min}, max {max})"
            ),
            Blocker::ContractorMissing => {
                f.write_str("a contractor (prestataire) must be assigned")
            }
            Blocker::UndecidedApplications { count } => {
                write!(f, "{count} application(s) are still undecided")
            }
            Blocker::TooFewAccepted { accepted, min } => {
                write!(
                    f,
                    "{accepted} territory(ies) accepted; at least {min} are needed"
                )
            }
            Blocker::TooManyAccepted { accepted, max } => {
                write!(
                    f,
                    "{accepted} territory(ies) accepted; at most {max} are allowed"
                )
            }
            Blocker::ParticipationsNotCompleted { count } => write!(
                f,
                "{count} participation(s) are not completed (roadmap not adopted) nor withdrawn"
            ),
            Blocker::SeminarsStillPlanned { count } => {
                write!(f, "{count} seminar(s) are still planned")
            }
            Blocker::NoLesson => f.write_str("at least one national lesson must be recorded"),
            Blocker::ReasonRequired => f.write_str("a reason is required for this action"),
            Blocker::FabriqueNotRecruiting { current } => {
                write!(f, "the Fabrique is {current}, not recruiting")
            }
            Blocker::MaximumReached { max } => {
                write!(
                    f,
                    "the Fabrique already has its maximum of {max} accepted territories"
                )
            }
            Blocker::AlreadyApplied => {
                f.write_str("this territory has already applied to this Fabrique")
            }
            Blocker::FabriqueClosed { current } => {
                write!(f, "the Fabrique is {current}; it can no longer change")
            }
            Blocker::FabriqueNotRunning { current } => {
                write!(f, "the Fabrique is {current}, not running")
            }
            Blocker::ParticipationNotActive { current } => {
                write!(f, "the participation is {current}, not active")
            }
            Blocker::SeminarLimitReached { max } => {
                write!(f, "there are already {max} seminars of this kind")
            }
            Blocker::SeminarNumberOutOfRange { number, max } => {
                write!(f, "seminar number {number} is out of range 1..{max}")
            }
            Blocker::SeminarNumberTaken { number } => {
                write!(f, "seminar number {number} already exists")
            }
            Blocker::DateInFuture => f.write_str("the date is in the future"),
            Blocker::AttendanceRequired => f.write_str("a held seminar needs its attendance count"),
            Blocker::NoRoadmapActions => f.write_str("the roadmap has no action yet"),
            Blocker::AdoptionDateRequired => f.write_str("the adoption date is required"),
            Blocker::AdoptionReferenceRequired => {
                f.write_str("the adoption reference (e.g. a council deliberation) is required")
            }
            Blocker::BoundsFrozen { current } => write!(
                f,
                "the Fabrique is {current}; territory bounds change only before launch"
            ),
            Blocker::BelowAccepted { accepted, max } => write!(
                f,
                "{accepted} territories are already accepted; the maximum cannot be {max}"
            ),
            Blocker::NotADraft { current } => write!(
                f,
                "the Fabrique is {current}; only a draft can be deleted (cancel it instead)"
            ),
            Blocker::ParticipationClosed { current } => {
                write!(f, "the participation is {current}; it can no longer change")
            }
            Blocker::FunderNotAnct => f.write_str("an ANCT funding line must come from ANCT"),
            Blocker::FunderNotCoFunder => f.write_str(
                "a co-funding line needs the organization to be a co_funder partner of the Fabrique",
            ),
            Blocker::LessonsClosed { current } => write!(
                f,
                "the Fabrique is {current}; lessons are recorded while it recruits or runs, and up to 12 months after its end once completed"
            ),
            Blocker::SeminarNotHeld { current } => write!(
                f,
                "the seminar is {current}: only a held seminar is corrected (reschedule a planned one)"
            ),
            Blocker::FabriqueNotStarted { current } => write!(
                f,
                "the Fabrique is {current}: only a running or completed Fabrique's dates are corrected"
            ),
            Blocker::ClientRevoked => {
                f.write_str("a revoked client cannot get a new secret: create a new client")
            }
            Blocker::WebhookLimitReached { limit } => write!(
                f,
                "a client has at most {limit} webhook subscriptions: delete one, or widen one's types"
            ),
            Blocker::StillReferenced { count, by } => {
                write!(f, "{count} {by} still refer to it; remove those first")
            }
        }
    }
}

impl Blocker {
    /// One of each kind of blocker, for the catalogue of codes (a new variant must be added
    /// here: [`Blocker::kind`] matches every variant without a wildcard).
    pub fn examples() -> Vec<Blocker> {
        vec![
            Blocker::InvalidStatus {
                current: "draft",
                allowed_from: &["recruiting"],
            },
            Blocker::TitleMissing,
            Blocker::ThemeMissing,
            Blocker::PlannedStartMissing,
            Blocker::AnctPilotMissing,
            Blocker::BoundsInvalid { min: 5, max: 4 },
            Blocker::ContractorMissing,
            Blocker::UndecidedApplications { count: 2 },
            Blocker::TooFewAccepted {
                accepted: 2,
                min: 4,
            },
            Blocker::TooManyAccepted {
                accepted: 9,
                max: 8,
            },
            Blocker::ParticipationsNotCompleted { count: 3 },
            Blocker::SeminarsStillPlanned { count: 1 },
            Blocker::NoLesson,
            Blocker::ReasonRequired,
            Blocker::FabriqueNotRecruiting { current: "running" },
            Blocker::MaximumReached { max: 8 },
            Blocker::AlreadyApplied,
            Blocker::FabriqueClosed {
                current: "completed",
            },
            Blocker::FabriqueNotRunning {
                current: "recruiting",
            },
            Blocker::ParticipationNotActive { current: "applied" },
            Blocker::SeminarLimitReached { max: 4 },
            Blocker::SeminarNumberOutOfRange { number: 5, max: 4 },
            Blocker::SeminarNumberTaken { number: 2 },
            Blocker::DateInFuture,
            Blocker::AttendanceRequired,
            Blocker::NoRoadmapActions,
            Blocker::AdoptionDateRequired,
            Blocker::AdoptionReferenceRequired,
            Blocker::BoundsFrozen { current: "running" },
            Blocker::BelowAccepted {
                accepted: 6,
                max: 5,
            },
            Blocker::NotADraft {
                current: "recruiting",
            },
            Blocker::ParticipationClosed {
                current: "withdrawn",
            },
            Blocker::FunderNotAnct,
            Blocker::FunderNotCoFunder,
            Blocker::LessonsClosed { current: "draft" },
            Blocker::SeminarNotHeld { current: "planned" },
            Blocker::FabriqueNotStarted {
                current: "recruiting",
            },
            Blocker::ClientRevoked,
            Blocker::WebhookLimitReached { limit: 10 },
            Blocker::StillReferenced {
                count: 2,
                by: "participations",
            },
        ]
    }

    /// The variant's position in [`Blocker::examples`]: a match on every variant, so that a
    /// new one cannot be forgotten there.
    pub fn kind(&self) -> usize {
        match self {
            Blocker::InvalidStatus { .. } => 0,
            Blocker::TitleMissing => 1,
            Blocker::ThemeMissing => 2,
            Blocker::PlannedStartMissing => 3,
            Blocker::AnctPilotMissing => 4,
            Blocker::BoundsInvalid { .. } => 5,
            Blocker::ContractorMissing => 6,
            Blocker::UndecidedApplications { .. } => 7,
            Blocker::TooFewAccepted { .. } => 8,
            Blocker::TooManyAccepted { .. } => 9,
            Blocker::ParticipationsNotCompleted { .. } => 10,
            Blocker::SeminarsStillPlanned { .. } => 11,
            Blocker::NoLesson => 12,
            Blocker::ReasonRequired => 13,
            Blocker::FabriqueNotRecruiting { .. } => 14,
            Blocker::MaximumReached { .. } => 15,
            Blocker::AlreadyApplied => 16,
            Blocker::FabriqueClosed { .. } => 17,
            Blocker::FabriqueNotRunning { .. } => 18,
            Blocker::ParticipationNotActive { .. } => 19,
            Blocker::SeminarLimitReached { .. } => 20,
            Blocker::SeminarNumberOutOfRange { .. } => 21,
            Blocker::SeminarNumberTaken { .. } => 22,
            Blocker::DateInFuture => 23,
            Blocker::AttendanceRequired => 24,
            Blocker::NoRoadmapActions => 25,
            Blocker::AdoptionDateRequired => 26,
            Blocker::AdoptionReferenceRequired => 27,
            Blocker::BoundsFrozen { .. } => 28,
            Blocker::BelowAccepted { .. } => 29,
            Blocker::NotADraft { .. } => 30,
            Blocker::ParticipationClosed { .. } => 31,
            Blocker::FunderNotAnct => 32,
            Blocker::FunderNotCoFunder => 33,
            Blocker::LessonsClosed { .. } => 34,
            Blocker::SeminarNotHeld { .. } => 35,
            Blocker::FabriqueNotStarted { .. } => 36,
            Blocker::ClientRevoked => 37,
            Blocker::WebhookLimitReached { .. } => 38,
            Blocker::StillReferenced { .. } => 39,
        }
    }
}

/// Every unmet condition of one refused action (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blockers(pub Vec<Blocker>);

impl Blockers {
    /// One unmet condition.
    pub fn one(b: Blocker) -> Blockers {
        Blockers(vec![b])
    }

    /// `Ok(())` when `list` is empty, the blockers otherwise.
    pub fn check(list: Vec<Blocker>) -> Result<(), Blockers> {
        if list.is_empty() {
            Ok(())
        } else {
            Err(Blockers(list))
        }
    }
}

impl fmt::Display for Blockers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for Blockers {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_examples_hold_each_kind_of_blocker_once_with_distinct_codes() {
        let examples = Blocker::examples();
        for (i, b) in examples.iter().enumerate() {
            assert_eq!(b.kind(), i, "{b:?}");
        }
        let mut codes: Vec<&str> = examples.iter().map(Blocker::code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), examples.len(), "codes are distinct");
    }
}
