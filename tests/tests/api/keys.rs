//! Key configuration: generated secret, configured secrets, EdDSA and RS256 key files.

use std::net::TcpListener;
use std::path::PathBuf;

use fabriques_api::auth::{JwtKeys, KeyOrigin, Role};
use fabriques_api::config::{DbSettings, JwtAlgorithm, JwtSettings, LogFormat, Settings};

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
        },
        jwt,
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
