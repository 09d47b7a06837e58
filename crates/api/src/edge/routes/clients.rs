//! `/clients`: machine clients of partner systems (admin).

use ::store::clients::{self as store, Client};
use actix_web::{HttpResponse, get, post, web};
use domain::directory::{NewClient, check_client_binding};
use domain::{ClientStatus, Permission, Role, TokenScope, TokenScopes};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::secrets;
use crate::edge::context::{Signed, Write};
use crate::edge::error::{ApiError, ApiResult, Problem, invalid};
use crate::edge::etag::{IfMatchHeader, IfNoneMatchHeader};
use crate::edge::extract::{Json, Query};
use crate::edge::idempotency;
use crate::edge::params::CreationSort;
use crate::edge::problems::{
    CachedReadProblems, ConditionalDeleteProblems, CreateProblems, ListProblems,
};

/// A client with its secret: the only time the secret is shown. Store it now.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientCredentials {
    pub client: Client,
    /// The OAuth `client_id` (the client's id).
    pub client_id: Uuid,
    /// The OAuth `client_secret`. Only its argon2id hash is kept: it cannot be shown again.
    #[schema(example = "fsec_3q2-7wEXAMPLEONLYb5m1Qy0k3Jr8uYxX0gq2sTzP8aQ")]
    pub client_secret: String,
}

crate::page_schema!(ClientPage, Client);

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateClientRequest {
    #[validate(
        length(min = 1, max = 200),
        custom(function = "crate::edge::extract::not_blank")
    )]
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
    /// The OAuth scopes its tokens may carry: `read` (GET and HEAD) and `write` (the other
    /// methods), within what the role permits. Both when absent; a reading system needs
    /// `["read"]` only.
    #[schema(min_items = 1, max_items = 2, example = json!(["read"]))]
    pub scopes: Option<Vec<TokenScope>>,
}

impl TryFrom<CreateClientRequest> for NewClient {
    type Error = ApiError;
    fn try_from(r: CreateClientRequest) -> ApiResult<Self> {
        check_client_binding(r.role, r.organization_id, r.territory_id).map_err(invalid)?;
        let scopes = match r.scopes.as_deref() {
            None => TokenScopes::ALL,
            Some([]) => {
                return Err(invalid(vec![domain::FieldError::new(
                    "/scopes",
                    "required",
                    "give at least one scope, or leave scopes out for both",
                )]));
            }
            Some(list) => TokenScopes::of(list),
        };
        Ok(NewClient {
            scopes,
            name: r.name.trim().to_owned(),
            role: r.role,
            organization_id: r.organization_id,
            territory_id: r.territory_id,
            rate_limit_per_minute: r.rate_limit_per_minute,
        })
    }
}

crate::list_params! {
    ClientListParams sort CreationSort = CreationSort::CreatedAt;
    {
        status: Option<ClientStatus>,
        organization_id: Option<Uuid>,
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
pub async fn list_clients(r: Signed, Query(p): Query<ClientListParams>) -> ApiResult<HttpResponse> {
    r.access().require(Permission::ManageClients)?;
    Ok(r.page(store::list(r.db(), p.status, p.organization_id, &p.page()?).await?))
}

/// Create a machine client (admin). The answer holds its secret, shown this once.
///
/// The answer is not kept with an `Idempotency-Key`: a retry with the same key does not
/// create another client and does not show the secret again; it is 409 `not_replayable`,
/// naming the client (rotate its secret if it was not stored).
#[utoipa::path(
    tag = "clients", operation_id = "create_client",
    request_body = CreateClientRequest,
    responses(
        (status = 201, body = ClientCredentials, headers(("Location" = String, description = "URL of the new client"))),
        (status = 409, description = "A retry with the `Idempotency-Key` of a client already created (`not_replayable`): its secret is not shown again; rotate it if it was not stored", body = Problem, content_type = "application/problem+json"),
        CreateProblems,
    ),
    security(("bearer" = []))
)]
#[post("/clients")]
pub async fn create_client(w: Write, body: Json<CreateClientRequest>) -> ApiResult<HttpResponse> {
    w.access().require(Permission::ManageClients)?;
    let new = NewClient::try_from(body.0)?;
    let (secret, hash) = secrets::new_client_secret().await?;
    let by = w
        .access()
        .caller()
        .map(|c| c.subject.clone())
        .unwrap_or_default();
    let c = w
        .run(Permission::ManageClients, move |tx, actor| {
            Box::pin(store::create(tx, actor, new, hash))
        })
        .await?;
    tracing::info!(client = %c.id, role = %c.role, by = %by, "client created");
    let advice = format!(
        "Client {id} exists (/api/v1/clients/{id}): if its secret was not stored, rotate it (POST /api/v1/clients/{id}/rotate-secret); to create another client, use a new key.",
        id = c.id
    );
    let res = HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/clients/{}", c.id)))
        .json(ClientCredentials {
            client_id: c.id,
            client: c,
            client_secret: secret,
        });
    Ok(idempotency::carrying_secret(res, advice))
}

/// Read a machine client (admin).
#[utoipa::path(
    tag = "clients", operation_id = "get_client",
    params(("id" = Uuid, Path, description = "Client id"), IfNoneMatchHeader),
    responses(
        (status = 200, body = Client, headers(("ETag" = String, description = "Strong ETag of this representation"))),
        CachedReadProblems,
    ),
    security(("bearer" = []))
)]
#[get("/clients/{id}")]
pub async fn get_client(r: Signed, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    r.access().require(Permission::ManageClients)?;
    Ok(r.etagged(&store::get(r.db(), *id).await?))
}

/// Revoke a machine client (admin): its tokens stop working on their next request, and it
/// cannot get new ones. Revoking a revoked client changes nothing.
#[utoipa::path(
    tag = "clients", operation_id = "revoke_client",
    params(("id" = Uuid, Path, description = "Client id"), IfMatchHeader),
    responses((status = 200, body = Client), ConditionalDeleteProblems),
    security(("bearer" = []))
)]
#[post("/clients/{id}/revoke")]
pub async fn revoke_client(w: Write, id: web::Path<Uuid>) -> ApiResult<web::Json<Client>> {
    let id = *id;
    let c = w
        .run_on::<Client, _, _>(Permission::ManageClients, id, move |tx, actor| {
            Box::pin(store::revoke(tx, actor, id))
        })
        .await?;
    tracing::info!(client = %c.id, "client revoked");
    Ok(web::Json(c))
}

/// Give a machine client a new secret (admin): the old secret and its tokens stop working at
/// once.
///
/// A token issued before the rotation is refused on its next request (401), one issued after
/// it works: get new tokens with the new secret. The answer is not kept with an `Idempotency-Key`: a retry with the same key does not
/// rotate again and does not show the secret again; it is 409 `not_replayable` (rotate again,
/// with a new key, if the new secret was not stored).
#[utoipa::path(
    tag = "clients", operation_id = "rotate_client_secret",
    params(("id" = Uuid, Path, description = "Client id"), IfMatchHeader),
    responses(
        (status = 200, body = ClientCredentials),
        (status = 409, description = "The client is revoked (`transition_refused`, see `blockers`), or this is a retry with the `Idempotency-Key` of a rotation already done (`not_replayable`): its secret is not shown again; rotate again if it was not stored", body = Problem, content_type = "application/problem+json"),
        ConditionalDeleteProblems,
    ),
    security(("bearer" = []))
)]
#[post("/clients/{id}/rotate-secret")]
pub async fn rotate_client_secret(w: Write, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    w.access().require(Permission::ManageClients)?;
    let id = *id;
    store::check_rotation(w.db(), id).await?;
    let (secret, hash) = secrets::new_client_secret().await?;
    let c = w
        .run_on::<Client, _, _>(Permission::ManageClients, id, move |tx, actor| {
            Box::pin(store::rotate(tx, actor, id, hash))
        })
        .await?;
    tracing::info!(client = %c.id, "client secret rotated");
    let advice = format!(
        "The secret of client {id} was rotated: if the new one was not stored, rotate it again (POST /api/v1/clients/{id}/rotate-secret) with a new key.",
        id = c.id
    );
    let res = HttpResponse::Ok().json(ClientCredentials {
        client_id: c.id,
        client: c,
        client_secret: secret,
    });
    Ok(idempotency::carrying_secret(res, advice))
}
