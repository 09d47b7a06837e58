//! The directory (organizations, territories, programmes) and machine clients: what may be
//! removed or renewed.

use crate::blocker::{Blocker, Blockers};
use crate::vocab::ClientStatus;

/// A directory entry is deleted only when nothing refers to it: `references` counts the
/// referring rows by kind (`"partner roles"`, `"participations"`...).
pub fn can_delete(references: &[(u32, &'static str)]) -> Result<(), Blockers> {
    Blockers::check(
        references
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|&(count, by)| Blocker::StillReferenced { count, by })
            .collect(),
    )
}

/// A revoked client stays revoked: it gets no new secret.
pub fn can_rotate(status: ClientStatus) -> Result<(), Blockers> {
    match status {
        ClientStatus::Active => Ok(()),
        ClientStatus::Revoked => Err(Blockers::one(Blocker::ClientRevoked)),
    }
}

/// Webhook subscriptions a machine client may hold: each is polled and delivered to on its
/// own, so their number is what one client costs the delivery worker.
pub const MAX_WEBHOOKS_PER_CLIENT: u32 = 10;

/// A client subscribes once more only while it holds fewer than
/// [`MAX_WEBHOOKS_PER_CLIENT`] subscriptions.
pub fn can_subscribe(held: u32) -> Result<(), Blockers> {
    if held < MAX_WEBHOOKS_PER_CLIENT {
        Ok(())
    } else {
        Err(Blockers::one(Blocker::WebhookLimitReached {
            limit: MAX_WEBHOOKS_PER_CLIENT,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_deleted_only_when_nothing_refers_to_it() {
        assert!(can_delete(&[(0, "participations")]).is_ok());
        let refused = can_delete(&[(2, "partner roles"), (0, "funding lines"), (1, "seminars")]);
        assert_eq!(refused.map_err(|b| b.0.len()), Err(2));
    }

    #[test]
    fn a_client_holds_at_most_ten_subscriptions() {
        assert!(can_subscribe(0).is_ok());
        assert!(can_subscribe(MAX_WEBHOOKS_PER_CLIENT - 1).is_ok());
        assert_eq!(
            can_subscribe(MAX_WEBHOOKS_PER_CLIENT).map_err(|b| b.0[0].code()),
            Err("webhook_limit_reached")
        );
    }

    #[test]
    fn a_revoked_client_gets_no_new_secret() {
        assert!(can_rotate(ClientStatus::Active).is_ok());
        assert!(can_rotate(ClientStatus::Revoked).is_err());
    }
}

/// A new ANCT programme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProgramme {
    pub name: String,
    pub description: String,
    pub active: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProgrammeChanges {
    pub name: Option<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
}

/// A new partner organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrganization {
    pub name: String,
    pub acronym: Option<String>,
    pub kind: crate::OrganizationKind,
    pub website: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationChanges {
    pub name: Option<String>,
    pub acronym: Option<Option<String>>,
    pub kind: Option<crate::OrganizationKind>,
    pub website: Option<Option<String>>,
}

/// A machine client to create: bound to a role and, for a partner, its organization or, for
/// a territory, its territory. Its secret's hash comes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewClient {
    pub name: String,
    pub role: crate::Role,
    pub organization_id: Option<uuid::Uuid>,
    pub territory_id: Option<uuid::Uuid>,
    pub rate_limit_per_minute: Option<i32>,
    /// The scopes its tokens may carry (`read` alone for a system that only reads).
    pub scopes: crate::TokenScopes,
}

/// Machine clients get the narrowest role that does the job, never admin; a partner client
/// is bound to its organization, a territory client to its territory, and only those.
pub fn check_client_binding(
    role: crate::Role,
    organization: Option<uuid::Uuid>,
    territory: Option<uuid::Uuid>,
) -> Result<(), Vec<crate::FieldError>> {
    use crate::{FieldError, Role};
    let mut errors = Vec::new();
    match role {
        Role::Admin => errors.push(FieldError::new(
            "/role",
            "role_not_allowed",
            "machine clients cannot be admins: give them the narrowest role that does the job",
        )),
        Role::Partner if organization.is_none() => errors.push(FieldError::new(
            "/organization_id",
            "required",
            "a partner client is bound to its organization",
        )),
        Role::Territory if territory.is_none() => errors.push(FieldError::new(
            "/territory_id",
            "required",
            "a territory client is bound to its territory",
        )),
        _ => {}
    }
    if role != Role::Territory && territory.is_some() {
        errors.push(FieldError::new(
            "/territory_id",
            "not_allowed",
            "only territory clients are bound to a territory",
        ));
    }
    if role == Role::Territory && organization.is_some() {
        errors.push(FieldError::new(
            "/organization_id",
            "not_allowed",
            "a territory client is bound to its territory, not to an organization",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
