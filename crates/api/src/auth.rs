//! Bearer JWT authentication and the role rules.
//!
//! Policy: validation pins one algorithm, requires `iss`, `aud`, `exp` and `sub`, checks
//! `nbf` and a future `iat` with a small leeway, refuses any `crit` header and oversized
//! headers. [`Caller`] is the extractor for authenticated routes; [`MaybeCaller`] for routes
//! the public may read (a present but invalid token is still a 401). Which role may do what is
//! decided in one table, [`role_allows`].

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use anyhow::{Context, bail};
use base64::Engine;
use futures_util::future::LocalBoxFuture;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::config::{JwtAlgorithm, JwtSettings};
use crate::error::ApiError;

/// Leeway for clock skew on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: u64 = 10;
/// Longest `Authorization` header accepted.
pub const MAX_AUTH_HEADER_BYTES: usize = 8 * 1024;
/// Shortest HS256 secret accepted (256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum Role {
    Admin,
    AnctStaff,
    Partner,
    Territory,
    Analyst,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::AnctStaff => "anct_staff",
            Role::Partner => "partner",
            Role::Territory => "territory",
            Role::Analyst => "analyst",
        }
    }
}

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
    pub iss: String,
    pub aud: String,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
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
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
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

    /// Mints a machine client's access token: its subject is `client:<id>` and its `cid`
    /// claim makes every request check that the client is still active.
    pub fn mint_client(
        &self,
        client: Uuid,
        role: Role,
        org: Option<Uuid>,
        territory: Option<Uuid>,
        ttl_secs: i64,
    ) -> anyhow::Result<String> {
        let mut claims = self.claims(format!("client:{client}"), role, org, territory, ttl_secs);
        claims.cid = Some(client);
        self.sign(&claims)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| ApiError::Unauthorized("malformed token".into()))?;
        if header.crit.as_ref().is_some_and(|c| !c.is_empty()) {
            return Err(ApiError::Unauthorized(
                "unsupported critical header parameters".into(),
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

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub sub: String,
    pub role: Role,
    pub org: Option<Uuid>,
    pub territory: Option<Uuid>,
    /// The machine client, for tokens from `POST /oauth/token`.
    pub client_id: Option<Uuid>,
}

impl Caller {
    /// The system itself (seeding, migrations), as written in the journal.
    pub fn system() -> Self {
        Caller {
            sub: "system".into(),
            role: Role::Admin,
            org: None,
            territory: None,
            client_id: None,
        }
    }

    pub fn require(&self, perm: Permission) -> Result<(), ApiError> {
        if role_allows(self.role, perm) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(perm.as_str().into()))
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// ANCT sees everything of the programme, personal data included.
    pub fn is_anct(&self) -> bool {
        matches!(self.role, Role::Admin | Role::AnctStaff)
    }
}

/// What a role may do. The coarse answer (`role_allows`) is checked first by the handler;
/// scoped grants are then checked against the resource by [`crate::store::access`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ReadDirectory,
    WriteOrganizations,
    WriteTerritories,
    ManageProgrammes,
    ReadDrafts,
    WriteFabriques,
    TransitionFabriques,
    WritePartners,
    ReadParticipations,
    Apply,
    DecideParticipations,
    Withdraw,
    UpdateParticipations,
    ReadHistory,
    ReadPersonalData,
    WriteSeminars,
    WriteWorkingGroups,
    WriteRoadmaps,
    AdoptRoadmaps,
    WriteLessons,
    WriteTestimonies,
    WriteFunding,
    ManageExternalIds,
    ManageClients,
    ManageWebhooks,
    ReadStats,
}

/// How far a role's permission reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Everywhere.
    Always,
    /// Only for the territory of the token (`territory` claim).
    OwnTerritory,
    /// Only in Fabriques where the token's organization is co-animator or contractor.
    FabriquePartner,
    Never,
}

impl Grant {
    pub fn describe(self) -> &'static str {
        match self {
            Grant::Always => "yes",
            Grant::OwnTerritory => "own territory",
            Grant::FabriquePartner => "as co-animator or contractor",
            Grant::Never => "no",
        }
    }
}

impl Permission {
    pub const ALL: [Permission; 26] = [
        Permission::ReadDirectory,
        Permission::WriteOrganizations,
        Permission::WriteTerritories,
        Permission::ManageProgrammes,
        Permission::ReadDrafts,
        Permission::WriteFabriques,
        Permission::TransitionFabriques,
        Permission::WritePartners,
        Permission::ReadParticipations,
        Permission::Apply,
        Permission::DecideParticipations,
        Permission::Withdraw,
        Permission::UpdateParticipations,
        Permission::ReadHistory,
        Permission::ReadPersonalData,
        Permission::WriteSeminars,
        Permission::WriteWorkingGroups,
        Permission::WriteRoadmaps,
        Permission::AdoptRoadmaps,
        Permission::WriteLessons,
        Permission::WriteTestimonies,
        Permission::WriteFunding,
        Permission::ManageExternalIds,
        Permission::ManageClients,
        Permission::ManageWebhooks,
        Permission::ReadStats,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ReadDirectory => "directory:read",
            Permission::WriteOrganizations => "organizations:write",
            Permission::WriteTerritories => "territories:write",
            Permission::ManageProgrammes => "programmes:write",
            Permission::ReadDrafts => "fabriques:read_drafts",
            Permission::WriteFabriques => "fabriques:write",
            Permission::TransitionFabriques => "fabriques:transition",
            Permission::WritePartners => "fabriques:write_partners",
            Permission::ReadParticipations => "participations:read",
            Permission::Apply => "participations:apply",
            Permission::DecideParticipations => "participations:decide",
            Permission::Withdraw => "participations:withdraw",
            Permission::UpdateParticipations => "participations:update",
            Permission::ReadHistory => "history:read",
            Permission::ReadPersonalData => "personal_data:read",
            Permission::WriteSeminars => "seminars:write",
            Permission::WriteWorkingGroups => "working_groups:write",
            Permission::WriteRoadmaps => "roadmaps:write",
            Permission::AdoptRoadmaps => "roadmaps:adopt",
            Permission::WriteLessons => "lessons:write",
            Permission::WriteTestimonies => "testimonies:write",
            Permission::WriteFunding => "funding:write",
            Permission::ManageExternalIds => "external_ids:write",
            Permission::ManageClients => "clients:write",
            Permission::ManageWebhooks => "webhooks:write",
            Permission::ReadStats => "stats:read",
        }
    }

    /// What the permission allows, for the permissions document.
    pub fn describe(self) -> &'static str {
        match self {
            Permission::ReadDirectory => "read organizations, territories and programmes",
            Permission::WriteOrganizations => "create, change and delete organizations",
            Permission::WriteTerritories => "create, change and delete territories",
            Permission::ManageProgrammes => "create, change and delete ANCT programmes",
            Permission::ReadDrafts => "see draft Fabriques",
            Permission::WriteFabriques => "create, change and delete Fabriques",
            Permission::TransitionFabriques => {
                "open recruitment, launch, complete or cancel a Fabrique"
            }
            Permission::WritePartners => "set a Fabrique's partners and their roles",
            Permission::ReadParticipations => "read participations (personal data apart)",
            Permission::Apply => "apply for a territory",
            Permission::DecideParticipations => "accept or reject an application",
            Permission::Withdraw => "withdraw a participation",
            Permission::UpdateParticipations => {
                "change a participation's sponsor, motivation, focus"
            }
            Permission::ReadHistory => "read a Fabrique's history",
            Permission::ReadPersonalData => {
                "see personal data: sponsors, motivations, working groups"
            }
            Permission::WriteSeminars => "plan, reschedule, hold or cancel seminars",
            Permission::WriteWorkingGroups => "edit a local working group",
            Permission::WriteRoadmaps => "edit a roadmap and its actions, submit it",
            Permission::AdoptRoadmaps => "record a roadmap's adoption",
            Permission::WriteLessons => "record national lessons",
            Permission::WriteTestimonies => "record testimonies and publish them",
            Permission::WriteFunding => "record funding lines",
            Permission::ManageExternalIds => {
                "attach its organization's own ids to resources and look them up"
            }
            Permission::ManageClients => "create, revoke and rotate machine clients",
            Permission::ReadStats => "read detailed figures: funding, breakdowns",
            Permission::ManageWebhooks => {
                "subscribe a machine client to webhooks and read its delivery log"
            }
        }
    }
}

/// The role × permission table of DOMAIN.md, with the reach of each grant.
pub fn grant(role: Role, perm: Permission) -> Grant {
    use Grant::{Always, FabriquePartner, Never, OwnTerritory};
    use Permission as P;
    match (role, perm) {
        // External ids belong to an organization: only organization tokens hold them.
        (Role::Admin | Role::AnctStaff, P::ManageExternalIds) => Never,
        (Role::Admin, P::ManageClients) => Always,
        (Role::Admin | Role::AnctStaff | Role::Analyst, P::ReadStats) => Always,
        (_, P::ReadStats) => Never,
        (_, P::ManageClients) => Never,
        // Webhooks carry the change feed: whoever reads the feed may subscribe.
        (role, P::ManageWebhooks) => grant(role, P::ReadHistory),
        (Role::Admin, _) => Always,
        (Role::AnctStaff, P::ManageProgrammes) => Never,
        (Role::AnctStaff, _) => Always,
        (
            Role::Analyst,
            P::ReadDirectory | P::ReadDrafts | P::ReadParticipations | P::ReadHistory,
        ) => Always,
        (Role::Analyst, _) => Never,
        (
            Role::Partner,
            P::ReadDirectory | P::ReadParticipations | P::ReadHistory | P::ManageExternalIds,
        ) => Always,
        (
            Role::Partner,
            P::ReadPersonalData
            | P::WriteSeminars
            | P::WriteWorkingGroups
            | P::WriteRoadmaps
            | P::AdoptRoadmaps
            | P::WriteTestimonies,
        ) => FabriquePartner,
        (Role::Partner, _) => Never,
        (Role::Territory, P::ReadDirectory) => Always,
        (
            Role::Territory,
            P::ReadParticipations
            | P::Apply
            | P::Withdraw
            | P::UpdateParticipations
            | P::ReadPersonalData
            | P::WriteWorkingGroups
            | P::WriteRoadmaps,
        ) => OwnTerritory,
        (Role::Territory, _) => Never,
    }
}

/// Whether the role has the permission anywhere at all.
pub fn role_allows(role: Role, perm: Permission) -> bool {
    grant(role, perm) != Grant::Never
}

pub const ROLES: [Role; 5] = [
    Role::Admin,
    Role::AnctStaff,
    Role::Partner,
    Role::Territory,
    Role::Analyst,
];

/// The permissions document (`docs/permissions.md`), rendered from [`grant`].
pub fn permissions_markdown() -> String {
    let mut out = String::from(
        "# Who may do what\n\nGenerated from `crates/api/src/auth.rs` by `fabriques permissions --output docs/permissions.md`;\na test fails when this file and the code differ, and an HTTP test checks every cell.\nWithout a token, only the public catalogue is readable: Fabriques past draft, their\npartners, programmes, published testimonies.\n\n| permission | what it allows |",
    );
    for r in ROLES {
        out.push_str(&format!(" {} |", r.as_str()));
    }
    out.push_str("\n|---|---|");
    for _ in ROLES {
        out.push_str("---|");
    }
    out.push('\n');
    for p in Permission::ALL {
        out.push_str(&format!("| `{}` | {} |", p.as_str(), p.describe()));
        for r in ROLES {
            out.push_str(&format!(" {} |", grant(r, p).describe()));
        }
        out.push('\n');
    }
    out
}

fn bearer(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
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

/// A request's bearer token, verified once: the rate limiter, the idempotency middleware and
/// the extractors share the outcome through the request's extensions.
#[derive(Clone)]
struct Verified(Result<Claims, String>);

/// A machine client's row, read once per request (quota, then revocation).
#[derive(Clone)]
struct ClientRow(Option<entity::api_client::Model>);

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

/// The machine client `cid` of the request's token, read from the database once per request.
pub async fn client_row(
    req: &HttpRequest,
    cid: Uuid,
) -> Result<Option<entity::api_client::Model>, ApiError> {
    use sea_orm::EntityTrait;
    if let Some(ClientRow(row)) = req.extensions().get::<ClientRow>().cloned() {
        return Ok(row);
    }
    let db = req
        .app_data::<web::Data<DatabaseConnection>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("database missing from app data")))?;
    let row = entity::api_client::Entity::find_by_id(cid)
        .one(db.get_ref())
        .await?;
    req.extensions_mut().insert(ClientRow(row.clone()));
    Ok(row)
}

/// Checks the token; for a machine client's token, also that the client is still active, so
/// that revoking a client takes effect on its next request, not when its token expires.
async fn authenticate(req: HttpRequest) -> Result<Option<Caller>, ApiError> {
    let Some(c) = verified(&req)? else {
        return Ok(None);
    };
    if let Some(cid) = c.cid {
        let active = client_row(&req, cid)
            .await?
            .is_some_and(|m| m.status == crate::store::clients::ACTIVE);
        if !active {
            return Err(ApiError::Unauthorized(
                "this client has been revoked".into(),
            ));
        }
    }
    Ok(Some(Caller {
        sub: c.sub,
        role: c.role,
        org: c.org,
        territory: c.territory,
        client_id: c.cid,
    }))
}

fn authenticate_request(
    req: &HttpRequest,
) -> LocalBoxFuture<'static, Result<Option<Caller>, ApiError>> {
    Box::pin(authenticate(req.clone()))
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let fut = authenticate_request(req);
        Box::pin(async move {
            fut.await?
                .ok_or_else(|| ApiError::Unauthorized("a bearer token is required".into()))
        })
    }
}

/// The caller if a token was sent; `None` for the public.
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let fut = authenticate_request(req);
        Box::pin(async move { fut.await.map(MaybeCaller) })
    }
}
