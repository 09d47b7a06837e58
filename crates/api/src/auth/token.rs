//! The bearer token of a request, verified once, and the caller's [`domain::Access`] worked
//! out once: the rate limiter, the idempotency middleware and the handlers share both through
//! the request's extensions.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, web};
use domain::{Access, Caller};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::keys::{Claims, JwtKeys, MAX_AUTH_HEADER_BYTES};
use crate::edge::error::ApiError;

fn bearer(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let mut values = req.headers().get_all(header::AUTHORIZATION);
    let Some(value) = values.next() else {
        return Ok(None);
    };
    // Two credentials are ambiguous: which one a proxy or a log saw is anyone's guess.
    if values.next().is_some() {
        return Err(ApiError::Unauthorized(
            "send one Authorization header, not several".into(),
        ));
    }
    if value.len() > MAX_AUTH_HEADER_BYTES {
        return Err(ApiError::Unauthorized(
            "authorization header too large".into(),
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed authorization header".into()))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::Unauthorized(
            "expected `Authorization: Bearer <token>`".into(),
        ));
    }
    Ok(Some(token.trim().to_owned()))
}

/// A request's bearer token, verified once.
#[derive(Clone)]
struct Verified(Result<Claims, String>);

/// A machine client's row and its organization's partner roles, read once per request
/// (quota, then revocation and access).
#[derive(Clone)]
struct ClientRow(Option<store::access::ClientAccess>);

/// The caller's access, worked out once per request.
#[derive(Clone)]
struct Worked(Access);

/// The claims of the request's bearer token; `None` without one.
pub fn verified(req: &HttpRequest) -> Result<Option<Claims>, ApiError> {
    let Some(token) = bearer(req)? else {
        return Ok(None);
    };
    let cached = req.extensions().get::<Verified>().cloned();
    let outcome = match cached {
        Some(Verified(outcome)) => outcome,
        None => {
            let keys = req.app_data::<web::Data<Arc<JwtKeys>>>().ok_or_else(|| {
                ApiError::Internal(anyhow::anyhow!("JwtKeys missing from app data"))
            })?;
            // `verify` refuses only with Unauthorized: its message is all there is to keep.
            let outcome = keys.verify(&token).map_err(|e| e.to_string());
            req.extensions_mut().insert(Verified(outcome.clone()));
            outcome
        }
    };
    outcome.map(Some).map_err(ApiError::Unauthorized)
}

fn database(req: &HttpRequest) -> Result<DatabaseConnection, ApiError> {
    req.app_data::<web::Data<DatabaseConnection>>()
        .map(|d| d.get_ref().clone())
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("database missing from app data")))
}

/// The machine client `cid` of the request's token with its partner roles, read from the
/// database once per request (one statement).
async fn client_access(
    req: &HttpRequest,
    cid: Uuid,
) -> Result<Option<store::access::ClientAccess>, ApiError> {
    if let Some(ClientRow(row)) = req.extensions().get::<ClientRow>().cloned() {
        return Ok(row);
    }
    let row = store::access::client(&database(req)?, cid).await?;
    req.extensions_mut().insert(ClientRow(row.clone()));
    Ok(row)
}

/// The machine client `cid` of the request's token, read from the database once per request.
pub async fn client_row(
    req: &HttpRequest,
    cid: Uuid,
) -> Result<Option<entity::api_client::Model>, ApiError> {
    Ok(client_access(req, cid).await?.map(|c| c.client))
}

/// The secret generation a machine client's token was issued under: its `cgen` claim, or 0
/// for a token issued before the claim existed (every client starts at 0, so such a token
/// works until the client's first rotation or its expiry, whichever comes first).
fn generation_of(c: &Claims) -> i32 {
    c.cgen.unwrap_or(0)
}

/// The caller's [`Access`]: the public without a token (a token that does not verify is a
/// 401); for a machine client's token, also that the client is still active and that its
/// secret was not rotated since the token was issued, so that revoking a client or rotating
/// its secret takes effect on the next request, not when the token expires. Both come from
/// the one read of the client's row.
pub async fn access(req: &HttpRequest) -> Result<Access, ApiError> {
    if let Some(Worked(a)) = req.extensions().get::<Worked>().cloned() {
        return Ok(a);
    }
    let access = match verified(req)? {
        None => Access::public(),
        Some(c) => {
            let generation = generation_of(&c);
            let scopes = match c.scope.as_deref() {
                None => domain::TokenScopes::ALL,
                Some(text) => domain::TokenScopes::parse(text).map_err(|e| {
                    ApiError::Unauthorized(format!("the token's scope claim is invalid: {e}"))
                })?,
            };
            let caller = Caller {
                scopes,
                subject: c.sub,
                role: c.role,
                organization: c.org,
                territory: c.territory,
                client: c.cid,
            };
            match c.cid {
                Some(cid) => {
                    let client = client_access(req, cid).await?.filter(|a| {
                        a.client.status.parse::<domain::ClientStatus>()
                            == Ok(domain::ClientStatus::Active)
                    });
                    let Some(client) = client else {
                        return Err(ApiError::Unauthorized(
                            "this client has been revoked".into(),
                        ));
                    };
                    if client.client.secret_generation != generation {
                        return Err(ApiError::Unauthorized(
                            "this client's secret was rotated after this token was issued: get a new token with the new secret".into(),
                        ));
                    }
                    if client.client.organization_id == caller.organization {
                        let partnerships = if Access::needs_partnerships(&caller) {
                            client.partnerships
                        } else {
                            Default::default()
                        };
                        Access::new(caller, partnerships)
                    } else {
                        store::access::load(&database(req)?, caller).await?
                    }
                }
                None => store::access::load(&database(req)?, caller).await?,
            }
        }
    };
    req.extensions_mut().insert(Worked(access.clone()));
    Ok(access)
}
