#!/usr/bin/env bash
# The outside view: a bounded Schemathesis run against each service's OpenAPI document, fetched and exercised through
# the edge (as the public sees the API), with an organiser's token. Fails on any 5xx, any response whose status code,
# content type or body the document does not describe — so the documents stay true as endpoints are added.
#
#   bash .ci/schemathesis.sh            # SQLite under a fresh data dir
#   CLOVERLEAF_SCHEMATHESIS_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres bash .ci/schemathesis.sh
#
# With a PostgreSQL URL, each service gets a fresh database of its own on that server (dropped afterwards).
# Knobs: SCHEMATHESIS_MAX_EXAMPLES (per operation, default 25), SCHEMATHESIS_SEED (default 1, so a run is repeatable),
# SCHEMATHESIS_REPORT_DIR (default target/schemathesis/<sqlite|postgres>), SCHEMATHESIS_DOCUMENTS (default all four).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SCHEMATHESIS_VERSION=4.32.5
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-25}
SEED=${SCHEMATHESIS_SEED:-1}
DATABASE_URL=${CLOVERLEAF_SCHEMATHESIS_DATABASE_URL:-}
DB_KIND=$([ -n "$DATABASE_URL" ] && echo postgres || echo sqlite)
REPORT_DIR=${SCHEMATHESIS_REPORT_DIR:-target/schemathesis/$DB_KIND}
case "$REPORT_DIR" in /*) ;; *) REPORT_DIR=$ROOT/$REPORT_DIR ;; esac
started_at=$(date +%s)

log() { printf '\n--> schemathesis (%s): %s\n' "$DB_KIND" "$*"; }

# Schemathesis from PyPI, pinned, in a venv under target/ (kept between runs; nothing installed system-wide).
VENV=target/schemathesis-venv
installed=$("$VENV/bin/st" --version 2>/dev/null || true)
if [[ "$installed" != *"version $SCHEMATHESIS_VERSION"* ]]; then
  log "installing schemathesis $SCHEMATHESIS_VERSION from PyPI"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# CLOVERLEAF_BIN: a cloverleaf binary built already (e.g. of another commit, to compare); otherwise this tree's.
BIN=${CLOVERLEAF_BIN:-}
if [ -z "$BIN" ]; then
  log "building cloverleaf"
  # --all-targets: the features the test run just built with, so nothing is built again after .ci/run's tests.
  cargo build --workspace --all-targets --locked --quiet
  BIN=target/debug/cloverleaf
fi

# Five ports (edge, three services, portal): SCHEMATHESIS_PORT_BASE and the four after it, or free ones the kernel picks.
if [ -n "${SCHEMATHESIS_PORT_BASE:-}" ]; then
  b=$SCHEMATHESIS_PORT_BASE
  read -r EDGE_PORT REG_PORT SCHED_PORT NOTIF_PORT PORTAL_PORT <<<"$b $((b + 1)) $((b + 2)) $((b + 3)) $((b + 4))"
else
read -r EDGE_PORT REG_PORT SCHED_PORT NOTIF_PORT PORTAL_PORT < <(python3 - <<'EOF'
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
)
fi
EDGE="http://127.0.0.1:$EDGE_PORT"
DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cloverleaf-schemathesis.XXXXXX")
mkdir -p "$REPORT_DIR"
export CLOVERLEAF_DATA_DIR="$DATA_DIR"
export CLOVERLEAF_PROFILE=development
export CLOVERLEAF__PUBLIC_URL="$EDGE"
export CLOVERLEAF__EDGE__LISTEN="127.0.0.1:$EDGE_PORT"
export CLOVERLEAF__REGISTRATION__LISTEN="127.0.0.1:$REG_PORT"
export CLOVERLEAF__SCHEDULING__LISTEN="127.0.0.1:$SCHED_PORT"
export CLOVERLEAF__NOTIFICATIONS__LISTEN="127.0.0.1:$NOTIF_PORT"
export CLOVERLEAF__PORTAL__LISTEN="127.0.0.1:$PORTAL_PORT"
export CLOVERLEAF__TELEMETRY__FILTER=warn

DATABASES=()
if [ -n "$DATABASE_URL" ]; then
  suffix="st_$(date +%s)_$$"
  for service in registration scheduling notifications; do
    db="${service}_$suffix"
    psql "$DATABASE_URL" -qAtc "create database $db" >/dev/null
    DATABASES+=("$db")
    url="${DATABASE_URL%/*}/$db"
    export "CLOVERLEAF__${service^^}__DATABASE_URL=$url"
  done
fi

SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  for db in "${DATABASES[@]}"; do
    psql "$DATABASE_URL" -qAtc "drop database if exists $db with (force)" >/dev/null 2>&1 || true
  done
  rm -rf "$DATA_DIR"
}
trap cleanup EXIT

log "starting the system (edge $EDGE, data $DATA_DIR)"
"$BIN" serve --data-dir "$DATA_DIR" >"$REPORT_DIR/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  curl -fsS -o /dev/null "$EDGE/readyz" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$REPORT_DIR/serve.log"; echo "cloverleaf serve exited"; exit 1; }
  sleep 0.5
done
curl -fsS -o /dev/null "$EDGE/readyz" || { cat "$REPORT_DIR/serve.log"; echo "the system did not get ready"; exit 1; }

log "an organiser and their token"
EMAIL=schemathesis.organiser@example.org
PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
printf '%s\n' "$PASSWORD" | "$BIN" accounts create --email "$EMAIL" --name "Schemathesis Organiser" \
  --role organiser --data-dir "$DATA_DIR" >/dev/null
TOKEN=$(curl -fsS "$EDGE/v1/auth/token" -H 'content-type: application/json' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
[ -n "$TOKEN" ] || { echo "no token"; exit 1; }

# The edge's own document comes first: it is small and it is the page the others are listed on.
status=0
for document in ${SCHEMATHESIS_DOCUMENTS:-edge registration scheduling notifications}; do
  log "$document: $EDGE/openapi/$document.json"
  # The bearer token is for the whole run; its 15 minutes are enough for a bounded run. One worker: with threads,
  # Python 3.11's ast.parse (which hypothesis uses) can fail ("AST constructor recursion depth mismatch").
  # From target/, where Schemathesis keeps its example database (.schemathesis/), out of the work tree.
  if ! (cd target && "$ROOT/$VENV/bin/st" run "$EDGE/openapi/$document.json" --url "$EDGE" \
      --header "Authorization: Bearer $TOKEN" \
      --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
      --phases examples,coverage,fuzzing \
      --max-examples "$MAX_EXAMPLES" --seed "$SEED" --workers 1 --continue-on-failure \
      --request-timeout 30 --no-color \
      --report junit --report-junit-path "$REPORT_DIR/$document.junit.xml" \
      >"$REPORT_DIR/$document.log" 2>&1); then
    status=1
    failed=yes
  else
    failed=
  fi
  # The summary: operations, test cases and failures by kind.
  sed -n '/^=* SUMMARY =*$/,$p' "$REPORT_DIR/$document.log" | grep -v '^$' || tail -n 30 "$REPORT_DIR/$document.log"
  if [ -n "$failed" ]; then
    grep -E '^(- |[0-9]+\. |    \[)' "$REPORT_DIR/$document.log" | head -n 60 || true
  fi
done

if kill -0 "$SERVER_PID" 2>/dev/null; then :; else echo "cloverleaf serve died during the run"; status=1; fi
log "done in $(( $(date +%s) - started_at )) s (reports in $REPORT_DIR)"
exit "$status"
