use reqwest::Method;

use crate::both_engines;
use crate::helpers::TestApp;

both_engines!(the_demo_data_loads_once_and_says_what_is_unverified);

async fn the_demo_data_loads_once_and_says_what_is_unverified(app: TestApp) {
    fabriques_api::loaders::seed::demo(&app.db)
        .await
        .expect("demo loads into an empty database");
    let public = app
        .raw(
            Method::GET,
            "/api/v1/fabriques?limit=200&count=true",
            None,
            None,
        )
        .await;
    assert_eq!(
        public.body["total"],
        fabriques_api::loaders::seed::DEMO_FABRIQUES as u64,
        "{}",
        public.body
    );
    let items = public.body["items"].as_array().unwrap();
    let sites = items
        .iter()
        .find(|f| f["title"] == "Sites industriels de demain")
        .expect("Sites industriels");
    assert!(sites["source"].as_str().unwrap().contains("unverified"));
    assert_eq!(sites["programme"], "Territoires d'industrie");
    let acronyms: Vec<&str> = sites["partners"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["acronym"].as_str())
        .collect();
    assert!(
        acronyms.contains(&"ANCT") && acronyms.contains(&"CDC"),
        "{acronyms:?}"
    );
    let id = sites["id"].as_str().unwrap();
    let parts = app
        .get(&format!("/api/v1/fabriques/{id}/participations?count=true"))
        .await;
    assert_eq!(parts.body["total"], 8, "{}", parts.body);
    let corsica_free = app.get("/api/v1/territories?code=97361").await;
    assert_eq!(corsica_free.body["items"][0]["name"], "Awala-Yalimapo");
    assert_eq!(corsica_free.body["items"][0]["department"], "973");
    assert_eq!(corsica_free.body["items"][0]["region"], "03");
    // Every demo territory has its region from the reference and approximate coordinates.
    let all = app.get("/api/v1/territories?limit=200").await;
    let all = all.body["items"].as_array().unwrap();
    assert!(all.len() >= 20);
    for t in all {
        assert!(t["region"].is_string(), "{t}");
        let (lat, lon) = (t["latitude"].as_f64(), t["longitude"].as_f64());
        assert!(
            lat.is_some_and(|l| (-90.0..=90.0).contains(&l))
                && lon.is_some_and(|l| (-180.0..=180.0).contains(&l)),
            "{t}"
        );
    }
    let guyane = &corsica_free.body["items"][0];
    assert!(
        guyane["latitude"].as_f64().unwrap() < 10.0,
        "Awala-Yalimapo is near the equator"
    );
    assert!(
        fabriques_api::loaders::seed::demo(&app.db).await.is_err(),
        "a second load must be refused"
    );
}
