//! Secrets of machine clients (argon2id hashes only, shown once) and of webhook
//! subscriptions (HMAC keys, kept as given).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
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

/// The PHC verifier of the argon2 crate: the reference the tests hold [`verify_with`] to.
#[cfg(test)]
fn verify_sync(secret: &str, phc: &str) -> bool {
    use argon2::password_hash::PasswordVerifier;
    PasswordHash::new(phc).ok().is_some_and(|h| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &h)
            .is_ok()
    })
}

/// Verifications that may wait for a verifier thread; beyond, the answer is 429.
const VERIFY_QUEUE: usize = 32;

struct Job {
    secret: String,
    phc: String,
    reply: tokio::sync::oneshot::Sender<bool>,
}

/// The verifier threads: one per core, fed by a bounded queue. argon2id holds about 19 MiB
/// while it runs: at most one verification per core runs at once, always on these same
/// threads, so the memory it takes is bounded and reused rather than spread over the
/// blocking pool's threads (up to 512 of them).
fn verifiers() -> &'static std::sync::mpsc::SyncSender<Job> {
    static QUEUE: std::sync::OnceLock<std::sync::mpsc::SyncSender<Job>> =
        std::sync::OnceLock::new();
    QUEUE.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(VERIFY_QUEUE);
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    // The thread's argon2 memory, allocated once and reused by every job.
                    let mut blocks: Vec<argon2::Block> = Vec::new();
                    loop {
                        // The lock is held only while waiting for the next job.
                        let job = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        let _ = job
                            .reply
                            .send(verify_with(&job.secret, &job.phc, &mut blocks));
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a secret verifier thread");
            }
        }
        tx
    })
}

/// Client ids with a verification queued or running: one at a time per client id, so that
/// one client's guesses cannot fill the queue for everyone.
fn in_flight() -> &'static std::sync::Mutex<std::collections::HashSet<String>> {
    static IDS: std::sync::OnceLock<std::sync::Mutex<std::collections::HashSet<String>>> =
        std::sync::OnceLock::new();
    IDS.get_or_init(Default::default)
}

/// Releases a client id's turn when the verification ends, however it ends.
struct Turn(String);

impl Drop for Turn {
    fn drop(&mut self) {
        if let Ok(mut ids) = in_flight().lock() {
            ids.remove(&self.0);
        }
    }
}

/// Checks `secret` against `phc` on a verifier thread. 429 (retry in a second) while this
/// client id already has a verification under way, or when the queue is full.
async fn verify(client_id: &str, secret: &str, phc: String) -> Result<bool, ApiError> {
    let busy = || ApiError::TooManyRequests { retry_after: 1 };
    let _turn = {
        let mut ids = in_flight()
            .lock()
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("the verifier's lock is poisoned")))?;
        if !ids.insert(client_id.to_owned()) {
            return Err(busy());
        }
        Turn(client_id.to_owned())
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    verifiers()
        .try_send(Job {
            secret: secret.to_owned(),
            phc,
            reply,
        })
        .map_err(|e| match e {
            std::sync::mpsc::TrySendError::Full(_) => busy(),
            std::sync::mpsc::TrySendError::Disconnected(_) => {
                ApiError::Internal(anyhow::anyhow!("no secret verifier thread is running"))
            }
        })?;
    answer
        .await
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("a secret verifier thread stopped")))
}

/// `verify_sync`, with the caller's argon2 memory: the same computation as the PHC verifier
/// (its algorithm, version, parameters and salt; a constant-time comparison), without
/// allocating (and fragmenting) 19 MiB of heap each time.
fn verify_with(secret: &str, phc: &str, blocks: &mut Vec<argon2::Block>) -> bool {
    use argon2::{Algorithm, Params, Version};
    let Ok(h) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (h.salt, h.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(h.algorithm) else {
        return false;
    };
    let Ok(version) = h.version.map(Version::try_from).transpose() else {
        return false;
    };
    let Ok(params) = Params::try_from(&h) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    blocks.resize(params.block_count(), argon2::Block::default());
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version.unwrap_or_default(), params)
        .hash_password_into_with_memory(secret.as_bytes(), salt, &mut out, &mut blocks[..])
        .is_ok()
        && argon2::password_hash::Output::new(&out).is_ok_and(|o| o == expected)
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
    let ok = verify(client_id, secret, phc).await?;
    match found.filter(|_| ok) {
        Some(m) => {
            let generation = m.secret_generation;
            let c = store::clients::Client::try_from(m)?;
            Ok((c.status == domain::ClientStatus::Active).then_some((c, generation)))
        }
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_reusable_verifier_agrees_with_the_phc_verifier() {
        let secret = super::random(super::CLIENT_PREFIX);
        let phc = super::hash_sync(&secret).unwrap();
        let mut blocks = Vec::new();
        assert!(super::verify_sync(&secret, &phc));
        assert!(super::verify_with(&secret, &phc, &mut blocks));
        assert!(!super::verify_with("fsec_wrong", &phc, &mut blocks));
        assert!(!super::verify_with(&secret, "not a hash", &mut blocks));
        // The memory is the parameters' and is kept for the next verification.
        assert_eq!(blocks.len(), argon2::Params::default().block_count());
        assert!(super::verify_with(&secret, &phc, &mut blocks));
    }
}
