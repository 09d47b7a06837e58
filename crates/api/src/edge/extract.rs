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
    let StrictValue(value) = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
    })?;
    let mut nul = Vec::new();
    find_nul(&value, String::new(), &mut nul);
    if !nul.is_empty() {
        return Err(ApiError::Validation(nul));
    }
    let mut value = value;
    integral_floats(&mut value);
    serde_path_to_error::deserialize(value).map_err(|e| {
        let pointer = to_pointer(&e.path().to_string());
        let inner = e.into_inner();
        let msg = inner.to_string();
        let msg = msg.split(" at line ").next().unwrap_or(&msg);
        let (code, detail) = if msg.starts_with("unknown field") {
            ("unknown_field", msg)
        } else if msg.starts_with("missing field") {
            ("required", msg)
        } else {
            coded(msg).unwrap_or(("invalid_type", msg))
        };
        // serde reports a missing or unknown field at its parent: name the field itself.
        let pointer = match (code, field_in(msg)) {
            ("required", Some(f)) => format!("{pointer}/{f}"),
            _ => pointer,
        };
        ApiError::Validation(vec![FieldProblem::new(pointer, code, detail)])
    })
}

/// A JSON value read as `serde_json::Value` is, except that an object naming a key twice is
/// refused: RFC 8259 leaves its meaning open (serde_json keeps the last), and two readers of
/// the same body must not disagree on what it says.
struct StrictValue(serde_json::Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        use serde::de::{Error, MapAccess, SeqAccess, Visitor};
        use serde_json::Value;
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrictValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E: Error>(self, b: bool) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::Bool(b)))
            }
            fn visit_i64<E: Error>(self, n: i64) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::from(n)))
            }
            fn visit_u64<E: Error>(self, n: u64) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::from(n)))
            }
            fn visit_f64<E: Error>(self, n: f64) -> Result<StrictValue, E> {
                Ok(StrictValue(
                    serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number),
                ))
            }
            fn visit_str<E: Error>(self, s: &str) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::String(s.to_owned())))
            }
            fn visit_string<E: Error>(self, s: String) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::String(s)))
            }
            fn visit_unit<E: Error>(self) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::Null))
            }
            fn visit_none<E: Error>(self) -> Result<StrictValue, E> {
                Ok(StrictValue(Value::Null))
            }
            fn visit_some<D: serde::Deserializer<'de>>(
                self,
                d: D,
            ) -> Result<StrictValue, D::Error> {
                serde::Deserialize::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrictValue, A::Error> {
                let mut items = Vec::new();
                while let Some(StrictValue(v)) = seq.next_element()? {
                    items.push(v);
                }
                Ok(StrictValue(Value::Array(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictValue, A::Error> {
                let mut out = serde_json::Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    let StrictValue(v) = map.next_value()?;
                    if out.insert(key.clone(), v).is_some() {
                        return Err(A::Error::custom(format!("the key `{key}` appears twice")));
                    }
                }
                Ok(StrictValue(Value::Object(out)))
            }
        }
        de.deserialize_any(V)
    }
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

/// JSON has one number type: `1.0` and `1e2` are the integers 1 and 100 (JSON Schema says
/// so too), but serde refuses a float for an integer field. Every float with no fractional
/// part that fits a 64-bit integer is made that integer before the body is typed; a float
/// field takes an integer just as well. The other floats are left as they are (and refused by
/// integer fields).
fn integral_floats(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            if let Some(i) = n.as_f64().and_then(integral) {
                *n = i;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats),
        Value::Object(map) => map.values_mut().for_each(integral_floats),
        _ => {}
    }
}

/// `f` as a JSON integer, when it is one that fits an `i64` or a `u64`.
fn integral(f: f64) -> Option<serde_json::Number> {
    // 2^64 and -2^63 are exact in f64; every integral f64 in between converts exactly.
    const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
    const MINUS_TWO_POW_63: f64 = -9_223_372_036_854_775_808.0;
    if !f.is_finite() || f.fract() != 0.0 {
        return None;
    }
    if (0.0..TWO_POW_64).contains(&f) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return Some((f as u64).into());
    }
    if (MINUS_TWO_POW_63..0.0).contains(&f) {
        #[allow(clippy::cast_possible_truncation)]
        return Some((f as i64).into());
    }
    None
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
    let de = serde::de::value::MapDeserializer::<_, serde::de::value::Error>::new(
        merged
            .into_iter()
            .map(|(k, v)| (QueryValue(k), QueryValue(v))),
    );
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.into_inner().to_string();
        let name = if path == "." {
            field_in(&msg).unwrap_or("").to_owned()
        } else {
            path
        };
        let (code, detail) = if msg.starts_with("unknown field") {
            ("unknown_parameter", msg.as_str())
        } else {
            coded(&msg).unwrap_or(("invalid_parameter", msg.as_str()))
        };
        ApiError::BadRequest {
            code: "invalid_query",
            detail: format!("query parameter `{name}`: {detail}"),
            errors: vec![FieldProblem::new(format!("/{name}"), code, detail)],
        }
    })
}

/// One key or value of a query string, typed on demand. Like `serde_urlencoded`, but an
/// integer parameter also takes an integral number written as a float (`1.0`, `1e2`), as
/// JSON Schema's `integer` does.
struct QueryValue(String);

impl<'de> serde::de::IntoDeserializer<'de, serde::de::value::Error> for QueryValue {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

impl QueryValue {
    fn integer<T: TryFrom<i128>>(&self) -> Result<T, serde::de::value::Error> {
        let s = self.0.as_str();
        let n = s.parse::<i128>().ok().or_else(|| {
            // Only JSON's number syntax, and only integral values: `1.0`, `-2e3`.
            let json_number = s
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'))
                && s.bytes().any(|b| b.is_ascii_digit());
            let f = s.parse::<f64>().ok().filter(|_| json_number)?;
            #[allow(clippy::cast_possible_truncation)]
            (f.is_finite() && f.fract() == 0.0 && f.abs() < 1e30).then_some(f as i128)
        });
        n.and_then(|n| T::try_from(n).ok()).ok_or_else(|| {
            serde::de::Error::custom(format!("`{s}` is not an integer in the allowed range"))
        })
    }
}

macro_rules! query_integers {
    ($($method:ident $ty:ty => $visit:ident;)*) => {
        $(
            fn $method<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
                v.$visit(self.integer::<$ty>()?)
            }
        )*
    };
}

impl<'de> serde::Deserializer<'de> for QueryValue {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        v.visit_string(self.0)
    }

    query_integers! {
        deserialize_i8 i8 => visit_i8;
        deserialize_i16 i16 => visit_i16;
        deserialize_i32 i32 => visit_i32;
        deserialize_i64 i64 => visit_i64;
        deserialize_u8 u8 => visit_u8;
        deserialize_u16 u16 => visit_u16;
        deserialize_u32 u32 => visit_u32;
        deserialize_u64 u64 => visit_u64;
    }

    fn deserialize_bool<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        match self.0.as_str() {
            "true" => v.visit_bool(true),
            "false" => v.visit_bool(false),
            other => Err(serde::de::Error::custom(format!(
                "`{other}` is not a boolean (true or false)"
            ))),
        }
    }

    fn deserialize_f32<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        self.deserialize_f64(v)
    }

    fn deserialize_f64<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        match self.0.parse::<f64>() {
            Ok(f) if f.is_finite() => v.visit_f64(f),
            _ => Err(serde::de::Error::custom(format!(
                "`{}` is not a number",
                self.0
            ))),
        }
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        v.visit_some(self)
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, Self::Error> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Self::Error> {
        use serde::de::IntoDeserializer;
        IntoDeserializer::<Self::Error>::into_deserializer(self.0)
            .deserialize_enum(name, variants, v)
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map
        struct identifier ignored_any
    }
}

/// For text that may not be empty: not blank either (only whitespace, which the conversions
/// to the domain trim away). The document says so with [`super::contract::NOT_BLANK`]. (Empty
/// text is the `length` check's to refuse.)
pub fn not_blank(s: &str) -> Result<(), validator::ValidationError> {
    if !s.is_empty() && s.trim().is_empty() {
        Err(validator::ValidationError::new("blank").with_message("must not be blank".into()))
    } else {
        Ok(())
    }
}

/// The pattern of a link the API serves to the public (a website, a testimony's media):
/// `https://`, a host name or IPv4 address, maybe a port, then a path, query and fragment of
/// RFC 3986 characters (non-ASCII written percent-encoded). A `javascript:`, `data:` or `file:`
/// link in an answer is a trap for whoever renders it. The request schemas carry the same
/// pattern (a test compares them).
pub const HTTPS_URL_PATTERN: &str = r"^https://[A-Za-z0-9.-]+(:[0-9]{1,4})?(/([A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})*)*(\?([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?(#([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$";

/// RFC 3986 `pchar` minus `%` (checked apart): unreserved, sub-delims, `:` and `@`.
fn is_pchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&b)
}

/// `part` is made of bytes `ok` accepts and well-formed `%XX` escapes.
fn uri_chars(part: &[u8], ok: impl Fn(u8) -> bool) -> bool {
    let mut i = 0;
    while i < part.len() {
        if part[i] == b'%' {
            if !(i + 2 < part.len()
                && part[i + 1].is_ascii_hexdigit()
                && part[i + 2].is_ascii_hexdigit())
            {
                return false;
            }
            i += 3;
        } else if ok(part[i]) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

/// A URL matching [`HTTPS_URL_PATTERN`].
pub fn https_url(s: &str) -> Result<(), validator::ValidationError> {
    let ok = s.strip_prefix("https://").is_some_and(|rest| {
        let rest = rest.as_bytes();
        let end = rest
            .iter()
            .position(|b| matches!(b, b'/' | b'?' | b'#'))
            .unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let (host, port) = match authority.iter().position(|&b| b == b':') {
            Some(i) => (&authority[..i], Some(&authority[i + 1..])),
            None => (authority, None),
        };
        let (before_fragment, fragment) = match tail.iter().position(|&b| b == b'#') {
            Some(i) => (&tail[..i], Some(&tail[i + 1..])),
            None => (tail, None),
        };
        let (path, query) = match before_fragment.iter().position(|&b| b == b'?') {
            Some(i) => (&before_fragment[..i], Some(&before_fragment[i + 1..])),
            None => (before_fragment, None),
        };
        !host.is_empty()
            && host
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
            && port.is_none_or(|p| (1..=4).contains(&p.len()) && p.iter().all(u8::is_ascii_digit))
            && uri_chars(path, |b| is_pchar(b) || b == b'/')
            && query.is_none_or(|q| uri_chars(q, |b| is_pchar(b) || b == b'/' || b == b'?'))
            && fragment.is_none_or(|f| uri_chars(f, |b| is_pchar(b) || b == b'/' || b == b'?'))
    });
    if ok {
        Ok(())
    } else {
        Err(validator::ValidationError::new("invalid_url").with_message(
            "must be an https:// URL: a host name, an optional port, RFC 3986 characters".into(),
        ))
    }
}

/// A deserializer's error that names the code of its field error: the JSON and query
/// extractors read it back with [`coded`] (any other error is `invalid_type` in a body,
/// `invalid_parameter` in a query).
fn coded_error<E: serde::de::Error>(code: &str, detail: std::fmt::Arguments) -> E {
    E::custom(format!("[{code}] {detail}"))
}

/// The code and the detail of an error made by [`coded_error`].
fn coded(msg: &str) -> Option<(&str, &str)> {
    let rest = msg.strip_prefix('[')?;
    let (code, detail) = rest.split_once("] ")?;
    code.bytes()
        .all(|b| b.is_ascii_lowercase() || b == b'_')
        .then_some((code, detail))
}

/// A calendar day of a request, body field or query parameter: `YYYY-MM-DD` exactly, a day
/// that exists, from 2000-01-01 to 2099-12-31 ([`domain::parse_day`]). Anything else is the
/// field's `invalid_date` or `out_of_range`. Its fields declare `format: date`; the document
/// adds the pattern ([`domain::dates::DAY_PATTERN`], by `contract`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day(pub chrono::NaiveDate);

impl From<Day> for chrono::NaiveDate {
    fn from(d: Day) -> Self {
        d.0
    }
}

impl<'de> serde::Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let s = String::deserialize(de)?;
        domain::parse_day(&s)
            .map(Day)
            .map_err(|e| coded_error(e.code(), format_args!("`{s}` {e}")))
    }
}

/// An instant of a request (`updated_since`): RFC 3339 with its offset, a year from 0001 to
/// 9999 ([`domain::parse_instant`]); anything else is the field's `invalid_date_time` or
/// `out_of_range`. Its parameters declare `format: date-time`; the document adds the pattern
/// ([`domain::dates::INSTANT_PATTERN`], by `contract`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instant(pub chrono::DateTime<chrono::Utc>);

impl From<Instant> for chrono::DateTime<chrono::Utc> {
    fn from(t: Instant) -> Self {
        t.0
    }
}

impl<'de> serde::Deserialize<'de> for Instant {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let s = String::deserialize(de)?;
        domain::parse_instant(&s)
            .map(Instant)
            .map_err(|e| coded_error(e.code(), format_args!("`{s}` {e}")))
    }
}

/// For PATCH bodies: tells an absent field (`None`) from an explicit `null` (`Some(None)`).
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(de).map(Some)
}

/// An optional field that is absent or a value, never `null` (whose schema says so).
pub fn present<'de, T, D>(de: D) -> Result<Option<T>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    T::deserialize(de).map(Some)
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
    fn links_are_https_with_a_plain_host() {
        for ok in [
            "https://www.amf.asso.fr",
            "https://www.amf.asso.fr/",
            "https://cerema.fr:8443/a/b?c=d#e",
            "https://10.0.0.1/x",
            "https://host/caf%C3%A9?q=a/b?c#top/x?y",
            "https://Q:8",
        ] {
            assert!(super::https_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "http://www.amf.asso.fr",
            "https://",
            "https://user:pw@host/",
            "https://host:123456/",
            "https://host/a b",
            "https://ho st/",
            " https://host/",
            "HTTPS://host/",
            "https://host/\u{feff}",
            "https://Q:8#\u{b0}g",
            "https://host/%zz",
            "https://host/a%4",
            "https://host/#a#b",
            "https://host/[x]",
        ] {
            assert!(super::https_url(bad).is_err(), "{bad}");
        }
    }

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Dated {
        on: Option<Day>,
        #[serde(default, deserialize_with = "double_option")]
        until: Option<Option<Day>>,
        since: Option<Instant>,
    }

    #[test]
    fn dates_and_instants_name_their_field_and_code() {
        let problem = |r: Result<Dated, ApiError>| match r {
            Err(e) => {
                let p = e.problem();
                (
                    p.status,
                    p.errors[0].pointer.clone(),
                    p.errors[0].code.clone(),
                )
            }
            Ok(_) => (0, String::new(), "ok".into()),
        };
        let body = |s: &str| problem(parse_json(s.as_bytes()));
        assert_eq!(body(r#"{"on": "2027-02-01", "until": null}"#).2, "ok");
        assert_eq!(
            body(r#"{"on": "2026-1-1"}"#),
            (422, "/on".into(), "invalid_date".into())
        );
        assert_eq!(
            body(r#"{"until": "1999-12-31"}"#),
            (422, "/until".into(), "out_of_range".into())
        );
        assert_eq!(
            body(r#"{"on": 20270201}"#),
            (422, "/on".into(), "invalid_type".into())
        );
        assert_eq!(
            body(r#"{"since": "0000-01-01T00:00:00Z"}"#),
            (422, "/since".into(), "out_of_range".into())
        );
        let query = |s: &str| problem(parse_query(s));
        assert_eq!(query("since=1970-01-01T00:00:00Z").2, "ok");
        assert_eq!(
            query("since=-4714-01-01T00:00:00Z"),
            (400, "/since".into(), "invalid_date_time".into())
        );
        assert_eq!(
            query("on=2027-02-30"),
            (400, "/on".into(), "invalid_date".into())
        );
        // Only a deserializer's own `[code] ` prefix names a code.
        assert_eq!(
            coded("[out_of_range] `x` is late"),
            Some(("out_of_range", "`x` is late"))
        );
        assert_eq!(coded("[Not a code] x"), None);
        assert_eq!(coded("invalid type: string"), None);
    }

    #[test]
    fn a_key_named_twice_is_refused() {
        let e = parse_json::<serde_json::Value>(br#"{"a": {"b": 1, "b": 2}}"#).unwrap_err();
        let p = e.problem();
        assert_eq!(p.status, 400);
        assert_eq!(p.code, "malformed_json");
        assert!(p.detail.contains("`b` appears twice"), "{}", p.detail);
        let ok: serde_json::Value =
            parse_json(br#"{"a": [{"b": 1}, {"b": 2}], "n": 1.5, "m": -3, "t": null}"#).unwrap();
        assert_eq!(ok["a"][1]["b"], 2);
        assert_eq!(ok["n"], 1.5);
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
            pointer_of(r#"{"title": "x", "nested": {"n": 2.0}}"#),
            (String::new(), "ok".into())
        );
        assert_eq!(
            pointer_of(r#"{"title": "x", "nested": {"n": 2.5}}"#),
            ("/nested/n".into(), "invalid_type".into())
        );
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
        // JSON Schema's integers: `3.0` and `3e0` are 3; `3.5` is not an integer.
        for three in ["limit=3.0", "limit=3e0", "limit=0.3e1", "limit=3"] {
            assert_eq!(
                parse_query::<Params>(three).ok().and_then(|p| p.limit),
                Some(3)
            );
        }
        for bad in [
            "limit=3.5",
            "limit=1e400",
            "limit=NaN",
            "limit=inf",
            "limit=-1",
            "limit=",
        ] {
            assert!(parse_query::<Params>(bad).is_err(), "{bad}");
        }
        assert!(parse_query::<Params>("stauts=a").is_err());
        assert!(parse_query::<Params>("limit=x").is_err());
        assert!(parse_query::<Params>("status=a%00").is_err());
    }
}
