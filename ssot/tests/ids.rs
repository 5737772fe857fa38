//! The Rust server makes the ids the Prisma client makes for `@default(uuid())`, `uuid(7)`,
//! `cuid()`, `cuid(2)`, `ulid()`, `nanoid()` and `nanoid(10)`, in their formats, different for
//! every row (SQLite, table as Prisma creates it).

mod db {
    ssot::ssot!("tests/ids.prisma");
}

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt as _;
use serde_json::Value;
use tower::ServiceExt as _;

const DDL: &str = r#"CREATE TABLE "Made" ("id" TEXT NOT NULL PRIMARY KEY, "uuid7" TEXT NOT NULL, "cuid1" TEXT NOT NULL,
  "cuid2" TEXT NOT NULL, "ulid" TEXT NOT NULL, "nano" TEXT NOT NULL, "nano10" TEXT NOT NULL, "label" TEXT NOT NULL);"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_make_the_ids_prisma_makes() {
    let dir = std::env::temp_dir().join(format!("ssot-ids-{}-{}", std::process::id(), rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ids.db");
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(&file).create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::raw_sql(DDL).execute(&pool).await.unwrap();
    pool.close().await;
    let router = ssot::server::Server::new(&db::SCHEMA).database_url(format!("sqlite:{}", file.display())).router().await.unwrap();
    let mut rows = Vec::new();
    for label in ["a", "b"] {
        let req = Request::post("/api/mades")
            .header("content-type", "application/json")
            .body(Body::from(format!(r#"{{"label":"{label}"}}"#)))
            .unwrap();
        let res = router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let body = res.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        rows.push(serde_json::from_slice::<Value>(&body).unwrap());
    }
    let formats = [
        ("id", r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"),
        ("uuid7", r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"),
        ("cuid1", r"^c[0-9a-z]{24}$"),
        ("cuid2", r"^[a-z][0-9a-z]{23}$"),
        ("ulid", r"^[0-9A-HJKMNP-TV-Z]{26}$"),
        ("nano", r"^[A-Za-z0-9_-]{21}$"),
        ("nano10", r"^[A-Za-z0-9_-]{10}$"),
    ];
    for (field, format) in formats {
        let re = regex::Regex::new(format).unwrap();
        for row in &rows {
            let v = row[field].as_str().unwrap_or_else(|| panic!("{field} in {row}"));
            assert!(re.is_match(v), "{field} = {v} is not {format}");
        }
        assert_ne!(rows[0][field], rows[1][field], "{field} differs between rows");
    }
}
