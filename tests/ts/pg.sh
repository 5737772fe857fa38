#!/usr/bin/env bash
# Starts a private PostgreSQL 15 cluster on 127.0.0.1 (no systemd), installing the Debian package
# when it is missing. Prints the base URL. Usage: pg.sh start DIR PORT | pg.sh stop DIR |
# pg.sh restart DIR [SECONDS] (a fast stop, SECONDS away, a start: tests/ts/faults)
# The test servers' ports (PostgreSQL 25432…, Redis 26379…, MariaDB 23306, the S3 stand-in 25900)
# sit below Linux's ephemeral range (32768–60999): a port in it can be held by the local end of
# any outgoing connection, and CI's UI step once failed to start PostgreSQL on 55480 for that.
set -euo pipefail
cmd=$1 dir=$(realpath -m "$2") port=${3:-25432}
bin=/usr/lib/postgresql/15/bin
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
case $cmd in
  start)
    if [ ! -x $bin/initdb ]; then
      echo "installing postgresql (Debian)" >&2
      if [ "$(id -u)" = 0 ]; then apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
      else sudo apt-get update -qq >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2; fi
    fi
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then as_pg "$bin/initdb -D $dir -U postgres --auth=trust" >/dev/null; fi
    echo "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" >"$dir/ssot-opts"
    if ! as_pg "$bin/pg_ctl -D $dir status" >/dev/null 2>&1; then
      as_pg "$bin/pg_ctl -D $dir -l $dir/log -o \"$(cat "$dir/ssot-opts")\" -w start" >/dev/null
    fi
    echo "postgresql://postgres@127.0.0.1:$port"
    ;;
  stop)
    as_pg "$bin/pg_ctl -D $dir -m fast stop" >/dev/null 2>&1 || true
    ;;
  restart)
    as_pg "$bin/pg_ctl -D $dir -m fast -w stop" >/dev/null
    sleep "${3:-0}"
    as_pg "$bin/pg_ctl -D $dir -l $dir/log -o \"$(cat "$dir/ssot-opts")\" -w start" >/dev/null
    ;;
esac
