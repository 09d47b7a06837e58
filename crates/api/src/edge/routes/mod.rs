//! One module per endpoint group; `configure` registers every handler with `.service()` so
//! that each reaches the OpenAPI document.

pub mod clients;
pub mod events;
pub mod exports;
pub mod external_ids;
pub mod fabriques;
pub mod funding;
pub mod health;
pub mod lessons;
pub mod map;
pub mod oauth;
pub mod organizations;
pub mod participations;
pub mod programmes;
pub mod progress;
pub mod reference;
pub mod roadmaps;
pub mod seminars;
pub mod stats;
pub mod territories;
pub mod testimonies;
pub mod webhooks;
pub mod working_groups;

use actix_web::dev::HttpServiceFactory;
use utoipa_actix_web::OpenApiFactory;
use utoipa_actix_web::service_config::ServiceConfig;

/// Where the handlers are registered: the server's own actix configuration, or utoipa's,
/// which also gathers the OpenAPI document (`openapi::spec`). Each server worker registers
/// with actix alone: gathering the document cost each worker about 9 MiB at start, which
/// glibc kept (the document served is the committed one).
pub trait Register {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static;
}

impl Register for ServiceConfig<'_> {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        ServiceConfig::service(self, factory)
    }
}

impl Register for actix_web::web::ServiceConfig {
    fn service<F>(&mut self, factory: F) -> &mut Self
    where
        F: HttpServiceFactory + OpenApiFactory + 'static,
    {
        actix_web::web::ServiceConfig::service(self, factory)
    }
}

/// Declares the answer of a `GET …/transitions`: the current status and every action with
/// where it leads and what blocks it now, built from the store's [`store::fabriques::Transitions`].
#[macro_export]
macro_rules! transitions_schema {
    ($list:ident, $one:ident, $action:ty, $status:ty) => {
        /// One possible action and what blocks it now.
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $one {
            pub action: $action,
            pub to: $status,
            pub allowed: bool,
            /// Every unmet condition (empty when allowed).
            pub blockers: Vec<::store::problem::FieldProblem>,
        }

        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $list {
            pub status: $status,
            pub transitions: Vec<$one>,
        }

        impl From<::store::fabriques::Transitions<$action, $status>> for $list {
            fn from(t: ::store::fabriques::Transitions<$action, $status>) -> Self {
                $list {
                    status: t.status,
                    transitions: t
                        .actions
                        .into_iter()
                        .map(|(action, to, blockers)| $one {
                            action,
                            to,
                            allowed: blockers.is_empty(),
                            blockers: ::store::problem::of_blockers(&blockers),
                        })
                        .collect(),
                }
            }
        }
    };
}

/// Everything under `/api/v1`.
pub fn configure<C: Register>(cfg: &mut C) {
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
        .service(fabriques::create_fabrique_correction)
        .service(fabriques::create_fabrique_transition)
        .service(fabriques::get_fabrique_history)
        .service(participations::list_fabrique_participations)
        .service(participations::create_participation)
        .service(participations::list_participations)
        .service(participations::get_participation)
        .service(participations::update_participation)
        .service(participations::list_participation_transitions)
        .service(participations::create_participation_transition)
        .service(programmes::list_programmes)
        .service(programmes::create_programme)
        .service(programmes::get_programme)
        .service(programmes::update_programme)
        .service(programmes::delete_programme)
        .service(seminars::list_seminars)
        .service(seminars::list_fabrique_seminars)
        .service(seminars::create_intersite_seminar)
        .service(seminars::list_participation_seminars)
        .service(seminars::create_local_seminar)
        .service(seminars::get_seminar)
        .service(seminars::update_seminar)
        .service(seminars::list_seminar_transitions)
        .service(seminars::create_seminar_transition)
        .service(seminars::create_seminar_correction)
        .service(lessons::list_lessons)
        .service(lessons::list_all_lessons)
        .service(lessons::create_lesson)
        .service(lessons::get_lesson)
        .service(lessons::update_lesson)
        .service(lessons::delete_lesson)
        .service(working_groups::list_working_group_members)
        .service(working_groups::create_working_group_member)
        .service(working_groups::get_working_group_member)
        .service(working_groups::update_working_group_member)
        .service(working_groups::delete_working_group_member)
        .service(roadmaps::get_roadmap)
        .service(roadmaps::put_roadmap)
        .service(roadmaps::create_roadmap_action)
        .service(roadmaps::get_roadmap_action)
        .service(roadmaps::update_roadmap_action)
        .service(roadmaps::delete_roadmap_action)
        .service(roadmaps::list_roadmap_transitions)
        .service(roadmaps::create_roadmap_transition)
        .service(testimonies::list_testimonies)
        .service(testimonies::list_fabrique_testimonies)
        .service(testimonies::create_testimony)
        .service(testimonies::get_testimony)
        .service(testimonies::update_testimony)
        .service(testimonies::delete_testimony)
        .service(funding::list_funding_lines)
        .service(funding::get_funding_summary)
        .service(funding::create_funding_line)
        .service(funding::get_funding_line)
        .service(funding::update_funding_line)
        .service(funding::delete_funding_line)
        .service(progress::get_fabrique_progress)
        .service(events::list_events)
        .service(external_ids::list_external_ids)
        .service(external_ids::get_external_id)
        .service(external_ids::put_external_id)
        .service(external_ids::delete_external_id)
        .service(map::get_map_territories)
        .service(exports::get_datapackage)
        .service(exports::export_csv)
        .service(stats::get_stats_overview)
        .service(stats::get_stats_breakdown)
        .service(stats::get_stats_dictionary)
        .service(reference::list_reference_communes)
        .service(reference::get_reference_commune)
        .service(reference::list_reference_epci)
        .service(reference::get_reference_epci)
        .service(reference::list_reference_departments)
        .service(reference::list_reference_regions)
        .service(clients::list_clients)
        .service(clients::create_client)
        .service(clients::get_client)
        .service(clients::revoke_client)
        .service(clients::rotate_client_secret)
        .service(webhooks::list_webhooks)
        .service(webhooks::create_webhook)
        .service(webhooks::get_webhook)
        .service(webhooks::update_webhook)
        .service(webhooks::delete_webhook)
        .service(webhooks::list_webhook_deliveries)
        .service(webhooks::redeliver_webhook_delivery);
}
