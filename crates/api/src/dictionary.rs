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
    /// `public`, or `analyst` (analysts, ANCT staff and admins).
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

/// `docs/data-dictionary.md`.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Data dictionary\n\nGenerated from `crates/api/src/dictionary.rs` by `fabriques dictionary --output docs/data-dictionary.md`\n(also served as JSON at `GET /api/v1/stats/dictionary`); a test fails when a figure of the\nAPI has no definition here or this file differs from the code.\n\nEvery figure is one SQL aggregation computed by the database, identical on SQLite and\nPostgreSQL.\n\n",
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
    out
}
