#!/usr/bin/env bash
# How a user's crate builds with ssot, in three set-ups, plus the generated items of the large
# synthetic schemas:
#   runtime  ssot with default features, items written by `ssot generate --rust-out`
#   buildrs  ssot + ssot-build in build.rs (`include_ssot!()`)
#   macro    ssot with the `macros` feature (`ssot!("schema.prisma")`)
#   synthetic-N  the items of the N-model synthetic ring, in a crate whose dependencies are built
# Checks on every run: the runtime set-up compiles no part of the schema front end; a schema
# error in build.rs is printed once, located, without the build script's output around it; a
# schema edit rebuilds. Prints a table of times.
#
# RUST_BUILD_FULL=1 measures cold builds from an empty target folder (the figures of
# docs/performance.md) and adds the 500-model schema; the default (CI) shares the workspace's
# target folder, so dependencies are not rebuilt and only the generated items are timed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
full=${RUST_BUILD_FULL:-}
work=$root/target/rust-build
ssot_cli=$root/target/debug/ssot
[ -x "$ssot_cli" ] || cargo build --locked -q -p ssot-cli
rm -rf "$work"
mkdir -p "$work"
rows=()

# A crate named $1 with the given [dependencies] and [build-dependencies] lines. It pins the
# workspace's lock file and dependency profile, so in the default mode it reuses what the
# workspace build compiled.
crate() {
  local dir=$work/$1
  mkdir -p "$dir/src"
  cp "$root/examples/blog/schema.prisma" "$root/examples/blog/ssot.toml" "$dir/"
  cp "$root/Cargo.lock" "$dir/Cargo.lock"
  cat >"$dir/Cargo.toml" <<EOF
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
serde_json = "1"
$2

[build-dependencies]
$3

[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
opt-level = 1
debug = false

[workspace]
EOF
}

target_for() {
  if [ -z "$full" ]; then
    echo "$root/target"
  elif [[ $1 == synthetic-* ]]; then
    echo "$work/target-runtime"
  else
    echo "$work/target-$1"
  fi
}

# Builds crate $1; prints the seconds taken; the compiler's output goes to $work/$1.log.
build() {
  local t0 t1
  t0=$(date +%s.%N)
  if ! (cd "$work/$1" && CARGO_TARGET_DIR=$(target_for "$1") cargo build --offline -q >"$work/$1.log" 2>&1); then
    echo "FAIL: $1 does not build:" >&2
    cat "$work/$1.log" >&2
    exit 1
  fi
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1 - $t0:.1f}')"
}

main_rs='
#[allow(dead_code)]
mod db {
    INCLUDE
}
fn main() {
    let post: db::Post = serde_json::from_str(r#"{ "id": 7, "title": "Hello", "slug": "hello", "body": null, "published": true, "views": 0, "rating": "4.50", "publishedAt": null, "authorId": 1 }"#).unwrap();
    assert!(post.can_read(&None));
    println!("{}", db::MODELS.len());
}'

# An edit a user makes: one more field on Post.
edit_schema() {
  sed -i 's/^  body        String?/  body        String?\n  subtitle    String?/' "$1/schema.prisma"
  grep -q subtitle "$1/schema.prisma" || { echo "FAIL: the schema edit did not apply" >&2; exit 1; }
}

# 1. The runtime alone.
crate runtime "ssot = { path = \"$root/ssot\" }" ""
echo "${main_rs/INCLUDE/include!(\"db.rs\");}" >"$work/runtime/src/main.rs"
"$ssot_cli" generate --root "$work/runtime" --rust-out "$work/runtime/src/db.rs" --no-ts >>"$work/generate.log" 2>&1 || { cat "$work/generate.log" >&2; exit 1; }
tree=$(cd "$work/runtime" && cargo tree --offline -e normal,build --prefix none)
for crate in ssot-core ssot-macros saola-psl askama darling serde_with_macros; do
  if grep -q "^$crate v" <<<"$tree"; then
    echo "FAIL: a crate that uses only the runtime depends on $crate" >&2
    exit 1
  fi
done
echo "ok: the runtime alone builds $(sort -u <<<"$tree" | grep -c ' v') crates, none of the schema front end"
cold=$(build runtime)
edit_schema "$work/runtime"
"$ssot_cli" generate --root "$work/runtime" --rust-out "$work/runtime/src/db.rs" --no-ts >>"$work/generate.log" 2>&1 || { cat "$work/generate.log" >&2; exit 1; }
again=$(build runtime)
rows+=("| runtime only (\`ssot generate --rust-out\`) | $cold | $again |")

# 2. build.rs.
crate buildrs "ssot = { path = \"$root/ssot\" }" "ssot-build = { path = \"$root/ssot-build\" }"
cp "$root/examples/blog/build.rs" "$work/buildrs/"
echo "${main_rs/INCLUDE/ssot::include_ssot!();}" >"$work/buildrs/src/main.rs"
cold=$(build buildrs)
edit_schema "$work/buildrs"
again=$(build buildrs)
rows+=("| build.rs (\`include_ssot!()\`) | $cold | $again |")
# A schema error: printed once, with its place, and nothing else of the build script.
sed -i 's/@@policy(read: "published/@@policy(read: "publishd/' "$work/buildrs/schema.prisma"
set +e
(cd "$work/buildrs" && CARGO_TARGET_DIR=$(target_for buildrs) cargo build --offline -q) >"$work/buildrs-error.log" 2>&1
status=$?
set -e
expected='schema.prisma:[0-9]+:[0-9]+: unknown field `publishd` in @@policy\(read\)'
if [ "$status" = 0 ] || [ "$(grep -cE "$expected" "$work/buildrs-error.log")" != 1 ] \
  || grep -qE 'failed to run custom build command|^ *Error:|--- stdout' "$work/buildrs-error.log"; then
  echo "FAIL: a schema error in build.rs should fail the build and print once, located (exit $status):" >&2
  cat "$work/buildrs-error.log" >&2
  exit 1
fi
echo "ok: a schema error in build.rs is printed once: $(grep -E "$expected" "$work/buildrs-error.log")"

# 3. The macro.
crate macro "ssot = { path = \"$root/ssot\", features = [\"macros\"] }" ""
echo "${main_rs/INCLUDE/ssot::ssot!(\"schema.prisma\");}" >"$work/macro/src/main.rs"
cold=$(build macro)
edit_schema "$work/macro"
again=$(build macro)
rows+=("| \`ssot!\` macro (feature \`macros\`) | $cold | $again |")

# 4. The generated items of the synthetic schemas, dependencies already built.
sizes="100"
[ -n "$full" ] && sizes="100 500"
for n in $sizes; do
  name=synthetic-$n
  crate "$name" "ssot = { path = \"$root/ssot\" }" ""
  rm "$work/$name/schema.prisma" "$work/$name/ssot.toml"
  if [ -n "${SSOT_CI_BUILT:-}" ]; then "$root/target/debug/examples/synthetic" "$n"
  else cargo run --locked -q -p ssot-core --example synthetic -- "$n"; fi >"$work/$name/schema.prisma"
  printf '#[allow(dead_code)]\nmod db {\n    include!("db.rs");\n}\nfn main() {\n    println!("{}", db::MODELS.len());\n}\n' >"$work/$name/src/main.rs"
  "$ssot_cli" generate --root "$work/$name" --rust-out "$work/$name/src/db.rs" --no-ts >>"$work/generate.log" 2>&1 || { cat "$work/generate.log" >&2; exit 1; }
  cold=$(build "$name")
  # After an edit: a figure for docs/performance.md (the blog crates above already check that an
  # edit rebuilds), so only in the full run.
  again="-"
  if [ -n "$full" ]; then
    sed -i 's/^  body      String?/  body      String?\n  extra     String?/' "$work/$name/schema.prisma"
    "$ssot_cli" generate --root "$work/$name" --rust-out "$work/$name/src/db.rs" --no-ts >>"$work/generate.log" 2>&1 || { cat "$work/generate.log" >&2; exit 1; }
    again=$(build "$name")
  fi
  lines=$(wc -l <"$work/$name/src/db.rs")
  rows+=("| generated items of $n models ($lines lines) | $cold | $again |")
done

mode="dependencies already built (the workspace's target folder)"
[ -n "$full" ] && mode="cold: empty target folder per set-up; synthetic rows reuse the runtime's dependencies"
echo
echo "Build of a small user crate (the blog schema), debug profile, $(nproc) cores; $mode"
echo
echo "| set-up | first build (s) | after a schema edit (s) |"
echo "|---|---:|---:|"
printf '%s\n' "${rows[@]}"
