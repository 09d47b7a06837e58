//! Property tests over random command sequences, run against a small in-memory model that
//! only ever changes state through `decide`.

use chrono::NaiveDate;
use proptest::prelude::*;

use crate::fabrique::{self, FabriqueAction, FabriqueFacts, FabriqueStatus, ParticipationCounts};
use crate::participation::{self, ParticipationAction, ParticipationFacts, ParticipationStatus};

#[derive(Debug, Clone)]
enum Command {
    Fabrique(FabriqueAction, bool),
    Apply,
    Participation(usize, ParticipationAction, bool),
    AssignContractor,
    AdoptRoadmap(usize),
    RecordLesson,
}

fn command() -> impl Strategy<Value = Command> {
    prop_oneof![
        (0usize..4, any::<bool>()).prop_map(|(a, r)| Command::Fabrique(FabriqueAction::ALL[a], r)),
        Just(Command::Apply),
        (0usize..12, 0usize..3, any::<bool>()).prop_map(|(i, a, r)| Command::Participation(
            i,
            ParticipationAction::ALL[a],
            r
        )),
        Just(Command::AssignContractor),
        (0usize..12).prop_map(Command::AdoptRoadmap),
        Just(Command::RecordLesson),
    ]
}

struct Model {
    facts: FabriqueFacts,
    participations: Vec<ParticipationStatus>,
}

impl Model {
    fn counts(&self) -> ParticipationCounts {
        let mut c = ParticipationCounts::default();
        for s in &self.participations {
            match s {
                ParticipationStatus::Applied => c.applied += 1,
                ParticipationStatus::Accepted => c.accepted += 1,
                ParticipationStatus::Rejected => c.rejected += 1,
                ParticipationStatus::Active => c.active += 1,
                ParticipationStatus::Completed => c.completed += 1,
                ParticipationStatus::Withdrawn => c.withdrawn += 1,
            }
        }
        c
    }

    fn run(&mut self, cmd: &Command) {
        let today = NaiveDate::from_ymd_opt(2027, 3, 1).unwrap_or_default();
        self.facts.participations = self.counts();
        match *cmd {
            Command::Fabrique(action, with_reason) => {
                let reason = with_reason.then_some("reason");
                if let Ok(e) = fabrique::decide(&self.facts, action, reason, today) {
                    self.facts.status = e.to;
                    for p in &mut self.participations {
                        if e.activate_accepted && *p == ParticipationStatus::Accepted {
                            *p = ParticipationStatus::Active;
                        }
                        if e.cascade_cancellation && !p.is_terminal() {
                            *p = ParticipationStatus::Withdrawn;
                        }
                    }
                }
            }
            Command::Apply => {
                if participation::can_apply(self.facts.status, false).is_ok() {
                    self.participations.push(ParticipationStatus::Applied);
                }
            }
            Command::Participation(i, action, with_reason) => {
                let c = self.counts();
                let Some(status) = self.participations.get(i).copied() else {
                    return;
                };
                let facts = ParticipationFacts {
                    status,
                    fabrique_status: self.facts.status,
                    accepted_in_fabrique: c.accepted + c.active,
                    max_territories: self.facts.max_territories,
                };
                if let Ok(to) = participation::decide(&facts, action, with_reason.then_some("r")) {
                    self.participations[i] = to;
                }
            }
            Command::AssignContractor => self.facts.has_contractor = true,
            Command::AdoptRoadmap(i) => {
                if let Some(p) = self.participations.get_mut(i)
                    && let Ok(to) = participation::complete_on_adoption(*p)
                {
                    *p = to;
                }
            }
            Command::RecordLesson => self.facts.lessons += 1,
        }
        self.facts.participations = self.counts();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_command_sequence_leaves_a_terminal_state(
        cmds in proptest::collection::vec(command(), 0..80),
        min in 1u32..4,
        extra in 0u32..4,
    ) {
        let mut m = Model {
            facts: FabriqueFacts {
                status: FabriqueStatus::Draft,
                has_title: true,
                has_theme: true,
                planned_start: NaiveDate::from_ymd_opt(2027, 1, 1),
                end_date: None,
                min_territories: min,
                max_territories: min + extra,
                has_anct_pilot: true,
                has_contractor: false,
                participations: ParticipationCounts::default(),
                planned_seminars: 0,
                lessons: 0,
            },
            participations: Vec::new(),
        };
        for cmd in &cmds {
            let before_f = m.facts.status;
            let before_p = m.participations.clone();
            m.run(cmd);
            if before_f.is_terminal() {
                prop_assert_eq!(m.facts.status, before_f);
            }
            for (b, a) in before_p.iter().zip(&m.participations) {
                if b.is_terminal() {
                    prop_assert_eq!(b, a);
                }
            }
            let c = m.counts();
            prop_assert!(c.accepted + c.active + c.completed <= m.facts.max_territories,
                "accepted {} active {} completed {} > max {}", c.accepted, c.active, c.completed, m.facts.max_territories);
        }
    }
}

mod year {
    use chrono::NaiveDate;
    use proptest::prelude::*;

    use crate::FabriqueStatus;
    use crate::participation::ParticipationStatus;
    use crate::roadmap::{self, Adoption, RoadmapAction, RoadmapFacts, RoadmapStatus};
    use crate::seminar::{
        self, PlanFacts, SEMINARS_PER_OWNER, SeminarAction, SeminarFacts, SeminarKind,
        SeminarStatus,
    };

    #[derive(Debug, Clone)]
    enum Cmd {
        Plan(u32),
        Act(usize, SeminarAction, bool),
    }

    fn cmd() -> impl Strategy<Value = Cmd> {
        prop_oneof![
            (0u32..7).prop_map(Cmd::Plan),
            (
                0usize..10,
                prop_oneof![Just(SeminarAction::Hold), Just(SeminarAction::Cancel)],
                any::<bool>()
            )
                .prop_map(|(i, a, att)| Cmd::Act(i, a, att)),
        ]
    }

    proptest! {
        #[test]
        fn an_owner_never_has_more_than_four_live_seminars_and_none_leaves_held_or_cancelled(
            cmds in proptest::collection::vec(cmd(), 0..60),
        ) {
            let today = NaiveDate::from_ymd_opt(2027, 6, 1).unwrap_or_default();
            let mut seminars: Vec<(u32, SeminarStatus)> = Vec::new();
            for c in cmds {
                match c {
                    Cmd::Plan(number) => {
                        let facts = PlanFacts {
                            kind: SeminarKind::Intersite,
                            fabrique_status: FabriqueStatus::Running,
                            participation_status: None,
                            number,
                            numbers_taken: seminars.iter().filter(|s| s.1 != SeminarStatus::Cancelled).map(|s| s.0).collect(),
                        };
                        if seminar::can_plan(&facts).is_ok() {
                            seminars.push((number, SeminarStatus::Planned));
                        }
                    }
                    Cmd::Act(i, action, attendance) => {
                        let Some(s) = seminars.get_mut(i) else { continue };
                        let before = s.1;
                        let facts = SeminarFacts { status: before, fabrique_status: FabriqueStatus::Running, scheduled_on: today };
                        if let Ok(to) = seminar::decide(&facts, action, attendance.then_some(10), today) {
                            prop_assert_eq!(before, SeminarStatus::Planned);
                            s.1 = to;
                        }
                    }
                }
                let live: Vec<u32> = seminars.iter().filter(|s| s.1 != SeminarStatus::Cancelled).map(|s| s.0).collect();
                prop_assert!(live.len() as u32 <= SEMINARS_PER_OWNER);
                let mut unique = live.clone();
                unique.sort_unstable();
                unique.dedup();
                prop_assert_eq!(unique.len(), live.len(), "a number is used twice: {:?}", live);
                prop_assert!(live.iter().all(|n| (1..=SEMINARS_PER_OWNER).contains(n)));
            }
        }

        #[test]
        fn an_adopted_roadmap_never_changes(
            actions in proptest::collection::vec(0usize..3, 0..20),
            with_evidence in any::<bool>(),
        ) {
            let today = NaiveDate::from_ymd_opt(2027, 6, 1).unwrap_or_default();
            let evidence = if with_evidence {
                Adoption { date: Some(today), reference: Some("Délibération".into()) }
            } else {
                Adoption::default()
            };
            let mut status = RoadmapStatus::Draft;
            for a in actions {
                let action = RoadmapAction::ALL[a];
                let facts = RoadmapFacts { status, participation_status: ParticipationStatus::Active, action_count: 1 };
                let was = status;
                if let Ok(to) = roadmap::decide(&facts, action, &evidence, today) {
                    prop_assert!(was != RoadmapStatus::Adopted);
                    prop_assert!(to != RoadmapStatus::Adopted || with_evidence);
                    status = to;
                }
            }
        }
    }
}
