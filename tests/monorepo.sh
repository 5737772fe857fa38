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

# The image (examples/monorepo/Dockerfile; no Docker engine runs here): hadolint, Compose's own
# validation, then the image's command as the image runs it: its ENV (the volume's /data a fresh
# folder here, HOST and PORT this machine's), JWT_SECRET as docker-compose.yml demands it, the
# HEALTHCHECK command, and SIGTERM with SHUTDOWN_DELAY_MS (from the compose file): /ready 503
# while /health still answers, then exit 0.
mono="$root/examples/monorepo"
hadolint "$mono/Dockerfile" || fail "hadolint examples/monorepo/Dockerfile"
(cd "$mono" && JWT_SECRET=check docker-compose config -q) || fail "docker-compose config of examples/monorepo"
image_port=$((port + 1))
field() { # NAME → the final stage's ENV (as NAME=VALUE lines), CMD or HEALTHCHECK command (one argument a line)
  node -e '
    const text = require("fs").readFileSync(process.argv[1], "utf8").replace(/\\\n\s*/g, " ");
    const stage = text.split(/^FROM /m).pop().split("\n");
    const line = (i) => stage.find((l) => l.startsWith(i + " ")) ?? "";
    const json = (l) => JSON.parse(l.slice(l.indexOf("CMD ") + 4));
    const out = { ENV: stage.filter((l) => l.startsWith("ENV ")).flatMap((l) => l.slice(4).trim().split(/\s+/)),
      CMD: json(line("CMD")), HEALTHCHECK: json(line("HEALTHCHECK")) }[process.argv[2]];
    for (const a of out) console.log(a.replaceAll("/data", process.argv[3]).replace(/^HOST=.*/, "HOST=127.0.0.1")
      .replace(/^PORT=.*/, "PORT=" + process.argv[4]).replaceAll(":3000/", ":" + process.argv[4] + "/"));
  ' "$mono/Dockerfile" "$1" "$work/data" "$image_port"
}
mapfile -t image_env < <(field ENV)
mapfile -t image_cmd < <(field CMD)
mapfile -t image_health < <(field HEALTHCHECK)
delay=$(awk -F'"' '/SHUTDOWN_DELAY_MS/ { print $2 }' "$mono/docker-compose.yml")
mkdir -p "$work/data"
(cd "$work/data" && exec env -i PATH="$root/target/debug:$PATH" "${image_env[@]}" JWT_SECRET=$secret SHUTDOWN_DELAY_MS=$delay \
  "${image_cmd[@]}" >"$work/image.log" 2>&1) &
pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$image_port/ready" >/dev/null 2>&1 && break; sleep 0.1; done
"${image_health[@]}" >/dev/null || { cat "$work/image.log"; fail "the image's HEALTHCHECK on the image's command (${image_cmd[*]} with ${image_env[*]})"; }
[ -f "$work/data/tasks.db" ] || fail "the image's command did not create its database in /data"
kill -TERM "$pid"
sleep 0.3
ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$image_port/ready")
health=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$image_port/health")
[ "$ready:$health" = "503:200" ] || fail "after SIGTERM, within SHUTDOWN_DELAY_MS=$delay: /ready $ready and /health $health (want 503 and 200)"
wait "$pid" || fail "the image's command did not exit cleanly after SIGTERM"; pid=
! "${image_health[@]}" >/dev/null 2>&1 || fail "the HEALTHCHECK passed with the server gone"
echo "monorepo image: hadolint, docker-compose config; its command (${image_cmd[*]}) with its ENV healthy, SIGTERM drains (/ready 503, /health 200 for ${delay} ms) and exits 0"
