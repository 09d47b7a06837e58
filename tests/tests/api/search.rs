//! `q` on Fabriques, lessons and testimonies: every word, without case, accents or
//! punctuation; and the lessons across Fabriques.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::TestApp;
use crate::year::running_fabrique;

both_engines!(
    searches_ignore_case_and_accents_and_need_every_word,
    lessons_are_listed_across_fabriques_by_kind_programme_and_words,
    the_migration_fills_the_search_text_of_existing_rows,
);

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {body}"))
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn found(app: &TestApp, path: &str) -> Vec<String> {
    let r = app.get(path).await;
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    ids(&r.body)
}

async fn searches_ignore_case_and_accents_and_need_every_word(app: TestApp) {
    let littoral = app
        .post(
            "/api/v1/fabriques",
            json!({"title": "Résilience du littoral", "theme": "Érosion côtière"}),
        )
        .await
        .id();
    let rural = app
        .post(
            "/api/v1/fabriques",
            json!({"title": "Mobilités rurales", "theme": "Transports"}),
        )
        .await
        .id();
    let f = "/api/v1/fabriques?q=";
    assert_eq!(
        found(&app, &format!("{f}resilience")).await,
        [littoral.as_str()]
    );
    assert_eq!(
        found(&app, &format!("{f}LITTORAL%20R%C3%A9silience")).await,
        [littoral.as_str()]
    );
    assert_eq!(
        found(&app, &format!("{f}cotiere")).await,
        [littoral.as_str()],
        "the theme is searched"
    );
    assert_eq!(
        found(&app, &format!("{f}mobilit%C3%A9")).await,
        [rural.as_str()]
    );
    assert!(
        found(&app, &format!("{f}littoral%20mobilites"))
            .await
            .is_empty(),
        "every word must match"
    );
    // An edit is searched by its new text only.
    let r = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/fabriques/{littoral}"),
            Some(&app.admin),
            Some(json!({"title": "Transition énergétique"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(found(&app, &format!("{f}resilience")).await.is_empty());
    assert_eq!(
        found(&app, &format!("{f}energetique%20erosion")).await,
        [littoral.as_str()]
    );

    // Testimonies: the quote and the role, never the speaker's name.
    let run = running_fabrique(&app, 1).await;
    let t = format!("/api/v1/fabriques/{}/testimonies", run.fabrique);
    let published = app
        .post(&t, json!({"speaker": "Jeanne Dupont", "role": "Maire déléguée", "quote": "Une démarche précieuse pour l'été", "published": true}))
        .await;
    assert_eq!(published.status, 201, "{}", published.body);
    let draft = app
        .post(
            &t,
            json!({"speaker": "Paul Martin", "quote": "Précieuse aussi", "published": false}),
        )
        .await;
    assert_eq!(draft.status, 201, "{}", draft.body);
    let q = "/api/v1/testimonies?q=";
    let mut both = found(&app, &format!("{q}precieuse")).await;
    both.sort();
    let mut expected = vec![published.id(), draft.id()];
    expected.sort();
    assert_eq!(both, expected);
    assert_eq!(
        found(&app, &format!("{q}deleguee%20ete")).await,
        [published.id()]
    );
    assert!(
        found(&app, &format!("{q}dupont")).await.is_empty(),
        "a speaker's name is not searched"
    );
    // The public sees the published one only.
    let r = app
        .raw(Method::GET, &format!("{q}PRECIEUSE"), None, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(ids(&r.body), [published.id()]);
    let r = app.get(&format!("{t}?q=martin")).await;
    assert_eq!(ids(&r.body), Vec::<String>::new());
    app.get(&format!("{q}{}", "x".repeat(301)))
        .await
        .assert_problem(400, "invalid_query");
}

async fn lessons_are_listed_across_fabriques_by_kind_programme_and_words(app: TestApp) {
    let programmes = app.get("/api/v1/programmes?limit=2").await;
    let programme = programmes.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = running_fabrique(&app, 1).await.fabrique;
    // Lessons are recorded while a Fabrique recruits, too.
    let (second, _) = app.ready_fabrique(1, 8).await;
    let r = app
        .transition(&format!("/api/v1/fabriques/{second}"), "open_recruitment")
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/fabriques/{second}"),
            Some(&app.admin),
            Some(json!({"programme_id": programme})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let lesson = |f: &str, body: Value| {
        let app = &app;
        let path = format!("/api/v1/fabriques/{f}/lessons");
        async move {
            let r = app.post(&path, body).await;
            assert_eq!(r.status, 201, "{}", r.body);
            r.id()
        }
    };
    let elus = lesson(&first, json!({"title": "Associer les élus dès le diagnostic", "body": "Un séminaire d'ouverture en mairie.", "kind": "lesson"})).await;
    let foncier = lesson(&second, json!({"title": "Le foncier se prépare tôt", "body": "Dix ans à l'avance.", "kind": "programme_proposal", "target_programme_id": programme})).await;
    let habitants = lesson(
        &second,
        json!({"title": "Les habitants au séminaire", "body": "Ouvrir les ateliers.", "kind": "lesson"}),
    )
    .await;

    let l = "/api/v1/lessons";
    let mut all = found(&app, &format!("{l}?limit=200")).await;
    all.sort();
    let mut expected = vec![elus.clone(), foncier.clone(), habitants.clone()];
    expected.sort();
    assert_eq!(all, expected);
    assert_eq!(found(&app, &format!("{l}?q=ELUS")).await, [elus.as_str()]);
    assert_eq!(
        found(&app, &format!("{l}?q=seminaire%20ouvrir")).await,
        [habitants.as_str()],
        "the body is searched"
    );
    assert_eq!(
        found(&app, &format!("{l}?kind=programme_proposal")).await,
        [foncier.as_str()]
    );
    assert_eq!(
        found(&app, &format!("{l}?target_programme={programme}")).await,
        [foncier.as_str()]
    );
    let mut of_programme = found(&app, &format!("{l}?programme={programme}")).await;
    of_programme.sort();
    let mut expected = vec![foncier.clone(), habitants.clone()];
    expected.sort();
    assert_eq!(of_programme, expected);
    assert_eq!(
        found(&app, &format!("{l}?fabrique={first}")).await,
        [elus.as_str()]
    );
    assert_eq!(
        found(&app, &format!("/api/v1/fabriques/{first}/lessons?q=elus")).await,
        [elus]
    );
    // Lessons are for signed callers, like a Fabrique's.
    app.raw(Method::GET, l, None, None)
        .await
        .assert_problem(401, "unauthorized");
    app.get(&format!("{l}?kind=nonsense"))
        .await
        .assert_problem(400, "invalid_query");
}

/// Rows written before the search column existed are searchable once it is added.
async fn the_migration_fills_the_search_text_of_existing_rows(app: TestApp) {
    use migration::{Migrator, MigratorTrait};
    let f = app
        .post(
            "/api/v1/fabriques",
            json!({"title": "Îles et archipels", "theme": "Océans"}),
        )
        .await
        .id();
    let all = Migrator::migrations();
    let at = all
        .iter()
        .position(|m| m.name() == "m20261208_000001_search")
        .expect("the migration");
    let after = u32::try_from(all.len() - at).unwrap();
    Migrator::down(&app.db, Some(after)).await.unwrap();
    Migrator::up(&app.db, None).await.unwrap();
    assert_eq!(found(&app, "/api/v1/fabriques?q=iles%20oceans").await, [f]);
}
