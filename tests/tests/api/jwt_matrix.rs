//! The JWT attack matrix (issue 11, hardening). Each row is a way of bending a bearer token,
//! built from a valid one; the whole table runs against a server configured for HS256, RS256
//! and EdDSA in turn (the keys of `tests/fixtures`), on both engines. Every attack is sent as a
//! write (`POST /api/v1/organizations` with a valid body) and must be a 401 problem+json
//! `unauthorized` carrying `WWW-Authenticate: Bearer …, error="invalid_token"` that writes
//! nothing; most rows also name the check meant to refuse them (a piece of the `detail`). The
//! controls (the untampered token, the spellings of the header the standards allow, the edges
//! of the leeway and of the size limit) must write, so the harness itself can fail. Every case
//! that goes wrong is reported, not only the first.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use fabriques_api::auth::keys::{LEEWAY_SECS, MAX_AUTH_HEADER_BYTES};
use fabriques_api::auth::{JwtKeys, Role};
use fabriques_api::config::{JwtAlgorithm, JwtSettings};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::helpers::{
    AUDIENCE, Engine, ISSUER, SECRET, TestApp, jwt_settings, spawn_app_full, test_options,
};

/// The clock leeway and the `Authorization` size limit the README documents.
const LEEWAY: i64 = 10;
const LIMIT: usize = 8 * 1024;
const OTHER_SECRET: &str = "another-secret-that-is-also-32-bytes-long!";

macro_rules! matrix {
    ($($name:ident => $alg:expr),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::run($alg, crate::helpers::Engine::Sqlite).await;
            }
            #[tokio::test]
            async fn postgres() {
                super::run($alg, crate::helpers::Engine::Postgres).await;
            }
        }
    )*};
}

matrix!(
    hs256 => super::Alg::Hs256,
    rs256 => super::Alg::Rs256,
    eddsa => super::Alg::EdDsa,
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    Hs256,
    Rs256,
    EdDsa,
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")).join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).expect("fixture")
}

/// The DER inside a PEM document.
fn pem_der(pem: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(pem);
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body.trim()).expect("PEM body")
}

impl Alg {
    fn algorithm(self) -> Algorithm {
        match self {
            Alg::Hs256 => Algorithm::HS256,
            Alg::Rs256 => Algorithm::RS256,
            Alg::EdDsa => Algorithm::EdDSA,
        }
    }

    /// The fixtures of the server's key pair, and of another pair of the same algorithm.
    fn files(self) -> Option<[&'static str; 4]> {
        match self {
            Alg::Hs256 => None,
            Alg::Rs256 => Some([
                "rsa-public.pem",
                "rsa-private.pem",
                "rsa-other-public.pem",
                "rsa-other-private.pem",
            ]),
            Alg::EdDsa => Some([
                "ed25519-public.pem",
                "ed25519-private.pem",
                "ed25519-next-public.pem",
                "ed25519-next-private.pem",
            ]),
        }
    }

    fn settings(self, other: bool) -> JwtSettings {
        let Some(files) = self.files() else {
            return JwtSettings {
                secret: Some(if other { OTHER_SECRET } else { SECRET }.into()),
                ..jwt_settings()
            };
        };
        let (public, private) = if other {
            (files[2], files[3])
        } else {
            (files[0], files[1])
        };
        JwtSettings {
            algorithm: if self == Alg::Rs256 {
                JwtAlgorithm::Rs256
            } else {
                JwtAlgorithm::EdDsa
            },
            secret: None,
            public_key_file: Some(fixture(public)),
            private_key_file: Some(fixture(private)),
            ..jwt_settings()
        }
    }

    fn encoding_key(self, other: bool) -> EncodingKey {
        match self.files() {
            None => EncodingKey::from_secret(if other { OTHER_SECRET } else { SECRET }.as_bytes()),
            Some(files) => {
                let pem = read(if other { files[3] } else { files[1] });
                if self == Alg::Rs256 {
                    EncodingKey::from_rsa_pem(&pem).expect("RSA key")
                } else {
                    EncodingKey::from_ed_pem(&pem).expect("Ed25519 key")
                }
            }
        }
    }
}

fn b64u(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn b64j(v: &Value) -> String {
    b64u(&serde_json::to_vec(v).expect("json"))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn alg_name(a: Algorithm) -> String {
    serde_json::to_value(a)
        .expect("alg")
        .as_str()
        .expect("alg")
        .to_owned()
}

/// `base` with `changes` applied key by key; a `null` removes the key.
fn merge(mut base: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().expect("an object of changes") {
        if v.is_null() {
            base.as_object_mut().expect("object").remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    base
}

fn signed_parts(h: &str, p: &str, key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!("{h}.{p}");
    let sig = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).expect("sign");
    format!("{message}.{sig}")
}

fn jws(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    signed_parts(&b64j(header), &b64j(claims), key, alg)
}

fn parts(token: &str) -> (String, String, String) {
    let mut it = token.split('.');
    let mut next = || it.next().expect("three parts").to_owned();
    (next(), next(), next())
}

fn payload_of(token: &str) -> Value {
    let bytes = URL_SAFE_NO_PAD.decode(parts(token).1).expect("base64url");
    serde_json::from_slice(&bytes).expect("json")
}

/// What a case sends.
enum Attack {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// These `Authorization` headers, byte for byte and in this order.
    Headers(Vec<Vec<u8>>),
}

impl Attack {
    fn values(&self) -> Vec<Vec<u8>> {
        match self {
            Attack::Bearer(t) => vec![format!("Bearer {t}").into_bytes()],
            Attack::Headers(v) => v.clone(),
        }
    }

    /// The headers as sent, cut when long, for the failure report.
    fn describe(&self) -> String {
        self.values()
            .iter()
            .map(|v| {
                let text = String::from_utf8_lossy(v);
                if v.len() > 1500 {
                    let cut: String = text.chars().take(200).collect();
                    format!("Authorization: {cut}… ({} bytes)", v.len())
                } else {
                    format!("Authorization: {text}")
                }
            })
            .collect::<Vec<_>>()
            .join("\n      ")
    }
}

fn bearer(token: impl Into<String>) -> Attack {
    Attack::Bearer(token.into())
}

fn header(value: impl AsRef<[u8]>) -> Attack {
    Attack::Headers(vec![value.as_ref().to_vec()])
}

fn headers(values: &[&str]) -> Attack {
    Attack::Headers(values.iter().map(|v| v.as_bytes().to_vec()).collect())
}

type Variants = Vec<(String, Attack)>;

fn one(attack: Attack) -> Variants {
    vec![(String::new(), attack)]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// 401 problem+json `unauthorized`, `WWW-Authenticate: Bearer …error="invalid_token"`,
    /// nothing written.
    Refused,
    /// 201: the organization is written.
    Accepted,
    /// A request head over actix-http's buffer: 431 from the HTTP layer (or the connection
    /// closed) before the application sees it; nothing written.
    HeadTooLarge,
}

struct Row {
    name: &'static str,
    expect: Expect,
    /// A piece of the refusal's `detail` naming the check meant to refuse it ("": any).
    why: &'static str,
    /// The cases of the row for this server; none where the row does not apply.
    cases: fn(&Ctx) -> Variants,
}

/// The server under attack, and what an attacker (or the test) holds.
struct Ctx {
    alg: Alg,
    /// The kid of the server's key, as its own tokens carry it.
    kid: String,
    /// The server's signing key (the test holds it to build tokens valid but for one thing).
    key: EncodingKey,
    /// Another key of the same algorithm, which the server does not know, its kid and JWK.
    other: EncodingKey,
    other_kid: String,
    other_jwk: Value,
    /// The server's public key file (RS256, EdDSA).
    public_pem: Option<Vec<u8>>,
    /// The server's key as a JWK: the published one, or the secret as an `oct` key.
    jwk: Value,
    /// A certificate (base64 DER) of the server's key; of the RSA fixture for HS256.
    cert: String,
    jwks_url: String,
    /// A token minted by the server's own code (`fabriques token`).
    minted: String,
    /// A machine client's token, the client revoked since.
    revoked: String,
    /// A machine client's token issued before its secret's rotation, and one issued after.
    before_rotation: String,
    after_rotation: String,
    /// The fixture keys of the other asymmetric algorithms, for confusion.
    rsa: EncodingKey,
    ed: EncodingKey,
}

impl Ctx {
    async fn new(alg: Alg, app: &TestApp) -> Self {
        let kid = app.keys.kids()[0].to_owned();
        let dir = tempfile::tempdir().expect("tempdir");
        let other_keys = JwtKeys::load(&alg.settings(true), dir.path()).expect("other keys");
        let other_kid = other_keys.kids()[0].to_owned();
        let (jwk, other_jwk) = if alg == Alg::Hs256 {
            let oct = |secret: &str, kid: &str| json!({"kty": "oct", "k": b64u(secret.as_bytes()), "alg": "HS256", "kid": kid});
            (oct(SECRET, &kid), oct(OTHER_SECRET, &other_kid))
        } else {
            let jwks = app
                .raw(Method::GET, "/.well-known/jwks.json", None, None)
                .await;
            assert_eq!(jwks.status, 200, "{}", jwks.body);
            let other = serde_json::to_value(other_keys.jwks()).expect("jwks");
            (jwks.body["keys"][0].clone(), other["keys"][0].clone())
        };
        let cert = STANDARD.encode(pem_der(&read(if alg == Alg::EdDsa {
            "ed25519-cert.pem"
        } else {
            "rsa-cert.pem"
        })));

        // Machine clients (anct_staff may create organizations): one revoked, one rotated.
        let (id, secret) = app
            .client(json!({"name": "Matrice révoquée", "role": "anct_staff"}))
            .await;
        let revoked = app.client_token(&id, &secret).await;
        let before = app
            .raw(Method::GET, "/api/v1/organizations", Some(&revoked), None)
            .await;
        assert_eq!(before.status, 200, "before its revocation: {}", before.body);
        let r = app
            .post(&format!("/api/v1/clients/{id}/revoke"), json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let (id, secret) = app
            .client(json!({"name": "Matrice renouvelée", "role": "anct_staff"}))
            .await;
        let before_rotation = app.client_token(&id, &secret).await;
        let r = app
            .post(&format!("/api/v1/clients/{id}/rotate-secret"), json!({}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let after_rotation = app
            .client_token(&id, r.body["client_secret"].as_str().expect("secret"))
            .await;

        Ctx {
            alg,
            kid,
            key: alg.encoding_key(false),
            other: alg.encoding_key(true),
            other_kid,
            other_jwk,
            public_pem: alg.files().map(|f| read(f[0])),
            jwk,
            cert,
            jwks_url: format!("{}/.well-known/jwks.json", app.base),
            minted: app
                .keys
                .mint("staff@server", Role::AnctStaff, None, None, 600)
                .expect("mint"),
            revoked,
            before_rotation,
            after_rotation,
            rsa: Alg::Rs256.encoding_key(false),
            ed: Alg::EdDsa.encoding_key(false),
        }
    }

    fn algorithm(&self) -> Algorithm {
        self.alg.algorithm()
    }

    /// The header of the server's own tokens.
    fn header(&self) -> Value {
        json!({"alg": alg_name(self.algorithm()), "typ": "JWT", "kid": self.kid})
    }

    /// Valid claims of an ANCT staff member, who may create organizations.
    fn claims(&self) -> Value {
        let now = now();
        json!({"sub": "staff@matrix", "role": "anct_staff", "iss": ISSUER, "aud": AUDIENCE,
               "exp": now + 600, "nbf": now, "iat": now})
    }

    /// A token signed by the server's key: the valid header and claims with these changes.
    fn signed(&self, header: Value, claims: Value) -> String {
        jws(
            &merge(self.header(), header),
            &merge(self.claims(), claims),
            &self.key,
            self.algorithm(),
        )
    }

    fn valid(&self) -> String {
        self.signed(json!({}), json!({}))
    }

    /// Parts signed by the server's key as they are (not necessarily JSON).
    fn sign_raw(&self, h: &[u8], p: &[u8]) -> String {
        signed_parts(&b64u(h), &b64u(p), &self.key, self.algorithm())
    }

    /// A client token's claims with these changes, signed again by the server's key.
    fn resigned(&self, token: &str, changes: Value) -> String {
        jws(
            &self.header(),
            &merge(payload_of(token), changes),
            &self.key,
            self.algorithm(),
        )
    }

    /// A valid token padded (a claim, and a header parameter to reach every length) so that
    /// `Bearer <token>` is exactly `len` bytes.
    fn of_length(&self, len: usize) -> String {
        let sig = parts(&self.valid()).2.len();
        let claims = self.claims();
        for filler in 0..4 {
            let h = b64j(&merge(self.header(), json!({"pad": "x".repeat(filler)})));
            let fixed = "Bearer ".len() + h.len() + 2 + sig;
            let base = serde_json::to_vec(&merge(claims.clone(), json!({"pad": ""})))
                .expect("json")
                .len();
            let estimate = (len.saturating_sub(fixed) * 3 / 4).saturating_sub(base);
            for n in estimate.saturating_sub(8)..estimate + 8 {
                let p = b64j(&merge(claims.clone(), json!({"pad": "x".repeat(n)})));
                if fixed + p.len() == len {
                    let token = signed_parts(&h, &p, &self.key, self.algorithm());
                    assert_eq!("Bearer ".len() + token.len(), len);
                    return token;
                }
            }
        }
        panic!("no token of {len} bytes");
    }
}

// --- The rows -----------------------------------------------------------------------------

fn accepted(name: &'static str, cases: fn(&Ctx) -> Variants) -> Row {
    Row {
        name,
        expect: Expect::Accepted,
        why: "",
        cases,
    }
}

fn refused(name: &'static str, why: &'static str, cases: fn(&Ctx) -> Variants) -> Row {
    Row {
        name,
        expect: Expect::Refused,
        why,
        cases,
    }
}

fn rows() -> Vec<Row> {
    vec![
        // Controls: without them a server refusing everything would pass.
        accepted("control: the untampered token", |c| one(bearer(c.valid()))),
        accepted("control: a token minted by the server", |c| {
            one(bearer(c.minted.clone()))
        }),
        accepted(
            "control: a machine client's token issued after its secret's rotation",
            |c| one(bearer(c.after_rotation.clone())),
        ),
        accepted(
            "control: the scheme in any case, one or more spaces (RFC 7235 §2.1, RFC 6750 §2.1)",
            scheme_spellings,
        ),
        accepted("control: clock skew within the 10 s leeway", within_leeway),
        accepted(
            "control: aud as an array that holds ours (RFC 7519 §4.1.3)",
            |c| {
                [json!([AUDIENCE]), json!(["someone-else", AUDIENCE])]
                    .into_iter()
                    .map(|aud| {
                        (
                            format!("{aud}"),
                            bearer(c.signed(json!({}), json!({"aud": aud}))),
                        )
                    })
                    .collect()
            },
        ),
        accepted("control: an Authorization header of exactly 8 KiB", |c| {
            one(bearer(c.of_length(LIMIT)))
        }),
        // alg
        refused("alg: none", "malformed token", alg_none),
        refused(
            "alg: missing, empty, misspelt or not a string",
            "malformed token",
            alg_malformed,
        ),
        refused(
            "alg: another algorithm of the server key's family, signed with that key",
            "unexpected signing algorithm",
            same_family,
        ),
        refused(
            "algorithm confusion: HS256 keyed with the server's public key",
            "unexpected signing algorithm",
            public_key_as_secret,
        ),
        refused(
            "algorithm confusion: a token of another algorithm",
            "unexpected signing algorithm",
            other_algorithm,
        ),
        // Signatures
        refused(
            "a signature by another key of the same algorithm",
            "invalid signature",
            |c| {
                let claims = c.claims();
                let admin = merge(c.claims(), json!({"role": "admin"}));
                let no_kid = merge(c.header(), json!({"kid": null}));
                vec![
                    (
                        "naming our kid".into(),
                        bearer(jws(&c.header(), &claims, &c.other, c.algorithm())),
                    ),
                    (
                        "without kid".into(),
                        bearer(jws(&no_kid, &claims, &c.other, c.algorithm())),
                    ),
                    (
                        "naming our kid, raised to admin".into(),
                        bearer(jws(&c.header(), &admin, &c.other, c.algorithm())),
                    ),
                ]
            },
        ),
        refused(
            "a signature by another key naming its own kid",
            "unknown key id",
            |c| {
                let h = merge(c.header(), json!({"kid": c.other_kid}));
                one(bearer(jws(&h, &c.claims(), &c.other, c.algorithm())))
            },
        ),
        refused("a garbled signature", "", garbled_signature),
        refused("a garbled structure", "", garbled_structure),
        refused(
            "tampered claims or header with the original signature",
            "invalid signature",
            tampered,
        ),
        // Registered claims
        refused("iss: wrong", "wrong issuer", |c| {
            [
                "evil",
                "Fabriques",
                "fabriques ",
                "",
                "https://fabriques",
                AUDIENCE,
            ]
            .into_iter()
            .map(|iss| {
                (
                    format!("{iss:?}"),
                    bearer(c.signed(json!({}), json!({"iss": iss}))),
                )
            })
            .collect()
        }),
        refused("iss: missing or not a string", "", |c| {
            [
                json!(null),
                json!([ISSUER]),
                json!([ISSUER, "evil"]),
                json!(1),
            ]
            .into_iter()
            .map(|iss| {
                (
                    format!("{iss}"),
                    bearer(c.signed(json!({}), json!({"iss": iss}))),
                )
            })
            .collect()
        }),
        refused("aud: wrong", "wrong audience", |c| {
            [
                "someone-else",
                "Fabriques-API",
                "fabriques-api ",
                "",
                ISSUER,
            ]
            .into_iter()
            .map(|aud| {
                (
                    format!("{aud:?}"),
                    bearer(c.signed(json!({}), json!({"aud": aud}))),
                )
            })
            .collect()
        }),
        refused(
            "aud: missing, an array without ours, or neither a string nor an array of strings",
            "",
            |c| {
                [
                    json!(null),
                    json!(["someone-else"]),
                    json!([]),
                    json!(["fabriques", "api"]),
                    json!(1),
                ]
                .into_iter()
                .map(|aud| {
                    (
                        format!("{aud}"),
                        bearer(c.signed(json!({}), json!({"aud": aud}))),
                    )
                })
                .collect()
            },
        ),
        refused("exp: expired", "token expired", |c| {
            let now = now();
            [
                ("1 s past the leeway", now - LEEWAY - 1),
                ("31 s ago", now - 31),
                ("a day ago", now - 86_400),
                ("at the epoch", 0),
            ]
            .into_iter()
            .map(|(what, exp)| {
                (
                    what.into(),
                    bearer(c.signed(json!({}), json!({"exp": exp}))),
                )
            })
            .collect()
        }),
        refused("nbf: in the future", "not yet valid", |c| {
            let now = now();
            [
                ("just past the leeway", now + LEEWAY + 2),
                ("in an hour", now + 3600),
            ]
            .into_iter()
            .map(|(what, nbf)| {
                (
                    what.into(),
                    bearer(c.signed(json!({}), json!({"nbf": nbf}))),
                )
            })
            .collect()
        }),
        refused("iat: in the future", "issued in the future", |c| {
            let now = now();
            [
                ("just past the leeway", now + LEEWAY + 2),
                ("in an hour", now + 3600),
            ]
            .into_iter()
            .map(|(what, iat)| {
                (
                    what.into(),
                    bearer(c.signed(json!({}), json!({"iat": iat}))),
                )
            })
            .collect()
        }),
        refused("exp: missing", "", |c| {
            vec![
                (
                    "exp".into(),
                    bearer(c.signed(json!({}), json!({"exp": null}))),
                ),
                (
                    "exp, nbf and iat".into(),
                    bearer(c.signed(json!({}), json!({"exp": null, "nbf": null, "iat": null}))),
                ),
            ]
        }),
        refused("exp, nbf, iat: not numbers", "", |c| {
            let later = (now() + 600).to_string();
            let now = now().to_string();
            [
                ("exp as a string", json!({"exp": later})),
                ("exp true", json!({"exp": true})),
                ("exp an object", json!({"exp": {"after": later}})),
                ("exp negative", json!({"exp": -1})),
                ("nbf as a string", json!({"nbf": now})),
                ("iat as a string", json!({"iat": now})),
            ]
            .into_iter()
            .map(|(what, claims)| (what.into(), bearer(c.signed(json!({}), claims))))
            .collect()
        }),
        refused("sub: missing, empty or not a string", "", |c| {
            [json!(null), json!(""), json!("   "), json!(42)]
                .into_iter()
                .map(|sub| {
                    (
                        format!("{sub}"),
                        bearer(c.signed(json!({}), json!({"sub": sub}))),
                    )
                })
                .collect()
        }),
        refused(
            "role: unknown, misspelt, missing, or without its binding",
            "",
            |c| {
                [
                    json!({"role": "superadmin"}),
                    json!({"role": "Admin"}),
                    json!({"role": null}),
                    json!({"role": ["admin"]}),
                    json!({"role": "partner"}),
                    json!({"role": "territory"}),
                ]
                .into_iter()
                .map(|claims| (format!("{claims}"), bearer(c.signed(json!({}), claims))))
                .collect()
            },
        ),
        // Header parameters
        refused("kid: unknown", "unknown key id", |c| {
            [
                "nope".to_owned(),
                String::new(),
                "../../../../../../dev/null".into(),
                "' OR '1'='1".into(),
                c.kid.to_uppercase(),
                format!("{}x", c.kid),
            ]
            .into_iter()
            .map(|kid| {
                (
                    format!("{kid:?}"),
                    bearer(c.signed(json!({"kid": kid}), json!({}))),
                )
            })
            .collect()
        }),
        refused("kid: not a string", "malformed token", |c| {
            [json!(1), json!([c.kid]), json!({"kid": c.kid})]
                .into_iter()
                .map(|kid| {
                    (
                        format!("{kid}"),
                        bearer(c.signed(json!({"kid": kid}), json!({}))),
                    )
                })
                .collect()
        }),
        refused(
            "jku, x5u, jwk, x5c: key-bearing headers, even naming the right key",
            "key-bearing",
            key_bearing,
        ),
        refused("crit: any, even empty", "critical", |c| {
            [
                json!({"crit": ["exp"]}),
                json!({"crit": []}),
                json!({"crit": ["b64"], "b64": false}),
                json!({"crit": ["kid"]}),
            ]
            .into_iter()
            .map(|h| (format!("{h}"), bearer(c.signed(h, json!({})))))
            .collect()
        }),
        refused("crit: not an array", "malformed token", |c| {
            one(bearer(c.signed(json!({"crit": "exp"}), json!({}))))
        }),
        // The Authorization header
        refused("two Authorization headers", "", two_headers),
        refused(
            "another scheme, or none",
            "expected `Authorization: Bearer <token>`",
            other_schemes,
        ),
        refused("more than a token after the scheme", "", |c| {
            let t = c.valid();
            [
                format!("Bearer {t} {t}"),
                format!("Bearer {t} x"),
                format!("Bearer {t},"),
                format!("Bearer \"{t}\""),
                format!("Bearer {t};"),
            ]
            .into_iter()
            .map(|v| (v.replace(&t, "<token>"), header(v)))
            .collect()
        }),
        refused(
            "bytes beyond ASCII in the header",
            "malformed authorization header",
            |c| {
                let t = c.valid();
                let mut latin1 = b"Bearer\xa0".to_vec();
                latin1.extend_from_slice(t.as_bytes());
                let mut trailing = format!("Bearer {t}").into_bytes();
                trailing.push(0xff);
                vec![
                    (
                        "a non-breaking space (Latin-1) after Bearer".into(),
                        header(latin1),
                    ),
                    ("a 0xFF byte after the token".into(), header(trailing)),
                    (
                        "UTF-8 in the token".into(),
                        header(format!("Bearer tökén.{t}")),
                    ),
                ]
            },
        ),
        refused(
            "oversized: a valid token beyond the 8 KiB limit",
            "too large",
            |c| {
                [LIMIT + 1, 64 * 1024, 100 * 1024]
                    .into_iter()
                    .map(|n| (format!("{n} bytes"), bearer(c.of_length(n))))
                    .collect()
            },
        ),
        Row {
            name: "oversized: a 1 MB Authorization header (a valid token)",
            expect: Expect::HeadTooLarge,
            why: "",
            cases: |c| one(bearer(c.of_length(1 << 20))),
        },
        // Machine clients
        refused("a revoked machine client's token", "revoked", |c| {
            one(bearer(c.revoked.clone()))
        }),
        refused(
            "a machine client's token issued before its secret's rotation",
            "rotated",
            |c| {
                let cgen = payload_of(&c.after_rotation)["cgen"]
                    .as_i64()
                    .expect("cgen");
                vec![
                    ("as issued".into(), bearer(c.before_rotation.clone())),
                    (
                        "without cgen (a token of before the claim), re-signed".into(),
                        bearer(c.resigned(&c.before_rotation, json!({"cgen": null}))),
                    ),
                    (
                        "cgen ahead of the client's, re-signed".into(),
                        bearer(c.resigned(&c.after_rotation, json!({"cgen": cgen + 1}))),
                    ),
                    (
                        "cgen -1, re-signed".into(),
                        bearer(c.resigned(&c.after_rotation, json!({"cgen": -1}))),
                    ),
                ]
            },
        ),
        refused(
            "a token naming an unknown machine client (re-signed)",
            "revoked",
            |c| {
                one(bearer(c.resigned(
                    &c.after_rotation,
                    json!({"cid": uuid::Uuid::now_v7()}),
                )))
            },
        ),
        refused(
            "machine client claims of the wrong type (re-signed)",
            "",
            |c| {
                vec![
                    (
                        "cgen as a string".into(),
                        bearer(c.resigned(&c.after_rotation, json!({"cgen": "1"}))),
                    ),
                    (
                        "cid not a UUID".into(),
                        bearer(c.resigned(&c.after_rotation, json!({"cid": "client-1"}))),
                    ),
                ]
            },
        ),
    ]
}

fn scheme_spellings(c: &Ctx) -> Variants {
    let t = c.valid();
    ["bearer ", "BEARER ", "bEaReR ", "Bearer  ", "Bearer     "]
        .into_iter()
        .map(|scheme| (format!("{scheme:?}"), header(format!("{scheme}{t}"))))
        .collect()
}

fn within_leeway(c: &Ctx) -> Variants {
    let now = now();
    vec![
        (
            "expired 5 s ago".into(),
            bearer(c.signed(json!({}), json!({"exp": now - 5}))),
        ),
        (
            "nbf 5 s ahead".into(),
            bearer(c.signed(json!({}), json!({"nbf": now + 5}))),
        ),
        (
            "iat 5 s ahead".into(),
            bearer(c.signed(json!({}), json!({"iat": now + 5}))),
        ),
    ]
}

fn alg_none(c: &Ctx) -> Variants {
    let (_, p, s) = parts(&c.valid());
    let mut out = Vec::new();
    for name in ["none", "None", "NONE", "nOnE"] {
        let h = b64j(&merge(c.header(), json!({ "alg": name })));
        out.push((
            format!("{name}, empty signature"),
            bearer(format!("{h}.{p}.")),
        ));
        out.push((
            format!("{name}, no signature part"),
            bearer(format!("{h}.{p}")),
        ));
        out.push((
            format!("{name}, the original signature"),
            bearer(format!("{h}.{p}.{s}")),
        ));
    }
    let h = b64j(&json!({"alg": "none", "typ": "JWT"}));
    let admin = b64j(&merge(c.claims(), json!({"role": "admin"})));
    out.push(("none, no kid".into(), bearer(format!("{h}.{p}."))));
    out.push((
        "none, no kid, raised to admin".into(),
        bearer(format!("{h}.{admin}.")),
    ));
    out
}

fn alg_malformed(c: &Ctx) -> Variants {
    let ours = alg_name(c.algorithm());
    [
        json!(null),
        json!(""),
        json!(ours.to_lowercase()),
        json!(format!("{ours} ")),
        json!(256),
        json!([ours]),
    ]
    .into_iter()
    .map(|alg| {
        let h = serde_json::to_vec(&merge(c.header(), json!({ "alg": alg }))).expect("json");
        let p = serde_json::to_vec(&c.claims()).expect("json");
        (format!("alg {alg}"), bearer(c.sign_raw(&h, &p)))
    })
    .collect()
}

fn same_family(c: &Ctx) -> Variants {
    let others: &[Algorithm] = match c.alg {
        Alg::Hs256 => &[Algorithm::HS384, Algorithm::HS512],
        Alg::Rs256 => &[
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        Alg::EdDsa => &[],
    };
    others
        .iter()
        .map(|&a| {
            let h = merge(c.header(), json!({"alg": alg_name(a)}));
            (alg_name(a), bearer(jws(&h, &c.claims(), &c.key, a)))
        })
        .collect()
}

fn public_key_as_secret(c: &Ctx) -> Variants {
    let Some(pem) = &c.public_pem else {
        return Vec::new();
    };
    let decoding = if c.alg == Alg::Rs256 {
        DecodingKey::from_rsa_pem(pem)
    } else {
        DecodingKey::from_ed_pem(pem)
    }
    .expect("public key");
    let secrets: Vec<(&str, Vec<u8>)> = vec![
        ("the PEM file", pem.clone()),
        (
            "the PEM without its final newline",
            pem.trim_ascii_end().to_vec(),
        ),
        ("its DER (SubjectPublicKeyInfo)", pem_der(pem)),
        (
            "the key bytes jsonwebtoken holds",
            decoding.try_get_as_bytes().expect("bytes").to_vec(),
        ),
        (
            "the published JWK",
            serde_json::to_vec(&c.jwk).expect("json"),
        ),
    ];
    let mut out = Vec::new();
    for (what, secret) in secrets {
        let key = EncodingKey::from_secret(&secret);
        for (kid, h) in [
            (
                "our kid",
                json!({"alg": "HS256", "typ": "JWT", "kid": c.kid}),
            ),
            ("no kid", json!({"alg": "HS256", "typ": "JWT"})),
        ] {
            out.push((
                format!("{what}, {kid}"),
                bearer(jws(&h, &c.claims(), &key, Algorithm::HS256)),
            ));
        }
    }
    out
}

fn other_algorithm(c: &Ctx) -> Variants {
    let mut foreign: Vec<(&str, &EncodingKey, Algorithm)> = Vec::new();
    if c.alg != Alg::Rs256 {
        foreign.push(("RS256 by an RSA key", &c.rsa, Algorithm::RS256));
    }
    if c.alg != Alg::EdDsa {
        foreign.push(("EdDSA by an Ed25519 key", &c.ed, Algorithm::EdDSA));
    }
    let mut out = Vec::new();
    for (what, key, a) in foreign {
        for (kid, h) in [
            (
                "our kid",
                json!({"alg": alg_name(a), "typ": "JWT", "kid": c.kid}),
            ),
            ("no kid", json!({"alg": alg_name(a), "typ": "JWT"})),
        ] {
            out.push((
                format!("{what}, {kid}"),
                bearer(jws(&h, &c.claims(), key, a)),
            ));
        }
    }
    // Another algorithm named, the server's own signature under it.
    let p = serde_json::to_vec(&c.claims()).expect("json");
    for named in ["RS256", "EdDSA", "HS256", "ES256"] {
        if named == alg_name(c.algorithm()) {
            continue;
        }
        let h = serde_json::to_vec(&merge(c.header(), json!({ "alg": named }))).expect("json");
        out.push((
            format!("{named} named, signed by the server's key as {:?}", c.alg),
            bearer(c.sign_raw(&h, &p)),
        ));
    }
    out
}

fn garbled_signature(c: &Ctx) -> Variants {
    let (h, p, s) = parts(&c.valid());
    let n = s.len();
    let changed = |i: usize| {
        let mut b = s.clone().into_bytes();
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).expect("ascii")
    };
    let padding = "=".repeat((4 - n % 4) % 4);
    let lifted = parts(&c.signed(json!({}), json!({"sub": "other@matrix"}))).2;
    [
        ("empty", String::new()),
        ("truncated by one character", s[..n - 1].to_owned()),
        ("truncated to half", s[..n / 2].to_owned()),
        ("a single character", "A".into()),
        ("zeros, of the right length", "A".repeat(n)),
        ("first character changed", changed(0)),
        ("last character changed", changed(n - 1)),
        ("not base64url", format!("!!!!{}", &s[4..])),
        ("padded", format!("{s}{padding}")),
        ("doubled", format!("{s}{s}")),
        ("with a space inside", format!("{} {}", &s[..10], &s[10..])),
        ("lifted from another valid token", lifted),
    ]
    .into_iter()
    .map(|(what, sig)| (what.into(), bearer(format!("{h}.{p}.{sig}"))))
    .collect()
}

fn garbled_structure(c: &Ctx) -> Variants {
    let (h, p, s) = parts(&c.valid());
    let claims = serde_json::to_string(&c.claims()).expect("json");
    let header = serde_json::to_vec(&c.header()).expect("json");
    let duplicate = format!("{},\"role\":\"admin\"}}", &claims[..claims.len() - 1]);
    vec![
        ("not a JWT".into(), bearer("not-a-jwt")),
        ("a dot".into(), bearer(".")),
        ("two dots".into(), bearer("..")),
        ("header and payload only".into(), bearer(format!("{h}.{p}"))),
        ("four segments".into(), bearer(format!("{h}.{p}.{s}.{s}"))),
        (
            "five segments, like a JWE".into(),
            bearer(format!("{h}.{p}.{s}.{p}.{s}")),
        ),
        ("empty header".into(), bearer(format!(".{p}.{s}"))),
        ("empty payload".into(), bearer(format!("{h}..{s}"))),
        ("a trailing dot".into(), bearer(format!("{h}.{p}.{s}."))),
        ("a leading dot".into(), bearer(format!(".{h}.{p}.{s}"))),
        (
            "header not JSON, signed".into(),
            bearer(c.sign_raw(b"not json", claims.as_bytes())),
        ),
        (
            "header a JSON array, signed".into(),
            bearer(c.sign_raw(
                &serde_json::to_vec(&json!([c.header()])).expect("json"),
                claims.as_bytes(),
            )),
        ),
        (
            "payload not JSON, signed".into(),
            bearer(c.sign_raw(&header, b"not json")),
        ),
        (
            "payload a JSON array, signed".into(),
            bearer(c.sign_raw(
                &header,
                &serde_json::to_vec(&json!([c.claims()])).expect("json"),
            )),
        ),
        (
            "payload a JSON string, signed".into(),
            bearer(c.sign_raw(&header, b"\"staff@matrix\"")),
        ),
        (
            "payload with the role claim twice (anct_staff, then admin), signed".into(),
            bearer(c.sign_raw(&header, duplicate.as_bytes())),
        ),
    ]
}

fn tampered(c: &Ctx) -> Variants {
    let valid = c.valid();
    let (h, p, s) = parts(&valid);
    let claims = payload_of(&valid);
    let with_claims = |changes: Value| {
        let p = b64j(&merge(claims.clone(), changes));
        bearer(format!("{h}.{p}.{s}"))
    };
    let with_header = |changes: Value| {
        let h = b64j(&merge(c.header(), changes));
        bearer(format!("{h}.{p}.{s}"))
    };
    let exp = claims["exp"].as_i64().expect("exp");
    let reformatted = b64u(
        serde_json::to_string_pretty(&claims)
            .expect("json")
            .as_bytes(),
    );
    vec![
        (
            "role raised to admin".into(),
            with_claims(json!({"role": "admin"})),
        ),
        (
            "sub changed".into(),
            with_claims(json!({"sub": "admin@test"})),
        ),
        (
            "exp extended by a day".into(),
            with_claims(json!({"exp": exp + 86_400})),
        ),
        (
            "exp extended by a year".into(),
            with_claims(json!({"exp": exp + 365 * 86_400})),
        ),
        (
            "nbf and iat removed".into(),
            with_claims(json!({"nbf": null, "iat": null})),
        ),
        (
            "an org added".into(),
            with_claims(json!({"org": uuid::Uuid::now_v7()})),
        ),
        (
            "the same claims, reformatted".into(),
            bearer(format!("{h}.{reformatted}.{s}")),
        ),
        (
            "header: kid removed".into(),
            with_header(json!({"kid": null})),
        ),
        (
            "header: typ changed".into(),
            with_header(json!({"typ": "jwt"})),
        ),
    ]
}

fn key_bearing(c: &Ctx) -> Variants {
    let own_jwk = merge(c.jwk.clone(), json!({"kid": null}));
    let cases: Vec<(&str, Value, &EncodingKey)> = vec![
        ("jku: our own JWKS", json!({"jku": c.jwks_url}), &c.key),
        (
            "jku: a foreign URL",
            json!({"jku": "https://evil.example/jwks.json"}),
            &c.key,
        ),
        (
            "jku: a foreign URL, signed by the foreign key",
            json!({"jku": "https://evil.example/jwks.json", "kid": c.other_kid}),
            &c.other,
        ),
        (
            "x5u: a foreign URL",
            json!({"x5u": "https://evil.example/cert.pem"}),
            &c.key,
        ),
        ("x5u: our own JWKS", json!({"x5u": c.jwks_url}), &c.key),
        ("jwk: our own key", json!({ "jwk": c.jwk }), &c.key),
        (
            "jwk: our own key, without kid in the header",
            json!({"jwk": own_jwk, "kid": null}),
            &c.key,
        ),
        (
            "jwk: the attacker's key, signed by it (CVE-2018-0114)",
            json!({"jwk": c.other_jwk, "kid": null}),
            &c.other,
        ),
        (
            "x5c: a certificate of the key",
            json!({"x5c": [c.cert]}),
            &c.key,
        ),
    ];
    cases
        .into_iter()
        .map(|(what, changes, key)| {
            let h = merge(c.header(), changes);
            let token = jws(&h, &c.claims(), key, c.algorithm());
            // The header must parse, or the case would only prove that garbage is refused.
            let parsed = jsonwebtoken::decode_header(&token)
                .unwrap_or_else(|e| panic!("{what}: the header does not parse: {e}"));
            assert!(
                parsed.jku.is_some()
                    || parsed.x5u.is_some()
                    || parsed.jwk.is_some()
                    || parsed.x5c.is_some(),
                "{what}"
            );
            (what.into(), bearer(token))
        })
        .collect()
}

fn two_headers(c: &Ctx) -> Variants {
    let valid = format!("Bearer {}", c.valid());
    let basic = "Basic Zm9vOmJhcg==";
    let garbage = "Bearer not-a-jwt";
    [
        ("valid, then the same", [valid.as_str(), valid.as_str()]),
        ("valid, then garbage", [valid.as_str(), garbage]),
        ("garbage, then valid", [garbage, valid.as_str()]),
        ("valid, then Basic", [valid.as_str(), basic]),
        ("Basic, then valid", [basic, valid.as_str()]),
    ]
    .into_iter()
    .map(|(what, values)| (what.into(), headers(&values)))
    .collect()
}

fn other_schemes(c: &Ctx) -> Variants {
    let t = c.valid();
    [
        t.clone(),
        format!("Basic {t}"),
        format!("Token {t}"),
        format!("JWT {t}"),
        format!("DPoP {t}"),
        format!("Bearer:{t}"),
        format!("Bearer\t{t}"),
        format!("Bearer,{t}"),
        format!("Bearer{t}"),
        "Bearer".into(),
        "Bearer    ".into(),
    ]
    .into_iter()
    .map(|v| (format!("{:?}", v.replace(&t, "<token>")), header(v)))
    .collect()
}

// --- The harness --------------------------------------------------------------------------

struct Answer {
    status: u16,
    content_type: String,
    www: String,
    body: Value,
}

async fn send(app: &TestApp, attack: &Attack, n: usize) -> Result<Answer, String> {
    let mut rb = app
        .client
        .post(format!("{}/api/v1/organizations", app.base))
        .json(&json!({"name": format!("Matrice {n}"), "kind": "other"}));
    for value in attack.values() {
        rb = rb.header(
            AUTHORIZATION,
            HeaderValue::from_bytes(&value).expect("a header value"),
        );
    }
    let res = rb.send().await.map_err(|e| format!("{e:?}"))?;
    let status = res.status().as_u16();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default()
    };
    let content_type = header("content-type");
    let www = header("www-authenticate");
    let text = res.text().await.unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(Answer {
        status,
        content_type,
        www,
        body,
    })
}

async fn organizations(app: &TestApp) -> u64 {
    entity::organization::Entity::find()
        .count(&app.db)
        .await
        .expect("count organizations")
}

/// What is wrong with this answer to this case (nothing when empty).
fn judge(row: &Row, answer: &Result<Answer, String>, before: u64, after: u64) -> Vec<String> {
    let mut wrong = Vec::new();
    let written = after.saturating_sub(before);
    match (row.expect, answer) {
        (Expect::HeadTooLarge, Err(_)) => {}
        (Expect::HeadTooLarge, Ok(a)) if a.status == 431 => {}
        (_, Err(e)) => wrong.push(format!("no answer: {e}")),
        (Expect::Accepted, Ok(a)) => {
            if a.status != 201 {
                wrong.push(format!("expected 201, got {}", a.status));
            }
        }
        (Expect::HeadTooLarge, Ok(a)) => wrong.push(format!("expected 431, got {}", a.status)),
        (Expect::Refused, Ok(a)) => {
            if a.status != 401 {
                wrong.push(format!("expected 401, got {}", a.status));
            }
            if a.content_type != "application/problem+json" {
                wrong.push(format!("content-type {:?}", a.content_type));
            }
            if a.body["code"] != "unauthorized" || a.body["status"] != 401 {
                wrong.push("not the problem `unauthorized`".into());
            }
            if !a.www.starts_with("Bearer ") || !a.www.contains("error=\"invalid_token\"") {
                wrong.push(format!("WWW-Authenticate {:?}", a.www));
            }
            let detail = a.body["detail"].as_str().unwrap_or_default();
            if !row.why.is_empty() && !detail.contains(row.why) {
                wrong.push(format!(
                    "refused for another reason than {:?}: {detail:?}",
                    row.why
                ));
            }
        }
    }
    let should_write = u64::from(row.expect == Expect::Accepted);
    if written != should_write {
        wrong.push(format!(
            "{written} organization(s) written, expected {should_write}"
        ));
    }
    wrong
}

async fn run(alg: Alg, engine: Engine) {
    assert_eq!(
        LEEWAY_SECS as i64, LEEWAY,
        "the README documents a 10 s leeway"
    );
    assert_eq!(
        MAX_AUTH_HEADER_BYTES, LIMIT,
        "the README documents an 8 KiB limit"
    );
    let Some(app) = spawn_app_full(engine, test_options(), alg.settings(false)).await else {
        eprintln!("SKIPPED on PostgreSQL: FABRIQUES_TEST_SKIP_POSTGRES=1");
        return;
    };
    let ctx = Ctx::new(alg, &app).await;
    let started = std::time::Instant::now();
    let mut failures = Vec::new();
    let (mut n, mut attacks, mut controls) = (0, 0, 0);
    for row in rows() {
        for (label, attack) in (row.cases)(&ctx) {
            n += 1;
            let before = organizations(&app).await;
            let answer = send(&app, &attack, n).await;
            let after = organizations(&app).await;
            if let Ok(a) = &answer
                && (a.status == 401 || a.status == 201)
            {
                crate::conformance::check(
                    "POST",
                    "/api/v1/organizations",
                    a.status,
                    &a.content_type,
                    &a.body,
                );
            }
            let wrong = judge(&row, &answer, before, after);
            let seen = match &answer {
                Ok(a) => format!(
                    "{} {}",
                    a.status,
                    a.body["detail"].as_str().unwrap_or_default()
                ),
                Err(e) => format!("no answer ({})", e.chars().take(80).collect::<String>()),
            };
            eprintln!(
                "{} {alg:?} {engine:?} | {} [{label}] -> {seen}",
                if wrong.is_empty() { "ok  " } else { "FAIL" },
                row.name
            );
            match row.expect {
                Expect::Accepted => controls += 1,
                _ => attacks += 1,
            }
            if !wrong.is_empty() {
                let got = match &answer {
                    Ok(a) => format!(
                        "{} {} WWW-Authenticate: {:?} body: {}",
                        a.status, a.content_type, a.www, a.body
                    ),
                    Err(e) => e.clone(),
                };
                failures.push(format!(
                    "{} [{label}]: {}\n    sent: {}\n    got:  {got}",
                    row.name,
                    wrong.join("; "),
                    attack.describe()
                ));
            }
        }
    }
    eprintln!(
        "{alg:?} on {engine:?}: {n} cases ({attacks} attacks, {controls} controls) in {:?}",
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} of {n} cases went wrong on {alg:?} / {engine:?}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
