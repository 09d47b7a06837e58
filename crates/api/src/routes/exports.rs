//! `/exports/{dataset}.csv`: CSV exports for spreadsheets and data tools, streamed.

use actix_web::{HttpResponse, get, web};
use entity::{fabrique, funding_line, participation, roadmap_action, seminar, territory};
use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::auth::{MaybeCaller, Permission, role_allows};
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::problems::ListProblems;
use crate::store::exports::{Format, cell, stream};
use crate::store::stats::of_selected;

/// Licence of the public datasets (the open-data catalogue).
pub const FABRIQUES: &[&str] = &[
    "id",
    "title",
    "theme",
    "programme_id",
    "status",
    "planned_start",
    "actual_start",
    "end_date",
    "min_territories",
    "max_territories",
    "created_at",
];
pub const SEMINARS: &[&str] = &[
    "id",
    "fabrique_id",
    "participation_id",
    "kind",
    "number",
    "status",
    "scheduled_on",
    "place",
    "mode",
    "attendance",
    "held_at",
    "cancelled_at",
];
pub const ROADMAP_ACTIONS: &[&str] = &[
    "id",
    "roadmap_id",
    "position",
    "title",
    "lead",
    "horizon",
    "due_on",
    "estimated_cost_cents",
    "status",
];
pub const TERRITORIES: &[&str] = &[
    "id",
    "name",
    "kind",
    "code",
    "department",
    "region",
    "population",
    "latitude",
    "longitude",
];
pub const FUNDING_LINES: &[&str] = &[
    "id",
    "fabrique_id",
    "organization_id",
    "kind",
    "amount_cents",
    "label",
];
/// The last three are personal data: for ANCT only.
pub const PARTICIPATIONS: &[&str] = &[
    "id",
    "fabrique_id",
    "territory_id",
    "status",
    "focus",
    "applied_at",
    "accepted_at",
    "activated_at",
    "completed_at",
    "withdrawn_at",
    "sponsor_name",
    "sponsor_mandate",
    "motivation",
];

/// Every dataset and its columns (all of them, personal ones included).
pub const DATASETS: &[(&str, &[&str])] = &[
    ("fabriques", FABRIQUES),
    ("participations", PARTICIPATIONS),
    ("seminars", SEMINARS),
    ("roadmap_actions", ROADMAP_ACTIONS),
    ("territories", TERRITORIES),
    ("funding_lines", FUNDING_LINES),
];

/// Licence of the public datasets (the open-data catalogue).
pub const LICENCE_URL: &str = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/";

crate::selection_params!(ExportParams {
    /// `,` (default, RFC 4180) or `;` (French Excel).
    #[param(example = ";")]
    sep: Option<String>,
    /// Start with a UTF-8 byte order mark (Excel needs it to read accents).
    bom: Option<bool>,
});

fn h(cols: &[&str]) -> Vec<String> {
    cols.iter().map(|c| (*c).to_owned()).collect()
}

/// Export a dataset as CSV: `fabriques`, `participations`, `seminars`, `roadmap_actions`,
/// `territories` (all of them; no filter) or `funding_lines` (analysts, ANCT staff and
/// admins). The filters select Fabriques as `GET /fabriques` does, drafts only for those who
/// may see them. The participations' personal columns (sponsor, mandate, motivation) are
/// present only for ANCT. Public datasets are open data under the Licence Ouverte 2.0
/// (`Link: rel="license"`). Column definitions: `docs/data-dictionary.md`.
#[utoipa::path(
    tag = "exports", operation_id = "export_csv",
    params(("dataset" = String, Path, description = "fabriques, participations, seminars, roadmap_actions, territories or funding_lines"), ExportParams),
    responses(
        (status = 200, description = "The CSV, streamed", content_type = "text/csv", body = String),
        (status = 404, description = "No such dataset", body = crate::error::Problem, content_type = "application/problem+json"),
        ListProblems
    ),
    security((), ("bearer" = []))
)]
#[get("/exports/{dataset}.csv")]
pub async fn export_csv(
    db: web::Data<DatabaseConnection>,
    caller: MaybeCaller,
    dataset: web::Path<String>,
    Query(p): Query<ExportParams>,
) -> ApiResult<HttpResponse> {
    let caller = caller.0;
    let format = Format {
        separator: match p.sep.as_deref() {
            None | Some(",") => b',',
            Some(";") => b';',
            Some(_) => {
                return Err(ApiError::bad_request("invalid_query", "sep is `,` or `;`"));
            }
        },
        bom: p.bom.unwrap_or(false),
    };
    let filters = p.filters();
    let ids = crate::store::stats::selected(caller.as_ref(), &filters)?;
    let db = db.get_ref().clone();
    let anct = caller.as_ref().is_some_and(|c| c.is_anct());
    let mut public = true;
    let body: std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<web::Bytes, ApiError>>>> =
        match dataset.as_str() {
            "fabriques" => Box::pin(stream(
                db,
                fabrique::Entity::find().filter(fabrique::Column::Id.in_subquery(ids)),
                fabrique::Column::Id,
                |m| m.id,
                h(FABRIQUES),
                |m: &fabrique::Model| {
                    vec![
                        m.id.to_string(),
                        m.title.clone(),
                        cell(&m.theme),
                        cell(&m.programme_id),
                        m.status.clone(),
                        cell(&m.planned_start),
                        cell(&m.actual_start),
                        cell(&m.end_date),
                        m.min_territories.to_string(),
                        m.max_territories.to_string(),
                        m.created_at.to_rfc3339(),
                    ]
                },
                format,
            )),
            "participations" => {
                let cols: &[&str] = if anct {
                    PARTICIPATIONS
                } else {
                    &PARTICIPATIONS[..PARTICIPATIONS.len() - 3]
                };
                Box::pin(stream(
                    db,
                    participation::Entity::find().filter(of_selected(
                        (participation::Entity, participation::Column::FabriqueId),
                        &ids,
                    )),
                    participation::Column::Id,
                    |m| m.id,
                    h(cols),
                    move |m: &participation::Model| {
                        let mut r = vec![
                            m.id.to_string(),
                            m.fabrique_id.to_string(),
                            m.territory_id.to_string(),
                            m.status.clone(),
                            cell(&m.focus),
                            m.applied_at.to_rfc3339(),
                            cell(&m.accepted_at.map(|t| t.to_rfc3339())),
                            cell(&m.activated_at.map(|t| t.to_rfc3339())),
                            cell(&m.completed_at.map(|t| t.to_rfc3339())),
                            cell(&m.withdrawn_at.map(|t| t.to_rfc3339())),
                        ];
                        if anct {
                            r.extend([
                                cell(&m.sponsor_name),
                                cell(&m.sponsor_mandate),
                                cell(&m.motivation),
                            ]);
                        }
                        r
                    },
                    format,
                ))
            }
            "seminars" => Box::pin(stream(
                db,
                seminar::Entity::find().filter(of_selected(
                    (seminar::Entity, seminar::Column::FabriqueId),
                    &ids,
                )),
                seminar::Column::Id,
                |m| m.id,
                h(SEMINARS),
                |m: &seminar::Model| {
                    vec![
                        m.id.to_string(),
                        m.fabrique_id.to_string(),
                        cell(&m.participation_id),
                        m.kind.clone(),
                        m.number.to_string(),
                        m.status.clone(),
                        m.scheduled_on.to_string(),
                        cell(&m.place),
                        m.mode.clone(),
                        cell(&m.attendance),
                        cell(&m.held_at.map(|t| t.to_rfc3339())),
                        cell(&m.cancelled_at.map(|t| t.to_rfc3339())),
                    ]
                },
                format,
            )),
            "roadmap_actions" => Box::pin(stream(
                db,
                roadmap_action::Entity::find().filter(
                    roadmap_action::Column::RoadmapId.in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(entity::roadmap::Column::Id)
                            .from(entity::roadmap::Entity)
                            .and_where(
                                sea_orm::sea_query::Expr::col(
                                    entity::roadmap::Column::ParticipationId,
                                )
                                .in_subquery(
                                    sea_orm::sea_query::Query::select()
                                        .column(participation::Column::Id)
                                        .from(participation::Entity)
                                        .and_where(
                                            sea_orm::sea_query::Expr::col(
                                                participation::Column::FabriqueId,
                                            )
                                            .in_subquery(ids),
                                        )
                                        .to_owned(),
                                ),
                            )
                            .to_owned(),
                    ),
                ),
                roadmap_action::Column::Id,
                |m| m.id,
                h(ROADMAP_ACTIONS),
                |m: &roadmap_action::Model| {
                    vec![
                        m.id.to_string(),
                        m.roadmap_id.to_string(),
                        m.position.to_string(),
                        m.title.clone(),
                        cell(&m.lead),
                        cell(&m.horizon),
                        cell(&m.due_on),
                        cell(&m.estimated_cost_cents),
                        m.status.clone(),
                    ]
                },
                format,
            )),
            "territories" => Box::pin(stream(
                db,
                territory::Entity::find(),
                territory::Column::Id,
                |m| m.id,
                h(TERRITORIES),
                |m: &territory::Model| {
                    vec![
                        m.id.to_string(),
                        m.name.clone(),
                        m.kind.clone(),
                        cell(&m.code),
                        cell(&m.department),
                        cell(&m.region),
                        cell(&m.population),
                        cell(&m.latitude),
                        cell(&m.longitude),
                    ]
                },
                format,
            )),
            "funding_lines" => {
                let allowed = caller
                    .as_ref()
                    .is_some_and(|c| role_allows(c.role, Permission::ReadStats));
                match &caller {
                    None => {
                        return Err(ApiError::Unauthorized("a bearer token is required".into()));
                    }
                    Some(_) if !allowed => {
                        return Err(ApiError::Forbidden(Permission::ReadStats.as_str().into()));
                    }
                    Some(_) => {}
                }
                public = false;
                Box::pin(stream(
                    db,
                    funding_line::Entity::find().filter(of_selected(
                        (funding_line::Entity, funding_line::Column::FabriqueId),
                        &ids,
                    )),
                    funding_line::Column::Id,
                    |m| m.id,
                    h(FUNDING_LINES),
                    |m: &funding_line::Model| {
                        vec![
                            m.id.to_string(),
                            m.fabrique_id.to_string(),
                            m.organization_id.to_string(),
                            m.kind.clone(),
                            m.amount_cents.to_string(),
                            cell(&m.label),
                        ]
                    },
                    format,
                ))
            }
            _ => return Err(ApiError::NotFound("dataset")),
        };
    // Open data: what carries no personal column.
    let public = public && !(anct && dataset.as_str() == "participations");
    let mut res = HttpResponse::Ok();
    res.content_type("text/csv; charset=utf-8").insert_header((
        "Content-Disposition",
        format!("attachment; filename=\"{}.csv\"", dataset.as_str()),
    ));
    if public {
        res.insert_header(("Link", format!("<{LICENCE_URL}>; rel=\"license\"")));
    }
    Ok(res.streaming(body))
}
