#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests, on 127.0.0.1 and a free port.
#
#   scripts/pg-cluster.sh start DIR   creates and starts a cluster in DIR (which
#                                     must not exist) and prints its URI
#   scripts/pg-cluster.sh stop DIR    stops it and removes DIR
#   scripts/pg-cluster.sh restart DIR [PAUSE]
#                                     stops the server (fast: open sessions
#                                     are ended), waits PAUSE seconds (default
#                                     0.5) and starts it again on the same port
#                                     (postgres_restart_test)
#
# The URI is also written to DIR/uri. The superuser `postgres` connects
# without a password over 127.0.0.1 (trust); every other role must give its
# password (scram-sha-256), and the role `gymdash_auth` (password
# `gymdash-auth-pw`) exists so that the tests can try wrong credentials.
#
# PG_SERVER_OPTIONS, when set, adds server settings to `start` (e.g.
# "-c shared_buffers=4GB -c max_wal_size=8GB" for a benchmark of large imports;
# the tests use PostgreSQL's defaults).
#
# initdb and the server refuse to run as root: as root, both run as the
# `postgres` system user (created by Debian's postgresql package).
set -euo pipefail

bin="${PG_BIN:-}"
if [ -z "$bin" ]; then
  for v in 17 16 15 14 13; do
    if [ -x "/usr/lib/postgresql/$v/bin/initdb" ]; then bin="/usr/lib/postgresql/$v/bin"; break; fi
  done
fi
if [ -z "$bin" ]; then
  echo "pg-cluster: no PostgreSQL server found (install postgresql, or set PG_BIN)" >&2
  exit 1
fi

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

cmd="${1:-}"
dir="${2:-}"
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop|restart DIR" >&2
  exit 2
fi

case "$cmd" in
  start)
    if [ -e "$dir" ]; then
      echo "pg-cluster: $dir exists already" >&2
      exit 1
    fi
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
    chmod 700 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
    # The superuser without a password over TCP on the loopback only.
    printf 'host all postgres 127.0.0.1/32 trust\n%s\n' "$(cat "$dir/data/pg_hba.conf")" >"$dir/hba.tmp"
    mv "$dir/hba.tmp" "$dir/data/pg_hba.conf"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$dir/data/pg_hba.conf"; fi
    # A port picked now may be taken by the time the server binds it: try a few.
    started=""
    for _ in 1 2 3 4 5; do
      port=$(free_port)
      opts="-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 ${PG_SERVER_OPTIONS:-}"
      if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o "$opts" start >/dev/null 2>&1; then
        started=1
        echo "$opts" >"$dir/options"
        break
      fi
    done
    if [ -z "$started" ]; then
      cat "$dir/server.log" >&2 || true
      echo "pg-cluster: the server did not start" >&2
      exit 1
    fi
    uri="postgresql://postgres@127.0.0.1:$port/postgres"
    as_owner "$bin/psql" -q -X -v ON_ERROR_STOP=1 "$uri" \
      -c "CREATE ROLE gymdash_auth LOGIN PASSWORD 'gymdash-auth-pw'" >/dev/null
    echo "$uri" >"$dir/uri"
    echo "$uri"
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  restart)
    if [ ! -f "$dir/options" ]; then
      echo "pg-cluster: no cluster started in $dir" >&2
      exit 1
    fi
    opts=$(cat "$dir/options")
    as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null
    sleep "${3:-0.5}"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o "$opts" start >/dev/null
    ;;
  *)
    echo "usage: $0 start|stop|restart DIR" >&2
    exit 2
    ;;
esac
