//! What every handler starts from: the database, the caller's [`Access`] (worked out once
//! per request), and the request itself; and the one write protocol.
//!
//! Policy: a read handler takes [`Public`] (a token is optional) or [`Signed`] (a token is
//! required) and calls one store function with the typed input it parsed. A write handler
//! takes [`Write`] and hands its store call to [`Write::run`] or [`Write::run_on`], which
//! check the permission, open the transaction, claim the `If-Match` version of the resource
//! (comparing the ETag of the resource's own read function), pass the store an [`Actor`]
//! for the journal, and commit (with an `Idempotency-Key`, the key is kept in the same
//! transaction: see [`super::idempotency`]).

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use domain::{Access, Permission};
use futures_util::future::LocalBoxFuture;
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use serde::Serialize;
use store::{Actor, Page, StoreResult};
use uuid::Uuid;

use super::error::{ApiError, ApiResult};
use super::etag::{IfMatch, Versioned};
use super::idempotency::{Held, contended, defer, hold, key_of};
use super::write_gate::{Turn, WriteGate};
use super::writer::Writer;

/// A request's database, caller and request.
pub struct Ctx {
    pub db: DatabaseConnection,
    pub access: Access,
    pub req: HttpRequest,
}

impl Ctx {
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn access(&self) -> &Access {
        &self.access
    }

    /// 200 with the body and its ETag, or 304 when `If-None-Match` already has it.
    pub fn etagged<T: Serialize>(&self, body: &T) -> HttpResponse {
        super::etag::respond(&self.req, body)
    }

    /// A list page: `{"items": …, "next_cursor": …}` with a `Link: rel="next"` header.
    pub fn page<T: Serialize>(&self, page: Page<T>) -> HttpResponse {
        super::pagination::respond(&self.req, page)
    }

    pub fn request_id(&self) -> Option<String> {
        super::middleware::request_id(&self.req)
    }
}

async fn ctx(req: HttpRequest) -> ApiResult<Ctx> {
    let db = req
        .app_data::<web::Data<DatabaseConnection>>()
        .map(|d| d.get_ref().clone())
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("database missing from app data")))?;
    let access = crate::auth::token::access(&req).await?;
    // Each operation needs one scope of a machine client's token: `read` to read, `write` for
    // the rest (the spec's `oauth2` requirements say the same).
    let needed = if req.method().is_safe() {
        domain::TokenScope::Read
    } else {
        domain::TokenScope::Write
    };
    access
        .require_scope(needed)
        .map_err(ApiError::InsufficientScope)?;
    Ok(Ctx { db, access, req })
}

/// A read the public may make (a present but invalid token is still a 401).
pub struct Public(pub Ctx);

/// A read that needs a token.
pub struct Signed(pub Ctx);

impl Deref for Public {
    type Target = Ctx;
    fn deref(&self) -> &Ctx {
        &self.0
    }
}

impl Deref for Signed {
    type Target = Ctx;
    fn deref(&self) -> &Ctx {
        &self.0
    }
}

fn signed(c: Ctx) -> ApiResult<Ctx> {
    if c.access.is_public() {
        Err(ApiError::Unauthorized("a bearer token is required".into()))
    } else {
        Ok(c)
    }
}

impl FromRequest for Public {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { ctx(req).await.map(Public) })
    }
}

impl FromRequest for Signed {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { signed(ctx(req).await?).map(Signed) })
    }
}

/// A write: a token, and the `If-Match` it may carry.
pub struct Write {
    ctx: Ctx,
    if_match: IfMatch,
}

impl Deref for Write {
    type Target = Ctx;
    fn deref(&self) -> &Ctx {
        &self.ctx
    }
}

impl FromRequest for Write {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            // Who is asking comes first: without a valid token, 401 whatever the headers say.
            let ctx = signed(ctx(req).await?)?;
            let if_match = IfMatch::parse(&ctx.req)?;
            Ok(Write { ctx, if_match })
        })
    }
}

/// The store call of a write, in the write's transaction.
pub type StoreCall<'c, T> = LocalBoxFuture<'c, StoreResult<T>>;

/// What a write does in its transaction once it is open (and its key held).
type Body<'c, T> = LocalBoxFuture<'c, ApiResult<T>>;

/// How a write's transaction ended, as it comes back from the [`Writer`].
enum Done<T> {
    Committed(T),
    /// Succeeded with a held `Idempotency-Key`: the middleware keeps the answer and commits.
    Deferred(T, DatabaseTransaction, Turn),
    Contended,
    Failed(ApiError),
}

impl Write {
    /// Checks `perm` (its scope is checked by the store against the resource), then runs
    /// `call` in a transaction that commits only if it succeeds.
    pub async fn run<T, F>(self, perm: Permission, call: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c DatabaseTransaction, &'c Actor) -> StoreCall<'c, T> + Send + 'static,
    {
        self.ctx.access.require(perm)?;
        self.transact(move |txn, actor| {
            Box::pin(async move { with_figures(txn, actor, call(txn, actor).await).await })
        })
        .await
    }

    /// Like [`Write::run`], for a write on the resource `R` of id `id`: with `If-Match`, the
    /// ETag of what the caller reads of it now must be one of those given, and the row's
    /// version is claimed in the same transaction (412 otherwise).
    pub async fn run_on<R, T, F>(self, perm: Permission, id: Uuid, call: F) -> ApiResult<T>
    where
        R: Versioned,
        T: Send + 'static,
        F: for<'c> FnOnce(&'c DatabaseTransaction, &'c Actor) -> StoreCall<'c, T> + Send + 'static,
    {
        self.ctx.access.require(perm)?;
        let if_match = self.if_match.clone();
        self.transact(move |txn, actor| {
            Box::pin(async move {
                super::etag::claim::<R>(txn, &actor.access, id, &if_match).await?;
                with_figures(txn, actor, call(txn, actor).await).await
            })
        })
        .await
    }

    /// The one write protocol: this request's turn ([`WriteGate`]), the transaction, the
    /// `Idempotency-Key` held in it, `body`, then commit or roll back; on the [`Writer`]
    /// (SQLite's writer thread, or this task).
    async fn transact<T, B>(self, body: B) -> ApiResult<T>
    where
        T: Send + 'static,
        B: for<'c> FnOnce(&'c DatabaseTransaction, &'c Actor) -> Body<'c, T> + Send + 'static,
    {
        let req = &self.ctx.req;
        let gate = req
            .app_data::<web::Data<WriteGate>>()
            .map_or_else(WriteGate::none, |g| g.get_ref().clone());
        let writer = req
            .app_data::<web::Data<Writer>>()
            .map_or_else(Writer::inline, |w| w.get_ref().clone());
        let key = key_of(req);
        let db = self.ctx.db.clone();
        let actor = Actor::new(self.ctx.access.clone(), self.ctx.request_id());
        let done = writer
            .run(move || {
                Box::pin(async move {
                    let turn = gate.turn().await;
                    let txn = match store::begin_write(&db).await {
                        Ok(txn) => txn,
                        Err(e) => return Done::Failed(e.into()),
                    };
                    let held = match hold(key.as_ref(), &txn).await {
                        Ok(held) => held,
                        Err(e) => {
                            txn.rollback().await.ok();
                            return match e {
                                Held::Contended => Done::Contended,
                                Held::Failed(e) => Done::Failed(e),
                            };
                        }
                    };
                    match body(&txn, &actor).await {
                        Ok(v) if held => Done::Deferred(v, txn, turn),
                        Ok(v) => match txn.commit().await {
                            Ok(()) => Done::Committed(v),
                            Err(e) => Done::Failed(e.into()),
                        },
                        Err(e) => {
                            txn.rollback().await.ok();
                            Done::Failed(e)
                        }
                    }
                })
            })
            .await?;
        match done {
            Done::Committed(v) => Ok(v),
            // The middleware keeps the answer in the same transaction and commits both.
            Done::Deferred(v, txn, turn) => {
                defer(req, txn, turn);
                Ok(v)
            }
            Done::Contended => Err(contended(req)),
            Done::Failed(e) => Err(e),
        }
    }
}

/// After a write that succeeded: the figures of what it touched, in its transaction.
async fn with_figures<T>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    out: StoreResult<T>,
) -> ApiResult<T> {
    let v = out?;
    store::figures::refresh_touched(txn, actor).await?;
    Ok(v)
}
