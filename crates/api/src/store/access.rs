//! Scoped permissions: whether a caller's grant reaches this Fabrique or this territory.

use domain::PartnerRole;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::auth::{Caller, Grant, Permission, grant};
use crate::error::ApiError;

/// Whether the caller's organization co-animates or contracts this Fabrique.
pub async fn is_fabrique_partner(
    db: &impl ConnectionTrait,
    caller: &Caller,
    fabrique_id: Uuid,
) -> Result<bool, ApiError> {
    let Some(org) = caller.org else {
        return Ok(false);
    };
    let roles = entity::fabrique_partner::Entity::find()
        .filter(entity::fabrique_partner::Column::FabriqueId.eq(fabrique_id))
        .filter(entity::fabrique_partner::Column::OrganizationId.eq(org))
        .all(db)
        .await?;
    Ok(roles
        .iter()
        .filter_map(|r| r.role.parse::<PartnerRole>().ok())
        .any(PartnerRole::sees_personal_data))
}

/// Whether `perm` reaches a resource of `fabrique_id` (and, for territory-scoped resources,
/// of `territory_id`).
pub async fn allowed(
    db: &impl ConnectionTrait,
    caller: &Caller,
    perm: Permission,
    fabrique_id: Uuid,
    territory_id: Option<Uuid>,
) -> Result<bool, ApiError> {
    Ok(match grant(caller.role, perm) {
        Grant::Always => true,
        Grant::Never => false,
        Grant::OwnTerritory => territory_id.is_some() && caller.territory == territory_id,
        Grant::FabriquePartner => is_fabrique_partner(db, caller, fabrique_id).await?,
    })
}

/// Like [`allowed`], answering 403 naming the permission and its reach when refused.
pub async fn authorize(
    db: &impl ConnectionTrait,
    caller: &Caller,
    perm: Permission,
    fabrique_id: Uuid,
    territory_id: Option<Uuid>,
) -> Result<(), ApiError> {
    if allowed(db, caller, perm, fabrique_id, territory_id).await? {
        return Ok(());
    }
    let reach = match grant(caller.role, perm) {
        Grant::OwnTerritory => " (for your own territory only)",
        Grant::FabriquePartner => " (as co-animator or contractor of this Fabrique only)",
        Grant::Always | Grant::Never => "",
    };
    Err(ApiError::Forbidden(format!("{}{reach}", perm.as_str())))
}
