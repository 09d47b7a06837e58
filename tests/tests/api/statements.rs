//! The lean read path: every read of the spec, by callers of every kind, costs at most 2 SQL
//! statements for a single resource and 3 for a page, whatever the page size, plus at most 1
//! to work out a partner's or a territory's access. The server counts the statements itself
//! (`Server-Timing`, turned on for these tests); nothing here assumes a number.

use fabriques_api::auth::Role;
use fabriques_api::config::ServiceOptions;
use reqwest::Method;

use crate::both_engines;
use crate::helpers::{TestApp, test_options};
use crate::world::world;

fn counted() -> ServiceOptions {
    ServiceOptions {
        server_timing: true,
        ..test_options()
    }
}

both_engines!(with super::counted(); every_read_costs_two_statements_and_a_page_three);

/// The statements an answer says it took.
pub fn statements(r: &crate::helpers::Resp) -> u32 {
    let timing = r
        .headers
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no Server-Timing header"));
    let desc = timing
        .split(';')
        .find_map(|p| p.trim().strip_prefix("desc=\""))
        .and_then(|d| d.strip_suffix(" statements\""))
        .unwrap_or_else(|| panic!("Server-Timing without a statement count: {timing}"));
    desc.parse().unwrap()
}

async fn every_read_costs_two_statements_and_a_page_three(app: TestApp) {
    let w = world(&app).await;
    let (run, admin, machine) = (&w.run, w.admin.clone(), w.machine.clone());
    let f = run.fabrique.clone();
    let callers: Vec<(&str, Option<String>, u32)> = vec![
        ("anonymous", None, 0),
        ("admin", Some(admin.clone()), 0),
        (
            "a partner",
            Some(app.token(Role::Partner, Some(&run.contractor), None)),
            1,
        ),
        (
            "a territory",
            Some(app.token(Role::Territory, None, Some(&run.territories[0]))),
            1,
        ),
        ("a partner's machine client", Some(machine.clone()), 1),
        ("an analyst", Some(app.token(Role::Analyst, None, None)), 0),
    ];

    let spec = fabriques_api::edge::openapi::document();
    let mut checked = 0;
    let mut over = Vec::new();
    for (template, item) in spec["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let Some(rest) = template.strip_prefix("/api/v1") else {
            continue;
        };
        let schema = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_default();
        let limit = if schema.ends_with("Page") {
            3
        } else if schema.ends_with("Response") {
            2
        } else {
            // Figures, the map, the exports and the spec itself are not resources.
            continue;
        };
        let path = w.fill(rest);
        let path = format!("/api/v1{path}");
        for (who, token, access) in &callers {
            let r = app.raw(Method::GET, &path, token.as_deref(), None).await;
            if !r.status.is_success() {
                continue;
            }
            let n = statements(&r);
            checked += 1;
            if n > limit + access {
                over.push(format!(
                    "{who}: GET {path}: {n} statements (at most {limit} + {access})"
                ));
            }
        }
    }
    assert!(over.is_empty(), "{}", over.join("\n"));
    assert!(checked > 100, "only {checked} reads were counted");

    // A page costs the same whatever its size.
    for limit in [1, 50, 200] {
        let r = app
            .raw(
                Method::GET,
                &format!("/api/v1/fabriques/{f}/participations?limit={limit}"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(statements(&r), 2, "limit={limit}");
    }
}
