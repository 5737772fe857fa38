//! Deployment files of a tree with a server: a multi-stage `Dockerfile` (the API and, with the
//! admin UI, the UI as targets of one build), `.dockerignore` and a `docker-compose.yml` with the
//! database of the schema's provider and Redis. They are the user's once changed
//! ([`crate::writer::user_replaceable`]): deployments differ, and a regeneration keeps theirs.

use crate::plugin::Contribution;

/// The first line of each file: ssot wrote it once; changed, it is the user's.
const MINE: &str = "Written by ssot (docs/deploy.md); once you change this file it is yours and is kept.";

/// The database service of a provider: (compose service, the API's `DATABASE_URL`).
fn database(provider: &str) -> Option<(&'static str, &'static str)> {
    let service = match provider {
        "sqlite" => return None,
        "mysql" => {
            "  db:
    image: mysql:8.4
    environment:
      MYSQL_DATABASE: app
      MYSQL_USER: app
      MYSQL_PASSWORD: ${DB_PASSWORD:?set DB_PASSWORD}
      MYSQL_RANDOM_ROOT_PASSWORD: \"yes\"
    volumes:
      - db:/var/lib/mysql
    healthcheck:
      test: [\"CMD\", \"mysqladmin\", \"ping\", \"-h\", \"127.0.0.1\"]
      interval: 5s
      retries: 20
"
        }
        "sqlserver" => {
            "  db:
    image: mcr.microsoft.com/mssql/server:2022-latest
    environment:
      ACCEPT_EULA: \"Y\"
      MSSQL_SA_PASSWORD: ${DB_PASSWORD:?set DB_PASSWORD}
    volumes:
      - db:/var/opt/mssql
"
        }
        "cockroachdb" => {
            "  db:
    image: cockroachdb/cockroach:latest-v25.2
    command: start-single-node --insecure
    volumes:
      - db:/cockroach/cockroach-data
    healthcheck:
      test: [\"CMD\", \"curl\", \"-sf\", \"http://127.0.0.1:8080/health?ready=1\"]
      interval: 5s
      retries: 20
"
        }
        _ => {
            "  db:
    image: postgres:17
    environment:
      POSTGRES_DB: app
      POSTGRES_USER: app
      POSTGRES_PASSWORD: ${DB_PASSWORD:?set DB_PASSWORD}
    volumes:
      - db:/var/lib/postgresql/data
    healthcheck:
      test: [\"CMD\", \"pg_isready\", \"-U\", \"app\", \"-d\", \"app\"]
      interval: 5s
      retries: 20
"
        }
    };
    let url = match provider {
        "mysql" => "mysql://app:${DB_PASSWORD}@db:3306/app",
        "sqlserver" => "sqlserver://db:1433;database=master;user=sa;password=${DB_PASSWORD};trustServerCertificate=true",
        "cockroachdb" => "postgresql://root@db:26257/defaultdb?sslmode=disable",
        _ => "postgresql://app:${DB_PASSWORD}@db:5432/app",
    };
    Some((service, url))
}

pub fn generate(provider: &str, ui: bool, plugins: &[(String, Contribution)]) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let ui_stage = if ui {
        "
# The admin UI: `next start` on what `next build` made. API_URL (where the UI's server reaches
# the API) and NEXT_PUBLIC_API_URL (where the browser does) are read when it starts.
FROM node:20-bookworm-slim AS ui
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json /app/next.config.ts /app/tsconfig.json /app/tsconfig.ui.json ./
COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/.next ./.next
USER 1000:1000
EXPOSE 3001
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \\
  CMD [\"node\", \"-e\", \"fetch('http://127.0.0.1:3001/admin/sign-in').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))\"]
CMD [\"node\", \"node_modules/next/dist/bin/next\", \"start\", \"--port\", \"3001\", \"--hostname\", \"0.0.0.0\"]
"
    } else {
        ""
    };
    let targets = if ui { "the API (`--target api`) and the admin UI (`--target ui`)" } else { "the API (`--target api`)" };
    files.push((
        "Dockerfile".into(),
        format!(
            "# {MINE}
# Images of {targets}, from one build:
#   docker build --target api -t app-api .
# `npm ci` installs what package-lock.json pins: run `npm install` once and commit the lock file.

# Everything built, with the development packages (the `schema` service of docker-compose.yml
# runs Prisma's CLI from here).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

# The packages the running server needs, without the development ones.
FROM build AS prod-deps
RUN npm prune --omit=dev

# The API: `npm start`'s command on the JavaScript of `npm run build`, as the unprivileged user
# `node` (uid 1000). On SIGTERM it answers /ready 503 for SHUTDOWN_DELAY_MS, then drains and exits.
FROM node:20-bookworm-slim AS api
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=prod-deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \\
  CMD [\"node\", \"-e\", \"fetch('http://127.0.0.1:' + process.env.PORT + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))\"]
CMD [\"node\", \"--enable-source-maps\", \"dist/server/main.js\"]
{ui_stage}"
        ),
    ));
    files.push((".dockerignore".into(), format!("# {MINE}\nnode_modules\ndist\n.next\nsrc/generated\n.env\n*.db\n.git\n")));

    // docker-compose.yml: the API, its database, Redis, the schema pushed by a one-off service,
    // and the UI.
    let db = database(provider);
    let database_url = db.map_or("file:/data/app.db", |(_, url)| url);
    let mut api_env = vec![
        ("DATABASE_URL".to_owned(), database_url.to_owned()),
        ("REDIS_URL".into(), "redis://redis:6379".into()),
        ("JWT_SECRET".into(), "${JWT_SECRET:?set JWT_SECRET}".into()),
        ("SHUTDOWN_DELAY_MS".into(), "\"5000\"".into()),
    ];
    if ui {
        api_env.push(("CORS_ORIGINS".into(), "${UI_ORIGIN:-http://localhost:3001}".into()));
    }
    for (_, c) in plugins {
        for v in &c.env {
            api_env.push((v.name.clone(), format!("${{{}:-}}", v.name)));
        }
    }
    let env_block = |vars: &[(String, String)]| -> String { vars.iter().map(|(k, v)| format!("      {k}: {v}\n")).collect::<String>() };
    let sqlite_volume = if db.is_none() { "    volumes:\n      - data:/data\n" } else { "" };
    let db_wait = if db.is_some_and(|(s, _)| s.contains("healthcheck")) {
        "      db:\n        condition: service_healthy\n"
    } else if db.is_some() {
        "      db:\n        condition: service_started\n"
    } else {
        ""
    };
    let migrate_wait = if db_wait.is_empty() { String::new() } else { format!("    depends_on:\n{db_wait}") };
    let mut compose = format!(
        "# {MINE}
# The API, {what}: `docker compose up --build`.
# Set JWT_SECRET{pw} in the environment or in a .env file beside this one.
services:
  api:
    build:
      context: .
      target: api
    environment:
{api_env}    ports:
      - \"3000:3000\"
{sqlite_volume}    depends_on:
{db_wait}      redis:
        condition: service_started
      schema:
        condition: service_completed_successfully
    restart: unless-stopped

  # Creates or updates the tables (`npm run db:push`) before the API starts; exits when done.
  schema:
    build:
      context: .
      target: build
    command: {push}
    environment:
      DATABASE_URL: {url}
{sqlite_volume}{migrate_wait}
  redis:
    image: redis:7-alpine
    command: [\"redis-server\", \"--save\", \"\", \"--appendonly\", \"no\"]
",
        what = if ui { "the admin UI, the database and Redis" } else { "the database and Redis" },
        pw = if db.is_some() { " and DB_PASSWORD" } else { "" },
        api_env = env_block(&api_env),
        url = database_url,
        // SQLite: the file is created here, as root, for the API's user `node`.
        push = if db.is_none() {
            "[\"sh\", \"-c\", \"npm run db:push && chown -R node:node /data\"]"
        } else {
            "[\"npm\", \"run\", \"db:push\"]"
        },
    );
    if ui {
        // The plugins' variables of the UI's server; it signs sessions (the oidc plugin's) with
        // the API's JWT_SECRET.
        let mut ui_env: Vec<(String, String)> =
            plugins.iter().flat_map(|(_, c)| &c.ui_env).map(|v| (v.name.clone(), format!("${{{}:-}}", v.name))).collect();
        if !ui_env.is_empty() {
            ui_env.insert(0, ("JWT_SECRET".into(), "${JWT_SECRET:?set JWT_SECRET}".into()));
        }
        compose.push_str(&format!(
            "
  ui:
    build:
      context: .
      target: ui
    environment:
      API_URL: http://api:3000
      NEXT_PUBLIC_API_URL: ${{PUBLIC_API_URL:-http://localhost:3000}}
{ui_env}    ports:
      - \"3001:3001\"
    depends_on:
      api:
        condition: service_started
    restart: unless-stopped
",
            ui_env = env_block(&ui_env),
        ));
    }
    if let Some((service, _)) = db {
        compose.push('\n');
        compose.push_str(service);
    }
    compose.push_str(if db.is_some() { "\nvolumes:\n  db:\n" } else { "\nvolumes:\n  data:\n" });
    files.push(("docker-compose.yml".into(), compose));
    files
}
