//! Secrets of machine clients (argon2id hashes only, shown once) and of webhook
//! subscriptions (HMAC keys, kept as given).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;

use crate::edge::error::ApiError;

/// Prefix of every client secret, so that a leaked one is easy to recognise and scan for.
pub const CLIENT_PREFIX: &str = "fsec_";
/// Prefix of every webhook secret.
pub const WEBHOOK_PREFIX: &str = "whsec_";

/// 256 random bits, base64url, prefixed.
fn random(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

pub fn new_webhook_secret() -> String {
    random(WEBHOOK_PREFIX)
}

fn hash_sync(secret: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Ok(Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
        .to_string())
}

/// A new client secret and its hash, computed off the async workers (argon2id is slow on
/// purpose).
pub async fn new_client_secret() -> Result<(String, String), ApiError> {
    tokio::task::spawn_blocking(|| {
        let secret = random(CLIENT_PREFIX);
        hash_sync(&secret).map(|h| (secret, h))
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?
    .map_err(ApiError::Internal)
}

fn verify_sync(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc).ok().is_some_and(|h| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash no secret matches, checked when the client is unknown so that the answer takes as
/// long as for a known one.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_sync(&random(CLIENT_PREFIX)).unwrap_or_default())
}

/// The active client with this id and secret, with its secret generation (for the token's
/// `cgen`), or `None` (unknown, revoked or wrong secret: the caller is not told which).
pub async fn authenticate_client(
    db: &impl sea_orm::ConnectionTrait,
    client_id: &str,
    secret: &str,
) -> Result<Option<(store::clients::Client, i32)>, ApiError> {
    let found = match client_id.parse::<uuid::Uuid>() {
        Ok(id) => store::clients::row(db, id).await?,
        Err(_) => None,
    };
    let phc = found
        .as_ref()
        .map(|m| m.secret_hash.clone())
        .unwrap_or_else(|| decoy_hash().to_owned());
    let secret = secret.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_sync(&secret, &phc))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    match found.filter(|_| ok) {
        Some(m) => {
            let generation = m.secret_generation;
            let c = store::clients::Client::try_from(m)?;
            Ok((c.status == domain::ClientStatus::Active).then_some((c, generation)))
        }
        None => Ok(None),
    }
}
