#!/usr/bin/env bash
# Fault injection against a generated server (issue 14; docs/reliability.md): the blog example's
# TypeScript server (Express, registry mode, built JavaScript as `npm start` runs it) on a private
# PostgreSQL. Each scenario prints what it injected and what it verified.
#   pg-restart: PostgreSQL stops and starts again under load (OUTAGE_SECONDS away, default 2;
#   LOAD_SECONDS of load around it, default 8).
# Expects tests/ts's npm packages (run.sh installs them). FAULTS_PORT_BASE moves the ports.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
root=$(cd ../../.. && pwd)
ts="$root/tests/ts"
out="$root/target/faults"
base=${FAULTS_PORT_BASE:-3700}
pg_port=$((base + 10))
export PRISMA_HIDE_UPDATE_MESSAGE=1
export JWT_SECRET="faults-$(date +%s)-0123456789abcdef"
rm -rf "$out" && mkdir -p "$out"
cargo build --locked -q -p ssot-cli --manifest-path "$root/Cargo.toml"
pg=$("$ts/pg.sh" start "$out/pg" "$pg_port")
trap '[ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null; "$ts/pg.sh" stop "$out/pg"' EXIT
psql "$pg/postgres" -qc "create database faults" >/dev/null
export DATABASE_URL="$pg/faults"
tree="$out/blog"
"$root/target/debug/ssot" generate --root "$root/examples/blog" --ts-out "$tree" --no-ui >/dev/null 2>&1
ln -sfn "$ts/node_modules" "$tree/node_modules"
(cd "$tree" && PRISMA_SCHEMA_ENGINE_BINARY=/bin/true node "$ts/node_modules/prisma/build/index.js" generate >/dev/null \
  && PRISMA_SCHEMA_ENGINE_BINARY="$ts/prisma-offline/schema-engine-shim.mjs" node "$ts/node_modules/prisma/build/index.js" db push >/dev/null)
(cd "$tree" && node node_modules/typescript-7/bin/tsc -p tsconfig.build.json)

port=$((base + 1))
(cd "$tree" && PORT=$port LOG_LEVEL=warn RATE_LIMIT=0 exec node --enable-source-maps dist/server/main.js >"$out/server.log" 2>&1) &
server_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.1; done

failed=0
echo "-- pg-restart"
if API_URL="http://127.0.0.1:$port" RESTART="$ts/pg.sh restart $out/pg ${OUTAGE_SECONDS:-2}" node "$here/pg-restart.mjs"; then
  echo "  ok   faults: PostgreSQL restart under load"
else
  echo "  FAIL faults: PostgreSQL restart under load"; failed=$((failed + 1))
  tail -20 "$out/server.log"
fi
kill -0 "$server_pid" 2>/dev/null || { echo "  FAIL the server died"; failed=$((failed + 1)); }
echo "# fail $failed"
[ "$failed" = 0 ]
