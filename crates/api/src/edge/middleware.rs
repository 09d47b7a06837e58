//! Request ids, and problem+json for every error whoever produced it.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError};

use super::error::{ApiError, PROBLEM_JSON};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The request id of this request (echoed from the client or generated).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions().get::<RequestId>().map(|r| r.0.clone())
}

/// Client ids are echoed when short and printable, replaced otherwise.
fn accept_client_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    (!s.is_empty() && s.len() <= 200 && s.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| s.to_owned())
}

/// The trace id of a W3C `traceparent` header (`00-<32 hex>-<16 hex>-<2 hex>`), when it is
/// one: lowercase hex, neither id all zeros, version `ff` refused (W3C Trace Context §3.2).
pub fn trace_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?.trim();
    let mut parts = s.split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |p: &str, n: usize| {
        p.len() == n
            && p.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let zeros = |p: &str| p.bytes().all(|b| b == b'0');
    // Version 00 has exactly four fields; later versions may add some.
    let ok = hex(version, 2)
        && version != "ff"
        && (version != "00" || parts.next().is_none())
        && hex(trace, 32)
        && !zeros(trace)
        && hex(parent, 16)
        && !zeros(parent)
        && hex(flags, 2);
    ok.then(|| trace.to_owned())
}

/// Sets the request id before the handler and, after it, stamps the id on the response and
/// turns any error response that is not yet problem+json into one. Everything logged while
/// the request runs is inside its `request` span, which carries the request id and the
/// caller's W3C trace id (`traceparent`), when it sent one.
pub async fn request_context(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    use tracing::Instrument;
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(accept_client_id)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let (method, path) = (req.method().clone(), req.path().to_owned());
    let trace = req
        .headers()
        .get(header::HeaderName::from_static("traceparent"))
        .and_then(trace_id);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        trace_id = tracing::field::Empty,
        %method,
        %path,
    );
    if let Some(t) = &trace {
        span.record("trace_id", t.as_str());
    }
    let server_timing = req
        .app_data::<actix_web::web::Data<crate::config::ServiceOptions>>()
        .is_some_and(|o| o.server_timing);
    async move {
        let started = std::time::Instant::now();
        // No database text stores NUL, and no route names one: refused before routing.
        let nul = req.path().contains("%00");
        let (res, tally) = if nul {
            let refused = ApiError::bad_request(
                "invalid_path_parameter",
                "the path may not contain the NUL character",
            );
            (
                Ok(req.error_response(refused)),
                super::statements::Tally::default(),
            )
        } else {
            let (res, tally) = super::statements::counted(next.call(req)).await;
            (res.map(ServiceResponse::map_into_boxed_body), tally)
        };
        let mut res = enrich(res?, &id).await;
        if server_timing && let Ok(v) = HeaderValue::from_str(&tally.server_timing()) {
            res.headers_mut()
                .insert(header::HeaderName::from_static("server-timing"), v);
        }
        tracing::info!(
            status = res.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            statements = tally.statements,
            db_ms = tally.elapsed.as_secs_f64() * 1000.0,
            "request"
        );
        Ok(res)
    }
    .instrument(span)
    .await
}

async fn enrich(res: ServiceResponse<BoxBody>, id: &str) -> ServiceResponse<BoxBody> {
    let status = res.status();
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    // RFC 6749 §5.2 errors of the token endpoint: problem fields inside, but application/json.
    let is_oauth = !is_problem
        && res.request().path() == "/oauth/token"
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes() == b"application/json");
    let (req, mut response) = res.into_parts();
    if let Ok(v) = HeaderValue::from_str(id) {
        response.headers_mut().insert(REQUEST_ID, v.clone());
    }
    if !status.is_client_error() && !status.is_server_error() {
        return ServiceResponse::new(req, response);
    }
    let headers = response.headers().clone();
    let body = response.into_body();
    let bytes = actix_web::body::to_bytes(body).await.unwrap_or_default();
    let mut problem: serde_json::Value = if is_problem || is_oauth {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| serde_json::json!({}))
    } else {
        // Produced by actix itself (or a library): wrap it.
        let api =
            ApiError::bad_request("bad_request", String::from_utf8_lossy(&bytes).into_owned());
        let mut p = serde_json::to_value(api.problem()).unwrap_or_default();
        let code = match status.as_u16() {
            404 => "not_found",
            405 => "method_not_allowed",
            413 => "payload_too_large",
            415 => "unsupported_media_type",
            s if s >= 500 => "internal_error",
            _ => "bad_request",
        };
        p["status"] = status.as_u16().into();
        p["code"] = code.into();
        p["type"] = format!("urn:fabriques:problem:{code}").into();
        p["title"] = status.canonical_reason().unwrap_or("Error").into();
        if bytes.is_empty() || status.is_server_error() {
            p["detail"] = status.canonical_reason().unwrap_or("Error").into();
        }
        p
    };
    if let Some(obj) = problem.as_object_mut() {
        obj.insert("instance".into(), req.path().into());
        obj.insert("request_id".into(), id.into());
    }
    let mut out = HttpResponse::build(status);
    for (k, v) in headers.iter() {
        if k != header::CONTENT_LENGTH && k != header::CONTENT_TYPE {
            out.append_header((k.clone(), v.clone()));
        }
    }
    out.insert_header((
        header::CONTENT_TYPE,
        if is_oauth {
            "application/json"
        } else {
            PROBLEM_JSON
        },
    ));
    let response = out.body(serde_json::to_vec(&problem).unwrap_or_default());
    ServiceResponse::new(req, response)
}

/// Routes that exist, with their methods, to answer 405 (with `Allow`) rather than 404.
#[derive(Debug, Clone, Default)]
pub struct KnownRoutes(pub Vec<KnownPath>);

/// One path of the document: its methods, and those of its operations that declare no query
/// parameter (a query string sent to one of those is refused, as an unknown parameter of a
/// list is).
#[derive(Debug, Clone)]
pub struct KnownPath {
    pub def: actix_web::dev::ResourceDef,
    pub methods: Vec<String>,
    pub without_query: Vec<String>,
}

impl KnownRoutes {
    /// The paths of an OpenAPI document (JSON), their methods and which take a query.
    pub fn from_document(json: &str) -> Result<Self, serde_json::Error> {
        #[derive(serde::Deserialize)]
        struct Param {
            #[serde(rename = "in")]
            location: String,
        }
        #[derive(serde::Deserialize)]
        struct Op {
            #[serde(default)]
            parameters: Vec<Param>,
        }
        #[derive(serde::Deserialize)]
        struct Doc {
            paths: std::collections::BTreeMap<String, std::collections::BTreeMap<String, Op>>,
        }
        let doc: Doc = serde_json::from_str(json)?;
        Ok(KnownRoutes(
            doc.paths
                .into_iter()
                .map(|(path, item)| {
                    let mut methods: Vec<String> = ["GET", "PUT", "POST", "DELETE", "PATCH"]
                        .into_iter()
                        .filter(|m| item.contains_key(&m.to_lowercase()))
                        .map(str::to_owned)
                        .collect();
                    // HEAD is answered wherever GET is (see `browsers::head_as_get`).
                    if item.contains_key("get") {
                        methods.insert(1, "HEAD".into());
                    }
                    let without_query = methods
                        .iter()
                        .filter(|m| {
                            let key = if *m == "HEAD" {
                                "get".into()
                            } else {
                                m.to_lowercase()
                            };
                            item[&key].parameters.iter().all(|p| p.location != "query")
                        })
                        .cloned()
                        .collect();
                    KnownPath {
                        def: actix_web::dev::ResourceDef::new(path.as_str()),
                        methods,
                        without_query,
                    }
                })
                .collect(),
        ))
    }

    fn find(&self, path: &str) -> Option<&KnownPath> {
        self.0.iter().find(|k| k.def.is_match(path))
    }
}

/// Refuses (400 `invalid_query`) a query string sent to an operation that takes none, as a
/// list refuses a parameter it does not know: a misspelt or misplaced filter is never
/// silently ignored. Only requests with a query string are looked at.
pub async fn no_stray_query(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if !req.query_string().is_empty()
        && let Some(known) = req.app_data::<actix_web::web::Data<KnownRoutes>>()
        && let Some(path) = known.find(req.path())
        && path
            .without_query
            .iter()
            .any(|m| m == req.method().as_str())
    {
        let name = url::form_urlencoded::parse(req.query_string().as_bytes())
            .next()
            .map(|(k, _)| k.replace('\0', ""))
            .unwrap_or_default();
        let refused = super::params::bad(
            &name,
            "unknown_parameter",
            "this operation takes no query parameter",
        );
        return Ok(req.into_response(refused.error_response()));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// The default service: 405 for a known path with another method, 404 otherwise.
pub async fn fallback(req: HttpRequest) -> HttpResponse {
    let known = req.app_data::<actix_web::web::Data<KnownRoutes>>();
    let allow = known.and_then(|k| k.find(req.path()).map(|p| p.methods.clone()));
    match allow {
        Some(methods) => ApiError::MethodNotAllowed(methods).error_response(),
        None => ApiError::NotFound("resource").error_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::trace_id;
    use actix_web::http::header::HeaderValue;

    fn id(v: &str) -> Option<String> {
        trace_id(&HeaderValue::from_str(v).unwrap())
    }

    #[test]
    fn a_w3c_traceparent_gives_its_trace_id() {
        assert_eq!(
            id("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        // A later version may carry more fields.
        assert!(id("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz").is_some());
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert_eq!(id(bad), None, "{bad}");
        }
    }
}
