#!/usr/bin/env bash
# `next build` of the admin UI of fixture trees: ui-build.sh FIXTURE... (or `all`, what CI runs
# from ui.sh). Each tree lives under
# tests/ts/.ui/ so that Next.js finds the packages of tests/ts (Turbopack compiles nothing outside
# the folder of the nearest lockfile). Prints the build time of each; exits non-zero on a failure.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
root=$(cd ../.. && pwd)
export NEXT_TELEMETRY_DISABLED=1
names=("$@")
if [ "${names[0]:-}" = all ]; then
  names=()
  for dir in "$root"/tests/fixtures/*/; do names+=("$(basename "$dir")"); done
fi
failed=0
for name in "${names[@]}"; do
  tree="$here/.ui/fixture-$name"
  rm -rf "$tree"
  "$root/target/debug/ssot" generate --root "$root/tests/fixtures/$name" --ts-out "$tree" >/dev/null 2>&1
  if [ ! -d "$tree/app" ]; then
    echo "  --   $name: no admin UI (the tree has no server)"
    continue
  fi
  started=$(date +%s)
  if (cd "$tree" && "$here/node_modules/.bin/next" build >"$tree/next-build.log" 2>&1); then
    echo "  ok   next build of the $name fixture's UI ($(find "$tree/app/admin" -name page.tsx | wc -l) pages): $(( $(date +%s) - started )) s"
    rm -rf "$tree/.next" # about 30 MB each, not used after the build
  else
    tail -40 "$tree/next-build.log"
    echo "  FAIL next build of the $name fixture's UI"
    failed=$((failed + 1))
  fi
done
exit $((failed > 0))
