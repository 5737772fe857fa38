#!/usr/bin/env bash
# End to end: the generated server of examples/blog in all four framework × mode combinations, on
# SQLite and on a real PostgreSQL (started on 127.0.0.1 by pg.sh), plus the sqlite,
# annotations, multischema and postgres_full fixtures. For each: generate → prisma generate → create tables (prisma db push)
# → start the server → run the repository's blog suite (cross-tenant matrix) and the tree's own
# generated vitest suite. Expects `npm ci` done in tests/ts (run.sh does it).
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
root=$(cd ../.. && pwd)
out="$root/target/e2e"
ssot="$root/target/debug/ssot"
prisma="$here/node_modules/prisma/build/index.js"
export PRISMA_HIDE_UPDATE_MESSAGE=1
export JWT_SECRET="e2e-secret-$(date +%s)-0123456789abcdef"
# The monitoring plugin's /metrics (examples/blog/ssot.toml) wants this bearer token.
export METRICS_TOKEN="e2e-metrics-$(date +%s)-fedcba9876543210"
rm -rf "$out" && mkdir -p "$out"
# CI built every binary once (SSOT_CI_BUILT): a build of a few packages would compile
# them again with other features.
[ -n "${SSOT_CI_BUILT:-}" ] || cargo build --locked -q -p ssot-cli -p blog -p ssot-compile-tests --bins --manifest-path "$root/Cargo.toml"

# Ports: E2E_PORT_BASE (servers, default 3400; +101..+104 for the two-instance runs),
# E2E_PG_PORT and E2E_REDIS_PORT, so that a second run can go beside CI's.
base=${E2E_PORT_BASE:-3400}
# The email plugin's messages go to a local SMTP server that plugins.e2e.test.ts listens on
# (PostgreSQL servers), or, from the SQLite servers, to its stand-in of Resend's HTTP API.
export SMTP_PORT=$((base + 150)) RESEND_PORT=$((base + 153)) RESEND_TEST_KEY="re_e2e_$(date +%s)_0123456789"
# The payments plugin: events are signed with this secret; checkouts go to a stand-in of Stripe's
# API that plugins.e2e.test.ts serves on STRIPE_PORT.
export STRIPE_PORT=$((base + 151))
# The AI plugin's calls go to a stand-in of an OpenAI-compatible API that plugins.e2e.test.ts
# serves on AI_PORT.
# The monitoring plugin's traces go to a stand-in of an OTLP/HTTP collector that
# plugins.e2e.test.ts serves on OTLP_PORT.
export OTLP_PORT=$((base + 155))
# Its usage events go to a stand-in of an analytics endpoint, on USAGE_PORT.
export USAGE_PORT=$((base + 156))
export AI_PORT=$((base + 154)) AI_TEST_KEY="sk-ai-e2e-$(date +%s)-0123456789"
export STRIPE_WEBHOOK_SECRET="whsec_e2e_$(date +%s)_0123456789abcdef"
pg=$("$here/pg.sh" start "$out/pg" "${E2E_PG_PORT:-25432}")
# The storage plugin's bucket: a local S3-compatible server (s3.sh), its keys for the servers
# and for plugins.e2e.test.ts, which checks what was stored.
export S3_ENDPOINT AWS_ACCESS_KEY_ID=ssot-test-key AWS_SECRET_ACCESS_KEY="s3-e2e-$(date +%s)-0123456789"
S3_ENDPOINT=$(S3_ACCESS_KEY=$AWS_ACCESS_KEY_ID S3_SECRET_KEY=$AWS_SECRET_ACCESS_KEY "$here/s3.sh" start "$out/s3" "${E2E_S3_PORT:-$((base + 152))}")
trap '"$here/pg.sh" stop "$out/pg"; "$here/s3.sh" stop "$out/s3"; "$here/mysql.sh" stop "$out/mysql"; [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true' EXIT

# The blog schema for SQLite: same models, no PostgreSQL native types.
mkdir -p "$out/blog-sqlite-src"
sed -e 's/provider = "postgresql"/provider = "sqlite"/' -e 's/ @db\.[A-Za-z]*([0-9, ]*)//' \
  "$root/examples/blog/schema.prisma" > "$out/blog-sqlite-src/schema.prisma"
cp "$root/examples/blog/ssot.toml" "$out/blog-sqlite-src/ssot.toml"

pass=0
fail=0
db_n=0
# E2E_ONLY=tenant,typed (a comma-separated list of blog, rust, tenant, typed, search, fixtures, real) runs a part.
only() { [ -z "${E2E_ONLY:-}" ] || [[ ",$E2E_ONLY," == *",$1,"* ]]; }
# prepare TREE SCHEMA_ROOT FRAMEWORK MODE DB → sets DATABASE_URL (NO_PUSH=1: no tables, for a
# server that applies its migrations itself)
prepare() {
  local tree=$1 src=$2 fw=$3 mode=$4 db=$5 push=${NO_PUSH:+no}
  "$ssot" generate --root "$src" --ts-out "$tree" --framework "$fw" --mode "$mode" >/dev/null 2>&1
  ln -sfn "$here/node_modules" "$tree/node_modules"
  db_n=$((db_n + 1))
  if [ "$db" = postgresql ]; then
    psql "$pg/postgres" -qc "create database e2e_$db_n" >/dev/null
    export DATABASE_URL="$pg/e2e_$db_n"
  elif [ "$db" = mysql ]; then
    # No `db push` on MySQL here (the wasm schema engine has no MySQL connector): the source
    # directory's mysql.sql creates the tables, as Prisma's MySQL connector would.
    local client=(mariadb --no-defaults -ussot -pssot -h127.0.0.1 -P"${mysql##*:}")
    "${client[@]}" -e "CREATE DATABASE e2e_$db_n" && "${client[@]}" "e2e_$db_n" <"$src/mysql.sql" || return 1
    export DATABASE_URL="$mysql/e2e_$db_n"
    push=no
  else
    export DATABASE_URL="file:$tree/e2e.db"
  fi
  local log
  if ! log=$(cd "$tree" && PRISMA_SCHEMA_ENGINE_BINARY=/bin/true node "$prisma" generate 2>&1 \
    && { [ "$push" = no ] || PRISMA_SCHEMA_ENGINE_BINARY="$here/prisma-offline/schema-engine-shim.mjs" node "$prisma" db push 2>&1; }); then
    echo "$log"
    return 1
  fi
}

# tsc -p tsconfig.build.json (the tree's `npm run build` without `next build`), when src/ changed.
build_js() { # TREE
  local tree=$1
  [ -f "$tree/dist/server/main.js" ] && [ -z "$(find "$tree/src" -newer "$tree/dist/server/main.js" -print -quit)" ] && return 0
  (cd "$tree" && node node_modules/typescript-7/bin/tsc -p tsconfig.build.json) || { echo "tsc -p tsconfig.build.json failed in $tree"; return 1; }
}

start_server() {
  local tree=$1 port=$2
  # What `npm run build` and `npm start` do: the server's JavaScript in dist/, run by node.
  build_js "$tree"
  local drivers=(SMTP_URL="smtp://127.0.0.1:$SMTP_PORT")
  # SQLite servers: email through Resend's API, files on local disk (the development driver).
  case $tree in *sqlite*) drivers=(RESEND_API_KEY="$RESEND_TEST_KEY" RESEND_BASE_URL="http://127.0.0.1:$RESEND_PORT"
    STORAGE_DIR="$tree/storage" STORAGE_PORT=$((base + 157))) ;; esac
  (cd "$tree" && exec env "${drivers[@]}" PORT=$port BODY_LIMIT=100000 LOG_LEVEL=info CORS_ORIGINS=http://app.test \
    AI_BASE_URL="http://127.0.0.1:$AI_PORT/v1" AI_API_KEY="$AI_TEST_KEY" \
    OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$OTLP_PORT" OTEL_BSP_SCHEDULE_DELAY=100 OTEL_SERVICE_NAME=blog-e2e \
    USAGE_EVENTS_URL="http://127.0.0.1:$USAGE_PORT/events" \
    STRIPE_SECRET_KEY=sk_test_e2e STRIPE_API_URL="http://127.0.0.1:$STRIPE_PORT" S3_FORCE_PATH_STYLE=true WS_HEARTBEAT_MS=1000 WS_MAX_BUFFER_BYTES=4096 \
    node --enable-source-maps dist/server/main.js >>"$tree/server.log" 2>&1) &
  server_pid=$!
  wait_ready "$tree" "$port"
}

# The Rust server migrated the database: Prisma's CLI finds the same migrations applied (its
# `_prisma_migrations` rows, checksums included), and the shipped migrations are still what
# `prisma migrate diff` makes of the schema (a schema change needs a new migration).
migrations_agree() { # LABEL TREE DB
  local label=$1 tree=$2 db=$3 log schema
  rm -rf "$tree/prisma/schema/migrations" && cp -r "$root/examples/blog/migrations/$db" "$tree/prisma/schema/migrations"
  schema="$root/examples/blog/schema.prisma"
  [ "$db" = sqlite ] && schema="$out/blog-sqlite-src/schema.prisma"
  if log=$(cd "$tree" && PRISMA_SCHEMA_ENGINE_BINARY="$here/prisma-offline/schema-engine-shim.mjs" node "$prisma" migrate status 2>&1) \
    && echo "$log" | grep -q "^1 migration found" && echo "$log" | grep -q "Database schema is up to date" \
    && log=$(cd "$tree" && PRISMA_SCHEMA_ENGINE_BINARY="$here/prisma-offline/schema-engine-shim.mjs" node "$prisma" migrate diff \
      --from-empty --to-schema "$schema" --script 2>&1 >"$tree/schema-diff.sql") \
    && log=$(diff "$tree/schema-diff.sql" "$root/examples/blog/migrations/$db/20261202000000_init/migration.sql") \
    && log=$(deployed_then_rust "$tree" "$db"); then
    result "$label: the server applied the example's migrations; prisma migrate status agrees; they match the schema; after prisma migrate deploy it applies none" 0
  else
    echo "$log" | tail -20
    result "$label: migrations" 1
  fi
}

# A database `prisma migrate deploy` migrated: the Rust server starts on it and applies nothing.
deployed_then_rust() { # TREE DB
  local tree=$1 url pid
  if [ "$2" = postgresql ]; then
    psql "$pg/postgres" -qc "drop database if exists deployed" -c "create database deployed" >/dev/null
    url="$pg/deployed"
  else
    rm -f "$tree/deployed.db"
    url="file:$tree/deployed.db"
  fi
  (cd "$tree" && DATABASE_URL=$url PRISMA_SCHEMA_ENGINE_BINARY="$here/prisma-offline/schema-engine-shim.mjs" node "$prisma" migrate deploy 2>&1) || return 1
  (cd "$tree" && DATABASE_URL=$url PORT=$((base + 190)) exec "$root/target/debug/blog" >"$tree/deployed.log" 2>&1) &
  pid=$!
  wait_ready "$tree" $((base + 190)) >/dev/null || { kill $pid; cat "$tree/deployed.log"; return 1; }
  kill -TERM $pid; wait $pid || true
  if grep -q '"migration applied"\|changed after it was applied' "$tree/deployed.log"; then cat "$tree/deployed.log"; return 1; fi
}

wait_ready() { # TREE PORT: until /ready answers (10 s), else the server's log
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$2/ready" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "server did not become ready:"; cat "$1/server.log"; return 1
}

# The Rust server of the same schema (examples/blog: ssot::server on axum + sqlx).
start_rust_server() { # TREE PORT [BINARY: blog, or fixture-server with FIXTURE set]
  local tree=$1 port=$2 bin=${3:-blog}
  (cd "$tree" && PORT=$port BODY_LIMIT=100000 LOG_LEVEL=info CORS_ORIGINS=http://app.test \
    WS_HEARTBEAT_MS=1000 WS_MAX_BUFFER_BYTES=4096 \
    STRIPE_SECRET_KEY=sk_test_e2e STRIPE_API_URL="http://127.0.0.1:$STRIPE_PORT" \
    AI_BASE_URL="http://127.0.0.1:$AI_PORT/v1" AI_API_KEY="$AI_TEST_KEY" \
    exec "$root/target/debug/$bin" >>"$tree/server.log" 2>&1) &
  server_pid=$!
  wait_ready "$tree" "$port"
}

# Two instances of TREE on one Redis (the second started by START, start_server by default):
# server_pid is the first, server2_pid the second.
start_two() { # TREE PORT1 PORT2 [START [ITS ARGUMENTS]]
  local first
  start_server "$1" "$2"
  first=$server_pid
  "${4:-start_server}" "$1" "$3" "${@:5}"
  server2_pid=$server_pid
  server_pid=$first
}

stop_two() {
  stop_server
  kill "$server2_pid" 2>/dev/null; wait "$server2_pid" 2>/dev/null || true; server2_pid=
}

stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}

result() { # LABEL STATUS
  if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "  ok   $1"; else fail=$((fail + 1)); echo "  FAIL $1"; fi
}

# The tree's own generated vitest suite (it starts its own server in process).
vitest() {
  local tree=$1 label=$2 log
  log=$(cd "$tree" && node node_modules/vitest/vitest.mjs run 2>&1) && result "$label: generated vitest suite" 0 || {
    echo "$log" | tail -40; result "$label: generated vitest suite" 1; }
}

# The suites every blog server runs (the TypeScript ones and the Rust one): the blog suite, the
# realtime suite, the SDK's hybrid client, and the React hooks with live updates.
api_suites() { # LABEL PORT TREE DB
  local label=$1 port=$2 tree=$3 db=$4 log
  if log=$(API_URL="http://127.0.0.1:$port" DB=$db node --import tsx --test "$here/blog.e2e.test.ts" 2>&1); then
    result "$label: blog suite ($(echo "$log" | awk '/^# pass/ {print $3}') tests)" 0
  else
    echo "$log" | grep -v '^ *ok\|^ *---\|^ *\.\.\.\|duration_ms\|^ *# Subtest' | head -60
    result "$label: blog suite" 1
  fi
  if log=$(API_URL="http://127.0.0.1:$port" node --import tsx --test "$here/realtime.e2e.test.ts" 2>&1); then
    result "$label: realtime suite ($(echo "$log" | awk '/^# pass/ {print $3}') tests)" 0
  else
    echo "$log" | grep -v '^ *ok\|^ *---\|^ *\.\.\.\|duration_ms\|^ *# Subtest' | head -60
    result "$label: realtime suite" 1
  fi
  if log=$(API_URL="http://127.0.0.1:$port" TREE="$tree" node --import tsx --test "$here/realtime.sdk.test.ts" 2>&1); then
    result "$label: SDK hybrid client and reconnection" 0
  else
    echo "$log" | grep -v '^ *ok\|^ *---\|^ *\.\.\.\|duration_ms\|^ *# Subtest' | head -40
    result "$label: SDK hybrid client and reconnection" 1
  fi
  # The React hooks, in jsdom with the tree's vitest (copied in, so tsc checks it against the tree).
  cp "$here/hooks.live.test.ts" "$tree/tests/"
  if log=$(cd "$tree" && API_URL="http://127.0.0.1:$port" node node_modules/vitest/vitest.mjs run tests/hooks.live.test.ts 2>&1) \
    && (cd "$tree" && node node_modules/typescript-7/bin/tsc --noEmit >/dev/null); then
    result "$label: TanStack Query hooks with live updates" 0
  else
    echo "$log" | tail -40
    result "$label: TanStack Query hooks with live updates" 1
  fi
  rm -f "$tree/tests/hooks.live.test.ts"
}

# The plugins of the TypeScript server: monitoring (/metrics under load) and the user's custom.ts.
plugin_suite() { # LABEL PORT TREE
  local log
  local via=smtp dir=
  case $3 in *sqlite*) via=resend dir=$3/storage ;; esac
  if log=$(API_URL="http://127.0.0.1:$2" TREE="$3" EMAIL_VIA=$via STORAGE_DIR=$dir node --import tsx --test "$here/plugins.e2e.test.ts" 2>&1); then
    result "$1: plugins suite ($(echo "$log" | awk '/^# pass/ {print $3}') tests; $(echo "$log" | grep -o 'monitoring: .*' | head -1); $(echo "$log" | grep -o 'traces: .*' | head -1); $(echo "$log" | grep -o 'usage: .*' | head -1); $(echo "$log" | grep -o 'email: .*' | head -1); $(echo "$log" | grep -o 'payments: .*' | head -1); $(echo "$log" | grep -o 'storage: .*' | head -1); $(echo "$log" | grep -o 'ai: [0-9].*' | head -1))" 0
  else
    echo "$log" | grep -v '^ *ok\|^ *---\|^ *\.\.\.\|duration_ms\|^ *# Subtest' | head -60
    result "$1: plugins suite" 1
  fi
  # The plugins' React hooks, in the tree (type-checked with it) with its vitest.
  cp "$here/plugins.hooks.test.ts" "$3/tests/"
  if log=$(cd "$3" && node node_modules/typescript-7/bin/tsc --noEmit 2>&1 \
    && API_URL="http://127.0.0.1:$2" node node_modules/vitest/vitest.mjs run tests/plugins.hooks.test.ts 2>&1); then
    result "$1: plugins' React hooks (storage upload and download, checkout, AI summary)" 0
  else
    echo "$log" | tail -40
    result "$1: plugins' React hooks" 1
  fi
  rm -f "$3/tests/plugins.hooks.test.ts"
}

port=$base
for db in postgresql sqlite; do
  only blog || continue
  src="$root/examples/blog"
  [ "$db" = sqlite ] && src="$out/blog-sqlite-src"
  for fw in express fastify; do
    for mode in registry controller; do
      label="blog $db $fw $mode"
      tree="$out/blog-$db-$fw-$mode"
      echo "-- [${SECONDS}s] $label"
      prepare "$tree" "$src" "$fw" "$mode" "$db"
      # A user's plugin in the tree's custom.ts and their handlers of Stripe events; generating
      # again must keep both (they are theirs).
      cp "$here/plugin-fixture/custom.ts" "$tree/src/server/custom.ts"
      cp "$here/plugin-fixture/payment_handlers.ts" "$tree/src/server/plugins/payment_handlers.ts"
      if "$ssot" generate --root "$src" --ts-out "$tree" --framework "$fw" --mode "$mode" 2>&1 | grep -q "2 yours kept" \
        && cmp -s "$here/plugin-fixture/custom.ts" "$tree/src/server/custom.ts" \
        && cmp -s "$here/plugin-fixture/payment_handlers.ts" "$tree/src/server/plugins/payment_handlers.ts"; then
        result "$label: the user's custom.ts and payment_handlers.ts survive generation" 0
      else
        result "$label: the user's custom.ts and payment_handlers.ts survive generation" 1
      fi
      port=$((port + 1))
      start_server "$tree" $port
      api_suites "$label" "$port" "$tree" "$db"
      # Pairwise, to keep CI short: each framework, mode and database once (E2E_PLUGINS_ALL=1: all 8).
      case "${E2E_PLUGINS_ALL:-0}:$db $fw $mode" in
        1:* | *"postgresql express registry" | *"sqlite fastify controller") plugin_suite "$label" "$port" "$tree" ;;
      esac
      stop_server
      # Logs: one JSON object per line with a request id; no secrets, tokens or @writeOnly values.
      if node -e '
        const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
        let requests = 0;
        for (const l of lines) { const o = JSON.parse(l); if (o.msg === "request") { requests++; if (!o.requestId || !o.route || !o.status) process.exit(1); } }
        if (requests < 50) process.exit(1);
       ' "$tree/server.log" && ! grep -q "argon2id\|eyJ\|$JWT_SECRET\|$METRICS_TOKEN\|$STRIPE_WEBHOOK_SECRET\|sk_test_e2e\|$RESEND_TEST_KEY\|$AI_TEST_KEY\|v1=\|$AWS_SECRET_ACCESS_KEY\|X-Amz-Signature" "$tree/server.log"; then
        result "$label: structured logs without secrets" 0
      else
        result "$label: structured logs without secrets" 1
      fi
      vitest "$tree" "$label"
    done
  done
done

# The attack matrix of the multi-tenant fixture, on both frameworks (PostgreSQL).
tenant_suite() { # LABEL → runs tests/ts/tenant.e2e.test.ts against API_URL (and API_URL_2)
  local log
  if log=$(DATABASE_URL="$DATABASE_URL" node --import tsx --test "$here/tenant.e2e.test.ts" 2>&1); then
    result "$1: attack matrix and regressions ($(echo "$log" | awk '/^# pass/ {print $3}') tests, $(echo "$log" | awk '/^# skipped/ {print $3}') skipped)" 0
  else
    echo "$log" | grep -v '^ *ok\|^ *---\|^ *\.\.\.\|duration_ms\|^ *# Subtest' | head -80
    result "$1: attack matrix and regressions" 1
  fi
}
if only tenant; then
  for combo in express:registry fastify:controller; do
    fw=${combo%%:*}
    mode=${combo##*:}
    tree="$out/tenant-$fw-$mode"
    echo "-- [${SECONDS}s] tenant $fw $mode"
    prepare "$tree" "$root/tests/fixtures/tenant" "$fw" "$mode" postgresql
    export TENANT_DATABASE_URL=$DATABASE_URL
    port=$((port + 1))
    start_server "$tree" $port
    API_URL="http://127.0.0.1:$port" tenant_suite "tenant $fw $mode"
    stop_server
    vitest "$tree" "tenant $fw $mode"
  done
  # The same attack matrix against the Rust server of the fixture, on tables Prisma pushed.
  if only rust; then
    tree="$out/tenant-rust"
    echo "-- [${SECONDS}s] tenant rust"
    prepare "$tree" "$root/tests/fixtures/tenant" express registry postgresql
    tenant_rust_url=$DATABASE_URL
    port=$((port + 1))
    FIXTURE=tenant start_rust_server "$tree" $port fixture-server
    API_URL="http://127.0.0.1:$port" tenant_suite "tenant rust (HTTP and WebSocket)"
    stop_server
  fi
fi

# Every scalar type × every operator in read policies and masks, over HTTP and WebSocket.
if only typed; then
  node "$here/typed-schema.mjs" "$out/typed-src"
  for combo in express:registry fastify:controller; do
    fw=${combo%%:*}
    mode=${combo##*:}
    tree="$out/typed-$fw-$mode"
    echo "-- [${SECONDS}s] typed policies $fw $mode"
    prepare "$tree" "$out/typed-src" "$fw" "$mode" postgresql
    port=$((port + 1))
    start_server "$tree" $port
    if log=$(API_URL="http://127.0.0.1:$port" TREE="$tree" node --import tsx --test "$here/typed.e2e.test.ts" 2>&1); then
      result "typed policies $fw $mode: every type × operator over HTTP and WebSocket ($(echo "$log" | awk '/^# pass/ {print $3}') tests)" 0
    else
      echo "$log" | grep -v '^ *ok\|^ *---\|^ *\.\.\.\|duration_ms\|^ *# Subtest' | head -60
      result "typed policies $fw $mode" 1
    fi
    stop_server
  done
fi

# The search plugin (tests/fixtures/search): full-text indexes on PostgreSQL (GIN), SQLite
# (FTS5) and MariaDB (FULLTEXT; started here by mysql.sh) over a seeded corpus, through the API's
# search route.
if only search; then
  seeded=${E2E_SEARCH_ROWS:-20000}
  mysql=$("$here/mysql.sh" start "$out/mysql" "${E2E_MYSQL_PORT:-$((base + 158))}")
  for combo in postgresql:express:registry sqlite:fastify:controller mysql:express:controller; do
    IFS=: read -r db fw mode <<<"$combo"
    src="$out/search-$db-src"
    mkdir -p "$src"
    sed -e "s/provider = \"postgresql\"/provider = \"$db\"/" "$root/tests/fixtures/search/schema.prisma" >"$src/schema.prisma"
    cp "$root/tests/fixtures/search/ssot.toml" "$root/tests/fixtures/search/mysql.sql" "$src/"
    # MySQL's FULLTEXT indexes have no language: the fixture's `english` is refused there.
    [ "$db" = mysql ] && sed -i '/^language = /d' "$src/ssot.toml"
    tree="$out/search-$db-$fw-$mode"
    echo "-- [${SECONDS}s] search $db $fw $mode"
    prepare "$tree" "$src" "$fw" "$mode" "$db"
    node "$here/search-seed.mjs" "$db" "$DATABASE_URL" "$seeded" >/dev/null
    port=$((port + 1))
    start_server "$tree" $port
    if log=$(API_URL="http://127.0.0.1:$port" DB=$db SEEDED=$seeded node --import tsx --test "$here/search.e2e.test.ts" 2>&1); then
      result "search $db $fw $mode: full-text index ($(echo "$log" | awk '/^# pass/ {print $3}') tests; $(echo "$log" | grep -o 'search: [0-9].*' | head -1))" 0
    else
      echo "$log" | grep -v '^ *ok\|^ *---\|^ *\.\.\.\|duration_ms\|^ *# Subtest' | head -60
      result "search $db $fw $mode" 1
    fi
    stop_server
    # Another language (on MySQL, the fields in another order): the next start builds the new
    # definition's index and drops the old one.
    old_index=$(echo "$log" | grep -o 'index Article_search_[0-9a-f]*' | head -1 | cut -d' ' -f2)
    sed -i 's/language = "english"/language = "simple"/' "$src/ssot.toml"
    [ "$db" != mysql ] || sed -i 's/@@search(fields: \[title, body\])/@@search(fields: [body, title])/' "$src/schema.prisma"
    "$ssot" generate --root "$src" --ts-out "$tree" --framework "$fw" --mode "$mode" >/dev/null 2>&1
    start_server "$tree" $port
    if log=$(API_URL="http://127.0.0.1:$port" DB=$db SEEDED=$seeded SEARCH_LANGUAGE=simple OLD_INDEX=$old_index \
      node --import tsx --test "$here/search.e2e.test.ts" 2>&1) && [ -n "$old_index" ]; then
      result "search $db $fw $mode: a changed definition replaces $old_index" 0
    else
      echo "$log" | grep -v '^ *ok\|^ *---\|^ *\.\.\.\|duration_ms\|^ *# Subtest' | head -60
      result "search $db $fw $mode: a changed definition" 1
    fi
    stop_server
    # The Rust server of the fixture (compiled with `english`) on the same tables: at its start it
    # replaces the `simple` index the TypeScript server left, then searches with it.
    if [ "$db" = postgresql ]; then
      port=$((port + 1))
      FIXTURE=search start_rust_server "$tree" $port fixture-server
      if log=$(API_URL="http://127.0.0.1:$port" DB=$db SEEDED=$seeded node --import tsx --test "$here/search.e2e.test.ts" 2>&1) \
        && grep -q '"message":"search: full-text indexes created"' "$tree/server.log"; then
        result "search $db rust: the index of its definition created at start, then the same suite ($(echo "$log" | awk '/^# pass/ {print $3}') tests; $(echo "$log" | grep -o 'search: [0-9].*' | head -1))" 0
      else
        echo "$log" | grep -v '^ *ok\|^ *---\|^ *\.\.\.\|duration_ms\|^ *# Subtest' | head -60
        tail -5 "$tree/server.log"
        result "search $db rust" 1
      fi
      stop_server
    fi
  done
  "$here/mysql.sh" stop "$out/mysql"
fi

# The blog suite against the Rust server, which creates its tables from the example's migrations
# (examples/blog/migrations, written by `prisma migrate`): the generated SDK's server contract,
# served from Rust.
for db in postgresql sqlite; do
  only rust || continue
  src="$root/examples/blog"
  [ "$db" = sqlite ] && src="$out/blog-sqlite-src"
  label="blog $db rust"
  tree="$out/blog-$db-rust"
  echo "-- [${SECONDS}s] $label"
  NO_PUSH=1 prepare "$tree" "$src" express registry "$db"
  [ "$db" = postgresql ] && rust_pg_url=$DATABASE_URL
  port=$((port + 1))
  start_rust_server "$tree" $port
  migrations_agree "$label" "$tree" "$db"
  api_suites "$label" "$port" "$tree" "$db"
  # The monitoring plugin's metrics (feature `monitoring`): the TypeScript plugin's suite.
  if log=$(API_URL="http://127.0.0.1:$port" OTLP_PORT= USAGE_PORT= node --import tsx --test --test-name-pattern="monitoring" "$here/plugins.e2e.test.ts" 2>&1) \
    && [ "$(echo "$log" | awk '/^# pass/ {print $3}')" -ge 3 ]; then
    result "$label: monitoring plugin suite ($(echo "$log" | awk '/^# pass/ {print $3}') tests; $(echo "$log" | grep -o 'monitoring: .*' | head -1))" 0
  else
    echo "$log" | grep -v '^ *ok\|^ *---\|^ *\.\.\.\|duration_ms\|^ *# Subtest' | head -60
    result "$label: monitoring plugin suite" 1
  fi
  # The payments plugin (feature `payments`, the example's handlers in examples/blog/src/payments.rs)
  # and the ai plugin (feature `ai`): the TypeScript plugins' suites — checkout through the stand-in
  # of Stripe's API; signed, tampered, stale, duplicate, concurrent and reordered events; prompts
  # of the readable fields only, 404/401/400, embeddings, the SDK, 502 logged without the prompt,
  # 429 per caller — against the stand-ins the suites serve.
  if log=$(API_URL="http://127.0.0.1:$port" TREE="$tree" node --import tsx --test --test-name-pattern="payments|ai plugin" "$here/plugins.e2e.test.ts" 2>&1) \
    && [ "$(echo "$log" | awk '/^# pass/ {print $3}')" -ge 9 ]; then
    result "$label: payments and ai plugin suites ($(echo "$log" | awk '/^# pass/ {print $3}') tests; $(echo "$log" | grep -o 'payments: .*' | head -1); $(echo "$log" | grep -o 'ai: [0-9].*' | head -1))" 0
  else
    echo "$log" | grep -v '^ *ok\|^ *---\|^ *\.\.\.\|duration_ms\|^ *# Subtest' | head -60
    result "$label: payments and ai plugin suites" 1
  fi
  # Logs: one JSON object per line (tracing's JSON), a request id on every request line; no
  # secrets, tokens or @writeOnly values.
  if node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
    let requests = 0;
    for (const l of lines) { const o = JSON.parse(l); if (o.fields?.message === "request") { requests++; if (!o.fields.request_id || !o.fields.path || !o.fields.status) process.exit(1); } }
    if (requests < 50) process.exit(1);
  ' "$tree/server.log" && ! grep -q "argon2id\|eyJ\|$JWT_SECRET\|$STRIPE_WEBHOOK_SECRET\|sk_test_e2e\|v1=\|$AI_TEST_KEY" "$tree/server.log"; then
    result "$label: structured logs without secrets" 0
  else
    result "$label: structured logs without secrets" 1
  fi
  # Auth settings, each in a Rust server process of its own.
  if [ "$db" = sqlite ]; then
    if log=$(TREE="$tree" SERVER_BIN="$root/target/debug/blog" DATABASE_URL="$DATABASE_URL" \
      node --import tsx --test --test-name-pattern="JWT_PUBLIC_KEY|JWKS_URL|API keys" "$here/auth.e2e.test.ts" 2>&1); then
      result "$label: auth settings and CORS: RS256 with a PEM key and from a JWKS endpoint (iss, aud), API keys ($(echo "$log" | awk '/^# pass/ {print $3}') tests)" 0
    else
      echo "$log" | grep -v '^ *ok\|^ *---\|^ *\.\.\.\|duration_ms' | head -40
      result "$label: auth settings and CORS" 1
    fi
  fi
  # The TypeScript server of the same tree on the same database: the same bytes for the same rows.
  rust_pid=$server_pid
  start_server "$tree" $((port + 200))
  if log=$(API_URL="http://127.0.0.1:$((port + 200))" API_URL_2="http://127.0.0.1:$port" DB=$db node --import tsx --test "$here/same-bytes.test.ts" 2>&1); then
    result "$label: same bytes as the TypeScript server ($(echo "$log" | grep -o 'compared [0-9]* responses' | head -1 || true))" 0
  else
    echo "$log" | grep -v '^ *ok\|^ *---\|^ *\.\.\.\|duration_ms\|^ *# Subtest' | head -80
    result "$label: same bytes as the TypeScript server" 1
  fi
  stop_server
  server_pid=$rust_pid
  stop_server
done

# Realtime fan-out across two instances through a real redis-server on 127.0.0.1.
if ! command -v redis-server >/dev/null; then
  echo "installing redis-server (Debian)"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; fi
fi
redis-server --bind 127.0.0.1 --port "${E2E_REDIS_PORT:-26379}" --save "" --appendonly no --daemonize yes --pidfile "$out/redis.pid" >/dev/null
trap '"$here/pg.sh" stop "$out/pg"; "$here/s3.sh" stop "$out/s3"; "$here/mysql.sh" stop "$out/mysql"; [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null; [ -n "${server2_pid:-}" ] && kill "$server2_pid" 2>/dev/null; [ -f "$out/redis.pid" ] && kill "$(cat "$out/redis.pid")" 2>/dev/null || true' EXIT
export REDIS_URL="redis://127.0.0.1:${E2E_REDIS_PORT:-26379}"
if only blog; then
tree="$out/blog-postgresql-fastify-registry"
export DATABASE_URL="$pg/e2e_3"
echo "-- [${SECONDS}s] realtime across two instances (Redis)"
start_two "$tree" $((base + 101)) $((base + 102))
if log=$(API_URL=http://127.0.0.1:$((base + 101)) API_URL_2=http://127.0.0.1:$((base + 102)) node --import tsx --test "$here/realtime.e2e.test.ts" 2>&1); then
  result "blog, two instances on Redis: realtime suite with fan-out ($(echo "$log" | awk '/^# pass/ {print $3}') tests)" 0
else
  echo "$log" | grep -v '^ *ok\|^ *---\|^ *\.\.\.\|duration_ms\|^ *# Subtest' | head -60
  result "blog, two instances on Redis: realtime suite with fan-out" 1
fi
stop_two
fi
# A mixed fleet on one Redis and one database: a TypeScript and a Rust instance of the blog
# deliver each other's writes, under each subscriber's policy (both directions).
if only rust; then
  tree="$out/blog-postgresql-rust"
  export DATABASE_URL=$rust_pg_url
  echo "-- [${SECONDS}s] realtime across a TypeScript and a Rust instance (Redis)"
  start_two "$tree" $((base + 105)) $((base + 106)) start_rust_server
  for pair in "105 106 TypeScript Rust" "106 105 Rust TypeScript"; do
    read -r from to from_name to_name <<<"$pair"
    if log=$(API_URL=http://127.0.0.1:$((base + from)) API_URL_2=http://127.0.0.1:$((base + to)) node --import tsx --test "$here/realtime.e2e.test.ts" 2>&1); then
      result "mixed fleet on Redis: writes through $from_name reach subscribers of $to_name (realtime suite with fan-out, $(echo "$log" | awk '/^# pass/ {print $3}') tests)" 0
    else
      echo "$log" | grep -v '^ *ok\|^ *---\|^ *\.\.\.\|duration_ms\|^ *# Subtest' | head -60
      result "mixed fleet on Redis: writes through $from_name reach subscribers of $to_name" 1
    fi
  done
  stop_two
fi
# The tenant tree twice on one Redis: rate limits are shared (the suite's rate-limit test runs).
if only tenant; then
  tree="$out/tenant-fastify-controller"
  export DATABASE_URL=$TENANT_DATABASE_URL
  echo "-- [${SECONDS}s] tenant, two instances (Redis)"
  start_two "$tree" $((base + 103)) $((base + 104))
  API_URL=http://127.0.0.1:$((base + 103)) API_URL_2=http://127.0.0.1:$((base + 104)) tenant_suite "tenant, two instances on Redis"
  stop_two
fi
# The tenant fixture's TypeScript and Rust servers on one Redis: one rate limit for both (the
# suite's shared-limit test), and the rest of the matrix through either.
if only tenant && only rust; then
  tree="$out/tenant-rust"
  export DATABASE_URL=$tenant_rust_url
  echo "-- [${SECONDS}s] tenant, a TypeScript and a Rust instance (Redis)"
  # The same principals just spent their limits on the run before: a fresh count.
  redis-cli -p "${E2E_REDIS_PORT:-26379}" flushall >/dev/null
  FIXTURE=tenant start_two "$tree" $((base + 107)) $((base + 108)) start_rust_server fixture-server
  API_URL=http://127.0.0.1:$((base + 107)) API_URL_2=http://127.0.0.1:$((base + 108)) tenant_suite "tenant, TypeScript and Rust on Redis"
  stop_two
fi
unset REDIS_URL

# Authentication settings (RS256 with a PEM key or JWKS, issuer/audience, API keys) and CORS, each
# in a server process of its own, on both frameworks.
for t in blog-sqlite-express-registry blog-sqlite-fastify-controller; do
  only blog || continue
  if log=$(TREE="$out/$t" DATABASE_URL="file:$out/$t/e2e.db" node --import tsx --test "$here/auth.e2e.test.ts" 2>&1); then
    result "$t: auth settings and CORS ($(echo "$log" | awk '/^# pass/ {print $3}') tests)" 0
  else
    echo "$log" | grep -v '^ *ok\|^ *---\|^ *\.\.\.\|duration_ms' | head -40
    result "$t: auth settings and CORS" 1
  fi
done

# postgres_full without its PostGIS column: compound ids, self relations, every scalar type.
mkdir -p "$out/postgres_full-src"
grep -v 'Unsupported("geometry")' "$root/tests/fixtures/postgres_full/schema.prisma" > "$out/postgres_full-src/schema.prisma"
for fixture in sqlite annotations multischema postgres_full views; do
  only fixtures || continue
  db=postgresql
  [ "$fixture" = sqlite ] && db=sqlite
  src="$root/tests/fixtures/$fixture"
  [ "$fixture" = postgres_full ] && src="$out/postgres_full-src"
  tree="$out/$fixture"
  echo "-- [${SECONDS}s] fixture $fixture ($db)"
  prepare "$tree" "$src" fastify controller "$db"
  vitest "$tree" "fixture $fixture"
  # The same generated suite against the Rust server of the fixture, on the same tables.
  if only rust; then
    claims=$(cd "$tree" && node --import tsx -e 'import("./tests/claims.ts").then((m) => console.log(JSON.stringify(m.TEST_CLAIMS)))')
    port=$((port + 1))
    RATE_LIMIT=0 API_KEYS="{\"ssot-generated-tests-api-key\": $claims}" FIXTURE=$fixture start_rust_server "$tree" $port fixture-server
    API_URL="http://127.0.0.1:$port" vitest "$tree" "fixture $fixture rust"
    stop_server
  fi
done

# The real-world corpus (tests/real), every PostgreSQL and SQLite schema: tables pushed to a fresh
# database, then the tree's own suite (which also starts the server the way `npm start` does). The
# suite prints how many models it round-tripped; tests/real/coverage.txt holds the expected count.
for dir in "$root"/tests/real/*/; do
  only real || continue
  name=$(basename "$dir")
  # shellcheck disable=SC2046 # the schema files of the folder, none with spaces in tests/real
  provider=$(awk '/^datasource/ {d = 1} d && /^ *provider *=/ {gsub(/.*= *"|".*/, ""); print; exit}' $(find "$dir" -name '*.prisma'))
  case "$provider" in
    postgresql) db=postgresql ;;
    sqlite) db=sqlite ;;
    *) echo "-- [${SECONDS}s] real $name: skipped (provider $provider: no local server of it in CI; generated and type-checked by run.sh)"; continue ;;
  esac
  tree="$out/real-$name"
  echo "-- [${SECONDS}s] real $name ($db)"
  # Extensions the datasource lists go into template1 before the database is created from it,
  # so that `prisma db push` finds them; one this PostgreSQL lacks skips the schema, saying so.
  for ext in $(grep -rhoE 'extensions *= *\[[^]]*\]' "$dir" --include=*.prisma | tr -d '[]"' | sed 's/extensions *= *//; s/,/ /g'); do
    psql "$pg/template1" -qc "create extension if not exists \"$ext\"" >/dev/null 2>&1 \
      || { echo "   skipped: the extension $ext is not installed here"; continue 2; }
  done
  if ! prepare "$tree" "$dir" express registry "$db"; then result "real $name: prisma db push" 1; continue; fi
  log=$(cd "$tree" && node node_modules/vitest/vitest.mjs run 2>&1) && status=0 || status=1
  [ "$status" = 0 ] || echo "$log" | tail -60
  # A suite that died before its summary prints no count: that is a failure to report, not a
  # reason for `set -e` to end the script here without a word.
  line=$(echo "$log" | grep -o 'ssot: CRUD round trips for [0-9]* of [0-9]* models' | head -1 || true)
  got=$(echo "$line" | awk '{print $6}')
  want=$(awk -v n="$name" '$1 == n {print $2}' "$root/tests/real/coverage.txt")
  echo "$log" | grep -o 'ssot: no round trip for .*' | sed 's/^/   /' || true
  result "real $name: generated suite passes" "$status"
  if [ -n "$got" ] && [ "$got" = "$want" ]; then result "real $name: ${line#ssot: }" 0
  else echo "   expected $want round trips (tests/real/coverage.txt), the suite printed: ${line:-nothing}"; result "real $name: CRUD coverage" 1; fi
done

echo "# pass $pass"
echo "# fail $fail"
[ "$fail" = 0 ]
