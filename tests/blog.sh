#!/usr/bin/env bash
# The README's main command, as a new user runs it: `cargo run -p blog` in an empty folder
# creates blog.db, applies the example's migrations and serves the blog API on 127.0.0.1; the
# development token it prints works; a restart keeps the data and applies nothing again;
# SIGTERM stops it. Uses the binary the build step made (BLOG_BIN to use another).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BLOG_BIN:-$root/target/debug/blog}
work=$(mktemp -d)
port=${BLOG_PORT:-3190}
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; echo "--- server output:" >&2; cat "$work"/*.log >&2; exit 1; }

start() { # LOG
  (cd "$work" && exec env -u DATABASE_URL -u JWT_SECRET -u JWT_PUBLIC_KEY -u REDIS_URL PORT=$port "$bin" >"$work/$1.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || fail "the server exited"
    curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "the server did not become ready"
}
stop() {
  kill -TERM "$pid"
  wait "$pid" || fail "the server did not exit cleanly on SIGTERM"
  pid=
}
api() { # METHOD PATH [BODY] → prints "STATUS BODY"
  local args=(-s -o "$work/body" -w '%{http_code}' -X "$1" -H "authorization: Bearer $token" "http://127.0.0.1:$port$2")
  [ $# -gt 2 ] && args+=(-H 'content-type: application/json' -d "$3")
  echo "$(curl "${args[@]}") $(cat "$work/body")"
}

start first
[ -f "$work/blog.db" ] || fail "blog.db was not created"
grep -q '"migration applied".*20261202000000_init\|20261202000000_init.*"migration applied"' "$work/first.log" || fail "the migration was not applied"
token=$(grep -o 'eyJ[A-Za-z0-9_.-]*' "$work/first.log" | head -n 1)
[ -n "$token" ] || fail "no development token printed"
r=$(api POST /api/users '{"email":"ada@example.com","name":"Ada","passwordHash":"x"}')
[[ $r == 201* ]] || fail "create user: $r"
r=$(api POST /api/posts '{"title":"Hello from Rust","slug":"hello-from-rust","authorId":1,"published":true}')
[[ $r == 201* ]] || fail "create post: $r"
r=$(api GET '/api/posts?include=author')
[[ $r == 200*'"title":"Hello from Rust"'*'"author":{'* ]] || fail "list posts: $r"
token=invalid
r=$(api GET /api/posts)
[[ $r == 401* ]] || fail "a bad token: $r"
r=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/tags")
[ "$r" = 200 ] || fail "the public tags: $r"
padding=$(head -c 70000 /dev/zero | tr '\0' a)
r=$(curl -s -o /dev/null -w '%{http_code}' -H "x-padding: $padding" "http://127.0.0.1:$port/api/tags")
[ "$r" = 431 ] || fail "70 KB of headers: $r"
stop

start second
grep -q '"migration applied"' "$work/second.log" && fail "the second start applied a migration again"
token=$(grep -o 'eyJ[A-Za-z0-9_.-]*' "$work/second.log" | head -n 1)
r=$(api GET /api/posts/1)
[[ $r == 200*'"slug":"hello-from-rust"'* ]] || fail "the post after a restart: $r"
stop
echo "blog: created and migrated blog.db, served it (201, 201, 200, 401, 200, 431 for 70 KB of headers), kept it over a restart without migrating again, stopped on SIGTERM"
