//! The keys that sign and verify tokens, and the verification itself.
//!
//! Policy: validation pins one algorithm, requires `iss`, `aud`, `exp` and `sub`, checks
//! `nbf` and a future `iat` with a small leeway, refuses any `crit` header and any header that
//! points at or carries a key (`jku`, `jwk`, `x5u`, `x5c`). Older public keys
//! keep verifying during a rotation; a token's `kid` only selects among our own keys.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use domain::Role;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::{JwtAlgorithm, JwtSettings};
use crate::edge::error::ApiError;

/// Leeway for clock skew on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: u64 = 10;
/// Longest `Authorization` header accepted.
pub const MAX_AUTH_HEADER_BYTES: usize = 8 * 1024;
/// Shortest HS256 secret accepted (256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territory: Option<Uuid>,
    /// The machine client the token was issued to (`POST /oauth/token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cid: Option<Uuid>,
    /// With `cid`: the client's secret generation when the token was issued. A rotation moves
    /// the client past it and the token stops working; a client token without it (issued
    /// before the claim existed) counts as generation 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgen: Option<i32>,
    /// With `cid`: the OAuth scopes the token was issued with, space-separated (RFC 9068 §2.2.3);
    /// every scope when absent (an operator's token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub iss: String,
    /// One audience or several (RFC 7519 §4.1.3); the validation requires ours among them.
    pub aud: Audience,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
}

/// A token's `aud`: a string, or an array of them (as some identity providers write it).
/// The server's own tokens carry one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Whether the key was configured or generated on first start (loopback only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    Configured,
    Generated,
}

/// One key that verifies tokens: the current signing key's public half, or an older one kept
/// for rotation. `kid` is its RFC 7638 thumbprint.
struct VerifyingKey {
    kid: String,
    algorithm: Algorithm,
    decoding: DecodingKey,
    /// The public JWK, published at `/.well-known/jwks.json` (none for a shared secret).
    public_jwk: Option<Jwk>,
}

pub struct JwtKeys {
    /// The key that signs (its kid and algorithm are those of `verifying[0]`).
    encoding: Option<EncodingKey>,
    /// The current key first, then older ones still accepted.
    verifying: Vec<VerifyingKey>,
    issuer: String,
    audience: String,
    pub origin: KeyOrigin,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("kids", &self.kids())
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}
fn secret_checked(bytes: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    if bytes.len() < MIN_SECRET_BYTES {
        bail!(
            "the HS256 secret has {} bytes; at least {MIN_SECRET_BYTES} are required",
            bytes.len()
        );
    }
    Ok(bytes)
}

/// Reads the generated secret of `data_dir`, creating it (256 random bits, mode 0600) if absent.
fn generated_secret(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join("jwt-secret");
    if let Ok(text) = fs::read_to_string(&path) {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim())
            .with_context(|| format!("{} is not base64", path.display()))?;
        return secret_checked(bytes);
    }
    fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    match opts.open(&path) {
        Ok(mut f) => {
            f.write_all(text.as_bytes())?;
            Ok(bytes.to_vec())
        }
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => generated_secret(data_dir),
        Err(e) => Err(e).with_context(|| format!("writing {}", path.display())),
    }
}

fn verifying_key(
    algorithm: Algorithm,
    decoding: DecodingKey,
    publish: bool,
) -> anyhow::Result<VerifyingKey> {
    let mut jwk = Jwk::from_decoding_key(&decoding, Some(algorithm))?;
    let kid = jwk.thumbprint(ThumbprintHash::SHA256)?;
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    Ok(VerifyingKey {
        kid,
        algorithm,
        decoding,
        public_jwk: publish.then_some(jwk),
    })
}

/// A PEM public key of either supported kind: Ed25519 (EdDSA) or RSA (RS256).
fn public_key_file(path: &Path) -> anyhow::Result<VerifyingKey> {
    let pem = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if let Ok(k) = DecodingKey::from_ed_pem(&pem) {
        return verifying_key(Algorithm::EdDSA, k, true);
    }
    let k = DecodingKey::from_rsa_pem(&pem).with_context(|| {
        format!(
            "{} is neither an Ed25519 nor an RSA public key",
            path.display()
        )
    })?;
    verifying_key(Algorithm::RS256, k, true)
}

impl JwtKeys {
    pub fn load(cfg: &JwtSettings, data_dir: &Path) -> anyhow::Result<Self> {
        let (current, encoding, origin) = match cfg.algorithm {
            JwtAlgorithm::Hs256 => {
                let (secret, origin) = match (&cfg.secret, &cfg.secret_file) {
                    (Some(s), _) => (
                        secret_checked(s.as_bytes().to_vec())?,
                        KeyOrigin::Configured,
                    ),
                    (None, Some(p)) => {
                        let text =
                            fs::read(p).with_context(|| format!("reading {}", p.display()))?;
                        let trimmed = String::from_utf8_lossy(&text).trim().as_bytes().to_vec();
                        (secret_checked(trimmed)?, KeyOrigin::Configured)
                    }
                    (None, None) => (generated_secret(data_dir)?, KeyOrigin::Generated),
                };
                (
                    verifying_key(Algorithm::HS256, DecodingKey::from_secret(&secret), false)?,
                    Some(EncodingKey::from_secret(&secret)),
                    origin,
                )
            }
            alg @ (JwtAlgorithm::EdDsa | JwtAlgorithm::Rs256) => {
                let public = cfg
                    .public_key_file
                    .as_ref()
                    .context("FABRIQUES_JWT_PUBLIC_KEY_FILE is required for EdDSA and RS256")?;
                let current = public_key_file(public)?;
                let expected = if alg == JwtAlgorithm::EdDsa {
                    Algorithm::EdDSA
                } else {
                    Algorithm::RS256
                };
                if current.algorithm != expected {
                    bail!(
                        "{} is a {:?} key, but the algorithm is {expected:?}",
                        public.display(),
                        current.algorithm
                    );
                }
                let encoding = match &cfg.private_key_file {
                    Some(p) => {
                        let pem =
                            fs::read(p).with_context(|| format!("reading {}", p.display()))?;
                        let key = if expected == Algorithm::EdDSA {
                            EncodingKey::from_ed_pem(&pem)?
                        } else {
                            EncodingKey::from_rsa_pem(&pem)?
                        };
                        let pair = Jwk::from_encoding_key(&key, expected)?
                            .thumbprint(ThumbprintHash::SHA256)?;
                        if pair != current.kid {
                            bail!(
                                "the private key {} does not match the public key {}",
                                p.display(),
                                public.display()
                            );
                        }
                        Some(key)
                    }
                    None => None,
                };
                (current, encoding, KeyOrigin::Configured)
            }
        };
        let mut verifying = vec![current];
        for path in &cfg.previous_public_key_files {
            let k = public_key_file(path)?;
            if verifying.iter().any(|v| v.kid == k.kid) {
                bail!("{} is configured twice", path.display());
            }
            verifying.push(k);
        }
        Ok(Self {
            encoding,
            verifying,
            issuer: cfg.issuer.clone(),
            audience: cfg.audience.clone(),
            origin,
        })
    }

    /// The key ids that verify tokens, the signing key's first.
    pub fn kids(&self) -> Vec<&str> {
        self.verifying.iter().map(|k| k.kid.as_str()).collect()
    }

    /// The public keys, as published at `/.well-known/jwks.json` (empty for a shared secret).
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self
                .verifying
                .iter()
                .filter_map(|k| k.public_jwk.clone())
                .collect(),
        }
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut v = Validation::new(algorithm);
        v.leeway = LEEWAY_SECS;
        v.validate_exp = true;
        v.validate_nbf = true;
        v.validate_aud = true;
        v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        v
    }

    fn sign(&self, claims: &Claims) -> anyhow::Result<String> {
        let key = self
            .encoding
            .as_ref()
            .context("no private key configured: set FABRIQUES_JWT_PRIVATE_KEY_FILE")?;
        let current = &self.verifying[0];
        let mut header = Header::new(current.algorithm);
        header.kid = Some(current.kid.clone());
        Ok(jsonwebtoken::encode(&header, claims, key)?)
    }

    fn claims(
        &self,
        sub: String,
        role: Role,
        org: Option<Uuid>,
        territory: Option<Uuid>,
        ttl_secs: i64,
    ) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub,
            role,
            org,
            territory,
            cid: None,
            cgen: None,
            scope: None,
            iss: self.issuer.clone(),
            aud: Audience::One(self.audience.clone()),
            exp: now + ttl_secs,
            nbf: Some(now),
            iat: Some(now),
        }
    }

    /// Mints a token for a person (for `fabriques token` and the tests).
    pub fn mint(
        &self,
        sub: &str,
        role: Role,
        org: Option<Uuid>,
        territory: Option<Uuid>,
        ttl_secs: i64,
    ) -> anyhow::Result<String> {
        self.sign(&self.claims(sub.to_owned(), role, org, territory, ttl_secs))
    }

    /// Mints a machine client's access token: its subject is `client:<id>`, and its `cid` and
    /// `cgen` claims make every request check that the client is still active and has not had
    /// its secret rotated since (`generation` is the client's current secret generation).
    /// Its `scope` claim says what the token may do (some of the client's scopes).
    pub fn mint_client(
        &self,
        client: &store::clients::Client,
        generation: i32,
        scopes: domain::TokenScopes,
        ttl_secs: i64,
    ) -> anyhow::Result<String> {
        let mut claims = self.claims(
            format!("client:{}", client.id),
            client.role,
            client.organization_id,
            client.territory_id,
            ttl_secs,
        );
        claims.cid = Some(client.id);
        claims.cgen = Some(generation);
        claims.scope = Some(scopes.text());
        self.sign(&claims)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| ApiError::Unauthorized("malformed token".into()))?;
        // Any `crit`, even an empty one (which RFC 7515 §4.1.11 forbids), is refused.
        if header.crit.is_some() {
            return Err(ApiError::Unauthorized(
                "unsupported critical header parameters".into(),
            ));
        }
        // Our keys are our own: a token that points at or carries a key is refused, not
        // followed.
        if header.jku.is_some()
            || header.jwk.is_some()
            || header.x5u.is_some()
            || header.x5c.is_some()
        {
            return Err(ApiError::Unauthorized(
                "key-bearing header parameters (jku, jwk, x5u, x5c) are not accepted".into(),
            ));
        }
        // The kid only selects among our own keys; without one, only the current key verifies.
        let key = match header.kid.as_deref() {
            Some(kid) => self
                .verifying
                .iter()
                .find(|k| k.kid == kid)
                .ok_or_else(|| ApiError::Unauthorized("unknown key id (kid)".into()))?,
            None => &self.verifying[0],
        };
        if header.alg != key.algorithm {
            return Err(ApiError::Unauthorized(
                "unexpected signing algorithm".into(),
            ));
        }
        let data =
            jsonwebtoken::decode::<Claims>(token, &key.decoding, &self.validation(key.algorithm))
                .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                let why = match e.kind() {
                    K::ExpiredSignature => "token expired",
                    K::ImmatureSignature => "token not yet valid (nbf)",
                    K::InvalidAudience => "wrong audience",
                    K::InvalidIssuer => "wrong issuer",
                    K::InvalidSignature => "invalid signature",
                    K::MissingRequiredClaim(_) => "a required claim is missing",
                    _ => "invalid token",
                };
                ApiError::Unauthorized(why.into())
            })?;
        let c = data.claims;
        let now = chrono::Utc::now().timestamp();
        if c.iat.is_some_and(|iat| iat > now + LEEWAY_SECS as i64) {
            return Err(ApiError::Unauthorized(
                "token issued in the future (iat)".into(),
            ));
        }
        if c.sub.trim().is_empty() {
            return Err(ApiError::Unauthorized("empty subject".into()));
        }
        match c.role {
            Role::Partner if c.org.is_none() => Err(ApiError::Unauthorized(
                "a partner token needs an `org` claim".into(),
            )),
            Role::Territory if c.territory.is_none() => Err(ApiError::Unauthorized(
                "a territory token needs a `territory` claim".into(),
            )),
            _ => Ok(c),
        }
    }
}
