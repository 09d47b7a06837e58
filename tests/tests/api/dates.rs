//! Calendar dates and instants are strict. A body's date is `YYYY-MM-DD` exactly, a day that
//! exists, from 2000-01-01 to 2099-12-31; `updated_since` is RFC 3339 with its offset, in the
//! years 0001 to 9999 (`1970-01-01T00:00:00Z` still asks for everything). Anything else is a
//! 4xx problem naming the field: `2026-1-1`, a leading space, `0000-01-01` and `-0001-01-01`
//! used to be stored and echoed back, and a day before 4714 BC was a 500 on PostgreSQL. The
//! document says the same: its patterns are checked against the parsers here, and each case
//! against the document.

use std::collections::BTreeSet;

use domain::dates::{DAY_PATTERN, INSTANT_PATTERN};
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_engines;
use crate::conformance::{admits, admits_value, document};
use crate::helpers::TestApp;

both_engines!(
    every_date_of_a_body_is_strict,
    every_updated_since_is_strict
);

/// Refused wherever a request carries a calendar day, with the code of the field error.
const BAD_DAYS: [(&str, &str); 8] = [
    ("2026-1-1", "invalid_date"),
    (" 2027-02-01", "invalid_date"),
    ("0000-01-01", "out_of_range"),
    ("-0001-01-01", "invalid_date"),
    ("-4714-01-01", "invalid_date"),
    ("1999-12-31", "out_of_range"),
    ("2100-01-01", "out_of_range"),
    ("2027-02-30", "invalid_date"),
];

/// One date field of one request body.
struct Case {
    method: Method,
    path: String,
    /// The request body's schema in the document.
    schema: &'static str,
    field: &'static str,
    /// The body, around the date.
    body: fn(&str) -> Value,
    /// The status of the body with a valid date, and the date.
    ok: u16,
    good: &'static str,
    /// The property of the answer that echoes the date.
    echo: &'static str,
}

fn case(
    method: Method,
    path: String,
    (schema, field): (&'static str, &'static str),
    body: fn(&str) -> Value,
    ok: u16,
) -> Case {
    Case {
        method,
        path,
        schema,
        field,
        body,
        ok,
        good: "2027-02-01",
        echo: field,
    }
}

/// The (schema, property) pairs of `format: date` the request bodies of the document refer to.
fn body_dates(doc: &Value) -> BTreeSet<(String, String)> {
    crate::contract::request_dates(doc)
        .into_iter()
        .filter_map(|(at, _, _)| {
            let (schema, property) = at
                .strip_prefix("#/components/schemas/")?
                .split_once("/properties/")?;
            Some((schema.to_owned(), property.to_owned()))
        })
        .collect()
}

async fn every_date_of_a_body_is_strict(app: TestApp) {
    let run = crate::year::running_fabrique(&app, 2).await;
    let f = &run.fabrique;
    let (p, submitted) = (&run.participations[0], &run.participations[1]);
    let draft = app
        .post("/api/v1/fabriques", json!({"title": "Brouillon"}))
        .await
        .id();
    let seminar = app
        .post(
            &format!("/api/v1/fabriques/{f}/seminars"),
            json!({"number": 2, "scheduled_on": "2027-03-15"}),
        )
        .await
        .id();
    let testimony = app
        .post(
            &format!("/api/v1/fabriques/{f}/testimonies"),
            json!({"speaker": "Élue"}),
        )
        .await
        .id();
    // A held seminar, to correct.
    let held = app
        .post(
            &format!("/api/v1/fabriques/{f}/seminars"),
            json!({"number": 3, "scheduled_on": "2026-11-02"}),
        )
        .await
        .id();
    let r = app
        .post(
            &format!("/api/v1/seminars/{held}/transitions"),
            json!({"action": "hold", "attendance": 12}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut actions = Vec::new();
    for participation in [p, submitted] {
        let roadmap = format!("/api/v1/participations/{participation}/roadmap");
        let r = app
            .raw(
                Method::PUT,
                &roadmap,
                Some(&app.admin),
                Some(json!({"kind": "roadmap", "title": "Feuille de route 2030"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        actions.push(
            app.post(&format!("{roadmap}/actions"), json!({"title": "Action"}))
                .await
                .id(),
        );
    }
    let draft_action = &actions[0];
    let r = app
        .post(
            &format!("/api/v1/participations/{submitted}/roadmap/transitions"),
            json!({"action": "submit"}),
        )
        .await;
    assert_eq!(r.body["status"], "submitted", "{}", r.body);

    let cases = [
        case(
            Method::POST,
            "/api/v1/fabriques".into(),
            ("CreateFabriqueRequest", "planned_start"),
            |d| json!({"title": "Sites industriels", "planned_start": d}),
            201,
        ),
        case(
            Method::POST,
            "/api/v1/fabriques".into(),
            ("CreateFabriqueRequest", "end_date"),
            |d| json!({"title": "Sites industriels", "end_date": d}),
            201,
        ),
        case(
            Method::PATCH,
            format!("/api/v1/fabriques/{draft}"),
            ("UpdateFabriqueRequest", "planned_start"),
            |d| json!({"planned_start": d, "end_date": null}),
            200,
        ),
        case(
            Method::PATCH,
            format!("/api/v1/fabriques/{draft}"),
            ("UpdateFabriqueRequest", "end_date"),
            |d| json!({"end_date": d, "planned_start": null}),
            200,
        ),
        case(
            Method::POST,
            format!("/api/v1/fabriques/{f}/seminars"),
            ("CreateSeminarRequest", "scheduled_on"),
            |d| json!({"number": 1, "scheduled_on": d}),
            201,
        ),
        case(
            Method::POST,
            format!("/api/v1/participations/{p}/seminars"),
            ("CreateSeminarRequest", "scheduled_on"),
            |d| json!({"number": 1, "scheduled_on": d}),
            201,
        ),
        case(
            Method::PATCH,
            format!("/api/v1/seminars/{seminar}"),
            ("UpdateSeminarRequest", "scheduled_on"),
            |d| json!({"scheduled_on": d}),
            200,
        ),
        case(
            Method::POST,
            format!("/api/v1/participations/{p}/roadmap/actions"),
            ("CreateRoadmapActionRequest", "due_on"),
            |d| json!({"title": "Requalifier la zone d'activité", "due_on": d}),
            201,
        ),
        case(
            Method::PATCH,
            format!("/api/v1/roadmap-actions/{draft_action}"),
            ("UpdateRoadmapActionRequest", "due_on"),
            |d| json!({"due_on": d}),
            200,
        ),
        Case {
            // An adoption is not in the future: the valid date is a past one.
            good: "2021-07-06",
            echo: "adopted_on",
            ..case(
                Method::POST,
                format!("/api/v1/participations/{submitted}/roadmap/transitions"),
                ("RoadmapTransitionRequest", "adoption_date"),
                |d| json!({"action": "adopt", "adoption_date": d, "adoption_reference": "Délibération n° 12"}),
                200,
            )
        },
        case(
            Method::POST,
            format!("/api/v1/fabriques/{f}/testimonies"),
            ("CreateTestimonyRequest", "given_on"),
            |d| json!({"speaker": "Brigitte Henri", "given_on": d}),
            201,
        ),
        case(
            Method::PATCH,
            format!("/api/v1/testimonies/{testimony}"),
            ("UpdateTestimonyRequest", "given_on"),
            |d| json!({"given_on": d}),
            200,
        ),
        Case {
            // A correction records what happened: a past day.
            good: "2026-11-03",
            ..case(
                Method::POST,
                format!("/api/v1/seminars/{held}/corrections"),
                ("SeminarCorrectionRequest", "scheduled_on"),
                |d| json!({"scheduled_on": d, "reason": "date réelle"}),
                200,
            )
        },
        Case {
            good: "2026-11-01",
            ..case(
                Method::POST,
                format!("/api/v1/fabriques/{f}/corrections"),
                ("FabriqueCorrectionRequest", "actual_start"),
                |d| json!({"actual_start": d, "reason": "date réelle"}),
                200,
            )
        },
        case(
            Method::POST,
            format!("/api/v1/fabriques/{f}/corrections"),
            ("FabriqueCorrectionRequest", "end_date"),
            |d| json!({"end_date": d, "reason": "date réelle"}),
            200,
        ),
    ];

    // Every date a request body of the document carries has its case.
    let covered: BTreeSet<(String, String)> = cases
        .iter()
        .map(|c| (c.schema.to_owned(), c.field.to_owned()))
        .collect();
    assert_eq!(
        covered,
        body_dates(document()),
        "a date field without a case"
    );

    for c in &cases {
        let pointer = format!("/{}", c.field);
        for (bad, code) in BAD_DAYS {
            let body = (c.body)(bad);
            let at = format!("{} {} {body}", c.method, c.path);
            assert!(!admits(c.schema, &body), "the document admits {at}");
            let r = app
                .raw(c.method.clone(), &c.path, Some(&app.admin), Some(body))
                .await;
            r.assert_problem(422, "validation_failed");
            let errors = r.body["errors"].as_array().unwrap();
            assert_eq!(errors.len(), 1, "{at}: {}", r.body);
            assert_eq!(errors[0]["pointer"], pointer.as_str(), "{at}");
            assert_eq!(errors[0]["code"], code, "{at}: {}", r.body);
            assert!(
                errors[0]["detail"].as_str().unwrap().contains(bad),
                "{at}: the detail quotes the value: {}",
                r.body
            );
        }
        let body = (c.body)(c.good);
        let at = format!("{} {} {body}", c.method, c.path);
        assert!(admits(c.schema, &body), "the document refuses {at}");
        let r = app
            .raw(c.method.clone(), &c.path, Some(&app.admin), Some(body))
            .await;
        assert_eq!(r.status.as_u16(), c.ok, "{at}: {}", r.body);
        assert_eq!(r.body[c.echo], c.good, "{at}: {}", r.body);
    }
}

/// Refused as `updated_since`, with the code of the field error: the dates above (a date is
/// no instant), and instants written otherwise than RFC 3339 says, or in the year 0.
const BAD_INSTANTS: [(&str, &str); 19] = [
    ("2026-1-1", "invalid_date_time"),
    (" 2027-02-01", "invalid_date_time"),
    ("0000-01-01", "invalid_date_time"),
    ("-0001-01-01", "invalid_date_time"),
    ("-4714-01-01", "invalid_date_time"),
    ("1999-12-31", "invalid_date_time"),
    ("2100-01-01", "invalid_date_time"),
    ("2027-02-30", "invalid_date_time"),
    ("2027-02-01", "invalid_date_time"),
    ("2026-1-1T00:00:00Z", "invalid_date_time"),
    (" 2027-02-01T00:00:00Z", "invalid_date_time"),
    ("-0001-01-01T00:00:00Z", "invalid_date_time"),
    ("-4714-01-01T00:00:00Z", "invalid_date_time"),
    ("+2027-02-01T00:00:00Z", "invalid_date_time"),
    ("2027-02-30T00:00:00Z", "invalid_date_time"),
    ("2027-02-01T00:00:00", "invalid_date_time"),
    ("2027-02-01 00:00:00Z", "invalid_date_time"),
    ("2027-02-01T00:00:00+0100", "invalid_date_time"),
    ("0000-01-01T00:00:00Z", "out_of_range"),
];

/// Taken as `updated_since`: far in the past too (clients ask for everything so).
const GOOD_INSTANTS: [&str; 7] = [
    "2027-02-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "1999-12-31T23:59:59.999+01:00",
    "2026-11-28t10:00:00.5z",
    "2016-12-31T23:59:60Z",
    "9999-12-31T23:59:59-23:59",
];

fn query(v: &str) -> String {
    url::form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

async fn every_updated_since_is_strict(app: TestApp) {
    let run = crate::year::running_fabrique(&app, 1).await;
    let doc = document();
    let mut lists = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("get") else { continue };
        let Some(param) = op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["name"] == "updated_since")
        else {
            continue;
        };
        let concrete = if path.starts_with("/api/v1/fabriques/{id}") {
            path.replace("{id}", &run.fabrique)
        } else {
            path.replace("{id}", &run.participations[0])
        };
        assert!(!concrete.contains('{'), "{path}");
        lists.push((concrete, param["schema"].clone()));
    }
    assert_eq!(lists.len(), 15, "the lists that take updated_since");

    for (path, schema) in &lists {
        for (bad, code) in BAD_INSTANTS {
            let at = format!("{path}?updated_since={bad:?}");
            assert!(
                !admits_value("updated_since", schema, &json!(bad)),
                "the document admits {at}"
            );
            let r = app
                .get(&format!("{path}?updated_since={}", query(bad)))
                .await;
            r.assert_problem(400, "invalid_query");
            assert_eq!(r.body["errors"][0]["pointer"], "/updated_since", "{at}");
            assert_eq!(r.body["errors"][0]["code"], code, "{at}: {}", r.body);
        }
        for good in GOOD_INSTANTS {
            let at = format!("{path}?updated_since={good:?}");
            assert!(
                admits_value("updated_since", schema, &json!(good)),
                "the document refuses {at}"
            );
            let r = app
                .get(&format!("{path}?updated_since={}", query(good)))
                .await;
            assert_eq!(r.status, 200, "{at}: {}", r.body);
        }
    }
    // What they select: everything from 1970 or the year 1, nothing after the year 9999 (held
    // to its last instant, which SQLite compares as written too).
    let count = |since: &'static str| {
        let app = &app;
        async move {
            let r = app
                .get(&format!("/api/v1/fabriques?updated_since={}", query(since)))
                .await;
            r.body["items"].as_array().unwrap().len()
        }
    };
    assert_eq!(count("1970-01-01T00:00:00Z").await, 1);
    assert_eq!(count("0001-01-01T00:00:00+01:00").await, 1);
    assert_eq!(count("9999-12-31T23:59:59-23:59").await, 0);
}

/// The patterns the document gives dates and instants, with their formats, admit exactly what
/// the server's parsers take.
#[test]
fn date_patterns_agree_with_the_parsers() {
    let day = json!({"type": "string", "format": "date", "pattern": DAY_PATTERN});
    let mut tried = 0;
    let years = [
        "0000", "0001", "1000", "1970", "1999", "2000", "2001", "2024", "2027", "2099", "2100",
        "2400", "9999",
    ];
    let two = |n: u32| format!("{n:02}");
    let mut days: Vec<String> = Vec::new();
    for y in years {
        for m in 0..=13 {
            for d in 0..=32 {
                days.push(format!("{y}-{}-{}", two(m), two(d)));
            }
        }
    }
    days.extend(
        [
            "2026-1-1",
            " 2027-02-01",
            "2027-02-01 ",
            "2027-02-01\n",
            "-0001-01-01",
            "-4714-01-01",
            "+2027-02-01",
            "20270201",
            "2027/02/01",
            "2027-02-1",
            "2027-2-01",
            "02027-02-01",
            "2027-02-01T00:00:00Z",
            "\u{ff12}027-02-01",
            "",
        ]
        .map(str::to_owned),
    );
    for s in &days {
        assert_eq!(
            admits_value("day", &day, &json!(s)),
            domain::parse_day(s).is_ok(),
            "{s:?}"
        );
        tried += 1;
    }

    let instant = json!({"type": "string", "format": "date-time", "pattern": INSTANT_PATTERN});
    let dates = [
        "0000-01-01",
        "0001-01-01",
        "1970-01-01",
        "2016-12-31",
        "2027-02-28",
        "2027-02-30",
        "2028-02-29",
        "9999-12-31",
        "2026-1-1",
        "-4714-01-01",
        "+2026-01-01",
        "10000-01-01",
    ];
    let separators = ["T", "t", " ", ""];
    let times = [
        "00:00:00",
        "23:59:60",
        "00:59:60",
        "12:30:60",
        "24:00:00",
        "09:60:00",
        "09:00:61",
        "09:00:00.5",
        "09:00:00.",
        "09:00:00.123456789123",
        "09:00",
        "9:00:00",
    ];
    let offsets = [
        "Z",
        "z",
        "+01:00",
        "-23:59",
        "+23:59",
        "+24:00",
        "+01:60",
        "+0100",
        "+01",
        "",
        "\u{2212}01:00",
        " Z",
        "UTC",
        "Z ",
    ];
    for d in dates {
        for sep in separators {
            for t in times {
                for o in offsets {
                    let s = format!("{d}{sep}{t}{o}");
                    assert_eq!(
                        admits_value("instant", &instant, &json!(s)),
                        domain::parse_instant(&s).is_ok(),
                        "{s:?}"
                    );
                    tried += 1;
                }
            }
        }
    }
    assert!(tried > 10_000, "{tried}");
}
