//! Named values: enums stored as their snake_case names and shown as such in the API.
//!
//! `named_enum!` gives each one `ALL`, `as_str`, `FromStr` and `Display`, so that a database
//! string, a query value and a JSON value all go through one spelling.

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name { $($(#[$vdoc])* $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }

        impl std::str::FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                $name::ALL.iter().copied().find(|k| k.as_str() == s).ok_or(())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use named_enum;

named_enum!(
    /// Where a funding line comes from: ANCT's own budget or a co-funding partner.
    FundingKind { Anct = "anct", CoFunding = "co_funding" }
);
named_enum!(
    /// What kind of lesson: a methodological lesson, or a proposal for an ANCT programme or a
    /// public body.
    LessonKind { Lesson = "lesson", ProgrammeProposal = "programme_proposal" }
);
named_enum!(
    /// Who a working group member is, for the figures.
    MemberCategory {
        ElectedOfficial = "elected_official",
        LocalGovernmentStaff = "local_government_staff",
        Business = "business",
        Association = "association",
        Resident = "resident",
        StateService = "state_service",
        Partner = "partner",
    }
);
named_enum!(
    /// What a partner organization's external id may point to.
    ExternalEntityType {
        Fabrique = "fabrique",
        Territory = "territory",
        Participation = "participation",
        Seminar = "seminar",
    }
);

impl ExternalEntityType {
    /// The collection of the resource under `/api/v1`.
    pub fn collection(self) -> &'static str {
        match self {
            ExternalEntityType::Fabrique => "fabriques",
            ExternalEntityType::Territory => "territories",
            ExternalEntityType::Participation => "participations",
            ExternalEntityType::Seminar => "seminars",
        }
    }
}

named_enum!(
    /// A machine client's state: revoked clients' tokens stop working at once.
    ClientStatus { Active = "active", Revoked = "revoked" }
);
named_enum!(
    WebhookStatus {
        Active = "active",
        /// Disabled by its client, or by the server after too many failed attempts in a row.
        Disabled = "disabled",
    }
);
named_enum!(
    DeliveryStatus {
        /// Waiting for its first attempt or for a retry.
        Pending = "pending",
        Delivered = "delivered",
        /// Given up after the last attempt; can be redelivered by hand.
        Failed = "failed",
    }
);
named_enum!(
    /// What a journal entry (an event of the change feed) is about.
    EntityType {
        Fabrique = "fabrique",
        FabriquePartner = "fabrique_partner",
        Participation = "participation",
        Seminar = "seminar",
        WorkingGroupMember = "working_group_member",
        Roadmap = "roadmap",
        RoadmapAction = "roadmap_action",
        Lesson = "lesson",
        Testimony = "testimony",
        FundingLine = "funding_line",
        Organization = "organization",
        Territory = "territory",
        Programme = "programme",
        ExternalId = "external_id",
        /// A machine client's administration (admins only).
        Client = "client",
        /// A webhook subscription's administration (admins only).
        Webhook = "webhook",
    }
);
