//! Every answer the tests receive through [`crate::helpers::TestApp::raw`] is checked against
//! the OpenAPI document: its status must be declared for the operation, and a JSON body must
//! match the declared schema (formats included). So each `required` property, each enum and
//! each typed `state` of the spec is checked against what the server really sends, in every
//! scenario of the suite, on both engines.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::{Value, json};

struct Spec {
    doc: Value,
    /// (method, path template split in segments)
    routes: Vec<(String, Vec<String>, String)>,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

static SPEC: LazyLock<Spec> = LazyLock::new(|| {
    let doc = fabriques_api::edge::openapi::document();
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            routes.push((
                method.to_uppercase(),
                path.split('/').map(str::to_owned).collect(),
                path.clone(),
            ));
        }
    }
    Spec {
        doc,
        routes,
        validators: Mutex::default(),
    }
});

/// The template of `path` for `method`: the one with the most literal segments.
fn template(method: &str, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    SPEC.routes
        .iter()
        .filter(|(m, t, _)| {
            m == method
                && t.len() == segments.len()
                && t.iter().zip(&segments).all(|(t, s)| {
                    (t.starts_with('{') && t.ends_with('}') && !s.is_empty())
                        || t == s
                        // `/exports/{dataset}.csv`
                        || (t.starts_with('{') && t.contains("}.") && s.ends_with(&t[t.find("}.").unwrap() + 1..]))
                })
        })
        .max_by_key(|(_, t, _)| t.iter().filter(|s| !s.starts_with('{')).count())
        .map(|(_, _, p)| p.clone())
}

fn validator(key: &str, schema: &Value) -> Arc<jsonschema::Validator> {
    let mut cache = SPEC.validators.lock().unwrap();
    cache
        .entry(key.to_owned())
        .or_insert_with(|| {
            let mut root = schema.clone();
            if let Some(obj) = root.as_object_mut() {
                obj.insert("components".into(), SPEC.doc["components"].clone());
            } else {
                root = json!({ "allOf": [schema], "components": SPEC.doc["components"] });
            }
            Arc::new(
                jsonschema::draft202012::options()
                    .should_validate_formats(true)
                    .build(&root)
                    .unwrap_or_else(|e| panic!("the schema of {key} does not compile: {e}")),
            )
        })
        .clone()
}

/// Whether the document admits `value` as an instance of its component schema `name` (a
/// request body, say): what the server must then accept, data rules aside.
pub fn admits(name: &str, value: &Value) -> bool {
    let schema = json!({ "$ref": format!("#/components/schemas/{name}") });
    validator(&format!("schema {name}"), &schema).is_valid(value)
}

/// Whether the document admits `value` for the schema `schema` (a parameter's, say).
pub fn admits_value(key: &str, schema: &Value, value: &Value) -> bool {
    validator(key, schema).is_valid(value)
}

/// The document as served.
pub fn document() -> &'static Value {
    &SPEC.doc
}

/// Checks one answer; panics with what is wrong.
pub fn check(method: &str, url_path: &str, status: u16, content_type: &str, body: &Value) {
    let path = url_path.split('?').next().unwrap_or_default();
    let Some(template) = template(method, path) else {
        // Unknown paths (404/405 tests) are not operations of the spec.
        return;
    };
    let op = &SPEC.doc["paths"][&template][method.to_lowercase()];
    let responses = &op["responses"];
    let key = status.to_string();
    let family = format!("{}XX", status / 100);
    let Some(mut response) = responses
        .get(&key)
        .or_else(|| responses.get(&family))
        .or_else(|| responses.get("default"))
    else {
        panic!(
            "{method} {template} answered {status}, which the spec does not declare ({:?}): {body}",
            responses.as_object().map(|r| r.keys().collect::<Vec<_>>())
        );
    };
    if let Some(r) = response["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap();
        response = &SPEC.doc["components"]["responses"][name];
    }
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if !(media == "application/json" || media.ends_with("+json")) || status == 304 {
        return;
    }
    let Some(schema) = response["content"][media].get("schema") else {
        panic!("{method} {template} {status}: the spec declares no {media} body");
    };
    let v = validator(&format!("{method} {template} {status} {media}"), schema);
    let errors: Vec<String> = v
        .iter_errors(body)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {url_path} {status}: the body does not match the spec:\n  {}\nbody: {}",
        errors.join("\n  "),
        serde_json::to_string(body)
            .unwrap_or_default()
            .chars()
            .take(2000)
            .collect::<String>()
    );
}

#[test]
#[should_panic(expected = "does not match the spec")]
fn the_check_refuses_an_answer_without_a_required_field() {
    check(
        "GET",
        "/api/v1/programmes/0190d5a0-0000-7000-8000-000000000000",
        200,
        "application/json",
        &json!({"id": "0190d5a0-0000-7000-8000-000000000000"}),
    );
}

#[test]
#[should_panic(expected = "does not match the spec")]
fn the_check_refuses_a_state_of_the_wrong_entity_type() {
    let event = json!({
        "id": "0190d5a0-0000-7000-8000-000000000000",
        "occurred_at": "2026-01-01T00:00:00Z",
        "actor": {"role": "admin", "organization_id": null, "territory_id": null},
        "action": "programme.created",
        "entity_type": "programme",
        "entity_id": "0190d5a0-0000-7000-8000-000000000000",
        "request_id": null,
        "state": {"not": "a programme"},
    });
    check(
        "GET",
        "/api/v1/fabriques/0190d5a0-0000-7000-8000-000000000000/history",
        200,
        "application/json",
        &json!({"items": [event], "next_cursor": null}),
    );
}

#[test]
#[should_panic(expected = "which the spec does not declare")]
fn the_check_refuses_an_undeclared_status() {
    check(
        "GET",
        "/api/v1/programmes",
        418,
        "application/json",
        &json!({}),
    );
}
