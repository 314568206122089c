#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers at 127.0.0.1:5432 with trust auth for user postgres: starts the local cluster
# if it is down, installs Debian's postgresql if there is none. Fails — never skips — if it still cannot be reached.
set -euo pipefail

ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v pg_isready >/dev/null 2>&1 || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  echo "installing PostgreSQL from Debian's packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  version=$(ls /etc/postgresql | sort -n | tail -1)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  # Tests connect as postgres over TCP without a password, like the project's machines.
  as_root sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
fi

if ! ready; then
  echo "starting the local PostgreSQL cluster"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -n | tail -1)" main start || true
  for _ in $(seq 1 30); do ready && break; sleep 1; done
fi

if ! ready; then
  echo "PostgreSQL cannot be reached at 127.0.0.1:5432; the PostgreSQL pass cannot run" >&2
  exit 1
fi
psql -h 127.0.0.1 -U postgres -Atqc "select 'postgres ' || current_setting('server_version') || ' ready'"
