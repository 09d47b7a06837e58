//! Request extractors whose every rejection is an [`ApiError`].
//!
//! actix's own `web::Json` reports unknown fields or wrong types without saying where; these
//! extractors name the field with a JSON pointer, and check the body's size and media type.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use validator::Validate;

use super::error::{ApiError, FieldProblem};

/// Bodies over 1 MiB are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON body, deserialized (unknown fields are refused by the DTOs) and validated.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_ascii_lowercase);
        let declared_len = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            let is_json = content_type.as_deref().is_some_and(|ct| {
                let essence = ct.split(';').next().unwrap_or("").trim();
                essence == "application/json"
                    || (essence.starts_with("application/") && essence.ends_with("+json"))
            });
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            if declared_len.is_some_and(|n| n > MAX_BODY_BYTES) {
                return Err(ApiError::PayloadTooLarge);
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk =
                    chunk.map_err(|e| ApiError::bad_request("unreadable_body", e.to_string()))?;
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(ApiError::PayloadTooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            let value = parse_json::<T>(&body)?;
            value.validate()?;
            Ok(Json(value))
        })
    }
}

/// Deserializes `body`, telling apart unreadable JSON (400) from JSON of the wrong shape
/// (422, with the pointer of the field at fault).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
    })?;
    let mut nul = Vec::new();
    find_nul(&value, String::new(), &mut nul);
    if !nul.is_empty() {
        return Err(ApiError::Validation(nul));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = to_pointer(&e.path().to_string());
        let inner = e.into_inner();
        let msg = inner.to_string();
        let code = if msg.starts_with("unknown field") {
            "unknown_field"
        } else if msg.starts_with("missing field") {
            "required"
        } else {
            "invalid_type"
        };
        // serde reports a missing or unknown field at its parent: name the field itself.
        let pointer = match (code, field_in(&msg)) {
            ("required", Some(f)) => format!("{pointer}/{f}"),
            _ => pointer,
        };
        let detail = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
        ApiError::Validation(vec![FieldProblem::new(pointer, code, detail)])
    })
}

/// NUL characters are valid JSON but no database text column stores them: refuse them here,
/// naming each place, rather than fail in the database.
fn find_nul(v: &serde_json::Value, pointer: String, out: &mut Vec<FieldProblem>) {
    match v {
        serde_json::Value::String(s) if s.contains('\0') => {
            out.push(FieldProblem::new(
                pointer,
                "invalid_character",
                "text may not contain the NUL character",
            ));
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_nul(item, format!("{pointer}/{i}"), out);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, item) in map {
                let key = k.replace('~', "~0").replace('/', "~1");
                if k.contains('\0') {
                    out.push(FieldProblem::new(
                        format!("{pointer}/{key}"),
                        "invalid_character",
                        "names may not contain the NUL character",
                    ));
                }
                find_nul(item, format!("{pointer}/{key}"), out);
            }
        }
        _ => {}
    }
}

fn field_in(msg: &str) -> Option<&str> {
    let start = msg.find('`')? + 1;
    let len = msg[start..].find('`')?;
    Some(&msg[start..start + len])
}

fn to_pointer(path: &str) -> String {
    if path == "." || path.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    for seg in path.split('.') {
        // `types[1]` is the field `types`, then its item 1.
        let (name, indexes) = match seg.find('[') {
            Some(i) => (&seg[..i], &seg[i..]),
            None => (seg, ""),
        };
        if !name.is_empty() {
            out.push('/');
            out.push_str(&name.replace('~', "~0").replace('/', "~1"));
        }
        for idx in indexes.split(['[', ']']).filter(|s| !s.is_empty()) {
            out.push('/');
            out.push_str(idx);
        }
    }
    out
}

/// Query parameters: a repeated key is read as a comma-separated list
/// (`status=a&status=b` is `status=a,b`); unknown parameters are refused with 400 so that a
/// misspelt filter never silently returns everything.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// More distinct query parameters than any list takes: refused before anything is parsed.
pub const MAX_QUERY_PARAMETERS: usize = 64;

pub fn parse_query<T: DeserializeOwned>(qs: &str) -> Result<T, ApiError> {
    let mut merged: Vec<(String, String)> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (k, v) in url::form_urlencoded::parse(qs.as_bytes()) {
        if k.contains('\0') || v.contains('\0') {
            return Err(ApiError::BadRequest {
                code: "invalid_query",
                detail: "query parameters may not contain the NUL character".into(),
                errors: vec![FieldProblem::new(
                    format!("/{}", k.replace('\0', "")),
                    "invalid_character",
                    "NUL character",
                )],
            });
        }
        match index.get(k.as_ref()) {
            Some(&i) => {
                let mv = &mut merged[i].1;
                mv.push(',');
                mv.push_str(&v);
            }
            None => {
                if merged.len() == MAX_QUERY_PARAMETERS {
                    return Err(ApiError::bad_request(
                        "invalid_query",
                        format!("at most {MAX_QUERY_PARAMETERS} distinct query parameters"),
                    ));
                }
                index.insert(k.clone().into_owned(), merged.len());
                merged.push((k.into_owned(), v.into_owned()));
            }
        }
    }
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&merged)
        .finish();
    let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(encoded.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.into_inner().to_string();
        let name = if path == "." {
            field_in(&msg).unwrap_or("").to_owned()
        } else {
            path
        };
        let code = if msg.starts_with("unknown field") {
            "unknown_parameter"
        } else {
            "invalid_parameter"
        };
        ApiError::BadRequest {
            code: "invalid_query",
            detail: format!("query parameter `{name}`: {msg}"),
            errors: vec![FieldProblem::new(format!("/{name}"), code, msg)],
        }
    })
}

/// For PATCH bodies: tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(de).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        title: String,
        nested: Option<Inner>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
    }

    fn pointer_of(body: &str) -> (String, String) {
        match parse_json::<Body>(body.as_bytes()) {
            Err(ApiError::Validation(e)) => (e[0].pointer.clone(), e[0].code.clone()),
            Err(other) => (String::new(), other.to_string()),
            Ok(_) => (String::new(), "ok".into()),
        }
    }

    #[test]
    fn json_errors_name_the_field_at_fault() {
        assert_eq!(
            pointer_of(r#"{"title": "x", "extra": 1}"#),
            ("/extra".into(), "unknown_field".into())
        );
        assert_eq!(pointer_of(r#"{}"#), ("/title".into(), "required".into()));
        assert_eq!(
            pointer_of(r#"{"title": "x", "nested": {"n": "a"}}"#),
            ("/nested/n".into(), "invalid_type".into())
        );
        assert!(matches!(
            parse_json::<Body>(b"{nope"),
            Err(ApiError::BadRequest {
                code: "malformed_json",
                ..
            })
        ));
        assert_eq!(
            pointer_of(r#"{"title": "a\u0000b"}"#),
            ("/title".into(), "invalid_character".into())
        );
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Params {
        status: Option<String>,
        limit: Option<u32>,
    }

    #[test]
    fn repeated_query_keys_become_a_list_and_unknown_ones_are_refused() {
        let p: Result<Params, _> = parse_query("status=a&status=b,c&limit=3");
        assert_eq!(
            p.ok(),
            Some(Params {
                status: Some("a,b,c".into()),
                limit: Some(3)
            })
        );
        assert!(parse_query::<Params>("stauts=a").is_err());
        assert!(parse_query::<Params>("limit=x").is_err());
        assert!(parse_query::<Params>("status=a%00").is_err());
    }
}
