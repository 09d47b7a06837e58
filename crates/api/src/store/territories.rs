use chrono::Utc;
use domain::{CodeError, DepartmentCode, RegionCode, TerritoryCode, TerritoryKind};
use entity::territory::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::{Page, PageRequest, fetch_page, text_match};
use crate::error::{ApiError, FieldProblem};
use crate::extract::{parse_enum_list, split_list};
use crate::journal::{self, Actor, Change};
use crate::pagination::{SortKey, parse_sort};
use crate::reference::{Lookup, Official};
use crate::routes::territories::{
    CreateTerritoryRequest, TerritoryListParams, TerritoryResponse, UpdateTerritoryRequest,
};

pub fn not_found() -> ApiError {
    ApiError::NotFound("territory")
}

fn scheme(code: &TerritoryCode) -> &'static str {
    match code {
        TerritoryCode::Insee(_) => "insee",
        TerritoryCode::Siren(_) => "siren",
        TerritoryCode::Department(_) => "department",
        TerritoryCode::Region(_) => "region",
    }
}

fn code_problem(pointer: &str, e: &CodeError) -> FieldProblem {
    FieldProblem::new(pointer, e.code(), e.to_string())
}

pub async fn list(
    db: &impl ConnectionTrait,
    p: &TerritoryListParams,
) -> Result<Page<Model>, ApiError> {
    let sort = parse_sort(
        p.sort.as_deref(),
        &[
            ("name", SortKey::Text(Column::Name)),
            ("created_at", SortKey::Created),
        ],
    )?;
    let mut q = Entity::find();
    let kinds = parse_enum_list::<TerritoryKind>(&p.kind, "kind")?;
    if !kinds.is_empty() {
        q = q.filter(Column::Kind.is_in(kinds));
    }
    for (col, values) in [
        (Column::Department, split_list(&p.department)),
        (Column::Region, split_list(&p.region)),
        (Column::Code, split_list(&p.code)),
    ] {
        if !values.is_empty() {
            q = q.filter(col.is_in(values));
        }
    }
    if let Some(text) = p.q.as_deref().filter(|s| !s.trim().is_empty()) {
        q = q.filter(text_match(&[Column::Name], text.trim()));
    }
    let q = super::updated_since(q, Column::UpdatedAt, p.updated_since);
    fetch_page(
        db,
        q,
        Column::Id,
        sort,
        PageRequest {
            cursor: p.cursor.as_deref(),
            limit: p.limit,
            count: p.count.unwrap_or(false),
        },
        |m: &Model| (Some(m.name.clone()), m.id),
    )
    .await
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Model, ApiError> {
    Entity::find_by_id(id).one(db).await?.ok_or_else(not_found)
}

fn check_department(v: &Option<String>, errors: &mut Vec<FieldProblem>) {
    if let Some(Err(e)) = v.as_deref().map(DepartmentCode::parse) {
        errors.push(code_problem("/department", &e));
    }
}

fn check_region(v: &Option<String>, errors: &mut Vec<FieldProblem>) {
    if let Some(Err(e)) = v.as_deref().map(RegionCode::parse) {
        errors.push(code_problem("/region", &e));
    }
}

/// The reference's record of the code: `None` for kinds it does not cover (PETR, other); an
/// unknown code, or an EPCI of another kind, is refused naming the code.
async fn official(
    db: &impl ConnectionTrait,
    kind: TerritoryKind,
    code: &str,
) -> Result<Option<Official>, ApiError> {
    match crate::reference::lookup(db, kind, code).await? {
        Lookup::NotApplicable => Ok(None),
        Lookup::Unknown => Err(ApiError::invalid(
            "/code",
            "unknown_code",
            format!(
                "{code} is not a current {kind} of the official geography ({})",
                crate::reference::SOURCE
            ),
        )),
        Lookup::Found(o) => match o.kind {
            Some(k) if k != kind => Err(ApiError::invalid(
                "/kind",
                "kind_mismatch",
                format!("{code} ({}) is a {k} in the official geography", o.name),
            )),
            _ => Ok(Some(o)),
        },
    }
}

/// A name, department or region that contradicts the reference is refused (not corrected);
/// names are compared without case, accents or punctuation.
fn check_against(
    o: &Official,
    name: Option<&str>,
    department: &Option<String>,
    region: &Option<String>,
    errors: &mut Vec<FieldProblem>,
) {
    if let Some(n) = name
        && crate::reference::normalize(n) != crate::reference::normalize(&o.name)
    {
        errors.push(FieldProblem::new(
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
            errors.push(FieldProblem::new(
                pointer,
                "reference_mismatch",
                format!("the official geography says {off}; leave it out to use it"),
            ));
        }
    }
}

pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    r: CreateTerritoryRequest,
) -> Result<Model, ApiError> {
    let mut errors = Vec::new();
    let code = match (r.kind, r.code.as_deref().map(str::trim)) {
        (TerritoryKind::Other, None) => None,
        (TerritoryKind::Other, Some(_)) => {
            errors.push(code_problem("/code", &CodeError::NoCodeForKind));
            None
        }
        (_, None) => {
            errors.push(FieldProblem::new(
                "/code",
                "required",
                format!("a {} needs its official code", r.kind),
            ));
            None
        }
        (kind, Some(c)) => match kind.parse_code(c) {
            Ok(code) => Some(code),
            Err(e) => {
                errors.push(code_problem("/code", &e));
                None
            }
        },
    };
    check_department(&r.department, &mut errors);
    check_region(&r.region, &mut errors);
    if r.latitude.is_some() != r.longitude.is_some() {
        errors.push(FieldProblem::new(
            "/latitude",
            "incomplete_coordinates",
            "give both latitude and longitude, or neither",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let official = match &code {
        Some(c) => official(db, r.kind, c.as_str()).await?,
        None => None,
    };
    let (name, department, region, population) = match official {
        Some(o) => {
            let mut errors = Vec::new();
            check_against(&o, r.name.as_deref(), &r.department, &r.region, &mut errors);
            if !errors.is_empty() {
                return Err(ApiError::Validation(errors));
            }
            (
                o.name,
                o.department,
                o.region,
                r.population.or(o.population),
            )
        }
        None => {
            let Some(name) = r.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) else {
                return Err(ApiError::invalid(
                    "/name",
                    "required",
                    format!("a {} outside the official geography needs a name", r.kind),
                ));
            };
            let department = r.department.or_else(|| match &code {
                Some(TerritoryCode::Insee(c)) => Some(c.department().to_owned()),
                Some(TerritoryCode::Department(d)) => Some(d.as_str().to_owned()),
                _ => None,
            });
            let region = r.region.or_else(|| match &code {
                Some(TerritoryCode::Region(c)) => Some(c.as_str().to_owned()),
                _ => None,
            });
            (name.to_owned(), department, region, r.population)
        }
    };
    if let Some(c) = &code {
        let exists = Entity::find()
            .filter(Column::CodeScheme.eq(scheme(c)))
            .filter(Column::Code.eq(c.as_str()))
            .count(db)
            .await?;
        if exists > 0 {
            return Err(ApiError::conflict(
                "duplicate_code",
                format!("a territory with code {} already exists", c.as_str()),
            ));
        }
    }
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        kind: Set(r.kind.as_str().into()),
        code_scheme: Set(code.as_ref().map(|c| scheme(c).to_owned())),
        code: Set(code.as_ref().map(|c| c.as_str().to_owned())),
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
    .await
    .map_err(|e| match ApiError::from(e) {
        ApiError::Conflict { .. } => ApiError::conflict(
            "duplicate_code",
            "a territory with this code already exists",
        ),
        other => other,
    })?;
    journal::record(
        db,
        actor,
        Change {
            action: "territory.created",
            entity_type: "territory",
            entity_id: m.id,
            fabrique_id: None,
            state: &TerritoryResponse::from(m.clone()),
        },
    )
    .await?;
    Ok(m)
}

pub async fn update(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    r: UpdateTerritoryRequest,
) -> Result<Model, ApiError> {
    let current = get(db, id).await?;
    let mut errors = Vec::new();
    if let Some(d) = &r.department {
        check_department(d, &mut errors);
    }
    if let Some(reg) = &r.region {
        check_region(reg, &mut errors);
    }
    let lat = r.latitude.unwrap_or(current.latitude);
    let lon = r.longitude.unwrap_or(current.longitude);
    if lat.is_some() != lon.is_some() {
        errors.push(FieldProblem::new(
            "/latitude",
            "incomplete_coordinates",
            "give both latitude and longitude, or neither",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let kind: TerritoryKind = current.kind.parse().unwrap_or(TerritoryKind::Other);
    if let Some(code) = current.code.as_deref()
        && let Some(o) = official(db, kind, code).await?
    {
        let flat = |v: &Option<Option<String>>| v.clone().flatten();
        check_against(
            &o,
            r.name.as_deref(),
            &flat(&r.department),
            &flat(&r.region),
            &mut errors,
        );
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
    }
    let version = current.version;
    let mut am: ActiveModel = current.into();
    if let Some(name) = r.name {
        am.name = Set(name.trim().to_owned());
    }
    if let Some(d) = r.department {
        am.department = Set(d);
    }
    if let Some(reg) = r.region {
        am.region = Set(reg);
    }
    if let Some(p) = r.population {
        am.population = Set(p);
    }
    am.latitude = Set(lat);
    am.longitude = Set(lon);
    am.version = Set(version + 1);
    am.updated_at = Set(Utc::now());
    let m = am.update(db).await?;
    journal::record(
        db,
        actor,
        Change {
            action: "territory.updated",
            entity_type: "territory",
            entity_id: m.id,
            fabrique_id: None,
            state: &TerritoryResponse::from(m.clone()),
        },
    )
    .await?;
    Ok(m)
}

pub async fn delete(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> Result<(), ApiError> {
    let m = get(db, id).await?;
    let refs = entity::participation::Entity::find()
        .filter(entity::participation::Column::TerritoryId.eq(id))
        .count(db)
        .await?;
    if refs > 0 {
        return Err(ApiError::conflict(
            "still_referenced",
            format!("the territory has {refs} participation(s) in Fabriques; it cannot be deleted"),
        ));
    }
    Entity::delete_by_id(id).exec(db).await?;
    journal::record(
        db,
        actor,
        Change {
            action: "territory.deleted",
            entity_type: "territory",
            entity_id: id,
            fabrique_id: None,
            state: &TerritoryResponse::from(m),
        },
    )
    .await?;
    Ok(())
}
