//! The official geography (COG 2026): look-ups for autocompletion and the checks of
//! territories against it. (Loading it into the `ref_*` tables is the api crate's loader.)

use domain::TerritoryKind;
use domain::query::{Cursor, CursorKey, PageRequest};
use entity::{ref_commune, ref_department, ref_epci, ref_region};
use sea_orm::sea_query::SimpleExpr;
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, Order, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{StoreError, StoreResult};
use crate::page::Page;

/// Where the data comes from, as stated in the responses and the docs.
pub const SOURCE: &str =
    "COG 2026 from @etalab/decoupage-administratif 6.0.0 (Licence Ouverte; code MIT)";

pub use domain::text::normalize;

fn list(v: &str) -> Vec<String> {
    v.split_whitespace().map(str::to_owned).collect()
}

/// A current commune (`commune-actuelle`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommuneRef {
    /// INSEE code.
    #[schema(example = "2A004")]
    pub code: String,
    #[schema(example = "Ajaccio")]
    pub name: String,
    #[schema(example = "2A")]
    pub department: String,
    #[schema(example = "94")]
    pub region: String,
    /// SIREN of its EPCI; null for the few communes outside any.
    #[schema(example = "242010056")]
    pub epci_siren: Option<String>,
    pub population: Option<i64>,
    pub postal_codes: Vec<String>,
}

impl From<ref_commune::Model> for CommuneRef {
    fn from(c: ref_commune::Model) -> Self {
        CommuneRef {
            postal_codes: list(&c.postal_codes),
            code: c.code,
            name: c.name,
            department: c.department,
            region: c.region,
            epci_siren: c.epci_siren,
            population: c.population,
        }
    }
}

/// An EPCI à fiscalité propre.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EpciRef {
    #[schema(example = "242900314")]
    pub siren: String,
    #[schema(example = "Brest Métropole")]
    pub name: String,
    /// `CC`, `CA`, `CU`, `METRO` or `MET69` (Métropole de Lyon).
    #[schema(example = "METRO")]
    pub kind: EpciKind,
    /// Municipal population (population municipale).
    pub population: Option<i64>,
    pub departments: Vec<String>,
    pub regions: Vec<String>,
    pub member_count: i32,
}

/// The legal form of an EPCI in the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum EpciKind {
    #[serde(rename = "CC")]
    Cc,
    #[serde(rename = "CA")]
    Ca,
    #[serde(rename = "CU")]
    Cu,
    #[serde(rename = "METRO")]
    Metro,
    #[serde(rename = "MET69")]
    Met69,
}

impl EpciKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "CC" => EpciKind::Cc,
            "CA" => EpciKind::Ca,
            "CU" => EpciKind::Cu,
            "METRO" => EpciKind::Metro,
            "MET69" => EpciKind::Met69,
            _ => return None,
        })
    }

    /// The territory kind this legal form is.
    pub fn territory_kind(self) -> TerritoryKind {
        match self {
            EpciKind::Cc => TerritoryKind::CommunauteDeCommunes,
            EpciKind::Ca => TerritoryKind::CommunauteDAgglomeration,
            EpciKind::Cu => TerritoryKind::CommunauteUrbaine,
            EpciKind::Metro | EpciKind::Met69 => TerritoryKind::Metropole,
        }
    }
}

impl TryFrom<ref_epci::Model> for EpciRef {
    type Error = StoreError;
    fn try_from(e: ref_epci::Model) -> StoreResult<Self> {
        Ok(EpciRef {
            kind: EpciKind::parse(&e.kind).ok_or_else(|| StoreError::Corrupt {
                table: "ref_epci",
                column: "kind",
                value: e.kind.clone(),
            })?,
            departments: list(&e.departments),
            regions: list(&e.regions),
            siren: e.siren,
            name: e.name,
            population: e.population,
            member_count: e.member_count,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentRef {
    #[schema(example = "56")]
    pub code: String,
    #[schema(example = "Morbihan")]
    pub name: String,
    #[schema(example = "53")]
    pub region: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionRef {
    #[schema(example = "53")]
    pub code: String,
    #[schema(example = "Bretagne")]
    pub name: String,
}

impl From<ref_department::Model> for DepartmentRef {
    fn from(d: ref_department::Model) -> Self {
        DepartmentRef {
            code: d.code,
            name: d.name,
            region: d.region,
        }
    }
}

impl From<ref_region::Model> for RegionRef {
    fn from(r: ref_region::Model) -> Self {
        RegionRef {
            code: r.code,
            name: r.name,
        }
    }
}

/// The words of a search that are matched (each a `LIKE '%word%'` over the whole table).
pub use domain::text::{MAX_SEARCH_WORDS, search_words};

/// A reference table's search: its `search` and code columns, and (SQLite) the FTS5 table
/// with the trigram tokenizer that indexes `search`, if it has one (PostgreSQL's trigram index
/// serves `LIKE` on the column itself).
struct Searched<C> {
    table: &'static str,
    search: C,
    code: C,
    indexed: bool,
}

/// `text` as a code, when it looks like one (digits, and the A or B of Corsica).
fn as_code(text: &str) -> Option<String> {
    let raw = text.trim().to_ascii_uppercase();
    (!raw.is_empty()
        && raw
            .chars()
            .all(|c| c.is_ascii_digit() || c == 'A' || c == 'B'))
    .then_some(raw)
}

/// `text` as a condition: each word in `search`, or (when it looks like one) a code prefix.
fn matches<C: ColumnTrait + IntoColumnRef + Copy>(
    backend: DbBackend,
    text: &str,
    s: &Searched<C>,
) -> Condition {
    let words = search_words(text);
    let all = if s.indexed && backend == DbBackend::Sqlite && !words.is_empty() {
        // The FTS5 table answers the same LIKE from its trigram index.
        let likes = vec!["search LIKE ?"; words.len()].join(" AND ");
        Condition::all().add(Expr::cust_with_values(
            format!(
                "{table}.rowid IN (SELECT rowid FROM {table}_fts WHERE {likes})",
                table = s.table
            ),
            words.iter().map(|w| format!("%{w}%")),
        ))
    } else {
        words.iter().fold(Condition::all(), |all, w| {
            all.add(Expr::col(s.search).like(format!("%{w}%")))
        })
    };
    let mut any = Condition::any().add(all);
    if let Some(code) = as_code(text) {
        any = any.add(s.code.starts_with(&code));
    }
    any
}

/// How well a row matches `text`: 0 when its name (or code) is the text, 1 when its name starts
/// with it, 2 otherwise. Searches list the best first: `saint etienne` gives Saint-Étienne
/// before Saint-Étienne-du-Rouvray and Le Chambon-Saint-Étienne.
fn rank<C: ColumnTrait + IntoColumnRef + Copy>(text: &str, s: &Searched<C>) -> SimpleExpr {
    let phrase = normalize(text);
    let code = as_code(text).unwrap_or_default();
    Expr::case(Expr::col(s.search).eq(phrase.clone()), 0)
        .case(Expr::col(s.code).eq(code), 0)
        .case(Expr::col(s.search).like(format!("{phrase}%")), 1)
        .finally(2)
        .into()
}

/// [`rank`] of a row read, from its code and `search` column.
fn rank_of(text: &str, code: &str, search: &str) -> i32 {
    let phrase = normalize(text);
    if search == phrase || as_code(text).as_deref() == Some(code) {
        0
    } else if search.starts_with(&phrase) {
        1
    } else {
        2
    }
}

/// How a reference row gives its code (the page key), its `search` column and its read model.
type Keys<E, T> = (
    fn(&<E as EntityTrait>::Model) -> String,
    fn(&<E as EntityTrait>::Model) -> &str,
    fn(<E as EntityTrait>::Model) -> StoreResult<T>,
);

/// A search's page key: its rank and code (`2:42218`).
fn ranked_key(key: &str) -> (i32, &str) {
    match key.split_once(':') {
        Some((r, code)) => (r.parse().unwrap_or(0), code),
        None => (0, key),
    }
}

/// One page of a reference table, narrowed by `text`: by code after the cursor, or for a
/// search, the best matches first (then by code).
async fn search<E, T>(
    db: &impl ConnectionTrait,
    mut q: Select<E>,
    s: Searched<E::Column>,
    (key, search_of, view): Keys<E, T>,
    text: Option<&str>,
    page: &PageRequest,
) -> StoreResult<Page<T>>
where
    E: EntityTrait,
    E::Column: ColumnTrait + IntoColumnRef + Copy,
{
    let after = match &page.after {
        Some(Cursor {
            key: Some(CursorKey::Text(k)),
            ..
        }) => Some(k.as_str()),
        _ => None,
    };
    let limit = u64::from(page.limit);
    let (items, ranks) = if let Some(text) = text {
        let rank = rank(text, &s);
        q = q.filter(matches(db.get_database_backend(), text, &s));
        if let Some(k) = after {
            let (r, code) = ranked_key(k);
            q = q.filter(
                Condition::any().add(rank.clone().gt(r)).add(
                    Condition::all()
                        .add(rank.clone().eq(r))
                        .add(s.code.gt(code.to_owned())),
                ),
            );
        }
        let items = q
            .order_by(rank, Order::Asc)
            .order_by_asc(s.code)
            .limit(limit + 1)
            .all(db)
            .await?;
        (items, Some(text))
    } else {
        if let Some(k) = after {
            q = q.filter(s.code.gt(k.to_owned()));
        }
        let items = q.order_by_asc(s.code).limit(limit + 1).all(db).await?;
        (items, None)
    };
    let mut items = items;
    let next = if items.len() as u64 > limit {
        items.truncate(page.limit as usize);
        items.last().map(|m| Cursor {
            key: Some(CursorKey::Text(match ranks {
                Some(text) => format!("{}:{}", rank_of(text, &key(m), search_of(m)), key(m)),
                None => key(m),
            })),
            id: Uuid::nil(),
        })
    } else {
        None
    };
    Ok(Page {
        items: items.into_iter().map(view).collect::<StoreResult<_>>()?,
        next,
        total: None,
    })
}

/// Communes matching `text`, in these departments (all when empty).
pub async fn communes(
    db: &impl ConnectionTrait,
    text: Option<&str>,
    departments: &[String],
    page: &PageRequest,
) -> StoreResult<Page<CommuneRef>> {
    use ref_commune::Column as C;
    let mut q = ref_commune::Entity::find();
    if !departments.is_empty() {
        q = q.filter(C::Department.is_in(departments.iter().cloned()));
    }
    search(
        db,
        q,
        Searched {
            table: "ref_communes",
            search: C::Search,
            code: C::Code,
            indexed: true,
        },
        (|m| m.code.clone(), |m| &m.search, |m| Ok(m.into())),
        text,
        page,
    )
    .await
}

pub async fn commune(db: &impl ConnectionTrait, code: &str) -> StoreResult<CommuneRef> {
    Ok(ref_commune::Entity::find_by_id(code.to_ascii_uppercase())
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("commune"))?
        .into())
}

pub async fn epcis(
    db: &impl ConnectionTrait,
    text: Option<&str>,
    page: &PageRequest,
) -> StoreResult<Page<EpciRef>> {
    use ref_epci::Column as C;
    let q = ref_epci::Entity::find();
    search(
        db,
        q,
        Searched {
            table: "ref_epci",
            search: C::Search,
            code: C::Siren,
            indexed: true,
        },
        (|m| m.siren.clone(), |m| &m.search, EpciRef::try_from),
        text,
        page,
    )
    .await
}

pub async fn epci(db: &impl ConnectionTrait, siren: &str) -> StoreResult<EpciRef> {
    ref_epci::Entity::find_by_id(siren.to_owned())
        .one(db)
        .await?
        .ok_or(StoreError::NotFound("EPCI"))?
        .try_into()
}

pub async fn departments(
    db: &impl ConnectionTrait,
    text: Option<&str>,
    page: &PageRequest,
) -> StoreResult<Page<DepartmentRef>> {
    use ref_department::Column as C;
    let q = ref_department::Entity::find();
    search(
        db,
        q,
        Searched {
            table: "ref_departments",
            search: C::Search,
            code: C::Code,
            indexed: false,
        },
        (|m| m.code.clone(), |m| &m.search, |m| Ok(m.into())),
        text,
        page,
    )
    .await
}

pub async fn regions(
    db: &impl ConnectionTrait,
    text: Option<&str>,
    page: &PageRequest,
) -> StoreResult<Page<RegionRef>> {
    use ref_region::Column as C;
    let q = ref_region::Entity::find();
    search(
        db,
        q,
        Searched {
            table: "ref_regions",
            search: C::Search,
            code: C::Code,
            indexed: false,
        },
        (|m| m.code.clone(), |m| &m.search, |m| Ok(m.into())),
        text,
        page,
    )
    .await
}

/// What the reference says of a territory's code.
#[derive(Debug, Clone, PartialEq)]
pub struct Official {
    pub name: String,
    /// The kind the reference gives (EPCI: CC, CA, CU, métropole); `None` when any fits.
    pub kind: Option<TerritoryKind>,
    pub department: Option<String>,
    pub region: Option<String>,
    pub population: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// The kind has no reference (PETR, other).
    NotApplicable,
    /// The reference has no such code.
    Unknown,
    Found(Official),
}

/// The one value of a space-separated list, if it has exactly one.
fn single(list: &str) -> Option<String> {
    let mut it = list.split_whitespace();
    match (it.next(), it.next()) {
        (Some(one), None) => Some(one.to_owned()),
        _ => None,
    }
}

/// Looks a territory's official code up in the reference.
pub async fn lookup(
    db: &impl ConnectionTrait,
    kind: TerritoryKind,
    code: &str,
) -> StoreResult<Lookup> {
    use TerritoryKind as K;
    let found = match kind {
        K::Commune => ref_commune::Entity::find_by_id(code.to_owned())
            .one(db)
            .await?
            .map(|c| Official {
                name: c.name,
                kind: None,
                department: Some(c.department),
                region: Some(c.region),
                population: c.population,
            }),
        K::CommunauteDeCommunes
        | K::CommunauteDAgglomeration
        | K::CommunauteUrbaine
        | K::Metropole => ref_epci::Entity::find_by_id(code.to_owned())
            .one(db)
            .await?
            .map(|e| Official {
                kind: EpciKind::parse(&e.kind).map(EpciKind::territory_kind),
                department: single(&e.departments),
                region: single(&e.regions),
                name: e.name,
                population: e.population,
            }),
        K::Departement => ref_department::Entity::find_by_id(code.to_owned())
            .one(db)
            .await?
            .map(|d| Official {
                name: d.name,
                kind: None,
                department: Some(d.code),
                region: Some(d.region),
                population: None,
            }),
        K::Region => ref_region::Entity::find_by_id(code.to_owned())
            .one(db)
            .await?
            .map(|r| Official {
                name: r.name,
                kind: None,
                department: None,
                region: Some(r.code),
                population: None,
            }),
        K::Petr | K::Other => return Ok(Lookup::NotApplicable),
    };
    Ok(found.map_or(Lookup::Unknown, Lookup::Found))
}

#[cfg(test)]
mod tests {
    use super::search_words;

    #[test]
    fn a_search_matches_at_most_six_distinct_words_the_longest_first() {
        let many = "a b c d e f g h i j k saint saint etienne ".repeat(20);
        let words = search_words(&many);
        assert_eq!(words.len(), super::MAX_SEARCH_WORDS);
        assert_eq!(&words[..2], ["etienne", "saint"]);
        assert_eq!(search_words("Saint-Étienne"), ["etienne", "saint"]);
        assert!(search_words("  ").is_empty());
    }
}
