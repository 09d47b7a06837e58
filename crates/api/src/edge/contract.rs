//! Rules the whole OpenAPI document follows, applied to its JSON once utoipa has built it from
//! the handlers: what no single handler or type can say.
//!
//! - The history's and the feed's events are typed per entity type: each is a `oneOf` of one
//!   variant per entity type, told apart by `entity_type`, whose `state` is that entity's
//!   read model ([`store::journal::state_schemas`]).
//! - Each tiered property says who sees it (`x-fabriques-tier`, and its description), from
//!   the tiers the read models declare ([`store::tiers::all`]).
//! - Every property a response always carries is `required`. Only tiered properties, the
//!   `total` of a page and [`OMITTED`] may be left out; the tests check every answer they
//!   receive against these schemas.
//! - `Problem.code` enumerates the catalogue ([`super::problems::CODES`]).
//! - The headers the server sends are declared: `x-request-id` (and `Server-Timing`, when
//!   turned on) on every answer, the `RateLimit` pair on every answer but the probes', `Link`
//!   on every page.
//! - 500 is declared on every operation.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

/// Response properties left out when empty (each has `skip_serializing_if` in its type),
/// beyond the tiered ones and the pages' `total`.
pub const OMITTED: &[(&str, &str)] = &[
    ("Overview", "funding"),
    ("Problem", "errors"),
    ("Problem", "blockers"),
];

/// The event schemas typed per entity type.
const EVENTS: [&str; 2] = ["EventResponse", "FeedEventResponse"];

const PROBES: [&str; 2] = ["get_liveness", "get_readiness"];

pub fn apply(doc: &mut Value) {
    events(doc);
    tiers(doc);
    required(doc);
    problem_codes(doc);
    headers(doc);
    tags(doc);
}

fn schemas(doc: &mut Value) -> &mut Map<String, Value> {
    let schemas = &mut doc["components"]["schemas"];
    if !schemas.is_object() {
        *schemas = json!({});
    }
    match schemas {
        Value::Object(m) => m,
        _ => unreachable!("set to an object above"),
    }
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn events(doc: &mut Value) {
    let states = store::journal::state_schemas();
    let schemas = schemas(doc);
    for base_name in EVENTS {
        let Some(base) = schemas.remove(base_name) else {
            continue;
        };
        let description = base["description"].clone();
        let mut variants = Vec::new();
        let mut mapping = Map::new();
        for (entity_type, state) in &states {
            let name = format!("{}{base_name}", pascal(entity_type.as_str()));
            let mut variant = base.clone();
            variant["description"] = json!(format!(
                "{} About a `{}`: `state` is a `{state}`.",
                description.as_str().unwrap_or_default(),
                entity_type.as_str()
            ));
            let props = &mut variant["properties"];
            props["entity_type"] = json!({ "type": "string", "enum": [entity_type.as_str()] });
            let mut state_ref = schema_ref(state);
            if let Some(d) = props["state"].get("description") {
                state_ref["description"] = d.clone();
            }
            props["state"] = state_ref;
            mapping.insert(
                entity_type.as_str().into(),
                json!(format!("#/components/schemas/{name}")),
            );
            variants.push(schema_ref(&name));
            schemas.insert(name, variant);
        }
        schemas.insert(
            base_name.into(),
            json!({
                "description": description,
                "oneOf": variants,
                "discriminator": { "propertyName": "entity_type", "mapping": mapping },
            }),
        );
    }
}

/// The tiered fields of each schema.
fn tiered() -> BTreeMap<&'static str, Vec<(&'static str, domain::Tier)>> {
    let mut out: BTreeMap<_, Vec<_>> = BTreeMap::new();
    for (_, schema, fields) in store::tiers::all() {
        out.entry(schema)
            .or_default()
            .extend(fields.iter().copied());
    }
    out
}

fn tiers(doc: &mut Value) {
    let schemas = schemas(doc);
    for (schema, fields) in tiered() {
        for (field, tier) in fields {
            // A tiered field missing from the schema is caught by the contract tests.
            let Some(prop) = schemas
                .get_mut(schema)
                .and_then(|s| s.get_mut("properties"))
                .and_then(|p| p.get_mut(field))
            else {
                continue;
            };
            let said = prop["description"].as_str().unwrap_or_default().trim_end();
            let shown = format!("Shown to {}; left out for anyone else.", tier.audience());
            prop["description"] = json!(if said.is_empty() {
                shown
            } else {
                format!("{said}\n\n{shown}")
            });
            prop["x-fabriques-tier"] = json!(tier.as_str());
        }
    }
}

/// The component schemas `root` refers to, directly or through other schemas.
fn reachable(schemas: &Map<String, Value>, roots: &[&Value]) -> BTreeSet<String> {
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                for (k, v) in o {
                    match (k.as_str(), v) {
                        ("$ref", Value::String(r)) => {
                            if let Some(name) = r.strip_prefix("#/components/schemas/") {
                                out.push(name.to_owned());
                            }
                        }
                        _ => refs(v, out),
                    }
                }
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut todo = Vec::new();
    roots.iter().for_each(|r| refs(r, &mut todo));
    let mut seen = BTreeSet::new();
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone())
            && let Some(s) = schemas.get(&name)
        {
            refs(s, &mut todo);
        }
    }
    seen
}

fn operations(doc: &Value) -> impl Iterator<Item = &Value> {
    doc["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
}

fn required(doc: &mut Value) {
    let (answers, requests) = {
        let mut answers: Vec<&Value> = Vec::new();
        let mut requests: Vec<&Value> = Vec::new();
        for op in operations(doc) {
            answers.push(&op["responses"]);
            requests.push(&op["requestBody"]);
            requests.push(&op["parameters"]);
        }
        if let Some(hooks) = doc["webhooks"].as_object() {
            answers.extend(hooks.values());
        }
        let empty = Map::new();
        let all = doc["components"]["schemas"].as_object().unwrap_or(&empty);
        (reachable(all, &answers), reachable(all, &requests))
    };
    let tiered = tiered();
    let schemas = schemas(doc);
    for name in answers.difference(&requests) {
        let Some(schema) = schemas.get_mut(name) else {
            continue;
        };
        let Some(props) = schema["properties"].as_object() else {
            continue;
        };
        let optional = |field: &str| {
            tiered
                .get(name.as_str())
                .is_some_and(|f| f.iter().any(|(t, _)| *t == field))
                || OMITTED.contains(&(name.as_str(), field))
                || (name.ends_with("Page") && field == "total")
        };
        let fields: Vec<Value> = props
            .keys()
            .filter(|k| !optional(k))
            .map(|k| json!(k))
            .collect();
        schema["required"] = Value::Array(fields);
    }
}

fn problem_codes(doc: &mut Value) {
    let codes: Vec<Value> = super::problems::CODES
        .iter()
        .map(|(c, _, _)| json!(c))
        .collect();
    let code = &mut schemas(doc)["Problem"]["properties"]["code"];
    code["enum"] = Value::Array(codes);
    code["description"] = json!(
        "Stable snake_case code of the kind of error; clients branch on it (the catalogue: docs/problems.md)."
    );
}

fn headers(doc: &mut Value) {
    let header =
        |description: &str| json!({ "description": description, "schema": { "type": "string" } });
    doc["components"]["headers"] = json!({
            "RequestId": header("The request id: the client's own `x-request-id` when it sent a short printable one, else a new UUID. Quote it when reporting a problem."),
            "RateLimit": header("`\"fabriques\";r=<remaining>;t=<seconds to reset>` (IETF draft), when rate limits are on (the default)."),
            "RateLimitPolicy": header("`\"fabriques\";q=<requests>;w=60` (IETF draft), when rate limits are on (the default)."),
            "ServerTiming": header("`db;dur=<ms>;desc=\"<n> statements\"`: the SQL statements this answer took. Sent only when the operator turns it on (`--server-timing`), for benchmarks and diagnosis."),
            "Link": header("`<this list with the next cursor>; rel=\"next\"`, unless this is the last page."),
    });
    doc["components"]["responses"] = json!({
            "InternalError": {
                "description": "Our fault: the cause is logged; quote the request id when reporting it",
                "headers": {
                    "x-request-id": { "$ref": "#/components/headers/RequestId" },
                    "Server-Timing": { "$ref": "#/components/headers/ServerTiming" },
                    "RateLimit": { "$ref": "#/components/headers/RateLimit" },
                    "RateLimit-Policy": { "$ref": "#/components/headers/RateLimitPolicy" },
                },
                "content": { "application/problem+json": { "schema": schema_ref("Problem") } },
            }
    });
    let reference = |name: &str| json!({ "$ref": format!("#/components/headers/{name}") });
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for op in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        let probe = op["operationId"]
            .as_str()
            .is_some_and(|id| PROBES.contains(&id));
        let Some(responses) = op["responses"].as_object_mut() else {
            continue;
        };
        for (status, response) in responses.iter_mut() {
            if response.get("$ref").is_some() {
                continue;
            }
            let is_page = status == "200"
                && response["content"]["application/json"]["schema"]["$ref"]
                    .as_str()
                    .is_some_and(|r| r.ends_with("Page"));
            let headers = &mut response["headers"];
            headers["x-request-id"] = reference("RequestId");
            headers["Server-Timing"] = reference("ServerTiming");
            if !probe {
                headers["RateLimit"] = reference("RateLimit");
                headers["RateLimit-Policy"] = reference("RateLimitPolicy");
            }
            if is_page {
                headers["Link"] = reference("Link");
            }
        }
        responses
            .entry("500")
            .or_insert_with(|| json!({ "$ref": "#/components/responses/InternalError" }));
    }
}

fn tags(doc: &mut Value) {
    if let Some(tags) = doc["tags"].as_array_mut() {
        tags.push(json!({
            "name": "webhook events",
            "description": "What the server POSTs to a subscribed client's URL (see the `webhooks` entry)",
        }));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pascal_case_of_entity_types() {
        assert_eq!(super::pascal("working_group_member"), "WorkingGroupMember");
        assert_eq!(super::pascal("fabrique"), "Fabrique");
    }
}
