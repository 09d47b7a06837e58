//! No lost updates: strong ETags on single resources, `If-None-Match` (304) on reads and
//! `If-Match` (412) on writes.
//!
//! Policy: an ETag is a hash of the exact JSON the caller receives, so it changes whenever the
//! representation does (including names copied from other resources). A write with `If-Match`
//! compares it with the ETag of what the resource's own read function gives the caller now
//! ([`Versioned::read`]), then claims the row's version with one conditional statement in the
//! write's own transaction ([`store::versions::claim`]): of two writers holding the same ETag,
//! exactly one gets past it. Without `If-Match` a write is unconditional. Each handler that
//! honours these headers says so in its OpenAPI annotation ([`IfMatchHeader`],
//! [`IfNoneMatchHeader`]); a test checks every such operation against the server.

use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse};
use domain::Access;
use futures_util::future::LocalBoxFuture;
use sea_orm::DatabaseTransaction;
use serde::Serialize;
use sha2::{Digest, Sha256};
use store::StoreResult;
use store::versions::Table;
use uuid::Uuid;

use super::error::{ApiError, ApiResult};

/// The strong ETag of a representation.
pub fn of<T: Serialize>(body: &T) -> String {
    of_bytes(&serde_json::to_vec(body).unwrap_or_default())
}

/// The strong ETag of these exact bytes: the first 128 bits of their SHA-256, in hex.
fn of_bytes(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for b in &digest[..16] {
        tag.push(HEX[usize::from(b >> 4)] as char);
        tag.push(HEX[usize::from(b & 15)] as char);
    }
    tag.push('"');
    tag
}

/// Whether `If-None-Match` names `tag` (or is `*`).
fn fresh(req: &HttpRequest, tag: &str) -> bool {
    (req.method() == Method::GET || req.method() == Method::HEAD)
        && req
            .headers()
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .map(str::trim)
                    .any(|t| t == "*" || t.trim_start_matches("W/") == tag)
            })
}

/// 200 with the body and its ETag, or 304 when the client's `If-None-Match` already has it.
pub fn respond<T: Serialize>(req: &HttpRequest, body: &T) -> HttpResponse {
    // Serialised once: the bytes hashed are the bytes sent.
    // Room for a Fabrique (about 1.2 KB) without regrowing.
    let mut bytes = Vec::with_capacity(2048);
    match serde_json::to_writer(&mut bytes, body) {
        Ok(()) => {}
        Err(e) => {
            return actix_web::ResponseError::error_response(&ApiError::Internal(e.into()));
        }
    };
    let tag = of_bytes(&bytes);
    if fresh(req, &tag) {
        HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .finish()
    } else {
        HttpResponse::Ok()
            .insert_header((header::ETAG, tag))
            .content_type("application/json")
            .body(bytes)
    }
}

/// The `If-Match` of a write: `*`, or a list of ETags (`"…"`, `W/"…"`).
#[derive(Debug, Clone, Default)]
pub struct IfMatch(pub Option<Vec<String>>);

/// The grammar of `If-Match` (RFC 9110 §13.1.1), also declared in the OpenAPI document.
pub const IF_MATCH_PATTERN: &str =
    r#"^(\*|(W/)?"[\x21\x23-\x7e]*"([ \t]*,[ \t]*(W/)?"[\x21\x23-\x7e]*")*)$"#;

/// The entity tags of a list that follows [`IF_MATCH_PATTERN`] (`*` aside), as written.
/// An opaque tag may hold commas (`"a,b"`), so the list is read tag by tag, not split.
fn entity_tags(s: &str) -> Option<Vec<String>> {
    let b = s.as_bytes();
    let ows = |mut i: usize| {
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        i
    };
    let mut tags = Vec::new();
    let mut i = 0;
    loop {
        let start = i;
        if b[i..].starts_with(b"W/") {
            i += 2;
        }
        if b.get(i) != Some(&b'"') {
            return None;
        }
        i += 1;
        while let Some(&c) = b.get(i).filter(|&&c| c != b'"') {
            if !(c == 0x21 || (0x23..=0x7e).contains(&c)) {
                return None;
            }
            i += 1;
        }
        if b.get(i) != Some(&b'"') {
            return None;
        }
        i += 1;
        tags.push(s[start..i].to_owned());
        i = ows(i);
        match b.get(i) {
            None => return Some(tags),
            Some(b',') => i = ows(i + 1),
            Some(_) => return None,
        }
    }
}

impl IfMatch {
    pub fn parse(req: &HttpRequest) -> ApiResult<Self> {
        let Some(v) = req.headers().get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let bad = || {
            ApiError::bad_request(
                "invalid_precondition",
                "If-Match must list ETags (\"…\") or be *",
            )
        };
        let s = v.to_str().map_err(|_| bad())?.trim();
        if s == "*" {
            return Ok(IfMatch(Some(vec!["*".into()])));
        }
        entity_tags(s)
            .map(|tags| IfMatch(Some(tags)))
            .ok_or_else(bad)
    }
}

/// A resource a write may be conditional on: where its version lives, and the read whose
/// representation the ETag is of (the same read `GET` serves).
pub trait Versioned: Serialize {
    const TABLE: Table;

    /// The id of the row that carries the version (the resource's own id but for roadmaps,
    /// which are addressed by their participation).
    fn row<'a>(db: &'a DatabaseTransaction, id: Uuid) -> LocalBoxFuture<'a, StoreResult<Uuid>> {
        let _ = db;
        Box::pin(async move { Ok(id) })
    }

    fn read<'a>(
        db: &'a DatabaseTransaction,
        access: &'a Access,
        id: Uuid,
    ) -> LocalBoxFuture<'a, StoreResult<Self>>
    where
        Self: Sized;
}

/// Checks `If-Match` against what the caller reads of `R` now and claims the row's version,
/// in the write's transaction. A no-op without `If-Match`.
pub async fn claim<R: Versioned>(
    db: &DatabaseTransaction,
    access: &Access,
    id: Uuid,
    if_match: &IfMatch,
) -> ApiResult<()> {
    let Some(tags) = &if_match.0 else {
        return Ok(());
    };
    let row = R::row(db, id).await?;
    let version = store::versions::current(db, R::TABLE, row)
        .await?
        .ok_or(ApiError::NotFound("resource"))?;
    let current = of(&R::read(db, access, id).await?);
    if !tags.iter().any(|t| t == "*" || *t == current) {
        return Err(ApiError::PreconditionFailed);
    }
    store::versions::claim(db, R::TABLE, row, version).await?;
    Ok(())
}

macro_rules! versioned {
    ($($view:ty => $table:ident, $read:path;)*) => {
        $(
            impl Versioned for $view {
                const TABLE: Table = Table::$table;

                fn read<'a>(
                    db: &'a DatabaseTransaction,
                    access: &'a Access,
                    id: Uuid,
                ) -> LocalBoxFuture<'a, StoreResult<Self>> {
                    Box::pin($read(db, access, id))
                }
            }
        )*
    };
}

async fn organization(
    db: &DatabaseTransaction,
    _: &Access,
    id: Uuid,
) -> StoreResult<store::organizations::Organization> {
    store::organizations::get(db, id).await
}

async fn territory(
    db: &DatabaseTransaction,
    _: &Access,
    id: Uuid,
) -> StoreResult<store::territories::Territory> {
    store::territories::get(db, id).await
}

async fn programme(
    db: &DatabaseTransaction,
    _: &Access,
    id: Uuid,
) -> StoreResult<store::programmes::Programme> {
    store::programmes::get(db, id).await
}

async fn client(
    db: &DatabaseTransaction,
    _: &Access,
    id: Uuid,
) -> StoreResult<store::clients::Client> {
    store::clients::get(db, id).await
}

versioned! {
    store::organizations::Organization => Organizations, organization;
    store::territories::Territory => Territories, territory;
    store::programmes::Programme => Programmes, programme;
    store::fabriques::Fabrique => Fabriques, store::fabriques::get;
    store::participations::Participation => Participations, store::participations::get;
    store::seminars::Seminar => Seminars, store::seminars::get;
    store::working_groups::Member => WorkingGroupMembers, store::working_groups::get;
    store::roadmaps::Action => RoadmapActions, store::roadmaps::get_action;
    store::lessons::Lesson => Lessons, store::lessons::get;
    store::testimonies::Testimony => Testimonies, store::testimonies::get;
    store::funding::FundingLine => FundingLines, store::funding::get;
    store::clients::Client => ApiClients, client;
    store::webhooks::Webhook => WebhookSubscriptions, store::webhooks::get;
}

impl Versioned for store::roadmaps::Roadmap {
    const TABLE: Table = Table::Roadmaps;

    fn row<'a>(db: &'a DatabaseTransaction, id: Uuid) -> LocalBoxFuture<'a, StoreResult<Uuid>> {
        Box::pin(store::roadmaps::row_id(db, id))
    }

    fn read<'a>(
        db: &'a DatabaseTransaction,
        access: &'a Access,
        id: Uuid,
    ) -> LocalBoxFuture<'a, StoreResult<Self>> {
        Box::pin(store::roadmaps::get(db, access, id))
    }
}

/// The `If-Match` header, for the OpenAPI annotation of a conditional write.
pub struct IfMatchHeader;

impl utoipa::IntoParams for IfMatchHeader {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ObjectBuilder, Required, Type};
        vec![
            ParameterBuilder::new()
                .name("If-Match")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "The ETag of the representation you changed (or *): 412 if it is no longer current",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .pattern(Some(IF_MATCH_PATTERN))
                        .examples([serde_json::json!("\"3f2a9c0d41e6b7a85d0c9e1f2a3b4c5d\"")])
                        .build(),
                ))
                .build(),
        ]
    }
}

/// The `If-None-Match` header, for the OpenAPI annotation of a read with an ETag.
pub struct IfNoneMatchHeader;

impl utoipa::IntoParams for IfNoneMatchHeader {
    fn into_params(
        _: impl Fn() -> Option<utoipa::openapi::path::ParameterIn>,
    ) -> Vec<utoipa::openapi::path::Parameter> {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{ObjectBuilder, Required, Type};
        vec![
            ParameterBuilder::new()
                .name("If-None-Match")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "An ETag from an earlier read: 304 if the resource has not changed",
                ))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).build()))
                .build(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::{entity_tags, of};
    use sha2::{Digest, Sha256};

    /// The tag is the first 128 bits of the SHA-256 of the JSON sent, in lowercase hex.
    #[test]
    fn a_tag_is_the_hash_of_the_json_sent() {
        let body = serde_json::json!({"id": 1, "name": "Fabrique"});
        let digest = Sha256::digest(serde_json::to_vec(&body).unwrap());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(of(&body), format!("\"{hex}\""));
        assert_ne!(of(&body), of(&serde_json::json!({"id": 2})));
    }

    #[test]
    fn if_match_lists_are_read_tag_by_tag() {
        assert_eq!(entity_tags(r#""a""#), Some(vec![r#""a""#.to_owned()]));
        // Commas and spaces may sit inside an opaque tag; tabs around the separators.
        assert_eq!(
            entity_tags("W/\",w0%<R\",\t\"\" , \"x,y\""),
            Some(vec![
                r#"W/",w0%<R""#.to_owned(),
                r#""""#.to_owned(),
                r#""x,y""#.to_owned()
            ])
        );
        for bad in [
            "0",
            "",
            "\"a",
            "\"a\",",
            "\"a\" \"b\"",
            "w/\"a\"",
            "\"a b\"",
            "\"a\"\"b\"",
        ] {
            assert_eq!(entity_tags(bad), None, "{bad:?}");
        }
    }
}
