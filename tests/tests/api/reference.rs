//! The official geography: look-ups for autocompletion, and territories filled and checked
//! from it. Expected values are read from the shipped files, not from the API's own tables.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::TestApp;

/// The row of `code` in one of the shipped CSV files, as header → value. Read with the
/// system's `gzip`, so the test does not share the server's decoder.
fn shipped(file: &str, code: &str) -> std::collections::HashMap<String, String> {
    let path = format!("{}/../reference/cog/{file}", env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(&path)
        .output()
        .expect("gzip");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let line = lines
        .find(|l| l.starts_with(&format!("{code},")))
        .unwrap_or_else(|| panic!("{code} not in {file}"));
    // The rows used here have no quoted fields.
    header
        .iter()
        .zip(line.split(','))
        .map(|(h, v)| ((*h).to_owned(), v.to_owned()))
        .collect()
}

/// The names of a page's items, in order.
fn names(r: &Value) -> Vec<&str> {
    r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

fn codes(r: &Value) -> Vec<String> {
    r["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            i["code"]
                .as_str()
                .or(i["siren"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn reference_look_ups_for_autocompletion(app: TestApp) {
    // Corsica, by code, without a token.
    let r = app
        .raw(Method::GET, "/api/v1/reference/communes/2A004", None, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let row = shipped("communes.csv.gz", "2A004");
    assert_eq!(r.body["name"], row["name"]);
    assert_eq!(r.body["department"], "2A");
    assert_eq!(r.body["region"], "94");
    assert_eq!(r.body["epci_siren"], row["epci_siren"]);
    assert_eq!(
        r.body["population"],
        row["population"].parse::<i64>().unwrap()
    );
    assert!(r.headers.get("etag").is_some());
    // Overseas: Guyane.
    let r = app
        .raw(Method::GET, "/api/v1/reference/communes/97361", None, None)
        .await;
    assert_eq!(r.body["name"], "Awala-Yalimapo");
    assert_eq!(r.body["department"], "973");
    assert_eq!(r.body["region"], "03");
    // An EPCI by SIREN.
    let r = app
        .raw(Method::GET, "/api/v1/reference/epci/242900314", None, None)
        .await;
    assert_eq!(r.body["name"], "Brest Métropole");
    assert_eq!(r.body["kind"], "METRO");
    assert_eq!(r.body["departments"], json!(["29"]));
    // Unknown codes.
    for path in [
        "/api/v1/reference/communes/99999",
        "/api/v1/reference/epci/123456789",
    ] {
        app.raw(Method::GET, path, None, None)
            .await
            .assert_problem(404, "not_found");
    }

    // Accent- and case-insensitive search, every word must match.
    let r = app
        .raw(
            Method::GET,
            "/api/v1/reference/communes?q=SAINT%20etienne&department=42",
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let names = names(&r.body);
    assert!(names.contains(&"Saint-Étienne"), "{names:?}");
    assert!(names.iter().all(|n| {
        let n = n.to_lowercase();
        n.contains("saint") && (n.contains("étienne") || n.contains("etienne"))
    }));
    let r = app
        .raw(
            Method::GET,
            "/api/v1/reference/communes?q=ajaccio",
            None,
            None,
        )
        .await;
    assert_eq!(codes(&r.body), vec!["2A004"]);
    // A code prefix.
    let r = app
        .raw(
            Method::GET,
            "/api/v1/reference/communes?q=2a00&limit=200",
            None,
            None,
        )
        .await;
    assert!(codes(&r.body).iter().all(|c| c.starts_with("2A00")));
    assert!(codes(&r.body).contains(&"2A004".to_owned()));
    let r = app
        .raw(Method::GET, "/api/v1/reference/epci?q=brest", None, None)
        .await;
    assert_eq!(codes(&r.body), vec!["242900314"]);

    // Paginated by code, every department exactly once.
    let mut seen = Vec::new();
    let mut path = "/api/v1/reference/departments?limit=40".to_owned();
    loop {
        let r = app.raw(Method::GET, &path, None, None).await;
        assert_eq!(r.status, 200, "{}", r.body);
        seen.extend(codes(&r.body));
        match r.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/reference/departments?limit=40&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 109);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, seen);
    let r = app
        .raw(
            Method::GET,
            "/api/v1/reference/regions?limit=200",
            None,
            None,
        )
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 26);
    let r = app
        .raw(
            Method::GET,
            "/api/v1/reference/regions?q=bretagne",
            None,
            None,
        )
        .await;
    assert_eq!(codes(&r.body), vec!["53"]);
    app.raw(Method::GET, "/api/v1/reference/regions?nope=1", None, None)
        .await
        .assert_problem(400, "invalid_query");
}

async fn territories_are_filled_and_checked_from_the_reference(app: TestApp) {
    // From kind and code alone.
    let r = app
        .post(
            "/api/v1/territories",
            json!({"kind": "commune", "code": "2A004"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let row = shipped("communes.csv.gz", "2A004");
    assert_eq!(r.body["name"], row["name"]);
    assert_eq!(r.body["department"], "2A");
    assert_eq!(r.body["region"], "94");
    assert_eq!(
        r.body["population"],
        row["population"].parse::<i64>().unwrap()
    );
    let r = app
        .post(
            "/api/v1/territories",
            json!({"kind": "metropole", "code": "242900314"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["name"], "Brest Métropole");
    assert_eq!(r.body["department"], "29");
    assert_eq!(r.body["region"], "53");
    // The official name in another case and without accents is accepted, and stored as official.
    let r = app
        .post(
            "/api/v1/territories",
            json!({"name": "awala yalimapo", "kind": "commune", "code": "97361"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["name"], "Awala-Yalimapo");
    assert_eq!(r.body["region"], "03");

    // From the code alone: the kind follows from it (an EPCI's from the reference).
    let alone = |code: &str| {
        let app = &app;
        let body = json!({"code": code});
        async move { app.post("/api/v1/territories", body).await }
    };
    let r = alone("200041317").await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["kind"], "communaute_d_agglomeration");
    assert_eq!(r.body["name"], "CA du Niortais");
    assert_eq!(r.body["population"], 123389);
    let r = alone("29019").await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        (r.body["kind"].as_str(), r.body["name"].as_str()),
        (Some("commune"), Some("Brest"))
    );
    let r = alone("56").await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        (r.body["kind"].as_str(), r.body["name"].as_str()),
        (Some("departement"), Some("Morbihan"))
    );
    for (code, pointer, problem) in [
        ("84", "/kind", "kind_ambiguous"),
        ("200000008", "/kind", "required"),
        ("242900315", "/code", "invalid_siren_checksum"),
        ("5612", "/code", "unrecognised_code"),
    ] {
        let r = alone(code).await;
        r.assert_problem(422, "validation_failed");
        assert_eq!(
            (
                r.body["errors"][0]["pointer"].as_str(),
                r.body["errors"][0]["code"].as_str()
            ),
            (Some(pointer), Some(problem)),
            "{code}: {}",
            r.body
        );
    }
    let r = app
        .post("/api/v1/territories", json!({"name": "Sans code"}))
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/kind");
    // A population that contradicts the reference is refused; the official one is accepted.
    let r = app
        .post(
            "/api/v1/territories",
            json!({"code": "97101", "population": 1}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/population");
    assert_eq!(r.body["errors"][0]["code"], "reference_mismatch");
    let r = app
        .post(
            "/api/v1/territories",
            json!({"code": "97101", "population": 51055}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);

    // An overseas collectivity: three-digit department and region (stored on both engines).
    let r = app
        .post(
            "/api/v1/territories",
            json!({"kind": "commune", "code": "97502"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["department"], "975");
    assert_eq!(r.body["region"], "975");

    // Unknown code: 422 naming it.
    let r = app
        .post(
            "/api/v1/territories",
            json!({"kind": "commune", "code": "56999"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/code");
    assert_eq!(r.body["errors"][0]["code"], "unknown_code");
    assert!(
        r.body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("56999")
    );
    // A contradicting name, department or kind is refused, not corrected.
    let r = app
        .post(
            "/api/v1/territories",
            json!({"name": "Quimper", "kind": "commune", "code": "56121", "department": "29"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    let pointers: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, vec!["/name", "/department"], "{}", r.body);
    assert!(
        r.body["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("Lorient")
    );
    let r = app
        .post(
            "/api/v1/territories",
            json!({"kind": "communaute_de_communes", "code": "200041317"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["code"], "kind_mismatch");
    // A PETR is outside the reference: it needs its name.
    let r = app
        .post(
            "/api/v1/territories",
            json!({"kind": "petr", "code": "200034692"}),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/name");
    // Renaming a territory of the reference is refused too.
    let lorient = app
        .post(
            "/api/v1/territories",
            json!({"kind": "commune", "code": "56121"}),
        )
        .await
        .id();
    let r = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/territories/{lorient}"),
            Some(&app.admin),
            Some(json!({"name": "Lorient-sur-Mer"})),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["code"], "name_mismatch");
    let r = app
        .raw(
            Method::PATCH,
            &format!("/api/v1/territories/{lorient}"),
            Some(&app.admin),
            Some(json!({"population": 1})),
        )
        .await;
    r.assert_problem(422, "validation_failed");
    assert_eq!(r.body["errors"][0]["pointer"], "/population");
}

/// Searches list the best matches first (the name itself, then names starting with it, then
/// the rest, each by code), accent- and case-insensitively, and page through them with every
/// match exactly once.
async fn reference_searches_give_the_best_matches_first(app: TestApp) {
    let get = |path: String| {
        let app = &app;
        async move { app.raw(Method::GET, &path, None, None).await }
    };
    let r = get("/api/v1/reference/communes?q=saint%20etienne&limit=5".into()).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let names = names(&r.body);
    assert_eq!(names[0], "Saint-Étienne", "{names:?}");
    assert!(
        names[1].starts_with("Saint-Étienne-"),
        "names starting with it come next: {names:?}"
    );
    let r = get("/api/v1/reference/communes?q=SAINT-%C3%89TIENNE&limit=1".into()).await;
    assert_eq!(codes(&r.body), vec!["42218"], "{}", r.body);
    let r = get("/api/v1/reference/epci?q=BREST%20metropole".into()).await;
    assert_eq!(codes(&r.body), vec!["242900314"]);

    // Paging a search: the pages together are the unpaged answer, in its order.
    let all = get("/api/v1/reference/communes?q=sur%20mer&limit=200".into()).await;
    assert_eq!(all.status, 200, "{}", all.body);
    let expected = codes(&all.body);
    assert!((60..200).contains(&expected.len()), "{}", expected.len());
    let mut seen = Vec::new();
    let mut path = "/api/v1/reference/communes?q=sur%20mer&limit=7".to_owned();
    loop {
        let page = get(path.clone()).await;
        assert_eq!(page.status, 200, "{}", page.body);
        seen.extend(codes(&page.body));
        match page.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/reference/communes?q=sur%20mer&limit=7&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    // A two-letter word still matches (the index needs three; the answer does not change).
    let r = get("/api/v1/reference/communes?q=eu&department=76&limit=200".into()).await;
    assert!(codes(&r.body).contains(&"76255".to_owned()), "{}", r.body);
}

both_engines!(
    reference_searches_give_the_best_matches_first,
    reference_look_ups_for_autocompletion,
    territories_are_filled_and_checked_from_the_reference,
);
