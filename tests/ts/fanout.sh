#!/usr/bin/env bash
# Fan-out benchmark (not a test): the generated blog server on SQLite, events to 1, 100 and 1,000
# subscribers, in one process and across two instances through Redis (writes on the first,
# subscribers split over both). FANOUT_SECONDS of writing per row (default 5; CI runs 1).
# Expects `npm ci` done in tests/ts and redis-server installed (server.sh installs it).
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
root=$(cd ../.. && pwd)
out="$root/target/fanout"
prisma="$here/node_modules/prisma/build/index.js"
seconds=${FANOUT_SECONDS:-5}
export PRISMA_HIDE_UPDATE_MESSAGE=1
export JWT_SECRET="fanout-secret-$(date +%s)-0123456789abcdef"
rm -rf "$out" && mkdir -p "$out/src"
# CI built every binary once (SSOT_CI_BUILT): a build of a few packages would compile
# them again with other features.
[ -n "${SSOT_CI_BUILT:-}" ] || cargo build --locked -q -p ssot-cli --manifest-path "$root/Cargo.toml"
sed -e 's/provider = "postgresql"/provider = "sqlite"/' -e 's/ @db\.[A-Za-z]*([0-9, ]*)//' "$root/examples/blog/schema.prisma" > "$out/src/schema.prisma"
cp "$root/examples/blog/ssot.toml" "$out/src/"
tree="$out/blog"
"$root/target/debug/ssot" generate --root "$out/src" --ts-out "$tree" --framework fastify >/dev/null 2>&1
ln -sfn "$here/node_modules" "$tree/node_modules"
export DATABASE_URL="file:$tree/fanout.db"
(cd "$tree" && PRISMA_SCHEMA_ENGINE_BINARY=/bin/true node "$prisma" generate >/dev/null 2>&1 \
  && PRISMA_SCHEMA_ENGINE_BINARY="$here/prisma-offline/schema-engine-shim.mjs" node "$prisma" db push >/dev/null 2>&1)
node -e '
  const D = require("better-sqlite3"); const db = new D(process.argv[1]);
  db.prepare("insert into User (id, email, role, passwordHash, createdAt, updatedAt) values (1, ?, ?, ?, ?, ?)").run("a@example.com", "ADMIN", "x", Date.now(), Date.now());
' "$tree/fanout.db"
redis-server --bind 127.0.0.1 --port 26380 --save "" --appendonly no --daemonize yes --pidfile "$out/redis.pid" >/dev/null
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; kill "$(cat "$out/redis.pid")" 2>/dev/null || true' EXIT
start() { # PORT [REDIS_URL]
  (cd "$tree" && PORT=$1 RATE_LIMIT=0 LOG_LEVEL=warn REDIS_URL=${2:-} exec node --import tsx src/server/main.ts >>"$tree/server-$1.log" 2>&1) &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$1/ready" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
start 3901
start 3902 redis://127.0.0.1:26380
start 3903 redis://127.0.0.1:26380
echo "| delivery | subscribers | writes/s | events delivered/s | p50 ms | p99 ms | lost |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for n in 1 100 1000; do
  for mode in "in process" "Redis, 2 instances"; do
    if [ "$mode" = "in process" ]; then line=$(node "$here/fanout.mjs" http://127.0.0.1:3901 ws://127.0.0.1:3901/ws $n "$seconds" "$mode")
    else line=$(node "$here/fanout.mjs" http://127.0.0.1:3902 ws://127.0.0.1:3902/ws,ws://127.0.0.1:3903/ws $n "$seconds" "$mode"); fi
    node -e '
      const r = JSON.parse(process.argv[1]); const s = Number(process.argv[2]);
      console.log(`| ${r.label} | ${r.subscribers} | ${Math.round(r.writes / s)} | ${r.eventsPerSecond} | ${r.p50} | ${r.p99} | ${r.lost} |`);
      if (r.lost !== 0) process.exit(1);
    ' "$line" "$seconds"
  done
done
