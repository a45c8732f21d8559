#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL cluster on loopback:
#   scripts/test-postgres.sh COMMAND...
# The cluster lives in a temporary directory and is removed afterwards; the command gets
# DATABASE_URL pointing at it.
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || { echo "test-postgres: PostgreSQL is not installed (scripts/system-deps.sh postgresql)" >&2; exit 1; }

dir=$(mktemp -d /tmp/sotong-pg.XXXXXX)
port=${SOTONG_TEST_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  # PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
  chown postgres "$dir"
  as_owner=(runuser -u postgres --)
fi

cleanup() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U sotong --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null
"$bindir/createdb" -h 127.0.0.1 -p "$port" -U sotong sotong

export DATABASE_URL="postgres://sotong@127.0.0.1:$port/sotong"
echo "test-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port" >&2
"$@"
