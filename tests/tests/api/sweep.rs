//! The bad-input sweep: every operation of the committed OpenAPI document is sent bad path
//! parameters, bad query values, unknown and repeated query parameters, bad headers, bad
//! credentials, malformed and mistyped bodies. Whatever it is sent, no answer is a 5xx; every
//! error is problem+json with `status`, `code`, `type`, `title` and `detail`, and every answer
//! matches what the document declares for its operation. Nothing the sweep sends changes a
//! resource of the world it runs in: each one's ETag is the same afterwards.

use std::collections::BTreeMap;

use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Value, json};

use crate::both_engines;
use crate::helpers::TestApp;
use crate::world::World;

both_engines!(every_operation_refuses_bad_input_with_a_problem_and_changes_nothing);

/// A stale but well-formed entity tag, so that a bad input that slipped past the checks
/// still could not write.
const STALE: &str = "\"0123456789abcdef0123456789abcdef\"";

struct Sweep<'a> {
    app: &'a TestApp,
    sent: usize,
    /// Answers by status, for the floor at the end.
    by_status: BTreeMap<u16, usize>,
}

/// What the sweep expects of one answer.
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    /// A 4xx problem.
    Refused,
    /// Anything but a 5xx (a lenient read may accept an odd value).
    NoServerError,
}

struct Case<'a> {
    method: &'a Method,
    /// The URL path and query as sent.
    target: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Option<(Option<&'static str>, Vec<u8>)>,
    what: String,
    expect: Expect,
}

impl Sweep<'_> {
    async fn send(&mut self, case: Case<'_>) -> (u16, Value) {
        let mut rb = self.app.client.request(
            case.method.clone(),
            format!("{}{}", self.app.base, case.target),
        );
        for (n, v) in case.headers {
            rb = rb.header(n, v);
        }
        if let Some((ct, bytes)) = case.body {
            if let Some(ct) = ct {
                rb = rb.header("content-type", ct);
            }
            rb = rb.body(bytes);
        }
        let r = rb
            .send()
            .await
            .unwrap_or_else(|e| panic!("{} {}: {e}", case.method, case.what));
        self.sent += 1;
        let status = r.status().as_u16();
        *self.by_status.entry(status).or_default() += 1;
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = r.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        let label = format!(
            "{} {} ({}): {status} {}",
            case.method,
            case.target.chars().take(160).collect::<String>(),
            case.what,
            body.to_string().chars().take(400).collect::<String>()
        );
        assert!(status < 500, "a server error: {label}");
        if case.expect == Expect::Refused {
            assert!((400..500).contains(&status), "not refused: {label}");
        }
        if status >= 400 {
            if case.target == "/oauth/token" {
                // RFC 6749 §5.2: a token error is `application/json` with `error`; it also
                // carries the problem's members.
                assert_eq!(ct, "application/json", "{label}");
                assert!(body["error"].is_string(), "{label}");
            } else {
                assert_eq!(ct, "application/problem+json", "{label}");
            }
            assert_eq!(body["status"], status, "{label}");
            assert!(body["code"].is_string(), "{label}");
            assert!(
                body["type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("urn:fabriques:problem:")),
                "{label}"
            );
            assert!(
                body["title"].is_string() && body["detail"].is_string(),
                "{label}"
            );
        }
        let path = case.target.split('?').next().unwrap_or_default();
        crate::conformance::check(case.method.as_str(), path, status, &ct, &body);
        (status, body)
    }
}

fn hv(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).expect("header value")
}

fn bearer(token: &str) -> (HeaderName, HeaderValue) {
    (
        reqwest::header::AUTHORIZATION,
        hv(&format!("Bearer {token}")),
    )
}

/// Resolves a local `$ref` of the document.
fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    while let Some(r) = v["$ref"].as_str() {
        let mut at = doc;
        for part in r.trim_start_matches("#/").split('/') {
            at = &at[part];
        }
        v = at;
    }
    v
}

/// Values that the schema of one property may refuse: the sweep sends those the document
/// refuses (checked with the document's own validator), so each must be refused.
fn candidates(schema: &Value) -> Vec<Value> {
    let mut v = vec![
        json!(12345),
        json!(-1),
        json!(1.5),
        json!(1e300),
        json!(i64::MAX),
        json!(true),
        json!(""),
        json!(" "),
        json!("x"),
        json!("a\u{0}b"),
        json!("\u{0}"),
        json!(null),
        json!([]),
        json!([null]),
        json!([12345]),
        json!(["x"]),
        json!({}),
        json!({"a": 1}),
        json!("not-a-uuid"),
        json!("2026-02-30"),
        json!("2026-1-1"),
        json!("9999-01-01"),
        json!("2026-01-01T25:00:00Z"),
        json!("javascript:alert(1)"),
        json!("http://10.0.0.1/"),
        json!("ftp://example.org/"),
    ];
    if let Some(n) = schema["maxLength"].as_u64() {
        v.push(json!("x".repeat(n as usize + 1)));
    }
    if let Some(n) = schema["minimum"].as_i64() {
        v.push(json!(n - 1));
    }
    if let Some(n) = schema["maximum"].as_i64() {
        v.push(json!(n + 1));
    }
    if let Some(n) = schema["maxItems"].as_u64() {
        v.push(json!(vec!["x"; n as usize + 1]));
    }
    v
}

/// A value the schema admits, from its example, its first enum value or its type.
fn sample(doc: &Value, schema: &Value) -> Value {
    let schema = resolve(doc, schema);
    if let Some(e) = schema.get("example") {
        return e.clone();
    }
    if let Some(e) = schema["enum"].as_array().and_then(|e| e.first()) {
        return e.clone();
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(first) = schema[key].as_array().and_then(|b| {
            b.iter()
                .find(|b| resolve(doc, b)["type"] != "null")
                .or_else(|| b.first())
        }) {
            return sample(doc, first);
        }
    }
    let ty = match &schema["type"] {
        Value::Array(types) => types
            .iter()
            .find(|t| *t != "null")
            .and_then(Value::as_str)
            .unwrap_or("null"),
        t => t.as_str().unwrap_or("object"),
    };
    match ty {
        "string" => match schema["format"].as_str().unwrap_or_default() {
            "uuid" => json!("0190d5a0-0000-7000-8000-000000000000"),
            "date" => json!("2026-06-01"),
            "date-time" => json!("2026-06-01T08:00:00Z"),
            "email" => json!("contact@example.org"),
            "uri" => json!("https://example.org/"),
            _ => json!("x".repeat(schema["minLength"].as_u64().unwrap_or(1).max(1) as usize)),
        },
        "integer" | "number" => json!(schema["minimum"].as_i64().unwrap_or(1).max(1)),
        "boolean" => json!(true),
        "array" => match schema["minItems"].as_u64() {
            Some(n) if n > 0 => json!(vec![sample(doc, &schema["items"]); n as usize]),
            _ => json!([]),
        },
        "null" => Value::Null,
        _ => {
            let mut o = serde_json::Map::new();
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap_or_default();
                o.insert(name.into(), sample(doc, &schema["properties"][name]));
            }
            Value::Object(o)
        }
    }
}

fn bad_path_values() -> Vec<String> {
    vec![
        "not-a-uuid".into(),
        "0".into(),
        "-1".into(),
        "%00".into(),
        "%FF%FE".into(),
        "%C3%28".into(),
        "a%2Fb".into(),
        "x".repeat(1500),
        "00000000-0000-0000-0000-000000000000".into(),
        "0190d5a0-0000-7000-8000-00000000000g".into(),
        "0190d5a0000070008000000000000000000".into(),
        "99999999999999999999".into(),
    ]
}

fn bad_query_values() -> Vec<String> {
    vec![
        String::new(),
        "%00".into(),
        "a%00b".into(),
        "%FF".into(),
        "x".repeat(3000),
        "-1".into(),
        "0".into(),
        "99999999999999999999".into(),
        "1e3".into(),
        "1.5".into(),
        "true".into(),
        "a,,b".into(),
        ",".into(),
        "%20".into(),
        "2026-13-45".into(),
        "2026-02-30".into(),
        "*".into(),
        "%25".into(),
        "null".into(),
        "[]".into(),
    ]
}

/// The body each operation is swept around: a well-formed one where the operation needs it
/// (so that a refusal is the bad part's doing).
fn base_body(method: &str, template: &str) -> Value {
    match (method, template.rsplit('/').next().unwrap_or_default()) {
        ("put", "{organization_id}") => json!({"roles": ["co_funder"]}),
        ("put", "roadmap") => json!({"kind": "roadmap", "title": "Feuille de route"}),
        ("put", "{external_id}") => json!({"entity_id": "00000000-0000-0000-0000-000000000000"}),
        _ => json!({}),
    }
}

/// The path with each parameter taken from the world (or a made-up one where the world has
/// no such resource: a delivery, an export's dataset).
fn fill(w: &World, template: &str) -> String {
    let fixed = template
        .replace("{delivery_id}", "00000000-0000-0000-0000-000000000000")
        .replace("{dataset}.csv", "fabriques.csv");
    w.fill(&fixed)
}

/// Each path with one of its parameters replaced by `bad`.
fn with_bad_segment(w: &World, template: &str, bad: &str) -> Vec<String> {
    let segments: Vec<&str> = template.split('/').collect();
    let filled: Vec<String> = fill(w, template).split('/').map(str::to_owned).collect();
    (0..segments.len())
        .filter(|&i| segments[i].starts_with('{'))
        .map(|i| {
            let mut s = filled.clone();
            s[i] = if segments[i].ends_with(".csv") {
                format!("{bad}.csv")
            } else {
                bad.to_owned()
            };
            s.join("/")
        })
        .collect()
}

/// The ETag of every resource the world holds that answers with one.
async fn etags(app: &TestApp, w: &World, doc: &Value) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::new();
    for (template, item) in doc["paths"].as_object().unwrap() {
        // A subscription's failure count moves with the webhook worker.
        if item.get("get").is_none() || template.starts_with("/api/v1/webhooks") {
            continue;
        }
        let declares = item["get"]["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "If-None-Match"));
        if !declares {
            continue;
        }
        let path = fill(w, template);
        let r = app.raw(Method::GET, &path, Some(&w.admin), None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        let tag = r.headers["etag"].to_str().unwrap().to_owned();
        tags.insert(path, tag);
    }
    tags
}

async fn every_operation_refuses_bad_input_with_a_problem_and_changes_nothing(app: TestApp) {
    let w = crate::world::world(&app).await;
    let doc = crate::conformance::document();
    let before = etags(&app, &w, doc).await;
    assert!(
        before.len() >= 15,
        "{} resources with an ETag",
        before.len()
    );
    let mut s = Sweep {
        app: &app,
        sent: 0,
        by_status: BTreeMap::new(),
    };
    let mut operations = 0;
    let (mut mistyped_properties, mut named) = (0, 0);
    for (template, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            named += usize::from(
                sweep_operation(
                    &mut s,
                    &w,
                    doc,
                    template,
                    method,
                    op,
                    &mut mistyped_properties,
                )
                .await,
            );
        }
    }
    token_endpoint(&mut s).await;

    assert!(operations >= 100, "{operations} operations");
    assert!(
        named >= 30,
        "{named} operations whose mistyped properties are each named by the refusal"
    );
    assert!(
        mistyped_properties >= 150,
        "{mistyped_properties} mistyped properties"
    );
    assert!(
        s.sent >= 5_000,
        "{} requests sent: {:?}",
        s.sent,
        s.by_status
    );
    let refused: usize = s
        .by_status
        .iter()
        .filter(|(k, _)| (400..500).contains(*k))
        .map(|(_, n)| n)
        .sum();
    assert!(refused * 10 >= s.sent * 8, "{:?}", s.by_status);

    let after = etags(&app, &w, doc).await;
    assert_eq!(before, after, "the sweep changed a resource");
    // The service is still whole.
    let r = app.raw(Method::GET, "/health/ready", None, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[allow(clippy::too_many_arguments)]
async fn sweep_operation(
    s: &mut Sweep<'_>,
    w: &World,
    doc: &Value,
    template: &str,
    method: &str,
    op: &Value,
    mistyped_properties: &mut usize,
) -> bool {
    let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let api = template.starts_with("/api/v1/");
    if !api {
        return false; // health, keys, the token endpoint (swept on its own below)
    }
    let token = if template.starts_with("/api/v1/webhooks")
        || template.starts_with("/api/v1/external-ids")
    {
        w.machine.clone()
    } else {
        w.admin.clone()
    };
    let params = op["parameters"].as_array().cloned().unwrap_or_default();
    let header = |name: &str| {
        params
            .iter()
            .any(|p| p["in"] == "header" && p["name"] == name)
    };
    let (if_match, if_none_match, idempotency) = (
        header("If-Match"),
        header("If-None-Match"),
        header("Idempotency-Key"),
    );
    let body_media = op["requestBody"]["content"]
        .as_object()
        .and_then(|c| c.keys().next().cloned());
    let base = base_body(method, template);
    let base_bytes = serde_json::to_vec(&base).unwrap();
    let path = fill(w, template);
    // The headers every case carries: the token, and a stale tag where a write takes one.
    let standard = |token: &str| {
        let mut h = vec![bearer(token)];
        if if_match {
            h.push((reqwest::header::IF_MATCH, hv(STALE)));
        }
        h
    };
    let json_body = || {
        body_media
            .as_ref()
            .map(|_| (Some("application/json"), base_bytes.clone()))
    };
    // A write without a precondition must refuse a bad input outright; a read, or a write
    // guarded by a stale tag, may only not fail.
    let guarded = m == Method::GET || if_match;
    // A case with the standard headers and body, sent to `target`.
    let at = |target: String, what: String, expect: Expect| Case {
        method: &m,
        target,
        headers: standard(&token),
        body: json_body(),
        what,
        expect,
    };

    // 1. Bad path parameters.
    for bad in bad_path_values() {
        for target in with_bad_segment(w, template, &bad) {
            s.send(at(
                target,
                format!("path parameter {bad:.20}"),
                Expect::Refused,
            ))
            .await;
        }
    }

    // 2. Bad query values, one parameter at a time; repeated and unknown parameters.
    let query: Vec<String> = params
        .iter()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    for name in &query {
        for bad in bad_query_values() {
            s.send(at(
                format!("{path}?{name}={bad}"),
                format!("query {name}={bad:.20}"),
                Expect::NoServerError,
            ))
            .await;
        }
        s.send(at(
            format!("{path}?{name}=1&{name}=2"),
            format!("{name} twice"),
            Expect::NoServerError,
        ))
        .await;
        s.send(at(
            format!("{path}?{name}[]=1"),
            format!("{name}[]"),
            Expect::Refused,
        ))
        .await;
    }
    if guarded || body_media.is_some() {
        for q in ["colour=blue", "%00=1", "=1", "a%FF=1", &"k=v&".repeat(2000)] {
            s.send(at(
                format!("{path}?{q}"),
                format!("unknown query {q:.20}"),
                Expect::Refused,
            ))
            .await;
        }
    }

    // 3. Bad credentials.
    for auth in [
        "Bearer garbage",
        "Bearer a.b.c",
        "Bearer ",
        "Bearer",
        "Basic YWRtaW46YWRtaW4=",
        "Token x",
        &format!("Bearer {}", "a".repeat(6000)),
        &format!("Bearer {token}x"),
        &format!("bearer  {token} {token}"),
    ] {
        let mut headers = vec![(reqwest::header::AUTHORIZATION, hv(auth))];
        if if_match {
            headers.push((reqwest::header::IF_MATCH, hv(STALE)));
        }
        s.send(Case {
            method: &m,
            target: path.clone(),
            headers,
            body: json_body(),
            what: format!("Authorization {auth:.20}"),
            expect: Expect::Refused,
        })
        .await;
    }

    // 4. Bad preconditions and idempotency keys.
    if if_match {
        for tag in [
            "garbage",
            "",
            "\"",
            "W/\"0123456789abcdef0123456789abcdef\"",
            "\"a\", garbage",
            &"\"x\",".repeat(2000),
            "\"0123456789abcdef0123456789abcdef",
        ] {
            s.send(Case {
                method: &m,
                target: path.clone(),
                headers: vec![bearer(&token), (reqwest::header::IF_MATCH, hv(tag))],
                body: json_body(),
                what: format!("If-Match {tag:.20}"),
                expect: Expect::Refused,
            })
            .await;
        }
    }
    if if_none_match {
        for tag in ["garbage", "", "\"", "*", "W/\"x\"", &"\"x\",".repeat(2000)] {
            s.send(Case {
                method: &m,
                target: path.clone(),
                headers: vec![bearer(&token), (reqwest::header::IF_NONE_MATCH, hv(tag))],
                body: None,
                what: format!("If-None-Match {tag:.20}"),
                expect: Expect::NoServerError,
            })
            .await;
        }
    }
    if idempotency {
        let latin1 = HeaderValue::from_bytes(b"cl\xe9").unwrap();
        for key in [
            hv(""),
            hv(" "),
            hv(&"k".repeat(300)),
            hv("a b\tc"),
            hv("a,b"),
            latin1,
        ] {
            let mut headers = standard(&token);
            headers.push((HeaderName::from_static("idempotency-key"), key.clone()));
            s.send(Case {
                method: &m,
                target: path.clone(),
                headers,
                body: json_body(),
                what: format!("Idempotency-Key {key:?}"),
                expect: if guarded || body_media.is_some() {
                    Expect::Refused
                } else {
                    Expect::NoServerError
                },
            })
            .await;
        }
    }

    // 5. Bodies: malformed, of the wrong media type, and each property mistyped.
    if body_media.is_none() {
        return false;
    }
    let nested = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let raw_bodies: Vec<(Option<&'static str>, Vec<u8>, &str)> = vec![
        (Some("application/json"), b"{\"a\":".to_vec(), "truncated"),
        (Some("application/json"), b"[]".to_vec(), "an array"),
        (Some("application/json"), b"null".to_vec(), "null"),
        (Some("application/json"), b"\"s\"".to_vec(), "a string"),
        (Some("application/json"), b"1".to_vec(), "a number"),
        (Some("application/json"), b"{}{}".to_vec(), "two objects"),
        (Some("application/json"), Vec::new(), "empty"),
        (
            Some("application/json"),
            nested.into_bytes(),
            "nested 5000 deep",
        ),
        (
            Some("application/json"),
            b"{\"a\":\"\xff\xfe\"}".to_vec(),
            "invalid UTF-8",
        ),
        (
            Some("application/json"),
            b"{\"a\":1,\"a\":1}".to_vec(),
            "a duplicate key",
        ),
        (
            Some("application/json"),
            b"\xef\xbb\xbf{\"a\":1}".to_vec(),
            "a byte-order mark and an unknown field",
        ),
        (Some("text/plain"), base_bytes.clone(), "text/plain"),
        (
            Some("application/x-www-form-urlencoded"),
            b"a=1".to_vec(),
            "a form",
        ),
        (
            Some("multipart/form-data; boundary=x"),
            b"--x--".to_vec(),
            "multipart",
        ),
        (
            Some("application/json; charset=latin1"),
            base_bytes.clone(),
            "latin1 JSON",
        ),
        (
            Some("garbage"),
            base_bytes.clone(),
            "an unparsable media type",
        ),
        (None, base_bytes.clone(), "no media type"),
    ];
    for (ct, bytes, what) in raw_bodies {
        s.send(Case {
            method: &m,
            target: path.clone(),
            headers: standard(&token),
            body: Some((ct, bytes)),
            what: format!("body: {what}"),
            expect: Expect::Refused,
        })
        .await;
    }
    let schema = resolve(
        doc,
        &op["requestBody"]["content"]["application/json"]["schema"],
    );
    let properties = schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    // A body the document admits, so that a refusal names the one bad property (a missing
    // required field would be all a server reports otherwise).
    let admitted = Some(sample(doc, schema)).filter(|b| {
        crate::conformance::admits_value(&format!("sweep base {method} {template}"), schema, b)
    });
    for (name, prop) in &properties {
        for bad in candidates(resolve(doc, prop)) {
            let mut body = admitted.clone().unwrap_or_else(|| base.clone());
            body[name] = bad.clone();
            // Only what the document itself refuses: the server must refuse it too.
            if crate::conformance::admits_value(
                &format!("sweep {method} {template} {name}"),
                prop,
                &bad,
            ) {
                continue;
            }
            *mistyped_properties += 1;
            let (status, answer) = s
                .send(Case {
                    method: &m,
                    target: path.clone(),
                    headers: standard(&token),
                    body: Some((Some("application/json"), serde_json::to_vec(&body).unwrap())),
                    what: format!("{name} = {:.40}", bad.to_string()),
                    expect: Expect::Refused,
                })
                .await;
            if status == 422 && admitted.is_some() {
                let pointer = format!("/{name}");
                let named = answer["errors"].as_array().is_some_and(|e| {
                    e.iter().any(|e| {
                        e["pointer"]
                            .as_str()
                            .is_some_and(|p| p == pointer || p.starts_with(&format!("{pointer}/")))
                    })
                });
                assert!(
                    named,
                    "{method} {path}: {name} = {bad:.40} refused without naming it: {answer}"
                );
            }
        }
    }
    admitted.is_some() && !properties.is_empty()
}

/// The token endpoint takes a form; it is swept apart.
async fn token_endpoint(s: &mut Sweep<'_>) {
    let m = Method::POST;
    let form = Some("application/x-www-form-urlencoded");
    let bodies: Vec<(Option<&'static str>, Vec<u8>)> = vec![
        (form, Vec::new()),
        (form, b"%%%".to_vec()),
        (form, b"grant_type=client_credentials".to_vec()),
        (form, b"grant_type=password&username=a&password=b".to_vec()),
        (form, b"grant_type=client_credentials&client_id=x&client_secret=y".to_vec()),
        (
            form,
            b"grant_type=client_credentials&client_id=00000000-0000-0000-0000-000000000000&client_secret=y"
                .to_vec(),
        ),
        (form, b"grant_type=client_credentials&grant_type=client_credentials".to_vec()),
        (form, b"grant_type=client_credentials&client_id=%00&client_secret=%FF".to_vec()),
        (form, "k=v&".repeat(20_000).into_bytes()),
        (form, vec![b'a'; 100_000]),
        (Some("application/json"), br#"{"grant_type":"client_credentials"}"#.to_vec()),
        (Some("text/plain"), b"grant_type=client_credentials".to_vec()),
        (None, b"grant_type=client_credentials".to_vec()),
    ];
    for (ct, bytes) in bodies {
        let what = format!("token form {:.30}", String::from_utf8_lossy(&bytes));
        s.send(Case {
            method: &m,
            target: "/oauth/token".into(),
            headers: Vec::new(),
            body: Some((ct, bytes)),
            what,
            expect: Expect::Refused,
        })
        .await;
    }
}
