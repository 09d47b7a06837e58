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
