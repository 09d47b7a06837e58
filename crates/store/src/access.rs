//! The access policy ([`domain::Access`]) as SQL: the row rules rendered as conditions, and
//! the one statement that reads an organization's partner roles.
//!
//! Policy: every list, export, figure, map and feed query filters with these functions; no
//! query decides visibility by itself. Each rendering mirrors one predicate of the policy
//! (whose tests check that they agree).

use domain::access::{
    ACCOMPANIED, Caller, ExternalIdRows, FabriqueRows, FundingRows, ParticipationRows,
    Partnerships, RoadmapRows, UnpublishedRows,
};
use domain::{Access, FabriqueStatus, PartnerRole, RoadmapStatus};
use entity::{fabrique, fabrique_partner as fp, participation, roadmap};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::decode::decode;
use crate::error::StoreResult;

/// The caller's [`Access`]: for an organization, its partner roles are read (one statement).
pub async fn load(db: &impl ConnectionTrait, caller: Caller) -> StoreResult<Access> {
    let mut partnerships = Partnerships::new();
    if Access::needs_partnerships(&caller)
        && let Some(org) = caller.organization
    {
        let rows: Vec<(Uuid, String)> = fp::Entity::find()
            .select_only()
            .column(fp::Column::FabriqueId)
            .column(fp::Column::Role)
            .filter(fp::Column::OrganizationId.eq(org))
            .into_tuple()
            .all(db)
            .await?;
        for (fabrique, role) in rows {
            let role: PartnerRole = decode("fabrique_partners", "role", &role)?;
            partnerships.entry(fabrique).or_default().push(role);
        }
    }
    Ok(Access::new(caller, partnerships))
}

/// A machine client's row with its organization's partner roles (read by the rate limiter,
/// then by the access policy), in one statement.
#[derive(Debug, Clone)]
pub struct ClientAccess {
    pub client: entity::api_client::Model,
    pub partnerships: Partnerships,
}

#[derive(Debug, sea_orm::FromQueryResult)]
struct ClientPartnerRow {
    #[sea_orm(nested)]
    client: entity::api_client::Model,
    partner_fabrique_id: Option<Uuid>,
    partner_role: Option<String>,
}

pub async fn client(db: &impl ConnectionTrait, id: Uuid) -> StoreResult<Option<ClientAccess>> {
    use entity::api_client;
    let rows = api_client::Entity::find_by_id(id)
        .join(
            sea_orm::JoinType::LeftJoin,
            api_client::Entity::belongs_to(fp::Entity)
                .from(api_client::Column::OrganizationId)
                .to(fp::Column::OrganizationId)
                .into(),
        )
        .column_as(fp::Column::FabriqueId, "partner_fabrique_id")
        .column_as(fp::Column::Role, "partner_role")
        .into_model::<ClientPartnerRow>()
        .all(db)
        .await?;
    let mut out: Option<ClientAccess> = None;
    for row in rows {
        let entry = out.get_or_insert_with(|| ClientAccess {
            client: row.client.clone(),
            partnerships: Partnerships::new(),
        });
        if let (Some(fabrique), Some(role)) = (row.partner_fabrique_id, row.partner_role) {
            let role: PartnerRole = decode("fabrique_partners", "role", &role)?;
            entry.partnerships.entry(fabrique).or_default().push(role);
        }
    }
    Ok(out)
}

/// A condition that always holds, or never does.
fn always(yes: bool) -> Condition {
    if yes {
        Condition::all()
    } else {
        Condition::all().add(Expr::val(1).eq(0))
    }
}

/// The ids of the Fabriques the caller may know, when it may not know them all.
pub fn visible_fabrique_ids(access: &Access) -> Option<SelectStatement> {
    match access.fabrique_rows() {
        FabriqueRows::All => None,
        FabriqueRows::PastDraft => Some(
            Query::select()
                .column(fabrique::Column::Id)
                .from(fabrique::Entity)
                .and_where(fabrique::Column::Status.ne(FabriqueStatus::Draft.as_str()))
                .to_owned(),
        ),
    }
}

/// On the `fabriques` table itself.
pub fn fabriques(access: &Access) -> Condition {
    match access.fabrique_rows() {
        FabriqueRows::All => Condition::all(),
        FabriqueRows::PastDraft => {
            Condition::all().add(fabrique::Column::Status.ne(FabriqueStatus::Draft.as_str()))
        }
    }
}

/// Rows of a table with a Fabrique id column: those of Fabriques the caller may know.
pub fn in_visible_fabriques<C: ColumnTrait>(access: &Access, fabrique_id: C) -> Condition {
    match visible_fabrique_ids(access) {
        None => Condition::all(),
        Some(ids) => Condition::all().add(fabrique_id.in_subquery(ids)),
    }
}

/// Participations the caller may know (their Fabrique included).
pub fn participations(access: &Access) -> Condition {
    let c = in_visible_fabriques(access, participation::Column::FabriqueId);
    match access.participation_rows() {
        ParticipationRows::All => c,
        ParticipationRows::AccompaniedOr { own_territory } => {
            let mut rows = Condition::any()
                .add(participation::Column::Status.is_in(ACCOMPANIED.iter().map(|s| s.as_str())));
            if let Some(t) = own_territory {
                rows = rows.add(participation::Column::TerritoryId.eq(t));
            }
            c.add(rows)
        }
    }
}

/// The ids of the participations the caller may know.
pub fn visible_participation_ids(access: &Access) -> SelectStatement {
    let mut q = Query::select()
        .column(participation::Column::Id)
        .from(participation::Entity)
        .to_owned();
    q.cond_where(participations(access));
    q
}

/// Seminars: intersite ones of visible Fabriques, local ones of visible participations.
pub fn seminars(access: &Access) -> Condition {
    use entity::seminar::Column;
    let c = in_visible_fabriques(access, Column::FabriqueId);
    match access.participation_rows() {
        ParticipationRows::All => c,
        ParticipationRows::AccompaniedOr { .. } => c.add(
            Condition::any()
                .add(Column::ParticipationId.is_null())
                .add(Column::ParticipationId.in_subquery(visible_participation_ids(access))),
        ),
    }
}

/// Roadmaps (on the `roadmaps` table): of visible participations, adopted ones or (for a
/// territory) its own.
pub fn roadmaps(access: &Access) -> Condition {
    let of_visible = Condition::all()
        .add(roadmap::Column::ParticipationId.in_subquery(visible_participation_ids(access)));
    match access.roadmap_rows() {
        RoadmapRows::All => of_visible,
        RoadmapRows::AdoptedOr { own_territory } => {
            let mut rows =
                Condition::any().add(roadmap::Column::Status.eq(RoadmapStatus::Adopted.as_str()));
            if let Some(t) = own_territory {
                rows = rows.add(
                    roadmap::Column::ParticipationId.in_subquery(
                        Query::select()
                            .column(participation::Column::Id)
                            .from(participation::Entity)
                            .and_where(participation::Column::TerritoryId.eq(t))
                            .to_owned(),
                    ),
                );
            }
            of_visible.add(rows)
        }
    }
}

/// The ids of the roadmaps the caller may know.
pub fn visible_roadmap_ids(access: &Access) -> SelectStatement {
    let mut q = Query::select()
        .column(roadmap::Column::Id)
        .from(roadmap::Entity)
        .to_owned();
    q.cond_where(roadmaps(access));
    q
}

/// The rows the pre-aggregated figures ([`crate::figures`]) count for a caller: which
/// participations and which roadmaps (of those participations).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiguresTier {
    /// All participations, or only the accompanied ones.
    pub all_participations: bool,
    /// All roadmaps, or only the adopted ones.
    pub all_roadmaps: bool,
}

/// The figures tier of `access`; `None` when what it sees depends on its own territory (its
/// figures are then computed from the tables themselves).
pub fn figures_tier(access: &Access) -> Option<FiguresTier> {
    let all_participations = match access.participation_rows() {
        ParticipationRows::All => true,
        ParticipationRows::AccompaniedOr {
            own_territory: None,
        } => false,
        ParticipationRows::AccompaniedOr {
            own_territory: Some(_),
        } => return None,
    };
    let all_roadmaps = match access.roadmap_rows() {
        RoadmapRows::All => true,
        RoadmapRows::AdoptedOr {
            own_territory: None,
        } => false,
        RoadmapRows::AdoptedOr {
            own_territory: Some(_),
        } => return None,
    };
    Some(FiguresTier {
        all_participations,
        all_roadmaps,
    })
}

/// The Fabriques where `org` holds one of `roles` (any role when empty).
fn partnered_by(org: Uuid, roles: &[PartnerRole]) -> SelectStatement {
    let mut q = Query::select()
        .column(fp::Column::FabriqueId)
        .from(fp::Entity)
        .and_where(fp::Column::OrganizationId.eq(org))
        .to_owned();
    if !roles.is_empty() {
        q.and_where(fp::Column::Role.is_in(roles.iter().map(|r| r.as_str())));
    }
    q
}

/// Funding lines (or anything funding-related keyed by a Fabrique id) the caller may see.
pub fn funding<C: ColumnTrait>(access: &Access, fabrique_id: C) -> Condition {
    let c = in_visible_fabriques(access, fabrique_id);
    match access.funding_rows() {
        FundingRows::All => c,
        FundingRows::OfPartner(org) => c.add(fabrique_id.in_subquery(partnered_by(org, &[]))),
        FundingRows::None => always(false),
    }
}

/// Testimonies: published ones, and the unpublished ones the caller may publish.
pub fn testimonies(access: &Access) -> Condition {
    use entity::testimony::Column;
    let c = in_visible_fabriques(access, Column::FabriqueId);
    let unpublished = match access.unpublished_rows() {
        UnpublishedRows::All => Condition::all(),
        UnpublishedRows::OfPersonalPartner(org) => {
            Condition::all().add(Column::FabriqueId.in_subquery(partnered_by(
                org,
                &[PartnerRole::CoAnimator, PartnerRole::Contractor],
            )))
        }
        UnpublishedRows::None => always(false),
    };
    c.add(
        Condition::any()
            .add(Column::Published.eq(true))
            .add(unpublished),
    )
}

/// Journal entries about machine clients and webhook subscriptions: the administrators'
/// (who manage clients) only.
pub fn administration_events(access: &Access) -> Condition {
    use entity::event::Column;
    if access.grant(domain::Permission::ManageClients) == domain::Grant::Always {
        Condition::all()
    } else {
        Condition::all().add(Column::EntityType.is_not_in([
            domain::EntityType::Client.as_str(),
            domain::EntityType::Webhook.as_str(),
        ]))
    }
}

/// Journal entries about external ids: their organization's, or all for ANCT. (External ids
/// are written only by organization tokens, so the actor's organization is the owner.)
pub fn external_id_events(access: &Access) -> Condition {
    use entity::event::Column;
    let other =
        Condition::all().add(Column::EntityType.ne(domain::EntityType::ExternalId.as_str()));
    match access.external_id_rows() {
        ExternalIdRows::All => Condition::all(),
        ExternalIdRows::OfOrganization(org) => Condition::any()
            .add(other)
            .add(Column::ActorOrganization.eq(org)),
        ExternalIdRows::None => other,
    }
}
