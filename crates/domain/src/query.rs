//! What a read asks for, once the edge has parsed it: pages, sort orders and filters.
//!
//! Policy: these are typed values, checked at the HTTP edge (a bad `limit`, cursor, status or
//! year is a 400 there); the store takes them as they are and never sees a query string.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::codes::TerritoryKind;
use crate::fabrique::FabriqueStatus;
use crate::organization::OrganizationKind;
use crate::participation::ParticipationStatus;
use crate::seminar::{SeminarKind, SeminarStatus};
use crate::vocab::{
    EntityType, ExternalEntityType, FundingKind, LessonKind, MemberCategory, named_enum,
};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;
/// The years a Fabrique's start may be filtered on.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// The sort value of the last item of a page, as the list's sort key needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CursorKey {
    Text(String),
    Time(DateTime<Utc>),
    /// A calendar day (a seminar's date).
    Day(NaiveDate),
    /// The writing transaction of a feed event.
    Number(i64),
}

/// Where the next page starts: after this key (for sorts other than creation) and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: Option<CursorKey>,
    pub id: Uuid,
}

/// A sort order: a key of the list's documented set, ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort<K> {
    pub key: K,
    pub descending: bool,
}

/// The order of every list: creation (ids are UUIDv7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Created;

/// How a list of Fabriques is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FabriqueSortKey {
    #[default]
    CreatedAt,
    Title,
    UpdatedAt,
}

/// How the seminars' agenda is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeminarSortKey {
    #[default]
    CreatedAt,
    ScheduledOn,
}

/// How a list of organizations or territories is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameSortKey {
    #[default]
    CreatedAt,
    Name,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest<K = Created> {
    pub sort: Sort<K>,
    pub after: Option<Cursor>,
    /// 1 to [`MAX_LIMIT`].
    pub limit: u32,
    /// Count every match too.
    pub count: bool,
}

impl<K: Default> Default for PageRequest<K> {
    fn default() -> Self {
        PageRequest {
            sort: Sort {
                key: K::default(),
                descending: false,
            },
            after: None,
            limit: DEFAULT_LIMIT,
            count: false,
        }
    }
}

/// Fabriques whose start (actual, else planned) falls in these years.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YearRange {
    pub from: i32,
    pub to: i32,
}

impl YearRange {
    /// The first day of `from` and the first day after `to`.
    pub fn dates(self) -> (NaiveDate, NaiveDate) {
        let start = NaiveDate::from_ymd_opt(self.from, 1, 1).unwrap_or(NaiveDate::MIN);
        let end =
            NaiveDate::from_ymd_opt(self.to.saturating_add(1), 1, 1).unwrap_or(NaiveDate::MAX);
        (start, end)
    }
}

/// Which Fabriques: the filters of `GET /fabriques`, shared by the figures, the exports and
/// the map. Empty lists and `None` select everything the caller may see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FabriqueFilter {
    pub ids: Vec<Uuid>,
    pub statuses: Vec<FabriqueStatus>,
    /// Text contained in the theme (case-insensitive).
    pub theme: Option<String>,
    pub programmes: Vec<Uuid>,
    /// Each range must hold (`year`, and `year_from`..`year_to`).
    pub years: Vec<YearRange>,
    /// Fabriques one of these territories takes part in.
    pub territories: Vec<Uuid>,
    /// Fabriques one of these organizations is a partner of.
    pub organizations: Vec<Uuid>,
    /// Fabriques with a participation of a territory of one of these regions.
    pub regions: Vec<String>,
    /// Text in the title or the theme.
    pub q: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
}

impl FabriqueFilter {
    /// The selection as a canonical text: the same for the same selection however the request
    /// wrote it (list values in any order, repeated or not), different for different ones.
    pub fn canonical(&self) -> String {
        fn set<T: std::fmt::Debug>(values: &[T]) -> Vec<String> {
            let mut out: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
            out.sort();
            out.dedup();
            out
        }
        format!(
            "ids={:?} statuses={:?} theme={:?} programmes={:?} years={:?} territories={:?} organizations={:?} regions={:?} q={:?} updated_since={:?}",
            set(&self.ids),
            set(&self.statuses),
            self.theme,
            set(&self.programmes),
            set(&self.years),
            set(&self.territories),
            set(&self.organizations),
            set(&self.regions),
            self.q,
            self.updated_since,
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParticipationFilter {
    pub fabriques: Vec<Uuid>,
    pub territories: Vec<Uuid>,
    pub statuses: Vec<ParticipationStatus>,
    pub updated_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeminarFilter {
    pub kinds: Vec<SeminarKind>,
    pub statuses: Vec<SeminarStatus>,
    /// Seminars of these Fabriques (the agenda).
    pub fabriques: Vec<Uuid>,
    /// Local seminars of these territories (the agenda).
    pub territories: Vec<Uuid>,
    /// Scheduled on or after this day.
    pub from: Option<NaiveDate>,
    /// Scheduled on or before this day.
    pub to: Option<NaiveDate>,
    pub updated_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LessonFilter {
    pub kinds: Vec<LessonKind>,
    /// Lessons of these Fabriques (across Fabriques).
    pub fabriques: Vec<Uuid>,
    /// Lessons of Fabriques of these programmes.
    pub programmes: Vec<Uuid>,
    /// Proposals for these programmes.
    pub target_programmes: Vec<Uuid>,
    /// Words each contained in the title or body, without case or accents.
    pub q: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FundingFilter {
    pub kinds: Vec<FundingKind>,
    pub updated_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberFilter {
    pub categories: Vec<MemberCategory>,
    pub updated_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestimonyFilter {
    pub fabriques: Vec<Uuid>,
    pub published: Option<bool>,
    /// Words each contained in the quote or the speaker's role, without case or accents.
    pub q: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgrammeFilter {
    pub active: Option<bool>,
    pub updated_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationFilter {
    pub kinds: Vec<OrganizationKind>,
    pub q: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TerritoryFilter {
    pub kinds: Vec<TerritoryKind>,
    pub codes: Vec<String>,
    pub departments: Vec<String>,
    pub regions: Vec<String>,
    pub q: Option<String>,
    pub updated_since: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExternalIdFilter {
    pub entity_types: Vec<ExternalEntityType>,
}

named_enum!(
    /// What a breakdown of the figures groups by.
    BreakdownBy {
        Year = "year",
        Theme = "theme",
        Programme = "programme",
        Status = "status",
        Region = "region",
        Department = "department",
        TerritoryKind = "territory_kind",
    }
);

impl BreakdownBy {
    /// Grouped on the territories of the participations (else on the Fabriques).
    pub fn territorial(self) -> bool {
        matches!(
            self,
            BreakdownBy::Region | BreakdownBy::Department | BreakdownBy::TerritoryKind
        )
    }
}

named_enum!(
    /// A CSV export.
    Dataset {
        Fabriques = "fabriques",
        Participations = "participations",
        Seminars = "seminars",
        RoadmapActions = "roadmap_actions",
        Territories = "territories",
        FundingLines = "funding_lines",
        Roadmaps = "roadmaps",
        Partners = "partners",
        Testimonies = "testimonies",
    }
);

/// A page of the change feed: after a cursor, of some entity types.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedRequest {
    /// The (transaction, event) the page starts after.
    pub after: Option<(i64, Uuid)>,
    /// Start from now: no event, only the position of the latest one, to start a sync
    /// without reading the past.
    pub now: bool,
    pub types: Vec<EntityType>,
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_year_range_covers_whole_years() {
        let (start, end) = YearRange {
            from: 2021,
            to: 2022,
        }
        .dates();
        assert_eq!(
            start,
            NaiveDate::from_ymd_opt(2021, 1, 1).unwrap_or_default()
        );
        assert_eq!(end, NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default());
    }
}
