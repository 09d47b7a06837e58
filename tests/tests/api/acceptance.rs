//! The server accepts what the OpenAPI document admits and refuses (4xx) what it does not:
//! each scenario is a disagreement schemathesis found (`.ci/run`, `--checks all`), fixed in
//! the server or in the document, with the rules the document cannot state left to the
//! descriptions (and to `.ci/schemathesis_hooks.py`).

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_engines;
use crate::conformance::{admits, admits_value, document};
use crate::helpers::TestApp;

both_engines!(
    integral_floats_are_integers,
    if_match_lists_are_read_tag_by_tag,
    the_token_is_checked_before_the_headers,
    text_filters_are_held_to_their_length,
    empty_list_items_are_refused,
    nul_is_refused_where_the_document_says_so,
    territory_codes_follow_their_kind,
    token_requests_ignore_what_rfc_6749_says_to_ignore,
    rules_the_document_cannot_state_are_checked_by_the_server,
    blank_text_is_refused_where_text_is_required,
);

/// JSON Schema's `integer` admits `2.0` and `1e1`; so does the server, in bodies and in
/// query strings. A fractional value is still refused.
async fn integral_floats_are_integers(app: TestApp) {
    let r = app
        .post(
            "/api/v1/fabriques",
            json!({"title": "Sites industriels", "min_territories": 2.0, "max_territories": 1e1}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["min_territories"], 2);
    assert_eq!(r.body["max_territories"], 10);

    let r = app
        .post(
            "/api/v1/fabriques",
            json!({"title": "Sites industriels", "min_territories": 2.5}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/min_territories");
    assert_eq!(r.body["errors"][0]["code"], "invalid_type");

    for ok in [
        "/api/v1/fabriques?limit=1.0",
        "/api/v1/fabriques?limit=2e0&year=2027.0",
        "/api/v1/exports/fabriques.csv?year_from=2026.0&year_to=2.1e3",
        "/api/v1/reference/regions?limit=5.0",
    ] {
        let r = app.get(ok).await;
        assert_eq!(r.status, 200, "{ok}: {}", r.body);
    }
    let r = app.get("/api/v1/fabriques?limit=1.5").await;
    r.assert_problem(400, "invalid_query");
    assert_eq!(r.body["errors"][0]["pointer"], "/limit");
    app.get("/api/v1/fabriques?limit=1e400")
        .await
        .assert_problem(400, "invalid_query");
    app.get("/api/v1/fabriques?limit=NaN")
        .await
        .assert_problem(400, "invalid_query");
}

async fn send(app: &TestApp, method: Method, path: &str, headers: &[(&str, &str)]) -> u16 {
    let mut rb = app
        .client
        .request(method, format!("{}{}", app.base, path))
        .header("content-type", "application/json")
        .body("{}");
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb.send().await.unwrap().status().as_u16()
}

/// An entity tag is opaque: `"a,b"` is one tag. A list is read tag by tag (RFC 9110 §8.8.3),
/// as the document's pattern says, not split on commas.
async fn if_match_lists_are_read_tag_by_tag(app: TestApp) {
    let id = app.org("Cerema", "public_operator").await;
    let path = format!("/api/v1/organizations/{id}");
    let r = app.get(&path).await;
    let etag = r.headers["etag"].to_str().unwrap().to_owned();
    let token = format!("Bearer {}", app.admin);
    let auth = ("Authorization", token.as_str());

    let listed = format!("W/\",w0%<R\",\t\"a,b\" , {etag}");
    assert_eq!(
        send(&app, Method::PATCH, &path, &[auth, ("If-Match", &listed)]).await,
        200,
        "the current ETag after tags holding commas"
    );
    let etag = app.get(&path).await.headers["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        send(&app, Method::PATCH, &path, &[auth, ("If-Match", "\"a,b\"")]).await,
        412,
        "one well-formed tag that is not current"
    );
    for malformed in ["0", "\"a", "\"a\" \"b\"", "\"a\",", "\"a b\""] {
        let r = app
            .client
            .patch(format!("{}{path}", app.base))
            .header("Authorization", token.as_str())
            .header("If-Match", malformed)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{malformed:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["code"], "invalid_precondition", "{malformed:?}");
    }
    // The pattern the document declares agrees.
    let schema = json!({"type": "string", "pattern": fabriques_api::edge::etag::IF_MATCH_PATTERN});
    assert!(admits_value("If-Match", &schema, &json!(listed)));
    assert!(admits_value("If-Match", &schema, &json!(etag)));
    assert!(!admits_value("If-Match", &schema, &json!("0")));
}

/// Without a valid token the answer is 401, whatever `If-Match` or `Idempotency-Key` holds.
async fn the_token_is_checked_before_the_headers(app: TestApp) {
    let id = app.org("Cerema", "public_operator").await;
    let path = format!("/api/v1/organizations/{id}");
    assert_eq!(
        send(&app, Method::PATCH, &path, &[("If-Match", "0")]).await,
        401
    );
    assert_eq!(
        send(&app, Method::DELETE, &path, &[("If-Match", "0")]).await,
        401
    );
    assert_eq!(
        send(
            &app,
            Method::POST,
            "/api/v1/organizations",
            &[("Idempotency-Key", "a b")]
        )
        .await,
        401
    );
    // With a token, the malformed headers are refused for what they are.
    let token = format!("Bearer {}", app.admin);
    let auth = ("Authorization", token.as_str());
    assert_eq!(
        send(&app, Method::PATCH, &path, &[auth, ("If-Match", "0")]).await,
        400
    );
    assert_eq!(
        send(
            &app,
            Method::POST,
            "/api/v1/organizations",
            &[auth, ("Idempotency-Key", "a b")]
        )
        .await,
        400
    );
    // The document says which keys are admitted.
    let doc = document();
    let key = doc["paths"]["/api/v1/organizations"]["post"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .unwrap();
    let schema = &key["schema"];
    assert!(admits_value("Idempotency-Key", schema, &json!("retry-42")));
    assert!(!admits_value("Idempotency-Key", schema, &json!("a b")));
    assert!(!admits_value("Idempotency-Key", schema, &json!("clé")));
}

/// A text filter's `maxLength` is checked by the server (400 naming the parameter), on every
/// list, export, figure and map that takes one.
async fn text_filters_are_held_to_their_length(app: TestApp) {
    let long = |n: usize| "a".repeat(n);
    for (path, name, max) in [
        ("/api/v1/fabriques", "theme", 300),
        ("/api/v1/fabriques", "q", 300),
        ("/api/v1/exports/fabriques.csv", "theme", 300),
        ("/api/v1/stats/overview", "theme", 300),
        ("/api/v1/map/territories", "theme", 300),
        ("/api/v1/organizations", "q", 200),
        ("/api/v1/territories", "q", 200),
        ("/api/v1/reference/communes", "q", 200),
    ] {
        let ok = app.get(&format!("{path}?{name}={}", long(max))).await;
        assert_eq!(ok.status, 200, "{path} {name}: {}", ok.body);
        let r = app.get(&format!("{path}?{name}={}", long(max + 1))).await;
        r.assert_problem(400, "invalid_query");
        assert_eq!(r.body["errors"][0]["pointer"], format!("/{name}"), "{path}");
        // Characters, not bytes, as JSON Schema counts them.
        let accents = app.get(&format!("{path}?{name}={}", "é".repeat(max))).await;
        assert_eq!(accents.status, 200, "{path} {name}: {}", accents.body);
    }
}

/// A list parameter's items are what the document's item schema admits: an empty item
/// (`department=`, `running,`) is refused, not ignored, and so is an item its pattern refuses
/// (`code=/`).
async fn empty_list_items_are_refused(app: TestApp) {
    for bad in [
        "/api/v1/reference/communes?department=&department=",
        "/api/v1/fabriques?status=running,",
        "/api/v1/fabriques?status=",
        "/api/v1/territories?region=53&region=",
        "/api/v1/territories?code=%2F",
        "/api/v1/territories?code=56121&code=5612a",
    ] {
        app.get(bad).await.assert_problem(400, "invalid_query");
    }
    for ok in [
        "/api/v1/reference/communes?department=56&department=2A",
        "/api/v1/fabriques?status=running,completed",
        "/api/v1/fabriques?status=running&status=draft",
        "/api/v1/territories?code=56121&code=2A004,242900314",
    ] {
        let r = app.get(ok).await;
        assert_eq!(r.status, 200, "{ok}: {}", r.body);
    }
}

/// No text may hold NUL (no database text column stores it): the server refuses it, and the
/// document says so on every free string of a request.
async fn nul_is_refused_where_the_document_says_so(app: TestApp) {
    let r = app
        .post(
            "/api/v1/organizations",
            json!({"name": "a\u{0}b", "kind": "anct"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["code"], "invalid_character");
    app.get("/api/v1/fabriques?q=a%00b")
        .await
        .assert_problem(400, "invalid_query");

    assert!(!admits(
        "CreateOrganizationRequest",
        &json!({"name": "a\u{0}b", "kind": "anct"})
    ));
    assert!(admits(
        "CreateOrganizationRequest",
        &json!({"name": "a\u{1}b", "kind": "anct"})
    ));
    let doc = document();
    let q = doc["paths"]["/api/v1/fabriques"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "q")
        .unwrap();
    assert!(!admits_value("q", &q["schema"], &json!("a\u{0}b")));
    // Every string field of every request body schema says it (or has a format or a pattern
    // of its own that excludes NUL).
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for (name, schema) in schemas.iter().filter(|(n, _)| n.ends_with("Request")) {
        for (field, prop) in schema["properties"].as_object().into_iter().flatten() {
            if prop["type"].to_string().contains("string")
                && ["enum", "const", "pattern", "format"]
                    .iter()
                    .all(|k| prop.get(*k).is_none())
            {
                panic!("{name}.{field} admits NUL: {prop}");
            }
        }
    }
}

/// Text that may not be empty may not be blank either: the server trims names and titles, so
/// `" "` would be stored empty. The document's pattern says which characters count as blank
/// (Rust's `char::is_whitespace`, Unicode's White_Space).
async fn blank_text_is_refused_where_text_is_required(app: TestApp) {
    for blank in [" ", "\t\n", "\u{3000}", "\u{a0}\u{2028}"] {
        let body = json!({"name": blank, "kind": "anct"});
        assert!(!admits("CreateOrganizationRequest", &body), "{blank:?}");
        let r = app.post("/api/v1/organizations", body).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(r.body["errors"][0]["pointer"], "/name");
        assert_eq!(r.body["errors"][0]["code"], "blank");
        let r = app
            .post("/api/v1/fabriques", json!({"title": "x", "theme": blank}))
            .await;
        assert_eq!(r.body["errors"][0]["code"], "blank", "{}", r.body);
    }
    let id = app.org(" Cerema ", "public_operator").await;
    let r = app.get(&format!("/api/v1/organizations/{id}")).await;
    assert_eq!(r.body["name"], "Cerema");
    let change = json!({"name": "\u{2003}"});
    assert!(!admits("UpdateOrganizationRequest", &change));
    let r = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/organizations/{id}"),
            Some(&app.admin),
            Some(change),
        )
        .await;
    assert_eq!(r.body["errors"][0]["code"], "blank", "{}", r.body);
    // Not whitespace: admitted and kept.
    let body = json!({"name": "\u{feff}", "kind": "anct"});
    assert!(admits("CreateOrganizationRequest", &body));
    assert_eq!(app.post("/api/v1/organizations", body).await.status, 201);
}

/// The blank pattern of the document is Rust's `char::is_whitespace`, character by character.
#[test]
fn the_blank_pattern_is_rusts_whitespace() {
    let schema = json!({"type": "string", "pattern": fabriques_api::edge::contract::NOT_BLANK});
    for c in (0..=0xFFFF_u32).filter_map(char::from_u32) {
        assert_eq!(
            admits_value("not blank", &schema, &json!(c.to_string())),
            c != '\0' && !c.is_whitespace(),
            "U+{:04X}",
            c as u32
        );
    }
}

/// The official code a territory takes depends on its kind; the document says which (its
/// `allOf` of `if`/`then`), with the patterns of the domain's own parsers. What it cannot say
/// (the SIREN checksum, codes absent from the official geography) the server refuses with
/// the codes the field descriptions name.
async fn territory_codes_follow_their_kind(app: TestApp) {
    let cases = [
        (
            json!({"kind": "petr", "name": "Pays de Lorient", "code": "56121"}),
            false,
        ),
        (json!({"kind": "commune", "code": "242900314"}), false),
        (json!({"kind": "commune"}), false),
        (
            json!({"kind": "other", "name": "Quartier", "code": "56121"}),
            false,
        ),
        (json!({"kind": "other"}), false),
        (json!({"kind": "region", "code": "99"}), false),
        (json!({"kind": "departement", "code": "20"}), false),
        (
            json!({"kind": "commune", "code": "56121", "department": ""}),
            false,
        ),
        (
            json!({"kind": "commune", "code": "56121", "region": "5"}),
            false,
        ),
        (
            json!({"kind": "commune", "code": "56121", "latitude": 47.7}),
            false,
        ),
        (json!({"kind": "commune", "code": "56121"}), true),
        (
            json!({"kind": "commune", "code": "2A004", "department": "2A"}),
            true,
        ),
        (json!({"kind": "metropole", "code": "242900314"}), true),
        (json!({"kind": "region", "code": "53"}), true),
        (json!({"kind": "departement", "code": "974"}), true),
        (
            json!({"kind": "other", "name": "Quartier", "latitude": 47.7, "longitude": -3.4}),
            true,
        ),
        // Without a kind, the code decides it: an INSEE code, a SIREN, a department code that
        // is not also a region's.
        (json!({}), false),
        (json!({"name": "Sans code"}), false),
        (json!({"code": "84"}), false),
        (json!({"code": "abc"}), false),
        (json!({"kind": null, "code": "29019"}), false),
        (json!({"code": "29019"}), true),
        (json!({"code": "200041317"}), true),
        (json!({"code": "29"}), true),
    ];
    for (body, admitted) in cases {
        assert_eq!(
            admits("CreateTerritoryRequest", &body),
            admitted,
            "the document on {body}"
        );
        let r = app.post("/api/v1/territories", body.clone()).await;
        if admitted {
            assert_eq!(r.status, 201, "{body}: {}", r.body);
        } else {
            r.assert_problem(422, "validation_failed");
        }
    }
    assert!(!admits(
        "UpdateTerritoryRequest",
        &json!({"department": "", "region": ""})
    ));
    assert!(admits(
        "UpdateTerritoryRequest",
        &json!({"department": null, "region": "53"})
    ));
}

/// RFC 6749 §3.2: unrecognized parameters are ignored, a parameter without a value is as if
/// omitted; only the recognized ones may not repeat.
async fn token_requests_ignore_what_rfc_6749_says_to_ignore(app: TestApp) {
    let (id, secret) = app.client(json!({"name": "SIG", "role": "analyst"})).await;
    let r = app
        .token_request(
            Some((&id, &secret)),
            &[
                ("grant_type", "client_credentials"),
                ("x", "1"),
                ("x", "2"),
                ("scope", ""),
                ("client_id", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .token_request(
            Some((&id, &secret)),
            &[("grant_type", "client_credentials"), ("scope", "admin")],
        )
        .await;
    assert_eq!(r.body["error"], "invalid_scope");
    let r = app
        .token_request(
            Some((&id, &secret)),
            &[
                ("grant_type", "client_credentials"),
                ("grant_type", "client_credentials"),
            ],
        )
        .await;
    assert_eq!(r.body["error"], "invalid_request");
    // The document: one grant type, scopes by name (empty is as if omitted).
    assert!(admits(
        "TokenRequest",
        &json!({"grant_type": "client_credentials", "scope": ""})
    ));
    assert!(!admits("TokenRequest", &json!({"grant_type": "password"})));
    assert!(!admits(
        "TokenRequest",
        &json!({"grant_type": "client_credentials", "scope": "admin"})
    ));
}

/// Rules about data, not shapes: the document admits each of these bodies, and the server
/// refuses them with 422 naming the field and the rule (the codes `.ci/schemathesis_hooks.py`
/// expects, and only those).
async fn rules_the_document_cannot_state_are_checked_by_the_server(app: TestApp) {
    let nobody = "0190d5a0-0000-7000-8000-000000000009";
    let cases = [
        (
            "/api/v1/clients",
            "CreateClientRequest",
            json!({"name": "SIG", "role": "partner", "organization_id": nobody}),
            "/organization_id",
            "unknown_organization",
        ),
        (
            "/api/v1/clients",
            "CreateClientRequest",
            json!({"name": "SIG", "role": "territory", "territory_id": nobody}),
            "/territory_id",
            "unknown_territory",
        ),
        (
            "/api/v1/fabriques",
            "CreateFabriqueRequest",
            json!({"title": "x", "programme_id": nobody}),
            "/programme_id",
            "unknown_programme",
        ),
        (
            "/api/v1/fabriques",
            "CreateFabriqueRequest",
            json!({"title": "x", "planned_start": "2027-02-01", "end_date": "2027-01-01"}),
            "/end_date",
            "end_before_start",
        ),
        (
            "/api/v1/fabriques",
            "CreateFabriqueRequest",
            json!({"title": "x", "min_territories": 6, "max_territories": 5}),
            "/min_territories",
            "territory_bounds_invalid",
        ),
        (
            "/api/v1/webhooks",
            "CreateWebhookRequest",
            json!({"url": "https://sig.example.org/hooks", "client_id": nobody}),
            "/client_id",
            "unknown_client",
        ),
        (
            "/api/v1/webhooks",
            "CreateWebhookRequest",
            json!({"url": "https://sig.example.org/hooks"}),
            "/client_id",
            "required",
        ),
        (
            "/api/v1/webhooks",
            "CreateWebhookRequest",
            json!({"url": "https://u:p@sig.example.org/hooks", "client_id": nobody}),
            "/url",
            "url_not_allowed",
        ),
        (
            "/api/v1/territories",
            "CreateTerritoryRequest",
            json!({"kind": "commune", "code": "56121", "department": "29"}),
            "/department",
            "reference_mismatch",
        ),
        (
            "/api/v1/territories",
            "CreateTerritoryRequest",
            json!({"kind": "commune", "code": "56999"}),
            "/code",
            "unknown_code",
        ),
        (
            "/api/v1/territories",
            "CreateTerritoryRequest",
            json!({"kind": "metropole", "code": "242900315"}),
            "/code",
            "invalid_siren_checksum",
        ),
        (
            "/api/v1/territories",
            "CreateTerritoryRequest",
            json!({"code": "200000008"}),
            "/kind",
            "required",
        ),
    ];
    for (path, schema, body, pointer, code) in cases {
        assert!(admits(schema, &body), "the document admits {body}");
        let r = app.post(path, body.clone()).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(
            r.body["errors"][0]["pointer"], pointer,
            "{body}: {}",
            r.body
        );
        assert_eq!(r.body["errors"][0]["code"], code, "{body}: {}", r.body);
    }
    // With the stored resource: one coordinate where none is stored.
    let id = app.territory("Lorient", "commune", "56121").await;
    let change = json!({"latitude": 47.7});
    assert!(admits("UpdateTerritoryRequest", &change));
    let r = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/territories/{id}"),
            Some(&app.admin),
            Some(change),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["code"], "incomplete_coordinates");
}

/// A machine client's bindings depend on its role; the document says which, as
/// `check_client_binding` does.
#[test]
fn client_bindings_follow_the_role_in_the_document() {
    let org = "0190d5a0-0000-7000-8000-000000000001";
    for (body, admitted) in [
        (json!({"name": "x", "role": "admin"}), false),
        (json!({"name": "x", "role": "partner"}), false),
        (
            json!({"name": "x", "role": "partner", "organization_id": org}),
            true,
        ),
        (
            json!({"name": "x", "role": "territory", "territory_id": org}),
            true,
        ),
        (json!({"name": "x", "role": "territory"}), false),
        (
            json!({"name": "x", "role": "territory", "territory_id": org, "organization_id": org}),
            false,
        ),
        (
            json!({"name": "x", "role": "analyst", "territory_id": org}),
            false,
        ),
        (
            json!({"name": "x", "role": "analyst", "territory_id": null}),
            true,
        ),
        (
            json!({"name": "x", "role": "anct_staff", "organization_id": org}),
            true,
        ),
    ] {
        let role = body["role"]
            .as_str()
            .unwrap()
            .parse::<domain::Role>()
            .unwrap();
        let id = |f: &str| body[f].as_str().map(|s| s.parse().unwrap());
        let domain_says = role != domain::Role::Admin
            && domain::directory::check_client_binding(
                role,
                id("organization_id"),
                id("territory_id"),
            )
            .is_ok();
        assert_eq!(domain_says, admitted, "the domain on {body}");
        assert_eq!(
            admits("CreateClientRequest", &body),
            admitted,
            "the document on {body}"
        );
    }
}

/// The patterns the document gives the official codes say what the domain's parsers take,
/// exhaustively over the characters codes are made of.
#[test]
fn code_patterns_agree_with_the_parsers() {
    use domain::{DepartmentCode, InseeCode};
    let alphabet: Vec<char> = "0123456789AB".chars().collect();
    let words = |n: usize| {
        let mut out = vec![String::new()];
        for _ in 0..n {
            out = out
                .iter()
                .flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}")))
                .collect();
        }
        out
    };
    let pattern = |p: &str| json!({"type": "string", "pattern": p});
    let department = pattern(DepartmentCode::PATTERN);
    for code in [words(1), words(2), words(3), words(4)].concat() {
        assert_eq!(
            admits_value("department pattern", &department, &json!(code)),
            DepartmentCode::parse(&code).is_ok(),
            "department {code}"
        );
    }
    let insee = pattern(InseeCode::PATTERN);
    for code in words(5) {
        assert_eq!(
            admits_value("insee pattern", &insee, &json!(code)),
            InseeCode::parse(&code).is_ok(),
            "commune {code}"
        );
    }
}
