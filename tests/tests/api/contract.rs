//! The committed spec is the contract: it must be exactly what the code generates.

#[test]
fn the_committed_openapi_document_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../openapi/openapi.json"
    ))
    .expect("openapi/openapi.json is committed");
    let generated = fabriques_api::edge::openapi::spec_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -p fabriques-api -- openapi --output openapi/openapi.json`"
    );
}

#[test]
fn every_operation_has_an_id_a_tag_a_summary_and_its_errors() {
    let spec: serde_json::Value =
        serde_json::from_str(&fabriques_api::edge::openapi::spec_json()).unwrap();
    let mut ids = std::collections::HashSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
            assert_eq!(
                op["tags"].as_array().map(Vec::len),
                Some(1),
                "{id}: one tag"
            );
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{id}: summary"
            );
            assert!(op.get("security").is_some(), "{id}: security");
            let responses = op["responses"].as_object().unwrap();
            if path.starts_with("/api/") {
                assert!(responses.contains_key("400"), "{id}: 400");
                if op["security"].to_string().contains("bearer") {
                    assert!(responses.contains_key("401"), "{id}: 401");
                }
            }
        }
    }
}

#[test]
fn the_committed_problem_catalogue_matches_the_code() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/problems.md"))
            .expect("docs/problems.md is committed");
    assert!(
        committed == fabriques_api::edge::problems::markdown(),
        "docs/problems.md is stale: run `cargo run -p fabriques-api -- problems --output docs/problems.md`"
    );
}

#[test]
fn the_spec_enumerates_every_problem_code_once() {
    let spec: serde_json::Value =
        serde_json::from_str(&fabriques_api::edge::openapi::spec_json()).unwrap();
    let listed: Vec<&str> = spec["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
        .as_array()
        .expect("Problem.code is an enum")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let catalogue: Vec<&str> = fabriques_api::edge::problems::CODES
        .iter()
        .map(|(c, _, _)| *c)
        .collect();
    assert_eq!(listed, catalogue);
    let mut unique = catalogue.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), catalogue.len(), "a code is listed twice");
}

#[test]
fn every_tiered_field_says_who_sees_it_and_is_optional() {
    let spec = fabriques_api::edge::openapi::document();
    let schemas = &spec["components"]["schemas"];
    let mut count = 0;
    for (_, schema, fields) in store::tiers::all() {
        for (field, tier) in fields {
            let prop = &schemas[schema]["properties"][field];
            assert_eq!(
                prop["x-fabriques-tier"].as_str(),
                Some(tier.as_str()),
                "{schema}.{field}"
            );
            assert!(
                prop["description"]
                    .as_str()
                    .is_some_and(|d| d.contains(tier.audience())),
                "{schema}.{field}: its description says who sees it"
            );
            let required = schemas[schema]["required"].as_array().unwrap();
            assert!(
                !required.iter().any(|r| r == field),
                "{schema}.{field} is tiered, so it may be left out"
            );
            count += 1;
        }
    }
    assert!(count >= 10, "{count} tiered fields");
}

#[test]
fn every_answer_declares_its_headers_and_every_operation_500() {
    let spec = fabriques_api::edge::openapi::document();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("500"), "{id}: 500");
            for (status, r) in responses {
                if r.get("$ref").is_some() {
                    continue;
                }
                assert!(
                    r["headers"].get("x-request-id").is_some(),
                    "{id} {status}: x-request-id"
                );
                if path.starts_with("/api/") {
                    assert!(
                        r["headers"].get("RateLimit").is_some(),
                        "{id} {status}: RateLimit"
                    );
                }
                let page = r["content"]["application/json"]["schema"]["$ref"]
                    .as_str()
                    .is_some_and(|s| s.ends_with("Page"));
                if status == "200" && page {
                    assert!(r["headers"].get("Link").is_some(), "{method} {path}: Link");
                }
            }
        }
    }
}

/// The links the API serves back (websites, media) carry the server's own https pattern.
#[test]
fn every_link_field_declares_the_https_pattern() {
    let doc = fabriques_api::edge::openapi::document();
    let mut seen = 0;
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        if !(name.starts_with("Create") || name.starts_with("Update")) {
            continue;
        }
        for field in ["website", "media_url"] {
            let Some(p) = schema["properties"].get(field) else {
                continue;
            };
            assert_eq!(
                p["pattern"],
                fabriques_api::edge::extract::HTTPS_URL_PATTERN,
                "{name}.{field}"
            );
            seen += 1;
        }
    }
    assert_eq!(seen, 4, "website and media_url, on create and update");
}
