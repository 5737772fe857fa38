#!/usr/bin/env bash
# Starts a private MariaDB server on 127.0.0.1 (no systemd), installing Debian's mariadb-server
# when it is missing; the MySQL trees' server (@prisma/adapter-mariadb) and schema engine talk to
# it as they would to MySQL. Prints the base URL (user `ssot`, password `ssot`, every privilege).
# Usage: mysql.sh start DIR PORT | mysql.sh stop DIR
set -euo pipefail
cmd=$1 dir=$(realpath -m "$2") port=${3:-23306}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
case $cmd in
  start)
    if ! command -v mariadbd >/dev/null; then
      echo "installing mariadb-server (Debian)" >&2
      as_root apt-get update -qq >&2 && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >&2
    fi
    mkdir -p "$dir"
    user=$(id -un)
    [ "$user" = root ] && user=mysql && chown mysql "$dir"
    # The server's own settings only (no /etc/mysql): utf8mb4 as MySQL 8 has it, no name lookups.
    opts=(--no-defaults --user="$user" --datadir="$dir/data" --socket="$dir/sock" --pid-file="$dir/pid"
      --bind-address=127.0.0.1 --port="$port" --skip-name-resolve --character-set-server=utf8mb4
      --collation-server=utf8mb4_unicode_ci --innodb-flush-log-at-trx-commit=0 --max-connections=300
      --log-error="$dir/log.err")
    fresh=
    if [ ! -d "$dir/data/mysql" ]; then
      mariadb-install-db --no-defaults --user="$user" --datadir="$dir/data" --auth-root-authentication-method=socket >"$dir/install.log" 2>&1
      fresh=1
    fi
    if ! [ -S "$dir/sock" ] || ! mariadb-admin --no-defaults -uroot --socket="$dir/sock" ping >/dev/null 2>&1; then
      (setsid mariadbd "${opts[@]}" >/dev/null 2>&1 &)
      for _ in $(seq 1 100); do mariadb-admin --no-defaults -uroot --socket="$dir/sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
      if ! mariadb-admin --no-defaults -uroot --socket="$dir/sock" ping >/dev/null 2>&1; then
        echo "mysql.sh: mariadbd did not start on 127.0.0.1:$port (is the port taken?); its log:" >&2
        tail -n 5 "$dir/log.err" >&2
        exit 1
      fi
    fi
    if [ -n "$fresh" ]; then
      as_root mariadb --no-defaults -uroot --socket="$dir/sock" -e \
        "CREATE USER 'ssot'@'127.0.0.1' IDENTIFIED BY 'ssot'; GRANT ALL ON *.* TO 'ssot'@'127.0.0.1' WITH GRANT OPTION;"
    fi
    echo "mysql://ssot:ssot@127.0.0.1:$port"
    ;;
  stop)
    if [ -f "$dir/pid" ]; then
      pid=$(cat "$dir/pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    ;;
esac
