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

/// Every schema of `format: date` or `date-time` a request carries: the properties of the body
/// schemas the operations refer to (directly or through other schemas) and the parameters,
/// each with where it is and its description (a parameter's own).
pub fn request_dates(doc: &serde_json::Value) -> Vec<(String, serde_json::Value, String)> {
    use serde_json::Value;
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                if let Some(r) = o.get("$ref").and_then(Value::as_str) {
                    out.extend(r.strip_prefix("#/components/schemas/").map(str::to_owned));
                }
                o.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    fn dated(v: &Value, at: String, out: &mut Vec<(String, Value, String)>) {
        match v {
            Value::Object(o) => {
                if matches!(
                    o.get("format").and_then(Value::as_str),
                    Some("date" | "date-time")
                ) {
                    let description = o["description"].as_str().unwrap_or_default().to_owned();
                    out.push((at.clone(), v.clone(), description));
                }
                for (k, v) in o {
                    dated(
                        v,
                        format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            Value::Array(a) => {
                for (i, v) in a.iter().enumerate() {
                    dated(v, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    let mut todo = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            refs(&op["requestBody"], &mut todo);
            refs(&op["parameters"], &mut todo);
            let at = format!("{} {path}", method.to_uppercase());
            dated(&op["requestBody"], format!("{at} requestBody"), &mut out);
            for p in op["parameters"].as_array().into_iter().flatten() {
                if matches!(p["schema"]["format"].as_str(), Some("date" | "date-time")) {
                    let description = p["description"].as_str().unwrap_or_default().to_owned();
                    out.push((
                        format!("{at} {}", p["name"]),
                        p["schema"].clone(),
                        description,
                    ));
                }
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone()) {
            let schema = &doc["components"]["schemas"][&name];
            refs(schema, &mut todo);
            dated(schema, format!("#/components/schemas/{name}"), &mut out);
        }
    }
    out
}

/// Every `$ref` of the document points at something it defines (utoipa collects the schemas
/// of bodies, not those only a query parameter names).
#[test]
fn every_reference_of_the_document_resolves() {
    use serde_json::Value;
    fn walk(v: &Value, doc: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref")
                    && let Some(pointer) = r.strip_prefix('#')
                    && doc.pointer(pointer).is_none()
                {
                    out.push(r.clone());
                }
                m.values().for_each(|v| walk(v, doc, out));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, doc, out)),
            _ => {}
        }
    }
    let doc = fabriques_api::edge::openapi::document();
    let mut dangling = Vec::new();
    walk(&doc, &doc, &mut dangling);
    assert!(dangling.is_empty(), "unresolved: {dangling:?}");
}

/// Every calendar day and every instant a request carries declares the pattern of what the
/// server's parsers take (`domain::dates`) and says the range in its description.
#[test]
fn every_date_declares_the_pattern_of_its_range() {
    use domain::dates::{DAY_PATTERN, FIRST_DAY, INSTANT_PATTERN, LAST_DAY};
    let doc = fabriques_api::edge::openapi::document();
    let (mut days, mut instants) = (Vec::new(), Vec::new());
    for (at, schema, description) in request_dates(&doc) {
        if schema["format"] == "date" {
            assert_eq!(schema["pattern"], DAY_PATTERN, "{at}");
            for day in [FIRST_DAY, LAST_DAY] {
                assert!(
                    description.contains(&day.to_string()),
                    "{at}: {description}"
                );
            }
            days.push(at);
        } else {
            assert_eq!(schema["pattern"], INSTANT_PATTERN, "{at}");
            assert!(
                description.contains("0001 to 9999") && description.contains("offset"),
                "{at}: {description}"
            );
            instants.push(at);
        }
    }
    assert_eq!(days.len(), 16, "the dates of the request bodies: {days:#?}");
    assert_eq!(
        instants.len(),
        15,
        "the updated_since of the lists: {instants:#?}"
    );
}
