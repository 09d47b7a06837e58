//! The OpenAPI 3.1 document: generated from the handlers registered with `.service()`, plus
//! the bearer security scheme and the tags. `openapi/openapi.json` is its committed copy.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fabriques prospectives API",
        description = "Reference API of ANCT's Fabriques prospectives: one-year programmes in which ANCT accompanies 4 to 8 territories on a theme, with partners, a contractor (prestataire), seminars and a roadmap (feuille de route) per territory.\n\nErrors are `application/problem+json` (RFC 9457) with a stable `code`. Lists use keyset pagination (`limit`, `cursor`, `next_cursor`, `Link: rel=\"next\"`). Filters take comma-separated or repeated values; unknown query parameters are refused with 400.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
        version = "0.1.0"
    ),
    servers((url = "/", description = "This server")),
    // Schemas only query parameters refer to (utoipa collects those of bodies by itself).
    components(schemas(
        crate::edge::error::Problem,
        crate::edge::params::RegionParam,
        crate::edge::params::DepartmentParam,
        crate::edge::params::CodeParam,
        crate::edge::params::FabriqueSort,
        crate::edge::params::NameSort,
        crate::edge::params::CreationSort,
        crate::edge::params::SeminarSort,
        crate::edge::routes::events::FeedStart,
        crate::edge::routes::exports::Separator,
        domain::query::Dataset,
        domain::query::BreakdownBy,
    )),
    modifiers(&Security),
    tags(
        (name = "fabriques", description = "Fabriques prospectives, their partners, transitions and history"),
        (name = "participations", description = "Participations (candidatures / territoires accompagnés)"),
        (name = "seminars", description = "Local and intersite seminars (séminaires locaux / intersites)"),
        (name = "working groups", description = "Local working groups (groupes de travail locaux); personal data"),
        (name = "roadmaps", description = "Roadmaps (feuilles de route) and action programmes, with their actions"),
        (name = "lessons", description = "National lessons (enseignements nationaux) and programme proposals"),
        (name = "testimonies", description = "Testimonies of elected officials (témoignages d'élus)"),
        (name = "funding", description = "Funding lines (financements) and totals"),
        (name = "programmes", description = "ANCT programmes a Fabrique can be tied to"),
        (name = "events", description = "The change feed (journal) for synchronisation"),
        (name = "external ids", description = "Partner organizations' own ids for our resources"),
        (name = "territories", description = "Territories (collectivités)"),
        (name = "stats", description = "Figures for the data team, computed by the database (definitions in docs/data-dictionary.md)"),
        (name = "exports", description = "CSV exports, streamed; the public ones are open data (Licence Ouverte 2.0)"),
        (name = "map", description = "The territories accompanied, as GeoJSON (RFC 7946)"),
        (name = "reference", description = "The official geography (COG 2026: communes, EPCI, departments, regions) for autocompletion; from @etalab/decoupage-administratif 6.0.0, Licence Ouverte"),
        (name = "organizations", description = "Partner organizations (partenaires)"),
        (name = "oauth", description = "Tokens for machine clients (OAuth 2.0 client credentials) and the public keys (JWKS)"),
        (name = "clients", description = "Machine clients of partner systems (admin)"),
        (name = "webhooks", description = "Signed webhooks: subscriptions and their delivery log"),
        (name = "health", description = "Probes"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_default();
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A JWT with `sub`, `role`, `iss`, `aud`, `exp` (and `org` for partners, `territory` for territories), from `POST /oauth/token` for machine clients."))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some("A machine client's `client_id:client_secret`, for `POST /oauth/token` only."))
                    .build(),
            ),
        );
    }
}

/// Builds the document the way the server does (same registrations), without serving.
pub fn spec() -> utoipa::openapi::OpenApi {
    let (_, api) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(crate::edge::routes::health::live)
        .service(crate::edge::routes::health::ready)
        .service(crate::edge::routes::oauth::create_token)
        .service(crate::edge::routes::oauth::get_jwks)
        .service(
            utoipa_actix_web::scope("/api/v1").configure(|c| crate::edge::routes::configure(c)),
        )
        .split_for_parts();
    let mut api = api;
    crate::edge::idempotency::document(&mut api);
    crate::jobs::webhooks::document(&mut api);
    crate::edge::ratelimit::document(&mut api);
    describe_responses(&mut api);
    api
}

/// The operations of these path items (GET, PUT, POST, PATCH, DELETE: the methods used here).
pub fn operations<'a>(
    items: impl Iterator<Item = &'a mut utoipa::openapi::PathItem>,
) -> impl Iterator<Item = &'a mut utoipa::openapi::path::Operation> {
    items.flat_map(|item| {
        [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
    })
}

/// Every response object needs a `description` (OpenAPI 3.1): the ones utoipa leaves empty
/// get their status's reason phrase.
fn describe_responses(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    let webhooks = api.webhooks.iter_mut().flat_map(|w| w.paths.values_mut());
    for op in operations(api.paths.paths.values_mut().chain(webhooks)) {
        for (status, response) in op.responses.responses.iter_mut() {
            if let RefOr::T(r) = response
                && r.description.is_empty()
            {
                r.description = status
                    .parse::<u16>()
                    .ok()
                    .and_then(|s| actix_web::http::StatusCode::from_u16(s).ok())
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Success")
                    .to_owned();
            }
        }
    }
}

/// The committed document (`openapi/openapi.json`), which the server serves: a test keeps it
/// equal to [`document`]. Building the document at start would cost about 20 MB of heap that
/// the allocator keeps for the life of the process.
pub const COMMITTED: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../openapi/openapi.json"
));

/// The document as served and committed: utoipa's, with the document-wide rules of
/// [`super::contract`] applied.
pub fn document() -> serde_json::Value {
    // utoipa's types always serialize; an empty document would fail every contract test.
    let mut doc = serde_json::to_value(spec()).unwrap_or_default();
    super::contract::apply(&mut doc);
    doc
}

pub fn spec_json() -> String {
    let mut s = serde_json::to_string_pretty(&document()).unwrap_or_default();
    s.push('\n');
    s
}
