//! Project files of the TypeScript tree: package.json with pinned versions, a strict
//! tsconfig, prettier and eslint settings, CI, `.env.template` and a README.

use super::openapi::print_json;
use crate::config::{Config, Framework};
use crate::generate::HEADER;
use crate::ir::{Ir, ModelKind};
use crate::names::ts_type;
use serde_json::json;

/// Pinned versions of what the generated code depends on. TypeScript 7 (the native compiler)
/// type-checks; typescript-eslint still needs TypeScript 6's API, so both are installed.
pub const VERSIONS: &[(&str, &str)] = &[
    ("zod", "4.6.7"),
    ("typescript", "6.0.3"),
    ("typescript-7", "npm:typescript@7.0.2"),
    ("@types/node", "20.19.43"),
    ("prettier", "3.10.1"),
    ("eslint", "10.15.0"),
    ("@eslint/js", "10.0.1"),
    ("typescript-eslint", "8.73.0"),
    ("prisma", "7.10.1"),
    ("@prisma/client", "7.10.0"),
    ("@prisma/adapter-pg", "7.10.1"),
    ("@prisma/adapter-better-sqlite3", "7.10.0"),
    ("@prisma/adapter-mariadb", "7.10.0"),
    ("@prisma/adapter-mssql", "7.10.0"),
    ("express", "5.3.0"),
    ("@types/express", "5.0.6"),
    ("cors", "2.8.6"),
    ("@types/cors", "2.8.19"),
    ("fastify", "5.12.8"),
    ("@fastify/cors", "11.4.3"),
    ("pino", "10.4.0"),
    ("jose", "6.2.17"),
    ("rate-limiter-flexible", "11.4.0"),
    ("tsx", "4.23.15"),
    ("vitest", "4.1.12"),
    ("ws", "8.23.0"),
    ("@types/ws", "8.18.2"),
    ("ioredis", "6.0.0"),
    ("react", "19.3.1"),
    ("@types/react", "19.3.0"),
    ("@tanstack/react-query", "5.108.0"),
];

/// The TypeScript-only tooling every tree gets as dev dependencies.
const TOOLING: &[&str] = &["typescript", "typescript-7", "@types/node", "prettier", "eslint", "@eslint/js", "typescript-eslint"];

fn version(name: &str) -> &'static str {
    VERSIONS.iter().chain(super::ui::VERSIONS).find(|(n, _)| *n == name).map(|(_, v)| *v).unwrap_or("*")
}

pub fn generate(ir: &Ir, config: &Config, plugins: &[(String, crate::plugin::Contribution)]) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let server = super::server::has_server(ir);
    let mut deps = serde_json::Map::new();
    let mut dev = serde_json::Map::new();
    let dep = |map: &mut serde_json::Map<String, serde_json::Value>, n: &str| {
        map.insert(n.to_owned(), json!(version(n)));
    };
    dep(&mut deps, "zod");
    for n in TOOLING {
        dep(&mut dev, n);
    }
    if server {
        let adapter = match ir.provider.as_str() {
            "sqlite" => vec!["@prisma/adapter-better-sqlite3"],
            "mysql" => vec!["@prisma/adapter-mariadb"],
            "sqlserver" => vec!["@prisma/adapter-mssql"],
            _ => vec!["@prisma/adapter-pg"],
        };
        let framework = match config.framework {
            Framework::Express => vec!["express", "cors"],
            Framework::Fastify => vec!["fastify", "@fastify/cors"],
        };
        // ioredis: shared rate limits (and realtime fan-out) when REDIS_URL is set.
        for n in ["@prisma/client", "pino", "jose", "rate-limiter-flexible", "ioredis"]
            .into_iter()
            .chain(adapter)
            .chain(framework.iter().copied())
        {
            dep(&mut deps, n);
        }
        if config.hooks {
            dep(&mut deps, "react");
            dep(&mut deps, "@tanstack/react-query");
            dep(&mut dev, "@types/react");
        }
        for n in ["prisma", "tsx", "vitest"] {
            dep(&mut dev, n);
        }
        if super::server::has_realtime(ir) {
            dep(&mut deps, "ws");
            dep(&mut dev, "@types/ws");
        }
        if config.framework == Framework::Express {
            dep(&mut dev, "@types/express");
            dep(&mut dev, "@types/cors");
        }
        for (_, c) in plugins {
            for (n, v) in &c.dependencies {
                deps.insert(n.clone(), json!(v));
            }
            for (n, v) in &c.dev_dependencies {
                dev.insert(n.clone(), json!(v));
            }
        }
    }
    let ui = super::ui::enabled(ir, config);
    if ui {
        for n in ["next", "react-dom", "react-hook-form", "@hookform/resolvers", "@tanstack/react-table", "radix-ui"] {
            dep(&mut deps, n);
        }
        for n in ["@types/react-dom", "tailwindcss", "@tailwindcss/postcss", "concurrently"] {
            dep(&mut dev, n);
        }
    }
    let mut scripts = serde_json::Map::new();
    let mut script = |n: &str, v: &str| {
        scripts.insert(n.to_owned(), json!(v));
    };
    let typecheck = if ui {
        "node node_modules/typescript-7/bin/tsc --noEmit && node node_modules/typescript-7/bin/tsc --noEmit -p tsconfig.ui.json"
    } else {
        "node node_modules/typescript-7/bin/tsc --noEmit"
    };
    if server {
        if ui {
            // The API and the admin UI together; the UI finds the API at NEXT_PUBLIC_API_URL.
            script("dev", "concurrently -k -n api,ui \"npm:dev:api\" \"npm:dev:ui\"");
            script("dev:api", "tsx watch src/server/main.ts");
            script("dev:ui", "next dev --port ${UI_PORT:-3001}");
        } else {
            script("dev", "tsx watch src/server/main.ts");
        }
        // Production runs the JavaScript of `npm run build` (dist/), not tsx; `next build`
        // type-checks app/ with tsconfig.ui.json itself.
        script("start", "node --enable-source-maps dist/server/main.js");
        if ui {
            script("start:ui", "next start --port ${UI_PORT:-3001}");
        }
        script(
            "build",
            &format!(
                "prisma generate && node node_modules/typescript-7/bin/tsc -p tsconfig.build.json{}",
                if ui { " && next build" } else { "" }
            ),
        );
        script("test", "vitest run");
        script("db:push", "prisma db push");
        script("db:generate", "prisma generate");
    }
    script("typecheck", typecheck);
    script("lint", "eslint .");
    script("format", "prettier --write .");
    script("format:check", "prettier --check .");
    script("check", "npm run typecheck && npm run lint && npm run format:check");
    let package = json!({
        "//": HEADER,
        "name": "ssot-generated",
        "version": "0.0.0",
        "private": true,
        "type": "module",
        "main": "./src/index.ts",
        "exports": { ".": "./src/index.ts", "./openapi.json": "./src/openapi.json" },
        "scripts": serde_json::Value::Object(scripts),
        "dependencies": serde_json::Value::Object(deps),
        "devDependencies": serde_json::Value::Object(dev),
    });
    let mut text = String::new();
    print_json(&package, 0, &mut text);
    files.push(("package.json".into(), text + "\n"));

    files.push((
        "tsconfig.json".into(),
        format!(
            "// {HEADER}\n{{\n  \"compilerOptions\": {{\n    \"target\": \"ES2022\",\n    \"lib\": [\"ES2022\", \"DOM\"],\n    \"module\": \"NodeNext\",\n    \"moduleResolution\": \"NodeNext\",\n    \"strict\": true,\n    \"noUncheckedIndexedAccess\": true,\n    \"noImplicitOverride\": true,\n    \"verbatimModuleSyntax\": true,\n    \"resolveJsonModule\": true,\n    \"skipLibCheck\": true,\n    \"noEmit\": true,\n    \"types\": [\"node\"]\n  }},\n  \"include\": [{}]{}\n}}\n",
            if server { "\"src\", \"tests\", \"prisma.config.ts\", \"vitest.config.ts\"" } else { "\"src\"" },
            // Prisma's generated client is checked only where a module of the user's imports it.
            if server { ",\n  \"exclude\": [\"src/generated\"]" } else { "" }
        ),
    ));
    if server {
        // `npm run build`: the server's JavaScript in dist/, what `npm start` runs. Prisma's client
        // (src/generated, loaded by a dynamic import the type-check skips) is compiled too.
        files.push((
            "tsconfig.build.json".into(),
            format!(
                "// {HEADER}\n{{\n  \"extends\": \"./tsconfig.json\",\n  \"compilerOptions\": {{\n    \"noEmit\": false,\n    \"outDir\": \"dist\",\n    \"rootDir\": \"src\",\n    \"sourceMap\": true\n  }},\n  \"include\": [\"src\"],\n  \"exclude\": []\n}}\n"
            ),
        ));
    }
    if ui {
        // Next.js type-checks and bundles `app/` with this one; it extends the tree's settings, so
        // `next build` leaves it as it is.
        files.push((
            "tsconfig.ui.json".into(),
            format!(
                "// {HEADER}\n{{\n  \"extends\": \"./tsconfig.json\",\n  \"compilerOptions\": {{\n    \"lib\": [\"ES2022\", \"DOM\", \"DOM.Iterable\"],\n    \"module\": \"NodeNext\",\n    \"moduleResolution\": \"NodeNext\",\n    \"jsx\": \"react-jsx\",\n    \"isolatedModules\": true,\n    \"esModuleInterop\": true,\n    \"types\": [\"node\"],\n    \"plugins\": [{{ \"name\": \"next\" }}]\n  }},\n  \"include\": [\"next-env.d.ts\", \"app\", \".next/types/**/*.ts\"],\n  \"exclude\": [\"node_modules\", \"src/generated\"]\n}}\n"
            ),
        ));
    }
    // Next.js writes `.next/` and `next-env.d.ts` when it builds.
    let next = if ui { ".next\nnext-env.d.ts\n" } else { "" };
    files.push((".prettierignore".into(), format!("# {HEADER}\nsrc/generated\ndist\n{next}")));
    files.push((".gitignore".into(), format!("# {HEADER}\nnode_modules\nsrc/generated\ndist\n.env\n*.db\n{next}")));
    files.push((".prettierrc".into(), format!("# {HEADER}\nprintWidth: {}\n", super::PRINT_WIDTH)));
    files.push((
        "eslint.config.js".into(),
        format!(
            "// {HEADER}\nimport js from \"@eslint/js\";\nimport tseslint from \"typescript-eslint\";\n\nexport default tseslint.config(\n  {{ ignores: [\"node_modules\", \"src/generated\", \"dist\", \".next\", \"next-env.d.ts\"] }},\n  js.configs.recommended,\n  ...tseslint.configs.strict,\n  {{\n    rules: {{\n      \"@typescript-eslint/no-explicit-any\": \"error\",\n    }},\n  }},\n);\n"
        ),
    ));
    files.push((
        ".env.template".into(),
        if server { env_template(&ir.provider, ui, plugins) } else {
        format!(
            "# {HEADER}\n# Copy to .env and fill in. The SDK reads nothing from the environment; these are for\n# the generated server and the tests that use it.\n\n# Where the API is served.\nAPI_URL=http://127.0.0.1:3000\n"
        ) },
    ));
    let models: Vec<String> = ir.api_models().filter(|m| m.annotations.expose.api).map(|m| format!("`{}`", ts_type(&m.name))).collect();
    let table = md_table(&[
        ["folder", "what"],
        ["`src/contracts/`", "types: models, create/update inputs, filters, enums"],
        ["`src/validators/`", "Zod 4 schemas for models and inputs, with every `@validate` rule"],
        ["`src/openapi.json`", "OpenAPI 3.1 of the HTTP API"],
        ["`src/sdk/`", "`DataClient`, `HttpTransport` on `fetch`, a client per model"],
    ]);
    let example = ir.api_models().find(|m| m.annotations.expose.api).map(|m| {
        let name = ts_type(&m.name);
        let key = name[..1].to_lowercase() + &name[1..];
        use super::js::{E, P, call_path, const_decl, id, render};
        let list = call_path(&format!("api.{key}.list"), vec![E::Obj(vec![P::Kv("take".into(), id("20"))], false)]);
        format!(
            "\n```ts\nimport {{ createHttpClient }} from \"./src/index.js\";\n\nconst api = createHttpClient({{ baseUrl: \"http://127.0.0.1:3000\" }});\n{}\n```\n",
            render(&const_decl(false, "page", None, &E::Await(Box::new(list))))
        )
    });
    let (_, dropped) = super::server::prisma7_preview_features(ir);
    let dropped = if server && !dropped.is_empty() {
        let list: Vec<String> = dropped.iter().map(|f| format!("`{f}`")).collect();
        format!(
            "\nThe Prisma 7 client of this tree leaves out preview features of the schema that Prisma 7\nno longer knows or made generally available: {}.\n",
            list.join(", ")
        )
    } else {
        String::new()
    };
    let views: Vec<String> = ir.api_models().filter(|m| m.kind == ModelKind::View).map(|m| format!("`{}`", m.name)).collect();
    let views = if server && !views.is_empty() {
        format!(
            "\nViews ({}): `npm run db:push` creates no views. Create each with a migration\n(`npx prisma migrate dev --create-only`, then write its `CREATE VIEW`); until then its routes\nanswer 503 and its generated tests are skipped.\n",
            views.join(", ")
        )
    } else {
        String::new()
    };
    let dropped = dropped + &views;
    files.push((
        "README.md".into(),
        format!(
            "<!-- {HEADER} -->\n\n# Generated TypeScript\n\nGenerated by ssot from the Prisma schema ({} models: {}). Do not edit these files: edit\nthe schema and regenerate.\n\n{table}{}\n`npm install && npm run check` type-checks (TypeScript 7), lints and checks formatting.\nTypeScript 6 is installed too because typescript-eslint needs its API.\n{dropped}",
            models.len(),
            models.join(", "),
            example.unwrap_or_default()
        ),
    ));
    if server {
        files.extend(super::deploy::generate(&ir.provider, ui, plugins));
    }
    files.push((
        ".github/workflows/ci.yml".into(),
        format!(
            "# {HEADER}\nname: generated-ts\non: [push, pull_request]\njobs:\n  check:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: actions/setup-node@v4\n        with:\n          node-version: 20\n      - run: npm install\n      - run: npm run check\n"
        ),
    ));
    files
}

/// A markdown table with aligned columns, as prettier prints it.
fn md_table(rows: &[[&str; 2]]) -> String {
    let w0 = rows.iter().map(|r| r[0].chars().count()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r[1].chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for (i, r) in rows.iter().enumerate() {
        out.push_str(&format!("| {:w0$} | {:w1$} |\n", r[0], r[1]));
        if i == 0 {
            out.push_str(&format!("| {} | {} |\n", "-".repeat(w0), "-".repeat(w1)));
        }
    }
    out
}

/// Every variable the generated server reads, with its default.
fn env_template(provider: &str, ui: bool, plugins: &[(String, crate::plugin::Contribution)]) -> String {
    let url = match provider {
        "sqlite" => "file:./dev.db",
        "mysql" => "mysql://user:password@127.0.0.1:3306/app",
        "sqlserver" => "sqlserver://127.0.0.1:1433;database=app;user=sa;password=secret;trustServerCertificate=true",
        _ => "postgresql://postgres@127.0.0.1:5432/app",
    };
    format!(
        "# {HEADER}
# Copy to .env and fill in. The server reads these; the SDK reads nothing from the environment.

# Database (Prisma 7 reads it through prisma.config.ts).
DATABASE_URL={url}

# Where the API listens, and where clients find it.
HOST=127.0.0.1
PORT=3000
API_URL=http://127.0.0.1:3000

# JWT verification: HS256 with JWT_SECRET, or RS256 with JWT_PUBLIC_KEY (PEM) or JWKS_URL.
JWT_SECRET=
JWT_PUBLIC_KEY=
JWKS_URL=
JWT_ISSUER=
JWT_AUDIENCE=
# Tokens without `exp` are refused; false accepts them (they never expire).
JWT_REQUIRE_EXP=true

# API keys (models with @@auth(apiKey)): a JSON object of key -> claims of [auth.claims].
API_KEYS={{}}

# Comma-separated origins allowed by CORS (empty: no CORS headers).
CORS_ORIGINS=

# Largest request body in bytes (larger bodies get 413).
BODY_LIMIT=1048576

# Default rate limit per principal (or address) for models without @@rateLimit; 0 turns it off.
RATE_LIMIT=600
RATE_LIMIT_WINDOW=60
# While REDIS_URL's Redis cannot count: open (each instance counts in its memory) or closed (503).
RATE_LIMIT_FAIL=open

# Page sizes of list routes.
DEFAULT_PAGE_SIZE=20
MAX_PAGE_SIZE=1000

# pino level: trace, debug, info, warn, error, fatal or silent.
LOG_LEVEL=info

# On SIGTERM: milliseconds during which /ready answers 503 while requests are still served, so a
# load balancer stops sending new ones before the server stops accepting.
SHUTDOWN_DELAY_MS=0

# Realtime (models with @@realtime): Redis for fan-out across instances (empty: in process),
# message size limit (1009 above it), per-subscriber buffer (1013 above it), heartbeat period,
# subscriptions per socket. Origins are checked against CORS_ORIGINS when it is set.
REDIS_URL=
WS_MAX_MESSAGE_BYTES=65536
WS_MAX_BUFFER_BYTES=1048576
WS_HEARTBEAT_MS=30000
WS_MAX_SUBSCRIPTIONS=100
{}{}",
        if ui {
            "
# The admin UI (`npm run dev` starts it beside the API): where the browser finds the API, and
# the UI's port. Add the UI's origin to CORS_ORIGINS above (http://127.0.0.1:3001).
NEXT_PUBLIC_API_URL=http://127.0.0.1:3000
UI_PORT=3001
"
        } else {
            ""
        },
        plugin_env(plugins)
    )
}

/// The plugins' variables, under a heading per plugin.
fn plugin_env(plugins: &[(String, crate::plugin::Contribution)]) -> String {
    let mut out = String::new();
    for (name, c) in plugins.iter().filter(|(_, c)| !c.env.is_empty() || !c.ui_env.is_empty()) {
        out.push_str(&format!("\n# Plugin `{name}`.\n"));
        for v in c.env.iter().chain(&c.ui_env) {
            for l in v.doc.lines() {
                out.push_str(&format!("# {l}\n"));
            }
            out.push_str(&format!("{}={}\n", v.name, v.example));
        }
    }
    out
}
