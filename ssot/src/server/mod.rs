//! The HTTP API of SPEC §5 served from the schema on axum + sqlx, with the TypeScript server's
//! routes, query grammar, cursors, problem+json bodies and auth (feature `server`, with
//! `postgres` and/or `sqlite`):
//!
//! ```ignore
//! mod db { ssot::include_ssot!(); }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let app = ssot::server::Server::new(&db::SCHEMA)
//!         .database_url(std::env::var("DATABASE_URL")?)
//!         .router()
//!         .await?;                       // an axum::Router: merge your own routes
//!     ssot::server::serve(app).await?;
//!     Ok(())
//! }
//! ```
//!
//! Reads carry the model's `read` policy in their SQL `WHERE` (compiled by [`crate::rules`] from
//! the same policy AST the TypeScript server uses); writes check `create`, `update`, `delete`,
//! `@writable` and foreign keys inside one transaction; request bodies are checked by the
//! generated input types (`SCHEMA`'s `INPUTS`).

#[cfg(not(any(feature = "postgres", feature = "sqlite")))]
compile_error!("the `server` feature of ssot needs a database: enable `postgres` and/or `sqlite`");

#[cfg(feature = "ai")]
mod ai;
mod auth;
mod db;
mod engine;
#[cfg(feature = "postgres")]
mod external;
#[cfg(feature = "monitoring")]
mod metrics;
mod migrate;
#[cfg(feature = "payments")]
mod payments;
mod problem;
mod ratelimit;
mod realtime;
mod search;
mod wire;

#[cfg(feature = "ai")]
pub use ai::{ChatMessage, OpenAiCompatible, Provider as AiProvider, ProviderError};
pub use auth::AuthSettings;
pub use db::{OpenError, Pool};
pub use engine::Limits;
/// The future a handler of [`Payments::on`] (or an [`AiProvider`]'s call) returns:
/// `Box::pin(async move { … })`.
#[cfg(any(feature = "payments", feature = "ai"))]
pub use futures_util::future::BoxFuture;
pub use migrate::{MigrateError, Migration, Migrations};
#[cfg(feature = "payments")]
pub use payments::{Connection, HandlerResult, Payments};
pub use problem::{FieldError, HttpError};
pub use realtime::WsLimits;

use crate::rules::Claims;
use crate::schema::{Model, Source};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use engine::{Engine, Params};
use std::sync::Arc;
use std::time::Instant;

/// Everything the server reads from the environment, with the TypeScript server's names and
/// defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub auth: AuthSettings,
    /// Largest accepted request body, in bytes (`BODY_LIMIT`, 1 MiB).
    pub body_limit: usize,
    pub limits: Limits,
    /// Connections in the pool (`DATABASE_POOL_SIZE`, 10).
    pub pool_size: u32,
    /// Requests per principal (or address) and window for models without `@@rateLimit`
    /// (`RATE_LIMIT`, 600; 0 = off) and the window in seconds (`RATE_LIMIT_WINDOW`, 60).
    pub rate_limit: u32,
    pub rate_limit_window_seconds: u32,
    /// While Redis cannot count (`RATE_LIMIT_FAIL`): `open` (false, the default), each instance
    /// counts in memory; `closed` (true), requests that are counted get 503 with `Retry-After`.
    pub rate_limit_fail_closed: bool,
    /// Origins browsers may call the API from (`CORS_ORIGINS`, comma-separated; none: no CORS);
    /// also the origins WebSocket clients may connect from.
    pub cors_origins: Vec<String>,
    /// Realtime fan-out across instances (`REDIS_URL`; needs the `redis` feature).
    pub redis_url: Option<String>,
    /// The WebSocket gateway's limits.
    pub ws: WsLimits,
    /// Whether to apply the migrations given to [`Server::migrations_dir`] at start
    /// (`MIGRATE_ON_START`, true; false where a deployment step runs `prisma migrate deploy`).
    pub migrate_on_start: bool,
    /// The `external_writes` plugin: the database its notifications are read from when
    /// `DATABASE_URL` goes through a pooler that cannot LISTEN (`EXTERNAL_WRITES_URL`; none:
    /// `DATABASE_URL`).
    pub external_writes_url: Option<String>,
    /// The `monitoring` plugin: the bearer token a scraper of its metrics must send
    /// (`METRICS_TOKEN`; none: the metrics are open, and a warning says so).
    pub metrics_token: Option<String>,
}

impl Settings {
    /// From the environment: `DATABASE_URL`, `DATABASE_POOL_SIZE`, `JWT_SECRET`, `JWT_PUBLIC_KEY`, `JWKS_URL`, `JWT_ISSUER`,
    /// `JWT_AUDIENCE`, `JWT_REQUIRE_EXP`, `API_KEYS`, `BODY_LIMIT`, `DEFAULT_PAGE_SIZE`,
    /// `MAX_PAGE_SIZE`, `RATE_LIMIT`, `RATE_LIMIT_WINDOW`, `RATE_LIMIT_FAIL`, `CORS_ORIGINS`, `REDIS_URL`,
    /// `WS_MAX_MESSAGE_BYTES`, `WS_MAX_BUFFER_BYTES`, `WS_HEARTBEAT_MS`, `WS_MAX_SUBSCRIPTIONS`,
    /// `MIGRATE_ON_START`, `EXTERNAL_WRITES_URL`, `METRICS_TOKEN`.
    pub fn from_env() -> Result<Settings, String> {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        let int = |n: &str, fallback: u64| -> Result<u64, String> {
            match var(n) {
                None => Ok(fallback),
                Some(v) => v.parse().map_err(|_| format!("{n} must be a non-negative integer, got \"{v}\"")),
            }
        };
        let boolean = |n: &str| match var(n).as_deref() {
            None | Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(v) => Err(format!("{n} must be true or false, got \"{v}\"")),
        };
        let require_exp = boolean("JWT_REQUIRE_EXP")?;
        Ok(Settings {
            database_url: var("DATABASE_URL").unwrap_or_default(),
            auth: AuthSettings {
                jwt_secret: var("JWT_SECRET"),
                jwt_public_key: var("JWT_PUBLIC_KEY"),
                jwks_url: var("JWKS_URL"),
                jwt_issuer: var("JWT_ISSUER"),
                jwt_audience: var("JWT_AUDIENCE"),
                jwt_require_exp: require_exp,
                api_keys: var("API_KEYS").unwrap_or_else(|| "{}".into()),
            },
            body_limit: int("BODY_LIMIT", 1024 * 1024)? as usize,
            limits: Limits { default_page_size: int("DEFAULT_PAGE_SIZE", 20)?, max_page_size: int("MAX_PAGE_SIZE", 1000)? },
            pool_size: int("DATABASE_POOL_SIZE", 10)? as u32,
            rate_limit: int("RATE_LIMIT", 600)? as u32,
            rate_limit_window_seconds: int("RATE_LIMIT_WINDOW", 60)? as u32,
            rate_limit_fail_closed: match var("RATE_LIMIT_FAIL").as_deref() {
                None | Some("open") => false,
                Some("closed") => true,
                Some(v) => return Err(format!("RATE_LIMIT_FAIL must be open or closed, got \"{v}\"")),
            },
            cors_origins: var("CORS_ORIGINS")
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect(),
            redis_url: var("REDIS_URL"),
            ws: WsLimits {
                max_message_bytes: int("WS_MAX_MESSAGE_BYTES", 64 * 1024)? as usize,
                max_buffer_bytes: int("WS_MAX_BUFFER_BYTES", 1024 * 1024)? as usize,
                heartbeat_ms: int("WS_HEARTBEAT_MS", 30_000)?,
                max_subscriptions: int("WS_MAX_SUBSCRIPTIONS", 100)? as usize,
            },
            migrate_on_start: boolean("MIGRATE_ON_START")?,
            external_writes_url: var("EXTERNAL_WRITES_URL"),
            metrics_token: var("METRICS_TOKEN"),
        })
    }
}

/// Why the server could not start.
#[derive(thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Settings(String),
    #[error(transparent)]
    Database(#[from] OpenError),
    #[error(transparent)]
    Migrate(#[from] MigrateError),
}

/// The API of a schema, as an axum router.
pub struct Server {
    source: &'static Source,
    settings: Result<Settings, String>,
    hooks: std::collections::HashMap<String, crate::hooks::ModelHooks>,
    routes: Option<Router>,
    /// The migrations to apply at start, and where they came from (for messages).
    migrations: Option<Result<(Migrations, String), MigrateError>>,
    /// The handlers of Stripe's events (`[plugins.payments]`).
    #[cfg(feature = "payments")]
    payments: Option<Payments>,
    /// The language model's API of the `ai` plugin, when not the default.
    #[cfg(feature = "ai")]
    ai_provider: Option<Box<dyn ai::Provider>>,
}

/// As its message: `main` returning `Result<(), Box<dyn Error>>` prints `Error: <this>`.
impl std::fmt::Debug for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl Server {
    /// The server of the generated `SCHEMA`, configured from the environment.
    pub fn new(source: &'static Source) -> Self {
        Server {
            source,
            settings: Settings::from_env(),
            hooks: std::collections::HashMap::new(),
            routes: None,
            migrations: None,
            #[cfg(feature = "payments")]
            payments: None,
            #[cfg(feature = "ai")]
            ai_provider: None,
        }
    }

    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = Ok(settings);
        self
    }

    /// Before/after hooks of a model (`db::Post::hooks().before_create(...)`); several sets for
    /// one model run in the order they were added.
    pub fn hooks<R, C, U>(mut self, hooks: crate::hooks::Hooks<R, C, U>) -> Self
    where
        R: serde::de::DeserializeOwned + 'static,
        C: serde::de::DeserializeOwned + serde::Serialize + 'static,
        U: serde::de::DeserializeOwned + serde::Serialize + 'static,
    {
        let (model, h) = hooks.erase();
        let all = self.hooks.entry(model.to_owned()).or_default();
        all.before_create.extend(h.before_create);
        all.after_create.extend(h.after_create);
        all.before_update.extend(h.before_update);
        all.after_update.extend(h.after_update);
        all.before_delete.extend(h.before_delete);
        all.after_delete.extend(h.after_delete);
        self
    }

    /// Your handlers of Stripe's events for the payments plugin (`[plugins.payments]` of
    /// ssot.toml; feature `payments`): each runs in the transaction that records its event.
    /// Without them events are recorded and answered 200, as with an empty
    /// `payment_handlers.ts` in the TypeScript tree.
    #[cfg(feature = "payments")]
    pub fn payments(mut self, payments: Payments) -> Self {
        self.payments = Some(payments);
        self
    }

    /// The API the `ai` plugin's routes call (`@@service(ai, …)`; feature `ai`), instead of the
    /// default [`OpenAiCompatible::from_env`]: an adapter of your own for Anthropic, Gemini, ….
    #[cfg(feature = "ai")]
    pub fn ai_provider(mut self, provider: impl AiProvider + 'static) -> Self {
        self.ai_provider = Some(Box::new(provider));
        self
    }

    /// Your own routes, served beside the generated ones with the same request ids, logs, CORS
    /// and body limit; their handlers take the caller as a [`Principal`].
    pub fn routes(mut self, routes: Router) -> Self {
        self.routes = Some(match self.routes.take() {
            Some(r) => r.merge(routes),
            None => routes,
        });
        self
    }

    /// Applies the migrations `prisma migrate dev` wrote into `dir` (`prisma/migrations`) at
    /// start, before serving, as `prisma migrate deploy` would: each one once, recorded in
    /// `_prisma_migrations`. A SQLite database file that does not exist yet is created. A
    /// folder that cannot be read, migrations for another database, or a migration that fails
    /// stop the start ([`StartError::Migrate`]).
    pub fn migrations_dir(mut self, dir: impl AsRef<std::path::Path>) -> Self {
        let dir = dir.as_ref();
        self.migrations = Some(Migrations::from_dir(dir).map(|m| (m, dir.display().to_string())));
        self
    }

    /// [`Server::migrations_dir`] with migrations read (or embedded) by your own code.
    pub fn migrations(mut self, migrations: Migrations) -> Self {
        self.migrations = Some(Ok((migrations, "the given migrations".to_owned())));
        self
    }

    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        if let Ok(s) = &mut self.settings {
            s.database_url = url.into();
        }
        self
    }

    /// Opens the database and builds the routes of every model with an API, `/health`, `/ready`
    /// and `/openapi.json`.
    pub async fn router(self) -> Result<Router, StartError> {
        let settings = self.settings.map_err(StartError::Settings)?;
        let schema = self.source.get();
        let auth = auth::Authenticator::new(schema, settings.auth.clone()).map_err(StartError::Settings)?;
        // One Redis connection for the gateway's events and the rate limits.
        #[cfg(feature = "redis")]
        let redis: realtime::Redis = match &settings.redis_url {
            Some(url) => {
                let client = redis::Client::open(url.as_str()).map_err(|e| StartError::Settings(format!("REDIS_URL: {e}")))?;
                let conn = redis::aio::ConnectionManager::new(client.clone())
                    .await
                    .map_err(|e| StartError::Settings(format!("REDIS_URL: {e}")))?;
                Some((client, conn))
            }
            None => None,
        };
        #[cfg(not(feature = "redis"))]
        let redis: realtime::Redis = match settings.redis_url {
            Some(_) => return Err(StartError::Settings("REDIS_URL is set, but ssot was built without its `redis` feature".into())),
            None => None,
        };
        // The plugins' routes the Rust server serves: their settings, checked before the database.
        let payments = schema.plugins.get("payments").filter(|o| !o.is_null());
        #[cfg(feature = "payments")]
        let payments = match (payments, self.payments) {
            (Some(options), handlers) => {
                Some(Arc::new(payments::Running::start(schema, options, handlers.unwrap_or_default()).map_err(StartError::Settings)?))
            }
            (None, Some(_)) => {
                return Err(StartError::Settings("Server::payments was given handlers, but ssot.toml has no [plugins.payments]".into()));
            }
            (None, None) => None,
        };
        #[cfg(not(feature = "payments"))]
        if payments.is_some() {
            return Err(StartError::Settings(
                "ssot.toml has [plugins.payments], but ssot was built without its `payments` feature (its routes would be missing)".into(),
            ));
        }
        let ai = schema.plugins.get("ai").filter(|o| !o.is_null());
        #[cfg(feature = "ai")]
        let ai = match ai {
            Some(options) => Some(Arc::new(ai::Running::start(schema, options, self.ai_provider).map_err(StartError::Settings)?)),
            None => None,
        };
        #[cfg(not(feature = "ai"))]
        if ai.is_some() {
            return Err(StartError::Settings(
                "the schema uses the ai plugin, but ssot was built without its `ai` feature (its routes would be missing)".into(),
            ));
        }
        // The database last, so that a start refused for its settings changes nothing in it.
        let migrations = if settings.migrate_on_start { self.migrations.transpose()? } else { None };
        let pool = db::Pool::open(&settings.database_url, settings.pool_size.max(1), migrations.is_some()).await?;
        if let Some((m, folder)) = &migrations {
            migrate::apply(&pool, m, folder).await?;
        }
        let types = pool.column_types().await.map_err(OpenError::Connect)?;
        // The WebSocket gateway, when a model has `@@realtime`.
        let realtime = schema.models.values().any(|m| m.api && m.realtime.is_some());
        let events = if realtime { Some(realtime::Bus::open(redis.clone()).await.map_err(StartError::Settings)?) } else { None };
        #[cfg(feature = "monitoring")]
        let metrics = match schema.plugins.get("monitoring").filter(|o| !o.is_null()) {
            Some(options) => Some(Arc::new(metrics::Metrics::new(options, settings.metrics_token.clone()).map_err(StartError::Settings)?)),
            None => None,
        };
        let full_text = match schema.plugins.get("search").filter(|o| !o.is_null()) {
            Some(options) => search::FullText::start(&pool, options).await.map_err(StartError::Settings)?,
            None => search::FullText::default(),
        };
        let engine = Engine {
            schema,
            source: self.source,
            full_text,
            dialect: pool.dialect(),
            pool,
            types,
            limits: settings.limits,
            hooks: self.hooks,
            events,
            #[cfg(feature = "monitoring")]
            metrics,
        };
        let limits = ratelimit::RateLimits::new(settings.rate_limit, settings.rate_limit_window_seconds);
        #[cfg(feature = "redis")]
        let limits = match redis {
            Some((_, conn)) => limits.with_redis(conn, settings.rate_limit_fail_closed),
            None => limits,
        };
        let state = Arc::new(App { engine, auth, limits, settings: settings.clone() });
        plugins(&state, schema)?;
        // As the TypeScript server sends it: the document compact, numbers as JavaScript writes them.
        let openapi = self.source.openapi().map_or_else(|| "{}".to_owned(), wire::compact);
        let mut router: Router<Arc<App>> = Router::new();
        for m in schema.models.values().filter(|m| m.api) {
            router = model_routes(router, m);
        }
        if realtime {
            router = router.route("/ws", get(realtime::upgrade));
        }
        #[cfg(feature = "payments")]
        if let Some(p) = payments {
            router = payment_routes(router, p);
        }
        #[cfg(feature = "ai")]
        if let Some(ai) = ai {
            router = ai_routes(router, ai);
        }
        #[cfg(feature = "monitoring")]
        if let Some(m) = state.engine.metrics.clone() {
            let path = m.path.clone();
            let scrape = move |uri: Uri, headers: HeaderMap| async move { m.scrape(&headers, uri.path(), &request_id(&headers)) };
            router = router.route(&path, with_405(get(scrape), vec!["GET"]));
        }
        let router = router
            .route("/openapi.json", get(move || async move { json(StatusCode::OK, openapi) }))
            .route("/health", get(|| async { json(StatusCode::OK, r#"{"status":"ok"}"#.into()) }))
            .route(
                "/ready",
                get(|State(app): State<Arc<App>>| async move {
                    if DRAINING.load(std::sync::atomic::Ordering::SeqCst) {
                        json(StatusCode::SERVICE_UNAVAILABLE, r#"{"status":"shutting down"}"#.into())
                    } else if app.engine.pool.ping().await {
                        json(StatusCode::OK, r#"{"status":"ready"}"#.into())
                    } else {
                        json(StatusCode::SERVICE_UNAVAILABLE, r#"{"status":"database unreachable"}"#.into())
                    }
                }),
            )
            .with_state(state.clone())
            .merge(self.routes.unwrap_or_default())
            .fallback(|uri: Uri, headers: HeaderMap| async move {
                HttpError::new(404, "No such route.").response(uri.path(), &request_id(&headers))
            })
            .layer(DefaultBodyLimit::max(settings.body_limit))
            .layer(axum::middleware::from_fn_with_state(state, request_ids));
        Ok(if settings.cors_origins.is_empty() { router } else { router.layer(cors(&settings.cors_origins)?) })
    }
}

/// CORS for the configured origins, as the TypeScript server's `cors` middleware answers: the
/// usual methods, the request's headers allowed, `x-request-id` and `retry-after` exposed.
fn cors(origins: &[String]) -> Result<tower_http::cors::CorsLayer, StartError> {
    use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};
    let origins = origins
        .iter()
        .map(|o| HeaderValue::from_str(o).map_err(|_| StartError::Settings(format!("CORS_ORIGINS: {o} is not an origin"))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::HEAD, Method::PUT, Method::PATCH, Method::POST, Method::DELETE])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([axum::http::HeaderName::from_static("x-request-id"), axum::http::HeaderName::from_static("retry-after")]))
}

struct App {
    engine: Engine,
    auth: auth::Authenticator,
    limits: ratelimit::RateLimits,
    settings: Settings,
}

/// The caller's address (from the connection; `unknown` without one, as in tests).
#[derive(Debug, Clone)]
struct ClientIp(String);

fn json(status: StatusCode, body: String) -> Response {
    (status, [("content-type", "application/json; charset=utf-8")], body).into_response()
}

/// The caller's `x-request-id` when it looks like one, else a new UUID.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b)))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned)
}

/// The most bytes of request line and headers a request may have (431 above): the TypeScript
/// server's limit (Node's `maxHeaderSize` of 64 KiB, so that long filter query strings fit).
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// The request line and headers as sent: `GET /path HTTP/1.1` and `name: value` lines.
fn head_bytes(req: &axum::extract::Request) -> usize {
    let line = req.method().as_str().len() + req.uri().to_string().len() + 12;
    req.headers().iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum::<usize>() + line
}

/// Headers on every response, as helmet's defaults would set them for a JSON API (the
/// TypeScript server sends the same): no content sniffing, no framing, nothing loaded or run
/// from a response, no referrer, HTTPS remembered.
const SECURITY_HEADERS: [(&str, &str); 8] = [
    ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("referrer-policy", "no-referrer"),
    ("strict-transport-security", "max-age=31536000; includeSubDomains"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("x-permitted-cross-domain-policies", "none"),
];

/// Gives every request an id (echoed as `x-request-id`), the [`SECURITY_HEADERS`], and logs one
/// line per request.
async fn request_ids(State(app): State<Arc<App>>, mut req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if head_bytes(&req) > MAX_HEADER_BYTES {
        // Before anything reads them (the id is not taken from headers this large).
        let id = uuid::Uuid::new_v4().to_string();
        tracing::info!(request_id = %id, method = %req.method(), status = 431, "request headers too large");
        return HttpError::new(431, "The request's headers are too large.").response(req.uri().path(), &id);
    }
    #[cfg(feature = "monitoring")]
    let metrics = app.engine.metrics.clone();
    req.extensions_mut().insert(app);
    let id = request_id(req.headers());
    if let Ok(v) = HeaderValue::from_str(&id) {
        req.headers_mut().insert("x-request-id", v);
    }
    let ip = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
    req.extensions_mut().insert(ClientIp(ip));
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    #[cfg(feature = "monitoring")]
    let route = req.extensions().get::<axum::extract::MatchedPath>().map(|p| p.as_str().to_owned());
    let started = Instant::now();
    let mut res = next.run(req).await;
    #[cfg(feature = "monitoring")]
    if let Some(m) = &metrics {
        m.request(method.as_str(), route.as_deref(), res.status().as_u16(), started.elapsed().as_secs_f64());
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    for (name, value) in SECURITY_HEADERS {
        res.headers_mut().insert(name, HeaderValue::from_static(value));
    }
    tracing::info!(request_id = %id, method = %method, path = %path, status = res.status().as_u16(), duration_ms = started.elapsed().as_secs_f64() * 1000.0, "request");
    res
}

/// What a handler needs of a request.
struct Call {
    app: Arc<App>,
    headers: HeaderMap,
    path: String,
    request_id: String,
    auth: Claims,
}

impl Call {
    async fn new(
        app: Arc<App>,
        model: &'static Model,
        uri: &Uri,
        headers: &HeaderMap,
        ip: Option<&axum::Extension<ClientIp>>,
    ) -> Result<Call, Box<Response>> {
        let request_id = request_id(headers);
        let path = uri.path().to_owned();
        let ip = ip.map_or("unknown", |e| e.0.0.as_str());
        let fail = |e: HttpError| Box::new(e.response(&path, &request_id));
        let auth = match app.auth.authenticate(headers, &model.auth).await {
            Ok(auth) => auth,
            Err(e) => {
                // Wrong credentials count against the caller's address (guessing keys is rate
                // limited); a request with none is simply told to authenticate.
                if headers.contains_key("authorization") || headers.contains_key("x-api-key") {
                    app.limits.consume(model, &format!("ip:{ip}")).await.map_err(fail)?;
                }
                return Err(fail(e));
            }
        };
        let key = match auth::Authenticator::describe(&auth) {
            Some(principal) => format!("principal:{principal}"),
            None => format!("ip:{ip}"),
        };
        app.limits.consume(model, &key).await.map_err(fail)?;
        Ok(Call { app, headers: headers.clone(), path, request_id, auth })
    }

    /// The hooks' view of the request.
    fn context(&self) -> crate::hooks::Context {
        crate::hooks::Context { auth: self.auth.clone(), request_id: self.request_id.clone(), pool: Some(self.app.engine.pool.clone()) }
    }

    fn answer(&self, r: Result<(StatusCode, String), HttpError>) -> Response {
        match r {
            Ok((status, _)) if status == StatusCode::NO_CONTENT => status.into_response(),
            Ok((status, body)) => json(status, body),
            Err(e) => e.response(&self.path, &self.request_id),
        }
    }
}

fn params(raw: Option<String>) -> Params {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// The body's bytes: 413 over the limit, otherwise a body that could not be read is a 400 with
/// `unreadable` as its detail.
fn body_bytes(body: Result<Bytes, axum::extract::rejection::BytesRejection>, unreadable: &str) -> Result<Bytes, HttpError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            HttpError::new(413, "The request body is too large.")
        } else {
            HttpError::new(400, unreadable)
        }
    })
}

/// A JSON body in UTF-8, as the TypeScript server takes it: 415 for another media type or
/// charset, 413 over the limit, 400 for text that is not JSON; no body at all is `null` (which
/// the engine answers with 400, not a JSON object).
fn body_json(headers: &HeaderMap, body: Result<Bytes, axum::extract::rejection::BytesRejection>) -> Result<serde_json::Value, HttpError> {
    let ty = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    let essence = ty.split(';').next().unwrap_or_default().trim();
    let json_type = essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"));
    let charset = ty.split(';').skip(1).find_map(|p| p.trim().strip_prefix("charset=").map(|c| c.trim_matches('"').to_owned()));
    let bytes = body_bytes(body, "The request body is not valid JSON.")?;
    // No body at all is not a media-type question: it is not a JSON object (as in TypeScript).
    if bytes.is_empty() && !json_type {
        return Ok(serde_json::Value::Null);
    }
    if !json_type || charset.is_some_and(|c| c != "utf-8" && c != "utf8") {
        return Err(HttpError::new(415, "The request body must be JSON in UTF-8 (application/json)."));
    }
    serde_json::from_slice(&bytes).map_err(|_| HttpError::new(400, "The request body is not valid JSON."))
}

/// The routes of one model: list, count, search, one row by id (get, update, delete), create,
/// and what the caller may do with the model and with a row (`permissions`).
fn model_routes(router: Router<Arc<App>>, m: &'static Model) -> Router<Arc<App>> {
    type Body = Result<Bytes, axum::extract::rejection::BytesRejection>;
    type Ids = Path<Vec<(String, String)>>;
    // A handler: authenticate and count the request, run `$run` with the call, answer.
    macro_rules! handler {
        (|$call:ident $(, $arg:pat => $ty:ty)*| $run:expr) => {
            move |State(app): State<Arc<App>>, ip: Option<axum::Extension<ClientIp>>, uri: Uri, headers: HeaderMap, $($arg: $ty),*| async move {
                let $call = match Call::new(app, m, &uri, &headers, ip.as_ref()).await {
                    Ok(c) => c,
                    Err(r) => return *r,
                };
                let r: Result<(StatusCode, String), HttpError> = $run;
                $call.answer(r)
            }
        };
    }
    let base = format!("/api/{}", m.path);
    let one = format!("{base}/{}", m.id.iter().map(|f| format!("{{{f}}}")).collect::<Vec<_>>().join("/"));
    let list = handler!(|c, RawQuery(q) => RawQuery| c.app.engine.list(m, &params(q), &c.auth).await.map(|b| (StatusCode::OK, b)));
    let count = handler!(|c, RawQuery(q) => RawQuery| c.app.engine.count(m, &params(q), &c.auth).await.map(|b| (StatusCode::OK, b)));
    let create = handler!(|c, body => Body| match body_json(&c.headers, body) {
        Ok(body) => c.app.engine.create(m, &body, &c.context()).await.map(|b| (StatusCode::CREATED, b)),
        Err(e) => Err(e),
    });
    let mut base_route: MethodRouter<Arc<App>> = get(list);
    let mut base_methods = vec!["GET"];
    if !m.view {
        base_route = base_route.post(create);
        base_methods.push("POST");
    }
    let permissions = handler!(|c| c.app.engine.permissions(m, None, &c.auth).await.map(|b| (StatusCode::OK, b)));
    let mut router = router
        .route(&base, with_405(base_route, base_methods))
        .route(&format!("{base}/count"), with_405(get(count), vec!["GET"]))
        .route(&format!("{base}/permissions"), with_405(get(permissions), vec!["GET"]));
    if m.search.is_some() {
        let search = handler!(|c, RawQuery(q) => RawQuery| c.app.engine.search(m, &params(q), &c.auth).await.map(|b| (StatusCode::OK, b)));
        router = router.route(&format!("{base}/search"), with_405(get(search), vec!["GET"]));
    }
    if !m.view && !m.id.is_empty() {
        let get_one = handler!(|c, Path(ids) => Ids, RawQuery(q) => RawQuery| match c.app.engine.parse_id(m, &ordered(m, ids)) {
            Ok(id) => c.app.engine.get(m, &id, &params(q), &c.auth).await.map(|b| (StatusCode::OK, b)),
            Err(e) => Err(e),
        });
        let update = handler!(|c, Path(ids) => Ids, body => Body| match (c.app.engine.parse_id(m, &ordered(m, ids)), body_json(&c.headers, body)) {
            (Ok(id), Ok(body)) => c.app.engine.update(m, &id, &body, &c.context()).await.map(|b| (StatusCode::OK, b)),
            (Err(e), _) | (_, Err(e)) => Err(e),
        });
        let delete = handler!(|c, Path(ids) => Ids| match c.app.engine.parse_id(m, &ordered(m, ids)) {
            Ok(id) => c.app.engine.delete(m, &id, &c.context()).await.map(|()| (StatusCode::NO_CONTENT, String::new())),
            Err(e) => Err(e),
        });
        let row_permissions = handler!(|c, Path(ids) => Ids| match c.app.engine.parse_id(m, &ordered(m, ids)) {
            Ok(id) => c.app.engine.permissions(m, Some(&id), &c.auth).await.map(|b| (StatusCode::OK, b)),
            Err(e) => Err(e),
        });
        router = router
            .route(&one, with_405(get(get_one).patch(update).delete(delete), vec!["GET", "PATCH", "DELETE"]))
            .route(&format!("{one}/permissions"), with_405(get(row_permissions), vec!["GET"]));
    }
    router
}

/// The payments plugin's routes: the checkout for a signed-in caller (`[auth] default`, like
/// your own routes) and Stripe's webhook (no credentials: the signature is the check).
#[cfg(feature = "payments")]
fn payment_routes(router: Router<Arc<App>>, p: Arc<payments::Running>) -> Router<Arc<App>> {
    type Body = Result<Bytes, axum::extract::rejection::BytesRejection>;
    let (checkout_path, webhook_path) = (format!("{}/checkout", p.path), format!("{}/webhook", p.path));
    let q = p.clone();
    let checkout = move |State(app): State<Arc<App>>, uri: Uri, headers: HeaderMap, body: Body| async move {
        let run = async {
            let auth = app.auth.authenticate(&headers, &app.engine.schema.auth.default).await?;
            let Some(principal) = auth::Authenticator::describe(&auth) else {
                return Err(HttpError::new(401, "Sign in to check out.").with_header("www-authenticate", "Bearer"));
            };
            q.checkout(&principal, &body_json(&headers, body)?).await
        };
        match run.await {
            Ok(session) => json(StatusCode::CREATED, session),
            Err(e) => e.response(uri.path(), &request_id(&headers)),
        }
    };
    let webhook = move |State(app): State<Arc<App>>, uri: Uri, headers: HeaderMap, body: Body| async move {
        let run = async {
            let raw = body_bytes(body, "The event has no Stripe-Signature or no body.")?;
            let signature = headers.get("stripe-signature").and_then(|v| v.to_str().ok());
            p.webhook(&app.engine, signature, &raw).await
        };
        match run.await {
            Ok(answer) => json(StatusCode::OK, answer),
            Err(e) => e.response(uri.path(), &request_id(&headers)),
        }
    };
    router
        .route(&checkout_path, with_405(axum::routing::post(checkout), vec!["POST"]))
        .route(&webhook_path, with_405(axum::routing::post(webhook), vec!["POST"]))
}

/// The `ai` plugin's routes, `POST /api/<models>/<id>/ai/<name>`: for a caller the model's auth
/// lets in, counted against the task's own rate limit, on the row as the caller may read it.
#[cfg(feature = "ai")]
fn ai_routes(mut router: Router<Arc<App>>, ai: Arc<ai::Running>) -> Router<Arc<App>> {
    type Body = Result<Bytes, axum::extract::rejection::BytesRejection>;
    for (i, task) in ai.tasks.iter().enumerate() {
        let m = task.model;
        let ids = m.id.iter().map(|f| format!("{{{f}}}")).collect::<Vec<_>>().join("/");
        let path = format!("/api/{}/{ids}/ai/{}", m.path, task.name);
        let ai = ai.clone();
        let handler = move |State(app): State<Arc<App>>,
                            ip: Option<axum::Extension<ClientIp>>,
                            uri: Uri,
                            headers: HeaderMap,
                            Path(ids): Path<Vec<(String, String)>>,
                            body: Body| async move {
            let task = &ai.tasks[i];
            let run = async {
                let auth = app.auth.authenticate(&headers, &m.auth).await?;
                let key = match auth::Authenticator::describe(&auth) {
                    Some(principal) => format!("principal:{principal}"),
                    None => format!("ip:{}", ip.as_ref().map_or("unknown", |e| e.0.0.as_str())),
                };
                app.limits.consume(task.limit, &key).await?;
                let input = ai.input(task, &body_json(&headers, body)?)?;
                let id = app.engine.parse_id(m, &ordered(m, ids))?;
                // The row as the caller may see it: 404 when they may not read it, without the
                // fields they may not read.
                let row = app.engine.get(m, &id, &Params::new(), &auth).await?;
                ai.answer(task, &row, input).await
            };
            match run.await {
                Ok(answer) => json(StatusCode::OK, answer),
                Err(e) => e.response(uri.path(), &request_id(&headers)),
            }
        };
        router = router.route(&path, with_405(axum::routing::post(handler), vec!["POST"]));
    }
    router
}

/// The texts of a plugin option that is a list (`prices`, `fields`); none when it is not one.
#[cfg(any(feature = "ai", feature = "payments"))]
fn strings(options: &serde_json::Value, key: &str) -> Vec<String> {
    options
        .get(key)
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// Path parameters in the order of the model's id fields.
fn ordered(m: &Model, ids: Vec<(String, String)>) -> Vec<String> {
    m.id.iter().map(|f| ids.iter().find(|(k, _)| k == f).map(|(_, v)| v.clone()).unwrap_or_default()).collect()
}

/// 405 with `Allow` (problem+json) for another method on a known path.
fn with_405(route: MethodRouter<Arc<App>>, methods: Vec<&'static str>) -> MethodRouter<Arc<App>> {
    let allow = methods.join(", ");
    route.fallback(move |uri: Uri, headers: HeaderMap, method: Method| async move {
        let _ = method;
        let mut res = HttpError::new(405, "This path does not take that method.").response(uri.path(), &request_id(&headers));
        if let Ok(v) = HeaderValue::from_str(&allow) {
            res.headers_mut().insert("allow", v);
        }
        res
    })
}

/// The caller of one of your own routes (see [`Server::routes`]), authenticated as requests to
/// a model without `@@auth` are (`[auth] default`): its claims, `None` for an anonymous caller
/// where the default allows `public`. A request it cannot authenticate is answered with the
/// same 401 problem as the generated routes give.
#[derive(Debug, Clone)]
pub struct Principal(pub Claims);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Principal {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Response> {
        let id = request_id(&parts.headers);
        let Some(app) = parts.extensions.get::<Arc<App>>().cloned() else {
            tracing::error!("ssot::server::Principal on a route not registered with Server::routes");
            return Err(HttpError::internal().response(parts.uri.path(), &id));
        };
        app.auth
            .authenticate(&parts.headers, &app.engine.schema.auth.default)
            .await
            .map(Principal)
            .map_err(|e| e.response(parts.uri.path(), &id))
    }
}

/// The server's database pool in one of your own routes (see [`Server::routes`]), for queries
/// of your own: `Database(Pool::Postgres(pool))` on PostgreSQL, `Pool::Sqlite` on SQLite. Your
/// queries do not go through the policies: check what the [`Principal`] may do yourself.
#[derive(Debug, Clone)]
pub struct Database(pub Pool);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Database {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Response> {
        match parts.extensions.get::<Arc<App>>() {
            Some(app) => Ok(Database(app.engine.pool.clone())),
            None => {
                tracing::error!("ssot::server::Database on a route not registered with Server::routes");
                Err(HttpError::internal().response(parts.uri.path(), &request_id(&parts.headers)))
            }
        }
    }
}

/// Starts the plugins the Rust server runs (`external_writes`) and names those whose server part
/// only the TypeScript server has.
fn plugins(app: &Arc<App>, schema: &crate::schema::Schema) -> Result<(), StartError> {
    for (name, options) in schema.plugins.iter().filter(|(_, o)| !o.is_null()) {
        match (name.as_str(), app.engine.pool.dialect()) {
            #[cfg(feature = "postgres")]
            ("external_writes", crate::rules::Dialect::Postgres) => {
                let options = external::Options::parse(options).map_err(StartError::Settings)?;
                let url = app.settings.external_writes_url.as_deref().unwrap_or(&app.settings.database_url);
                external::start(app.clone(), options, url, app.settings.redis_url.is_some()).map_err(StartError::Settings)?;
            }
            #[cfg(feature = "monitoring")]
            ("monitoring", _) => {} // in `router`: the metrics are made before the engine
            ("search", _) => {}          // in `router`: the engine holds the indexes
            ("payments" | "ai", _) => {} // in `router`: their routes
            ("external_writes", _) => {
                let _ = options;
                tracing::warn!("external writes: needs PostgreSQL (LISTEN/NOTIFY); writes outside the API are not reported")
            }
            (other, _) => {
                tracing::warn!(plugin = other, "the Rust server does not run this plugin's part of the server (the TypeScript server does)")
            }
        }
    }
    Ok(())
}

/// Set when a shutdown began: `/ready` answers 503 from then on.
static DRAINING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Serves `router` on `HOST`:`PORT` (127.0.0.1:3000 by default) until SIGTERM or Ctrl-C. Then
/// `/ready` answers 503 while requests are still served for `SHUTDOWN_DELAY_MS` (default 0: the
/// time a load balancer needs to stop sending new ones), then the server stops accepting, lets
/// requests in flight finish and closes WebSockets with 1001.
pub async fn serve(router: Router) -> std::io::Result<()> {
    let host = std::env::var("HOST").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| "127.0.0.1".into());
    let port = std::env::var("PORT").ok().filter(|p| !p.is_empty()).unwrap_or_else(|| "3000".into());
    let listener = tokio::net::TcpListener::bind(format!("{host}:{port}")).await?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    serve_on(listener, router).await
}

/// [`serve`] on a listener of your own.
pub async fn serve_on(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    let delay = match std::env::var("SHUTDOWN_DELAY_MS").ok().filter(|v| !v.is_empty()) {
        None => 0,
        Some(v) => v.parse::<u64>().map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("SHUTDOWN_DELAY_MS must be a non-negative integer, got \"{v}\""))
        })?,
    };
    // With the peer's address: anonymous callers are rate limited by it.
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown().await;
            DRAINING.store(true, std::sync::atomic::Ordering::SeqCst);
            tracing::info!(delay_ms = delay, "shutting down: /ready answers 503");
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            // WebSocket clients are told 1001 (their SDK reconnects elsewhere).
            realtime::going_away_now();
        })
        .await?;
    realtime::drained(std::time::Duration::from_secs(3)).await;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
