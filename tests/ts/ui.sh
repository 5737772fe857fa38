#!/usr/bin/env bash
# The admin UI in a real browser: the blog example's tree (API + UI) on PostgreSQL, the UI built
# with `next build` and served by `next start`, driven by Playwright (playwright-core) in Debian's
# Chromium (installed when missing). Prints node's test summary (# pass / # fail).
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
root=$(cd ../.. && pwd)
out="$root/target/ui"
prisma="$here/node_modules/prisma/build/index.js"
export PRISMA_HIDE_UPDATE_MESSAGE=1 NEXT_TELEMETRY_DISABLED=1
export JWT_SECRET="ui-secret-$(date +%s)-0123456789abcdef"
api_port=${UI_API_PORT:-3380} ui_port=${UI_PORT:-3381}
if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium (Debian)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
rm -rf "$out" && mkdir -p "$out"
cargo build --locked -q -p ssot-cli --manifest-path "$root/Cargo.toml"
pg=$("$here/pg.sh" start "$out/pg" "${UI_PG_PORT:-55480}")
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; "$here/pg.sh" stop "$out/pg"' EXIT

# The tree lives under tests/ts so that Next.js finds its packages without a link (Turbopack
# compiles nothing outside the folder of the nearest lockfile).
tree="$here/.ui/blog"
rm -rf "$here/.ui" && mkdir -p "$here/.ui"
"$root/target/debug/ssot" generate --root "$root/examples/blog" --ts-out "$tree" >/dev/null
# docs/ui.md's customised page: the user's wrapper of the posts list stays through a regeneration.
awk '/^```tsx$/ { on = 1; next } /^```$/ { on = 0 } on' "$root/docs/ui.md" > "$tree/app/admin/posts/page.tsx"
"$root/target/debug/ssot" generate --root "$root/examples/blog" --ts-out "$tree" --no-ui >/dev/null 2>&1
# --no-ui took the UI out (and its packages), all but the user's page.
[ ! -e "$tree/app/admin/tags/page.tsx" ] && ! grep -q '"next"' "$tree/package.json" \
  || { echo "--no-ui left the UI in the tree"; exit 1; }
kept=$("$root/target/debug/ssot" generate --root "$root/examples/blog" --ts-out "$tree" 2>&1 | grep -o '[0-9]* yours kept' || true)
[ "$kept" = "1 yours kept" ] || { echo "the user's page was not kept: '$kept'"; exit 1; }
grep -q "reviewed every Monday" "$tree/app/admin/posts/page.tsx" || { echo "the user's page was overwritten"; exit 1; }
psql "$pg/postgres" -qc "create database ui" >/dev/null
export DATABASE_URL="$pg/ui"
(cd "$tree" && PRISMA_SCHEMA_ENGINE_BINARY=/bin/true node "$prisma" generate >/dev/null \
  && PRISMA_SCHEMA_ENGINE_BINARY="$here/prisma-offline/schema-engine-shim.mjs" node "$prisma" db push >/dev/null)

started=$(date +%s)
(cd "$tree" && "$here/node_modules/.bin/next" build >"$out/next-build.log" 2>&1) \
  || { cat "$out/next-build.log"; exit 1; }
echo "next build of the blog UI: $(( $(date +%s) - started )) s"
# The UI of every fixture tree builds too (about 15 s each; UI_BUILD_FIXTURES="names views" picks).
bash "$here/ui-build.sh" ${UI_BUILD_FIXTURES:-all}

# The API as `npm start` runs it: the JavaScript of `tsc -p tsconfig.build.json`.
(cd "$tree" && node "$here/node_modules/typescript-7/bin/tsc" -p tsconfig.build.json)
(cd "$tree" && PORT=$api_port CORS_ORIGINS="http://127.0.0.1:$ui_port" LOG_LEVEL=warn \
  exec node --enable-source-maps dist/server/main.js >"$out/api.log" 2>&1) &
pids+=($!)
(cd "$tree" && API_URL="http://127.0.0.1:$api_port" NEXT_PUBLIC_API_URL="http://127.0.0.1:$api_port" \
  exec "$here/node_modules/.bin/next" start --port "$ui_port" --hostname 127.0.0.1 >"$out/ui.log" 2>&1) &
pids+=($!)
for url in "http://127.0.0.1:$api_port/ready" "http://127.0.0.1:$ui_port/admin/sign-in"; do
  for _ in $(seq 1 150); do curl -sf "$url" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -sf "$url" >/dev/null || { echo "not ready: $url"; cat "$out/api.log" "$out/ui.log"; exit 1; }
done

API_URL="http://127.0.0.1:$api_port" UI_URL="http://127.0.0.1:$ui_port" SHOTS="$out/screenshots" \
  node --import tsx --test --test-concurrency=1 "$here/ui.e2e.test.ts"
