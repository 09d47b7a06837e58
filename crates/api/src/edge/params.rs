//! Query parameters as typed values: lists of enum values, ids or codes, sort orders and
//! pages, each parsed here (a bad value is a 400 naming the parameter) and declared as such in
//! the OpenAPI document.

use domain::query::{
    Created, Cursor, DEFAULT_LIMIT, FabriqueSortKey, MAX_LIMIT, NameSortKey, PageRequest,
    SeminarSortKey, Sort, YEARS, YearRange,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use store::cursor::KeyKind;
use utoipa::ToSchema;

use super::error::{ApiError, ApiResult, FieldProblem};

/// The most values a list parameter takes (the document's `maxItems`).
pub const MAX_LIST_ITEMS: usize = 100;

/// A list parameter: comma-separated or repeated values (the extractor joins repeats with
/// commas), each parsed as `T`, at most [`MAX_LIST_ITEMS`] of them; a value given twice counts
/// once. An empty item (`status=`, `a,,b`) is refused like any other bad item: the document's
/// item schema does not admit it.
pub fn list<'de, D, T>(de: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + PartialEq,
{
    let Some(raw) = Option::<String>::deserialize(de)? else {
        return Ok(None);
    };
    let mut out: Vec<T> = Vec::new();
    for (n, item) in raw.split(',').enumerate() {
        if n >= MAX_LIST_ITEMS {
            return Err(serde::de::Error::custom(format!(
                "at most {MAX_LIST_ITEMS} values"
            )));
        }
        if item.is_empty() {
            return Err(serde::de::Error::custom("an empty item"));
        }
        let value = T::deserialize(serde::de::value::StrDeserializer::<D::Error>::new(item))?;
        if !out.contains(&value) {
            out.push(value);
        }
    }
    Ok(Some(out))
}

/// A text filter of at most `MAX` characters (as the parameter's `maxLength` says): trimmed;
/// empty is no filter.
pub fn text<'de, D, const MAX: usize>(de: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    let Some(s) = Option::<String>::deserialize(de)? else {
        return Ok(None);
    };
    if s.chars().count() > MAX {
        return Err(serde::de::Error::custom(format!(
            "at most {MAX} characters"
        )));
    }
    let s = s.trim();
    Ok((!s.is_empty()).then(|| s.to_owned()))
}

/// A region code in a filter (two or three digits: `53`, `28`, `975`).
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(value_type = String, pattern = "^[0-9]{2,3}$", example = "53")]
pub struct RegionParam(pub String);

impl<'de> Deserialize<'de> for RegionParam {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let s = String::deserialize(de)?;
        if (2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(RegionParam(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "`{s}` is not a region code (two or three digits)"
            )))
        }
    }
}

/// A department code in a filter (`56`, `2A`, `974`).
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(value_type = String, pattern = "^([0-9]{2,3}|2[AB])$", example = "2A")]
pub struct DepartmentParam(pub String);

impl<'de> Deserialize<'de> for DepartmentParam {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let s = String::deserialize(de)?;
        let ok = s == "2A"
            || s == "2B"
            || ((2..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()));
        if ok {
            Ok(DepartmentParam(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "`{s}` is not a department code"
            )))
        }
    }
}

/// An official code in a filter: INSEE, SIREN, department or region (`56121`, `2A004`,
/// `242900314`, `53`).
#[derive(Debug, Clone, PartialEq, Eq, ToSchema)]
#[schema(value_type = String, pattern = "^[0-9AB]{2,9}$", example = "56121")]
pub struct CodeParam(pub String);

impl<'de> Deserialize<'de> for CodeParam {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let s = String::deserialize(de)?;
        if (2..=9).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_digit() || b == b'A' || b == b'B')
        {
            Ok(CodeParam(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "`{s}` is not an official code (2 to 9 digits, A or B)"
            )))
        }
    }
}

pub fn regions(v: &Option<Vec<RegionParam>>) -> Vec<String> {
    v.iter().flatten().map(|r| r.0.clone()).collect()
}

/// A 400 `invalid_query` naming the parameter at fault.
pub(crate) fn bad(name: &str, code: &str, detail: impl Into<String>) -> ApiError {
    let detail = detail.into();
    ApiError::BadRequest {
        code: "invalid_query",
        detail: format!("query parameter `{name}`: {detail}"),
        errors: vec![FieldProblem::new(format!("/{name}"), code, detail)],
    }
}

/// `year`, and `year_from`..`year_to`, as the ranges each selected Fabrique must fall in.
pub fn years(year: Option<i32>, from: Option<i32>, to: Option<i32>) -> ApiResult<Vec<YearRange>> {
    for (name, y) in [("year", year), ("year_from", from), ("year_to", to)] {
        if let Some(y) = y
            && !YEARS.contains(&y)
        {
            return Err(bad(
                name,
                "out_of_range",
                format!("years range from {} to {}", YEARS.start(), YEARS.end()),
            ));
        }
    }
    let mut out = Vec::new();
    if let Some(y) = year {
        out.push(YearRange { from: y, to: y });
    }
    if from.is_some() || to.is_some() {
        out.push(YearRange {
            from: from.unwrap_or(*YEARS.start()),
            to: to.unwrap_or(*YEARS.end()),
        });
    }
    Ok(out)
}

/// A sort parameter: one of a list's documented orders, `-` for descending.
pub trait SortParam: Copy {
    type Key: Copy + Default;
    fn sort(self) -> Sort<Self::Key>;
    /// The kind of key the cursors of this order carry.
    fn key_kind(key: Self::Key) -> KeyKind;
}

/// The order of a list sorted by creation only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
pub enum CreationSort {
    #[default]
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
}

impl SortParam for CreationSort {
    type Key = Created;
    fn sort(self) -> Sort<Created> {
        Sort {
            key: Created,
            descending: self == CreationSort::CreatedAtDesc,
        }
    }
    fn key_kind(_: Created) -> KeyKind {
        KeyKind::None
    }
}

/// The orders of the Fabriques list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
pub enum FabriqueSort {
    #[default]
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
    #[serde(rename = "title")]
    Title,
    #[serde(rename = "-title")]
    TitleDesc,
    #[serde(rename = "updated_at")]
    UpdatedAt,
    #[serde(rename = "-updated_at")]
    UpdatedAtDesc,
}

impl SortParam for FabriqueSort {
    type Key = FabriqueSortKey;
    fn sort(self) -> Sort<FabriqueSortKey> {
        use FabriqueSort as S;
        let (key, descending) = match self {
            S::CreatedAt => (FabriqueSortKey::CreatedAt, false),
            S::CreatedAtDesc => (FabriqueSortKey::CreatedAt, true),
            S::Title => (FabriqueSortKey::Title, false),
            S::TitleDesc => (FabriqueSortKey::Title, true),
            S::UpdatedAt => (FabriqueSortKey::UpdatedAt, false),
            S::UpdatedAtDesc => (FabriqueSortKey::UpdatedAt, true),
        };
        Sort { key, descending }
    }
    fn key_kind(key: FabriqueSortKey) -> KeyKind {
        match key {
            FabriqueSortKey::CreatedAt => KeyKind::None,
            FabriqueSortKey::Title => KeyKind::Text,
            FabriqueSortKey::UpdatedAt => KeyKind::Time,
        }
    }
}

/// The orders of the organizations and territories lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
pub enum NameSort {
    #[default]
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
    #[serde(rename = "name")]
    Name,
    #[serde(rename = "-name")]
    NameDesc,
}

impl SortParam for NameSort {
    type Key = NameSortKey;
    fn sort(self) -> Sort<NameSortKey> {
        use NameSort as S;
        let (key, descending) = match self {
            S::CreatedAt => (NameSortKey::CreatedAt, false),
            S::CreatedAtDesc => (NameSortKey::CreatedAt, true),
            S::Name => (NameSortKey::Name, false),
            S::NameDesc => (NameSortKey::Name, true),
        };
        Sort { key, descending }
    }
    fn key_kind(key: NameSortKey) -> KeyKind {
        match key {
            NameSortKey::CreatedAt => KeyKind::None,
            NameSortKey::Name => KeyKind::Text,
        }
    }
}

/// The orders of the seminars' agenda.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
pub enum SeminarSort {
    #[default]
    #[serde(rename = "created_at")]
    CreatedAt,
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
    #[serde(rename = "scheduled_on")]
    ScheduledOn,
    #[serde(rename = "-scheduled_on")]
    ScheduledOnDesc,
}

impl SortParam for SeminarSort {
    type Key = SeminarSortKey;
    fn sort(self) -> Sort<SeminarSortKey> {
        use SeminarSort as S;
        let (key, descending) = match self {
            S::CreatedAt => (SeminarSortKey::CreatedAt, false),
            S::CreatedAtDesc => (SeminarSortKey::CreatedAt, true),
            S::ScheduledOn => (SeminarSortKey::ScheduledOn, false),
            S::ScheduledOnDesc => (SeminarSortKey::ScheduledOn, true),
        };
        Sort { key, descending }
    }
    fn key_kind(key: SeminarSortKey) -> KeyKind {
        match key {
            SeminarSortKey::CreatedAt => KeyKind::None,
            SeminarSortKey::ScheduledOn => KeyKind::Day,
        }
    }
}

/// The cursor of a list whose keys are of `kind`.
pub fn cursor(raw: Option<&str>, kind: KeyKind) -> ApiResult<Option<Cursor>> {
    match raw {
        None => Ok(None),
        Some(c) => store::cursor::decode(c, kind).map(Some).ok_or_else(|| {
            bad(
                "cursor",
                "invalid_cursor",
                "the cursor is not one this API issued for this list and sort",
            )
        }),
    }
}

/// The page a list's `limit`, `cursor`, `count` and `sort` ask for.
pub fn page<S: SortParam>(
    limit: Option<u32>,
    raw_cursor: Option<&str>,
    count: Option<bool>,
    sort: Option<S>,
    default: S,
) -> ApiResult<PageRequest<S::Key>> {
    let limit = match limit {
        None => DEFAULT_LIMIT,
        Some(n) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => {
            return Err(bad(
                "limit",
                "out_of_range",
                format!("between 1 and {MAX_LIMIT}"),
            ));
        }
    };
    let sort = sort.unwrap_or(default).sort();
    Ok(PageRequest {
        after: cursor(raw_cursor, S::key_kind(sort.key))?,
        sort,
        limit,
        count: count.unwrap_or(false),
    })
}

/// Declares a list's query parameters: its own fields, then `limit`, `cursor`, `count` and
/// (when the list has one) `sort`, with `page()` building the page request. A macro because
/// serde's `flatten` does not work with `deny_unknown_fields`.
#[macro_export]
macro_rules! list_params {
    (
        $(#[$meta:meta])*
        $name:ident sort $sort:ty = $default:expr;
        { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            /// The order of the list; `-` for descending.
            pub sort: Option<$sort>,
            /// Page size.
            #[param(minimum = 1, maximum = 200, example = 50)]
            pub limit: Option<u32>,
            /// `next_cursor` of the previous page.
            #[param(min_length = 1, max_length = 2000, pattern = "^[A-Za-z0-9_-]+$")]
            pub cursor: Option<String>,
            /// Also count every match (`total`).
            pub count: Option<bool>,
        }

        impl $name {
            pub fn page(
                &self,
            ) -> $crate::edge::error::ApiResult<
                domain::query::PageRequest<<$sort as $crate::edge::params::SortParam>::Key>,
            > {
                $crate::edge::params::page(
                    self.limit,
                    self.cursor.as_deref(),
                    self.count,
                    self.sort,
                    $default,
                )
            }
        }
    };
}

/// Declares the query parameters shared by the Fabriques list, the figures, the exports and
/// the map (`status`, `theme`, `programme`, `year`, `year_from`, `year_to`, `region`) after a
/// struct's own fields, with `filter()` building the selection.
#[macro_export]
macro_rules! selection_params {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
        #[serde(deny_unknown_fields)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            $($(#[$fmeta])* pub $field: $ty,)*
            /// Fabrique statuses, comma-separated or repeated.
            #[serde(default, deserialize_with = "crate::edge::params::list")]
            #[param(style = Form, explode, example = json!(["running", "completed"]))]
            pub status: Option<Vec<domain::FabriqueStatus>>,
            /// Text contained in the theme (case-insensitive).
            #[serde(default, deserialize_with = "crate::edge::params::text::<_, 300>")]
            #[param(max_length = 300)]
            pub theme: Option<String>,
            /// Programme ids, comma-separated or repeated.
            #[serde(default, deserialize_with = "crate::edge::params::list")]
            #[param(style = Form, explode)]
            pub programme: Option<Vec<uuid::Uuid>>,
            /// Year of the start (actual, else planned).
            #[param(minimum = 2000, maximum = 2100)]
            pub year: Option<i32>,
            #[param(minimum = 2000, maximum = 2100)]
            pub year_from: Option<i32>,
            #[param(minimum = 2000, maximum = 2100)]
            pub year_to: Option<i32>,
            /// Region codes: Fabriques with a territory of one of them (that the caller may
            /// see take part: for the public, the territories accompanied).
            #[serde(default, deserialize_with = "crate::edge::params::list")]
            #[param(style = Form, explode)]
            pub region: Option<Vec<$crate::edge::params::RegionParam>>,
        }

        impl $name {
            pub fn filter(&self) -> $crate::edge::error::ApiResult<domain::query::FabriqueFilter> {
                Ok(domain::query::FabriqueFilter {
                    statuses: self.status.clone().unwrap_or_default(),
                    theme: self.theme.clone(),
                    programmes: self.programme.clone().unwrap_or_default(),
                    years: $crate::edge::params::years(self.year, self.year_from, self.year_to)?,
                    regions: $crate::edge::params::regions(&self.region),
                    ..domain::query::FabriqueFilter::default()
                })
            }
        }
    };
}
