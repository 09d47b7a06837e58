//! One module per endpoint group; `configure` registers every handler with `.service()` so
//! that each reaches the OpenAPI document.

pub mod fabriques;
pub mod health;
pub mod organizations;
pub mod participations;
pub mod territories;

use utoipa_actix_web::service_config::ServiceConfig;

/// Everything under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(organizations::list_organizations)
        .service(organizations::create_organization)
        .service(organizations::get_organization)
        .service(organizations::update_organization)
        .service(organizations::delete_organization)
        .service(territories::list_territories)
        .service(territories::create_territory)
        .service(territories::get_territory)
        .service(territories::update_territory)
        .service(territories::delete_territory)
        .service(fabriques::list_fabriques)
        .service(fabriques::create_fabrique)
        .service(fabriques::get_fabrique)
        .service(fabriques::update_fabrique)
        .service(fabriques::delete_fabrique)
        .service(fabriques::list_partners)
        .service(fabriques::put_partner)
        .service(fabriques::delete_partner)
        .service(fabriques::list_fabrique_transitions)
        .service(fabriques::create_fabrique_transition)
        .service(fabriques::get_fabrique_history)
        .service(participations::list_fabrique_participations)
        .service(participations::create_participation)
        .service(participations::list_participations)
        .service(participations::get_participation)
        .service(participations::update_participation)
        .service(participations::list_participation_transitions)
        .service(participations::create_participation_transition);
}
