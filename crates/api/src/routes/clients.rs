//! `/clients`: machine clients of partner systems (admin only). A client exchanges its id and
//! secret for short-lived tokens at `POST /oauth/token`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Caller, Permission, Role};
use crate::error::{ApiResult, Problem};
use crate::etag::{IfMatch, Resource};
use crate::extract::{Json, Query};
use crate::problems::{CreateProblems, ListProblems, ReadProblems};
use crate::store::clients as store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClientStatus {
    Active,
    Revoked,
}

impl ClientStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientStatus::Active => store::ACTIVE,
            ClientStatus::Revoked => store::REVOKED,
        }
    }
}

/// A machine client. Its secret is never shown again after creation or rotation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientResponse {
    /// The OAuth `client_id`.
    pub id: Uuid,
    #[schema(example = "Cerema – synchronisation SIG")]
    pub name: String,
    pub role: Role,
    pub organization_id: Option<Uuid>,
    pub territory_id: Option<Uuid>,
    pub status: ClientStatus,
    /// Requests per minute allowed to this client; the server's default when null.
    pub rate_limit_per_minute: Option<i32>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub secret_rotated_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<entity::api_client::Model> for ClientResponse {
    fn from(m: entity::api_client::Model) -> Self {
        ClientResponse {
            id: m.id,
            role: store::role_of(&m).unwrap_or(Role::Analyst),
            name: m.name,
            organization_id: m.organization_id,
            territory_id: m.territory_id,
            status: if m.status == store::REVOKED {
                ClientStatus::Revoked
            } else {
                ClientStatus::Active
            },
            rate_limit_per_minute: m.rate_limit_per_minute,
            created_at: m.created_at,
            secret_rotated_at: m.secret_rotated_at,
            revoked_at: m.revoked_at,
        }
    }
}

/// A client with its secret: the only time the secret is shown. Store it now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientCredentials {
    pub client: ClientResponse,
    /// The OAuth `client_id` (the client's id).
    pub client_id: Uuid,
    /// The OAuth `client_secret`. Only its argon2id hash is kept: it cannot be shown again.
    #[schema(example = "fsec_3q2-7wEXAMPLEONLYb5m1Qy0k3Jr8uYxX0gq2sTzP8aQ")]
    pub client_secret: String,
}

crate::page_schema!(ClientPage, ClientResponse);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClientRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(
        example = "Cerema – synchronisation SIG",
        min_length = 1,
        max_length = 200
    )]
    pub name: String,
    /// Any role but admin.
    pub role: Role,
    /// Required for a partner; optional for ANCT staff and analysts.
    pub organization_id: Option<Uuid>,
    /// Required for a territory, refused otherwise.
    pub territory_id: Option<Uuid>,
    /// Requests per minute; the server's default (`FABRIQUES_RATE_LIMIT_PER_MINUTE`) when absent.
    #[validate(range(min = 1, max = 1_000_000))]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub rate_limit_per_minute: Option<i32>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClientListParams {
    pub status: Option<ClientStatus>,
    pub organization_id: Option<Uuid>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
    pub cursor: Option<String>,
    pub count: Option<bool>,
}

fn credentials(m: entity::api_client::Model, secret: String) -> ClientCredentials {
    ClientCredentials {
        client_id: m.id,
        client: m.into(),
        client_secret: secret,
    }
}

/// List machine clients (admin).
#[utoipa::path(
    tag = "clients", operation_id = "list_clients",
    params(ClientListParams),
    responses((status = 200, body = ClientPage), ListProblems),
    security(("bearer" = []))
)]
#[get("/clients")]
pub async fn list_clients(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    params: Query<ClientListParams>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ManageClients)?;
    let page = store::list(db.get_ref(), &params.0).await?;
    Ok(crate::pagination::respond(
        &req, page.items, page.next, page.total,
    ))
}

/// Create a machine client (admin). The answer holds its secret, shown this once.
#[utoipa::path(
    tag = "clients", operation_id = "create_client",
    request_body = CreateClientRequest,
    responses(
        (status = 201, body = ClientCredentials, headers(("Location" = String, description = "URL of the new client"))),
        CreateProblems,
    ),
    security(("bearer" = []))
)]
#[post("/clients")]
pub async fn create_client(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    body: Json<CreateClientRequest>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ManageClients)?;
    let txn = db.begin().await?;
    let (m, secret) = store::create(&txn, body.0).await?;
    txn.commit().await?;
    tracing::info!(client = %m.id, role = %m.role, by = %caller.sub, "client created");
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/clients/{}", m.id)))
        .insert_header(("Cache-Control", "no-store"))
        .json(credentials(m, secret)))
}

/// Read a machine client (admin).
#[utoipa::path(
    tag = "clients", operation_id = "get_client",
    params(("id" = Uuid, Path, description = "Client id")),
    responses((status = 200, body = ClientResponse), ReadProblems),
    security(("bearer" = []))
)]
#[get("/clients/{id}")]
pub async fn get_client(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ManageClients)?;
    Ok(crate::etag::respond(
        &req,
        &ClientResponse::from(store::get(db.get_ref(), *id).await?),
    ))
}

/// Revoke a machine client (admin): its tokens stop working on their next request, and it
/// cannot get new ones. Revoking a revoked client changes nothing.
#[utoipa::path(
    tag = "clients", operation_id = "revoke_client",
    params(("id" = Uuid, Path, description = "Client id")),
    responses((status = 200, body = ClientResponse), ReadProblems),
    security(("bearer" = []))
)]
#[post("/clients/{id}/revoke")]
pub async fn revoke_client(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: IfMatch,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ClientResponse>> {
    caller.require(Permission::ManageClients)?;
    let txn = db.begin().await?;
    crate::etag::claim(&txn, &caller, Resource::Client(*id), &if_match).await?;
    let m = store::revoke(&txn, *id).await?;
    txn.commit().await?;
    tracing::info!(client = %m.id, by = %caller.sub, "client revoked");
    Ok(web::Json(m.into()))
}

/// Give a machine client a new secret (admin); the old one stops working at once. Tokens
/// already issued stay valid until they expire (15 minutes by default); revoke to stop them.
#[utoipa::path(
    tag = "clients", operation_id = "rotate_client_secret",
    params(("id" = Uuid, Path, description = "Client id")),
    responses(
        (status = 200, body = ClientCredentials),
        (status = 409, description = "The client is revoked", body = Problem, content_type = "application/problem+json"),
        ReadProblems,
    ),
    security(("bearer" = []))
)]
#[post("/clients/{id}/rotate-secret")]
pub async fn rotate_client_secret(
    db: web::Data<DatabaseConnection>,
    caller: Caller,
    if_match: IfMatch,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    caller.require(Permission::ManageClients)?;
    let txn = db.begin().await?;
    crate::etag::claim(&txn, &caller, Resource::Client(*id), &if_match).await?;
    let (m, secret) = store::rotate(&txn, *id).await?;
    txn.commit().await?;
    tracing::info!(client = %m.id, by = %caller.sub, "client secret rotated");
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(credentials(m, secret)))
}
