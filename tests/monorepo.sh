#!/usr/bin/env bash
# examples/monorepo as its README runs it: the Rust API (built by the workspace build, whose
# build.rs also wrote the TypeScript tree into web/generated) on a fresh SQLite file, and the web
# package type-checked (tsc --strict), built (vite) and its component test run in jsdom against
# the API (hooks, live updates, the API's hook and route). The web package uses tests/ts's
# node_modules (npm ci there): its package.json must pin the same versions.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
web="$root/examples/monorepo/web"
modules="$root/tests/ts/node_modules"
work=$(mktemp -d)
port=${MONOREPO_PORT:-3191}
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/api.log" ] && tail -20 "$work/api.log" >&2; exit 1; }

[ -f "$web/generated/src/hooks/index.ts" ] || fail "api/build.rs did not write the TypeScript tree into web/generated"
# The versions the web package asks for are the ones installed here.
node -e '
  const web = require(process.argv[1]), ts = require(process.argv[2]);
  const all = { ...ts.dependencies, ...ts.devDependencies };
  const off = Object.entries({ ...web.dependencies, ...web.devDependencies }).filter(([n, v]) => all[n] !== v);
  if (off.length) { console.error("web/package.json pins versions tests/ts does not have:", off); process.exit(1); }
' "$web/package.json" "$root/tests/ts/package.json" || fail "web/package.json and tests/ts/package.json differ"
[ -e "$web/node_modules" ] || ln -s "$modules" "$web/node_modules"
(cd "$web" && node node_modules/typescript/bin/tsc -p .) || fail "tsc --strict"
(cd "$web" && node node_modules/prettier/bin/prettier.cjs --check --log-level warn src vite.config.ts) || fail "prettier"
(cd "$web" && node node_modules/vite/bin/vite.js build --logLevel warn --outDir "$work/dist") || fail "vite build"
[ -f "$work/dist/index.html" ] || fail "vite wrote no index.html"
# The shipped migration is still what Prisma makes of the schema (a schema change needs one more).
(cd "$web/generated" && DATABASE_URL="file:$work/diff.db" PRISMA_SCHEMA_ENGINE_BINARY="$root/tests/ts/prisma-offline/schema-engine-shim.mjs" \
  node "$modules/prisma/build/index.js" migrate diff --from-empty --to-schema ../../schema.prisma --script >"$work/diff.sql" 2>"$work/diff.log") \
  || { cat "$work/diff.log" >&2; fail "prisma migrate diff"; }
diff "$work/diff.sql" "$root/examples/monorepo/api/migrations/20261202000000_init/migration.sql" >&2 || fail "api/migrations does not match schema.prisma"

secret="monorepo-test-$(date +%s)-0123456789abcdef"
(cd "$work" && exec env -u DATABASE_URL -u JWT_PUBLIC_KEY -u JWKS_URL -u REDIS_URL JWT_SECRET=$secret PORT=$port \
  "$root/target/debug/monorepo-api" >"$work/api.log" 2>&1) &
pid=$!
ready=
for _ in $(seq 1 100); do
  kill -0 "$pid" 2>/dev/null || fail "the API exited"
  curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && { ready=1; break; }
  sleep 0.1
done
[ -n "$ready" ] || fail "the API did not become ready"
[ -f "$work/tasks.db" ] || fail "the API did not create tasks.db"
(cd "$web" && API_URL="http://127.0.0.1:$port" JWT_SECRET=$secret node node_modules/vitest/vitest.mjs run --reporter=dot) || fail "the web package's test"
kill -TERM "$pid"; wait "$pid" || fail "the API did not stop cleanly"; pid=
echo "monorepo: tsc --strict, prettier and vite build of web/, api/migrations matches the schema, its component test against the Rust API (hooks, live update, the API's hook and /api/summary)"
