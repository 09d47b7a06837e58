//! Machine clients: creation, secrets (argon2id hashes only), revocation, rotation, and the
//! client-credentials check of `POST /oauth/token`.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use chrono::Utc;
use entity::api_client::{ActiveModel, Column, Entity, Model};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::{Page, PageRequest, fetch_page};
use crate::auth::Role;
use crate::error::{ApiError, FieldProblem};
use crate::routes::clients::{ClientListParams, ClientResponse, CreateClientRequest};

pub const ACTIVE: &str = "active";
pub const REVOKED: &str = "revoked";
/// Prefix of every client secret, so that a leaked one is easy to recognise and scan for.
pub const SECRET_PREFIX: &str = "fsec_";

fn not_found() -> ApiError {
    ApiError::NotFound("client")
}

/// 256 random bits, base64url, prefixed.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    format!(
        "{SECRET_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

fn hash_sync(secret: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Ok(Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
        .to_string())
}

/// Hashes a new secret off the async workers (argon2id is slow on purpose).
async fn new_secret_and_hash() -> Result<(String, String), ApiError> {
    tokio::task::spawn_blocking(|| {
        let secret = new_secret();
        hash_sync(&secret).map(|h| (secret, h))
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?
    .map_err(ApiError::Internal)
}

fn verify_sync(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc).ok().is_some_and(|h| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash no secret matches, checked when the client is unknown so that the answer takes as
/// long as for a known one.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_sync(&new_secret()).unwrap_or_default())
}

fn checked_binding(req: &CreateClientRequest) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    match req.role {
        Role::Admin => errors.push(FieldProblem::new(
            "/role",
            "role_not_allowed",
            "machine clients cannot be admins: give them the narrowest role that does the job",
        )),
        Role::Partner if req.organization_id.is_none() => errors.push(FieldProblem::new(
            "/organization_id",
            "required",
            "a partner client is bound to its organization",
        )),
        Role::Territory if req.territory_id.is_none() => errors.push(FieldProblem::new(
            "/territory_id",
            "required",
            "a territory client is bound to its territory",
        )),
        _ => {}
    }
    if req.role != Role::Territory && req.territory_id.is_some() {
        errors.push(FieldProblem::new(
            "/territory_id",
            "not_allowed",
            "only territory clients are bound to a territory",
        ));
    }
    if req.role == Role::Territory && req.organization_id.is_some() {
        errors.push(FieldProblem::new(
            "/organization_id",
            "not_allowed",
            "a territory client is bound to its territory, not to an organization",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Creates a client; returns it with its secret, which is shown this once.
pub async fn create(
    db: &impl ConnectionTrait,
    req: CreateClientRequest,
) -> Result<(Model, String), ApiError> {
    checked_binding(&req)?;
    if let Some(org) = req.organization_id
        && entity::organization::Entity::find_by_id(org)
            .one(db)
            .await?
            .is_none()
    {
        return Err(ApiError::invalid(
            "/organization_id",
            "unknown_organization",
            format!("no organization {org}"),
        ));
    }
    if let Some(t) = req.territory_id
        && entity::territory::Entity::find_by_id(t)
            .one(db)
            .await?
            .is_none()
    {
        return Err(ApiError::invalid(
            "/territory_id",
            "unknown_territory",
            format!("no territory {t}"),
        ));
    }
    let (secret, hash) = new_secret_and_hash().await?;
    let now = Utc::now();
    let m = ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(req.name.trim().to_owned()),
        role: Set(req.role.as_str().to_owned()),
        organization_id: Set(req.organization_id),
        territory_id: Set(req.territory_id),
        secret_hash: Set(hash),
        status: Set(ACTIVE.into()),
        rate_limit_per_minute: Set(req.rate_limit_per_minute),
        created_at: Set(now),
        secret_rotated_at: Set(now),
        revoked_at: Set(None),
        version: Set(0),
    }
    .insert(db)
    .await?;
    Ok((m, secret))
}

pub async fn list(
    db: &impl ConnectionTrait,
    p: &ClientListParams,
) -> Result<Page<ClientResponse>, ApiError> {
    let mut q = Entity::find();
    if let Some(status) = p.status {
        q = q.filter(Column::Status.eq(status.as_str()));
    }
    if let Some(org) = p.organization_id {
        q = q.filter(Column::OrganizationId.eq(org));
    }
    let sort = super::by_creation(false);
    let req = PageRequest::of(&p.cursor, p.limit, p.count);
    Ok(
        fetch_page(db, q, Column::Id, sort, req, |m: &Model| (None, m.id))
            .await?
            .map(ClientResponse::from),
    )
}

pub async fn get(db: &impl ConnectionTrait, id: Uuid) -> Result<Model, ApiError> {
    Entity::find_by_id(id).one(db).await?.ok_or_else(not_found)
}

/// Revokes a client: its tokens stop working at once. Revoking twice is harmless.
pub async fn revoke(db: &impl ConnectionTrait, id: Uuid) -> Result<Model, ApiError> {
    let m = get(db, id).await?;
    if m.status == REVOKED {
        return Ok(m);
    }
    let mut a: ActiveModel = m.into();
    a.status = Set(REVOKED.into());
    a.revoked_at = Set(Some(Utc::now()));
    Ok(a.update(db).await?)
}

/// Replaces a client's secret; the old one stops opening new tokens at once (tokens already
/// issued live until they expire). Returns the new secret, shown this once.
pub async fn rotate(db: &impl ConnectionTrait, id: Uuid) -> Result<(Model, String), ApiError> {
    let m = get(db, id).await?;
    if m.status == REVOKED {
        return Err(ApiError::conflict(
            "client_revoked",
            "a revoked client cannot get a new secret: create a new client",
        ));
    }
    let (secret, hash) = new_secret_and_hash().await?;
    let mut a: ActiveModel = m.into();
    a.secret_hash = Set(hash);
    a.secret_rotated_at = Set(Utc::now());
    Ok((a.update(db).await?, secret))
}

/// The active client with this id and secret, or `None` (unknown, revoked or wrong secret:
/// the caller is not told which).
pub async fn authenticate(
    db: &impl ConnectionTrait,
    client_id: &str,
    secret: &str,
) -> Result<Option<Model>, ApiError> {
    let found = match client_id.parse::<Uuid>() {
        Ok(id) => Entity::find_by_id(id).one(db).await?,
        Err(_) => None,
    };
    let phc = found
        .as_ref()
        .map(|m| m.secret_hash.clone())
        .unwrap_or_else(|| decoy_hash().to_owned());
    let secret = secret.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_sync(&secret, &phc))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(found.filter(|m| ok && m.status == ACTIVE))
}

/// The role stored for a client.
pub fn role_of(m: &Model) -> Result<Role, ApiError> {
    serde_json::from_value(serde_json::Value::String(m.role.clone())).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!("client {} has role {}: {e}", m.id, m.role))
    })
}
