//! The synthetic dataset: the figures match what the generator says it wrote, and the same
//! seed gives the same rows on every engine.

use fabriques_api::auth::Role;
use reqwest::Method;
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};

use crate::both_engines;
use crate::helpers::TestApp;

async fn fabrique_rows(db: &sea_orm::DatabaseConnection) -> Vec<(String, String, String)> {
    entity::fabrique::Entity::find()
        .order_by_asc(entity::fabrique::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.id.to_string(), f.title, f.status))
        .collect()
}

async fn the_synthetic_dataset_is_deterministic_and_counted(app: TestApp) {
    let counts = fabriques_api::loaders::synthetic::seed(&app.db, 60, 3)
        .await
        .unwrap();
    assert_eq!(counts.fabriques, 60);
    if app.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // The planner's statistics are those of the loaded tables, not of the empty ones.
        let row = app
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT reltuples::bigint AS n FROM pg_class WHERE relname = 'fabriques'",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get_by::<i64, _>("n").unwrap(), 60);
    }
    assert!(counts.participations >= 4 * 40, "{counts:?}");
    let analyst = app.token(Role::Analyst, None, None);
    let o = app
        .raw(Method::GET, "/api/v1/stats/overview", Some(&analyst), None)
        .await
        .body;
    assert_eq!(o["fabriques"], counts.fabriques as i64);
    assert_eq!(o["participations"], counts.participations as i64);
    assert_eq!(o["roadmap_actions"], counts.roadmap_actions as i64);
    let seminars: i64 = o["seminars"]
        .as_object()
        .unwrap()
        .values()
        .map(|k| {
            k["planned"].as_i64().unwrap()
                + k["held"].as_i64().unwrap()
                + k["cancelled"].as_i64().unwrap()
        })
        .sum();
    assert_eq!(seminars, counts.seminars as i64);
    // Each Fabrique past draft has 4 to 8 territories.
    let list = app
        .get("/api/v1/fabriques?limit=200&status=running,completed")
        .await;
    for f in list.body["items"].as_array().unwrap() {
        let parts = app
            .get(&format!(
                "/api/v1/fabriques/{}/participations?count=true",
                f["id"].as_str().unwrap()
            ))
            .await;
        let n = parts.body["total"].as_i64().unwrap();
        assert!((4..=8).contains(&n), "{n} territories");
    }
    // The same seed on a fresh SQLite database gives the same rows, ids included.
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("again.db").display()
    );
    let other = fabriques_api::db::connect_and_migrate(&url).await.unwrap();
    let again = fabriques_api::loaders::synthetic::seed(&other, 60, 3)
        .await
        .unwrap();
    assert_eq!(again, counts);
    assert_eq!(fabrique_rows(&other).await, fabrique_rows(&app.db).await);
    // Another seed, other data; a second load into the same database is refused.
    let dir2 = tempfile::tempdir().unwrap();
    let url2 = format!(
        "sqlite://{}?mode=rwc",
        dir2.path().join("other.db").display()
    );
    let third = fabriques_api::db::connect_and_migrate(&url2).await.unwrap();
    fabriques_api::loaders::synthetic::seed(&third, 60, 4)
        .await
        .unwrap();
    assert_ne!(fabrique_rows(&third).await, fabrique_rows(&app.db).await);
    assert!(
        fabriques_api::loaders::synthetic::seed(&app.db, 1, 3)
            .await
            .is_err()
    );
}

both_engines!(the_synthetic_dataset_is_deterministic_and_counted);
