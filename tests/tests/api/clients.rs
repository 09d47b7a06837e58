//! Machine clients: admin endpoints, `POST /oauth/token` (RFC 6749 §4.4 and §5.2), secret
//! rotation, and revocation taking effect on the next request.

use base64::Engine;
use fabriques_api::auth::Role;
use reqwest::Method;
use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::TestApp;

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("jwt");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("json")
}

fn assert_oauth_error(r: &crate::helpers::Resp, status: u16, error: &str) {
    assert_eq!(r.status.as_u16(), status, "{}", r.body);
    assert_eq!(r.body["error"], error, "{}", r.body);
    assert!(r.body["error_description"].is_string(), "{}", r.body);
    assert_eq!(
        r.headers.get("content-type").unwrap(),
        "application/json",
        "RFC 6749 §5.2"
    );
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
}

async fn machine_clients_get_tokens_and_revocation_is_immediate(app: TestApp) {
    let cerema = app.org("Cerema", "public_operator").await;
    let created = app
        .post(
            "/api/v1/clients",
            json!({"name": "Cerema SIG", "role": "partner", "organization_id": cerema}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["client_id"].as_str().unwrap().to_owned();
    let secret = created.body["client_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("fsec_") && secret.len() > 40);
    assert_eq!(
        created.headers.get("location").unwrap(),
        &format!("/api/v1/clients/{id}")
    );
    assert_eq!(created.body["client"]["status"], "active");

    // The secret is never shown again, and only its argon2id hash is stored.
    let read = app.get(&format!("/api/v1/clients/{id}")).await;
    assert_eq!(read.status, 200);
    assert!(read.headers.get("etag").is_some());
    assert!(!read.body.to_string().contains(&secret));
    let row = entity::api_client::Entity::find_by_id(id.parse::<uuid::Uuid>().unwrap())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.secret_hash.starts_with("$argon2id$"),
        "{}",
        row.secret_hash
    );
    assert!(!row.secret_hash.contains(&secret));

    // Client credentials with HTTP Basic: a short-lived JWT bound to the client.
    let r = app
        .token_request(
            Some((&id, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 900);
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
    let token = r.body["access_token"].as_str().unwrap().to_owned();
    let c = claims_of(&token);
    assert_eq!(c["sub"], format!("client:{id}"));
    assert_eq!(c["cid"], id);
    assert_eq!(c["role"], "partner");
    assert_eq!(c["org"], cerema);
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 900);
    let ok = app
        .raw(Method::GET, "/api/v1/organizations", Some(&token), None)
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    // Partners may not manage clients.
    app.raw(Method::GET, "/api/v1/clients", Some(&token), None)
        .await
        .assert_problem(403, "forbidden");

    // The credentials may also come in the form.
    let r = app
        .token_request(
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // RFC 6749 §5.2 errors.
    let wrong = app
        .token_request(
            Some((&id, "fsec_wrong")),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_oauth_error(&wrong, 401, "invalid_client");
    assert!(
        wrong
            .headers
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_oauth_error(
        &app.token_request(
            Some((&unknown, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await,
        401,
        "invalid_client",
    );
    assert_oauth_error(
        &app.token_request(None, &[("grant_type", "client_credentials")])
            .await,
        401,
        "invalid_client",
    );
    assert_oauth_error(
        &app.token_request(Some((&id, &secret)), &[("grant_type", "password")])
            .await,
        400,
        "unsupported_grant_type",
    );
    assert_oauth_error(
        &app.token_request(Some((&id, &secret)), &[]).await,
        400,
        "invalid_request",
    );
    assert_oauth_error(
        &app.token_request(
            Some((&id, &secret)),
            &[
                ("grant_type", "client_credentials"),
                ("grant_type", "client_credentials"),
            ],
        )
        .await,
        400,
        "invalid_request",
    );
    assert_oauth_error(
        &app.token_request(
            Some((&id, &secret)),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
            ],
        )
        .await,
        400,
        "invalid_request",
    );
    assert_oauth_error(
        &app.token_request(
            Some((&id, &secret)),
            &[("grant_type", "client_credentials"), ("scope", "admin")],
        )
        .await,
        400,
        "invalid_scope",
    );
    let json_body = app
        .client
        .post(format!("{}/oauth/token", app.base))
        .basic_auth(&id, Some(&secret))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json_body.status(), 400);
    let body: Value = json_body.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");

    // Rotation: the old secret stops working at once, and so do the tokens it opened.
    let etag_before = read
        .headers
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let rotated = app
        .post(&format!("/api/v1/clients/{id}/rotate-secret"), json!({}))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_secret = rotated.body["client_secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert_oauth_error(
        &app.token_request(
            Some((&id, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await,
        401,
        "invalid_client",
    );
    let fresh = app.client_token(&id, &new_secret).await;
    app.raw(Method::GET, "/api/v1/organizations", Some(&token), None)
        .await
        .assert_problem(401, "unauthorized");
    assert_eq!(
        app.raw(Method::GET, "/api/v1/organizations", Some(&fresh), None)
            .await
            .status,
        200
    );

    // A revocation based on a stale read is refused.
    let stale = app
        .client
        .post(format!("{}/api/v1/clients/{id}/revoke", app.base))
        .bearer_auth(&app.admin)
        .header("If-Match", etag_before)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);

    // Revocation: every token of the client is refused on its next request.
    let revoked = app
        .post(&format!("/api/v1/clients/{id}/revoke"), json!({}))
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(revoked.body["status"], "revoked");
    assert!(revoked.body["revoked_at"].is_string());
    let r = app
        .raw(Method::GET, "/api/v1/organizations", Some(&fresh), None)
        .await;
    r.assert_problem(401, "unauthorized");
    assert!(r.body["detail"].as_str().unwrap().contains("revoked"));
    assert_oauth_error(
        &app.token_request(
            Some((&id, &new_secret)),
            &[("grant_type", "client_credentials")],
        )
        .await,
        401,
        "invalid_client",
    );
    app.post(&format!("/api/v1/clients/{id}/rotate-secret"), json!({}))
        .await
        .assert_refused("client_revoked");
    // Revoking again changes nothing.
    assert_eq!(
        app.post(&format!("/api/v1/clients/{id}/revoke"), json!({}))
            .await
            .status,
        200
    );
    let list = app.get("/api/v1/clients?status=revoked").await;
    assert_eq!(list.status, 200);
    let ids: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![id.as_str()]);
    assert_eq!(
        app.get("/api/v1/clients?status=active").await.body["items"],
        json!([])
    );
}

async fn client_bindings_are_checked(app: TestApp) {
    let org = app.org("AdCF", "elected_officials_association").await;
    let territory = app.territory("Lorient", "commune", "56121").await;
    let cases = [
        (json!({"name": "x", "role": "admin"}), "/role"),
        (json!({"name": "x", "role": "partner"}), "/organization_id"),
        (json!({"name": "x", "role": "territory"}), "/territory_id"),
        (
            json!({"name": "x", "role": "territory", "territory_id": territory, "organization_id": org}),
            "/organization_id",
        ),
        (
            json!({"name": "x", "role": "analyst", "territory_id": territory}),
            "/territory_id",
        ),
        (
            json!({"name": "x", "role": "partner", "organization_id": uuid::Uuid::now_v7()}),
            "/organization_id",
        ),
        (json!({"name": "", "role": "analyst"}), "/name"),
        (
            json!({"name": "x", "role": "analyst", "rate_limit_per_minute": 0}),
            "/rate_limit_per_minute",
        ),
    ];
    for (body, pointer) in cases {
        let r = app.post("/api/v1/clients", body.clone()).await;
        r.assert_problem(422, "validation_failed");
        let pointers: Vec<&str> = r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["pointer"].as_str().unwrap())
            .collect();
        assert!(pointers.contains(&pointer), "{body}: {}", r.body);
    }
    let (tid, tsecret) = app
        .client(json!({"name": "Lorient", "role": "territory", "territory_id": territory}))
        .await;
    let c = claims_of(&app.client_token(&tid, &tsecret).await);
    assert_eq!(c["territory"], territory);
    // Only admins manage clients.
    let staff = app.token(fabriques_api::auth::Role::AnctStaff, None, None);
    app.raw(
        Method::POST,
        "/api/v1/clients",
        Some(&staff),
        Some(json!({"name": "x", "role": "analyst"})),
    )
    .await
    .assert_problem(403, "forbidden");
}

/// A token's claims without `cgen`, signed again: a token as this server issued them before
/// the claim existed.
fn without_generation(token: &str) -> String {
    let mut c = claims_of(token);
    c.as_object_mut().unwrap().remove("cgen");
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &c,
        &jsonwebtoken::EncodingKey::from_secret(crate::helpers::SECRET.as_bytes()),
    )
    .unwrap()
}

async fn reads_organizations(app: &TestApp, token: &str) -> crate::helpers::Resp {
    app.raw(Method::GET, "/api/v1/organizations", Some(token), None)
        .await
}

fn assert_rotated_away(r: &crate::helpers::Resp) {
    r.assert_problem(401, "unauthorized");
    assert!(
        r.body["detail"].as_str().unwrap().contains("rotated"),
        "{}",
        r.body
    );
    assert!(
        r.headers
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Bearer realm=\"fabriques\", error=\"invalid_token\""),
        "{:?}",
        r.headers
    );
}

/// Rotating a secret ends the tokens issued with the old one at once; tokens issued after it
/// (even in the same second) work. A token without `cgen` (issued before the claim existed)
/// counts as issued before the first rotation.
async fn rotation_ends_the_tokens_issued_before_it(app: TestApp) {
    let (id, secret) = app
        .client(json!({"name": "Observatoire", "role": "analyst"}))
        .await;
    let before = app.client_token(&id, &secret).await;
    let legacy = without_generation(&before);
    assert_eq!(reads_organizations(&app, &before).await.status, 200);
    assert_eq!(
        reads_organizations(&app, &legacy).await.status,
        200,
        "a token without cgen of a client never rotated lives until it expires"
    );

    let rotated = app
        .post(&format!("/api/v1/clients/{id}/rotate-secret"), json!({}))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let secret = rotated.body["client_secret"].as_str().unwrap().to_owned();
    // Minted at once, within the same second as the rotation as often as not.
    let after = app.client_token(&id, &secret).await;
    assert_rotated_away(&reads_organizations(&app, &before).await);
    assert_rotated_away(&reads_organizations(&app, &legacy).await);
    assert_eq!(reads_organizations(&app, &after).await.status, 200);
    // Refused before any handler runs, writes included.
    let write = app
        .raw(
            Method::POST,
            "/api/v1/organizations",
            Some(&before),
            Some(json!({"name": "x", "kind": "other"})),
        )
        .await;
    assert_eq!(write.status, 401, "{}", write.body);

    // Each rotation ends the tokens of the one before.
    let again = app
        .post(&format!("/api/v1/clients/{id}/rotate-secret"), json!({}))
        .await;
    assert_eq!(again.status, 200, "{}", again.body);
    let latest = app
        .client_token(&id, again.body["client_secret"].as_str().unwrap())
        .await;
    assert_rotated_away(&reads_organizations(&app, &after).await);
    assert_eq!(reads_organizations(&app, &latest).await.status, 200);
    // The generation the token was issued under rides in its `cgen` claim.
    let generations: Vec<Value> = [&before, &after, &latest]
        .iter()
        .map(|t| claims_of(t)["cgen"].clone())
        .collect();
    assert_eq!(generations, vec![json!(0), json!(1), json!(2)]);
}

/// A flood of wrong secrets for one client: one verification at a time for that client
/// (the others 429 at once, without spending argon2's memory), never a 500, and the right
/// secret works as soon as the flood is over.
async fn a_flood_of_wrong_secrets_is_throttled_per_client(app: TestApp) {
    let (id, secret) = app
        .client(json!({"name": "Observatoire", "role": "anct_staff"}))
        .await;
    let attempts = (0..30).map(|i| {
        let app = &app;
        let id = id.clone();
        async move {
            let wrong = format!("fsec_wrong-{i}");
            app.token_request(Some((&id, &wrong)), &[("grant_type", "client_credentials")])
                .await
                .status
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&429),
        "no attempt was throttled: {statuses:?}"
    );
    assert!(
        statuses.contains(&401),
        "no attempt was verified: {statuses:?}"
    );
    let ok = app
        .token_request(
            Some((&id, &secret)),
            &[("grant_type", "client_credentials")],
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

/// A client limited to `read` gets tokens that read and never write; a client with both
/// scopes may ask for fewer; each operation needs its scope (403 `insufficient_scope`).
async fn tokens_carry_scopes_checked_per_operation(app: TestApp) {
    let (f, _) = app.ready_fabrique(1, 8).await;
    app.transition(&format!("/api/v1/fabriques/{f}"), "open_recruitment")
        .await;
    let amf = app.org("AMF", "elected_officials_association").await;
    let created = app
        .post(
            "/api/v1/clients",
            json!({"name": "Tableau de bord", "role": "partner", "organization_id": amf, "scopes": ["read"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["client"]["scopes"], json!(["read"]));
    let id = created.body["client_id"].as_str().unwrap().to_owned();
    let secret = created.body["client_secret"].as_str().unwrap().to_owned();
    let token = |scope: Option<&'static str>| {
        let app = &app;
        let (id, secret) = (id.clone(), secret.clone());
        async move {
            let mut form = vec![("grant_type", "client_credentials")];
            if let Some(s) = scope {
                form.push(("scope", s));
            }
            app.token_request(Some((&id, &secret)), &form).await
        }
    };
    let r = token(None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["scope"], "read");
    let reader = r.body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims_of(&reader)["scope"], "read");
    for more in ["write", "read write"] {
        assert_oauth_error(&token(Some(more)).await, 400, "invalid_scope");
    }
    let ok = app
        .raw(
            Method::GET,
            &format!("/api/v1/fabriques/{f}"),
            Some(&reader),
            None,
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let attach = |token: String| {
        let app = &app;
        let f = f.clone();
        async move {
            app.raw(
                Method::PUT,
                "/api/v1/external-ids/fabrique/AMF-7",
                Some(&token),
                Some(json!({"entity_id": f})),
            )
            .await
        }
    };
    let r = attach(reader).await;
    r.assert_problem(403, "insufficient_scope");
    let challenge = r
        .headers
        .get("www-authenticate")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains("error=\"insufficient_scope\"") && challenge.contains("scope=\"write\""),
        "{challenge}"
    );

    // A client with both scopes: a token asked for `read` cannot write; one with both can.
    let (both_id, both_secret) = app
        .client(json!({"name": "CRM", "role": "partner", "organization_id": amf}))
        .await;
    let ask = |scope: &'static str| {
        let app = &app;
        let (id, secret) = (both_id.clone(), both_secret.clone());
        async move {
            let r = app
                .token_request(
                    Some((&id, &secret)),
                    &[("grant_type", "client_credentials"), ("scope", scope)],
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(r.body["scope"], scope);
            r.body["access_token"].as_str().unwrap().to_owned()
        }
    };
    attach(ask("read").await)
        .await
        .assert_problem(403, "insufficient_scope");
    let writer = ask("write").await;
    let r = app
        .raw(Method::GET, "/api/v1/fabriques", Some(&writer), None)
        .await;
    r.assert_problem(403, "insufficient_scope");
    let r = attach(ask("read write").await).await;
    assert!(r.status == 200 || r.status == 201, "{}", r.body);
    // An operator's token (no scope claim) does everything its role permits.
    let partner = app.token(Role::Partner, Some(&amf), None);
    let r = app
        .raw(
            Method::DELETE,
            "/api/v1/external-ids/fabrique/AMF-7",
            Some(&partner),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    // No scope at all is refused when the client is created.
    app.post(
        "/api/v1/clients",
        json!({"name": "Rien", "role": "partner", "organization_id": amf, "scopes": []}),
    )
    .await
    .assert_problem(422, "validation_failed");
    app.post(
        "/api/v1/clients",
        json!({"name": "Admin", "role": "partner", "organization_id": amf, "scopes": ["admin"]}),
    )
    .await
    .assert_problem(422, "validation_failed");
}

both_engines!(
    tokens_carry_scopes_checked_per_operation,
    machine_clients_get_tokens_and_revocation_is_immediate,
    client_bindings_are_checked,
    rotation_ends_the_tokens_issued_before_it,
    a_flood_of_wrong_secrets_is_throttled_per_client,
);
