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
//! - 500 is declared on every operation, and 503 (the database is unavailable, with
//!   `Retry-After`) on every operation but the liveness probe.
//! - No text a request carries may hold the NUL character, and a body's text that may not be
//!   empty may not be blank: every free string of a request body or parameter says so with a
//!   pattern ([`NO_NUL`], [`NOT_BLANK`]).
//! - A calendar day or an instant a request carries is held to what the server takes
//!   ([`domain::parse_day`], [`domain::parse_instant`]): its `format: date` or `date-time` gets
//!   the pattern of the range ([`domain::dates::DAY_PATTERN`],
//!   [`domain::dates::INSTANT_PATTERN`]) and its
//!   description says it ([`dates`]).
//! - What a request body's fields must satisfy together, or a field beyond its type, as the
//!   domain checks it ([`request_rules`]): the official codes of a territory by its kind, the
//!   bindings of a machine client by its role, both coordinates or neither.

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

/// The operations that never touch the database, hence never answer 503.
const WITHOUT_DATABASE: [&str; 1] = ["get_liveness"];

pub fn apply(doc: &mut Value) {
    events(doc);
    tiers(doc);
    required(doc);
    request_rules(doc);
    dates(doc);
    no_nul(doc);
    list_limits(doc);
    super::guard::document(doc);
    problem_codes(doc);
    scopes(doc);
    headers(doc);
    tags(doc);
}

/// The OAuth 2.0 client-credentials scheme (what Swagger UI's Authorize offers a machine
/// client), and on every operation that takes a bearer token the scope it needs of a client's
/// token: `read` for GET, `write` for the others (as `edge::context` checks it), with the 403
/// its absence answers.
fn scopes(doc: &mut Value) {
    doc["components"]["securitySchemes"]["oauth2"] = json!({
        "type": "oauth2",
        "description": "A machine client's token from `POST /oauth/token` (client credentials). A client may be limited to some scopes; an operator's token (`fabriques token`) holds both.",
        "flows": {"clientCredentials": {
            "tokenUrl": "/oauth/token",
            "scopes": {
                "read": "Read what the client's role may see (GET, HEAD)",
                "write": "Change what the client's role may change (POST, PUT, PATCH, DELETE)"
            }
        }}
    });
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let scope = if method == "get" || method == "head" {
                "read"
            } else {
                "write"
            };
            let Some(security) = op.get_mut("security").and_then(Value::as_array_mut) else {
                continue;
            };
            if !security.iter().any(|s| s.get("bearer").is_some()) {
                continue;
            }
            security.push(json!({"oauth2": [scope]}));
            let responses = &mut op["responses"];
            if responses.get("403").is_none() {
                responses["403"] = json!({
                    "description": "The token lacks the scope this operation needs (`insufficient_scope`)",
                    "content": {"application/problem+json": {"schema": schema_ref("Problem")}}
                });
            }
        }
    }
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

/// Every operation of the document, to change.
pub fn operations_mut(doc: &mut Value) -> impl Iterator<Item = &mut Value> {
    doc.get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
}

/// The component schemas reachable from these members of every operation (`requestBody`,
/// `parameters`, `responses`).
fn reachable_from(doc: &Value, members: &[&str]) -> BTreeSet<String> {
    let roots: Vec<&Value> = operations(doc)
        .flat_map(|op| members.iter().map(move |m| &op[*m]))
        .collect();
    let empty = Map::new();
    let all = doc["components"]["schemas"].as_object().unwrap_or(&empty);
    reachable(all, &roots)
}

fn required(doc: &mut Value) {
    let requests = reachable_from(doc, &["requestBody", "parameters"]);
    let answers = {
        let mut answers: Vec<&Value> = operations(doc).map(|op| &op["responses"]).collect();
        if let Some(hooks) = doc["webhooks"].as_object() {
            answers.extend(hooks.values());
        }
        let empty = Map::new();
        let all = doc["components"]["schemas"].as_object().unwrap_or(&empty);
        reachable(all, &answers)
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

/// The pattern of text without NUL: valid JSON and valid in a URL, but no database text column
/// stores it, so the server refuses it (422 `invalid_character` in a body, 400 in a query).
pub const NO_NUL: &str = "^[^\\x00]*$";

/// The pattern of text without NUL that is not blank either: at least one character that is
/// not Unicode whitespace (what Rust's `str::trim` removes, listed). A body's field that may
/// not be empty may not be blank ([`super::extract::not_blank`]): the conversions to the
/// domain trim what they store.
pub const NOT_BLANK: &str = "^[^\\x00]*[^\\x00\\t-\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000][^\\x00]*$";

/// Gives every free string of the requests (no `enum`, `const`, `format` or `pattern` of its
/// own, which exclude NUL already) the [`NO_NUL`] pattern, or [`NOT_BLANK`] for a body's text
/// with a `minLength`: the body schemas the requests refer to, and the parameters.
fn no_nul(doc: &mut Value) {
    fn is_string(schema: &Map<String, Value>) -> bool {
        match &schema.get("type") {
            Some(Value::String(t)) => t == "string",
            Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
            _ => false,
        }
    }
    fn walk(v: &mut Value, body: bool) {
        match v {
            Value::Object(o) => {
                if is_string(o)
                    && !["enum", "const", "format", "pattern", "$ref"]
                        .iter()
                        .any(|k| o.contains_key(*k))
                {
                    let non_empty = o
                        .get("minLength")
                        .and_then(Value::as_u64)
                        .is_some_and(|n| n >= 1);
                    let pattern = if body && non_empty { NOT_BLANK } else { NO_NUL };
                    o.insert("pattern".into(), json!(pattern));
                }
                // The clauses of `request_rules` only narrow fields declared (and walked) above.
                o.iter_mut()
                    .filter(|(k, _)| !matches!(k.as_str(), "if" | "then" | "else"))
                    .for_each(|(_, v)| walk(v, body));
            }
            Value::Array(a) => a.iter_mut().for_each(|v| walk(v, body)),
            _ => {}
        }
    }
    let requests = reachable_from(doc, &["requestBody"]);
    let parameters = reachable_from(doc, &["parameters"]);
    let schemas = schemas(doc);
    for name in &requests {
        if let Some(schema) = schemas.get_mut(name) {
            walk(schema, true);
        }
    }
    for name in parameters.difference(&requests) {
        if let Some(schema) = schemas.get_mut(name) {
            walk(schema, false);
        }
    }
    for op in operations_mut(doc) {
        if let Some(v) = op.get_mut("requestBody") {
            walk(v, true);
        }
        if let Some(v) = op.get_mut("parameters") {
            walk(v, false);
        }
    }
}

/// Every list query parameter takes at most [`MAX_LIST_ITEMS`] values, as
/// [`crate::edge::params::list`] enforces.
///
/// [`MAX_LIST_ITEMS`]: crate::edge::params::MAX_LIST_ITEMS
fn list_limits(doc: &mut Value) {
    for parameter in operations_mut(doc)
        .filter_map(|op| op.get_mut("parameters").and_then(Value::as_array_mut))
        .flatten()
        .filter(|p| p["in"] == "query")
    {
        let schema = &mut parameter["schema"];
        let array = match &schema["type"] {
            Value::String(t) => t == "array",
            Value::Array(ts) => ts.iter().any(|t| t == "array"),
            _ => false,
        };
        if let (true, Some(o)) = (array, schema.as_object_mut()) {
            o.insert(
                "maxItems".into(),
                json!(crate::edge::params::MAX_LIST_ITEMS),
            );
        }
    }
}

/// What the description of a request's calendar day says, after its own.
pub fn day_rule() -> String {
    format!(
        "A day from {} to {}, written `YYYY-MM-DD`.",
        domain::dates::FIRST_DAY,
        domain::dates::LAST_DAY
    )
}

/// What the description of a request's instant says, after its own.
pub const INSTANT_RULE: &str =
    "RFC 3339 with its offset (`Z` or `±HH:MM`), in the years 0001 to 9999.";

/// The pattern and the sentence of a schema of `format: date` or `date-time`.
fn date_rule(schema: &Map<String, Value>) -> Option<(&'static str, String)> {
    match schema.get("format").and_then(Value::as_str) {
        Some("date") => Some((domain::dates::DAY_PATTERN, day_rule())),
        Some("date-time") => Some((domain::dates::INSTANT_PATTERN, INSTANT_RULE.to_owned())),
        _ => None,
    }
}

fn add_sentence(o: &mut Map<String, Value>, sentence: &str) {
    let said = o
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim_end();
    let description = if said.is_empty() {
        sentence.to_owned()
    } else {
        format!("{said} {sentence}")
    };
    o.insert("description".into(), json!(description));
}

/// Gives every calendar day and instant of the requests (the body schemas they refer to, and
/// the parameters) the pattern of what the server takes, and says it in the description
/// (a parameter's own). `format` alone admits `0000-01-01` and `9999-12-31`.
fn dates(doc: &mut Value) {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(o) => {
                if let Some((pattern, sentence)) = date_rule(o) {
                    o.insert("pattern".into(), json!(pattern));
                    add_sentence(o, &sentence);
                }
                o.values_mut().for_each(walk);
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let requests = reachable_from(doc, &["requestBody", "parameters"]);
    let schemas = schemas(doc);
    for name in &requests {
        if let Some(schema) = schemas.get_mut(name) {
            walk(schema);
        }
    }
    for op in operations_mut(doc) {
        if let Some(v) = op.get_mut("requestBody") {
            walk(v);
        }
        let Some(parameters) = op.get_mut("parameters").and_then(Value::as_array_mut) else {
            continue;
        };
        for parameter in parameters.iter_mut().filter_map(Value::as_object_mut) {
            let rule = parameter
                .get("schema")
                .and_then(Value::as_object)
                .and_then(date_rule);
            if let Some((pattern, sentence)) = rule {
                if let Some(schema) = parameter.get_mut("schema").and_then(Value::as_object_mut) {
                    schema.insert("pattern".into(), json!(pattern));
                }
                add_sentence(parameter, &sentence);
            }
        }
    }
}

/// `then` when the body's `field` is one of `values` (JSON Schema 2020-12 `if`/`then`).
fn when(field: &str, values: &[&str], then: Value) -> Value {
    json!({
        "if": { "properties": { field: { "enum": values } }, "required": [field] },
        "then": then,
    })
}

/// `field` present and not null, matching `schema`.
fn given(field: &str, schema: Value) -> Value {
    json!({ "required": [field], "properties": { field: schema } })
}

/// `field` absent or null.
fn left_out(field: &str) -> Value {
    json!({ "properties": { field: { "type": "null" } } })
}

/// Both of two fields given, or neither (null counts as absent).
fn both_or_neither(a: &str, b: &str) -> Vec<Value> {
    let given_number = |f: &str| given(f, json!({ "type": "number" }));
    vec![
        json!({ "if": given_number(a), "then": given_number(b) }),
        json!({ "if": given_number(b), "then": given_number(a) }),
    ]
}

/// What the domain checks beyond each field's type, said where JSON Schema can say it: the
/// clauses are added to the schema's `allOf`, the field constraints to the field. (What it
/// cannot say stays in the descriptions: dates in order, territory bounds in order, codes
/// that exist in the official geography, the SIREN checksum, references to other resources.)
fn request_rules(doc: &mut Value) {
    use domain::codes::REGION_CODES;
    use domain::{DepartmentCode, InseeCode, Role, Siren, TerritoryKind};

    let kinds = |pred: fn(TerritoryKind) -> bool| -> Vec<&'static str> {
        TerritoryKind::ALL
            .iter()
            .copied()
            .filter(|k| pred(*k))
            .map(TerritoryKind::as_str)
            .collect()
    };
    let siren_kinds = kinds(TerritoryKind::uses_siren);
    let department = json!({ "type": ["string", "null"], "pattern": DepartmentCode::PATTERN });
    let mut regions: Vec<Value> = REGION_CODES.iter().map(|r| json!(r)).collect();
    regions.push(Value::Null);
    let region = json!({ "type": ["string", "null"], "enum": regions });

    let territory_code = vec![
        when(
            "kind",
            &["commune"],
            given(
                "code",
                json!({ "type": "string", "pattern": InseeCode::PATTERN }),
            ),
        ),
        when(
            "kind",
            &siren_kinds,
            given(
                "code",
                json!({ "type": "string", "pattern": Siren::PATTERN }),
            ),
        ),
        when(
            "kind",
            &["departement"],
            given(
                "code",
                json!({ "type": "string", "pattern": DepartmentCode::PATTERN }),
            ),
        ),
        when(
            "kind",
            &["region"],
            given("code", json!({ "type": "string", "enum": REGION_CODES })),
        ),
        when("kind", &["other"], left_out("code")),
        // Without a kind, the code decides it: an INSEE code, a SIREN, or a department code
        // that is not also a region's.
        json!({
            "if": { "not": { "required": ["kind"] } },
            "then": given("code", json!({
                "type": "string",
                "anyOf": [
                    { "pattern": InseeCode::PATTERN },
                    { "pattern": Siren::PATTERN },
                    { "pattern": DepartmentCode::PATTERN, "not": { "enum": REGION_CODES } },
                ],
            })),
        }),
        when(
            "kind",
            &["petr", "other"],
            given("name", json!({ "type": "string" })),
        ),
    ];
    let client_roles: Vec<&str> = Role::ALL
        .iter()
        .filter(|r| **r != Role::Admin)
        .map(|r| r.as_str())
        .collect();
    let client_binding = vec![
        when(
            "role",
            &["partner"],
            given("organization_id", json!({ "type": "string" })),
        ),
        json!({
            "if": { "properties": { "role": { "const": "territory" } }, "required": ["role"] },
            "then": {
                "required": ["territory_id"],
                "properties": {
                    "territory_id": { "type": "string" },
                    "organization_id": { "type": "null" },
                },
            },
            "else": left_out("territory_id"),
        }),
    ];

    let schemas = schemas(doc);
    let mut rule = |name: &str, fields: Vec<(&str, Value)>, clauses: Vec<Value>| {
        let Some(schema) = schemas.get_mut(name) else {
            return;
        };
        for (field, constraint) in fields {
            let prop = &mut schema["properties"][field];
            if let (Some(prop), Value::Object(c)) = (prop.as_object_mut(), constraint) {
                // A field given its own type no longer refers to the shared one (`role`).
                if c.contains_key("type") {
                    prop.remove("$ref");
                }
                prop.extend(c);
            }
        }
        if !clauses.is_empty() {
            schema["allOf"] = Value::Array(clauses);
        }
    };
    rule(
        "CreateTerritoryRequest",
        vec![
            ("department", department.clone()),
            ("region", region.clone()),
        ],
        [territory_code, both_or_neither("latitude", "longitude")].concat(),
    );
    rule(
        "UpdateTerritoryRequest",
        vec![("department", department), ("region", region)],
        Vec::new(),
    );
    rule(
        "CreateClientRequest",
        vec![("role", json!({ "type": "string", "enum": client_roles }))],
        client_binding,
    );
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
            "RetryAfter": {
                "description": "Seconds to wait before retrying.",
                "schema": { "type": "integer", "minimum": 0 },
            },
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
            },
            "ServiceUnavailable": {
                "description": "The database is unavailable (`database_unavailable`): unreachable, read-only, full, a statement timed out, or the transaction was rolled back to settle a conflict with a concurrent one (nothing written). Retry after `Retry-After` seconds",
                "headers": {
                    "Retry-After": { "$ref": "#/components/headers/RetryAfter" },
                    "x-request-id": { "$ref": "#/components/headers/RequestId" },
                    "Server-Timing": { "$ref": "#/components/headers/ServerTiming" },
                    "RateLimit": { "$ref": "#/components/headers/RateLimit" },
                    "RateLimit-Policy": { "$ref": "#/components/headers/RateLimitPolicy" },
                },
                "content": { "application/problem+json": { "schema": schema_ref("Problem") } },
            }
    });
    let reference = |name: &str| json!({ "$ref": format!("#/components/headers/{name}") });
    for op in operations_mut(doc) {
        let id = op["operationId"].as_str().unwrap_or_default().to_owned();
        let probe = PROBES.contains(&id.as_str());
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
            if status == "503" {
                headers["Retry-After"] = reference("RetryAfter");
            }
        }
        responses
            .entry("500")
            .or_insert_with(|| json!({ "$ref": "#/components/responses/InternalError" }));
        if !WITHOUT_DATABASE.contains(&id.as_str()) {
            responses
                .entry("503")
                .or_insert_with(|| json!({ "$ref": "#/components/responses/ServiceUnavailable" }));
        }
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
