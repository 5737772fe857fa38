#!/usr/bin/env bash
# Load benchmark (not a test): the generated blog server on PostgreSQL in all four framework ×
# mode combinations and the Rust server of the same schema (examples/blog), 1,000 posts,
# list (`take=20&include=author`) and get-by-id, 16 connections, side by side in one run; the
# peak resident memory of each server process.
# LOAD_SECONDS per route (default 10; CI runs 1 to prove it works). Figures go to
# docs/performance.md. Expects `npm ci` done in tests/ts.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
root=$(cd ../.. && pwd)
out="$root/target/load"
prisma="$here/node_modules/prisma/build/index.js"
seconds=${LOAD_SECONDS:-10}
export PRISMA_HIDE_UPDATE_MESSAGE=1
export JWT_SECRET="load-secret-$(date +%s)-0123456789abcdef"
mkdir -p "$out"
# CI built every binary once (SSOT_CI_BUILT): a build of a few packages would compile
# them again with other features.
[ -n "${SSOT_CI_BUILT:-}" ] || cargo build --locked -q -p ssot-cli --manifest-path "$root/Cargo.toml"
pg=$("$here/pg.sh" start "$out/pg" 25434)
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; "$here/pg.sh" stop "$out/pg"' EXIT
psql "$pg/postgres" -qc "drop database if exists load" -c "create database load" >/dev/null 2>&1
export DATABASE_URL="$pg/load"
port=3800
for fw in express fastify; do
  for mode in registry controller; do
    tree="$out/blog-$fw-$mode"
    "$root/target/debug/ssot" generate --root "$root/examples/blog" --ts-out "$tree" --framework "$fw" --mode "$mode" >/dev/null 2>&1
    ln -sfn "$here/node_modules" "$tree/node_modules"
    (cd "$tree" && PRISMA_SCHEMA_ENGINE_BINARY=/bin/true node "$prisma" generate >/dev/null 2>&1)
  done
done
first="$out/blog-express-registry"
(cd "$first" && PRISMA_SCHEMA_ENGINE_BINARY="$here/prisma-offline/schema-engine-shim.mjs" node "$prisma" db push >/dev/null 2>&1)
psql "$pg/load" -q <<'SQL'
insert into "User" (email, name, role, "passwordHash", "updatedAt")
  select 'u' || g || '@example.com', 'User ' || g, 'USER', 'x', now() from generate_series(1, 50) g;
insert into "Post" (title, slug, body, published, views, "authorId")
  select 'Post number ' || g, 'post-' || g, repeat('text ', 40), g % 3 <> 0, g, 1 + g % 50 from generate_series(1, 1000) g;
SQL
token=$(cd "$first" && node --input-type=module -e '
  import { SignJWT } from "jose";
  console.log(await new SignJWT({ id: 1, role: "EDITOR" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("2h").sign(new TextEncoder().encode(process.env.JWT_SECRET)));')
# The Rust server in its release build, as it would be deployed (the TypeScript servers run with
# NODE_ENV=production); a quick run (under 5 s per route, as in CI) takes the debug build the
# workspace build made, whose figures mean nothing.
rust_bin="$root/target/debug/blog"
if [ "$seconds" -ge 5 ]; then
  cargo build --locked -q --release -p blog --manifest-path "$root/Cargo.toml"
  rust_bin="$root/target/release/blog"
fi
echo "| server | list rps | list p50 / p99 ms | get rps | get p50 / p99 ms | peak RSS MiB |"
echo "|---|---|---|---|---|---|"
for server in "express registry" "express controller" "fastify registry" "fastify controller" "rust"; do
  tree="$out/blog-${server/ /-}"
  port=$((port + 1))
  if [ "$server" = rust ]; then
    mkdir -p "$tree"
    (cd "$tree" && PORT=$port RATE_LIMIT=0 LOG_LEVEL=warn MIGRATE_ON_START=false exec "$rust_bin" >"$tree/server.log" 2>&1) &
  else
    # As `npm run build` + `npm start` run it in production: JavaScript, no tsx.
    (cd "$tree" && node node_modules/typescript-7/bin/tsc -p tsconfig.build.json)
    (cd "$tree" && PORT=$port RATE_LIMIT=0 LOG_LEVEL=warn NODE_ENV=production exec node dist/server/main.js >"$tree/server.log" 2>&1) &
  fi
  server_pid=$!
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break; sleep 0.1; done
  line=$(node "$here/load.mjs" "http://127.0.0.1:$port" "$token" 500 "$seconds" "$server")
  rss=$(awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$server_pid/status")
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
  node -e '
    const r = JSON.parse(process.argv[1]);
    console.log(`| ${r.label} | ${r.list.rps} | ${r.list.p50} / ${r.list.p99} | ${r.get.rps} | ${r.get.p50} / ${r.get.p99} | ${process.argv[2]} |`);
  ' "$line" "$rss"
done
