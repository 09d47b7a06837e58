//! `POST /oauth/token` (OAuth 2.0 client credentials, RFC 6749 §4.4) and
//! `GET /.well-known/jwks.json` (the public keys that verify our tokens).

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use base64::Engine;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::JwtKeys;
use crate::config::ServiceOptions;
use crate::edge::error::{ApiError, ApiResult};

/// The form of a token request (`application/x-www-form-urlencoded`).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    /// Always `client_credentials`.
    #[schema(example = "client_credentials", pattern = "^client_credentials$")]
    grant_type: String,
    /// The client id, unless sent with HTTP Basic authentication (preferred).
    #[schema(nullable = false)]
    client_id: Option<String>,
    /// The client secret, unless sent with HTTP Basic authentication (preferred).
    #[schema(nullable = false)]
    client_secret: Option<String>,
    /// The OAuth scopes asked for, space-separated (`read`, `write`): some of the client's.
    /// All of the client's when absent; one it may not have is `invalid_scope`.
    #[schema(
        nullable = false,
        example = "read",
        pattern = "^((read|write)( (read|write))?)?$"
    )]
    scope: Option<String>,
}

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// A JWT to send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Lifetime in seconds.
    #[schema(example = 900)]
    pub expires_in: i64,
    /// The scopes the token carries, space-separated (RFC 6749 §5.1).
    #[schema(example = "read write")]
    pub scope: String,
}

/// An error of the token endpoint (RFC 6749 §5.2), with the problem fields as well.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `unsupported_grant_type` or `invalid_scope`.
    #[schema(example = "invalid_client")]
    error: String,
    error_description: String,
    #[serde(rename = "type")]
    #[schema(example = "urn:fabriques:problem:invalid_client")]
    type_: String,
    title: String,
    status: u16,
    detail: String,
    code: String,
}

/// The public keys that verify our tokens (RFC 7517); empty with a shared HS256 secret.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)]
pub struct JwkSetResponse {
    /// JWKs with `kid`, `kty`, `alg`, `use` and the key's public parameters.
    #[schema(value_type = Vec<Object>)]
    keys: Vec<serde_json::Value>,
}

/// The parameters of a token request; the others are ignored (RFC 6749 §3.2).
const PARAMETERS: [&str; 4] = ["grant_type", "client_id", "client_secret", "scope"];

fn oauth(error: &'static str, description: impl Into<String>) -> ApiError {
    ApiError::OAuth {
        error,
        description: description.into(),
    }
}

/// The client's credentials, from HTTP Basic (RFC 6749 §2.3.1: form-urlencoded id and secret)
/// or from the body; both at once is refused.
fn credentials(req: &HttpRequest, form: &[(String, String)]) -> Result<(String, String), ApiError> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let basic = match req.headers().get(header::AUTHORIZATION) {
        None => None,
        Some(v) => {
            let v = v
                .to_str()
                .map_err(|_| oauth("invalid_client", "malformed Authorization header"))?;
            let (scheme, rest) = v.split_once(' ').unwrap_or((v, ""));
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(oauth(
                    "invalid_client",
                    "authenticate with HTTP Basic (client_id:client_secret)",
                ));
            }
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| oauth("invalid_client", "malformed Basic credentials"))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| oauth("invalid_client", "malformed Basic credentials"))?;
            let unescape = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Some((unescape(id), unescape(secret)))
        }
    };
    let in_body = (field("client_id"), field("client_secret"));
    match (basic, in_body) {
        (Some(_), (Some(_), _) | (_, Some(_))) => Err(oauth(
            "invalid_request",
            "send the client credentials once: HTTP Basic or the form, not both",
        )),
        (Some(c), _) => Ok(c),
        (None, (Some(id), Some(secret))) => Ok((id, secret)),
        (None, _) => Err(oauth(
            "invalid_client",
            "client authentication is required: HTTP Basic client_id:client_secret",
        )),
    }
}

/// Get an access token for a machine client (OAuth 2.0 client credentials grant).
///
/// Send `grant_type=client_credentials` as `application/x-www-form-urlencoded`, with the
/// client id and secret in HTTP Basic authentication (or as `client_id` and `client_secret`
/// form fields). The token is a JWT valid 15 minutes by default; ask for a new one when it
/// expires. A revoked client's tokens stop working at once, and so do the tokens issued
/// before a rotation of its secret.
#[utoipa::path(
    tag = "oauth", operation_id = "create_token",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, body = TokenResponse, headers(("Cache-Control" = String, description = "no-store"))),
        (status = 400, description = "invalid_request, unsupported_grant_type or invalid_scope (RFC 6749 §5.2)", body = OAuthError),
        (status = 401, description = "invalid_client: unknown or revoked client, or wrong secret", body = OAuthError, headers(("WWW-Authenticate" = String))),
    ),
    security((), ("basic" = []))
)]
#[post("/oauth/token")]
pub async fn create_token(
    req: HttpRequest,
    db: web::Data<DatabaseConnection>,
    keys: web::Data<Arc<JwtKeys>>,
    options: web::Data<ServiceOptions>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        });
    if content_type.as_deref() != Some("application/x-www-form-urlencoded") {
        return Err(oauth(
            "invalid_request",
            "send the request as application/x-www-form-urlencoded",
        ));
    }
    // RFC 6749 §3.2: a parameter sent without a value is as if omitted, an unrecognized one
    // is ignored, and none may be sent more than once.
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body)
        .filter(|(k, v)| PARAMETERS.contains(&k.as_ref()) && !v.is_empty())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    for (i, (k, _)) in form.iter().enumerate() {
        if form[..i].iter().any(|(other, _)| other == k) {
            return Err(oauth(
                "invalid_request",
                format!("the parameter `{k}` is repeated"),
            ));
        }
    }
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match field("grant_type") {
        None => return Err(oauth("invalid_request", "grant_type is required")),
        Some("client_credentials") => {}
        Some(other) => {
            return Err(oauth(
                "unsupported_grant_type",
                format!("`{other}` is not supported: use client_credentials"),
            ));
        }
    }
    let asked = match field("scope") {
        None => None,
        Some(text) => {
            Some(domain::TokenScopes::parse(text).map_err(|e| oauth("invalid_scope", e))?)
        }
    };
    let (client_id, secret) = credentials(&req, &form)?;
    let Some((client, generation)) =
        crate::auth::secrets::authenticate_client(db.get_ref(), &client_id, &secret).await?
    else {
        return Err(oauth(
            "invalid_client",
            "unknown client, revoked client or wrong secret",
        ));
    };
    let allowed = domain::TokenScopes::of(&client.scopes);
    let scopes = match asked {
        None => allowed,
        Some(s) if s.within(allowed) => s,
        Some(s) => {
            return Err(oauth(
                "invalid_scope",
                format!(
                    "this client may have `{}` only; it asked for `{}`",
                    allowed.text(),
                    s.text()
                ),
            ));
        }
    };
    let ttl = options.access_token_ttl;
    let token = keys
        .mint_client(&client, generation, scopes, ttl)
        .map_err(ApiError::Internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(TokenResponse {
            access_token: token,
            token_type: "Bearer",
            expires_in: ttl,
            scope: scopes.text(),
        }))
}

/// The public keys that verify this server's tokens (JWKS). During a key rotation it lists
/// the new key and the old ones still accepted; each token names its key in `kid`.
#[utoipa::path(
    tag = "oauth", operation_id = "get_jwks",
    responses((status = 200, body = JwkSetResponse)),
    security(())
)]
#[get("/.well-known/jwks.json")]
pub async fn get_jwks(keys: web::Data<Arc<JwtKeys>>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(keys.jwks())
}
