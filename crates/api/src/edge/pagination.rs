//! Lists at the edge: the page body, its `Link: rel="next"` header, and the page schema of
//! each list in the OpenAPI document. (Keyset pagination itself is the store's.)

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use store::Page;

use super::error::ApiError;

#[derive(Serialize)]
struct Body<'a, T> {
    items: Vec<T>,
    next_cursor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<u64>,
}

/// The URL of the next page: this request's, with the cursor replaced.
fn next_link(req: &HttpRequest, cursor: &str) -> String {
    let mut pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(req.query_string().as_bytes())
            .filter(|(k, _)| k != "cursor" && k != "after")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let name = if req.path().ends_with("/events") {
        "after"
    } else {
        "cursor"
    };
    pairs.push((name.into(), cursor.to_owned()));
    let qs = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    format!("<{}?{}>; rel=\"next\"", req.path(), qs)
}

/// `{"items": [...], "next_cursor": ..., "total"?}` with a `Link: <...>; rel="next"` header,
/// serialized straight from the typed items.
pub fn respond<T: Serialize>(req: &HttpRequest, page: Page<T>) -> HttpResponse {
    let next = page.next.as_ref().map(store::cursor::encode);
    body(req, page.items, next, page.total)
}

/// The same with the next cursor given (the change feed's is never null once known).
pub fn body<T: Serialize>(
    req: &HttpRequest,
    items: Vec<T>,
    next_cursor: Option<String>,
    total: Option<u64>,
) -> HttpResponse {
    // One buffer sized for the page (a Fabrique is about 1.2 KB of JSON): grown by doubling
    // from empty, a page of 50 reallocated about seven times, each copy larger than the last.
    let mut bytes = Vec::with_capacity(PAGE_ITEM_BYTES * items.len() + 128);
    let written = serde_json::to_writer(
        &mut bytes,
        &Body {
            items,
            next_cursor: next_cursor.as_deref(),
            total,
        },
    );
    if let Err(e) = written {
        return actix_web::ResponseError::error_response(&ApiError::Internal(e.into()));
    }
    let mut res = HttpResponse::Ok();
    if let Some(cursor) = &next_cursor {
        res.insert_header((header::LINK, next_link(req, cursor)));
    }
    res.content_type("application/json").body(bytes)
}

/// The room a page's buffer starts with per item.
const PAGE_ITEM_BYTES: usize = 1280;

/// Declares the page schema of a list: `{"items": [T], "next_cursor": string|null, "total"?}`.
#[macro_export]
macro_rules! page_schema {
    ($name:ident, $item:ty) => {
        #[derive(serde::Serialize, utoipa::ToSchema)]
        #[allow(dead_code)]
        pub struct $name {
            pub items: Vec<$item>,
            /// Opaque cursor of the next page; null on the last page.
            pub next_cursor: Option<String>,
            /// Number of matching items, only when `count=true` was asked.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub total: Option<u64>,
        }
    };
}
