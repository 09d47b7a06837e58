//! Key configuration: generated secret, configured secrets, EdDSA and RS256 key files.

use std::net::TcpListener;
use std::path::PathBuf;

use fabriques_api::auth::{JwtKeys, KeyOrigin, Role};
use fabriques_api::config::{
    DbSettings, JwtAlgorithm, JwtSettings, LogFormat, ServiceOptions, Settings,
};

use crate::helpers::jwt_settings;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")).join(name)
}

fn unconfigured() -> JwtSettings {
    JwtSettings {
        secret: None,
        ..jwt_settings()
    }
}

#[test]
fn without_a_key_a_256_bit_secret_is_generated_once_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let a = JwtKeys::load(&unconfigured(), dir.path()).unwrap();
    assert_eq!(a.origin, KeyOrigin::Generated);
    let text = std::fs::read_to_string(dir.path().join("jwt-secret")).unwrap();
    assert!(
        text.trim().len() >= 43,
        "32 bytes in base64url: {}",
        text.len()
    );
    let token = a.mint("me", Role::Admin, None, None, 60).unwrap();
    let b = JwtKeys::load(&unconfigured(), dir.path()).unwrap();
    assert_eq!(b.verify(&token).unwrap().sub, "me");
    // Another data directory means another secret.
    let other = JwtKeys::load(&unconfigured(), tempfile::tempdir().unwrap().path()).unwrap();
    assert!(other.verify(&token).is_err());
}

#[test]
fn a_short_hs256_secret_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = JwtKeys::load(
        &JwtSettings {
            secret: Some("too-short".into()),
            ..jwt_settings()
        },
        dir.path(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("at least 32"), "{err}");
}

#[test]
fn eddsa_and_rs256_key_files_sign_and_verify_and_refuse_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let load = |alg, prefix: &str| {
        JwtKeys::load(
            &JwtSettings {
                algorithm: alg,
                secret: None,
                public_key_file: Some(fixture(&format!("{prefix}-public.pem"))),
                private_key_file: Some(fixture(&format!("{prefix}-private.pem"))),
                ..jwt_settings()
            },
            dir.path(),
        )
        .unwrap()
    };
    let ed = load(JwtAlgorithm::EdDsa, "ed25519");
    let rsa = load(JwtAlgorithm::Rs256, "rsa");
    let hs = JwtKeys::load(&jwt_settings(), dir.path()).unwrap();
    let ed_token = ed
        .mint("partner-system", Role::Analyst, None, None, 60)
        .unwrap();
    let rsa_token = rsa
        .mint("partner-system", Role::Analyst, None, None, 60)
        .unwrap();
    assert_eq!(ed.verify(&ed_token).unwrap().role, Role::Analyst);
    assert_eq!(rsa.verify(&rsa_token).unwrap().role, Role::Analyst);
    assert!(ed.verify(&rsa_token).is_err() && rsa.verify(&ed_token).is_err());
    assert!(
        hs.verify(&ed_token).is_err()
            && ed
                .verify(&hs.mint("x", Role::Admin, None, None, 60).unwrap())
                .is_err()
    );
    // Verification alone needs no private key; minting then says what is missing.
    let verify_only = JwtKeys::load(
        &JwtSettings {
            algorithm: JwtAlgorithm::EdDsa,
            secret: None,
            public_key_file: Some(fixture("ed25519-public.pem")),
            ..jwt_settings()
        },
        dir.path(),
    )
    .unwrap();
    assert!(verify_only.verify(&ed_token).is_ok());
    assert!(verify_only.mint("x", Role::Admin, None, None, 60).is_err());
}

fn settings(bind: &str, dir: &std::path::Path, jwt: JwtSettings) -> Settings {
    Settings {
        bind: bind.parse().unwrap(),
        log_format: LogFormat::Text,
        db: DbSettings {
            database_url: None,
            data_dir: dir.to_path_buf(),
            tuning: Default::default(),
        },
        jwt,
        options: ServiceOptions::default(),
    }
}

#[tokio::test]
async fn a_generated_secret_never_listens_beyond_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let err = fabriques_api::Application::build(&settings("0.0.0.0:0", dir.path(), unconfigured()))
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("generated JWT secret"), "{err}");
    // With a configured secret it starts (on a port we pick to stay off the network).
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = fabriques_api::Application::build(&settings(
        &format!("127.0.0.1:{port}"),
        dir.path(),
        jwt_settings(),
    ))
    .await
    .unwrap();
    assert_eq!(app.port(), port);
    assert!(
        dir.path().join("fabriques.db").exists(),
        "the SQLite file is created in the data directory"
    );
}

fn eddsa(public: &str, private: Option<&str>, previous: &[&str]) -> JwtSettings {
    JwtSettings {
        algorithm: JwtAlgorithm::EdDsa,
        secret: None,
        public_key_file: Some(fixture(public)),
        private_key_file: private.map(fixture),
        previous_public_key_files: previous.iter().map(|p| fixture(p)).collect(),
        ..jwt_settings()
    }
}

fn header_kid(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .unwrap()
        .kid
        .expect("kid")
}

#[test]
fn key_rotation_keeps_the_old_key_verifying_and_kid_selects_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let old = JwtKeys::load(
        &eddsa("ed25519-public.pem", Some("ed25519-private.pem"), &[]),
        dir.path(),
    )
    .unwrap();
    let rotated = JwtKeys::load(
        &eddsa(
            "ed25519-next-public.pem",
            Some("ed25519-next-private.pem"),
            &["ed25519-public.pem"],
        ),
        dir.path(),
    )
    .unwrap();
    let old_token = old.mint("sys", Role::Analyst, None, None, 60).unwrap();
    let new_token = rotated.mint("sys", Role::Analyst, None, None, 60).unwrap();
    // Each token names its key; the kids are the keys' RFC 7638 thumbprints.
    assert_eq!(header_kid(&old_token), old.kids()[0]);
    assert_eq!(header_kid(&new_token), rotated.kids()[0]);
    assert_ne!(old.kids()[0], rotated.kids()[0]);
    assert_eq!(rotated.kids()[1], old.kids()[0]);
    // After the rotation both verify; before it, only the old one.
    assert!(rotated.verify(&old_token).is_ok());
    assert!(rotated.verify(&new_token).is_ok());
    assert!(old.verify(&new_token).is_err());
    // Once the old key is dropped from the configuration, its tokens stop working.
    let after = JwtKeys::load(
        &eddsa(
            "ed25519-next-public.pem",
            Some("ed25519-next-private.pem"),
            &[],
        ),
        dir.path(),
    )
    .unwrap();
    let err = after.verify(&old_token).unwrap_err();
    assert!(err.to_string().contains("unknown key id"), "{err}");
    // A private key that does not match the public key is refused at start.
    let err = JwtKeys::load(
        &eddsa("ed25519-next-public.pem", Some("ed25519-private.pem"), &[]),
        dir.path(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");
}

#[test]
fn the_jwks_publishes_public_keys_only() {
    let dir = tempfile::tempdir().unwrap();
    let rotated = JwtKeys::load(
        &eddsa(
            "ed25519-next-public.pem",
            Some("ed25519-next-private.pem"),
            &["ed25519-public.pem", "rsa-public.pem"],
        ),
        dir.path(),
    )
    .unwrap();
    let jwks = serde_json::to_value(rotated.jwks()).unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 3, "{jwks}");
    let kids: Vec<&str> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, rotated.kids());
    assert_eq!(keys[0]["kty"], "OKP");
    assert_eq!(keys[0]["crv"], "Ed25519");
    assert_eq!(keys[0]["alg"], "EdDSA");
    assert_eq!(keys[0]["use"], "sig");
    assert_eq!(keys[2]["kty"], "RSA");
    assert_eq!(keys[2]["alg"], "RS256");
    for k in keys {
        assert!(
            k.get("d").is_none() && k.get("p").is_none(),
            "no private part: {k}"
        );
    }
    // A shared secret is never published.
    let hs = JwtKeys::load(&jwt_settings(), dir.path()).unwrap();
    assert!(hs.jwks().keys.is_empty());
}

async fn rotation_over_http(engine: crate::helpers::Engine) {
    let settings = eddsa(
        "ed25519-next-public.pem",
        Some("ed25519-next-private.pem"),
        &["ed25519-public.pem"],
    );
    let Some(app) =
        crate::helpers::spawn_app_full(engine, crate::helpers::test_options(), settings).await
    else {
        eprintln!("SKIPPED on PostgreSQL: FABRIQUES_TEST_SKIP_POSTGRES=1");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let old = JwtKeys::load(
        &eddsa("ed25519-public.pem", Some("ed25519-private.pem"), &[]),
        dir.path(),
    )
    .unwrap();
    let jwks = app
        .raw(reqwest::Method::GET, "/.well-known/jwks.json", None, None)
        .await;
    assert_eq!(jwks.status, 200);
    let kids: Vec<String> = jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kids.len(), 2, "{}", jwks.body);
    // A token signed by the old key, still accepted; the server's own tokens use the new key.
    let old_token = old.mint("admin@old", Role::Admin, None, None, 60).unwrap();
    assert_eq!(header_kid(&old_token), kids[1]);
    assert_eq!(header_kid(&app.admin), kids[0]);
    for token in [&old_token, &app.admin] {
        let r = app
            .raw(
                reqwest::Method::GET,
                "/api/v1/organizations",
                Some(token),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    // A token from a key we do not hold is refused, whatever kid it claims.
    let rsa = JwtKeys::load(
        &JwtSettings {
            algorithm: JwtAlgorithm::Rs256,
            secret: None,
            public_key_file: Some(fixture("rsa-public.pem")),
            private_key_file: Some(fixture("rsa-private.pem")),
            ..jwt_settings()
        },
        dir.path(),
    )
    .unwrap();
    let foreign = rsa.mint("intruder", Role::Admin, None, None, 60).unwrap();
    app.raw(
        reqwest::Method::GET,
        "/api/v1/organizations",
        Some(&foreign),
        None,
    )
    .await
    .assert_problem(401, "unauthorized");
}

#[tokio::test]
async fn key_rotation_over_http_sqlite() {
    rotation_over_http(crate::helpers::Engine::Sqlite).await;
}

#[tokio::test]
async fn key_rotation_over_http_postgres() {
    rotation_over_http(crate::helpers::Engine::Postgres).await;
}
