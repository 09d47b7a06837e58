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
