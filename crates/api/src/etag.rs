//! No lost updates: strong ETags on single resources, `If-None-Match` (304) on reads and
//! `If-Match` (412) on writes.
//!
//! Policy: an ETag is a hash of the exact JSON the caller receives, so it changes whenever the
//! representation does (including names copied from other resources). A write with `If-Match`
//! first compares it with the current representation, then claims the row with one
//! conditional statement, `UPDATE … SET version = version + 1 WHERE id = ? AND version = ?`, in
//! the write's own transaction: of two writers holding the same ETag, exactly one gets past it.
//! Without `If-Match` a write is unconditional, as before.

use std::collections::BTreeMap;
use std::future::Ready;

use actix_web::dev::Payload;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::store;

/// The strong ETag of a representation.
pub fn of<T: Serialize>(body: &T) -> String {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// 200 with the body and its ETag, or 304 when the client's `If-None-Match` already has it.
pub fn respond<T: Serialize>(req: &HttpRequest, body: &T) -> HttpResponse {
    let tag = of(body);
    let fresh = (req.method() == Method::GET || req.method() == Method::HEAD)
        && req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .map(str::trim)
                    .any(|t| t == "*" || t.trim_start_matches("W/") == tag)
            });
    if fresh {
        HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .finish()
    } else {
        HttpResponse::Ok()
            .insert_header((header::ETAG, tag))
            .json(body)
    }
}

/// The `If-Match` header of a write, if any: a list of ETags, or `*`.
#[derive(Debug, Clone, Default)]
pub struct IfMatch(pub Option<Vec<String>>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parsed = match req.headers().get(header::IF_MATCH) {
            None => Ok(IfMatch(None)),
            Some(v) => match v.to_str() {
                Ok(s) if !s.trim().is_empty() => Ok(IfMatch(Some(
                    s.split(',')
                        .map(|t| t.trim().to_owned())
                        .filter(|t| !t.is_empty())
                        .collect(),
                ))),
                _ => Err(ApiError::bad_request(
                    "invalid_precondition",
                    "If-Match must list ETags (\"…\") or be *",
                )),
            },
        };
        std::future::ready(parsed)
    }
}

/// A resource a write may be conditional on.
#[derive(Debug, Clone, Copy)]
pub enum Resource {
    Organization(Uuid),
    Territory(Uuid),
    Programme(Uuid),
    Fabrique(Uuid),
    Participation(Uuid),
    Seminar(Uuid),
    WorkingGroupMember(Uuid),
    /// The roadmap of this participation.
    Roadmap(Uuid),
    RoadmapAction(Uuid),
    Lesson(Uuid),
    Testimony(Uuid),
    FundingLine(Uuid),
    Client(Uuid),
    Webhook(Uuid),
}

#[derive(FromQueryResult)]
struct VersionRow {
    version: i32,
}

async fn roadmap_id(db: &impl ConnectionTrait, participation: Uuid) -> Result<Uuid, ApiError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entity::roadmap::Entity::find()
        .filter(entity::roadmap::Column::ParticipationId.eq(participation))
        .one(db)
        .await?
        .map(|r| r.id)
        .ok_or(ApiError::NotFound("roadmap"))
}

impl Resource {
    async fn table_and_id(
        self,
        db: &impl ConnectionTrait,
    ) -> Result<(&'static str, Uuid), ApiError> {
        Ok(match self {
            Resource::Organization(id) => ("organizations", id),
            Resource::Territory(id) => ("territories", id),
            Resource::Programme(id) => ("programmes", id),
            Resource::Fabrique(id) => ("fabriques", id),
            Resource::Participation(id) => ("participations", id),
            Resource::Seminar(id) => ("seminars", id),
            Resource::WorkingGroupMember(id) => ("working_group_members", id),
            Resource::Roadmap(p) => ("roadmaps", roadmap_id(db, p).await?),
            Resource::RoadmapAction(id) => ("roadmap_actions", id),
            Resource::Lesson(id) => ("lessons", id),
            Resource::Testimony(id) => ("testimonies", id),
            Resource::FundingLine(id) => ("funding_lines", id),
            Resource::Client(id) => ("api_clients", id),
            Resource::Webhook(id) => ("webhook_subscriptions", id),
        })
    }

    /// The ETag of the representation this caller reads.
    async fn current_etag(
        self,
        db: &impl ConnectionTrait,
        caller: &Caller,
    ) -> Result<String, ApiError> {
        Ok(match self {
            Resource::Organization(id) => {
                of(&crate::routes::organizations::OrganizationResponse::from(
                    store::organizations::get(db, id).await?,
                ))
            }
            Resource::Territory(id) => of(&crate::routes::territories::TerritoryResponse::from(
                store::territories::get(db, id).await?,
            )),
            Resource::Programme(id) => of(&crate::routes::programmes::ProgrammeResponse::from(
                store::programmes::get(db, id).await?,
            )),
            Resource::Fabrique(id) => {
                let m = store::fabriques::get_visible(db, Some(caller), id).await?;
                of(&store::fabriques::to_response(db, m).await?)
            }
            Resource::Participation(id) => of(&store::participations::get(db, caller, id).await?),
            Resource::Seminar(id) => of(&store::seminars::get(db, caller, id).await?),
            Resource::WorkingGroupMember(id) => {
                of(&store::working_groups::get(db, caller, id).await?)
            }
            Resource::Roadmap(p) => of(&store::roadmaps::get(db, caller, p).await?),
            Resource::RoadmapAction(id) => of(&store::roadmaps::get_action(db, caller, id).await?),
            Resource::Lesson(id) => of(&store::lessons::get(db, caller, id).await?),
            Resource::Testimony(id) => of(&store::testimonies::get(db, Some(caller), id).await?),
            Resource::FundingLine(id) => of(&store::funding::get(db, caller, id).await?),
            Resource::Client(id) => of(&crate::routes::clients::ClientResponse::from(
                store::clients::get(db, id).await?,
            )),
            Resource::Webhook(id) => of(&store::webhooks::get(db, caller, id).await?),
        })
    }
}

fn stale() -> ApiError {
    ApiError::PreconditionFailed
}

/// Checks `If-Match` against the current representation and claims the row's version, in the
/// caller's transaction. A no-op without `If-Match`.
pub async fn claim(
    db: &impl ConnectionTrait,
    caller: &Caller,
    resource: Resource,
    if_match: &IfMatch,
) -> Result<(), ApiError> {
    let Some(tags) = &if_match.0 else {
        return Ok(());
    };
    let (table, id) = resource.table_and_id(db).await?;
    let backend = db.get_database_backend();
    let select = Query::select()
        .column(Alias::new("version"))
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    let row = VersionRow::find_by_statement(backend.build(&select))
        .one(db)
        .await?;
    let Some(VersionRow { version }) = row else {
        return Err(ApiError::NotFound("resource"));
    };
    let current = resource.current_etag(db, caller).await?;
    if !tags.iter().any(|t| t == "*" || *t == current) {
        return Err(stale());
    }
    let update = Query::update()
        .table(Alias::new(table))
        .value(
            Alias::new("version"),
            Expr::col(Alias::new("version")).add(1),
        )
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .and_where(Expr::col(Alias::new("version")).eq(version))
        .to_owned();
    let res = db.execute(&update).await?;
    if res.rows_affected() == 0 {
        return Err(stale());
    }
    Ok(())
}

/// Operations that answer with an ETag and honour `If-None-Match`.
pub const READS: &[&str] = &[
    "get_organization",
    "get_territory",
    "get_programme",
    "get_fabrique",
    "get_participation",
    "get_seminar",
    "get_working_group_member",
    "get_roadmap",
    "get_roadmap_action",
    "get_lesson",
    "get_testimony",
    "get_funding_line",
    "get_client",
    "get_reference_commune",
    "get_reference_epci",
    "get_webhook",
];

/// Operations that honour `If-Match`.
pub const WRITES: &[&str] = &[
    "update_organization",
    "delete_organization",
    "update_territory",
    "delete_territory",
    "update_programme",
    "delete_programme",
    "update_fabrique",
    "delete_fabrique",
    "put_partner",
    "delete_partner",
    "create_fabrique_transition",
    "update_participation",
    "create_participation_transition",
    "update_seminar",
    "create_seminar_transition",
    "update_working_group_member",
    "delete_working_group_member",
    "put_roadmap",
    "create_roadmap_transition",
    "update_roadmap_action",
    "delete_roadmap_action",
    "update_lesson",
    "delete_lesson",
    "update_testimony",
    "delete_testimony",
    "update_funding_line",
    "delete_funding_line",
    "revoke_client",
    "rotate_client_secret",
    "update_webhook",
    "delete_webhook",
];

/// Documents the headers and the 304 and 412 answers on the operations above.
pub fn document(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, RefOr, Required, ResponseBuilder, Type};

    let string = || ObjectBuilder::new().schema_type(Type::String).build();
    for op in crate::openapi::operations(api.paths.paths.values_mut()) {
        let Some(id) = op.operation_id.clone() else {
            continue;
        };
        if READS.contains(&id.as_str()) {
            op.parameters.get_or_insert_default().push(RefOr::T(
                ParameterBuilder::new()
                    .name("If-None-Match")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(
                        "An ETag from an earlier read: 304 if the resource has not changed",
                    ))
                    .schema(Some(string()))
                    .build(),
            ));
            if let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") {
                ok.headers.insert(
                    "ETag".into(),
                    RefOr::T(
                        HeaderBuilder::new()
                            .schema(Some(string()))
                            .description(Some("Strong ETag of this representation"))
                            .build(),
                    ),
                );
            }
            let not_modified = ResponseBuilder::new()
                .description("Not modified: the ETag in If-None-Match is current")
                .header("ETag", HeaderBuilder::new().schema(Some(string())).build())
                .build();
            op.responses
                .responses
                .insert("304".into(), RefOr::T(not_modified));
        }
        if WRITES.contains(&id.as_str()) {
            op.parameters.get_or_insert_default().push(RefOr::T(
                    ParameterBuilder::new()
                        .name("If-Match")
                        .parameter_in(ParameterIn::Header)
                        .required(Required::False)
                        .description(Some("The ETag of the representation you changed (or *): 412 if it is no longer current"))
                        .schema(Some(string()))
                        .build(),
                ));
            let mut problems: BTreeMap<String, RefOr<utoipa::openapi::Response>> =
                crate::problems::problem_responses(&[412]);
            op.responses.responses.append(&mut problems);
        }
    }
}
