//! The partner guide's script (`docs/examples/partner_sync.py`) against the real service: it
//! gets a token, follows the feed, resumes from its saved cursor, and checks webhook signatures.

use std::path::PathBuf;
use std::process::Command;

use serde_json::json;

use crate::both_engines;
use crate::helpers::TestApp;

fn script() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/examples/partner_sync.py"
    ))
}

/// Runs the script (python3 is required, as for schemathesis in CI); returns its stdout.
async fn run(app: &TestApp, id: &str, secret: &str, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new("python3");
    cmd.arg(script())
        .args(args)
        .env("FABRIQUES_URL", &app.base)
        .env("FABRIQUES_CLIENT_ID", id)
        .env("FABRIQUES_CLIENT_SECRET", secret);
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .unwrap()
        .expect("python3 runs (it is needed by the partner guide test)");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success() || args.first() == Some(&"verify-webhook"),
        "script failed: {stderr}"
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
    )
}

/// Runs the script with `--once` until it has printed `want` lines in all: on PostgreSQL the
/// feed holds back events while any transaction of the cluster is still open (other tests'),
/// so one run may stop early; the saved cursor makes the next run continue.
async fn sync_until(
    app: &TestApp,
    id: &str,
    secret: &str,
    state: &str,
    want: usize,
) -> Vec<String> {
    let mut lines = Vec::new();
    for _ in 0..100 {
        let (_, out) = run(app, id, secret, &["--once", "--state", state]).await;
        lines.extend(out.lines().map(str::to_owned));
        if lines.len() >= want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    lines
}

async fn the_partner_guide_script_syncs_and_verifies(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("cursor");
    let state = state.to_str().unwrap();
    let (id, secret) = app
        .client(json!({"name": "Guide", "role": "analyst"}))
        .await;
    let a = app
        .post("/api/v1/fabriques", json!({"title": "Première"}))
        .await
        .id();
    let b = app
        .post("/api/v1/fabriques", json!({"title": "Deuxième"}))
        .await
        .id();
    let lines = sync_until(&app, &id, &secret, state, 2).await;
    assert_eq!(
        lines,
        vec![
            format!("upsert fabrique {a} fabrique.created"),
            format!("upsert fabrique {b} fabrique.created"),
        ]
    );
    // Resumed from the saved cursor: nothing twice, only what is new.
    let (_, again) = run(&app, &id, &secret, &["--once", "--state", state]).await;
    assert_eq!(again, "");
    let r = app
        .raw(
            reqwest::Method::DELETE,
            &format!("/api/v1/fabriques/{a}"),
            Some(&app.admin.clone()),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let after = sync_until(&app, &id, &secret, state, 1).await;
    assert_eq!(after, vec![format!("delete fabrique {a} fabrique.deleted")]);

    // Webhook verification, with a signature made by the server's own code.
    let body = br#"{"id":"x","action":"fabrique.created"}"#;
    let body_file = dir.path().join("body.json");
    std::fs::write(&body_file, body).unwrap();
    let body_file = body_file.to_str().unwrap();
    let now = chrono::Utc::now().timestamp();
    let header = fabriques_api::jobs::webhooks::signature("whsec_test", now, body);
    let (ok, _) = run(
        &app,
        &id,
        &secret,
        &["verify-webhook", "whsec_test", &header, body_file],
    )
    .await;
    assert!(ok, "a genuine signature verifies");
    let (ok, _) = run(
        &app,
        &id,
        &secret,
        &["verify-webhook", "whsec_other", &header, body_file],
    )
    .await;
    assert!(!ok, "another secret does not");
    let old = fabriques_api::jobs::webhooks::signature("whsec_test", now - 3600, body);
    let (ok, _) = run(
        &app,
        &id,
        &secret,
        &["verify-webhook", "whsec_test", &old, body_file],
    )
    .await;
    assert!(!ok, "an old timestamp is a replay");
}

both_engines!(the_partner_guide_script_syncs_and_verifies);
