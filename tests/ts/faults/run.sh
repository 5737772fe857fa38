#!/usr/bin/env bash
# Fault injection against a generated server (issue 14; docs/reliability.md): the blog example's
# TypeScript server (Express, registry mode, built JavaScript as `npm start` runs it) on a private
# PostgreSQL. Each scenario prints what it injected and what it verified.
#   pg-restart: PostgreSQL stops and starts again under load (OUTAGE_SECONDS away, default 2;
#   LOAD_SECONDS of load around it, default 8).
#   redis-restart: Redis stops and starts again under three instances sharing it, two TypeScript
#   and one Rust (OUTAGE_SECONDS).
#   sigterm: one of two instances behind a balancer gets SIGTERM under load (SHUTDOWN_DELAY_MS),
#   TypeScript and then Rust.
#   external-writes: a script writes the tables of a tree with [plugins.external_writes]; two
#   instances on Redis, the listener stopped halfway.
#   soak: SOAK_SECONDS (default 15) of mixed HTTP and WebSocket load, TypeScript and then Rust.
#   network: a subscriber that stops reading and one whose connection is cut (half-open), under
#   TypeScript and then Rust.
# Expects tests/ts's npm packages (run.sh installs them). FAULTS_PORT_BASE moves the ports;
# FAULTS_ONLY="network sigterm" runs those scenarios only.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
root=$(cd ../../.. && pwd)
ts="$root/tests/ts"
out="$root/target/faults${FAULTS_PORT_BASE:+-$FAULTS_PORT_BASE}"
base=${FAULTS_PORT_BASE:-3700}
pg_port=$((base + 10))
export PRISMA_HIDE_UPDATE_MESSAGE=1
export JWT_SECRET="faults-$(date +%s)-0123456789abcdef"
rm -rf "$out" && mkdir -p "$out"
# CI built every binary once (SSOT_CI_BUILT): a build of a few packages would compile
# them again with other features.
[ -n "${SSOT_CI_BUILT:-}" ] || cargo build --locked -q -p ssot-cli -p blog -p ssot-external-writes --manifest-path "$root/Cargo.toml"
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
# scenario "what it checks" command...: runs one scenario and counts it.
scenario() {
  local what=$1
  shift
  if "$@"; then echo "  ok   faults: $what"; else echo "  FAIL faults: $what"; failed=$((failed + 1)); fi
}
want() { [ -z "${FAULTS_ONLY:-}" ] || [[ " $FAULTS_ONLY " == *" $1 "* ]]; }
if want pg-restart; then
echo "-- [${SECONDS}s] pg-restart"
if API_URL="http://127.0.0.1:$port" RESTART="$ts/pg.sh restart $out/pg ${OUTAGE_SECONDS:-2}" node "$here/pg-restart.mjs"; then
  echo "  ok   faults: PostgreSQL restart under load"
else
  echo "  FAIL faults: PostgreSQL restart under load"; failed=$((failed + 1))
  tail -20 "$out/server.log"
fi
kill -0 "$server_pid" 2>/dev/null || { echo "  FAIL the server died"; failed=$((failed + 1)); }
kill "$server_pid" 2>/dev/null; server_pid=
# The same against the Rust server of the schema (the blog example's binary) on the same tables.
echo "-- [${SECONDS}s] pg-restart (Rust)"
rust_port=$((base + 6))
(cd "$tree" && PORT=$rust_port LOG_LEVEL=warn RATE_LIMIT=0 MIGRATE_ON_START=false exec "$root/target/debug/blog" >"$out/rust-server.log" 2>&1) &
server_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$rust_port/ready" >/dev/null && break; sleep 0.1; done
scenario "PostgreSQL restart under load (Rust)" env API_URL="http://127.0.0.1:$rust_port" RESTART="$ts/pg.sh restart $out/pg ${OUTAGE_SECONDS:-2}" \
  SERVER_NAME="the Rust server" node "$here/pg-restart.mjs"
kill -0 "$server_pid" 2>/dev/null || { echo "  FAIL the Rust server died"; failed=$((failed + 1)); tail -20 "$out/rust-server.log"; }
fi
kill "$server_pid" 2>/dev/null; server_pid=

# Two instances behind one Redis (their own, started here).
if ! command -v redis-server >/dev/null; then
  echo "installing redis-server (Debian)"
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
  $sudo_ apt-get update -qq && $sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
redis_port=$((base + 20))
redis_start="redis-server --bind 127.0.0.1 --port $redis_port --save '' --appendonly no --daemonize yes --pidfile $out/redis.pid --logfile $out/redis.log"
redis_stop="redis-cli -p $redis_port shutdown nosave"
eval "$redis_start"
trap '[ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null; $redis_stop >/dev/null 2>&1; "$ts/pg.sh" stop "$out/pg"' EXIT
for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
export TREE="$tree" REDIS_URL="redis://127.0.0.1:$redis_port" PORT_A=$((base + 2)) PORT_B=$((base + 3)) PORT_LB=$((base + 4)) \
  PORT_C=$((base + 5)) PORT_D=$((base + 7)) PORT_E=$((base + 8)) RUST_BIN="$root/target/debug/blog"

if want redis-restart; then
echo "-- [${SECONDS}s] redis-restart"
scenario "Redis down and back under three instances (two TypeScript, one Rust)" env REDIS_STOP="$redis_stop" REDIS_START="$redis_start" node "$here/redis-restart.mjs"
fi

if want sigterm; then
echo "-- [${SECONDS}s] sigterm"
scenario "SIGTERM to one of two instances under load" node "$here/sigterm.mjs"
echo "-- [${SECONDS}s] sigterm (Rust)"
scenario "SIGTERM to one of two Rust instances under load" env SERVER=rust node "$here/sigterm.mjs"
fi
if want network; then
for server in ts rust; do
  echo "-- [${SECONDS}s] network ($server)"
  scenario "a subscriber that stops reading and a half-open connection ($server)" env SERVER=$server node "$here/network.mjs"
done
fi
if want external-writes; then
  echo "-- [${SECONDS}s] external-writes"
  # The blog with the plugin (tests/external-writes: its ssot.toml, and its Rust server), on a
  # database of its own.
  ext="$out/blog-ext"
  "$root/target/debug/ssot" generate --root "$root/tests/external-writes" --ts-out "$ext" --no-ui >/dev/null 2>&1
  ln -sfn "$ts/node_modules" "$ext/node_modules"
  psql "$pg/postgres" -qc "create database faults_ext" >/dev/null
  (cd "$ext" && export DATABASE_URL="$pg/faults_ext" \
    && PRISMA_SCHEMA_ENGINE_BINARY=/bin/true node "$ts/node_modules/prisma/build/index.js" generate >/dev/null \
    && PRISMA_SCHEMA_ENGINE_BINARY="$ts/prisma-offline/schema-engine-shim.mjs" node "$ts/node_modules/prisma/build/index.js" db push >/dev/null \
    && node node_modules/typescript-7/bin/tsc -p tsconfig.build.json)
  scenario "writes outside the API reach subscribers under the policies" env TREE="$ext" DATABASE_URL="$pg/faults_ext" node "$here/external-writes.mjs"
  # The Rust server installs the triggers itself and listens.
  PGOPTIONS="--client-min-messages=warning" psql "$pg/faults_ext" -qc "DROP FUNCTION ssot_changes() CASCADE" >/dev/null
  scenario "writes outside the API reach subscribers under the policies (Rust)" env TREE="$ext" DATABASE_URL="$pg/faults_ext" SERVER=rust \
    RUST_BIN="$root/target/debug/ssot-external-writes" node "$here/external-writes.mjs"
fi
if want soak; then
for server in ts rust; do
  echo "-- [${SECONDS}s] soak ($server)"
  scenario "soak, mixed HTTP and WebSocket load ($server)" env SERVER=$server node "$here/soak.mjs"
done
fi
echo "# fail $failed"
[ "$failed" = 0 ]
