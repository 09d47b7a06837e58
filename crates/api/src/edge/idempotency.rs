//! Safe retries: `Idempotency-Key` on POST.
//!
//! Policy: the first response to a POST carrying a key is kept per client (the token's
//! subject) and key for 24 hours. A retry with the same key and the same request replays it
//! exactly (status, body, `Location`) and writes nothing; the same key with another request
//! is 422. Server errors (5xx), and requests refused before they ran (401, 429), are not kept:
//! they may be retried. Keys past their retention are purged every ten minutes.
//!
//! Exactly once, whatever happens to the process: a write keeps its key **in its own
//! transaction**. The write protocol ([`crate::edge::context::Write`]) inserts the key's row as
//! the first statement of the write's transaction ([`hold`]) and leaves the transaction open
//! ([`defer`]); this middleware writes the answer into that row and commits both together.
//! So the key's record exists if and only if the write committed: after a crash (kill -9, a
//! lost connection) a retry either replays what committed or, nothing having committed, runs
//! as if for the first time. Never `in flight` for minutes, never twice. Two requests with one
//! key at once (one instance or several on one database) meet on the row's primary key: the
//! second waits for the first's transaction, then replays its answer (or runs, if the first
//! rolled back). A request that wrote nothing (refused by validation, say) keeps its answer in
//! a row of its own after it answered.
//!
//! An answer that carries a secret (a machine client's creation or secret rotation, a webhook
//! subscription: every answer marked `Cache-Control: no-store`) is never kept: its record only
//! says that the request completed (state `not_replayable`, with its status, `Location` and
//! the advice its handler gave, see [`carrying_secret`]). A retry with the same key and
//! request neither runs it again nor shows the secret: it is 409 `not_replayable`, whose detail
//! says what to do instead (rotate the secret again, for instance).
//!
//! Records in state `in_flight` were left by versions before this one, which kept the key
//! apart from the write: such a retry is 409 for five minutes, then runs.

use std::time::Duration;

use super::write_gate::Turn;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use chrono::Utc;
use entity::idempotency_key::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set, SqlErr,
};
use sha2::{Digest, Sha256};

use super::error::ApiError;

pub const HEADER: HeaderName = HeaderName::from_static("idempotency-key");
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// How long a response is kept.
pub const RETENTION: Duration = Duration::from_secs(24 * 3600);
/// After this, a request still marked in flight is taken to have died and may be retried.
pub const IN_FLIGHT_TIMEOUT: Duration = Duration::from_secs(300);

/// The state of a key whose request completed with an answer that carried a secret.
pub const NOT_REPLAYABLE: &str = "not_replayable";

/// What a retry of an answer carrying a secret is told to do instead, as its handler said.
#[derive(Clone, Debug)]
struct Advice(String);

/// Marks an answer that carries a secret: `Cache-Control: no-store`, and not kept with its
/// `Idempotency-Key`; a retry with the key is refused (409 `not_replayable`) with `advice`:
/// what to do instead, naming the resource (never the secret).
pub fn carrying_secret(mut res: HttpResponse, advice: impl Into<String>) -> HttpResponse {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.extensions_mut().insert(Advice(advice.into()));
    res
}

/// Whether the answer may not be stored (`Cache-Control: no-store`): not in our records either.
fn no_store(headers: &header::HeaderMap) -> bool {
    headers
        .get_all(header::CACHE_CONTROL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|d| d.trim().eq_ignore_ascii_case("no-store"))
}

/// The advice of an answer marked `no-store` by other means than [`carrying_secret`].
const GENERIC_ADVICE: &str = "Read the resource it made or changed to see where it stands; repeat the action with a new key only if you mean to do it again.";

/// The refusal of a retry whose first answer carried a secret.
fn not_replayable(m: &Model) -> ApiError {
    let status = m
        .status
        .map(|s| format!(" (it answered {s})"))
        .unwrap_or_default();
    ApiError::conflict(
        "not_replayable",
        format!(
            "the request with this Idempotency-Key already ran{status}, and its answer carried a secret, which is shown only once and never kept: it is neither replayed nor run again. {}",
            m.body.as_deref().unwrap_or(GENERIC_ADVICE)
        ),
    )
}

/// What a retry's key already holds.
enum Known {
    Replay(Model),
    Refused(ApiError),
}

/// The key of this request, left in its extensions for [`hold`].
#[derive(Clone, Debug)]
struct Slot {
    client: String,
    key: String,
    fingerprint: String,
}

/// The write's transaction, left open by [`defer`] for the middleware to commit, with its
/// turn to write (released when both are dropped).
struct Pending(DatabaseTransaction, Turn);

/// Marks a request that found its key held by another request's committed write.
struct Contended;

fn client_of(req: &ServiceRequest) -> Option<String> {
    let claims = crate::auth::token::verified(req.request()).ok().flatten()?;
    Some(format!("{}:{}", claims.role.as_str(), claims.sub))
}

/// What `valid_key` takes, as declared in the OpenAPI document: printable ASCII, no space.
pub const KEY_PATTERN: &str = "^[!-~]{1,255}$";

fn valid_key(key: &HeaderValue) -> Option<String> {
    let s = key.to_str().ok()?;
    (!s.is_empty() && s.len() <= 255 && s.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| s.to_owned())
}

fn fingerprint(req: &ServiceRequest, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(req.method().as_str().as_bytes());
    h.update(b" ");
    h.update(req.path().as_bytes());
    h.update(b"?");
    h.update(req.query_string().as_bytes());
    h.update(b"\n");
    h.update(body);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn bytes_to_payload(buf: web::Bytes) -> Payload {
    let (_, mut pl) = actix_http::h1::Payload::create(true);
    pl.unread_data(buf);
    Payload::from(pl)
}

fn age(t: chrono::DateTime<Utc>) -> Duration {
    (Utc::now() - t).to_std().unwrap_or_default()
}

fn in_flight() -> ApiError {
    ApiError::conflict(
        "idempotency_request_in_flight",
        "a request with this Idempotency-Key is still running; retry later",
    )
}

/// What the key already holds, if anything (a record past its retention is forgotten).
async fn lookup(db: &DatabaseConnection, slot: &Slot) -> Result<Option<Known>, ApiError> {
    let Some(existing) = Entity::find_by_id((slot.client.clone(), slot.key.clone()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    // Forgotten (past its retention), or left in flight by an older version for longer than
    // it could have run: free the key, unless somebody else did first.
    let stale = existing.state == "in_flight" && age(existing.created_at) > IN_FLIGHT_TIMEOUT;
    if age(existing.created_at) > RETENTION || stale {
        Entity::delete_many()
            .filter(Column::Client.eq(&slot.client))
            .filter(Column::Key.eq(&slot.key))
            .filter(Column::CreatedAt.eq(existing.created_at))
            .exec(db)
            .await?;
        return Ok(None);
    }
    if existing.fingerprint != slot.fingerprint {
        return Ok(Some(Known::Refused(ApiError::Unprocessable {
            code: "idempotency_key_reused",
            detail: "this Idempotency-Key was used with another request; use a new key for a new request".into(),
        })));
    }
    Ok(Some(match existing.state.as_str() {
        "in_flight" => Known::Refused(in_flight()),
        NOT_REPLAYABLE => Known::Refused(not_replayable(&existing)),
        _ => Known::Replay(existing),
    }))
}

/// In a write's transaction, as its first statement: holds the request's key (if it has one)
/// so that the key's record commits, or not, with the write. `Ok(false)` without a key. When
/// another request with the key committed first, the write must not run: the error says so
/// and the middleware answers what that request answered.
///
/// It takes the request's key from [`key_of`] (the write may run on another thread, which
/// has no request), and a contended key comes back as [`Held::Contended`] for
/// [`contended`] to mark on the request.
pub async fn hold(slot: Option<&Key>, txn: &DatabaseTransaction) -> Result<bool, Held> {
    let Some(Key(slot)) = slot else {
        return Ok(false);
    };
    match in_flight_row(&slot.client, &slot.key, &slot.fingerprint)
        .insert(txn)
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(Held::Contended)
        }
        Err(e) => Err(Held::Failed(e.into())),
    }
}

/// The `Idempotency-Key` of a write request, as [`hold`] takes it.
#[derive(Clone, Debug)]
pub struct Key(Slot);

/// Why [`hold`] did not hold the key.
#[derive(Debug)]
pub enum Held {
    /// Another request with the key committed first.
    Contended,
    Failed(ApiError),
}

/// The request's key, if it has one.
pub fn key_of(req: &HttpRequest) -> Option<Key> {
    req.extensions().get::<Slot>().cloned().map(Key)
}

/// Marks the request whose key another request holds (the middleware then answers what that
/// request answered) and returns the error of the write.
pub fn contended(req: &HttpRequest) -> ApiError {
    req.extensions_mut().insert(Contended);
    in_flight()
}

/// Leaves a write's committed-to-be transaction (whose key [`hold`] holds) to the middleware,
/// which keeps the answer in it and commits.
pub fn defer(req: &HttpRequest, txn: DatabaseTransaction, turn: Turn) {
    req.extensions_mut().insert(Pending(txn, turn));
}

/// What a completed request leaves in its key's record.
struct Kept {
    state: &'static str,
    status: StatusCode,
    content_type: Option<String>,
    location: Option<String>,
    body: String,
}

impl Kept {
    /// Completes the record [`hold`] wrote, in the write's transaction.
    async fn complete(self, txn: &DatabaseTransaction, slot: &Slot) -> Result<(), ApiError> {
        use sea_orm::sea_query::Expr;
        let done = Entity::update_many()
            .col_expr(Column::State, Expr::value(self.state))
            .col_expr(Column::Status, Expr::value(i32::from(self.status.as_u16())))
            .col_expr(Column::ContentType, Expr::value(self.content_type))
            .col_expr(Column::Location, Expr::value(self.location))
            .col_expr(Column::Body, Expr::value(self.body))
            .col_expr(Column::CompletedAt, Expr::value(Utc::now()))
            .filter(Column::Client.eq(&slot.client))
            .filter(Column::Key.eq(&slot.key))
            .exec(txn)
            .await?;
        if done.rows_affected == 1 {
            Ok(())
        } else {
            Err(ApiError::Internal(anyhow::anyhow!(
                "the idempotency record held by the write is missing"
            )))
        }
    }

    /// Keeps the answer of a request that wrote nothing, in a record of its own (unless a
    /// request with the same key got there first).
    async fn insert(self, db: &DatabaseConnection, slot: &Slot) {
        let mut row = in_flight_row(&slot.client, &slot.key, &slot.fingerprint);
        row.state = Set(self.state.into());
        row.status = Set(Some(i32::from(self.status.as_u16())));
        row.content_type = Set(self.content_type);
        row.location = Set(self.location);
        row.body = Set(Some(self.body));
        row.completed_at = Set(Some(Utc::now()));
        match row.insert(db).await {
            Ok(_) => {}
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
            Err(e) => {
                tracing::warn!(error = %e, "could not keep the answer of an idempotent request")
            }
        }
    }
}

/// An in-flight reservation, as the write protocol writes it (for tests of the in-flight case).
pub fn in_flight_row(client: &str, key: &str, fingerprint: &str) -> ActiveModel {
    ActiveModel {
        client: Set(client.to_owned()),
        key: Set(key.to_owned()),
        fingerprint: Set(fingerprint.to_owned()),
        state: Set("in_flight".into()),
        status: Set(None),
        content_type: Set(None),
        location: Set(None),
        body: Set(None),
        created_at: Set(Utc::now()),
        completed_at: Set(None),
    }
}

fn replay(m: Model) -> HttpResponse {
    let status = m
        .status
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let mut res = HttpResponse::build(status);
    res.insert_header((REPLAYED, "true"));
    if let Some(ct) = m.content_type {
        res.insert_header((header::CONTENT_TYPE, ct));
    }
    if let Some(loc) = m.location {
        res.insert_header((header::LOCATION, loc));
    }
    res.body(m.body.unwrap_or_default())
}

fn header_text(headers: &header::HeaderMap, h: HeaderName) -> Option<String> {
    headers
        .get(h)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The middleware: a no-op for anything but a POST with an `Idempotency-Key` and a valid token.
pub async fn idempotency(
    mut req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(raw_key) = req
        .headers()
        .get(&HEADER)
        .filter(|_| req.method() == Method::POST)
        .cloned()
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    // Without a valid token the handler answers 401, whatever the key: it is checked after.
    let (Some(client), Some(db)) = (
        client_of(&req),
        req.app_data::<web::Data<DatabaseConnection>>().cloned(),
    ) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(key) = valid_key(&raw_key) else {
        let e = ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key takes 1 to 255 printable ASCII characters",
        );
        return Ok(req.into_response(e.error_response()));
    };
    let body = match req.extract::<web::Bytes>().await {
        Ok(b) => b,
        Err(_) => return Ok(req.into_response(ApiError::PayloadTooLarge.error_response())),
    };
    let slot = Slot {
        client,
        key,
        fingerprint: fingerprint(&req, &body),
    };
    req.set_payload(bytes_to_payload(body));
    match lookup(&db, &slot).await {
        Ok(None) => {}
        Ok(Some(Known::Replay(m))) => return Ok(req.into_response(replay(m))),
        Ok(Some(Known::Refused(e))) | Err(e) => return Ok(req.into_response(e.error_response())),
    }
    req.extensions_mut().insert(slot.clone());
    // On an error the request, and the transaction it may hold, are dropped: rolled back.
    let res = next.call(req).await?.map_into_boxed_body();
    let pending = res.request().extensions_mut().remove::<Pending>();
    if pending.is_none() && res.request().extensions().contains::<Contended>() {
        // Another request with this key committed first: answer what it answered.
        return Ok(match lookup(&db, &slot).await {
            Ok(Some(Known::Replay(m))) => res.into_response(replay(m)),
            Ok(Some(Known::Refused(e))) | Err(e) => res.into_response(e.error_response()),
            Ok(None) => res,
        });
    }
    let status = res.status();
    if status.is_server_error()
        || status == StatusCode::UNAUTHORIZED
        || status == StatusCode::TOO_MANY_REQUESTS
    {
        // Not kept; a write's transaction, if any, is rolled back as `pending` drops.
        return Ok(res);
    }
    let advice = res.response().extensions().get::<Advice>().cloned();
    let (res, kept) = if advice.is_some() || no_store(res.headers()) {
        // The answer goes out as it is; only the fact that it was given is kept.
        let kept = Kept {
            state: NOT_REPLAYABLE,
            status,
            content_type: None,
            location: header_text(res.headers(), header::LOCATION),
            body: advice.map_or_else(|| GENERIC_ADVICE.to_owned(), |a| a.0),
        };
        (res, kept)
    } else {
        let (req, response) = res.into_parts();
        let headers = response.headers().clone();
        let bytes = actix_web::body::to_bytes(response.into_body())
            .await
            .unwrap_or_default();
        let kept = Kept {
            state: "done",
            status,
            content_type: header_text(&headers, header::CONTENT_TYPE),
            location: header_text(&headers, header::LOCATION),
            body: String::from_utf8_lossy(&bytes).into_owned(),
        };
        let mut out = HttpResponse::build(status);
        for (k, v) in headers.iter() {
            if k != header::CONTENT_LENGTH {
                out.append_header((k.clone(), v.clone()));
            }
        }
        (ServiceResponse::new(req, out.body(bytes)), kept)
    };
    let Some(Pending(txn, _turn)) = pending else {
        kept.insert(&db, &slot).await;
        return Ok(res);
    };
    // The answer and the write commit together, or neither does (and the client is told).
    let committed = match kept.complete(&txn, &slot).await {
        Ok(()) => txn.commit().await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    Ok(match committed {
        Ok(()) => res,
        Err(e) => res.into_response(e.error_response()),
    })
}

/// Documents the header and its 409 and 422 answers on every POST under /api/v1.
pub fn document(api: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, RefOr, Required, Type};

    for (path, item) in api.paths.paths.iter_mut() {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        let Some(op) = item.post.as_mut() else {
            continue;
        };
        op.parameters.get_or_insert_default().push(RefOr::T(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some("A key of yours (1 to 255 printable ASCII characters, no space): a retry with the same key and request replays the first response; with another request it is 422; while the first still runs, 409. An answer that carries a secret is never kept: the retry of such a request is 409 `not_replayable` (it does not run again)"))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).min_length(Some(1)).max_length(Some(255)).pattern(Some(KEY_PATTERN)).build()))
                .build(),
        ));
        for (status, problems) in [
            ("409", super::problems::problem_responses(&[409])),
            ("422", super::problems::problem_responses(&[422])),
        ] {
            if !op.responses.responses.contains_key(status) {
                op.responses.responses.extend(problems);
            }
        }
    }
}

/// Deletes the keys past their retention (and an hour's margin); returns how many.
pub async fn purge_expired(db: &DatabaseConnection) -> Result<u64, ApiError> {
    let cutoff = Utc::now()
        - chrono::Duration::from_std(RETENTION + Duration::from_secs(3600)).unwrap_or_default();
    Ok(Entity::delete_many()
        .filter(Column::CreatedAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
