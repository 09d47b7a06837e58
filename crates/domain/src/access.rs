//! Who may see and do what: the one access policy of the service.
//!
//! Policy of this module: an [`Access`] is worked out once per request from the caller (its
//! role, organization, territory, machine client) and, for an organization, the roles it holds
//! in each Fabrique. Every decision about a request is a method of it, so that every read path
//! (single resources, lists, exports, figures, the map, the feed, webhook payloads) and every
//! write asks the same questions and gets the same answers:
//!
//! - **permissions** ([`Permission`], [`grant`]): what a role may do, and how far it reaches
//!   (everywhere, its own territory, the Fabriques it co-animates or contracts);
//! - **rows**: which Fabriques, participations, seminars, roadmaps, testimonies, funding lines
//!   and journal entries the caller may know exist (the others are 404, or absent from lists);
//! - **field tiers** ([`Tier`], [`View`]): which fields of a visible row it sees. Each resource
//!   declares once which of its fields are partner-only, personal or internal; the public sees
//!   the rest.
//!
//! The store renders the row rules as SQL ([`ParticipationRows`], [`FundingRows`]...); the
//! tests in this module check that each rendering says the same as its predicate.

use std::collections::BTreeMap;
use std::fmt;

use uuid::Uuid;

use crate::fabrique::FabriqueStatus;
use crate::organization::PartnerRole;
use crate::participation::ParticipationStatus;
use crate::roadmap::RoadmapStatus;
use crate::vocab::named_enum;

named_enum!(
    /// The role a token carries (`role` claim).
    Role {
        /// Everything, machine clients included.
        Admin = "admin",
        /// All programme data; not machine clients.
        AnctStaff = "anct_staff",
        /// A partner organization (`org` claim).
        Partner = "partner",
        /// A territory (`territory` claim).
        Territory = "territory",
        /// ANCT's data team: reads everything, writes nothing.
        Analyst = "analyst",
    }
);

/// An authenticated caller: who the token says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token subject (`client:<id>` for machine clients).
    pub subject: String,
    pub role: Role,
    /// The organization of a partner token.
    pub organization: Option<Uuid>,
    /// The territory of a territory token.
    pub territory: Option<Uuid>,
    /// The machine client the token was issued to.
    pub client: Option<Uuid>,
    /// What the token may do (`scope` claim of a machine client's token); every scope for a
    /// token without the claim (the operator's).
    pub scopes: TokenScopes,
}

named_enum!(
    /// What a machine client's token may do, whatever its role permits: OAuth 2.0 scopes
    /// (RFC 6749 §3.3). Each operation needs one: `read` for `GET` and `HEAD`, `write` for
    /// the others.
    TokenScope {
        /// Read what the role may see.
        Read = "read",
        /// Change what the role may change.
        Write = "write",
    }
);

/// A set of [`TokenScope`]s, as a token carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenScopes {
    read: bool,
    write: bool,
}

impl TokenScopes {
    pub const ALL: TokenScopes = TokenScopes {
        read: true,
        write: true,
    };

    pub fn of(scopes: &[TokenScope]) -> Self {
        TokenScopes {
            read: scopes.contains(&TokenScope::Read),
            write: scopes.contains(&TokenScope::Write),
        }
    }

    /// A space-separated list (RFC 6749 §3.3), each known and none twice; empty is refused.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut seen = Vec::new();
        for word in text.split(' ') {
            let s: TokenScope = word.parse().map_err(|()| {
                format!(
                    "`{word}` is not a scope: {}",
                    TokenScope::ALL
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            if seen.contains(&s) {
                return Err(format!("`{word}` is given twice"));
            }
            seen.push(s);
        }
        Ok(Self::of(&seen))
    }

    pub fn has(self, s: TokenScope) -> bool {
        match s {
            TokenScope::Read => self.read,
            TokenScope::Write => self.write,
        }
    }

    /// Whether every scope of `self` is in `other`.
    pub fn within(self, other: TokenScopes) -> bool {
        TokenScope::ALL
            .iter()
            .all(|&s| !self.has(s) || other.has(s))
    }

    pub fn list(self) -> Vec<TokenScope> {
        TokenScope::ALL
            .iter()
            .copied()
            .filter(|&s| self.has(s))
            .collect()
    }

    /// As a `scope` claim or parameter: `read write`.
    pub fn text(self) -> String {
        self.list()
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// What a role may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    ReadDirectory,
    WriteOrganizations,
    WriteTerritories,
    ManageProgrammes,
    ReadDrafts,
    WriteFabriques,
    TransitionFabriques,
    WritePartners,
    ReadParticipations,
    Apply,
    DecideParticipations,
    Withdraw,
    UpdateParticipations,
    ReadHistory,
    ReadPersonalData,
    WriteSeminars,
    WriteWorkingGroups,
    WriteRoadmaps,
    AdoptRoadmaps,
    WriteLessons,
    WriteTestimonies,
    ReadFunding,
    WriteFunding,
    ManageExternalIds,
    ManageClients,
    ManageWebhooks,
    CorrectRecords,
    ReadStats,
}

/// How far a role's permission reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Everywhere.
    Always,
    /// Only for the territory of the token (`territory` claim).
    OwnTerritory,
    /// Only in Fabriques where the token's organization is co-animator or contractor.
    FabriquePartner,
    /// Only in Fabriques where the token's organization holds any partner role.
    AnyPartnerRole,
    Never,
}

impl Grant {
    pub fn describe(self) -> &'static str {
        match self {
            Grant::Always => "yes",
            Grant::OwnTerritory => "own territory",
            Grant::FabriquePartner => "as co-animator or contractor",
            Grant::AnyPartnerRole => "as a partner of the Fabrique",
            Grant::Never => "no",
        }
    }

    /// What a refusal adds to the permission's name.
    pub fn reach(self) -> &'static str {
        match self {
            Grant::OwnTerritory => " (for your own territory only)",
            Grant::FabriquePartner => " (as co-animator or contractor of this Fabrique only)",
            Grant::AnyPartnerRole => " (as a partner of this Fabrique only)",
            Grant::Always | Grant::Never => "",
        }
    }
}

impl Permission {
    pub const ALL: [Permission; 28] = [
        Permission::ReadDirectory,
        Permission::WriteOrganizations,
        Permission::WriteTerritories,
        Permission::ManageProgrammes,
        Permission::ReadDrafts,
        Permission::WriteFabriques,
        Permission::TransitionFabriques,
        Permission::WritePartners,
        Permission::ReadParticipations,
        Permission::Apply,
        Permission::DecideParticipations,
        Permission::Withdraw,
        Permission::UpdateParticipations,
        Permission::ReadHistory,
        Permission::ReadPersonalData,
        Permission::WriteSeminars,
        Permission::WriteWorkingGroups,
        Permission::WriteRoadmaps,
        Permission::AdoptRoadmaps,
        Permission::WriteLessons,
        Permission::WriteTestimonies,
        Permission::ReadFunding,
        Permission::WriteFunding,
        Permission::ManageExternalIds,
        Permission::ManageClients,
        Permission::ManageWebhooks,
        Permission::ReadStats,
        Permission::CorrectRecords,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ReadDirectory => "directory:read",
            Permission::WriteOrganizations => "organizations:write",
            Permission::WriteTerritories => "territories:write",
            Permission::ManageProgrammes => "programmes:write",
            Permission::ReadDrafts => "fabriques:read_drafts",
            Permission::WriteFabriques => "fabriques:write",
            Permission::TransitionFabriques => "fabriques:transition",
            Permission::WritePartners => "fabriques:write_partners",
            Permission::ReadParticipations => "participations:read",
            Permission::Apply => "participations:apply",
            Permission::DecideParticipations => "participations:decide",
            Permission::Withdraw => "participations:withdraw",
            Permission::UpdateParticipations => "participations:update",
            Permission::ReadHistory => "history:read",
            Permission::ReadPersonalData => "personal_data:read",
            Permission::WriteSeminars => "seminars:write",
            Permission::WriteWorkingGroups => "working_groups:write",
            Permission::WriteRoadmaps => "roadmaps:write",
            Permission::AdoptRoadmaps => "roadmaps:adopt",
            Permission::WriteLessons => "lessons:write",
            Permission::WriteTestimonies => "testimonies:write",
            Permission::ReadFunding => "funding:read",
            Permission::WriteFunding => "funding:write",
            Permission::ManageExternalIds => "external_ids:write",
            Permission::ManageClients => "clients:write",
            Permission::ManageWebhooks => "webhooks:write",
            Permission::CorrectRecords => "corrections:write",
            Permission::ReadStats => "stats:read",
        }
    }

    /// What the permission allows, for the permissions document.
    pub fn describe(self) -> &'static str {
        match self {
            Permission::ReadDirectory => "read organizations, territories and programmes",
            Permission::WriteOrganizations => "create, change and delete organizations",
            Permission::WriteTerritories => "create, change and delete territories",
            Permission::ManageProgrammes => "create, change and delete ANCT programmes",
            Permission::ReadDrafts => "see draft Fabriques",
            Permission::WriteFabriques => "create, change and delete Fabriques",
            Permission::TransitionFabriques => {
                "open recruitment, launch, complete or cancel a Fabrique"
            }
            Permission::WritePartners => "set a Fabrique's partners and their roles",
            Permission::ReadParticipations => {
                "read participations of every status (personal data apart); everyone sees the accompanied ones"
            }
            Permission::Apply => "apply for a territory",
            Permission::DecideParticipations => "accept or reject an application",
            Permission::Withdraw => "withdraw a participation",
            Permission::UpdateParticipations => {
                "change a participation's sponsor, motivation, focus"
            }
            Permission::ReadHistory => "read a Fabrique's history and the change feed",
            Permission::ReadPersonalData => {
                "see personal data: sponsors, motivations, working groups, unpublished testimonies"
            }
            Permission::WriteSeminars => "plan, reschedule, hold or cancel seminars",
            Permission::WriteWorkingGroups => "edit a local working group",
            Permission::WriteRoadmaps => "edit a roadmap and its actions, submit it",
            Permission::AdoptRoadmaps => "record a roadmap's adoption",
            Permission::WriteLessons => "record national lessons",
            Permission::WriteTestimonies => "record testimonies and publish them",
            Permission::ReadFunding => {
                "see funding lines and totals (in the API, the funding export and the funding figures)"
            }
            Permission::WriteFunding => "record funding lines",
            Permission::ManageExternalIds => {
                "attach its organization's own ids to resources, look them up, see them in the feed"
            }
            Permission::ManageClients => "create, revoke and rotate machine clients",
            Permission::ReadStats => "read detailed figures: funding, breakdowns",
            Permission::ManageWebhooks => {
                "subscribe a machine client to webhooks and read its delivery log"
            }
            Permission::CorrectRecords => {
                "correct a held seminar or a started Fabrique's dates, with a reason"
            }
        }
    }
}

/// The role × permission table, with the reach of each grant.
pub fn grant(role: Role, perm: Permission) -> Grant {
    use Grant::{Always, AnyPartnerRole, FabriquePartner, Never, OwnTerritory};
    use Permission as P;
    match (role, perm) {
        // External ids belong to an organization: only organization tokens hold them.
        (Role::Admin | Role::AnctStaff, P::ManageExternalIds) => Never,
        (Role::Admin, P::ManageClients) => Always,
        (Role::Admin | Role::AnctStaff | Role::Analyst, P::ReadStats | P::ReadFunding) => Always,
        (Role::Partner, P::ReadFunding) => AnyPartnerRole,
        (_, P::ReadStats | P::ReadFunding) => Never,
        (_, P::ManageClients) => Never,
        // Webhooks carry the change feed: whoever reads the feed may subscribe.
        (role, P::ManageWebhooks) => grant(role, P::ReadHistory),
        (Role::Admin, _) => Always,
        (Role::AnctStaff, P::ManageProgrammes) => Never,
        (Role::AnctStaff, _) => Always,
        (
            Role::Analyst,
            P::ReadDirectory | P::ReadDrafts | P::ReadParticipations | P::ReadHistory,
        ) => Always,
        (Role::Analyst, _) => Never,
        (
            Role::Partner,
            P::ReadDirectory | P::ReadParticipations | P::ReadHistory | P::ManageExternalIds,
        ) => Always,
        (
            Role::Partner,
            P::ReadPersonalData
            | P::WriteSeminars
            | P::WriteWorkingGroups
            | P::WriteRoadmaps
            | P::AdoptRoadmaps
            | P::WriteTestimonies,
        ) => FabriquePartner,
        (Role::Partner, _) => Never,
        (Role::Territory, P::ReadDirectory) => Always,
        (
            Role::Territory,
            P::ReadParticipations
            | P::Apply
            | P::Withdraw
            | P::UpdateParticipations
            | P::ReadPersonalData
            | P::WriteWorkingGroups
            | P::WriteRoadmaps,
        ) => OwnTerritory,
        (Role::Territory, _) => Never,
    }
}

/// A refused permission: 403, naming the permission and how far the caller's grant reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Denied {
    pub permission: Permission,
    pub grant: Grant,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.permission.as_str(), self.grant.reach())
    }
}

/// Where a resource sits: its Fabrique and, for what belongs to one territory (a
/// participation and what hangs off it), that territory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    pub fabrique: Uuid,
    pub territory: Option<Uuid>,
}

impl Scope {
    pub fn fabrique(fabrique: Uuid) -> Self {
        Scope {
            fabrique,
            territory: None,
        }
    }

    pub fn territory(fabrique: Uuid, territory: Uuid) -> Self {
        Scope {
            fabrique,
            territory: Some(territory),
        }
    }
}

/// A class of fields. Every field of a resource is public unless its resource declares it
/// in one of the other tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tier {
    /// Anyone, without a token.
    Public,
    /// Any token that may see the row (the programme's partners, territories, analysts).
    Partner,
    /// Personal data: ANCT, the Fabrique's co-animators and contractor, the territory itself.
    Personal,
    /// ANCT only (who made a change).
    Internal,
}

impl Tier {
    pub const ALL: [Tier; 4] = [Tier::Public, Tier::Partner, Tier::Personal, Tier::Internal];

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Public => "public",
            Tier::Partner => "partner",
            Tier::Personal => "personal",
            Tier::Internal => "internal",
        }
    }

    /// Who sees a field of this tier, for the spec and the permissions document.
    pub fn audience(self) -> &'static str {
        match self {
            Tier::Public => "everyone, without a token",
            Tier::Partner => {
                "any token that may see the resource, except another territory's token"
            }
            Tier::Personal => {
                "admins, ANCT staff, the Fabrique's co-animators and contractor, and the territory concerned"
            }
            Tier::Internal => "admins and ANCT staff",
        }
    }
}

/// The tiers a caller sees of one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    partner: bool,
    personal: bool,
    internal: bool,
}

impl View {
    /// Every tier (the journal keeps whole states; the system sees all).
    pub const ALL: View = View {
        partner: true,
        personal: true,
        internal: true,
    };
    pub const PUBLIC: View = View {
        partner: false,
        personal: false,
        internal: false,
    };

    pub const fn new(partner: bool, personal: bool, internal: bool) -> Self {
        View {
            partner,
            personal,
            internal,
        }
    }

    pub fn shows(self, tier: Tier) -> bool {
        match tier {
            Tier::Public => true,
            Tier::Partner => self.partner,
            Tier::Personal => self.personal,
            Tier::Internal => self.internal,
        }
    }
}

/// The roles of the caller's organization in each Fabrique it partners.
pub type Partnerships = BTreeMap<Uuid, Vec<PartnerRole>>;

/// Participation statuses the public sees: the territories accompanied.
pub const ACCOMPANIED: [ParticipationStatus; 3] = [
    ParticipationStatus::Accepted,
    ParticipationStatus::Active,
    ParticipationStatus::Completed,
];

/// Which Fabriques' rows a caller may know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FabriqueRows {
    All,
    /// All but drafts.
    PastDraft,
}

/// Which participations a caller may know, within the Fabriques it may know: all of them, or
/// the accompanied ones plus (for a territory) its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParticipationRows {
    All,
    AccompaniedOr { own_territory: Option<Uuid> },
}

/// Which roadmaps (and their actions) a caller may know, within the participations it may
/// know: all of them, or the adopted ones plus (for a territory) its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoadmapRows {
    All,
    AdoptedOr { own_territory: Option<Uuid> },
}

/// Which funding lines a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FundingRows {
    All,
    /// Those of the Fabriques this organization partners (any role).
    OfPartner(Uuid),
    None,
}

/// Which unpublished testimonies a caller may see (published ones are public).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnpublishedRows {
    All,
    /// Those of the Fabriques this organization co-animates or contracts.
    OfPersonalPartner(Uuid),
    None,
}

/// Which journal entries about external ids a caller may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExternalIdRows {
    All,
    OfOrganization(Uuid),
    None,
}

/// What a caller may see and do, worked out once per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    caller: Option<Caller>,
    partnerships: Partnerships,
}

impl Access {
    /// The public: no token.
    pub fn public() -> Self {
        Access {
            caller: None,
            partnerships: Partnerships::new(),
        }
    }

    /// The service itself (seeding, the command line), as an admin.
    pub fn system() -> Self {
        Access {
            caller: Some(Caller {
                subject: "system".into(),
                role: Role::Admin,
                organization: None,
                territory: None,
                client: None,
                scopes: TokenScopes::ALL,
            }),
            partnerships: Partnerships::new(),
        }
    }

    /// A caller, with its organization's partnerships (see [`Access::needs_partnerships`]).
    pub fn new(caller: Caller, partnerships: Partnerships) -> Self {
        Access {
            caller: Some(caller),
            partnerships,
        }
    }

    /// Whether this caller's rights depend on its organization's partner roles, which the
    /// store must then read (one statement) before building its [`Access`].
    pub fn needs_partnerships(caller: &Caller) -> bool {
        caller.role == Role::Partner && caller.organization.is_some()
    }

    pub fn caller(&self) -> Option<&Caller> {
        self.caller.as_ref()
    }

    pub fn role(&self) -> Option<Role> {
        self.caller.as_ref().map(|c| c.role)
    }

    pub fn organization(&self) -> Option<Uuid> {
        self.caller.as_ref().and_then(|c| c.organization)
    }

    pub fn territory(&self) -> Option<Uuid> {
        self.caller.as_ref().and_then(|c| c.territory)
    }

    pub fn client(&self) -> Option<Uuid> {
        self.caller.as_ref().and_then(|c| c.client)
    }

    pub fn is_public(&self) -> bool {
        self.caller.is_none()
    }

    pub fn is_admin(&self) -> bool {
        self.role() == Some(Role::Admin)
    }

    /// ANCT (admins and staff) sees everything of the programme.
    pub fn is_anct(&self) -> bool {
        matches!(self.role(), Some(Role::Admin | Role::AnctStaff))
    }

    /// The organization's roles in this Fabrique (empty for other callers).
    pub fn partner_roles(&self, fabrique: Uuid) -> &[PartnerRole] {
        self.partnerships
            .get(&fabrique)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub fn partnerships(&self) -> &Partnerships {
        &self.partnerships
    }

    /// The caller's grant of `perm` (the public has none).
    pub fn grant(&self, perm: Permission) -> Grant {
        self.role().map_or(Grant::Never, |r| grant(r, perm))
    }

    /// Whether the token holds `scope` (the public, with no token, is refused or allowed by
    /// the operation's permissions instead).
    pub fn require_scope(&self, scope: TokenScope) -> Result<(), TokenScope> {
        match &self.caller {
            Some(c) if !c.scopes.has(scope) => Err(scope),
            _ => Ok(()),
        }
    }

    /// The coarse check: whether the role has `perm` anywhere at all.
    pub fn require(&self, perm: Permission) -> Result<(), Denied> {
        match self.grant(perm) {
            Grant::Never => Err(Denied {
                permission: perm,
                grant: Grant::Never,
            }),
            _ => Ok(()),
        }
    }

    /// Whether `perm` reaches a resource at `scope`.
    pub fn reaches(&self, perm: Permission, scope: Scope) -> bool {
        match self.grant(perm) {
            Grant::Always => true,
            Grant::Never => false,
            Grant::OwnTerritory => scope.territory.is_some() && self.territory() == scope.territory,
            Grant::FabriquePartner => self
                .partner_roles(scope.fabrique)
                .iter()
                .any(|r| r.sees_personal_data()),
            Grant::AnyPartnerRole => !self.partner_roles(scope.fabrique).is_empty(),
        }
    }

    /// Like [`Access::reaches`], as a refusal naming the permission and its reach.
    pub fn authorize(&self, perm: Permission, scope: Scope) -> Result<(), Denied> {
        if self.reaches(perm, scope) {
            Ok(())
        } else {
            Err(Denied {
                permission: perm,
                grant: self.grant(perm),
            })
        }
    }

    // --- rows ---------------------------------------------------------------------------

    pub fn fabrique_rows(&self) -> FabriqueRows {
        if self.grant(Permission::ReadDrafts) == Grant::Always {
            FabriqueRows::All
        } else {
            FabriqueRows::PastDraft
        }
    }

    /// Whether the caller may know a Fabrique in this status exists.
    pub fn sees_fabrique(&self, status: FabriqueStatus) -> bool {
        self.fabrique_rows() == FabriqueRows::All || status != FabriqueStatus::Draft
    }

    pub fn participation_rows(&self) -> ParticipationRows {
        match self.grant(Permission::ReadParticipations) {
            Grant::Always => ParticipationRows::All,
            _ => ParticipationRows::AccompaniedOr {
                own_territory: self.territory(),
            },
        }
    }

    /// Whether the caller may know this participation exists (its Fabrique being visible).
    pub fn sees_participation(&self, status: ParticipationStatus, territory: Uuid) -> bool {
        match self.participation_rows() {
            ParticipationRows::All => true,
            ParticipationRows::AccompaniedOr { own_territory } => {
                ACCOMPANIED.contains(&status) || own_territory == Some(territory)
            }
        }
    }

    /// A roadmap: adopted ones are public; others need a token that may see more than the
    /// public does of that territory.
    pub fn sees_roadmap(&self, status: RoadmapStatus, scope: Scope) -> bool {
        status == RoadmapStatus::Adopted || self.view(scope).shows(Tier::Partner)
    }

    pub fn roadmap_rows(&self) -> RoadmapRows {
        match self.role() {
            None => RoadmapRows::AdoptedOr {
                own_territory: None,
            },
            Some(Role::Territory) => RoadmapRows::AdoptedOr {
                own_territory: self.territory(),
            },
            Some(_) => RoadmapRows::All,
        }
    }

    pub fn funding_rows(&self) -> FundingRows {
        match (self.grant(Permission::ReadFunding), self.organization()) {
            (Grant::Always, _) => FundingRows::All,
            (Grant::AnyPartnerRole, Some(org)) => FundingRows::OfPartner(org),
            _ => FundingRows::None,
        }
    }

    /// Whether the caller sees the funding of this Fabrique (lines, summary, export rows).
    pub fn sees_funding(&self, fabrique: Uuid) -> bool {
        self.reaches(Permission::ReadFunding, Scope::fabrique(fabrique))
    }

    /// Whether the caller sees funding across every Fabrique (the funding figures).
    pub fn sees_all_funding(&self) -> bool {
        self.funding_rows() == FundingRows::All
    }

    pub fn unpublished_rows(&self) -> UnpublishedRows {
        match (
            self.grant(Permission::WriteTestimonies),
            self.organization(),
        ) {
            (Grant::Always, _) => UnpublishedRows::All,
            (Grant::FabriquePartner, Some(org)) => UnpublishedRows::OfPersonalPartner(org),
            _ => UnpublishedRows::None,
        }
    }

    /// Unpublished testimonies are seen by those who may publish them.
    pub fn sees_testimony(&self, published: bool, fabrique: Uuid) -> bool {
        published || self.reaches(Permission::WriteTestimonies, Scope::fabrique(fabrique))
    }

    pub fn external_id_rows(&self) -> ExternalIdRows {
        if self.is_anct() {
            return ExternalIdRows::All;
        }
        match (
            self.grant(Permission::ManageExternalIds),
            self.organization(),
        ) {
            (Grant::Always, Some(org)) => ExternalIdRows::OfOrganization(org),
            _ => ExternalIdRows::None,
        }
    }

    /// An organization's external ids are seen by that organization and by ANCT.
    pub fn sees_external_ids_of(&self, organization: Uuid) -> bool {
        match self.external_id_rows() {
            ExternalIdRows::All => true,
            ExternalIdRows::OfOrganization(org) => org == organization,
            ExternalIdRows::None => false,
        }
    }

    // --- fields -------------------------------------------------------------------------

    /// The tiers the caller sees of a resource at `scope`. Another territory's data is seen
    /// as the public sees it.
    pub fn view(&self, scope: Scope) -> View {
        let Some(caller) = &self.caller else {
            return View::PUBLIC;
        };
        let other_territory = caller.role == Role::Territory
            && scope.territory.is_some()
            && scope.territory != caller.territory;
        View {
            partner: !other_territory,
            personal: self.reaches(Permission::ReadPersonalData, scope),
            internal: self.is_anct(),
        }
    }

    /// The tiers of what is not tied to a Fabrique (the directory, the actor of an event).
    pub fn view_outside_fabriques(&self) -> View {
        match &self.caller {
            None => View::PUBLIC,
            Some(_) => View {
                partner: true,
                personal: self.is_anct(),
                internal: self.is_anct(),
            },
        }
    }
}

/// The permissions document (`docs/permissions.md`): the role table, then the rows and tiers.
pub fn permissions_markdown(generator: &str) -> String {
    const ROLES: [Role; 5] = [
        Role::Admin,
        Role::AnctStaff,
        Role::Partner,
        Role::Territory,
        Role::Analyst,
    ];
    let mut out = format!(
        "# Who may do what\n\nGenerated from `crates/domain/src/access.rs` by `{generator}`;\na test fails when this file and the code differ, and HTTP tests check the cells.\n\n## Permissions\n\n| permission | what it allows |"
    );
    for r in ROLES {
        out.push_str(&format!(" {} |", r.as_str()));
    }
    out.push_str("\n|---|---|");
    for _ in ROLES {
        out.push_str("---|");
    }
    out.push('\n');
    for p in Permission::ALL {
        out.push_str(&format!("| `{}` | {} |", p.as_str(), p.describe()));
        for r in ROLES {
            out.push_str(&format!(" {} |", grant(r, p).describe()));
        }
        out.push('\n');
    }
    out.push_str(ROWS_MARKDOWN);
    out
}

const ROWS_MARKDOWN: &str = "
## Which rows a caller may know

Rows a caller may not see answer 404 and are absent from lists, exports, figures, the map,
the history, the change feed and webhook payloads alike.

| resource | without a token | a token |
|---|---|---|
| Fabrique | past draft | past draft; drafts too for admin, ANCT staff and analysts (`fabriques:read_drafts`) |
| participation | accompanied ones (accepted, active, completed) of visible Fabriques | every status for `participations:read` everywhere; a territory: its own of every status, others' accompanied ones |
| seminar | intersite ones of visible Fabriques, local ones of visible participations | the same rule |
| roadmap and its actions | adopted ones of visible participations | every status, except another territory's unadopted ones |
| working group member | none | `personal_data:read` for that participation |
| testimony | published ones of visible Fabriques | unpublished ones too for `testimonies:write` in that Fabrique |
| funding line, funding summary | none | `funding:read` for that Fabrique (the funding export keeps the rows the caller sees; the funding figures need it everywhere) |
| lesson, progress, history | none | any token that may see the Fabrique (history: `history:read`) |
| external id | none | its organization's own (`external_ids:write`); in the history and the feed, admins and ANCT staff see every organization's |
| organization, territory, programme | programmes only | all (`directory:read`) |

Filters follow the same rule: `territory=` and `region=` on the Fabriques, the figures and
the exports match the participations the caller may see (for the public, the territories
accompanied).

## Which fields a caller sees of a visible row

Each resource declares once which of its fields are not public; the OpenAPI document says
it on each such property (`x-fabriques-tier`). A territory sees another territory's data as
the public does.
";

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn caller(role: Role) -> Caller {
        Caller {
            subject: "t".into(),
            role,
            organization: (role == Role::Partner).then(|| id(100)),
            territory: (role == Role::Territory).then(|| id(200)),
            client: None,
            scopes: TokenScopes::ALL,
        }
    }

    fn partner_of(fabrique: Uuid, roles: &[PartnerRole]) -> Access {
        Access::new(
            caller(Role::Partner),
            [(fabrique, roles.to_vec())].into_iter().collect(),
        )
    }

    const ROLES: [Role; 5] = [
        Role::Admin,
        Role::AnctStaff,
        Role::Partner,
        Role::Territory,
        Role::Analyst,
    ];

    #[test]
    fn scopes_parse_as_oauth_lists_and_gate_a_token() {
        assert_eq!(TokenScopes::parse("read write"), Ok(TokenScopes::ALL));
        let read = TokenScopes::parse("read").unwrap_or(TokenScopes::ALL);
        assert!(read.has(TokenScope::Read) && !read.has(TokenScope::Write));
        assert_eq!(read.text(), "read");
        assert!(read.within(TokenScopes::ALL) && !TokenScopes::ALL.within(read));
        for bad in ["", "read  write", "admin", "read read", "READ"] {
            assert!(TokenScopes::parse(bad).is_err(), "{bad:?}");
        }
        let mut c = caller(Role::Partner);
        c.scopes = read;
        let a = Access::new(c, Partnerships::new());
        assert_eq!(a.require_scope(TokenScope::Read), Ok(()));
        assert_eq!(a.require_scope(TokenScope::Write), Err(TokenScope::Write));
        assert_eq!(Access::public().require_scope(TokenScope::Write), Ok(()));
    }

    #[test]
    fn the_public_sees_only_the_public_tier_and_accompanied_participations() {
        let a = Access::public();
        assert_eq!(a.view(Scope::fabrique(id(1))), View::PUBLIC);
        assert!(!a.sees_fabrique(FabriqueStatus::Draft));
        assert!(a.sees_fabrique(FabriqueStatus::Recruiting));
        for s in ParticipationStatus::ALL {
            assert_eq!(
                a.sees_participation(s, id(200)),
                ACCOMPANIED.contains(&s),
                "{s}"
            );
        }
        assert_eq!(a.funding_rows(), FundingRows::None);
        assert!(a.require(Permission::ReadDirectory).is_err());
    }

    #[test]
    fn a_territory_sees_its_own_participations_and_others_as_the_public_does() {
        let a = Access::new(caller(Role::Territory), Partnerships::new());
        assert!(a.sees_participation(ParticipationStatus::Rejected, id(200)));
        assert!(!a.sees_participation(ParticipationStatus::Rejected, id(201)));
        assert!(!a.sees_participation(ParticipationStatus::Withdrawn, id(201)));
        assert!(a.sees_participation(ParticipationStatus::Active, id(201)));
        let own = a.view(Scope::territory(id(1), id(200)));
        assert!(own.shows(Tier::Personal) && own.shows(Tier::Partner));
        assert_eq!(a.view(Scope::territory(id(1), id(201))), View::PUBLIC);
        let fabrique = a.view(Scope::fabrique(id(1)));
        assert!(fabrique.shows(Tier::Partner) && !fabrique.shows(Tier::Personal));
        assert!(!a.sees_roadmap(RoadmapStatus::Draft, Scope::territory(id(1), id(201))));
        assert!(a.sees_roadmap(RoadmapStatus::Draft, Scope::territory(id(1), id(200))));
        assert!(a.sees_roadmap(RoadmapStatus::Adopted, Scope::territory(id(1), id(201))));
    }

    #[test]
    fn personal_data_follows_the_partner_roles_of_each_fabrique() {
        let f = id(1);
        let co = partner_of(f, &[PartnerRole::CoAnimator]);
        assert!(co.view(Scope::territory(f, id(9))).shows(Tier::Personal));
        assert!(
            !co.view(Scope::territory(id(2), id(9)))
                .shows(Tier::Personal)
        );
        let funder = partner_of(f, &[PartnerRole::CoFunder]);
        assert!(!funder.view(Scope::fabrique(f)).shows(Tier::Personal));
        assert!(funder.view(Scope::fabrique(f)).shows(Tier::Partner));
        let analyst = Access::new(caller(Role::Analyst), Partnerships::new());
        assert!(!analyst.view(Scope::fabrique(f)).shows(Tier::Personal));
        assert!(
            Access::system()
                .view(Scope::fabrique(f))
                .shows(Tier::Internal)
        );
    }

    #[test]
    fn one_funding_rule_for_lines_summaries_exports_and_figures() {
        let f = id(1);
        for role in [Role::Admin, Role::AnctStaff, Role::Analyst] {
            let a = Access::new(caller(role), Partnerships::new());
            assert!(a.sees_funding(f) && a.sees_all_funding(), "{role}");
        }
        let funder = partner_of(f, &[PartnerRole::CoFunder]);
        assert!(funder.sees_funding(f));
        assert!(!funder.sees_funding(id(2)));
        assert!(!funder.sees_all_funding());
        assert_eq!(funder.funding_rows(), FundingRows::OfPartner(id(100)));
        let territory = Access::new(caller(Role::Territory), Partnerships::new());
        assert!(!territory.sees_funding(f));
        assert_eq!(territory.funding_rows(), FundingRows::None);
        assert!(!Access::public().sees_funding(f));
    }

    #[test]
    fn external_ids_are_seen_by_their_organization_and_anct_only() {
        let org = id(100);
        assert!(partner_of(id(1), &[]).sees_external_ids_of(org));
        assert!(!partner_of(id(1), &[]).sees_external_ids_of(id(101)));
        assert!(Access::system().sees_external_ids_of(org));
        let analyst = Access::new(caller(Role::Analyst), Partnerships::new());
        assert!(!analyst.sees_external_ids_of(org));
    }

    #[test]
    fn row_renderings_agree_with_their_predicates() {
        let fabriques = [id(1), id(2)];
        let accesses: Vec<Access> = ROLES
            .iter()
            .map(|&r| Access::new(caller(r), Partnerships::new()))
            .chain([
                Access::public(),
                partner_of(id(1), &[PartnerRole::CoAnimator]),
                partner_of(id(1), &[PartnerRole::CoFunder]),
            ])
            .collect();
        for a in &accesses {
            for s in ParticipationStatus::ALL {
                for t in [id(200), id(201)] {
                    let rendered = match a.participation_rows() {
                        ParticipationRows::All => true,
                        ParticipationRows::AccompaniedOr { own_territory } => {
                            ACCOMPANIED.contains(&s) || own_territory == Some(t)
                        }
                    };
                    assert_eq!(rendered, a.sees_participation(s, t), "{a:?} {s} {t}");
                }
            }
            for f in fabriques {
                let rendered = match a.funding_rows() {
                    FundingRows::All => true,
                    FundingRows::OfPartner(org) => {
                        Some(org) == a.organization() && !a.partner_roles(f).is_empty()
                    }
                    FundingRows::None => false,
                };
                assert_eq!(rendered, a.sees_funding(f), "{a:?}");
                let rendered = match a.unpublished_rows() {
                    UnpublishedRows::All => true,
                    UnpublishedRows::OfPersonalPartner(org) => {
                        Some(org) == a.organization()
                            && a.partner_roles(f).iter().any(|r| r.sees_personal_data())
                    }
                    UnpublishedRows::None => false,
                };
                assert_eq!(rendered, a.sees_testimony(false, f), "{a:?}");
            }
            for s in RoadmapStatus::ALL.iter().copied() {
                for t in [id(200), id(201)] {
                    let rendered = match a.roadmap_rows() {
                        RoadmapRows::All => true,
                        RoadmapRows::AdoptedOr { own_territory } => {
                            s == RoadmapStatus::Adopted || own_territory == Some(t)
                        }
                    };
                    assert_eq!(
                        rendered,
                        a.sees_roadmap(s, Scope::territory(id(1), t)),
                        "{a:?}"
                    );
                }
            }
            for s in FabriqueStatus::ALL {
                let rendered = match a.fabrique_rows() {
                    FabriqueRows::All => true,
                    FabriqueRows::PastDraft => s != FabriqueStatus::Draft,
                };
                assert_eq!(rendered, a.sees_fabrique(s));
            }
        }
    }

    #[test]
    fn a_refusal_names_the_permission_and_its_reach() {
        let a = Access::new(caller(Role::Partner), Partnerships::new());
        let denied = a
            .authorize(Permission::WriteSeminars, Scope::fabrique(id(1)))
            .err();
        assert_eq!(
            denied.map(|d| d.to_string()).as_deref(),
            Some("seminars:write (as co-animator or contractor of this Fabrique only)")
        );
        assert!(a.require(Permission::WriteLessons).is_err());
    }
}
