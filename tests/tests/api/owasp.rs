//! One concrete attack per item of the OWASP API Security Top 10 (2023), each tried against
//! the running service on both engines. Every item applies to this API; each test names the
//! item it covers and what a successful attack would have looked like. Deeper suites exist for
//! several items (the JWT matrix, the access scenarios, the permission matrix, the bad-input
//! sweep): these tests are the attacker's view, one per item, kept short enough to read.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use fabriques_api::auth::Role;
use fabriques_api::config::ServiceOptions;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::both_engines;
use crate::helpers::TestApp;
use crate::year::running_fabrique;

both_engines!(
    api1_objects_of_others_are_neither_read_nor_written,
    api3_no_mass_assignment_and_no_field_beyond_the_callers_tier,
    api4_every_request_is_bounded,
    api5_functions_of_other_roles_are_refused,
    api6_the_application_flow_cannot_be_abused,
    api8_misconfigurations_are_absent,
    api9_no_undocumented_or_stale_endpoint_answers,
);
both_engines!(with super::brute_force_options(); api2_forged_stolen_and_guessed_credentials_get_nothing);
both_engines!(with super::ssrf_options(); api7_webhooks_cannot_reach_internal_addresses);
both_engines!(with super::consumer_options(); api10_answers_of_webhook_receivers_are_not_trusted);

fn brute_force_options() -> ServiceOptions {
    // Callers without a token (a token request has none) share their address's quota.
    ServiceOptions {
        anonymous_rate_limit_per_minute: 20,
        ..crate::helpers::test_options()
    }
}

fn ssrf_options() -> ServiceOptions {
    // The default: private targets refused (the other webhook suites turn this off).
    ServiceOptions {
        webhook_allow_private_targets: false,
        ..crate::helpers::test_options()
    }
}

fn consumer_options() -> ServiceOptions {
    crate::webhooks::options()
}

async fn as_(
    app: &TestApp,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> crate::helpers::Resp {
    app.raw(method, path, token, body).await
}

/// API1:2023 Broken Object Level Authorization. Territory T2 walks the ids of territory T1's
/// objects (a participation it can see in the public catalogue, its working group, its
/// roadmap) and a partner that is not in the Fabrique walks its funding: every read of a
/// non-public object is 404 (its existence is not confirmed), every write 403 or 404, and
/// nothing changed.
async fn api1_objects_of_others_are_neither_read_nor_written(app: TestApp) {
    let run = running_fabrique(&app, 2).await;
    let (f, p1, t1, t2) = (
        run.fabrique.clone(),
        run.participations[0].clone(),
        run.territories[0].clone(),
        run.territories[1].clone(),
    );
    let member = app
        .post(
            &format!("/api/v1/participations/{p1}/working-group-members"),
            json!({"name": "Camille Durand", "category": "resident"}),
        )
        .await
        .id();
    let funder = app.org("Caisse des dépôts", "funder").await;
    let partnered = app
        .raw(
            Method::PUT,
            &format!("/api/v1/fabriques/{f}/partners/{funder}"),
            Some(&app.admin),
            Some(json!({"roles": ["co_funder"]})),
        )
        .await;
    assert_eq!(partnered.status, 200, "{}", partnered.body);
    let line = app
        .post(
            &format!("/api/v1/fabriques/{f}/funding-lines"),
            json!({"organization_id": funder, "kind": "co_funding", "amount_cents": 1_000_000, "label": "Étude"}),
        )
        .await;
    assert_eq!(line.status, 201, "{}", line.body);
    let line = line.id();
    let t2_token = app.token(Role::Territory, None, Some(&t2));
    let outsider = app.org("Organisation tierce", "public_operator").await;
    let partner = app.token(Role::Partner, Some(&outsider), None);

    let before = app.get(&format!("/api/v1/participations/{p1}")).await.body;
    // Reads of T1's private objects by T2, and of F's funding by a stranger.
    for (token, path) in [
        (&t2_token, format!("/api/v1/working-group-members/{member}")),
        (
            &t2_token,
            format!("/api/v1/participations/{p1}/working-group-members"),
        ),
        (&partner, format!("/api/v1/funding-lines/{line}")),
    ] {
        let r = as_(&app, Some(token), Method::GET, &path, None).await;
        assert!(
            r.status == 404 || r.status == 403,
            "GET {path}: {} {}",
            r.status,
            r.body
        );
    }
    // The participation is public (accompanied), but not its personal fields.
    let seen = as_(
        &app,
        Some(&t2_token),
        Method::GET,
        &format!("/api/v1/participations/{p1}"),
        None,
    )
    .await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert!(seen.body.get("sponsor_name").is_none(), "{}", seen.body);
    // Writes to them.
    for (token, method, path, body) in [
        (
            &t2_token,
            Method::PATCH,
            format!("/api/v1/participations/{p1}"),
            json!({"focus": "pris"}),
        ),
        (
            &t2_token,
            Method::PATCH,
            format!("/api/v1/working-group-members/{member}"),
            json!({"name": "X"}),
        ),
        (
            &t2_token,
            Method::DELETE,
            format!("/api/v1/working-group-members/{member}"),
            json!({}),
        ),
        (
            &t2_token,
            Method::PUT,
            format!("/api/v1/participations/{p1}/roadmap"),
            json!({"kind": "roadmap", "title": "Volée"}),
        ),
        (
            &t2_token,
            Method::POST,
            format!("/api/v1/participations/{p1}/transitions"),
            json!({"action": "withdraw", "reason": "sabotage"}),
        ),
        (
            &partner,
            Method::PATCH,
            format!("/api/v1/funding-lines/{line}"),
            json!({"amount_cents": 1}),
        ),
    ] {
        let r = as_(&app, Some(token), method.clone(), &path, Some(body)).await;
        assert!(
            r.status == 404 || r.status == 403,
            "{method} {path}: {} {}",
            r.status,
            r.body
        );
    }
    // A territory token naming T1 is still only T1's: T2's token cannot apply in T1's name.
    let (other, _) = app.ready_fabrique(1, 8).await;
    app.transition(&format!("/api/v1/fabriques/{other}"), "open_recruitment")
        .await;
    let r = as_(
        &app,
        Some(&t2_token),
        Method::POST,
        &format!("/api/v1/fabriques/{other}/participations"),
        Some(json!({"territory_id": t1, "sponsor_name": "Usurpateur", "sponsor_mandate": "maire", "motivation": "x"})),
    )
    .await;
    assert!(
        r.status == 403 || r.status == 404,
        "{} {}",
        r.status,
        r.body
    );
    // Nothing changed.
    assert_eq!(
        app.get(&format!("/api/v1/participations/{p1}")).await.body,
        before
    );
    assert_eq!(
        app.get(&format!("/api/v1/working-group-members/{member}"))
            .await
            .body["name"],
        "Camille Durand"
    );
    assert_eq!(
        app.get(&format!("/api/v1/funding-lines/{line}")).await.body["amount_cents"],
        1_000_000
    );
    assert_eq!(
        app.get(&format!("/api/v1/participations/{p1}/roadmap"))
            .await
            .status,
        404
    );
    let applications = app
        .get(&format!("/api/v1/fabriques/{other}/participations"))
        .await;
    assert_eq!(
        applications.body["items"].as_array().unwrap().len(),
        0,
        "{}",
        applications.body
    );
}

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

/// API2:2023 Broken Authentication. A token signed with a guessed key, an unsigned token, a
/// token of a revoked client, a token passed in the query string, and a brute force of a
/// client secret: none gets a 2xx on a protected read, and the brute force is throttled
/// before it can try many secrets.
async fn api2_forged_stolen_and_guessed_credentials_get_nothing(app: TestApp) {
    let protected = "/api/v1/clients";
    let now = chrono::Utc::now().timestamp();
    let claims = json!({
        "sub": "attacker", "role": "admin", "iss": crate::helpers::ISSUER,
        "aud": crate::helpers::AUDIENCE, "iat": now, "exp": now + 600,
    });
    let guessed = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"secret"),
    )
    .unwrap();
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&claims)
    );
    let (id, secret) = app
        .client(json!({"name": "Partenaire", "role": "anct_staff"}))
        .await;
    let revoked = app.client_token(&id, &secret).await;
    assert_eq!(
        app.post(&format!("/api/v1/clients/{id}/revoke"), json!({}))
            .await
            .status,
        200
    );
    for (label, token) in [
        ("guessed key", guessed),
        ("alg none", unsigned),
        ("revoked client", revoked),
    ] {
        let r = as_(&app, Some(&token), Method::GET, protected, None).await;
        r.assert_problem(401, "unauthorized");
        assert!(r.headers.contains_key("www-authenticate"), "{label}");
    }
    // A valid token in the query string is not a credential (it would end up in logs).
    let r = as_(
        &app,
        None,
        Method::GET,
        &format!("{protected}?access_token={}", app.admin),
        None,
    )
    .await;
    assert!(
        r.status == 401 || r.status == 400,
        "{} {}",
        r.status,
        r.body
    );

    // Brute force of one client's secret: secrets carry 256 random bits, and one address is
    // throttled (429 with Retry-After) after its quota of tries, long before 100.
    let (victim, _) = app
        .client(json!({"name": "Cible", "role": "analyst"}))
        .await;
    let mut tries = 0;
    let throttled = loop {
        tries += 1;
        let r = app
            .token_request(
                Some((&victim, &format!("guess-{tries:04}"))),
                &[("grant_type", "client_credentials")],
            )
            .await;
        match r.status.as_u16() {
            401 => assert_eq!(r.body["error"], "invalid_client", "{}", r.body),
            429 => break r,
            s => panic!("try {tries}: {s} {}", r.body),
        }
        assert!(tries < 100, "100 wrong secrets were all checked");
    };
    assert!(throttled.headers.contains_key("retry-after"));
    assert!(tries <= 20, "throttled only after {tries} tries");
}

/// API3:2023 Broken Object Property Level Authorization. Mass assignment: fields the server
/// owns (`id`, `status`, timestamps, the territory of a participation, the role of a client)
/// are refused by name instead of being written. Excessive exposure: an anonymous caller and a
/// territory see no personal field of another territory, and no answer ever carries a stored
/// secret.
async fn api3_no_mass_assignment_and_no_field_beyond_the_callers_tier(app: TestApp) {
    let run = running_fabrique(&app, 2).await;
    let (f, p1, t1, t2) = (
        run.fabrique.clone(),
        run.participations[0].clone(),
        run.territories[0].clone(),
        run.territories[1].clone(),
    );
    let t1_token = app.token(Role::Territory, None, Some(&t1));
    for (token, method, path, body, field) in [
        (
            &app.admin,
            Method::POST,
            "/api/v1/fabriques".to_owned(),
            json!({"title": "x", "status": "completed"}),
            "/status",
        ),
        (
            &app.admin,
            Method::POST,
            "/api/v1/fabriques".to_owned(),
            json!({"title": "x", "id": "00000000-0000-4000-8000-000000000001"}),
            "/id",
        ),
        (
            &app.admin,
            Method::PATCH,
            format!("/api/v1/fabriques/{f}"),
            json!({"created_at": "2020-01-01T00:00:00Z"}),
            "/created_at",
        ),
        (
            &t1_token,
            Method::PATCH,
            format!("/api/v1/participations/{p1}"),
            json!({"status": "completed"}),
            "/status",
        ),
        (
            &t1_token,
            Method::PATCH,
            format!("/api/v1/participations/{p1}"),
            json!({"territory_id": t2}),
            "/territory_id",
        ),
        (
            &app.admin,
            Method::POST,
            "/api/v1/organizations".to_owned(),
            json!({"name": "x", "kind": "anct", "role": "admin"}),
            "/role",
        ),
    ] {
        let r = as_(&app, Some(token), method.clone(), &path, Some(body)).await;
        r.assert_problem(422, "validation_failed");
        assert!(
            r.body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["pointer"] == field && e["code"] == "unknown_field"),
            "{method} {path}: {}",
            r.body
        );
    }
    let p = app.get(&format!("/api/v1/participations/{p1}")).await.body;
    assert_eq!(p["status"], "active");
    assert_eq!(p["territory_id"], t1.as_str());
    assert_eq!(
        app.get(&format!("/api/v1/fabriques/{f}")).await.body["status"],
        "running"
    );

    // Exposure: the sponsor (personal) is T1's and ANCT's, not the public's nor T2's.
    let r = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/participations/{p1}"),
            Some(&app.admin),
            Some(json!({"sponsor_name": "Hélène Secrète"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t2_token = app.token(Role::Territory, None, Some(&t2));
    for token in [None, Some(t2_token.as_str())] {
        for path in [
            format!("/api/v1/participations/{p1}"),
            format!("/api/v1/fabriques/{f}/participations"),
            "/api/v1/participations".to_owned(),
        ] {
            let r = as_(&app, token, Method::GET, &path, None).await;
            // Territories and the public read the accompanied participations.
            assert_eq!(r.status, 200, "{path}: {}", r.body);
            let text = r.body.to_string();
            assert!(!text.contains("Secrète"), "{path} as {token:?}: {text}");
            let items = r.body["items"].as_array().cloned().unwrap_or_default();
            for p in items
                .iter()
                .chain([&r.body])
                .filter(|p| p["id"] == p1.as_str())
            {
                for field in ["sponsor_name", "sponsor_mandate", "motivation"] {
                    assert!(p.get(field).is_none(), "{path} as {token:?}: {p}");
                }
            }
        }
    }
    let own = as_(
        &app,
        Some(&t1_token),
        Method::GET,
        &format!("/api/v1/participations/{p1}"),
        None,
    )
    .await;
    assert_eq!(own.body["sponsor_name"], "Hélène Secrète", "{}", own.body);
    // A machine client's secret is shown once, at creation, never again.
    let (id, secret) = app
        .client(json!({"name": "Partenaire", "role": "analyst"}))
        .await;
    for path in [
        format!("/api/v1/clients/{id}"),
        "/api/v1/clients".to_owned(),
    ] {
        let text = app.get(&path).await.body.to_string();
        assert!(
            !text.contains(&secret) && !text.contains("secret\":"),
            "{path}: {text}"
        );
    }
}

/// API4:2023 Unrestricted Resource Consumption. Oversized pages, bodies, query strings,
/// search phrases and id lists are refused with a 4xx before any work is done; the service
/// answers normally afterwards.
async fn api4_every_request_is_bounded(app: TestApp) {
    let r = app.get("/api/v1/fabriques?limit=1000000").await;
    r.assert_problem(400, "invalid_query");
    let r = app.get("/api/v1/fabriques?limit=100").await;
    assert_eq!(r.status, 200, "the largest page is served: {}", r.body);

    // A 3 MiB body.
    let huge = "x".repeat(3 * 1024 * 1024);
    let r = app.post("/api/v1/fabriques", json!({"title": huge})).await;
    r.assert_problem(413, "payload_too_large");
    // A query string of 2,000 parameters.
    let many: Vec<String> = (0..2000).map(|i| format!("p{i}=1")).collect();
    let r = app
        .get(&format!("/api/v1/fabriques?{}", many.join("&")))
        .await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.body);
    // A search of 500 words.
    let words = vec!["saint"; 500].join("+");
    let r = app
        .get(&format!("/api/v1/reference/communes?q={words}"))
        .await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.body);
    // 1,000 ids on the map.
    let ids: Vec<String> = (0..1000)
        .map(|i| format!("00000000-0000-4000-8000-{i:012}"))
        .collect();
    let r = app
        .get(&format!(
            "/api/v1/map/territories?fabrique={}",
            ids.join(",")
        ))
        .await;
    assert!(r.status.is_client_error(), "{} {}", r.status, r.body);
    // A token request padded to 2 MiB.
    let res = app
        .client
        .post(format!("{}/oauth/token", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&pad={}",
            "a".repeat(2 * 1024 * 1024)
        ))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
    // Still serving.
    assert_eq!(app.get("/health/ready").await.status, 200);
    assert_eq!(app.get("/api/v1/fabriques").await.status, 200);
}

/// API5:2023 Broken Function Level Authorization. Each role tries the administrative
/// functions of the roles above it (create a machine client, delete a Fabrique, launch it,
/// rotate a secret, list all clients), including through method-override headers: 403 for
/// the authenticated, 401 for the anonymous, and nothing happened.
async fn api5_functions_of_other_roles_are_refused(app: TestApp) {
    let run = running_fabrique(&app, 1).await;
    let f = run.fabrique.clone();
    let t = run.territories[0].clone();
    let (client, _) = app
        .client(json!({"name": "Partenaire", "role": "analyst"}))
        .await;
    let partner = app.token(Role::Partner, Some(&run.contractor), None);
    let territory = app.token(Role::Territory, None, Some(&t));
    let analyst = app.token(Role::Analyst, None, None);
    let staff = app.token(Role::AnctStaff, None, None);
    let attempts: Vec<(Method, String, Value)> = vec![
        (
            Method::POST,
            "/api/v1/clients".into(),
            json!({"name": "Moi", "role": "admin"}),
        ),
        (Method::GET, "/api/v1/clients".into(), Value::Null),
        (
            Method::POST,
            format!("/api/v1/clients/{client}/rotate-secret"),
            json!({}),
        ),
        (
            Method::DELETE,
            format!("/api/v1/fabriques/{f}"),
            Value::Null,
        ),
        (
            Method::POST,
            format!("/api/v1/fabriques/{f}/transitions"),
            json!({"action": "cancel", "reason": "x"}),
        ),
        (
            Method::POST,
            "/api/v1/programmes".into(),
            json!({"name": "Programme pirate"}),
        ),
    ];
    for (label, token) in [
        ("partner", Some(&partner)),
        ("territory", Some(&territory)),
        ("analyst", Some(&analyst)),
        ("staff", Some(&staff)),
        ("anonymous", None),
    ] {
        for (method, path, body) in &attempts {
            if label == "staff" && !path.contains("clients") {
                continue; // ANCT staff may run Fabriques; clients are the admin's.
            }
            let body = (!body.is_null()).then(|| body.clone());
            let r = as_(&app, token.map(String::as_str), method.clone(), path, body).await;
            let want = if token.is_some() { 403 } else { 401 };
            assert_eq!(r.status, want, "{label} {method} {path}: {}", r.body);
        }
    }
    // Method override headers do not turn a read into a delete.
    let res = app
        .client
        .get(format!("{}/api/v1/fabriques/{f}", app.base))
        .bearer_auth(&partner)
        .header("x-http-method-override", "DELETE")
        .header("x-http-method", "DELETE")
        .header("x-method-override", "DELETE")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.get(&format!("/api/v1/fabriques/{f}")).await.body["status"],
        "running"
    );
    assert_eq!(
        app.get(&format!("/api/v1/clients/{client}")).await.body["status"],
        "active"
    );
    let clients = app.get("/api/v1/clients").await;
    assert_eq!(
        clients.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        clients.body
    );
}

/// API6:2023 Unrestricted Access to Sensitive Business Flows. The sensitive flow here is the
/// application of a territory to a Fabrique (places are few): a territory cannot apply twice,
/// cannot apply to a Fabrique that is not recruiting, cannot apply once the places are
/// taken, and a replayed request (same Idempotency-Key) does not apply again.
async fn api6_the_application_flow_cannot_be_abused(app: TestApp) {
    let (f, _) = app.ready_fabrique(1, 2).await;
    let path = format!("/api/v1/fabriques/{f}/participations");
    let territories = [
        app.epci(crate::helpers::SIRENS[0]).await,
        app.epci(crate::helpers::SIRENS[1]).await,
        app.epci(crate::helpers::SIRENS[2]).await,
    ];
    let body = |t: &str| json!({"territory_id": t, "sponsor_name": "Jeanne Martin", "sponsor_mandate": "maire", "motivation": "Nous voulons préparer l'avenir"});
    let t0 = app.token(Role::Territory, None, Some(&territories[0]));
    // Not recruiting yet: a draft is not even visible to a territory.
    let r = as_(
        &app,
        Some(&t0),
        Method::POST,
        &path,
        Some(body(&territories[0])),
    )
    .await;
    r.assert_problem(404, "not_found");
    app.transition(&format!("/api/v1/fabriques/{f}"), "open_recruitment")
        .await;
    // One application, replayed three times with its key: one participation.
    for _ in 0..3 {
        let res = app
            .client
            .post(format!("{}{path}", app.base))
            .bearer_auth(&t0)
            .header("idempotency-key", "apply-once-0001")
            .json(&body(&territories[0]))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    // The same application again, without the key: refused.
    let r = as_(
        &app,
        Some(&t0),
        Method::POST,
        &path,
        Some(body(&territories[0])),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
    // Two places: accept two, the third is refused.
    let mut ids = Vec::new();
    for t in &territories {
        let token = app.token(Role::Territory, None, Some(t));
        let r = as_(&app, Some(&token), Method::GET, &path, None).await;
        let existing = r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["territory_id"] == t.as_str())
            .map(|p| p["id"].as_str().unwrap().to_owned());
        let id = match existing {
            Some(id) => id,
            None => as_(&app, Some(&token), Method::POST, &path, Some(body(t)))
                .await
                .id(),
        };
        ids.push(id);
    }
    for id in &ids[..2] {
        assert_eq!(
            app.transition(&format!("/api/v1/participations/{id}"), "accept")
                .await
                .status,
            200
        );
    }
    let r = app
        .transition(&format!("/api/v1/participations/{}", ids[2]), "accept")
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let all = app.get(&path).await;
    let items = all.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{}", all.body);
    assert_eq!(
        items.iter().filter(|p| p["status"] == "accepted").count(),
        2
    );
}

/// API7:2023 Server Side Request Forgery. The one place the service fetches a URL a caller
/// gives is a webhook target: loopback, private, link-local (cloud metadata), IPv4 written as
/// a number, IPv6 forms that embed IPv4, non-HTTPS and non-HTTP schemes are refused at
/// subscription and at update; nothing is stored.
async fn api7_webhooks_cannot_reach_internal_addresses(app: TestApp) {
    let (id, secret) = app
        .client(json!({"name": "Partenaire", "role": "anct_staff"}))
        .await;
    let token = app.client_token(&id, &secret).await;
    let good = as_(
        &app,
        Some(&token),
        Method::POST,
        "/api/v1/webhooks",
        Some(json!({"url": "https://hooks.example.org/fabriques", "types": ["fabrique"]})),
    )
    .await;
    assert_eq!(good.status, 201, "{}", good.body);
    let hook = good.body["webhook"]["id"].as_str().unwrap().to_owned();
    for url in [
        "https://127.0.0.1/x",
        "https://localhost/x",
        "https://[::1]/x",
        "https://10.0.0.1/x",
        "https://192.168.1.1/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://2130706433/x",
        "https://0x7f000001/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://[64:ff9b::a9fe:a9fe]/x",
        "https://[2002:7f00:1::]/x",
        "https://0.0.0.0/x",
        "http://hooks.example.org/x",
        "file:///etc/passwd",
        "gopher://hooks.example.org/x",
        "https://user:pass@hooks.example.org/x",
    ] {
        let r = as_(
            &app,
            Some(&token),
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": url, "types": ["fabrique"]})),
        )
        .await;
        r.assert_problem(422, "validation_failed");
        let r = as_(
            &app,
            Some(&token),
            Method::PATCH,
            &format!("/api/v1/webhooks/{hook}"),
            Some(json!({"url": url})),
        )
        .await;
        r.assert_problem(422, "validation_failed");
    }
    let list = as_(&app, Some(&token), Method::GET, "/api/v1/webhooks", None).await;
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", list.body);
    assert_eq!(items[0]["url"], "https://hooks.example.org/fabriques");
}

/// API8:2023 Security Misconfiguration. No verbose errors (no stack, SQL or library message),
/// the security headers on every kind of answer, `no-store` on personal data, no CORS
/// credentials for an unlisted origin, no TRACE, no metrics for the public.
async fn api8_misconfigurations_are_absent(app: TestApp) {
    let send = |method: Method, path: &str, token: Option<&str>, body: Option<&'static str>| {
        let mut rb = app
            .client
            .request(method, format!("{}{path}", app.base))
            .header("origin", "https://evil.example");
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        if let Some(b) = body {
            rb = rb.header("content-type", "application/json").body(b);
        }
        rb.send()
    };
    let cases = [
        (Method::GET, "/api/v1/fabriques", None, None, 200),
        (
            Method::GET,
            "/api/v1/clients",
            Some(app.admin.as_str()),
            None,
            200,
        ),
        (
            Method::POST,
            "/api/v1/fabriques",
            Some(app.admin.as_str()),
            Some("{\"title\": "),
            400,
        ),
        (
            Method::GET,
            "/api/v1/fabriques/00000000-0000-4000-8000-000000000001",
            None,
            None,
            404,
        ),
        (
            Method::GET,
            "/api/v1/fabriques/%27%20OR%201=1--",
            None,
            None,
            400,
        ),
        (Method::TRACE, "/api/v1/fabriques", None, None, 405),
        (Method::GET, "/metrics", None, None, 404),
    ];
    for (method, path, token, body, want) in cases {
        let res = send(method.clone(), path, token, body).await.unwrap();
        assert_eq!(res.status(), want, "{method} {path}");
        let h = res.headers().clone();
        let header = |n: &str| {
            h.get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        assert_eq!(
            header("x-content-type-options"),
            "nosniff",
            "{method} {path}"
        );
        // Anonymous open data may be read from any page; nothing else from an unlisted one,
        // and never with credentials.
        assert!(
            header("access-control-allow-credentials").is_empty(),
            "{method} {path}"
        );
        if token.is_some() {
            assert!(
                header("access-control-allow-origin").is_empty(),
                "{method} {path}"
            );
        }
        assert!(
            header("server").is_empty() || !header("server").contains('/'),
            "{method} {path}: server {}",
            header("server")
        );
        if token.is_some() {
            assert!(
                header("cache-control").contains("no-store"),
                "{method} {path}"
            );
        }
        let text = res.text().await.unwrap();
        if want >= 400 {
            let body: Value =
                serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {path}: {text}"));
            assert_eq!(body["status"], want);
            for leak in [
                "sqlx", "sea_orm", "SELECT", "panicked", "src/", "serde", "actix",
            ] {
                assert!(!text.contains(leak), "{method} {path} leaks {leak}: {text}");
            }
        }
    }
    // Swagger UI may not be framed and runs under a CSP.
    let res = send(Method::GET, "/swagger-ui/", None, None).await.unwrap();
    let csp = res
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
}

/// API9:2023 Improper Inventory Management. The served specification is the committed
/// contract, and only what it documents answers: other API versions, unversioned paths, debug
/// and framework endpoints, and files of the deployment are all 404 problem+json.
async fn api9_no_undocumented_or_stale_endpoint_answers(app: TestApp) {
    let served = app
        .raw(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(served.status, 200);
    let committed: Value = serde_json::from_str(fabriques_api::edge::openapi::COMMITTED).unwrap();
    assert_eq!(
        served.body, committed,
        "the served spec differs from the committed contract"
    );
    for path in [
        "/api/v0/fabriques",
        "/api/v2/fabriques",
        "/api/fabriques",
        "/v1/fabriques",
        "/api/v1/fabriques.json",
        "/api/v1/internal/fabriques",
        "/api/v1/admin",
        "/api/v1/debug",
        "/debug/pprof/",
        "/actuator/health",
        "/.env",
        "/.git/config",
        "/config.toml",
        "/api/v1/exports/users.csv",
        "/api/v1/exports/../../etc/passwd.csv",
        "/swagger.json",
        "/graphql",
    ] {
        for token in [None, Some(app.admin.as_str())] {
            let res = app
                .client
                .get(format!("{}{path}", app.base))
                .bearer_auth(token.unwrap_or(""))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let ct = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            // An empty bearer is refused first (401) on protected paths; what matters is
            // that nothing answers 2xx and every answer is a problem.
            assert!(
                status == 404 || (token.is_none() && status == 401),
                "{path}: {status}"
            );
            assert_eq!(ct, "application/problem+json", "{path}");
        }
    }
}

/// API10:2023 Unsafe Consumption of APIs. The service consumes the answers of webhook
/// receivers run by partners: a receiver that redirects to an internal address is not
/// followed (the delivery is a failure, the redirect target never called), and one that
/// answers an endless body does not hold the worker (the delivery is recorded within the
/// timeout, the body not read).
async fn api10_answers_of_webhook_receivers_are_not_trusted(app: TestApp) {
    // The "internal" service a redirect points to: counts whoever reaches it.
    let internal = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let internal_url = format!("http://{}/secret", internal.local_addr().unwrap());
    let reached = Arc::new(AtomicUsize::new(0));
    let r2 = reached.clone();
    tokio::spawn(async move {
        while let Ok((_s, _)) = internal.accept().await {
            r2.fetch_add(1, Ordering::SeqCst);
        }
    });
    // Two hostile receivers: one redirects, one streams a body that never ends.
    async fn hostile(reply: String, endless: bool) -> String {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", l.local_addr().unwrap());
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let reply = reply.clone();
                tokio::spawn(async move {
                    let mut buf = [0u8; 65536];
                    let _ =
                        tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf)).await;
                    let _ = s.write_all(reply.as_bytes()).await;
                    if endless {
                        while s.write_all(&[b'x'; 65536]).await.is_ok() {}
                    }
                });
            }
        });
        url
    }
    let redirect = hostile(
        format!("HTTP/1.1 307 Temporary Redirect\r\nLocation: {internal_url}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        false,
    )
    .await;
    let endless = hostile(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_owned(),
        true,
    )
    .await;
    let (id, secret) = app
        .client(json!({"name": "Partenaire", "role": "anct_staff"}))
        .await;
    let token = app.client_token(&id, &secret).await;
    let mut hooks = Vec::new();
    for url in [&redirect, &endless] {
        let r = as_(
            &app,
            Some(&token),
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": url, "types": ["fabrique"]})),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
        hooks.push(r.body["webhook"]["id"].as_str().unwrap().to_owned());
    }
    let f = app
        .post("/api/v1/fabriques", json!({"title": "Événement"}))
        .await;
    assert_eq!(f.status, 201);
    let started = std::time::Instant::now();
    let mut outcomes = Vec::new();
    for hook in &hooks {
        let mut last = Value::Null;
        for _ in 0..200 {
            let r = as_(
                &app,
                Some(&token),
                Method::GET,
                &format!("/api/v1/webhooks/{hook}/deliveries"),
                None,
            )
            .await;
            assert_eq!(r.status, 200, "{}", r.body);
            last = r.body["items"][0].clone();
            // Recorded: a status or an error (a claimed attempt has neither yet).
            if !last["last_status_code"].is_null() || !last["last_error"].is_null() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        outcomes.push(last);
    }
    assert_eq!(outcomes[0]["last_status_code"], 307, "{}", outcomes[0]);
    assert_ne!(outcomes[0]["status"], "delivered", "{}", outcomes[0]);
    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "the redirect was followed"
    );
    // The endless body is not read: the answer's status is what counts.
    assert_eq!(outcomes[1]["last_status_code"], 200, "{}", outcomes[1]);
    assert_eq!(outcomes[1]["status"], "delivered", "{}", outcomes[1]);
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "an endless body held the worker for {:?}",
        started.elapsed()
    );
}
