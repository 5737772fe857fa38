//! Policies compiled to SQL select exactly the rows the in-memory evaluation allows: thousands
//! of random expressions (comparisons of every operator with nulls, claims, enums stored under
//! `@map` names, relation hops, `some`/`every`/`none` over 1:N and implicit m:n relations,
//! negations) run against a real SQLite database, and the ids they select are compared with
//! `rules::evaluate` on the same rows loaded as the API includes them. On PostgreSQL too when
//! `SSOT_TEST_PG_URL` names a server (`tests/rust-pg.sh`, in CI); the enum is then a real
//! PostgreSQL enum type and booleans are booleans.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value as Json, json};
use sqlx::AnyPool;
use sqlx::Row;
use sqlx::any::AnyPoolOptions;
use ssot::rules::{self, Bind, Dialect};
use ssot::schema::{Base, CmpOp, Expr, Hop, Operand, Quant, ScalarType, Schema, ValueType};

const SCHEMA: &str = r#"
datasource db {
  provider = "sqlite"
}

enum Role {
  USER
  ADMIN @map("admin")
}

model Team {
  id      Int     @id
  name    String?
  members User[]
}

model User {
  id     Int     @id
  name   String?
  age    Int?    @map("years")
  role   Role
  teamId Int?
  team   Team?   @relation(fields: [teamId], references: [id])
  posts  Post[]
}

model Post {
  id        Int     @id
  title     String
  score     Int?    @map("the_score")
  published Boolean
  authorId  Int
  author    User    @relation(fields: [authorId], references: [id])
  tags      Tag[]

  @@map("posts")
}

model Tag {
  id    Int    @id
  label String
  posts Post[]
}
"#;

fn schema() -> Schema {
    let mut config = ssot_core::config::Config::default();
    config.claims = vec![
        ssot_core::config::Claim { name: "id".into(), ty: "Int".into(), list: false, span: None },
        ssot_core::config::Claim { name: "role".into(), ty: "Role".into(), list: false, span: None },
    ];
    let mut sources = ssot_core::diagnostics::Sources::new();
    sources.add("schema.prisma", SCHEMA);
    let ir = ssot_core::analyze(sources, &config, std::path::Path::new("")).expect("the test schema is valid").ir;
    serde_json::from_value(ssot_core::generate::schema::document(&ir, &config)).expect("the document parses")
}

const DDL: &str = r#"
CREATE TABLE "Team" ("id" INTEGER PRIMARY KEY, "name" TEXT);
CREATE TABLE "User" ("id" INTEGER PRIMARY KEY, "name" TEXT, "years" INTEGER, "role" ROLE_TYPE NOT NULL, "teamId" INTEGER REFERENCES "Team"("id"));
CREATE TABLE "posts" ("id" INTEGER PRIMARY KEY, "title" TEXT NOT NULL, "the_score" INTEGER, "published" BOOLEAN NOT NULL, "authorId" INTEGER NOT NULL REFERENCES "User"("id"));
CREATE TABLE "Tag" ("id" INTEGER PRIMARY KEY, "label" TEXT NOT NULL);
CREATE TABLE "_PostToTag" ("A" INTEGER NOT NULL REFERENCES "posts"("id"), "B" INTEGER NOT NULL REFERENCES "Tag"("id"));
"#;

/// Random rows, as JSON objects keyed by the schema's field names.
struct Data {
    teams: Vec<Json>,
    users: Vec<Json>,
    posts: Vec<Json>,
    tags: Vec<Json>,
    links: Vec<(i64, i64)>,
}

fn pick<T: Clone>(rng: &mut StdRng, xs: &[T]) -> T {
    xs[rng.random_range(0..xs.len())].clone()
}

fn data(rng: &mut StdRng) -> Data {
    let names = [json!(null), json!("a"), json!("b"), json!("")];
    let teams: Vec<Json> = (1..=3).map(|id| json!({"id": id, "name": pick(rng, &names)})).collect();
    // Every user has a team: a null optional hop is where the database filter (the related row
    // must exist) and the in-memory rules part ways on purpose; it is tested on its own below.
    let users: Vec<Json> = (1..=5)
        .map(|id| {
            json!({"id": id, "name": pick(rng, &names), "age": pick(rng, &[json!(null), json!(0), json!(1), json!(3)]),
                   "role": pick(rng, &["USER", "ADMIN"]), "teamId": rng.random_range(1..=3)})
        })
        .collect();
    let posts: Vec<Json> = (1..=8)
        .map(|id| {
            json!({"id": id, "title": pick(rng, &["a", "b", ""]), "score": pick(rng, &[json!(null), json!(-1), json!(0), json!(2), json!(3)]),
                   "published": rng.random_bool(0.5), "authorId": rng.random_range(1..=5)})
        })
        .collect();
    let tags: Vec<Json> = (1..=3).map(|id| json!({"id": id, "label": pick(rng, &["a", "b"])})).collect();
    let mut links = Vec::new();
    for p in 1..=8 {
        for t in 1..=3 {
            if rng.random_bool(0.4) {
                links.push((p, t));
            }
        }
    }
    Data { teams, users, posts, tags, links }
}

/// The database under test with the tables of [`SCHEMA`] (as `prisma db push` would make them).
async fn database(url: &str) -> (AnyPool, Dialect) {
    sqlx::any::install_default_drivers();
    // One connection: an in-memory SQLite database lives in its connection.
    let pool = AnyPoolOptions::new().max_connections(1).connect(url).await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let dialect = if url.starts_with("postgres") { Dialect::Postgres } else { Dialect::Sqlite };
    let ddl = match dialect {
        Dialect::Postgres => {
            sqlx::raw_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public; CREATE TYPE \"Role\" AS ENUM ('USER', 'admin');")
                .execute(&pool)
                .await
                .unwrap();
            DDL.replace("ROLE_TYPE", "\"Role\"")
        }
        Dialect::Sqlite => DDL.replace("ROLE_TYPE", "TEXT"),
    };
    sqlx::raw_sql(&ddl).execute(&pool).await.unwrap();
    (pool, dialect)
}

async fn load(pool: &AnyPool, dialect: Dialect, d: &Data) {
    let role_type = if dialect == Dialect::Postgres { "\"Role\"" } else { "TEXT" };
    let mut tx = pool.begin().await.unwrap();
    for stmt in
        ["DELETE FROM \"_PostToTag\"", "DELETE FROM \"posts\"", "DELETE FROM \"Tag\"", "DELETE FROM \"User\"", "DELETE FROM \"Team\""]
    {
        sqlx::query(stmt).execute(&mut *tx).await.unwrap();
    }
    for t in &d.teams {
        sqlx::query("INSERT INTO \"Team\" VALUES ($1, $2)")
            .bind(t["id"].as_i64())
            .bind(t["name"].as_str())
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    for u in &d.users {
        let role = if u["role"] == "ADMIN" { "admin" } else { "USER" };
        sqlx::query("INSERT INTO \"User\" VALUES ($1, $2, $3, CAST($4 AS ROLE_TYPE), $5)".replace("ROLE_TYPE", role_type).as_str())
            .bind(u["id"].as_i64())
            .bind(u["name"].as_str())
            .bind(u["age"].as_i64())
            .bind(role)
            .bind(u["teamId"].as_i64())
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    for p in &d.posts {
        sqlx::query("INSERT INTO \"posts\" VALUES ($1, $2, $3, $4, $5)")
            .bind(p["id"].as_i64())
            .bind(p["title"].as_str())
            .bind(p["score"].as_i64())
            .bind(p["published"].as_bool())
            .bind(p["authorId"].as_i64())
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    for t in &d.tags {
        sqlx::query("INSERT INTO \"Tag\" VALUES ($1, $2)")
            .bind(t["id"].as_i64())
            .bind(t["label"].as_str())
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    for (a, b) in &d.links {
        sqlx::query("INSERT INTO \"_PostToTag\" VALUES ($1, $2)").bind(a).bind(b).execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// A post as the API returns it with `author` (with its team and posts) and `tags` included.
fn loaded_posts(d: &Data) -> Vec<Json> {
    let by_id = |rows: &[Json], id: &Json| rows.iter().find(|r| &r["id"] == id).cloned().unwrap();
    d.posts
        .iter()
        .map(|p| {
            let mut author = by_id(&d.users, &p["authorId"]);
            let mut team = by_id(&d.teams, &author["teamId"]);
            team["members"] = d.users.iter().filter(|u| u["teamId"] == author["teamId"]).cloned().collect();
            author["team"] = team;
            author["posts"] = d.posts.iter().filter(|q| q["authorId"] == author["id"]).cloned().collect();
            let mut post = p.clone();
            post["author"] = author;
            post["tags"] = d.links.iter().filter(|(a, _)| json!(a) == p["id"]).map(|(_, b)| by_id(&d.tags, &json!(b))).collect();
            post
        })
        .collect()
}

fn ty(base: ScalarType, nullable: bool) -> ValueType {
    ValueType { base: Base::Scalar(base), list: false, nullable }
}

fn role_ty() -> ValueType {
    ValueType { base: Base::Enum { enum_name: "Role".into() }, list: false, nullable: false }
}

fn hop(field: &str, model: &str, optional: bool) -> Hop {
    Hop { field: field.into(), model: model.into(), optional }
}

/// A field of `Post` (through hops), with the constants of its type.
fn field(rng: &mut StdRng) -> (Operand, Vec<Operand>) {
    let int = |v: i64| Operand::Int { value: v };
    let s = |v: &str| Operand::String { value: v.into() };
    let ints =
        vec![Operand::Null, int(-1), int(0), int(1), int(2), int(3), Operand::Claim { name: "id".into(), ty: ty(ScalarType::Int, false) }];
    let strs = vec![Operand::Null, s("a"), s("b"), s("")];
    let roles = vec![
        Operand::Enum { enum_name: "Role".into(), value: "USER".into() },
        Operand::Enum { enum_name: "Role".into(), value: "ADMIN".into() },
        Operand::Claim { name: "role".into(), ty: role_ty() },
        Operand::Null,
    ];
    let f = |hops: Vec<Hop>, name: &str, t: ValueType| Operand::Field { hops, field: name.into(), ty: t };
    let author = || vec![hop("author", "User", false)];
    match rng.random_range(0..9) {
        0 => (f(vec![], "score", ty(ScalarType::Int, true)), ints),
        1 => (f(vec![], "title", ty(ScalarType::String, false)), strs),
        2 => (f(vec![], "authorId", ty(ScalarType::Int, false)), ints),
        3 => (
            f(vec![], "published", ty(ScalarType::Boolean, false)),
            vec![Operand::Bool { value: true }, Operand::Bool { value: false }, Operand::Null],
        ),
        4 => (f(author(), "age", ty(ScalarType::Int, true)), ints),
        5 => (f(author(), "name", ty(ScalarType::String, true)), strs),
        6 => (f(author(), "role", role_ty()), roles),
        7 => (f(vec![hop("author", "User", false), hop("team", "Team", true)], "name", ty(ScalarType::String, true)), strs),
        _ => (f(vec![], "id", ty(ScalarType::Int, false)), ints),
    }
}

fn op(rng: &mut StdRng) -> CmpOp {
    pick(rng, &[CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge, CmpOp::In, CmpOp::NotIn])
}

fn comparison(rng: &mut StdRng, (f, constants): (Operand, Vec<Operand>)) -> Expr {
    // Ordering needs numbers, strings or dates (the schema check rejects it on enums and booleans).
    let orderable = matches!(&f, Operand::Field { ty, .. } if matches!(ty.base, Base::Scalar(ScalarType::Int | ScalarType::String)));
    let op = if orderable { op(rng) } else { pick(rng, &[CmpOp::Eq, CmpOp::Ne, CmpOp::In, CmpOp::NotIn]) };
    let right = if matches!(op, CmpOp::In | CmpOp::NotIn) {
        let n = rng.random_range(0..3);
        Operand::List { items: (0..n).map(|_| pick(rng, &constants)).collect() }
    } else {
        pick(rng, &constants)
    };
    // Either side may hold the field (`2 < score` is `score > 2`), except for `in`.
    if rng.random_bool(0.3) && !matches!(op, CmpOp::In | CmpOp::NotIn) {
        Expr::Compare { op, left: right, right: f }
    } else {
        Expr::Compare { op, left: f, right }
    }
}

/// A condition on the rows of a related model, for quantifiers.
fn body(rng: &mut StdRng, model: &str) -> Expr {
    let int = |v: i64| Operand::Int { value: v };
    let (f, constants) = match model {
        "Tag" => (
            Operand::Field { hops: vec![], field: "label".into(), ty: ty(ScalarType::String, false) },
            vec![Operand::String { value: "a".into() }, Operand::String { value: "b".into() }],
        ),
        "Post" => {
            (Operand::Field { hops: vec![], field: "score".into(), ty: ty(ScalarType::Int, true) }, vec![Operand::Null, int(0), int(2)])
        }
        _ => (Operand::Field { hops: vec![], field: "age".into(), ty: ty(ScalarType::Int, true) }, vec![Operand::Null, int(1), int(3)]),
    };
    let e = comparison(rng, (f, constants));
    if rng.random_bool(0.3) { Expr::Not { expr: Box::new(e) } } else { e }
}

fn expr(rng: &mut StdRng, depth: u32) -> Expr {
    let choice = if depth == 0 { rng.random_range(0..6) } else { rng.random_range(0..10) };
    match choice {
        0..=2 => {
            let f = field(rng);
            comparison(rng, f)
        }
        3 => {
            let (hops, relation, model) = match rng.random_range(0..3) {
                0 => (vec![], "tags", "Tag"),
                1 => (vec![hop("author", "User", false)], "posts", "Post"),
                _ => (vec![hop("author", "User", false), hop("team", "Team", true)], "members", "User"),
            };
            let quant = pick(rng, &[Quant::Some, Quant::Every, Quant::None]);
            Expr::Quant { quant, hops, relation: relation.into(), model: model.into(), body: Box::new(body(rng, model)) }
        }
        4 => Expr::Truthy { operand: Operand::Field { hops: vec![], field: "published".into(), ty: ty(ScalarType::Boolean, false) } },
        5 => match rng.random_range(0..3) {
            0 => Expr::Compare { op: pick(rng, &[CmpOp::Eq, CmpOp::Ne]), left: Operand::Auth, right: Operand::Null },
            1 => Expr::Compare {
                op: CmpOp::Eq,
                left: Operand::Claim { name: "role".into(), ty: role_ty() },
                right: Operand::Enum { enum_name: "Role".into(), value: "ADMIN".into() },
            },
            _ => Expr::Bool { value: rng.random_bool(0.5) },
        },
        6 => Expr::Not { expr: Box::new(expr(rng, depth - 1)) },
        _ => {
            let n = rng.random_range(1..4);
            let exprs = (0..n).map(|_| expr(rng, depth - 1)).collect();
            if rng.random_bool(0.5) { Expr::And { exprs } } else { Expr::Or { exprs } }
        }
    }
}

async fn select(pool: &AnyPool, dialect: Dialect, schema: &Schema, e: &Expr, auth: &rules::Claims) -> Vec<i64> {
    let post = schema.model("Post").unwrap();
    let f = rules::to_sql(schema, post, "t", e, auth, dialect).unwrap_or_else(|err| panic!("{err}: {e:?}"));
    let sql = format!("SELECT CAST(t.\"id\" AS BIGINT) FROM \"posts\" AS t WHERE {} ORDER BY t.\"id\"", f.sql);
    let mut q = sqlx::query(&sql);
    for b in f.binds {
        q = match b {
            Bind::Bool(v) => q.bind(v),
            Bind::Int(v) => q.bind(v),
            Bind::Float(v) => q.bind(v),
            Bind::Text(v) => q.bind(v),
        };
    }
    let rows = q.fetch_all(pool).await.unwrap_or_else(|err| panic!("{err}: {sql}"));
    rows.iter().map(|r| r.get::<i64, _>(0)).collect()
}

fn principals() -> Vec<rules::Claims> {
    let p = |id: i64, role: &str| Some(json!({"id": id, "role": role}).as_object().unwrap().clone());
    vec![None, p(1, "USER"), p(2, "ADMIN"), p(3, "USER")]
}

#[tokio::test(flavor = "current_thread")]
async fn sql_filters_select_what_the_rules_allow_on_sqlite() {
    agree("sqlite::memory:").await;
}

/// Run by tests/rust-pg.sh, which starts PostgreSQL (in CI).
#[tokio::test(flavor = "current_thread")]
#[ignore = "needs PostgreSQL: run through tests/rust-pg.sh"]
async fn sql_filters_select_what_the_rules_allow_on_postgres() {
    let url = std::env::var("SSOT_TEST_PG_URL").expect("SSOT_TEST_PG_URL names the PostgreSQL database");
    agree(&url).await;
}

async fn agree(url: &str) {
    let schema = schema();
    let (pool, dialect) = database(url).await;
    let mut rng = StdRng::seed_from_u64(std::env::var("SSOT_RULES_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(7));
    let (mut cases, mut selected) = (0, 0);
    for _ in 0..25 {
        let d = data(&mut rng);
        load(&pool, dialect, &d).await;
        let rows = loaded_posts(&d);
        for _ in 0..40 {
            let e = expr(&mut rng, 3);
            for auth in principals() {
                let want: Vec<i64> = rows
                    .iter()
                    .filter(|r| rules::evaluate(&e, r, &auth).expect("every relation is loaded"))
                    .map(|r| r["id"].as_i64().unwrap())
                    .collect();
                let got = select(&pool, dialect, &schema, &e, &auth).await;
                if got != want {
                    let f = rules::to_sql(&schema, schema.model("Post").unwrap(), "t", &e, &auth, dialect).unwrap();
                    panic!(
                        "SQL selects {got:?}, the rules {want:?} for {auth:?}:\n{}\n{}\n{:?}",
                        serde_json::to_string(&e).unwrap(),
                        f.sql,
                        f.binds
                    );
                }
                cases += 1;
                selected += got.len();
            }
        }
    }
    println!("ssot: {cases} policy cases agree between SQL ({dialect:?}) and the rules ({selected} rows selected)");
    assert!(selected > cases, "the random cases select too little to mean anything");
}

#[tokio::test(flavor = "current_thread")]
async fn a_hop_through_a_null_relation_needs_the_related_row() {
    // `author.team.name == null` on a post whose author has no team: the database filter (as
    // Prisma's `is` in the TypeScript server) requires the team to exist; the rules on a loaded
    // row read the missing team's name as null.
    let schema = schema();
    let (pool, dialect) = database("sqlite::memory:").await;
    sqlx::raw_sql(r#"INSERT INTO "User" VALUES (1, NULL, NULL, 'admin', NULL); INSERT INTO "posts" VALUES (1, 'a', NULL, 1, 1);"#)
        .execute(&pool)
        .await
        .unwrap();
    let name = Operand::Field {
        hops: vec![hop("author", "User", false), hop("team", "Team", true)],
        field: "name".into(),
        ty: ty(ScalarType::String, true),
    };
    let is_null = Expr::Compare { op: CmpOp::Eq, left: name.clone(), right: Operand::Null };
    assert_eq!(select(&pool, dialect, &schema, &is_null, &None).await, Vec::<i64>::new());
    let negated = Expr::Not { expr: Box::new(is_null.clone()) };
    assert_eq!(select(&pool, dialect, &schema, &negated, &None).await, Vec::<i64>::new());
    let row = json!({"id": 1, "author": {"id": 1, "team": null}});
    assert_eq!(rules::evaluate(&is_null, &row, &None), Some(true));
    // An enum stored under its @map name matches the schema's name.
    let admin = Expr::Compare {
        op: CmpOp::Eq,
        left: Operand::Field { hops: vec![hop("author", "User", false)], field: "role".into(), ty: role_ty() },
        right: Operand::Enum { enum_name: "Role".into(), value: "ADMIN".into() },
    };
    assert_eq!(select(&pool, dialect, &schema, &admin, &None).await, vec![1]);
    // A relation the row was loaded without is unknown, which denies.
    assert_eq!(rules::evaluate(&admin, &json!({"id": 1}), &None), None);
}

mod tenant {
    ssot::ssot!("../tests/fixtures/tenant/schema.prisma");
}

/// A `@db.Uuid` column compared with a text value: PostgreSQL has no `uuid = text`, so the
/// parameter is cast to the column's type (SQLite compares text).
#[test]
fn uuid_columns_compare_as_uuids_on_postgres() {
    let schema = tenant::SCHEMA.get();
    let m = schema.model("Tenant").expect("Tenant");
    let ty = ValueType { base: Base::Scalar(ScalarType::String), list: false, nullable: false };
    let e = Expr::Compare {
        op: CmpOp::Eq,
        left: Operand::Field { hops: vec![], field: "ref".into(), ty },
        right: Operand::String { value: "9b2c1f4e-0000-4000-8000-000000000000".into() },
    };
    let pg = rules::to_sql(schema, m, "t", &e, &None, Dialect::Postgres).unwrap();
    assert_eq!(pg.sql, r#"t."ref" = $1::uuid"#);
    let sqlite = rules::to_sql(schema, m, "t", &e, &None, Dialect::Sqlite).unwrap();
    assert_eq!(sqlite.sql, r#"t."ref" = ?"#);
}
