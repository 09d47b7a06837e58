//! Who may even try a write: a caller whose role never holds the permission of a write is
//! refused 403 before its body is read. A partner sending a bad body to an operation it may
//! never make learns that it may not (403), not what is wrong with the body (422).
//!
//! Policy: [`WRITES`] names, for every write operation of the document (`POST`, `PUT`, `PATCH`,
//! `DELETE` under `/api/v1`), the permissions one of which it needs: a transition's depends on
//! its action, so each possible one is listed. The middleware finds the request's operation by
//! the paths of the committed document (read once at start), works out the caller's `Access`
//! (kept for the handler), and answers 403 `forbidden` when the role holds none of them.
//! Without a token, or with an invalid one, the request goes on: the handler answers 401. The
//! scoped checks (its own territory, a partner of this Fabrique) stay with the write itself,
//! which needs the resource. The document shows each operation's permissions
//! (`x-fabriques-permissions`); a test checks that every write operation is in the table.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ResourceDef, ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::{ResponseError, web};
use domain::{Grant, Permission};

use super::error::ApiError;

use Permission as P;

/// The permissions of each write operation (any one of them lets the write be tried).
pub const WRITES: &[(&str, &[Permission])] = &[
    ("create_client", &[P::ManageClients]),
    ("revoke_client", &[P::ManageClients]),
    ("rotate_client_secret", &[P::ManageClients]),
    ("put_external_id", &[P::ManageExternalIds]),
    ("delete_external_id", &[P::ManageExternalIds]),
    ("create_fabrique", &[P::WriteFabriques]),
    ("update_fabrique", &[P::WriteFabriques]),
    ("delete_fabrique", &[P::WriteFabriques]),
    ("put_partner", &[P::WritePartners]),
    ("delete_partner", &[P::WritePartners]),
    ("create_fabrique_transition", &[P::TransitionFabriques]),
    ("create_fabrique_correction", &[P::CorrectRecords]),
    ("create_seminar_correction", &[P::CorrectRecords]),
    ("create_funding_line", &[P::WriteFunding]),
    ("update_funding_line", &[P::WriteFunding]),
    ("delete_funding_line", &[P::WriteFunding]),
    ("create_lesson", &[P::WriteLessons]),
    ("update_lesson", &[P::WriteLessons]),
    ("delete_lesson", &[P::WriteLessons]),
    ("create_organization", &[P::WriteOrganizations]),
    ("update_organization", &[P::WriteOrganizations]),
    ("delete_organization", &[P::WriteOrganizations]),
    ("create_participation", &[P::Apply]),
    ("update_participation", &[P::UpdateParticipations]),
    (
        "create_participation_transition",
        &[P::DecideParticipations, P::Withdraw],
    ),
    ("create_programme", &[P::ManageProgrammes]),
    ("update_programme", &[P::ManageProgrammes]),
    ("delete_programme", &[P::ManageProgrammes]),
    ("put_roadmap", &[P::WriteRoadmaps]),
    ("create_roadmap_action", &[P::WriteRoadmaps]),
    ("update_roadmap_action", &[P::WriteRoadmaps]),
    ("delete_roadmap_action", &[P::WriteRoadmaps]),
    (
        "create_roadmap_transition",
        &[P::WriteRoadmaps, P::AdoptRoadmaps],
    ),
    ("create_intersite_seminar", &[P::WriteSeminars]),
    ("create_local_seminar", &[P::WriteSeminars]),
    ("update_seminar", &[P::WriteSeminars]),
    ("create_seminar_transition", &[P::WriteSeminars]),
    ("create_territory", &[P::WriteTerritories]),
    ("update_territory", &[P::WriteTerritories]),
    ("delete_territory", &[P::WriteTerritories]),
    ("create_testimony", &[P::WriteTestimonies]),
    ("update_testimony", &[P::WriteTestimonies]),
    ("delete_testimony", &[P::WriteTestimonies]),
    ("create_webhook", &[P::ManageWebhooks]),
    ("update_webhook", &[P::ManageWebhooks]),
    ("delete_webhook", &[P::ManageWebhooks]),
    ("redeliver_webhook_delivery", &[P::ManageWebhooks]),
    ("create_working_group_member", &[P::WriteWorkingGroups]),
    ("update_working_group_member", &[P::WriteWorkingGroups]),
    ("delete_working_group_member", &[P::WriteWorkingGroups]),
];

/// The permissions of the operation `id`, if it is a write.
pub fn permissions_of(id: &str) -> Option<&'static [Permission]> {
    WRITES.iter().find(|(op, _)| *op == id).map(|(_, p)| *p)
}

/// The write operations of the committed document: path, method and permissions.
pub struct WriteRoutes(Vec<(ResourceDef, Method, &'static [Permission])>);

impl WriteRoutes {
    /// Reads the paths, methods and operation ids of an OpenAPI document (JSON); an operation
    /// missing from [`WRITES`] is an error (the contract test says which).
    pub fn from_document(json: &str) -> anyhow::Result<Self> {
        #[derive(serde::Deserialize)]
        struct Op {
            #[serde(rename = "operationId")]
            operation_id: String,
        }
        #[derive(serde::Deserialize)]
        struct Doc {
            paths: std::collections::BTreeMap<
                String,
                std::collections::BTreeMap<String, serde_json::Value>,
            >,
        }
        let doc: Doc = serde_json::from_str(json)?;
        let mut routes = Vec::new();
        for (path, item) in doc.paths.iter().filter(|(p, _)| p.starts_with("/api/v1/")) {
            for (method, op) in item {
                let method = match method.as_str() {
                    "post" => Method::POST,
                    "put" => Method::PUT,
                    "patch" => Method::PATCH,
                    "delete" => Method::DELETE,
                    _ => continue,
                };
                let op: Op = serde_json::from_value(op.clone())?;
                let perms = permissions_of(&op.operation_id).ok_or_else(|| {
                    anyhow::anyhow!(
                        "write operation {} is not in edge::guard::WRITES",
                        op.operation_id
                    )
                })?;
                routes.push((ResourceDef::new(path.as_str()), method, perms));
            }
        }
        Ok(WriteRoutes(routes))
    }

    fn permissions(&self, method: &Method, path: &str) -> Option<&'static [Permission]> {
        self.0
            .iter()
            .find(|(def, m, _)| m == method && def.is_match(path))
            .map(|(_, _, p)| *p)
    }
}

/// The middleware: 403 before the body is read when the caller's role holds none of the
/// write's permissions.
pub async fn guard(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let needed = req
        .app_data::<web::Data<WriteRoutes>>()
        .and_then(|routes| routes.permissions(req.method(), req.path()));
    if let Some(needed) = needed
        && let Ok(access) = crate::auth::token::access(req.request()).await
        && !access.is_public()
        && needed.iter().all(|p| access.grant(*p) == Grant::Never)
    {
        let refused = ApiError::Forbidden(needed[0].as_str().to_owned());
        return Ok(req.into_response(refused.error_response()));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Shows each write operation's permissions in the document (`x-fabriques-permissions`).
pub fn document(doc: &mut serde_json::Value) {
    for op in super::contract::operations_mut(doc) {
        let Some(perms) = op["operationId"].as_str().and_then(permissions_of) else {
            continue;
        };
        let names: Vec<&str> = perms.iter().map(|p| p.as_str()).collect();
        op["x-fabriques-permissions"] = serde_json::json!(names);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::participation::ParticipationAction;
    use domain::roadmap::RoadmapAction;

    /// A transition's permission depends on its action: each one is in the table.
    #[test]
    fn every_action_of_a_transition_is_listed() {
        let listed = |id| permissions_of(id).unwrap_or_default();
        for a in [
            ParticipationAction::Accept,
            ParticipationAction::Reject,
            ParticipationAction::Withdraw,
        ] {
            let p = store::participations::permission_of(a);
            assert!(
                listed("create_participation_transition").contains(&p),
                "{a:?}"
            );
        }
        for &a in RoadmapAction::ALL {
            let p = store::roadmaps::permission_of(a);
            assert!(listed("create_roadmap_transition").contains(&p), "{a:?}");
        }
    }

    #[test]
    fn the_committed_document_names_every_write() {
        WriteRoutes::from_document(crate::edge::openapi::COMMITTED).unwrap();
    }
}
