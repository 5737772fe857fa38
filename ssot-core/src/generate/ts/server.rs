//! The generated API server (SPEC sections 3 and 5): the policy module shared by every transport
//! (`src/policies/`), the server on Express 5 or Fastify 5 in registry or controller mode
//! (`src/server/`), the Prisma 7 schema copy and `prisma.config.ts`, and vitest suites.
//!
//! The runtime is hand-written TypeScript in `templates/ts/server/`, copied as is; what depends on
//! the schema is data (`src/policies/schema.json`) and a few short modules printed here.

use super::js::{self, E, P, T, call, id, str_lit, ty};
use super::lower_first;
use crate::annotations::{AuthMethod, ValidateRule};
use crate::config::{Config, Framework, ServerMode};
use crate::generate::HEADER;
use crate::ir::*;
use crate::names::{file_stem, model_path, ts_type};
use serde_json::json;

/// Static runtime files: (path in the tree, text without the header line).
const STATIC: &[(&str, &str)] = &[
    ("src/policies/runtime.ts", include_str!("../../../templates/ts/server/policies_runtime.ts")),
    ("src/policies/index.ts", include_str!("../../../templates/ts/server/policies_index.ts")),
    ("src/server/errors.ts", include_str!("../../../templates/ts/server/errors.ts")),
    ("src/server/config.ts", include_str!("../../../templates/ts/server/config.ts")),
    ("src/server/logger.ts", include_str!("../../../templates/ts/server/logger.ts")),
    ("src/server/auth.ts", include_str!("../../../templates/ts/server/auth.ts")),
    ("src/server/ratelimit.ts", include_str!("../../../templates/ts/server/ratelimit.ts")),
    ("src/server/wire.ts", include_str!("../../../templates/ts/server/wire.ts")),
    ("src/server/engine.ts", include_str!("../../../templates/ts/server/engine.ts")),
    ("src/server/http.ts", include_str!("../../../templates/ts/server/http.ts")),
    ("src/server/start.ts", include_str!("../../../templates/ts/server/start.ts")),
    ("src/server/plugin.ts", include_str!("../../../templates/ts/server/plugin.ts")),
    ("src/server/main.ts", include_str!("../../../templates/ts/server/main.ts")),
    ("tests/support.ts", include_str!("../../../templates/ts/server/test_support.ts")),
];
const REALTIME: &[(&str, &str)] = &[
    ("src/realtime/gateway.ts", include_str!("../../../templates/ts/realtime/gateway.ts")),
    ("src/realtime/bus.ts", include_str!("../../../templates/ts/realtime/bus.ts")),
    ("src/realtime/filter.ts", include_str!("../../../templates/ts/realtime/filter.ts")),
];
const HOOKS: &[(&str, &str)] = &[
    ("src/hooks/context.ts", include_str!("../../../templates/ts/hooks/context.ts")),
    ("src/hooks/cache.ts", include_str!("../../../templates/ts/hooks/cache.ts")),
];
const EXPRESS: &str = include_str!("../../../templates/ts/server/express.ts");
const FASTIFY: &str = include_str!("../../../templates/ts/server/fastify.ts");

/// Does this schema get a server? Prisma 7's client has no MongoDB support.
pub fn has_server(ir: &Ir) -> bool {
    ir.provider != "mongodb"
}

/// Does any served model publish changes (`@@realtime`)?
pub fn has_realtime(ir: &Ir) -> bool {
    has_server(ir) && served(ir).iter().any(|m| m.annotations.realtime.is_some())
}

/// Models the API serves.
pub fn served(ir: &Ir) -> Vec<&Model> {
    ir.api_models().filter(|m| m.annotations.expose.api).collect()
}

fn with_header(text: &str) -> String {
    format!("// {HEADER}\n\n{text}")
}

pub fn generate(ir: &Ir, config: &Config, plugins: &[(String, crate::plugin::Contribution)]) -> Vec<(String, String)> {
    let mut files = Vec::new();
    if !has_server(ir) {
        return files;
    }
    files.push(("src/server/plugins.ts".into(), plugins_module(plugins)));
    files.push(("src/server/custom.ts".into(), CUSTOM.to_owned()));
    for (path, text) in STATIC {
        files.push(((*path).to_owned(), with_header(text)));
    }
    let (adapter, module) = match config.framework {
        Framework::Express => (EXPRESS, "express"),
        Framework::Fastify => (FASTIFY, "fastify"),
    };
    files.push((format!("src/server/{module}.ts"), with_header(adapter)));
    files.push((
        "src/server/app.ts".into(),
        with_header(&format!(
            "// The framework this tree was generated for (`framework` in ssot.toml).\nexport {{ startServer }} from \"./{module}.js\";\nexport type {{ RunningServer, StartOptions }} from \"./http.js\";\n"
        )),
    ));
    if has_realtime(ir) {
        for (path, text) in REALTIME {
            files.push(((*path).to_owned(), with_header(text)));
        }
        files.push((
            "src/server/realtime.ts".into(),
            with_header("// Models with @@realtime: the WebSocket gateway at /ws (src/realtime/).\nexport { attachRealtime } from \"../realtime/gateway.js\";\n"),
        ));
    } else {
        files.push((
            "src/server/realtime.ts".into(),
            with_header("// No model has @@realtime: no WebSocket gateway.\nexport async function attachRealtime(options: object): Promise<{ close(): Promise<void> }> {\n  void options;\n  return { close: async () => undefined };\n}\n"),
        ));
    }
    if config.hooks {
        for (path, text) in HOOKS {
            files.push(((*path).to_owned(), with_header(text)));
        }
        let mut hook_files = vec!["context".to_owned(), "cache".to_owned()];
        for m in served(ir) {
            let stem = file_stem(&m.name);
            files.push((format!("src/hooks/{stem}.ts"), super::hooks::hooks(m, has_realtime(ir))));
            hook_files.push(stem);
        }
        files.push(("src/hooks/index.ts".into(), super::barrel(&hook_files)));
    }
    files.push(("src/policies/schema.json".into(), crate::generate::schema::render(&crate::generate::schema::document(ir, config))));
    files.push(("src/server/claims.ts".into(), claims(ir, config)));
    files.push(("src/server/db.ts".into(), db(ir)));
    let models = served(ir);
    match config.mode {
        ServerMode::Registry => files.push(("src/server/routes.ts".into(), registry_routes(&models))),
        ServerMode::Controller => {
            for m in &models {
                files.push((format!("src/server/controllers/{}.ts", file_stem(&m.name)), controller(m)));
            }
            files.push(("src/server/routes.ts".into(), controller_routes(&models)));
        }
    }
    for f in &ir.prisma_files {
        files.push((
            format!("prisma/schema/{}", f.name),
            format!("// {HEADER}\n// A copy of the schema for Prisma 7: no generator blocks, no datasource URL.\n\n{}", f.text),
        ));
    }
    files.push(("prisma/schema/_ssot.prisma".into(), generator_block(ir)));
    files.push(("prisma.config.ts".into(), with_header(PRISMA_CONFIG)));
    files.push(("vitest.config.ts".into(), with_header(VITEST_CONFIG)));
    files.push(("tests/api.test.ts".into(), api_tests(ir, config, &models)));
    files.push(("tests/claims.ts".into(), test_claims(ir, config)));
    files
}

/// The user's plugins: written once, theirs when they change it ([`crate::writer::user_replaceable`]).
const CUSTOM: &str = "// Your plugins: hooks on the writes of every model, routes of your own, startup and shutdown
// (the `ServerPlugin` interface of ./plugin.ts; docs/plugins.md). ssot wrote this file once: when
// you change it, it is yours and is never overwritten.
import type { ServerPlugin } from \"./plugin.js\";

export function plugins(): ServerPlugin[] {
  return [];
}
";

/// `src/server/plugins.ts`: each active plugin's server module, created with its options, then
/// the user's (`custom.ts`).
fn plugins_module(plugins: &[(String, crate::plugin::Contribution)]) -> String {
    let mut imports = vec![
        js::render(&js::import(false, &["plugins as custom".to_owned()], "./custom.js")),
        js::render(&js::import(true, &["ServerPlugin".to_owned()], "./plugin.js")),
    ];
    let mut list = Vec::new();
    for (name, c) in plugins {
        let Some(m) = &c.server_module else { continue };
        let alias = format!("{}Plugin", heck::ToLowerCamelCase::to_lower_camel_case(name.as_str()));
        imports.push(format!("import * as {alias} from \"./{}.js\";", m.path));
        list.push(call(js::member(id(alias), "create"), vec![js::json(&m.options)]));
    }
    list.push(E::Spread(Box::new(call(id("custom"), vec![]))));
    let body = js::return_stmt(&E::Arr(list));
    let function = js::function(true, "plugins", &[], Some(&ty("ServerPlugin[]")), &body);
    format!(
        "// {HEADER}\n\n// The server's plugins in the order they run: those enabled in ssot.toml (docs/plugins.md),\n// then yours (custom.ts). `start()` creates them once per server.\n{}\n\n{}\n",
        imports.join("\n"),
        js::render(&function)
    )
}

const PRISMA_CONFIG: &str = r#"// Prisma 7 reads the database URL from here, not from the schema.
import { defineConfig } from "prisma/config";

try {
  process.loadEnvFile(".env");
} catch {
  // No .env file: the environment alone.
}

export default defineConfig({
  schema: "prisma/schema",
  datasource: { url: process.env.DATABASE_URL ?? "" },
});
"#;

const VITEST_CONFIG: &str = r#"import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 30_000,
  },
});
"#;

/// Preview features of Prisma 5 and 6 that Prisma 7 no longer knows (`metrics`: an error) or
/// made generally available (a warning at every `prisma generate`): left out of the tree's
/// generator block, and listed in its README.
const PRISMA7_DROPPED: &[&str] = &[
    "metrics",
    "jsonProtocol",
    "driverAdapters",
    "prismaSchemaFolder",
    "fullTextSearch",
    "fullTextIndex",
    "multiSchema",
    "tracing",
    "omitApi",
    "queryCompiler",
    "interactiveTransactions",
    "extendedWhereUnique",
    "clientExtensions",
    "fieldReference",
    "filteredRelationCount",
    "orderByNulls",
    "improvedQueryRaw",
    "referentialIntegrity",
    "namedConstraints",
    "nativeTypes",
    "selectRelationCount",
    "orderByRelation",
    "napi",
    "dataProxy",
    "microsoftSqlServer",
    "mongoDb",
    "cockroachdb",
    "deno",
];

/// The schema's preview features that the Prisma 7 copy keeps, and those it drops.
pub fn prisma7_preview_features(ir: &Ir) -> (Vec<&str>, Vec<&str>) {
    ir.preview_features.iter().map(String::as_str).partition(|f| !PRISMA7_DROPPED.iter().any(|d| d.eq_ignore_ascii_case(f)))
}

fn generator_block(ir: &Ir) -> String {
    let mut s = format!(
        "// {HEADER}\n// The Prisma 7 client the generated server uses (`npx prisma generate`).\n\ngenerator client {{\n  provider            = \"prisma-client\"\n  output              = \"../../src/generated/prisma\"\n  importFileExtension = \"js\"\n"
    );
    let (kept, _) = prisma7_preview_features(ir);
    if !kept.is_empty() {
        let list: Vec<String> = kept.iter().map(|f| format!("\"{f}\"")).collect();
        s.push_str(&format!("  previewFeatures     = [{}]\n", list.join(", ")));
    }
    s.push_str("}\n");
    s
}

fn claims(ir: &Ir, config: &Config) -> String {
    let mut enums = Vec::new();
    let mut props = Vec::new();
    for c in &config.claims {
        let base = match c.ty.as_str() {
            "String" => "z.string()".to_owned(),
            // Strict: see the claim schemas in `src/validators/common.ts`.
            "Int" => "intClaim()".to_owned(),
            "BigInt" => "bigIntClaim()".to_owned(),
            "Float" | "Decimal" => "numberClaim()".to_owned(),
            "Boolean" => "z.boolean()".to_owned(),
            "DateTime" => "z.string()".to_owned(),
            e if ir.enum_(e).is_some() => {
                enums.push(format!("{}Schema", ts_type(e)));
                format!("{}Schema", ts_type(e))
            }
            _ => "z.unknown()".to_owned(),
        };
        let expr = if c.list { format!("z.array({base})") } else { base };
        props.push(format!("  {}: {expr},", crate::names::ts_key(&c.name)));
    }
    enums.sort();
    enums.dedup();
    let mut s =
        format!("// {HEADER}\n\n// The principal's claims, as declared under [auth.claims] in ssot.toml.\nimport {{ z }} from \"zod\";\n");
    let mut helpers: Vec<String> = ["intClaim", "bigIntClaim", "numberClaim"]
        .into_iter()
        .filter(|h| props.iter().any(|p| p.contains(&format!("{h}()"))))
        .map(str::to_owned)
        .collect();
    helpers.sort();
    if !helpers.is_empty() {
        s.push_str(&super::import_line(false, &helpers, "../validators/common.js"));
        s.push('\n');
    }
    if !enums.is_empty() {
        s.push_str(&super::import_line(false, &enums, "../validators/enums.js"));
        s.push('\n');
    }
    s.push_str(&format!("\nexport const PrincipalSchema = z.object({{\n{}\n}});\n", props.join("\n")));
    s.push_str("\nexport type Principal = z.infer<typeof PrincipalSchema>;\n");
    s
}

fn db(ir: &Ir) -> String {
    let (import, make) = match ir.provider.as_str() {
        "sqlite" => ("import { PrismaBetterSqlite3 } from \"@prisma/adapter-better-sqlite3\";", "new PrismaBetterSqlite3({ url })"),
        "mysql" => ("import { PrismaMariaDb } from \"@prisma/adapter-mariadb\";", "new PrismaMariaDb(url)"),
        "sqlserver" => ("import { PrismaMssql } from \"@prisma/adapter-mssql\";", "new PrismaMssql(url)"),
        // `application_name` tells the `external_writes` triggers the API's own writes (the URL's wins).
        _ => ("import { PrismaPg } from \"@prisma/adapter-pg\";", "new PrismaPg({ connectionString: url, application_name: \"ssot\" })"),
    };
    let insensitive = matches!(ir.provider.as_str(), "postgresql" | "postgres" | "cockroachdb");
    format!(
        "// {HEADER}\n\n// The Prisma 7 client on the driver adapter of the schema's provider ({}).\n{import}\n\n/**\n * What the server uses of the Prisma client; the engine reaches the model delegates by name.\n * The client (`../generated/prisma/client.ts`) is loaded at run time without its types, so tsc\n * does not check Prisma's generated code for every model (most of its memory on large schemas);\n * modules of yours that import the client still get its types.\n */\nexport interface Db {{\n  $queryRawUnsafe(query: string): Promise<unknown>;\n  $disconnect(): Promise<void>;\n}}\n\nconst clientModule = \"../generated/prisma/client.js\";\nconst {{ PrismaClient }} = (await import(clientModule)) as {{\n  PrismaClient: new (options: {{ adapter: unknown }}) => Db;\n}};\n\n/** Case-insensitive `contains` in search (PostgreSQL and CockroachDB). */\nexport const INSENSITIVE_SEARCH = {insensitive};\n\nexport function createDb(url: string): Db {{\n  if (url === \"\") throw new Error(\"DATABASE_URL is not set\");\n  return new PrismaClient({{\n    adapter: {make},\n  }});\n}}\n",
        ir.provider
    )
}

/// `{ spec, inputs }` of a model: `inputs` loads the model's input schemas on the first write
/// (`<stem>.input.js` imports no other model), so a server of many models starts without
/// building the Zod schemas of all of them.
fn binding(m: &Model) -> E {
    let mut props = vec![P::Kv("spec".into(), call(id("model"), vec![str_lit(&m.name)]))];
    if m.kind != ModelKind::View {
        props.push(P::Kv("inputs".into(), call(id("lazyInputs"), vec![str_lit(&file_stem(&m.name))])));
    }
    E::Obj(props, false)
}

fn registry_routes(models: &[&Model]) -> String {
    let mut s = format!(
        "// {HEADER}\n\n// Registry mode: one generic CRUD engine, driven by the model metadata of\n// `../policies/schema.json`, serves every model.\nimport {{ model }} from \"../policies/index.js\";\n"
    );
    s.push_str("import type { Binding } from \"./engine.js\";\nimport { lazyInputs } from \"./engine.js\";\nimport type { Route } from \"./http.js\";\nimport { modelRoutes, systemRoutes } from \"./http.js\";\n\n");
    s.push_str("/** Every model the API serves, with its input schemas. */\n");
    let registry = E::Arr(models.iter().map(|m| binding(m)).collect());
    s.push_str(&js::render(&js::const_decl(true, "registry", Some(&T::Array(Box::new(ty("Binding")))), &registry)));
    s.push_str("\n\nexport const routes: Route[] = [...systemRoutes(), ...registry.flatMap((b) => modelRoutes(b))];\n");
    s
}

fn controller(m: &Model) -> String {
    let name = ts_type(&m.name);
    let var = lower_first(&name);
    let mut s = format!(
        "// {HEADER}\n\n// Controller mode: the routes of {name}, each with its own handler.\nimport {{ model }} from \"../../policies/index.js\";\n"
    );
    s.push_str("import type { Binding } from \"../engine.js\";\nimport { lazyInputs } from \"../engine.js\";\nimport type { Handler, Route } from \"../http.js\";\nimport { idOf, modelRoutes } from \"../http.js\";\n\n");
    s.push_str(&js::render(&js::const_decl(true, &format!("{var}Binding"), Some(&ty("Binding")), &binding(m))));
    s.push('\n');
    s.push_str(&format!(
        "\n/** List {name} rows: filter, sort, paginate, include. */\nexport const list: Handler = async (s, b, req, auth) => ({{\n  status: 200,\n  body: await s.engine.list(b, req.query, auth),\n}});\n\n/** Count {name} rows matching the filter. */\nexport const count: Handler = async (s, b, req, auth) => ({{\n  status: 200,\n  body: await s.engine.count(b, req.query, auth),\n}});\n\n/** Full-text search (models with `@@search`). */\nexport const search: Handler = async (s, b, req, auth) => ({{\n  status: 200,\n  body: await s.engine.search(b, req.query, auth),\n}});\n\n/** One {name} by id. */\nexport const get: Handler = async (s, b, req, auth) => ({{\n  status: 200,\n  body: await s.engine.get(b, idOf(b, req), req.query, auth),\n}});\n\n/** Create a {name}. */\nexport const create: Handler = async (s, b, req, auth) => ({{\n  status: 201,\n  body: await s.engine.create(b, req.body, auth),\n}});\n\n/** Update a {name}. */\nexport const update: Handler = async (s, b, req, auth) => ({{\n  status: 200,\n  body: await s.engine.update(b, idOf(b, req), req.body, auth),\n}});\n\n/** Delete a {name}. */\nexport const remove: Handler = async (s, b, req, auth) => {{\n  await s.engine.delete(b, idOf(b, req), auth);\n  return {{ status: 204 }};\n}};\n\n/** What the caller may do with {name} rows: create, update, delete, each field. */\nexport const permissions: Handler = async (s, b, _req, auth) => ({{\n  status: 200,\n  body: await s.engine.permissions(b, null, auth),\n}});\n\n/** What the caller may do with one {name} row. */\nexport const rowPermissions: Handler = async (s, b, req, auth) => ({{\n  status: 200,\n  body: await s.engine.permissions(b, idOf(b, req), auth),\n}});\n\n"
    ));
    let handlers =
        ["list", "count", "search", "get", "create", "update", "permissions", "rowPermissions"].iter().map(|h| P::Shorthand((*h).into()));
    let handlers = E::Obj(handlers.chain([P::Kv("delete".into(), id("remove"))]).collect(), true);
    let routes = call(id("modelRoutes"), vec![id(format!("{var}Binding")), handlers]);
    s.push_str(&js::render(&js::const_decl(true, &format!("{var}Routes"), Some(&T::Array(Box::new(ty("Route")))), &routes)));
    s.push('\n');
    s
}

fn controller_routes(models: &[&Model]) -> String {
    let mut s = format!("// {HEADER}\n\n// Controller mode: one controller file per model under `./controllers/`.\n");
    let mut imports: Vec<String> = models
        .iter()
        .map(|m| {
            super::import_line(
                false,
                &[format!("{}Routes", lower_first(&ts_type(&m.name)))],
                &format!("./controllers/{}.js", file_stem(&m.name)),
            )
        })
        .collect();
    imports.sort();
    for i in imports {
        s.push_str(&i);
        s.push('\n');
    }
    s.push_str("import type { Route } from \"./http.js\";\nimport { systemRoutes } from \"./http.js\";\n\n");
    let items = std::iter::once(E::Spread(Box::new(call(id("systemRoutes"), vec![]))))
        .chain(models.iter().map(|m| E::Spread(Box::new(id(format!("{}Routes", lower_first(&ts_type(&m.name))))))))
        .collect();
    s.push_str(&js::render(&js::const_decl(true, "routes", Some(&T::Array(Box::new(ty("Route")))), &E::Arr(items))));
    s.push('\n');
    s
}

fn api_tests(ir: &Ir, config: &Config, models: &[&Model]) -> String {
    let mut s = format!(
        "// {HEADER}\n\n// API tests for this schema, against the database in DATABASE_URL (tables created with\n// `npm run db:push`). Run with `npm test`.\nimport {{ spawn }} from \"node:child_process\";\nimport {{ afterAll, beforeAll, describe, expect, it }} from \"vitest\";\n__SUPPORT_IMPORTS__\n\nbeforeAll(startTestServer);\nafterAll(stopTestServer);\n\n/** Models whose create, read, update and delete all succeeded. */\nconst roundTrips = new Set<string>();\n\ndescribe(\"system routes\", () => {{\n  it(\"answers /health, /ready and /openapi.json\", async () => {{\n    expect((await anonymous(\"GET\", \"/health\")).status).toBe(200);\n    expect((await anonymous(\"GET\", \"/ready\")).status).toBe(200);\n    const doc = await anonymous(\"GET\", \"/openapi.json\");\n    expect(doc.status).toBe(200);\n    expect((doc.body as {{ openapi: string }}).openapi).toMatch(/^3\\.1/);\n  }});\n\n  it(\"answers unknown routes with problem+json and a request id\", async () => {{\n    const res = await anonymous(\"GET\", \"/api/no-such-model\");\n    expect(res.status).toBe(404);\n    expect(res.headers.get(\"content-type\")).toContain(\"application/problem+json\");\n    expect(res.headers.get(\"x-request-id\")).toBeTruthy();\n  }});\n\n  it(\"starts in a child process, as `npm run dev` does\", async () => {{\n    // Not in process: a module that only fails when Node loads it must fail the suite too.\n    const child = spawn(process.execPath, [\"--import\", \"tsx\", \"src/server/main.ts\"], {{\n      env: {{ ...process.env, PORT: \"0\", LOG_LEVEL: \"info\", REDIS_URL: \"\" }},\n      stdio: [\"ignore\", \"pipe\", \"pipe\"],\n    }});\n    let output = \"\";\n    const listening = await new Promise<boolean>((resolve) => {{\n      const timer = setTimeout(() => resolve(false), 20_000);\n      const read = (chunk: Buffer) => {{\n        output += chunk.toString();\n        if (output.includes('\"msg\":\"listening\"')) {{\n          clearTimeout(timer);\n          resolve(true);\n        }}\n      }};\n      child.stdout.on(\"data\", read);\n      child.stderr.on(\"data\", read);\n      child.on(\"exit\", () => {{\n        clearTimeout(timer);\n        resolve(false);\n      }});\n    }});\n    child.kill(\"SIGTERM\");\n    expect(listening, output).toBe(true);\n  }}, 30_000);\n}});\n"
    );
    // Models that must make a full round trip: those with a CRUD test, no policy and no parent
    // with one (a policy may deny the test principal).
    let mut must = 0;
    for m in models {
        let path = model_path(m);
        let auth = m.annotations.auth.clone().unwrap_or_else(|| config.auth_default.clone());
        let public = auth.contains(&AuthMethod::Public);
        let via = credential(m, config);
        let outer = std::mem::take(&mut s);
        s.push_str(&format!("\ndescribe({}, () => {{\n", super::quoted(&m.name)));
        s.push_str(&js::render_at(&js::const_decl(false, "path", None, &str_lit(&format!("/api/{path}"))), 2));
        s.push_str(&format!("\n  const call = (method: string, url: string, body?: unknown) => api(method, url, body, \"{via}\");\n\n"));
        s.push_str(
            "  it(\"lists with meta and counts\", async () => {\n    const list = await call(\"GET\", `${path}?take=2`);\n    expect(list.status).toBe(200);\n    const page = list.body as { data: unknown[]; meta: { total: number } };\n    expect(page.data.length).toBeLessThanOrEqual(2);\n    const count = await call(\"GET\", `${path}/count`);\n    expect(count.status).toBe(200);\n    expect((count.body as { count: number }).count).toBe(page.meta.total);\n  });\n\n  it(\"rejects bad query parameters with 400\", async () => {\n    expect((await call(\"GET\", `${path}?take=-1`)).status).toBe(400);\n    expect((await call(\"GET\", `${path}?filter[noSuchField][equals]=1`)).status).toBe(400);\n  });\n",
        );
        if !m.id_fields().is_empty() {
            s.push_str(
                "\n  it(\"pages with cursors without repeating rows\", async () => {\n    type Page = { data: unknown[]; meta: { total: number; nextCursor: string | null } };\n    const first = (await call(\"GET\", `${path}?take=1`)).body as Page;\n    expect(first.meta.nextCursor === null).toBe(first.meta.total <= 1);\n    if (first.meta.nextCursor !== null) {\n      const next = await call(\"GET\", `${path}?take=1&cursor=${first.meta.nextCursor}`);\n      expect((next.body as Page).data[0]).not.toEqual(first.data[0]);\n    }\n  });\n",
            );
        }
        if let Some(sample) = sample_body(ir, config, m, true) {
            if m.annotations.policy.is_none() && sample.parents.iter().all(|p| p.open) {
                must += 1;
            }
            s.push_str(&crud_test(m, &sample));
        }
        let never: Vec<String> =
            m.data_fields().filter(|f| f.annotations.hidden || f.annotations.write_only).map(|f| super::quoted(&f.name)).collect();
        if !never.is_empty() {
            let one = format!("    const never = [{}];", never.join(", "));
            let list = if one.len() <= super::PRINT_WIDTH {
                one
            } else {
                format!("    const never = [\n{}    ];", never.iter().map(|n| format!("      {n},\n")).collect::<String>())
            };
            s.push_str(&format!(
                "\n  it(\"never returns @hidden or @writeOnly fields\", async () => {{\n{list}\n    const page = (await call(\"GET\", `${{path}}?take=100`)).body as {{ data: object[] }};\n    for (const row of page.data) for (const f of never) expect(row).not.toHaveProperty(f);\n  }});\n"
            ));
        }
        if !public {
            s.push_str(
                "\n  it(\"needs credentials\", async () => {\n    expect((await anonymous(\"GET\", path)).status).toBe(401);\n  });\n",
            );
        }
        if m.kind == ModelKind::Model {
            s.push_str(
                "\n  it(\"rejects an invalid body with 400 and field errors\", async () => {\n    const res = await call(\"POST\", path, { \"no such field\": 1 });\n    expect(res.status).toBe(400);\n    expect(res.headers.get(\"content-type\")).toContain(\"application/problem+json\");\n    const errors = (res.body as { errors?: unknown[] }).errors ?? [];\n    expect(errors.length).toBeGreaterThan(0);\n  });\n",
            );
        }
        s.push_str("});\n");
        // `prisma db push` does not create views: a view missing from the database answers 503,
        // and its tests are skipped (and say why) instead of failing.
        if m.kind == ModelKind::View {
            let probe = "  let missing = false;\n  beforeAll(async () => {\n    missing = (await call(\"GET\", `${path}?take=1`)).status === 503;\n  });\n\n";
            s = s.replace(
                "async () => {\n",
                "async (ctx) => {\n    if (missing) ctx.skip(\"the view is not in the database: create it with a migration\");\n",
            );
            s = s.replacen("\n\n  it(", &format!("\n\n{probe}  it("), 1);
        }
        s = outer + &s;
    }
    let mut names: Vec<String> = vec!["anonymous".into(), "api".into(), "startTestServer".into(), "stopTestServer".into()];
    for helper in ["bytes", "createAs", "decimal", "int", "text", "unique", "uuid"] {
        if s.contains(&format!("{helper}(")) {
            names.push(helper.into());
        }
    }
    // Coverage: how many models made a full round trip, at least `must`.
    let all = E::Arr(models.iter().map(|m| str_lit(&m.name)).collect());
    s.push_str(&format!(
        "\ndescribe(\"coverage\", () => {{\n  it(\"round-trips every model whose rows can be created\", () => {{\n{}\n    const missed = models.filter((m) => !roundTrips.has(m));\n    console.log(`ssot: CRUD round trips for ${{roundTrips.size}} of ${{models.length}} models`);\n    if (missed.length > 0) console.log(`ssot: no round trip for ${{missed.join(\", \")}}`);\n    expect(roundTrips.size).toBeGreaterThanOrEqual({must});\n  }});\n}});\n",
        js::render_at(&js::const_decl(false, "models", None, &all), 4)
    ));
    names.sort();
    s.replace("__SUPPORT_IMPORTS__", &super::import_line(false, &names, "./support.js"))
}

/** Claims of the principal the generated tests call the API as (override with TEST_CLAIMS). */
fn test_claims(ir: &Ir, config: &Config) -> String {
    let mut props = Vec::new();
    for c in &config.claims {
        let value = match c.ty.as_str() {
            "Int" | "Float" | "Decimal" => json!(1),
            "BigInt" => json!("1"),
            "Boolean" => json!(false),
            e => match ir.enum_(e) {
                Some(en) => json!(en.values.last().map(|v| v.name.clone()).unwrap_or_default()),
                None => json!("test-user"),
            },
        };
        let value = if c.list { json!([value]) } else { value };
        props.push(format!("  {}: {},", crate::names::ts_key(&c.name), value));
    }
    format!(
        "// {HEADER}\n\n// The principal of the generated tests: the first id and the last value of enum claims.\nexport const TEST_CLAIMS: Record<string, unknown> = {{\n{}\n}};\n",
        props.join("\n")
    )
}

/// A create body of TS expressions that passes the model's validation, or None when one cannot be
/// made without knowing the data (a required foreign key, a regex rule, a composite type).
/// A row the test creates first because the sampled row needs its id (a required foreign key).
struct Parent {
    var: String,
    path: String,
    via: &'static str,
    open: bool,
    body: Vec<(String, E)>,
}

struct Sample {
    parents: Vec<Parent>,
    body: Vec<(String, E)>,
}

/// Calls with a bearer token unless the model only takes API keys.
fn credential(m: &Model, config: &Config) -> &'static str {
    let auth = m.annotations.auth.clone().unwrap_or_else(|| config.auth_default.clone());
    if !auth.contains(&AuthMethod::Jwt) && auth.contains(&AuthMethod::ApiKey) { "apiKey" } else { "jwt" }
}

/// How many required parents deep a sample may reach (Comment → Post → User → Tenant ...).
const PARENT_DEPTH: usize = 5;

fn sample_body(ir: &Ir, config: &Config, m: &Model, with_parents: bool) -> Option<Sample> {
    let mut parents = Vec::new();
    let depth = if with_parents { PARENT_DEPTH } else { 0 };
    let body = sample_fields(ir, config, m, depth, &mut parents, &mut vec![m.name.as_str()])?;
    Some(Sample { parents, body })
}

/// The create body of `m`; the rows it needs first are pushed onto `parents` (their own parents
/// before them). `chain` holds the models above, so a cycle of required keys gives up.
fn sample_fields<'a>(
    ir: &'a Ir,
    config: &Config,
    m: &'a Model,
    depth: usize,
    parents: &mut Vec<Parent>,
    chain: &mut Vec<&'a str>,
) -> Option<Vec<(String, E)>> {
    if m.kind != ModelKind::Model
        || m.id_fields().is_empty()
        || !m.id_fields().iter().all(|f| m.field(f).is_some_and(|f| f.annotations.in_output()))
    {
        return None;
    }
    // A required field the API does not accept (`@hidden`, `@readOnly`) leaves the row to the server.
    // So does a required `@ignore`d column: only the database could fill it.
    let ignored_required = m.fields.iter().any(|f| f.ignored && f.relation().is_none() && !f.optional_in_create());
    if ignored_required || m.data_fields().any(|f| !f.annotations.in_input() && !f.optional_in_create()) {
        return None;
    }
    let mut body = Vec::new();
    // The parent row created for each relation (by relation field name): every column of a
    // composite foreign key takes its value from the same parent.
    let mut created: Vec<(&str, String)> = Vec::new();
    for f in m.create_fields().filter(|f| !f.optional_in_create()) {
        if let Some((rf, r)) = m.relation_fields().find(|(_, r)| r.fields.contains(&f.name)) {
            let column = r.fields.iter().position(|x| *x == f.name)?;
            let var = match created.iter().find(|(rel, _)| *rel == rf.name) {
                Some((_, var)) => var.clone(),
                None => {
                    // A required foreign key: create the parent first (and its parents before it).
                    let target = ir.model(&r.model).filter(|t| t.annotations.expose.api)?;
                    if depth == 0 || chain.contains(&target.name.as_str()) {
                        return None;
                    }
                    chain.push(&target.name);
                    let parent_body = sample_fields(ir, config, target, depth - 1, parents, chain)?;
                    chain.pop();
                    let var = format!("parent{}", parents.len() + 1);
                    parents.push(Parent {
                        var: var.clone(),
                        path: model_path(target),
                        via: credential(target, config),
                        open: target.annotations.policy.is_none(),
                        body: parent_body,
                    });
                    created.push((&rf.name, var.clone()));
                    var
                }
            };
            let key = crate::names::ts_key(r.references.get(column)?);
            body.push((crate::names::ts_key(&f.name), js::member(id(&var), key)));
            continue;
        }
        let rules = &f.annotations.validate;
        let num = |min: f64, max: f64| {
            let lo = rules.iter().find_map(|r| if let ValidateRule::Min(v) = r { Some(*v) } else { None }).unwrap_or(min);
            let hi = rules.iter().find_map(|r| if let ValidateRule::Max(v) = r { Some(*v) } else { None }).unwrap_or(max);
            (lo.ceil() as i64, hi.floor() as i64)
        };
        let value = match &f.ty {
            FieldType::Enum(e) => str_lit(&ir.enum_(e)?.values.first()?.name),
            FieldType::Composite(_) | FieldType::Relation(_) | FieldType::Unsupported(_) => return None,
            FieldType::Scalar(st) => match st {
                ScalarType::String => {
                    if rules.iter().any(|r| matches!(r, ValidateRule::Regex(_))) {
                        return None;
                    } else if rules.contains(&ValidateRule::Email) {
                        id("`${unique()}@example.com`")
                    } else if rules.contains(&ValidateRule::Url) {
                        id("`https://example.com/${unique()}`")
                    } else if rules.contains(&ValidateRule::Uuid) {
                        call(id("uuid"), vec![])
                    } else {
                        let min = rules.iter().find_map(|r| if let ValidateRule::MinLength(v) = r { Some(*v) } else { None }).unwrap_or(1);
                        let max = rules.iter().find_map(|r| if let ValidateRule::MaxLength(v) = r { Some(*v) } else { None }).unwrap_or(64);
                        call(id("text"), vec![id(min.to_string()), id(max.to_string())])
                    }
                }
                ScalarType::Int => {
                    let (lo, hi) = num(1.0, 1_000_000.0);
                    call(id("int"), vec![id(lo.to_string()), id(hi.to_string())])
                }
                ScalarType::BigInt => call(id("String"), vec![call(id("int"), vec![id("1"), id("1_000_000")])]),
                ScalarType::Float => {
                    let (lo, hi) = num(0.0, 1000.0);
                    call(id("int"), vec![id(lo.to_string()), id(hi.to_string())])
                }
                ScalarType::Decimal => call(id("decimal"), vec![]),
                ScalarType::Boolean => id("true"),
                ScalarType::DateTime => call(js::member(E::New("Date".into(), vec![]), "toISOString"), vec![]),
                ScalarType::Json => E::Obj(vec![], false),
                // Random: a `Bytes @unique` (or id) must not collide with the last run's row.
                ScalarType::Bytes => call(id("bytes"), vec![]),
            },
        };
        if f.is_list() {
            return None;
        }
        body.push((crate::names::ts_key(&f.name), value));
    }
    Some(body)
}

/// `const name = await callee(args..., { props });`, four columns in (a test body).
fn await_call(name: &str, callee: &str, mut args: Vec<E>, props: &[(String, E)]) -> String {
    args.push(E::Obj(props.iter().map(|(k, v)| P::Kv(k.clone(), v.clone())).collect(), false));
    js::render_at(&js::const_decl(false, name, None, &E::Await(Box::new(call(id(callee), args)))), 4)
}

/// Create, read, update, delete one row; strict for models without `@@policy`, where a policy
/// may deny the test principal a 403 is the other accepted answer.
fn crud_test(m: &Model, sample: &Sample) -> String {
    let open = m.annotations.policy.is_none();
    let mut pre = String::new();
    for p in &sample.parents {
        let res = format!("{}Res", p.var);
        pre.push_str(&await_call(&res, "createAs", vec![str_lit(p.via), str_lit(&format!("/api/{}", p.path))], &p.body));
        pre.push('\n');
        if p.open {
            pre.push_str(&format!("    expect({res}.status).toBe(201);\n"));
        } else {
            pre.push_str(&format!("    if ({res}.status !== 201) return; // the parent's policy denies the test principal\n"));
        }
        pre.push_str(&format!("    const {} = {res}.body as Record<string, unknown>;\n", p.var));
    }
    let create = format!("{pre}{}", await_call("created", "call", vec![str_lit("POST"), id("path")], &sample.body));
    let ids: Vec<String> = m
        .id_fields()
        .iter()
        .map(|f| format!("row{}", if crate::names::ts_key(f) == *f { format!(".{f}") } else { format!("[{}]", super::quoted(f)) }))
        .collect();
    let url = if ids.len() == 1 {
        format!("    const url = `${{path}}/${{encodeURIComponent(String({}))}}`;", ids[0])
    } else {
        format!("    const url = `${{path}}/${{[{}].map((v) => encodeURIComponent(String(v))).join(\"/\")}}`;", ids.join(", "))
    };
    let mut t = String::from("\n  it(\"creates, reads, updates and deletes a row\", async () => {\n");
    t.push_str(&create);
    t.push('\n');
    if open {
        t.push_str("    expect(created.status).toBe(201);\n");
    } else {
        t.push_str("    // The policy may deny the test principal; then nothing else can be checked.\n    expect([201, 403]).toContain(created.status);\n    if (created.status !== 201) return;\n");
    }
    t.push_str("    const row = created.body as Record<string, unknown>;\n");
    t.push_str(&url);
    t.push('\n');
    t.push_str("    const got = await call(\"GET\", url);\n    expect(got.status).toBe(200);\n    expect(got.body).toEqual(row);\n");
    let done = js::render_at(&js::expr_stmt(&call(js::path("roundTrips.add"), vec![str_lit(&m.name)])), 4);
    if open {
        t.push_str("    expect((await call(\"PATCH\", url, {})).status).toBe(200);\n    expect((await call(\"DELETE\", url)).status).toBe(204);\n    expect((await call(\"GET\", url)).status).toBe(404);\n");
        t.push_str(&done);
        t.push('\n');
    } else {
        t.push_str("    expect([200, 403]).toContain((await call(\"PATCH\", url, {})).status);\n    const deleted = await call(\"DELETE\", url);\n    expect([204, 403]).toContain(deleted.status);\n    if (deleted.status !== 204) return;\n    expect((await call(\"GET\", url)).status).toBe(404);\n");
        t.push_str(&done);
        t.push('\n');
    }
    t.push_str("  });\n");
    t
}
