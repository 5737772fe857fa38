#!/usr/bin/env bash
# API fuzzing: schemathesis (PyPI, pinned) runs every check against the generated blog server on
# PostgreSQL, driven by the generated openapi.json, as an admin and as an anonymous caller, for
# Express, Fastify and the Rust server (examples/blog, on the tables Prisma pushed). Fails
# on any 5xx, any response that does not conform to the document, or an error in a server's log.
# Expects `npm ci` done in tests/ts (run.sh does it) and, for the Rust server, the workspace
# built. FUZZ_PG_PORT and FUZZ_PORT_BASE move it beside another run; FUZZ_SEED replays a run (its
# log prints the seed). The `filter_too_much` health check is off: it judges the generator, not
# the API (a plain string path parameter, like Subscription's Stripe id, makes schemathesis drop
# the values it cannot put in a path, and on some seeds that is "too many"), and it failed CI on
# seeds where every check of the API passed. The TypeScript document lists the plugins' routes
# too; the two that call an outside service (Stripe's checkout, the AI provider) are left out:
# without one they answer 503 by design. One worker (FUZZ_WORKERS): with two, CPython 3.11's
# `ast.parse` raced in hypothesis' description of a recursive strategy ("AST constructor recursion
# depth mismatch", an error of the fuzzer's, not of the API), and one worker makes FUZZ_SEED
# replay the same run.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
root=$(cd ../.. && pwd)
out="$root/target/fuzz"
prisma="$here/node_modules/prisma/build/index.js"
export PRISMA_HIDE_UPDATE_MESSAGE=1
export JWT_SECRET="fuzz-secret-$(date +%s)-0123456789abcdef"
mkdir -p "$out"
# CI built every binary once (SSOT_CI_BUILT): a build of a few packages would compile
# them again with other features.
[ -n "${SSOT_CI_BUILT:-}" ] || cargo build --locked -q -p ssot-cli --manifest-path "$root/Cargo.toml"
if [ ! -x "$out/venv/bin/schemathesis" ]; then
  python3 -m venv "$out/venv"
  "$out/venv/bin/pip" install -q "schemathesis==4.32.5"
fi
pg=$("$here/pg.sh" start "$out/pg" "${FUZZ_PG_PORT:-25433}")
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; "$here/pg.sh" stop "$out/pg"' EXIT

status=0
port=${FUZZ_PORT_BASE:-3700}
for fw in ${FUZZ_SERVERS:-express fastify rust}; do
  tree="$out/blog-$fw"
  echo "-- blog $fw"
  # The Rust server's tables come from the same tree's Prisma schema (db push).
  "$root/target/debug/ssot" generate --root "$root/examples/blog" --ts-out "$tree" --framework "${fw/rust/express}" >/dev/null 2>&1
  ln -sfn "$here/node_modules" "$tree/node_modules"
  psql "$pg/postgres" -qc "drop database if exists fuzz_$fw" -c "create database fuzz_$fw" >/dev/null
  export DATABASE_URL="$pg/fuzz_$fw"
  (cd "$tree" && PRISMA_SCHEMA_ENGINE_BINARY=/bin/true node "$prisma" generate >/dev/null 2>&1 \
    && PRISMA_SCHEMA_ENGINE_BINARY="$here/prisma-offline/schema-engine-shim.mjs" node "$prisma" db push >/dev/null 2>&1)
  port=$((port + 1))
  # The plugins' routes that need no outside service are fuzzed too: files on local disk
  # (storage, TypeScript), the webhook with a secret (every fuzzed event fails its signature).
  if [ "$fw" = rust ]; then
    (cd "$tree" && PORT=$port RATE_LIMIT=0 LOG_LEVEL=warn MIGRATE_ON_START=false STRIPE_WEBHOOK_SECRET="whsec_fuzz_$(date +%s)" \
      exec "$root/target/debug/blog" >"$tree/server.log" 2>&1) &
  else
    (cd "$tree" && PORT=$port RATE_LIMIT=0 LOG_LEVEL=warn STORAGE_DIR="$tree/storage" STORAGE_PORT=$((port + 100)) \
      STRIPE_WEBHOOK_SECRET="whsec_fuzz_$(date +%s)" exec node --import tsx src/server/main.ts >"$tree/server.log" 2>&1) &
  fi
  server_pid=$!
  admin=$(cd "$tree" && node --input-type=module -e '
    import { SignJWT } from "jose";
    const key = new TextEncoder().encode(process.env.JWT_SECRET);
    console.log(await new SignJWT({ id: 1, role: "ADMIN" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("2h").sign(key));')
  for who in admin anonymous; do
    header=()
    [ "$who" = admin ] && header=(-H "Authorization: Bearer $admin")
    echo "   schemathesis as $who"
    if ! "$out/venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" "${header[@]}" \
      --wait-for-schema 20 --checks all --exclude-checks ignored_auth,positive_data_acceptance \
      --max-examples "${FUZZ_EXAMPLES:-25}" --workers "${FUZZ_WORKERS:-1}" --no-color ${FUZZ_SEED:+--seed "$FUZZ_SEED"} \
      --suppress-health-check=filter_too_much --exclude-operation-id createCheckout --exclude-path-regex '/ai/' \
      >"$tree/schemathesis-$who.log" 2>&1; then
      status=1
      tail -120 "$tree/schemathesis-$who.log"
      echo "   FAIL blog $fw as $who (log: $tree/schemathesis-$who.log)"
    else
      echo "   ok   blog $fw as $who: $(grep -E 'passed|failed' "$tree/schemathesis-$who.log" | tail -1)"
    fi
  done
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
  # pino's error level, tracing's ERROR.
  if grep -qE '"level":(50|"ERROR")' "$tree/server.log"; then echo "   FAIL server logged errors:"; grep -E '"level":(50|"ERROR")' "$tree/server.log" | head -5; status=1; fi
done
exit $status
