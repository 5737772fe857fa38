//! The Rust server on the blog schema and a real SQLite database (tables as Prisma creates them
//! there): routes, policies in SQL, field rules, includes, cursors, writes checked in a
//! transaction, and problem+json for every error. Responses are compared byte for byte with
//! what the TypeScript server sends for the same rows.

mod db {
    ssot::ssot!("../examples/blog/schema.prisma");
}

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

const SECRET: &str = "server-test-secret-0123456789abcdef";

const DDL: &str = r#"
CREATE TABLE "User" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "email" TEXT NOT NULL, "name" TEXT,
  "role" TEXT NOT NULL DEFAULT 'USER', "passwordHash" TEXT NOT NULL, "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" DATETIME NOT NULL);
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
CREATE TABLE "Post" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "title" TEXT NOT NULL, "slug" TEXT NOT NULL, "body" TEXT,
  "published" BOOLEAN NOT NULL DEFAULT false, "views" INTEGER NOT NULL DEFAULT 0, "reviewNote" TEXT, "rating" DECIMAL,
  "publishedAt" DATETIME, "cover" TEXT, "authorId" INTEGER NOT NULL,
  CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE);
CREATE UNIQUE INDEX "Post_slug_key" ON "Post"("slug");
CREATE TABLE "Comment" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "body" TEXT NOT NULL, "postId" INTEGER NOT NULL,
  "authorId" INTEGER NOT NULL, "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT "Comment_postId_fkey" FOREIGN KEY ("postId") REFERENCES "Post" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT "Comment_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User" ("id") ON DELETE RESTRICT ON UPDATE CASCADE);
CREATE TABLE "Tag" ("id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, "name" TEXT NOT NULL);
CREATE UNIQUE INDEX "Tag_name_key" ON "Tag"("name");
CREATE TABLE "Subscription" ("id" TEXT NOT NULL PRIMARY KEY, "userId" INTEGER NOT NULL, "status" TEXT NOT NULL,
  "updatedAt" DATETIME NOT NULL);
CREATE TABLE "_PostToTag" ("A" INTEGER NOT NULL, "B" INTEGER NOT NULL,
  CONSTRAINT "_PostToTag_A_fkey" FOREIGN KEY ("A") REFERENCES "Post" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT "_PostToTag_B_fkey" FOREIGN KEY ("B") REFERENCES "Tag" ("id") ON DELETE CASCADE ON UPDATE CASCADE);
INSERT INTO "User" ("id", "email", "name", "role", "passwordHash", "createdAt", "updatedAt") VALUES
  (1, 'ada@example.com', 'Ada', 'USER', 'h1', '2024-01-31T09:30:00.000+00:00', '2024-01-31T09:30:00.000+00:00'),
  (2, 'bob@example.com', NULL, 'USER', 'h2', '2024-01-31T09:30:00.000+00:00', '2024-01-31T09:30:00.000+00:00'),
  (3, 'eve@example.com', 'Eve', 'ADMIN', 'h3', '2024-01-31T09:30:00.000+00:00', '2024-01-31T09:30:00.000+00:00');
INSERT INTO "Post" ("id", "title", "slug", "body", "published", "views", "reviewNote", "rating", "publishedAt", "authorId") VALUES
  (1, 'Hello world', 'hello', NULL, 1, 3, 'fine', 4.5, '2024-02-01T10:00:00.250+00:00', 1),
  (2, 'Ada''s draft', 'draft', 'secret', 0, 0, NULL, NULL, NULL, 1),
  (3, 'Bob''s draft', 'bob', 'mine', 0, 0, NULL, 1.25, NULL, 2);
INSERT INTO "Comment" ("id", "body", "postId", "authorId", "createdAt") VALUES
  (1, 'Nice', 1, 2, '2024-02-02T00:00:00.000+00:00'), (2, 'Hidden', 2, 1, '2024-02-02T00:00:00.000+00:00');
INSERT INTO "Tag" ("id", "name") VALUES (1, 'rust'), (2, 'ts');
INSERT INTO "_PostToTag" ("A", "B") VALUES (1, 1), (1, 2), (2, 1);
"#;

struct Api {
    router: axum::Router,
    _dir: std::path::PathBuf,
}

async fn api() -> Api {
    api_with(|s| s).await
}

async fn api_with(configure: impl FnOnce(ssot::server::Server) -> ssot::server::Server) -> Api {
    // The server's errors in the test's output.
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let dir = std::env::temp_dir().join(format!("ssot-server-{}-{}", std::process::id(), rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("blog.db");
    let url = format!("sqlite:{}", file.display());
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&file).create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::raw_sql(DDL).execute(&pool).await.unwrap();
    pool.close().await;
    let settings = settings(url);
    let router = configure(ssot::server::Server::new(&db::SCHEMA).settings(settings)).router().await.unwrap();
    Api { router, _dir: dir }
}

fn settings(url: String) -> ssot::server::Settings {
    ssot::server::Settings {
        database_url: url,
        auth: ssot::server::AuthSettings {
            jwt_secret: Some(SECRET.into()),
            jwt_require_exp: true,
            api_keys: r#"{"key-of-eve": {"id": 3, "role": "ADMIN"}}"#.into(),
            ..Default::default()
        },
        body_limit: 10_000,
        limits: ssot::server::Limits { default_page_size: 20, max_page_size: 100 },
        pool_size: 2,
        rate_limit: 600,
        rate_limit_window_seconds: 60,
        rate_limit_fail_closed: false,
        cors_origins: vec!["http://app.test".into()],
        redis_url: None,
        ws: ssot::server::WsLimits::default(),
        migrate_on_start: true,
        external_writes_url: None,
        metrics_token: None,
    }
}

fn token(claims: Value) -> String {
    let mut claims = claims;
    claims["exp"] = json!(chrono::Utc::now().timestamp() + 600);
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()).unwrap();
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), &claims, &key).unwrap()
}

fn bob() -> Option<String> {
    Some(token(json!({ "sub": 2, "role": "USER" })))
}

struct Res {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
}

impl Res {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

impl Api {
    async fn call(&self, method: &str, path: &str, bearer: Option<String>, body: Option<Value>) -> Res {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = bearer {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let body = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Body::from(b.to_string())
            }
            None => Body::empty(),
        };
        let res = self.router.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Res { status, headers, text: String::from_utf8(bytes.to_vec()).unwrap() }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_follow_the_read_policy_and_field_rules() {
    let api = api().await;
    // Bob sees the published post and his own draft, not Ada's draft; reviewNote is for editors.
    let list = api.call("GET", "/api/posts", bob(), None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(
        list.text,
        r#"{"data":[{"id":1,"title":"Hello world","slug":"hello","body":null,"published":true,"views":3,"rating":"4.5","publishedAt":"2024-02-01T10:00:00.250Z","cover":null,"authorId":1},{"id":3,"title":"Bob's draft","slug":"bob","body":"mine","published":false,"views":0,"rating":"1.25","publishedAt":null,"cover":null,"authorId":2}],"meta":{"total":2,"nextCursor":null}}"#
    );
    assert!(list.headers.get("x-request-id").is_some());
    assert_eq!(api.call("GET", "/api/posts/count", bob(), None).await.text, r#"{"count":2}"#);
    let hidden = api.call("GET", "/api/posts/2", bob(), None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(hidden.headers["content-type"], "application/problem+json");
    let p = hidden.json();
    assert_eq!((p["status"].as_u64(), p["title"].as_str(), p["instance"].as_str()), (Some(404), Some("Not Found"), Some("/api/posts/2")));
    assert_eq!(p["requestId"].as_str(), hidden.headers["x-request-id"].to_str().ok());

    // An admin reads everything, reviewNote included. Post takes only JWTs (`@@auth(jwt)`);
    // the public Tag takes the admin's API key.
    let key = |path: &str| Request::builder().uri(path).header("x-api-key", "key-of-eve").body(Body::empty()).unwrap();
    assert_eq!(api.router.clone().oneshot(key("/api/posts/2")).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(api.router.clone().oneshot(key("/api/tags")).await.unwrap().status(), StatusCode::OK);
    let admin = api.call("GET", "/api/posts/2", Some(token(json!({ "id": 3, "role": "ADMIN" }))), None).await.json();
    assert_eq!(admin["title"], "Ada's draft");
    assert!(admin.as_object().unwrap().contains_key("reviewNote"));

    // Filters, sorting, cursors.
    let found = api.call("GET", "/api/posts?filter[title][contains]=draft&orderBy=-id", bob(), None).await.json();
    assert_eq!(found["data"].as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect::<Vec<_>>(), [3]);
    let first = api.call("GET", "/api/posts?take=1", bob(), None).await.json();
    let cursor = first["meta"]["nextCursor"].as_str().unwrap().to_owned();
    let next = api.call("GET", &format!("/api/posts?take=1&cursor={cursor}"), bob(), None).await.json();
    assert_eq!((first["data"][0]["id"].as_i64(), next["data"][0]["id"].as_i64()), (Some(1), Some(3)));
    assert_eq!(next["meta"]["nextCursor"], Value::Null);
    let bad = api.call("GET", "/api/posts?filter[nope][equals]=1", bob(), None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["errors"][0]["path"], "filter[nope][equals]");
    assert_eq!(api.call("GET", "/api/posts?take=-1", bob(), None).await.status, StatusCode::BAD_REQUEST);

    // Includes: the author without the email Bob may not read, tags through the join table,
    // comments filtered by their own read policy.
    let one = api.call("GET", "/api/posts/1?include=author,tags,comments", bob(), None).await;
    assert_eq!(
        one.text,
        r#"{"id":1,"title":"Hello world","slug":"hello","body":null,"published":true,"views":3,"rating":"4.5","publishedAt":"2024-02-01T10:00:00.250Z","cover":null,"authorId":1,"author":{"id":1,"name":"Ada","role":"USER","createdAt":"2024-01-31T09:30:00.000Z","updatedAt":"2024-01-31T09:30:00.000Z"},"tags":[{"id":1,"name":"rust"},{"id":2,"name":"ts"}],"comments":[{"id":1,"body":"Nice","postId":1,"authorId":2,"createdAt":"2024-02-02T00:00:00.000Z"}]}"#
    );
    let me = api.call("GET", "/api/users/2", bob(), None).await.json();
    assert_eq!(me["email"], "bob@example.com");
    assert!(!me.as_object().unwrap().contains_key("passwordHash"));

    // Credentials.
    let anonymous = api.call("GET", "/api/posts", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers["www-authenticate"], "Bearer");
    assert_eq!(api.call("GET", "/api/posts", Some("not-a-token".into()), None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(api.call("GET", "/api/tags", None, None).await.status, StatusCode::OK, "Tag is public");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_are_checked_in_a_transaction() {
    let api = api().await;
    let created = api
        .call("POST", "/api/posts", bob(), Some(json!({ "title": "New post", "slug": "new-post", "authorId": 2, "rating": "2.50" })))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let row = created.json();
    assert_eq!((row["title"].as_str(), row["rating"].as_str(), row["published"].as_bool()), (Some("New post"), Some("2.5"), Some(false)));
    let id = row["id"].as_i64().unwrap();
    assert_eq!(api.call("GET", &format!("/api/posts/{id}"), bob(), None).await.text, created.text);

    // Someone else's authorId: the create policy fails and nothing stays.
    let forged = api.call("POST", "/api/posts", bob(), Some(json!({ "title": "Forged", "slug": "forged", "authorId": 1 }))).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text);
    let admin = Some(token(json!({ "id": 3, "role": "ADMIN" })));
    assert_eq!(api.call("GET", "/api/posts?filter[slug][equals]=forged", admin.clone(), None).await.json()["meta"]["total"], 0);

    // Validation by the generated input types, with field paths.
    let invalid = api.call("POST", "/api/posts", bob(), Some(json!({ "title": "ab", "slug": "Not A Slug", "authorId": 2 }))).await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    let paths: Vec<String> = invalid.json()["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap().to_owned()).collect();
    assert_eq!(paths, ["title", "slug"]);
    let unknown = api.call("POST", "/api/posts", bob(), Some(json!({ "title": "abc", "slug": "x", "authorId": 2, "nope": 1 }))).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let conflict = api.call("POST", "/api/posts", bob(), Some(json!({ "title": "Again", "slug": "new-post", "authorId": 2 }))).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT, "unique slug");

    // Update: own rows only; a @writable field needs its rule.
    let updated = api.call("PATCH", "/api/posts/3", bob(), Some(json!({ "title": "Bob's post", "published": true }))).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.text);
    assert_eq!(updated.json()["published"], true);
    assert_eq!(api.call("PATCH", "/api/posts/1", bob(), Some(json!({ "title": "Mine now" }))).await.status, StatusCode::FORBIDDEN);
    assert_eq!(api.call("PATCH", "/api/posts/2", bob(), Some(json!({ "title": "Unseen" }))).await.status, StatusCode::NOT_FOUND);
    let promote = api.call("PATCH", "/api/users/2", bob(), Some(json!({ "role": "ADMIN" }))).await;
    assert_eq!(promote.status, StatusCode::FORBIDDEN);
    assert_eq!(promote.json()["detail"], "You may not set role.");
    let renamed = api.call("PATCH", "/api/users/2", bob(), Some(json!({ "name": "Bob" }))).await.json();
    assert_ne!(renamed["updatedAt"], "2024-01-31T09:30:00.000Z", "@updatedAt is set");

    // A foreign key naming a row the caller cannot read is refused like a missing one.
    let comment = api.call("POST", "/api/comments", bob(), Some(json!({ "body": "Hi", "postId": 2, "authorId": 2 }))).await;
    assert_eq!(comment.status, StatusCode::CONFLICT, "{}", comment.text);
    assert_eq!(comment.json()["errors"][0]["path"], "postId");
    assert_eq!(
        api.call("POST", "/api/comments", bob(), Some(json!({ "body": "Hi", "postId": 1, "authorId": 2 }))).await.status,
        StatusCode::CREATED
    );

    // Delete.
    assert_eq!(api.call("DELETE", "/api/posts/1", bob(), None).await.status, StatusCode::FORBIDDEN);
    let gone = api.call("DELETE", &format!("/api/posts/{id}"), bob(), None).await;
    assert_eq!((gone.status, gone.text.as_str()), (StatusCode::NO_CONTENT, ""));
    assert_eq!(api.call("GET", &format!("/api/posts/{id}"), bob(), None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocol_errors_are_problem_json() {
    let api = api().await;
    let put = api.call("PUT", "/api/posts", bob(), None).await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(put.headers["allow"], "GET, POST");
    assert_eq!(put.headers["content-type"], "application/problem+json");
    let missing = api.call("GET", "/api/nope", bob(), None).await;
    assert_eq!((missing.status, missing.json()["detail"].as_str()), (StatusCode::NOT_FOUND, Some("No such route.")));
    let req = Request::builder()
        .method("POST")
        .uri("/api/posts")
        .header("authorization", format!("Bearer {}", bob().unwrap()))
        .header("content-type", "text/plain")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(api.router.clone().oneshot(req).await.unwrap().status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // No body at all is not JSON of another type: 400, as the TypeScript server answers.
    let empty = api.call("PATCH", "/api/posts/3", bob(), None).await;
    assert_eq!((empty.status, empty.json()["detail"].as_str()), (StatusCode::BAD_REQUEST, Some("The request body must be a JSON object.")));
    let big = json!({ "title": "x".repeat(20_000), "slug": "big", "authorId": 2 });
    assert_eq!(api.call("POST", "/api/posts", bob(), Some(big)).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    let req = Request::builder()
        .method("POST")
        .uri("/api/posts")
        .header("authorization", format!("Bearer {}", bob().unwrap()))
        .header("content-type", "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    assert_eq!(api.router.clone().oneshot(req).await.unwrap().status(), StatusCode::BAD_REQUEST);
    // Headers over 64 KiB (the TypeScript server's limit): 431; a long filter still fits.
    let req = Request::builder().uri("/api/tags").header("x-padding", "a".repeat(70_000)).body(Body::empty()).unwrap();
    let res = api.router.clone().oneshot(req).await.unwrap();
    assert_eq!(
        (res.status(), res.headers()["content-type"].to_str().unwrap()),
        (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "application/problem+json")
    );
    let long = format!("/api/tags?filter[name][in]={}", vec!["rust"; 8_000].join(","));
    assert!(long.len() > 40_000);
    assert_eq!(api.call("GET", &long, None, None).await.status, StatusCode::OK);
    assert_eq!(api.call("GET", "/health", None, None).await.text, r#"{"status":"ok"}"#);
    assert_eq!(api.call("GET", "/ready", None, None).await.text, r#"{"status":"ready"}"#);
    assert_eq!(api.call("GET", "/api/posts/abc", bob(), None).await.status, StatusCode::BAD_REQUEST);
    let openapi = api.call("GET", "/openapi.json", None, None).await.json();
    assert!(openapi["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(openapi["paths"]["/api/posts/{id}"]["patch"].is_object());

    // CORS for the configured origins only.
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/api/tags")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .body(Body::empty())
            .unwrap()
    };
    let ok = api.router.clone().oneshot(preflight("http://app.test")).await.unwrap();
    assert_eq!(ok.headers()["access-control-allow-origin"], "http://app.test");
    let foreign = api.router.clone().oneshot(preflight("http://evil.test")).await.unwrap();
    assert!(foreign.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_429_per_principal() {
    let api = api().await;
    // User: @@rateLimit(limit: 100, window: "1m").
    let eve = Some(token(json!({ "id": 3, "role": "ADMIN" })));
    let mut limited = None;
    for _ in 0..101 {
        let r = api.call("GET", "/api/users/count", eve.clone(), None).await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
    }
    let limited = limited.expect("no 429 after 101 requests");
    assert!(limited.headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(limited.json()["status"], 429);
    assert_eq!(api.call("GET", "/api/users/count", bob(), None).await.status, StatusCode::OK, "limits are per principal");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_change_inputs_reject_and_see_committed_rows() {
    use ssot::hooks::Reject;
    use std::sync::{Arc, Mutex};
    let seen: Arc<Mutex<Vec<(String, i32)>>> = Arc::default();
    let log = seen.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<i64>();
    let counted = Arc::new(Mutex::new(Some(tx)));
    let hooks = db::Post::hooks()
        .before_create(|_, input| {
            if input.title.contains("spam") {
                return Err(Reject::new(400, "No spam.").field("title", "looks like spam"));
            }
            input.views = Some(42);
            Ok(())
        })
        .after_create(move |ctx, post| log.lock().unwrap().push((ctx.principal_id().unwrap_or_default(), post.views)))
        // The pool, for side effects after the commit: the new row is there.
        .after_create(move |ctx, post| {
            let (Some(ssot::server::Pool::Sqlite(pool)), id, done) = (ctx.pool().cloned(), post.id, counted.clone()) else { return };
            tokio::spawn(async move {
                let n: i64 = sqlx::query_scalar(r#"SELECT count(*) FROM "Post" WHERE "id" = ?"#).bind(id).fetch_one(&pool).await.unwrap();
                let _ = done.lock().unwrap().take().map(|tx| tx.send(n));
            });
        })
        .before_delete(|_, id| if id[0] == 1 { Err(Reject::new(409, "Post 1 is pinned.")) } else { Ok(()) });
    let api = api_with(|s| s.hooks(hooks)).await;
    let created = api.call("POST", "/api/posts", bob(), Some(json!({ "title": "Hooked", "slug": "hooked", "authorId": 2 }))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json()["views"], 42, "the hook changed the input");
    assert_eq!(*seen.lock().unwrap(), [("2".to_owned(), 42)], "the after hook saw the committed row");
    assert_eq!(
        tokio::time::timeout(std::time::Duration::from_secs(5), rx).await.unwrap().unwrap(),
        1,
        "a query on the hook's pool finds the row"
    );
    let spam = api.call("POST", "/api/posts", bob(), Some(json!({ "title": "Buy spam", "slug": "spam", "authorId": 2 }))).await;
    assert_eq!(spam.status, StatusCode::BAD_REQUEST);
    assert_eq!(spam.json()["errors"][0], json!({ "path": "title", "message": "looks like spam" }));
    assert_eq!(seen.lock().unwrap().len(), 1, "nothing committed, no after hook");
    let admin = Some(token(json!({ "id": 3, "role": "ADMIN" })));
    let pinned = api.call("DELETE", "/api/posts/1", admin.clone(), None).await;
    assert_eq!((pinned.status, pinned.json()["detail"].as_str()), (StatusCode::CONFLICT, Some("Post 1 is pinned.")));
    assert_eq!(api.call("GET", "/api/posts/1", admin.clone(), None).await.status, StatusCode::OK);
    assert_eq!(api.call("DELETE", "/api/posts/3", admin, None).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_routes_take_the_principal() {
    use ssot::server::{Database, Pool, Principal};
    let mine = axum::Router::new().route("/me", axum::routing::get(|Principal(auth): Principal| async move { axum::Json(auth) }));
    // Your own queries on the server's pool.
    let stats = axum::Router::new().route(
        "/stats",
        axum::routing::get(|Database(pool): Database| async move {
            let Pool::Sqlite(pool) = pool else { return "not SQLite".to_owned() };
            let (posts,): (i64,) = sqlx::query_as(r#"SELECT count(*) FROM "Post""#).fetch_one(&pool).await.unwrap();
            format!("{posts} posts")
        }),
    );
    let api = api_with(|s| s.routes(mine).routes(stats)).await;
    assert_eq!(api.call("GET", "/stats", None, None).await.text, "3 posts");
    let me = api.call("GET", "/me", bob(), None).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text);
    assert_eq!(me.json(), json!({ "id": 2, "role": "USER" }), "the claims of [auth.claims], `sub` as the id");
    assert!(me.headers.get("x-request-id").is_some());
    let anonymous = api.call("GET", "/me", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers["content-type"], "application/problem+json");
    assert_eq!(api.call("GET", "/me", Some("bad".into()), None).await.status, StatusCode::UNAUTHORIZED);
}

/// A WebSocket client of the gateway: messages as JSON, pings answered.
struct Socket(tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>);

impl Socket {
    async fn open(addr: std::net::SocketAddr, bearer: Option<String>) -> Socket {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
        if let Some(t) = bearer {
            req.headers_mut().insert("sec-websocket-protocol", format!("bearer, {t}").parse().unwrap());
        }
        Socket(tokio_tungstenite::connect_async(req).await.unwrap().0)
    }

    async fn send(&mut self, v: Value) {
        use futures_util::SinkExt as _;
        self.0.send(tokio_tungstenite::tungstenite::Message::text(v.to_string())).await.unwrap();
    }

    /// The next message other than a ping (`None`: none within the time, or the socket closed).
    async fn next(&mut self, ms: u64) -> Option<Value> {
        use futures_util::StreamExt as _;
        loop {
            let msg = tokio::time::timeout(std::time::Duration::from_millis(ms), self.0.next()).await.ok()??.ok()?;
            if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                if v["type"] == "ping" {
                    self.send(json!({ "type": "pong" })).await;
                    continue;
                }
                return Some(v);
            }
        }
    }

    /// The close code the server sent.
    async fn closed_with(&mut self) -> Option<u16> {
        use futures_util::StreamExt as _;
        while let Ok(Some(msg)) = tokio::time::timeout(std::time::Duration::from_secs(3), self.0.next()).await {
            match msg {
                Ok(tokio_tungstenite::tungstenite::Message::Close(frame)) => return frame.map(|f| f.code.into()),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }

    async fn subscribe(&mut self, id: &str, channel: &str) {
        self.send(json!({ "type": "subscribe", "id": id, "channel": channel })).await;
        assert_eq!(self.next(3000).await, Some(json!({ "type": "subscribed", "id": id })));
    }
}

/// The WebSocket gateway over a real socket: events of committed writes reach only those who may
/// read the row, masked for each; a row that stops being readable arrives as `deleted` with its
/// id only; the protocol's errors; a message over the size limit closes the socket with 1009.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_events_follow_the_read_policy() {
    let api = api().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(ssot::server::serve_on(listener, api.router.clone()));
    let ada = || Some(token(json!({ "id": 1, "role": "USER" })));
    let eve = || Some(token(json!({ "id": 3, "role": "ADMIN" })));
    let (mut a, mut b, mut e) = (Socket::open(addr, ada()).await, Socket::open(addr, bob()).await, Socket::open(addr, eve()).await);
    for s in [&mut a, &mut b, &mut e] {
        s.subscribe("posts", "post").await;
    }
    let draft = api
        .call("POST", "/api/posts", ada(), Some(json!({ "title": "Live", "slug": "live", "authorId": 1, "reviewNote": "editors only" })))
        .await
        .json();
    let mine = a.next(3000).await.unwrap();
    assert_eq!((mine["type"].as_str(), mine["event"].as_str(), mine["channel"].as_str()), (Some("event"), Some("created"), Some("post")));
    assert_eq!(mine["data"]["id"], draft["id"]);
    assert!(mine["data"].get("reviewNote").is_none(), "the author is not an editor: {mine}");
    assert_eq!(mine["data"], draft, "the event carries the row as the author reads it");
    let edited = e.next(3000).await.unwrap();
    assert_eq!(edited["data"]["reviewNote"], "editors only");
    assert_eq!(b.next(300).await, None, "bob may not read the draft");

    let id = draft["id"].as_i64().unwrap();
    api.call("PATCH", &format!("/api/posts/{id}"), ada(), Some(json!({ "published": true }))).await;
    assert_eq!(b.next(3000).await.unwrap()["event"], "created", "a row that becomes readable arrives as created");
    let updated = a.next(3000).await.unwrap();
    assert_eq!((updated["event"].as_str(), updated["seq"].as_u64()), (Some("updated"), Some(2)));
    api.call("PATCH", &format!("/api/posts/{id}"), ada(), Some(json!({ "published": false }))).await;
    let gone = b.next(3000).await.unwrap();
    assert_eq!((gone["event"].as_str(), &gone["data"]), (Some("deleted"), &json!({ "id": id })));
    assert_eq!(a.next(3000).await.unwrap()["seq"], 3, "the author still reads it");

    // Protocol mistakes are answered; anonymous callers may not subscribe to a model with auth.
    a.send(json!({ "type": "subscribe", "id": "posts", "channel": "post" })).await;
    assert_eq!(a.next(3000).await.unwrap()["status"], 409);
    a.send(json!({ "type": "subscribe", "id": "x", "channel": "post", "filter": { "reviewNote": { "equals": "x" } } })).await;
    assert_eq!(
        a.next(3000).await.unwrap(),
        json!({ "type": "error", "id": "x", "status": 400, "title": "unknown filter field reviewNote" })
    );
    let mut anon = Socket::open(addr, None).await;
    anon.send(json!({ "type": "subscribe", "id": "y", "channel": "post" })).await;
    assert_eq!(anon.next(3000).await.unwrap()["status"], 401);
    anon.send(json!({ "type": "pong", "pad": "x".repeat(100_000) })).await;
    assert_eq!(anon.closed_with().await, Some(1009));
}

/// Applies the migrations `prisma migrate dev` wrote for the blog (SQLite), as
/// `prisma migrate deploy` would: the database file is created, each migration runs once and is
/// recorded in `_prisma_migrations` with Prisma's checksum; a failed one stops later starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_applied_once_and_recorded_as_prisma_does() {
    use sha2::Digest as _;
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let dir = std::env::temp_dir().join(format!("ssot-migrate-{}-{}", std::process::id(), rand::random::<u64>()));
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/blog/migrations/sqlite");
    let copy = dir.join("migrations");
    std::fs::create_dir_all(copy.join("20261202000000_init")).unwrap();
    for f in ["migration_lock.toml", "20261202000000_init/migration.sql"] {
        std::fs::copy(shipped.join(f), copy.join(f)).unwrap();
    }
    let file = dir.join("new.db");
    let start = |migrate: bool| {
        let mut s = settings(format!("file:{}", file.display()));
        s.migrate_on_start = migrate;
        ssot::server::Server::new(&db::SCHEMA).settings(s).migrations_dir(&copy).router()
    };
    let recorded = || async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", file.display())).await.unwrap();
        // name, checksum, finished_at, applied_steps_count, logs
        type Row = (String, String, Option<String>, i64, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            r#"SELECT "migration_name", "checksum", "finished_at", "applied_steps_count", "logs" FROM "_prisma_migrations" ORDER BY "started_at", "migration_name""#,
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        rows
    };

    // A first start creates the file and its tables; the API serves them.
    assert!(!file.exists());
    let router = start(true).await.unwrap();
    assert!(file.exists());
    let api = Api { router, _dir: dir.clone() };
    let tags = api.call("GET", "/api/tags", None, None).await;
    assert_eq!((tags.status, tags.json()["data"].clone()), (StatusCode::OK, json!([])));
    let rows = recorded().await;
    let sql = std::fs::read(copy.join("20261202000000_init/migration.sql")).unwrap();
    let sum: String = sha2::Sha256::digest(&sql).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!((rows[0].0.as_str(), rows[0].1.as_str(), rows[0].3), ("20261202000000_init", sum.as_str(), 1));
    assert!(rows[0].2.is_some(), "finished_at is recorded");

    // A second start applies nothing.
    let _ = start(true).await.unwrap();
    assert_eq!(recorded().await.len(), 1);

    // A migration that fails is recorded with the database's message and stops the start...
    std::fs::create_dir_all(copy.join("20261203000000_broken")).unwrap();
    std::fs::write(copy.join("20261203000000_broken/migration.sql"), "ALTER TABLE \"Nope\" ADD COLUMN \"x\" TEXT;\n").unwrap();
    let err = start(true).await.expect_err("a failing migration stops the start").to_string();
    assert!(err.starts_with("migration 20261203000000_broken failed: ") && err.contains("Nope"), "{err}");
    let rows = recorded().await;
    assert_eq!(rows.len(), 2);
    assert!(rows[1].2.is_none() && rows[1].4.as_deref().is_some_and(|l| l.contains("Nope")), "{rows:?}");
    // ...and every later one, until it is resolved, even once the script is fixed.
    std::fs::write(copy.join("20261203000000_broken/migration.sql"), "SELECT 1;\n").unwrap();
    let err = start(true).await.expect_err("an unresolved failed migration stops the start").to_string();
    assert!(err.contains("20261203000000_broken failed earlier") && err.contains("prisma migrate resolve"), "{err}");
    // MIGRATE_ON_START=false leaves the database alone.
    let _ = start(false).await.unwrap();
    assert_eq!(recorded().await.len(), 2);

    // Migrations for another database are refused before anything runs.
    std::fs::write(copy.join("migration_lock.toml"), "provider = \"postgresql\"\n").unwrap();
    let err = start(true).await.expect_err("a PostgreSQL migration on SQLite").to_string();
    assert!(err.contains("written for postgresql") && err.contains("sqlite database"), "{err}");
    // A folder that does not exist is named.
    let mut s = settings(format!("file:{}", file.display()));
    s.migrate_on_start = true;
    let err =
        ssot::server::Server::new(&db::SCHEMA).settings(s).migrations_dir(dir.join("absent")).router().await.err().unwrap().to_string();
    assert!(err.contains("cannot read the migrations in") && err.contains("absent"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A provider of the test's own (`Server::ai_provider`): it records each chat and fails the
/// ones about a post titled "fail".
struct Recorder(std::sync::Arc<std::sync::Mutex<Vec<Vec<ssot::server::ChatMessage>>>>);

impl ssot::server::AiProvider for Recorder {
    fn chat<'a>(
        &'a self,
        _model: &'a str,
        messages: &'a [ssot::server::ChatMessage],
    ) -> ssot::server::BoxFuture<'a, Result<String, ssot::server::ProviderError>> {
        Box::pin(async move {
            self.0.lock().unwrap().push(messages.to_vec());
            if messages.iter().any(|m| m.content.contains("title: fail")) {
                return Err(ssot::server::ProviderError { status: Some(500), code: Some("overloaded".into()), kind: "http" });
            }
            Ok("a summary".into())
        })
    }

    fn embed<'a>(&'a self, _model: &'a str, _input: &'a str) -> ssot::server::BoxFuture<'a, Result<Vec<f64>, ssot::server::ProviderError>> {
        Box::pin(async { Ok(vec![0.5, 1.0, -2.0]) })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ai_plugin_prompts_with_what_the_caller_may_read() {
    let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorder = Recorder(calls.clone());
    let api = api_with(|s| s.ai_provider(recorder)).await;
    let prompt = |i: usize| calls.lock().unwrap()[i].iter().map(|m| format!("{}: {}", m.role, m.content)).collect::<Vec<_>>();
    // Bob reads the published post; its review note is for editors and admins.
    let r = api.call("POST", "/api/posts/1/ai/summary", bob(), Some(json!({ "input": "Shorter." }))).await;
    assert_eq!((r.status, r.text.as_str()), (StatusCode::OK, r#"{"text":"a summary"}"#));
    assert_eq!(
        prompt(0),
        ["system: Summarize the post in two sentences for a reader of the blog.", "user: title: Hello world", "user: Shorter."]
    );
    let admin = token(json!({ "id": 3, "role": "ADMIN" }));
    assert_eq!(api.call("POST", "/api/posts/1/ai/summary", Some(admin.clone()), None).await.status, StatusCode::OK);
    assert_eq!(prompt(1)[1], "user: title: Hello world\nreviewNote: fine");
    // Ada's draft does not exist for Bob: 404, and the provider is not asked.
    assert_eq!(api.call("POST", "/api/posts/2/ai/summary", bob(), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(api.call("POST", "/api/posts/1/ai/summary", None, None).await.status, StatusCode::UNAUTHORIZED);
    let bad = api.call("POST", "/api/posts/1/ai/embedding", bob(), Some(json!({ "input": "x" }))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(bad.json()["errors"][0]["path"], "input");
    assert_eq!(calls.lock().unwrap().len(), 2);
    // An embedding, numbers as JavaScript writes them.
    let e = api.call("POST", "/api/posts/1/ai/embedding", bob(), None).await;
    assert_eq!((e.status, e.text.as_str()), (StatusCode::OK, r#"{"embedding":[0.5,1,-2]}"#));
    // The provider's failure is a 502 that does not pass its message on.
    let failing =
        api.call("POST", "/api/posts", bob(), Some(json!({ "title": "fail", "slug": "fail", "published": true, "authorId": 2 }))).await;
    assert_eq!(failing.status, StatusCode::CREATED, "{}", failing.text);
    let id = failing.json()["id"].as_i64().unwrap();
    let r = api.call("POST", &format!("/api/posts/{id}/ai/summary"), bob(), None).await;
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert!(!r.text.contains("overloaded"));
    // The payments plugin's routes are there too: the checkout is for signed-in callers, and
    // without STRIPE_WEBHOOK_SECRET every event is refused.
    assert_eq!(
        api.call("POST", "/api/payments/checkout", None, Some(json!({ "price": "price_supporter_monthly" }))).await.status,
        StatusCode::UNAUTHORIZED
    );
    let event = api.call("POST", "/api/payments/webhook", None, Some(json!({ "id": "evt_1" }))).await;
    let refused =
        if std::env::var_os("STRIPE_WEBHOOK_SECRET").is_some() { StatusCode::BAD_REQUEST } else { StatusCode::SERVICE_UNAVAILABLE };
    assert_eq!(event.status, refused, "{}", event.text);
}
