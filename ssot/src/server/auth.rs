//! Who is calling, with the TypeScript server's semantics: a JWT in `Authorization: Bearer`
//! (HS256 with the secret, or RS256 with a PEM public key or the keys of a JWKS endpoint;
//! `iss`/`aud` checked when configured; `exp` required unless turned off; `sub` stands in for a
//! missing `id`), an API key in `x-api-key`, or nobody. The claims
//! become the principal that policies see as `auth`, checked against `[auth.claims]`.

use super::problem::HttpError;
use crate::rules::Claims;
use crate::schema::{AuthMethod, Schema};
use axum::http::HeaderMap;
use serde_json::{Map, Value as Json};
use std::collections::HashMap;

/// How tokens and keys are checked.
#[derive(Debug, Clone, Default)]
pub struct AuthSettings {
    /// HS256 secret (`JWT_SECRET`).
    pub jwt_secret: Option<String>,
    /// RS256 public key, PEM (`JWT_PUBLIC_KEY`); when set, tokens must be RS256 and signed by
    /// its private key, and `JWT_SECRET` is not used.
    pub jwt_public_key: Option<String>,
    /// RS256 keys from a JWKS endpoint (`JWKS_URL`, feature `jwks`), by the token's `kid`;
    /// takes precedence over `jwt_public_key` and `jwt_secret`, as in the TypeScript server.
    pub jwks_url: Option<String>,
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    /// Tokens must carry `exp` (`JWT_REQUIRE_EXP`, default true).
    pub jwt_require_exp: bool,
    /// `API_KEYS`: a JSON object of key → claims.
    pub api_keys: String,
}

/// Where tokens' keys come from.
enum Key {
    None,
    Static(jsonwebtoken::DecodingKey, jsonwebtoken::Algorithm),
    #[cfg(feature = "jwks")]
    Remote(jwks::RemoteKeys),
}

pub(crate) struct Authenticator {
    settings: AuthSettings,
    key: Key,
    keys: HashMap<String, Map<String, Json>>,
    schema: &'static Schema,
}

impl Authenticator {
    pub(crate) fn new(schema: &'static Schema, settings: AuthSettings) -> Result<Self, String> {
        let raw: Map<String, Json> = if settings.api_keys.trim().is_empty() {
            Map::new()
        } else {
            serde_json::from_str(&settings.api_keys).map_err(|_| "API_KEYS must be a JSON object of key → claims".to_owned())?
        };
        let mut keys = HashMap::new();
        for (key, claims) in raw {
            let principal = principal(schema, claims).ok_or("API_KEYS: the claims of a key do not match [auth.claims]")?;
            keys.insert(key, principal);
        }
        let key = match (&settings.jwks_url, &settings.jwt_public_key, &settings.jwt_secret) {
            #[cfg(feature = "jwks")]
            (Some(url), _, _) => Key::Remote(jwks::RemoteKeys::new(url)?),
            #[cfg(not(feature = "jwks"))]
            (Some(_), _, _) => return Err("JWKS_URL is set, but ssot was built without its `jwks` feature".into()),
            (None, Some(pem), _) => Key::Static(
                jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes())
                    .map_err(|e| format!("JWT_PUBLIC_KEY must be an RSA public key in PEM: {e}"))?,
                jsonwebtoken::Algorithm::RS256,
            ),
            (None, None, Some(secret)) => Key::Static(
                jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()).map_err(|e| format!("JWT_SECRET: {e}"))?,
                jsonwebtoken::Algorithm::HS256,
            ),
            (None, None, None) => Key::None,
        };
        Ok(Authenticator { settings, key, keys, schema })
    }

    async fn verify(&self, token: &str) -> Result<Map<String, Json>, HttpError> {
        self.verify_with_expiry(token).await.map(|(claims, _)| claims)
    }

    /// A bare token's principal and its `exp` (seconds since the epoch), which tells the realtime
    /// gateway when to close the socket.
    pub(crate) async fn verify_with_expiry(&self, token: &str) -> Result<(Map<String, Json>, Option<u64>), HttpError> {
        let algorithm = match &self.key {
            Key::None => return Err(HttpError::new(401, "Token authentication is not configured on this server.")),
            Key::Static(_, algorithm) => *algorithm,
            #[cfg(feature = "jwks")]
            Key::Remote(_) => jsonwebtoken::Algorithm::RS256,
        };
        // One algorithm, the key's: an HS256 token signed with the public key's text is refused.
        let mut v = jsonwebtoken::Validation::new(algorithm);
        v.leeway = 0;
        v.validate_nbf = true;
        v.required_spec_claims.clear();
        if self.settings.jwt_require_exp {
            v.required_spec_claims.insert("exp".into());
        }
        match &self.settings.jwt_audience {
            Some(aud) => v.set_audience(&[aud]),
            None => v.validate_aud = false,
        }
        if let Some(iss) = &self.settings.jwt_issuer {
            v.set_issuer(&[iss]);
        }
        let invalid = || HttpError::new(401, "The token is invalid or expired.").with_header("www-authenticate", "Bearer");
        let data = match &self.key {
            Key::Static(key, _) => jsonwebtoken::decode::<Map<String, Json>>(token, key, &v).map_err(|_| invalid())?,
            #[cfg(feature = "jwks")]
            Key::Remote(keys) => keys.decode(token, &v).await.ok_or_else(invalid)?,
            Key::None => return Err(invalid()),
        };
        let mut claims = data.claims;
        let exp = claims.get("exp").and_then(|e| e.as_u64().or_else(|| e.as_f64().map(|f| f as u64)));
        if let (false, Some(sub)) = (claims.contains_key("id"), claims.get("sub").cloned()) {
            claims.insert("id".into(), sub);
        }
        let principal = principal(self.schema, Json::Object(claims))
            .ok_or_else(|| HttpError::new(401, "The token lacks the claims this API needs."))?;
        Ok((principal, exp))
    }

    /// The principal of a request to a model that accepts `methods`.
    pub(crate) async fn authenticate(&self, headers: &HeaderMap, methods: &[AuthMethod]) -> Result<Claims, HttpError> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).filter(|v| !v.is_empty());
        let public = methods.contains(&AuthMethod::Public);
        if let Some(authorization) = header("authorization") {
            let token = authorization
                .split_once(char::is_whitespace)
                .filter(|(scheme, t)| {
                    scheme.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() && !t.trim().contains(char::is_whitespace)
                })
                .map(|(_, t)| t.trim())
                .ok_or_else(|| HttpError::new(401, "Authorization must be `Bearer <token>`."))?;
            if !public && !methods.contains(&AuthMethod::Jwt) {
                return Err(HttpError::new(401, "This API does not take bearer tokens."));
            }
            return self.verify(token).await.map(Some);
        }
        if let Some(key) = header("x-api-key") {
            if !public && !methods.contains(&AuthMethod::ApiKey) {
                return Err(HttpError::new(401, "This API does not take API keys."));
            }
            return self.keys.get(key).cloned().map(Some).ok_or_else(|| HttpError::new(401, "The API key is not valid."));
        }
        if public {
            return Ok(None);
        }
        let e = HttpError::new(401, "This API needs credentials.");
        Err(if methods.contains(&AuthMethod::Jwt) { e.with_header("www-authenticate", "Bearer") } else { e })
    }

    /// A short, non-secret name of the principal for logs.
    pub(crate) fn describe(auth: &Claims) -> Option<String> {
        let a = auth.as_ref()?;
        Some(match a.get("id") {
            Some(Json::String(s)) => s.clone(),
            Some(Json::Number(n)) => n.to_string(),
            _ => "principal".into(),
        })
    }
}

/// The claims of `[auth.claims]` from a token's payload or a key's claims, typed as the
/// TypeScript server's `PrincipalSchema` types them; `None` when one is missing or mistyped.
pub(crate) fn principal(schema: &Schema, claims: Json) -> Option<Map<String, Json>> {
    let Json::Object(claims) = claims else { return None };
    let mut out = Map::new();
    for c in &schema.auth.claims {
        let v = claims.get(&c.name)?;
        let typed = if c.list {
            Json::Array(v.as_array()?.iter().map(|x| claim_value(schema, &c.ty, x)).collect::<Option<Vec<_>>>()?)
        } else {
            claim_value(schema, &c.ty, v)?
        };
        out.insert(c.name.clone(), typed);
    }
    Some(out)
}

fn claim_value(schema: &Schema, ty: &str, v: &Json) -> Option<Json> {
    let digits = |s: &str, max: usize| {
        let d = s.strip_prefix('-').unwrap_or(s);
        !d.is_empty() && d.len() <= max && d.bytes().all(|b| b.is_ascii_digit())
    };
    match ty {
        "String" | "DateTime" => v.is_string().then(|| v.clone()),
        "Boolean" => v.is_boolean().then(|| v.clone()),
        "Int" => {
            let n = match v {
                Json::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))?,
                Json::String(s) if digits(s, 10) => s.parse().ok()?,
                _ => return None,
            };
            (i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&n).then(|| Json::from(n))
        }
        "BigInt" => match v {
            Json::Number(n) => n.as_i64().map(|i| Json::String(i.to_string())),
            Json::String(s) if digits(s, usize::MAX) => Some(v.clone()),
            _ => None,
        },
        "Float" | "Decimal" => match v {
            Json::Number(_) => Some(v.clone()),
            Json::String(s) => {
                let (i, f) = s.split_once('.').unwrap_or((s, "0"));
                (digits(i, usize::MAX) && digits(f, usize::MAX) && !f.starts_with('-'))
                    .then(|| s.parse::<f64>().ok().map(Json::from))
                    .flatten()
            }
            _ => None,
        },
        e => match schema.enum_(e) {
            Some(en) => v.as_str().filter(|s| en.values.iter().any(|x| x.name == *s)).map(|_| v.clone()),
            None => Some(v.clone()),
        },
    }
}

/// The keys of a JWKS endpoint, fetched when first needed and again (at most every 30 s) when a
/// token names a key the cached set lacks, as jose's `createRemoteJWKSet` in the TypeScript
/// server does; a set older than 10 minutes is fetched again, and used while the endpoint
/// cannot be reached.
#[cfg(feature = "jwks")]
mod jwks {
    use jsonwebtoken::jwk::{Jwk, JwkSet};
    use serde_json::{Map, Value as Json};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    const COOLDOWN: Duration = Duration::from_secs(30);
    const MAX_AGE: Duration = Duration::from_secs(600);
    const TIMEOUT: Duration = Duration::from_secs(5);

    pub(crate) struct RemoteKeys {
        url: String,
        client: reqwest::Client,
        /// Held only to read or replace, never across a fetch or a signature check.
        cache: std::sync::Mutex<Cache>,
        /// One fetch at a time: a request whose key the cached set lacks waits for it, the
        /// others go on with the set they have.
        fetching: tokio::sync::Mutex<()>,
    }

    #[derive(Default)]
    struct Cache {
        /// The last set fetched, and when.
        set: Option<(Arc<JwkSet>, Instant)>,
        /// The last fetch, successful or not.
        tried: Option<Instant>,
    }

    impl RemoteKeys {
        pub(crate) fn new(url: &str) -> Result<RemoteKeys, String> {
            let parsed = url::Url::parse(url).map_err(|e| format!("JWKS_URL must be a URL: {e}"))?;
            if !matches!(parsed.scheme(), "https" | "http") {
                return Err(format!("JWKS_URL must be an http(s) URL, got {url}"));
            }
            // reqwest is built without a TLS crypto provider; ring is the one this crate brings.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let client = reqwest::Client::builder().timeout(TIMEOUT).build().map_err(|e| format!("JWKS_URL: {e}"))?;
            Ok(RemoteKeys { url: url.to_owned(), client, cache: std::sync::Mutex::default(), fetching: tokio::sync::Mutex::new(()) })
        }

        async fn fetch(&self) -> Option<JwkSet> {
            let res = self.client.get(&self.url).header("accept", "application/json").send().await;
            let body = match res.and_then(reqwest::Response::error_for_status) {
                Ok(r) => r.bytes().await.ok()?,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot fetch the keys of JWKS_URL");
                    return None;
                }
            };
            match serde_json::from_slice::<JwkSet>(&body) {
                Ok(set) => Some(set),
                Err(e) => {
                    tracing::warn!(error = %e, "JWKS_URL answered something other than a JWK set");
                    None
                }
            }
        }

        /// The keys that may have signed a token with this `kid`: the one with that id, or,
        /// without one, every RSA signing key of the set.
        fn candidates<'a>(set: &'a JwkSet, kid: Option<&str>) -> Vec<&'a Jwk> {
            set.keys
                .iter()
                .filter(|k| matches!(k.algorithm, jsonwebtoken::jwk::AlgorithmParameters::RSA(_)))
                .filter(|k| k.common.public_key_use.as_ref().is_none_or(|u| *u == jsonwebtoken::jwk::PublicKeyUse::Signature))
                .filter(|k| k.common.key_algorithm.is_none_or(|a| a == jsonwebtoken::jwk::KeyAlgorithm::RS256))
                .filter(|k| kid.is_none() || k.common.key_id.as_deref() == kid)
                .collect()
        }

        /// The cached set, whether it is older than [`MAX_AGE`], and whether a fetch may start
        /// (at most one per [`COOLDOWN`], whether it worked or not: an endpoint that is down is
        /// not asked on every request, and a stale set goes on serving meanwhile).
        fn cached(&self) -> (Option<Arc<JwkSet>>, bool, bool) {
            let cache = self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let stale = cache.set.as_ref().is_none_or(|(_, at)| at.elapsed() > MAX_AGE);
            let may_fetch = cache.tried.is_none_or(|at| at.elapsed() > COOLDOWN);
            (cache.set.as_ref().map(|(set, _)| set.clone()), stale, may_fetch)
        }

        /// The claims of a token one of the endpoint's keys verifies.
        pub(crate) async fn decode(&self, token: &str, v: &jsonwebtoken::Validation) -> Option<jsonwebtoken::TokenData<Map<String, Json>>> {
            let kid = jsonwebtoken::decode_header(token).ok()?.kid;
            let knows = |set: &Option<Arc<JwkSet>>| set.as_ref().is_some_and(|s| !Self::candidates(s, kid.as_deref()).is_empty());
            let (mut set, stale, _) = self.cached();
            let known = knows(&set);
            if stale || !known {
                let guard = if known { self.fetching.try_lock().ok() } else { Some(self.fetching.lock().await) };
                if guard.is_some() {
                    // Another request may have fetched while this one waited.
                    let (current, stale, may_fetch) = self.cached();
                    set = current;
                    if (stale || !knows(&set)) && may_fetch {
                        self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).tried = Some(Instant::now());
                        if let Some(fresh) = self.fetch().await {
                            let fresh = Arc::new(fresh);
                            self.cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).set =
                                Some((fresh.clone(), Instant::now()));
                            set = Some(fresh);
                        }
                    }
                }
            }
            let set = set?;
            Self::candidates(&set, kid.as_deref()).into_iter().find_map(|jwk| {
                let key = jsonwebtoken::DecodingKey::from_jwk(jwk).ok()?;
                jsonwebtoken::decode::<Map<String, Json>>(token, &key, v).ok()
            })
        }
    }
}
