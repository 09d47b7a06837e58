//! Funding lines (financements): ANCT's own, or a co-funding partner's.

use crate::blocker::{Blocker, Blockers};
use crate::fabrique::FabriqueStatus;
use crate::vocab::FundingKind;

/// What the funding rules need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FunderFacts {
    pub fabrique_status: FabriqueStatus,
    pub kind: FundingKind,
    /// The organization is ANCT.
    pub is_anct: bool,
    /// The organization is a co_funder partner of the Fabrique.
    pub is_co_funder: bool,
}

/// Funding lines change until the Fabrique is completed or cancelled.
pub fn can_change(fabrique_status: FabriqueStatus) -> Result<(), Blockers> {
    if fabrique_status.is_terminal() {
        Err(Blockers::one(Blocker::FabriqueClosed {
            current: fabrique_status.as_str(),
        }))
    } else {
        Ok(())
    }
}

/// A line is recorded while the Fabrique is open: ANCT's lines come from ANCT, co-funding
/// lines from a co_funder partner of the Fabrique.
pub fn can_record(f: &FunderFacts) -> Result<(), Blockers> {
    let mut out = Vec::new();
    if f.fabrique_status.is_terminal() {
        out.push(Blocker::FabriqueClosed {
            current: f.fabrique_status.as_str(),
        });
    }
    match f.kind {
        FundingKind::Anct if !f.is_anct => out.push(Blocker::FunderNotAnct),
        FundingKind::CoFunding if !f.is_co_funder => out.push(Blocker::FunderNotCoFunder),
        _ => {}
    }
    Blockers::check(out)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFundingLine {
    pub organization_id: uuid::Uuid,
    pub kind: FundingKind,
    pub amount_cents: i64,
    pub label: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FundingLineChanges {
    pub amount_cents: Option<i64>,
    pub label: Option<Option<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(kind: FundingKind, is_anct: bool, is_co_funder: bool) -> FunderFacts {
        FunderFacts {
            fabrique_status: FabriqueStatus::Running,
            kind,
            is_anct,
            is_co_funder,
        }
    }

    fn codes(r: Result<(), Blockers>) -> Vec<&'static str> {
        r.err()
            .map(|b| b.0.iter().map(Blocker::code).collect())
            .unwrap_or_default()
    }

    #[test]
    fn each_kind_of_line_needs_its_kind_of_funder() {
        assert!(can_record(&facts(FundingKind::Anct, true, false)).is_ok());
        assert_eq!(
            codes(can_record(&facts(FundingKind::Anct, false, true))),
            ["not_anct"]
        );
        assert!(can_record(&facts(FundingKind::CoFunding, false, true)).is_ok());
        assert_eq!(
            codes(can_record(&facts(FundingKind::CoFunding, true, false))),
            ["not_a_co_funder"]
        );
    }

    #[test]
    fn a_closed_fabrique_takes_no_more_funding() {
        let mut f = facts(FundingKind::CoFunding, false, false);
        f.fabrique_status = FabriqueStatus::Completed;
        assert_eq!(
            codes(can_record(&f)),
            ["fabrique_closed", "not_a_co_funder"]
        );
        assert_eq!(
            codes(can_change(FabriqueStatus::Cancelled)),
            ["fabrique_closed"]
        );
    }
}
