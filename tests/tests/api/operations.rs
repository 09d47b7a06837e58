use reqwest::Method;

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(health_docs_and_request_ids_work_without_a_token);

async fn health_docs_and_request_ids_work_without_a_token(app: TestApp) {
    for path in ["/health/live", "/health/ready"] {
        let r = app.raw(Method::GET, path, None, None).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.body["status"], "ok");
        assert!(r.headers.get("x-request-id").is_some());
    }
    let spec = app
        .raw(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(spec.status, 200);
    let expected: serde_json::Value =
        serde_json::from_str(&fabriques_api::edge::openapi::spec_json()).unwrap();
    assert_eq!(spec.body, expected, "the served spec is the generated one");
    let ui = app
        .client
        .get(format!("{}/swagger-ui/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status(), 200);
    assert!(
        ui.text().await.unwrap().contains("swagger"),
        "Swagger UI is served from the binary"
    );
    let redirect = app
        .client
        .get(format!("{}/swagger-ui", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 308);
    assert_eq!(redirect.headers()["location"], "/swagger-ui/");
}
