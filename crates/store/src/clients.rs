//! Machine clients of partner systems: bound to a role, stored with an argon2id hash of
//! their secret (the hashing itself belongs to authentication, in the api crate).

use chrono::Utc;
use domain::directory::NewClient;
use domain::query::PageRequest;
use domain::{ClientStatus, Role, TokenScope, TokenScopes};
use entity::api_client::{ActiveModel, Column, Entity, Model};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::decode::decode;
use crate::error::{StoreError, StoreResult};
use crate::journal::{self, Actor};
use crate::page::{self, KeyColumn, Page};

/// A machine client. Its secret is never shown again after creation or rotation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = ClientResponse)]
pub struct Client {
    /// The OAuth `client_id`.
    pub id: Uuid,
    #[schema(example = "Cerema – synchronisation SIG")]
    pub name: String,
    pub role: Role,
    pub organization_id: Option<Uuid>,
    pub territory_id: Option<Uuid>,
    pub status: ClientStatus,
    /// The scopes its tokens may carry; a token asks for some or all of them.
    pub scopes: Vec<TokenScope>,
    /// Requests per minute allowed to this client; the server's default when null.
    pub rate_limit_per_minute: Option<i32>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub secret_rotated_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The scopes a client's row allows.
pub fn scopes_of(m: &Model) -> StoreResult<TokenScopes> {
    TokenScopes::parse(&m.scopes).map_err(|_| StoreError::Corrupt {
        table: "api_clients",
        column: "scopes",
        value: m.scopes.clone(),
    })
}

impl TryFrom<Model> for Client {
    type Error = StoreError;
    fn try_from(m: Model) -> StoreResult<Self> {
        Ok(Client {
            role: decode("api_clients", "role", &m.role)?,
            status: decode("api_clients", "status", &m.status)?,
            scopes: scopes_of(&m)?.list(),
            id: m.id,
            name: m.name,
            organization_id: m.organization_id,
            territory_id: m.territory_id,
            rate_limit_per_minute: m.rate_limit_per_minute,
            created_at: m.created_at,
            secret_rotated_at: m.secret_rotated_at,
            revoked_at: m.revoked_at,
        })
    }
}

fn not_found() -> StoreError {
    StoreError::NotFound("client")
}

/// Creates a client with the hash of its secret.
pub async fn create(
    db: &impl ConnectionTrait,
    actor: &Actor,
    r: NewClient,
    secret_hash: String,
) -> StoreResult<Client> {
    if let Some(org) = r.organization_id
        && entity::organization::Entity::find_by_id(org)
            .count(db)
            .await?
            == 0
    {
        return Err(StoreError::invalid(
            "/organization_id",
            "unknown_organization",
            format!("no organization {org}"),
        ));
    }
    if let Some(t) = r.territory_id
        && !crate::territories::exists(db, t).await?
    {
        return Err(StoreError::invalid(
            "/territory_id",
            "unknown_territory",
            format!("no territory {t}"),
        ));
    }
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(r.name),
        role: Set(r.role.as_str().to_owned()),
        organization_id: Set(r.organization_id),
        territory_id: Set(r.territory_id),
        secret_hash: Set(secret_hash),
        status: Set(ClientStatus::Active.as_str().into()),
        rate_limit_per_minute: Set(r.rate_limit_per_minute),
        scopes: Set(r.scopes.text()),
        created_at: Set(now),
        secret_rotated_at: Set(now),
        revoked_at: Set(None),
        version: Set(0),
        secret_generation: Set(0),
    }
    .insert(db)
    .await?;
    journalled(db, actor, "client.created", m).await
}

/// The client as the journal and the answer show it (no secret, no hash).
async fn journalled(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    m: Model,
) -> StoreResult<Client> {
    let c = Client::try_from(m)?;
    journal::record(db, actor, action, c.id, None, &c).await?;
    Ok(c)
}

impl journal::Journalled for Client {
    const ENTITY_TYPE: domain::EntityType = domain::EntityType::Client;
}

pub async fn list(
    db: &impl ConnectionTrait,
    status: Option<ClientStatus>,
    organization: Option<Uuid>,
    p: &PageRequest,
) -> StoreResult<Page<Client>> {
    let mut q = Entity::find();
    if let Some(status) = status {
        q = q.filter(Column::Status.eq(status.as_str()));
    }
    if let Some(org) = organization {
        q = q.filter(Column::OrganizationId.eq(org));
    }
    page::fetch(
        db,
        q,
        Column::Id,
        KeyColumn::Created,
        p,
        |_: &Model| None,
        |m| m.id,
    )
    .await?
    .try_map(Client::try_from)
}

/// The client's row (for authentication: its hash, status and quota).
pub async fn row(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<Option<Model>> {
    Ok(Entity::find_by_id(id).one(db).await?)
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<Client> {
    row(db, id).await?.ok_or_else(not_found)?.try_into()
}

/// Revokes a client: its tokens stop working at once. Revoking twice is harmless.
pub async fn revoke(db: &impl ConnectionTrait, actor: &Actor, id: Uuid) -> StoreResult<Client> {
    let m = row(db, id).await?.ok_or_else(not_found)?;
    if decode::<ClientStatus>("api_clients", "status", &m.status)? == ClientStatus::Revoked {
        return m.try_into();
    }
    let mut a: ActiveModel = m.into();
    a.status = Set(ClientStatus::Revoked.as_str().into());
    a.revoked_at = Set(Some(Utc::now()));
    let m = a.update(db).await?;
    journalled(db, actor, "client.revoked", m).await
}

/// Whether the client may get a new secret (a revoked one may not).
pub async fn check_rotation(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<()> {
    let m = row(db, id).await?.ok_or_else(not_found)?;
    domain::directory::can_rotate(decode("api_clients", "status", &m.status)?)?;
    Ok(())
}

/// Replaces a client's secret hash and moves it to its next secret generation: the old secret
/// stops opening new tokens at once, and the tokens it opened (of an older generation) stop
/// working. The generation is bumped in the statement itself, so two rotations never share one.
pub async fn rotate(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
    secret_hash: String,
) -> StoreResult<Client> {
    check_rotation(db, id).await?;
    let done = Entity::update_many()
        .col_expr(Column::SecretHash, Expr::value(secret_hash))
        .col_expr(Column::SecretRotatedAt, Expr::value(Utc::now()))
        .col_expr(
            Column::SecretGeneration,
            Expr::col(Column::SecretGeneration).add(1),
        )
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(not_found());
    }
    let m = row(db, id).await?.ok_or_else(not_found)?;
    journalled(db, actor, "client.secret_rotated", m).await
}
