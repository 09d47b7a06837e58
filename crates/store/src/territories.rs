//! Territories (collectivités), checked against and filled from the official geography.

use chrono::Utc;
use domain::query::{CursorKey, NameSortKey, PageRequest, TerritoryFilter};
use domain::territory::{NewTerritory, TerritoryChanges, check_coordinates, scheme};
use domain::{EntityType, FieldError, TerritoryCode, TerritoryKind};
use entity::territory::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::decode::{count, decode};
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, Actor};
use crate::page::{self, KeyColumn, Page, text_match};
use crate::reference::{self, Lookup, Official};

/// A territory (collectivité): commune, EPCI, department, region, PETR...
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = TerritoryResponse)]
pub struct Territory {
    pub id: Uuid,
    #[schema(example = "Lorient")]
    pub name: String,
    pub kind: TerritoryKind,
    /// Official code: INSEE (COG) code for a commune, SIREN for an EPCI or PETR, department or
    /// region code; null for `other`.
    #[schema(example = "56121")]
    pub code: Option<String>,
    #[schema(example = "56")]
    pub department: Option<String>,
    #[schema(example = "53")]
    pub region: Option<String>,
    pub population: Option<i64>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl TryFrom<Model> for Territory {
    type Error = StoreError;
    fn try_from(m: Model) -> StoreResult<Self> {
        Ok(Territory {
            kind: decode("territories", "kind", &m.kind)?,
            id: m.id,
            name: m.name,
            code: m.code,
            department: m.department,
            region: m.region,
            population: m.population,
            latitude: m.latitude,
            longitude: m.longitude,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

fn not_found() -> StoreError {
    StoreError::NotFound("territory")
}

pub async fn list(
    db: &impl ConnectionTrait,
    f: &TerritoryFilter,
    p: &PageRequest<NameSortKey>,
) -> StoreResult<Page<Territory>> {
    let mut q = Entity::find();
    if !f.kinds.is_empty() {
        q = q.filter(Column::Kind.is_in(f.kinds.iter().map(|k| k.as_str())));
    }
    for (col, values) in [
        (Column::Department, &f.departments),
        (Column::Region, &f.regions),
        (Column::Code, &f.codes),
    ] {
        if !values.is_empty() {
            q = q.filter(col.is_in(values.iter().cloned()));
        }
    }
    if let Some(text) = &f.q {
        q = q.filter(text_match(&[Column::Name], text));
    }
    let q = page::updated_since(q, Column::UpdatedAt, f.updated_since);
    let key = match p.sort.key {
        NameSortKey::CreatedAt => KeyColumn::Created,
        NameSortKey::Name => KeyColumn::Text(Column::Name),
    };
    page::fetch(
        db,
        q,
        Column::Id,
        key,
        p,
        |m: &Model| Some(CursorKey::Text(m.name.clone())),
        |m| m.id,
    )
    .await?
    .try_map(Territory::try_from)
}

async fn find(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<Model> {
    Entity::find_by_id(id).one(db).await?.ok_or_else(not_found)
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<Territory> {
    find(db, id).await?.try_into()
}

/// Whether a territory of this id exists.
pub async fn exists(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<bool> {
    Ok(Entity::find_by_id(id).count(db).await? > 0)
}

/// The reference's record of the code: `None` for kinds it does not cover (PETR, other); an
/// unknown code, or an EPCI of another kind, is refused naming the code.
async fn official(
    db: &impl ConnectionTrait,
    kind: TerritoryKind,
    code: &str,
) -> StoreResult<Option<Official>> {
    match reference::lookup(db, kind, code).await? {
        Lookup::NotApplicable => Ok(None),
        Lookup::Unknown => Err(StoreError::invalid(
            "/code",
            "unknown_code",
            format!(
                "{code} is not a current {kind} of the official geography ({})",
                reference::SOURCE
            ),
        )),
        Lookup::Found(o) => match o.kind {
            Some(k) if k != kind => Err(StoreError::invalid(
                "/kind",
                "kind_mismatch",
                format!("{code} ({}) is a {k} in the official geography", o.name),
            )),
            _ => Ok(Some(o)),
        },
    }
}

/// A SIREN given without a kind: the EPCI the official geography has under it, and its kind;
/// a SIREN it does not list (a PETR's, say) needs the kind.
async fn epci(
    db: &impl ConnectionTrait,
    siren: &str,
) -> StoreResult<(TerritoryKind, Option<Official>)> {
    // Any EPCI kind reads the EPCI table; the row says which kind it is.
    if let Lookup::Found(o) =
        reference::lookup(db, TerritoryKind::CommunauteDeCommunes, siren).await?
        && let Some(kind) = o.kind
    {
        return Ok((kind, Some(o)));
    }
    Err(StoreError::invalid(
        "/kind",
        "required",
        format!(
            "{siren} is not an EPCI of the official geography ({}): give the kind (petr for a PETR)",
            reference::SOURCE
        ),
    ))
}

/// A name, department, region or population that contradicts the reference is refused (not
/// corrected); names are compared without case, accents or punctuation.
fn check_against(
    o: &Official,
    name: Option<&str>,
    department: Option<&str>,
    region: Option<&str>,
    population: Option<i64>,
) -> StoreResult<()> {
    let mut errors = Vec::new();
    if let Some(n) = name
        && reference::normalize(n) != reference::normalize(&o.name)
    {
        errors.push(FieldError::new(
            "/name",
            "name_mismatch",
            format!(
                "the official name is “{}”; leave the name out to use it",
                o.name
            ),
        ));
    }
    for (pointer, given, official) in [
        ("/department", department, &o.department),
        ("/region", region, &o.region),
    ] {
        if let (Some(g), Some(off)) = (given, official)
            && g != off
        {
            errors.push(FieldError::new(
                pointer,
                "reference_mismatch",
                format!("the official geography says {off}; leave it out to use it"),
            ));
        }
    }
    if let (Some(given), Some(official)) = (population, o.population)
        && given != official
    {
        errors.push(FieldError::new(
            "/population",
            "reference_mismatch",
            format!(
                "the official population is {official} ({}); leave it out to use it",
                reference::SOURCE
            ),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(errors))
    }
}

async fn journal_territory(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    t: &Territory,
) -> StoreResult<()> {
    journal::record(db, actor, action, t.id, None, t).await
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    r: NewTerritory,
) -> StoreResult<Territory> {
    let (kind, official) = match (r.kind, &r.code) {
        (Some(k), Some(c)) => (k, official(db, k, c.as_str()).await?),
        (Some(k), None) => (k, None),
        (None, Some(c)) => epci(db, c.as_str()).await?,
        (None, None) => {
            return Err(StoreError::invalid(
                "/kind",
                "required",
                "give the official code or the kind",
            ));
        }
    };
    let department = r.department.as_ref().map(|d| d.as_str().to_owned());
    let region = r.region.as_ref().map(|d| d.as_str().to_owned());
    let (name, department, region, population) = match official {
        Some(o) => {
            check_against(
                &o,
                r.name.as_deref(),
                department.as_deref(),
                region.as_deref(),
                r.population,
            )?;
            (
                o.name,
                o.department,
                o.region,
                r.population.or(o.population),
            )
        }
        None => {
            let Some(name) = r.name.filter(|n| !n.is_empty()) else {
                return Err(StoreError::invalid(
                    "/name",
                    "required",
                    format!("a {kind} outside the official geography needs a name"),
                ));
            };
            let department = department.or_else(|| match &r.code {
                Some(TerritoryCode::Insee(c)) => Some(c.department().to_owned()),
                Some(TerritoryCode::Department(d)) => Some(d.as_str().to_owned()),
                _ => None,
            });
            let region = region.or_else(|| match &r.code {
                Some(TerritoryCode::Region(c)) => Some(c.as_str().to_owned()),
                _ => None,
            });
            (name, department, region, r.population)
        }
    };
    let now = Utc::now();
    // A taken code is refused by the unique index (ux_territories_code), not by a read first.
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        kind: Set(kind.as_str().into()),
        code_scheme: Set(r.code.as_ref().map(|c| scheme(c).to_owned())),
        code: Set(r.code.as_ref().map(|c| c.as_str().to_owned())),
        department: Set(department),
        region: Set(region),
        population: Set(population),
        latitude: Set(r.latitude),
        longitude: Set(r.longitude),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let t = Territory::try_from(m)?;
    journal_territory(db, actor, "territory.created", &t).await?;
    Ok(t)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: TerritoryChanges,
) -> StoreResult<Territory> {
    let current = find(db, id).await?;
    let lat = r.latitude.unwrap_or(current.latitude);
    let lon = r.longitude.unwrap_or(current.longitude);
    check_coordinates(lat, lon).map_err(|e| StoreError::Invalid(vec![e]))?;
    let kind: TerritoryKind = decode("territories", "kind", &current.kind)?;
    let department = r.department.map(|d| d.map(|d| d.as_str().to_owned()));
    let region = r.region.map(|d| d.map(|d| d.as_str().to_owned()));
    if let Some(code) = current.code.as_deref()
        && let Some(o) = official(db, kind, code).await?
    {
        check_against(
            &o,
            r.name.as_deref(),
            department.clone().flatten().as_deref(),
            region.clone().flatten().as_deref(),
            r.population.flatten(),
        )?;
    }
    let version = current.version;
    let mut am: ActiveModel = current.into();
    if let Some(name) = r.name {
        am.name = Set(name);
    }
    if let Some(d) = department {
        am.department = Set(d);
    }
    if let Some(reg) = region {
        am.region = Set(reg);
    }
    if let Some(p) = r.population {
        am.population = Set(p);
    }
    am.latitude = Set(lat);
    am.longitude = Set(lon);
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    let t = Territory::try_from(am.update(db).await?)?;
    journal_territory(db, actor, "territory.updated", &t).await?;
    Ok(t)
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> StoreResult<()> {
    let t = get(db, id).await?;
    let participations = entity::participation::Entity::find()
        .filter(entity::participation::Column::TerritoryId.eq(id))
        .count(db)
        .await?;
    domain::directory::can_delete(&[(count(participations as i64), "participations")])?;
    Entity::delete_by_id(id).exec(db).await?;
    journal_territory(db, actor, "territory.deleted", &t).await
}

impl crate::journal::Journalled for Territory {
    const ENTITY_TYPE: EntityType = EntityType::Territory;
}
