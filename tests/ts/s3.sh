#!/usr/bin/env bash
# A local S3-compatible server for the storage plugin's tests: s3s-fs (the file-system server of
# the s3s crate, which checks presigned POST policies: size range, content type, signature,
# expiry), built from the Rust registry into target/tools on first use. Stores under DIR/data,
# one bucket `covers`. Prints the endpoint.
# Usage: s3.sh start DIR PORT | s3.sh stop DIR
# The credentials the servers under test use: S3_ACCESS_KEY / S3_SECRET_KEY (defaults below).
set -euo pipefail
cmd=$1 dir=$(realpath -m "$2") port=${3:-25900}
root=$(cd "$(dirname "$0")/../.." && pwd)
tools="$root/target/tools"
bin="$tools/bin/s3s-fs"
case $cmd in
  start)
    if [ ! -x "$bin" ]; then
      echo "building s3s-fs 0.14.1 into target/tools (once)" >&2
      # The last release that builds with the toolchain here; a debug build is quick to compile
      # and fast enough for tests.
      cargo install s3s-fs --version 0.14.1 --features binary --locked --debug --quiet --root "$tools" >&2
    fi
    mkdir -p "$dir/data/covers"
    "$bin" --host 127.0.0.1 --port "$port" \
      --access-key "${S3_ACCESS_KEY:-ssot-test-key}" --secret-key "${S3_SECRET_KEY:-ssot-test-secret-0123456789}" \
      "$dir/data" >"$dir/log" 2>&1 &
    pid=$!
    echo $pid >"$dir/pid"
    for _ in $(seq 1 100); do
      curl -s -o /dev/null "http://127.0.0.1:$port/" && break
      sleep 0.1
    done
    # Another server on the port (say a run that was killed) would answer with other keys.
    if ! kill -0 $pid 2>/dev/null; then
      echo "s3s-fs did not start on port $port:" >&2
      tail -5 "$dir/log" >&2
      exit 1
    fi
    echo "http://127.0.0.1:$port"
    ;;
  stop)
    [ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true
    rm -f "$dir/pid"
    ;;
esac
