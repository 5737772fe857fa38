#!/usr/bin/env bash
# The Rust tests that need PostgreSQL: starts a private cluster on 127.0.0.1 (tests/ts/pg.sh),
# runs them, stops it. RUST_PG_PORT picks the port (default 25442).
set -euo pipefail
cd "$(dirname "$0")/.."
port=${RUST_PG_PORT:-25442}
dir=$PWD/target/rust-pg
url=$(bash tests/ts/pg.sh start "$dir" "$port")
trap 'bash tests/ts/pg.sh stop "$dir"' EXIT
psql_url="$url/postgres"
SSOT_TEST_PG_URL=$psql_url cargo test --locked -q --workspace --test rules -- --ignored --nocapture 2>&1 | tee target/rust-pg.log
grep -q "agree between SQL (Postgres)" target/rust-pg.log || { echo "FAIL: the PostgreSQL case did not run" >&2; exit 1; }
