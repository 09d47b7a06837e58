//! Every cell of the role × permission matrix, table-driven from the code's own table, and the
//! committed `docs/permissions.md` checked against it.

use fabriques_api::auth::{Grant, Permission, Role, grant};
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::TestApp;
use crate::year::running_fabrique;

#[test]
fn the_committed_permissions_document_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/permissions.md"
    ))
    .expect("docs/permissions.md");
    assert!(
        committed == fabriques_api::auth::permissions_markdown(),
        "docs/permissions.md is stale: run `cargo run -p fabriques-api -- permissions --output docs/permissions.md`"
    );
}

both_engines!(every_cell_of_the_permission_matrix_holds);

/// One caller, and whether the scoped resources of the test are theirs.
struct Who {
    label: &'static str,
    role: Role,
    token: String,
    in_scope: bool,
}

fn expected(who: &Who, perm: Permission) -> bool {
    match grant(who.role, perm) {
        Grant::Always => true,
        Grant::Never => false,
        Grant::OwnTerritory | Grant::FabriquePartner | Grant::AnyPartnerRole => who.in_scope,
    }
}

async fn every_cell_of_the_permission_matrix_holds(app: TestApp) {
    // A running Fabrique F with two active participations P1 (territory T1) and P2 (T2);
    // P1's roadmap is submitted; intersite seminar 1 exists; a draft D and a cancelled C.
    let run = running_fabrique(&app, 2).await;
    let f = run.fabrique.clone();
    let (p1, t1, t2) = (
        run.participations[0].clone(),
        run.territories[0].clone(),
        run.territories[1].clone(),
    );
    let today = chrono::Utc::now().date_naive().to_string();
    assert_eq!(
        app.post(
            &format!("/api/v1/fabriques/{f}/seminars"),
            json!({"number": 1, "scheduled_on": today})
        )
        .await
        .status,
        201
    );
    let rm = format!("/api/v1/participations/{p1}/roadmap");
    app.raw(
        Method::PUT,
        &rm,
        Some(&app.admin),
        Some(json!({"kind": "roadmap", "title": "Feuille de route"})),
    )
    .await;
    app.post(&format!("{rm}/actions"), json!({"title": "Action"}))
        .await;
    assert_eq!(
        app.post(&format!("{rm}/transitions"), json!({"action": "submit"}))
            .await
            .status,
        200
    );
    let draft = app
        .post("/api/v1/fabriques", json!({"title": "Brouillon"}))
        .await
        .id();
    let cancelled = app
        .post("/api/v1/fabriques", json!({"title": "Annulée"}))
        .await
        .id();
    app.post(
        &format!("/api/v1/fabriques/{cancelled}/transitions"),
        json!({"action": "cancel", "reason": "test"}),
    )
    .await;
    let outsider = app.org("Organisation tierce", "public_operator").await;
    // An application of T1 to a recruiting Fabrique: not public (only accompanied
    // participations are), so another territory may not know it exists.
    let (recruiting, _) = app.ready_fabrique(1, 8).await;
    app.transition(
        &format!("/api/v1/fabriques/{recruiting}"),
        "open_recruitment",
    )
    .await;
    let applied = app.apply(&recruiting, &t1).await.id();
    let existing_commune = app.territory("Lorient", "commune", "56121").await;
    let _ = existing_commune;

    let who = vec![
        Who {
            label: "admin",
            role: Role::Admin,
            token: app.admin.clone(),
            in_scope: true,
        },
        Who {
            label: "anct_staff",
            role: Role::AnctStaff,
            token: app.token(Role::AnctStaff, None, None),
            in_scope: true,
        },
        Who {
            label: "partner (co-animator of F)",
            role: Role::Partner,
            token: app.token(Role::Partner, Some(&run.co_animator), None),
            in_scope: true,
        },
        Who {
            label: "partner (contractor of F)",
            role: Role::Partner,
            token: app.token(Role::Partner, Some(&run.contractor), None),
            in_scope: true,
        },
        Who {
            label: "partner (not in F)",
            role: Role::Partner,
            token: app.token(Role::Partner, Some(&outsider), None),
            in_scope: false,
        },
        Who {
            label: "territory T1",
            role: Role::Territory,
            token: app.token(Role::Territory, None, Some(&t1)),
            in_scope: true,
        },
        Who {
            label: "territory T2",
            role: Role::Territory,
            token: app.token(Role::Territory, None, Some(&t2)),
            in_scope: false,
        },
        Who {
            label: "analyst",
            role: Role::Analyst,
            token: app.token(Role::Analyst, None, None),
            in_scope: true,
        },
    ];

    // One representative request per permission. Allowed callers get past the permission check
    // (2xx, or a 409/422 from the rules); denied ones get 403, or 404 when they may not know
    // the resource exists. None of these requests changes what the others depend on.
    let p = |s: &str| s.to_owned();
    let cases: Vec<(Permission, Method, String, Option<Value>)> = vec![
        (
            Permission::ReadDirectory,
            Method::GET,
            p("/api/v1/organizations"),
            None,
        ),
        (
            Permission::WriteOrganizations,
            Method::POST,
            p("/api/v1/organizations"),
            Some(json!({"name": "Nouvelle", "kind": "other"})),
        ),
        (
            Permission::WriteTerritories,
            Method::POST,
            p("/api/v1/territories"),
            Some(json!({"name": "Lorient", "kind": "commune", "code": "56121"})),
        ),
        (
            Permission::ManageProgrammes,
            Method::POST,
            p("/api/v1/programmes"),
            Some(json!({"name": "Agenda rural"})),
        ),
        (
            Permission::ReadDrafts,
            Method::GET,
            format!("/api/v1/fabriques/{draft}"),
            None,
        ),
        (
            Permission::WriteFabriques,
            Method::PATCH,
            format!("/api/v1/fabriques/{f}"),
            Some(json!({"min_territories": 2})),
        ),
        (
            Permission::TransitionFabriques,
            Method::POST,
            format!("/api/v1/fabriques/{f}/transitions"),
            Some(json!({"action": "cancel"})),
        ),
        (
            Permission::WritePartners,
            Method::PUT,
            format!("/api/v1/fabriques/{cancelled}/partners/{outsider}"),
            Some(json!({"roles": ["co_animator"]})),
        ),
        (
            Permission::ReadParticipations,
            Method::GET,
            format!("/api/v1/participations/{applied}"),
            None,
        ),
        (
            Permission::Apply,
            Method::POST,
            format!("/api/v1/fabriques/{f}/participations"),
            Some(json!({"territory_id": t1})),
        ),
        (
            Permission::DecideParticipations,
            Method::POST,
            format!("/api/v1/participations/{p1}/transitions"),
            Some(json!({"action": "accept"})),
        ),
        (
            Permission::Withdraw,
            Method::POST,
            format!("/api/v1/participations/{p1}/transitions"),
            Some(json!({"action": "withdraw"})),
        ),
        (
            Permission::UpdateParticipations,
            Method::PATCH,
            format!("/api/v1/participations/{p1}"),
            Some(json!({"focus": "foncier"})),
        ),
        (
            Permission::ReadHistory,
            Method::GET,
            format!("/api/v1/fabriques/{f}/history"),
            None,
        ),
        (
            Permission::ReadPersonalData,
            Method::GET,
            format!("/api/v1/participations/{p1}/working-group-members"),
            None,
        ),
        (
            Permission::WriteSeminars,
            Method::POST,
            format!("/api/v1/fabriques/{f}/seminars"),
            Some(json!({"number": 1, "scheduled_on": today})),
        ),
        (
            Permission::WriteWorkingGroups,
            Method::POST,
            format!("/api/v1/participations/{p1}/working-group-members"),
            Some(json!({"name": "Membre", "category": "resident"})),
        ),
        (
            Permission::WriteRoadmaps,
            Method::PUT,
            rm.clone(),
            Some(json!({"kind": "roadmap", "title": "Modifiée"})),
        ),
        (
            Permission::AdoptRoadmaps,
            Method::POST,
            format!("{rm}/transitions"),
            Some(json!({"action": "adopt"})),
        ),
        (
            Permission::WriteLessons,
            Method::POST,
            format!("/api/v1/fabriques/{f}/lessons"),
            Some(json!({"title": "Enseignement", "kind": "lesson"})),
        ),
        (
            Permission::WriteTestimonies,
            Method::POST,
            format!("/api/v1/fabriques/{f}/testimonies"),
            Some(json!({"speaker": "Élue"})),
        ),
        (
            Permission::ReadFunding,
            Method::GET,
            format!("/api/v1/fabriques/{f}/funding-summary"),
            None,
        ),
        (
            Permission::WriteFunding,
            Method::POST,
            format!("/api/v1/fabriques/{f}/funding-lines"),
            Some(json!({"organization_id": outsider, "kind": "co_funding", "amount_cents": 100})),
        ),
        (
            Permission::ManageExternalIds,
            Method::PUT,
            p("/api/v1/external-ids/fabrique/EXT-1"),
            Some(json!({"entity_id": f})),
        ),
        (
            Permission::ManageClients,
            Method::GET,
            p("/api/v1/clients"),
            None,
        ),
        (
            Permission::ManageWebhooks,
            Method::GET,
            p("/api/v1/webhooks"),
            None,
        ),
        // Nothing to correct: 422 for who may, 403 for the others; nothing changes.
        (
            Permission::CorrectRecords,
            Method::POST,
            format!("/api/v1/fabriques/{f}/corrections"),
            Some(json!({"reason": "matrice"})),
        ),
        // Detailed figures: the overview is public, funding appears only with the permission.
        (
            Permission::ReadStats,
            Method::GET,
            p("/api/v1/stats/overview"),
            None,
        ),
    ];
    assert_eq!(
        cases.len(),
        Permission::ALL.len(),
        "one case per permission"
    );

    let mut failures = Vec::new();
    for (perm, method, path, body) in &cases {
        for w in &who {
            let r = app
                .raw(method.clone(), path, Some(&w.token), body.clone())
                .await;
            let status = r.status.as_u16();
            let allowed = expected(w, *perm);
            let ok = if *perm == Permission::ReadStats {
                status == 200 && r.body.get("funding").is_some() == allowed
            } else if allowed {
                !matches!(status, 401 | 403 | 404) && status < 500
            } else {
                matches!(status, 403 | 404)
            };
            if !ok {
                failures.push(format!(
                    "{} × {}: expected {}, got {status} {}",
                    perm.as_str(),
                    w.label,
                    if allowed { "allowed" } else { "denied" },
                    r.body
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cell(s) wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

both_engines!(a_write_the_role_may_never_make_is_403_before_its_body_is_read);

/// Every write operation of the document, tried by every role that never holds any of its
/// permissions (`x-fabriques-permissions`), with a body that is wrong in every way: the answer
/// is 403 `forbidden`, naming a permission, never the 422 (or 404) of a body or a resource
/// the caller may not touch anyway.
async fn a_write_the_role_may_never_make_is_403_before_its_body_is_read(app: TestApp) {
    let doc: Value = serde_json::from_str(fabriques_api::edge::openapi::COMMITTED).unwrap();
    let someone = "00000000-0000-4000-8000-000000000001";
    let callers = [
        (Role::Partner, app.token(Role::Partner, Some(someone), None)),
        (
            Role::Territory,
            app.token(Role::Territory, None, Some(someone)),
        ),
        (Role::Analyst, app.token(Role::Analyst, None, None)),
        (Role::AnctStaff, app.token(Role::AnctStaff, None, None)),
        (Role::Admin, app.admin.clone()),
    ];
    let mut refused = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(perms) = op["x-fabriques-permissions"].as_array() else {
                continue;
            };
            let perms: Vec<Permission> = perms
                .iter()
                .map(|p| {
                    *Permission::ALL
                        .iter()
                        .find(|q| q.as_str() == p.as_str().unwrap())
                        .unwrap_or_else(|| panic!("unknown permission {p}"))
                })
                .collect();
            let url: String = path
                .split('/')
                .map(|seg| if seg.starts_with('{') { someone } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for (role, token) in &callers {
                if perms.iter().any(|p| grant(*role, *p) != Grant::Never) {
                    continue;
                }
                let r = app
                    .raw(
                        method.clone(),
                        &url,
                        Some(token),
                        Some(json!({"no_such_field": [1, 2], "name": ""})),
                    )
                    .await;
                assert_eq!(r.status, 403, "{method} {path} as {role:?}: {}", r.body);
                assert_eq!(r.body["code"], "forbidden", "{method} {path} as {role:?}");
                let detail = r.body["detail"].as_str().unwrap();
                assert!(
                    perms.iter().any(|p| detail.contains(p.as_str())),
                    "{method} {path} as {role:?}: {detail}"
                );
                refused += 1;
            }
        }
    }
    // Partners, territories and analysts may never make most writes: the sweep is not empty.
    assert!(refused >= 60, "only {refused} refusals were checked");
}
