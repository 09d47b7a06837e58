//! The data dictionary: the definition of every figure the API computes. Rendered to
//! `docs/data-dictionary.md` by `fabriques dictionary` and served at
//! `GET /api/v1/stats/dictionary`; a test fails when a figure lacks a definition.

use serde::Serialize;
use utoipa::ToSchema;

/// One figure and how it is computed.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Definition {
    /// Where it appears: `overview.<field>`.
    pub name: &'static str,
    pub definition: &'static str,
    /// `public`, `analyst` (analysts, ANCT staff and admins) or `anct` (admins, ANCT staff).
    pub audience: &'static str,
}

const fn d(name: &'static str, definition: &'static str, audience: &'static str) -> Definition {
    Definition {
        name,
        definition,
        audience,
    }
}

/// What "the selected Fabriques" means in every definition below.
pub const SELECTION: &str = "The selected Fabriques are those the filters pick (status, theme, programme, year or year range of the start, region), among those the caller may see: drafts count only for admins, ANCT staff and analysts. A Fabrique's year is the year of its actual start, else of its planned start. A region filter keeps the Fabriques with at least one participation of a territory of that region, whatever its status.";

pub const FIGURES: &[Definition] = &[
    d(
        "overview.fabriques",
        "Number of selected Fabriques.",
        "public",
    ),
    d(
        "overview.fabriques_by_status",
        "Selected Fabriques counted by status (draft, recruiting, running, completed, cancelled); statuses with none are left out.",
        "public",
    ),
    d(
        "overview.territories_accompanied",
        "Number of distinct territories with at least one participation in an accepted, active or completed status in a selected Fabrique. Applied, rejected and withdrawn participations do not count.",
        "public",
    ),
    d(
        "overview.participations",
        "Number of participations (candidatures) in the selected Fabriques, whatever their status.",
        "public",
    ),
    d(
        "overview.participations_by_status",
        "Participations in the selected Fabriques counted by status (applied, accepted, rejected, active, completed, withdrawn).",
        "public",
    ),
    d(
        "overview.seminars",
        "Seminars of the selected Fabriques by kind (local: of one territory; intersite: of the whole Fabrique) and status: planned (not yet held), held, cancelled.",
        "public",
    ),
    d(
        "overview.roadmaps_adopted",
        "Roadmaps (feuilles de route or action programmes) in the adopted status, of participations in the selected Fabriques.",
        "public",
    ),
    d(
        "overview.roadmap_actions",
        "Actions of every roadmap (whatever its status) of participations in the selected Fabriques.",
        "public",
    ),
    d(
        "overview.funding.total_cents",
        "Sum of the funding lines of the selected Fabriques, in euro cents.",
        "analyst",
    ),
    d(
        "overview.funding.by_kind_cents",
        "The same sum by kind: anct (ANCT's own funding) and co_funding (partners').",
        "analyst",
    ),
    d(
        "overview.funding.by_organization",
        "The same sum by funding organization, largest first.",
        "analyst",
    ),
    d(
        "breakdown.fabriques",
        "Selected Fabriques in the group. By year, theme, programme or status: each Fabrique in its one group (year of its start; no start: null key). By region, department or territory kind: the Fabriques with at least one participation of a territory in the group, so a Fabrique counts in each group its territories fall in.",
        "analyst",
    ),
    d(
        "breakdown.participations",
        "Participations of the selected Fabriques in the group (by territory dimensions: of territories in the group), whatever their status.",
        "analyst",
    ),
    d(
        "breakdown.territories_accompanied",
        "Distinct territories with an accepted, active or completed participation in a selected Fabrique of the group (by territory dimensions: territories in the group).",
        "analyst",
    ),
    d(
        "breakdown.seminars_held",
        "Held seminars of the selected Fabriques in the group; by region, department or territory kind, only local seminars (of one territory) count, since intersite ones belong to no territory.",
        "analyst",
    ),
    d(
        "breakdown.roadmaps_adopted",
        "Adopted roadmaps of participations of the selected Fabriques in the group.",
        "analyst",
    ),
];

/// Every column of the CSV exports (`GET /exports/{dataset}.csv`).
pub const COLUMNS: &[Definition] = &[
    d(
        "exports.fabriques.id",
        "The Fabrique's id (UUID).",
        "public",
    ),
    d("exports.fabriques.title", "Its title.", "public"),
    d(
        "exports.fabriques.theme",
        "Its theme, as written by ANCT; empty when not set.",
        "public",
    ),
    d(
        "exports.fabriques.programme_id",
        "The ANCT programme it is tied to (see /programmes); empty when none.",
        "public",
    ),
    d(
        "exports.fabriques.status",
        "draft, recruiting, running, completed or cancelled.",
        "public",
    ),
    d(
        "exports.fabriques.planned_start",
        "The planned start date (YYYY-MM-DD); empty when not set.",
        "public",
    ),
    d(
        "exports.fabriques.actual_start",
        "The date it was launched; empty before.",
        "public",
    ),
    d(
        "exports.fabriques.end_date",
        "Its end date: set, or 12 months after the launch.",
        "public",
    ),
    d(
        "exports.fabriques.min_territories",
        "Fewest territories it may be launched with.",
        "public",
    ),
    d(
        "exports.fabriques.max_territories",
        "Most territories it may accept.",
        "public",
    ),
    d(
        "exports.fabriques.created_at",
        "When it was created (RFC 3339, UTC).",
        "public",
    ),
    d(
        "exports.participations.id",
        "The participation's id.",
        "public",
    ),
    d(
        "exports.participations.fabrique_id",
        "Its Fabrique.",
        "public",
    ),
    d(
        "exports.participations.territory_id",
        "Its territory (see the territories export).",
        "public",
    ),
    d(
        "exports.participations.status",
        "applied, accepted, rejected, active, completed or withdrawn.",
        "public",
    ),
    d(
        "exports.participations.focus",
        "The territory's own focus within the theme; empty when not set.",
        "public",
    ),
    d(
        "exports.participations.applied_at",
        "When the territory applied (RFC 3339, UTC).",
        "public",
    ),
    d(
        "exports.participations.accepted_at",
        "When it was accepted; empty if not.",
        "public",
    ),
    d(
        "exports.participations.activated_at",
        "When it became active (the Fabrique's launch); empty if not.",
        "public",
    ),
    d(
        "exports.participations.completed_at",
        "When it completed (its roadmap's adoption); empty if not.",
        "public",
    ),
    d(
        "exports.participations.withdrawn_at",
        "When it withdrew; empty if not.",
        "public",
    ),
    d(
        "exports.participations.sponsor_name",
        "Personal data, ANCT only: the elected official sponsoring the application.",
        "anct",
    ),
    d(
        "exports.participations.sponsor_mandate",
        "Personal data, ANCT only: that official's mandate.",
        "anct",
    ),
    d(
        "exports.participations.motivation",
        "Personal data, ANCT only: the application's motivation.",
        "anct",
    ),
    d("exports.seminars.id", "The seminar's id.", "public"),
    d("exports.seminars.fabrique_id", "Its Fabrique.", "public"),
    d(
        "exports.seminars.participation_id",
        "For a local seminar, the participation (territory) it belongs to; empty for an intersite one.",
        "public",
    ),
    d("exports.seminars.kind", "local or intersite.", "public"),
    d(
        "exports.seminars.number",
        "Its number, 1 to 4, per territory (local) or per Fabrique (intersite).",
        "public",
    ),
    d(
        "exports.seminars.status",
        "planned, held or cancelled.",
        "public",
    ),
    d(
        "exports.seminars.scheduled_on",
        "The date it is or was scheduled on.",
        "public",
    ),
    d(
        "exports.seminars.place",
        "Where; empty when not set.",
        "public",
    ),
    d(
        "exports.seminars.mode",
        "in_person, online or hybrid.",
        "public",
    ),
    d(
        "exports.seminars.attendance",
        "Number of attendees, once held.",
        "public",
    ),
    d(
        "exports.seminars.held_at",
        "When it was recorded as held; empty otherwise.",
        "public",
    ),
    d(
        "exports.seminars.cancelled_at",
        "When it was cancelled; empty otherwise.",
        "public",
    ),
    d("exports.roadmap_actions.id", "The action's id.", "public"),
    d(
        "exports.roadmap_actions.roadmap_id",
        "Its roadmap (one per participation).",
        "public",
    ),
    d(
        "exports.roadmap_actions.position",
        "Its rank in the roadmap.",
        "public",
    ),
    d("exports.roadmap_actions.title", "Its title.", "public"),
    d(
        "exports.roadmap_actions.lead",
        "Who leads it; empty when not set.",
        "public",
    ),
    d(
        "exports.roadmap_actions.horizon",
        "Its time horizon as written (e.g. 2030); empty when not set.",
        "public",
    ),
    d(
        "exports.roadmap_actions.due_on",
        "Its due date; empty when not set.",
        "public",
    ),
    d(
        "exports.roadmap_actions.estimated_cost_cents",
        "Its estimated cost in euro cents; empty when not set.",
        "public",
    ),
    d(
        "exports.roadmap_actions.status",
        "Its progress: planned, in_progress, done or abandoned.",
        "public",
    ),
    d("exports.territories.id", "The territory's id.", "public"),
    d(
        "exports.territories.name",
        "Its name (official for communes, EPCI, departments and regions).",
        "public",
    ),
    d(
        "exports.territories.kind",
        "commune, communaute_de_communes, communaute_d_agglomeration, communaute_urbaine, metropole, departement, region, petr or other.",
        "public",
    ),
    d(
        "exports.territories.code",
        "Its official code: INSEE (communes), SIREN (EPCI, PETR), department or region code.",
        "public",
    ),
    d(
        "exports.territories.department",
        "Its department code, from the official geography where it has one.",
        "public",
    ),
    d(
        "exports.territories.region",
        "Its region code, from the official geography where it has one.",
        "public",
    ),
    d(
        "exports.territories.population",
        "Its population (municipal population of the COG 2026 unless given).",
        "public",
    ),
    d(
        "exports.territories.latitude",
        "WGS84 latitude, −90 to 90; empty when unknown.",
        "public",
    ),
    d(
        "exports.territories.longitude",
        "WGS84 longitude, −180 to 180; empty when unknown.",
        "public",
    ),
    d(
        "exports.funding_lines.id",
        "The funding line's id.",
        "analyst",
    ),
    d(
        "exports.funding_lines.fabrique_id",
        "The Fabrique it funds.",
        "analyst",
    ),
    d(
        "exports.funding_lines.organization_id",
        "The funding organization.",
        "analyst",
    ),
    d(
        "exports.funding_lines.kind",
        "anct (ANCT's own funding) or co_funding (a partner's).",
        "analyst",
    ),
    d(
        "exports.funding_lines.amount_cents",
        "The amount in euro cents.",
        "analyst",
    ),
    d(
        "exports.funding_lines.label",
        "What it pays for; empty when not set.",
        "analyst",
    ),
    d(
        "exports.roadmaps.id",
        "The roadmap's id (what `roadmap_actions.roadmap_id` points to).",
        "public",
    ),
    d(
        "exports.roadmaps.participation_id",
        "The participation (a territory in a Fabrique) it is the roadmap of.",
        "public",
    ),
    d("exports.roadmaps.fabrique_id", "Its Fabrique.", "public"),
    d("exports.roadmaps.territory_id", "Its territory.", "public"),
    d(
        "exports.roadmaps.kind",
        "`roadmap` (feuille de route) or `action_programme` (programme d'actions).",
        "public",
    ),
    d("exports.roadmaps.title", "Its title.", "public"),
    d(
        "exports.roadmaps.summary",
        "Its summary; empty when not written.",
        "public",
    ),
    d(
        "exports.roadmaps.status",
        "`draft`, `submitted` or `adopted`; the public sees adopted ones only.",
        "public",
    ),
    d(
        "exports.roadmaps.submitted_at",
        "When it was last submitted for adoption (RFC 3339); empty before.",
        "public",
    ),
    d(
        "exports.roadmaps.adopted_on",
        "The date of the decision that adopted it; empty before.",
        "public",
    ),
    d(
        "exports.roadmaps.adoption_reference",
        "The reference of that decision (a council deliberation, say); empty when not given.",
        "public",
    ),
    d(
        "exports.roadmaps.created_at",
        "When it was created (RFC 3339).",
        "public",
    ),
    d("exports.partners.fabrique_id", "The Fabrique.", "public"),
    d(
        "exports.partners.organization_id",
        "The partner organization's id.",
        "public",
    ),
    d("exports.partners.organization_name", "Its name.", "public"),
    d(
        "exports.partners.organization_acronym",
        "Its acronym; empty when it has none.",
        "public",
    ),
    d(
        "exports.partners.organization_kind",
        "Its kind (`anct`, `elected_officials_association`, `public_operator`, `ministry_directorate`, `funder`, `contractor`, `research`, `other`).",
        "public",
    ),
    d(
        "exports.partners.role",
        "One role it holds in the Fabrique (`pilot`, `co_animator`, `co_funder`, `contractor`): one row per role.",
        "public",
    ),
    d("exports.testimonies.id", "The testimony's id.", "public"),
    d("exports.testimonies.fabrique_id", "Its Fabrique.", "public"),
    d(
        "exports.testimonies.territory_id",
        "The territory the speaker speaks for; empty when none.",
        "public",
    ),
    d(
        "exports.testimonies.speaker",
        "Who speaks (published testimonies only).",
        "public",
    ),
    d(
        "exports.testimonies.role",
        "The speaker's role (mayor, president of an EPCI...); empty when not given.",
        "public",
    ),
    d(
        "exports.testimonies.quote",
        "What they said; empty for a video alone.",
        "public",
    ),
    d(
        "exports.testimonies.media_url",
        "The address of a video or recording; empty when none.",
        "public",
    ),
    d(
        "exports.testimonies.given_on",
        "When it was given; empty when unknown.",
        "public",
    ),
    d(
        "exports.testimonies.published",
        "`true` when published (the public sees published ones only).",
        "public",
    ),
];

/// `docs/data-dictionary.md`.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Data dictionary\n\nGenerated from `crates/api/src/dictionary.rs` by `fabriques dictionary --output docs/data-dictionary.md`\n(also served as JSON at `GET /api/v1/stats/dictionary`); a test fails when a figure of the\nAPI has no definition here or this file differs from the code.\n\nEvery figure is counted by the database, identical on SQLite and PostgreSQL: it sums the\ncounts that each write keeps per Fabrique and per participation (territory tokens, whose rows\ndepend on their own territory, get the same figures aggregated from the tables themselves).\n\n",
    );
    out.push_str(SELECTION);
    out.push_str("\n\n| figure | definition | who may read it |\n|---|---|---|\n");
    for f in FIGURES {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            f.name,
            f.definition,
            if f.audience == "public" {
                "everyone"
            } else {
                "analysts, ANCT staff, admins"
            }
        ));
    }
    out.push_str(
        "\n## Columns of the CSV exports\n\n\
         A text cell that a spreadsheet would read as a formula (one starting with `=`, `+`, \
         `-`, `@`, a tab or a carriage return, unless it is a plain number such as `-1.5`) is \
         written with a leading `'`, so that it shows as the text it is.\n\n\
         | column | definition | who may read it |\n|---|---|---|\n",
    );
    for c in COLUMNS {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            c.name,
            c.definition,
            match c.audience {
                "public" => "everyone (open data, Licence Ouverte 2.0)",
                "anct" => "ANCT (admins, ANCT staff)",
                _ => "analysts, ANCT staff, admins",
            }
        ));
    }
    out
}
