#!/usr/bin/env bash
# Browser tests: Debian's Chromium (playwright-core) against the real `otcpay` binary on
# PostgreSQL + Redis, with an SMTP listener and a webhook receiver inside the tests.
#
# Installs Chromium with apt-get and the npm packages with `npm ci` when missing, starts
# PostgreSQL and Redis when they are installed but not running, creates a fresh database
# for this run (each server gets its own database next to it) and a unique Redis key
# prefix, runs `node --test` over tests/e2e/*.test.js and cleans up. Anything that cannot
# be installed or started fails the run: nothing is skipped.
#
# Environment: OTCPAY_BIN (default <repo>/target/debug/otcpay), E2E_PG_HOST/E2E_PG_PORT
# (127.0.0.1:5432, user postgres, trust auth), E2E_REDIS_URL (redis://127.0.0.1:6379),
# E2E_TESTS (default: every *.test.js here).
# Screenshots go to tests/e2e/screenshots/, server logs to tests/e2e/logs/.
set -euo pipefail
cd "$(dirname "$0")"
E2E_DIR=$PWD
ROOT=$(cd ../.. && pwd)

log() { printf '\n==> e2e: %s\n' "$*"; }
die() { printf '\nFATAL (e2e): %s\n' "$*" >&2; exit 1; }

apt_install() {
  command -v apt-get >/dev/null || die "apt-get is missing; install $* by hand"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" || die "cannot install $*"
}

started=$(date +%s)

# --- tools ------------------------------------------------------------------------
command -v node >/dev/null || die "node is missing (Node 20 or later is needed)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "node $(node --version) is too old: node --test needs 20 or later"
command -v npm >/dev/null || die "npm is missing"

if [ ! -x /usr/bin/chromium ]; then
  log "installing chromium (Debian)"
  apt_install chromium
fi
/usr/bin/chromium --headless --no-sandbox --version >/dev/null 2>&1 || die "/usr/bin/chromium does not run"
# The zh-CN screenshots need a font with Chinese glyphs (else every character is a box).
if ! fc-list 2>/dev/null | grep -qi 'CJK'; then
  log "installing a CJK font (Debian fonts-noto-cjk)"
  apt_install fonts-noto-cjk
fi

# npm ci when node_modules is missing or was installed from another lock file.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.e2e-lock-sha256 2>/dev/null || true)" != "$lock_sum" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error || die "npm ci failed in tests/e2e"
  echo "$lock_sum" > node_modules/.e2e-lock-sha256
fi

export OTCPAY_BIN="${OTCPAY_BIN:-$ROOT/target/debug/otcpay}"
[ -x "$OTCPAY_BIN" ] || die "$OTCPAY_BIN is missing: build it first (cargo build -p otcpay)"

# --- services -----------------------------------------------------------------------
PG_HOST=${E2E_PG_HOST:-127.0.0.1}
PG_PORT=${E2E_PG_PORT:-5432}
REDIS_URL_E2E=${E2E_REDIS_URL:-redis://127.0.0.1:6379}
redis_hostport=${REDIS_URL_E2E#redis://}
redis_hostport=${redis_hostport%%/*}
REDIS_HOST=${redis_hostport%%:*}
REDIS_PORT=${redis_hostport##*:}

command -v psql >/dev/null || apt_install postgresql-client
command -v redis-cli >/dev/null || apt_install redis-tools

if ! pg_isready -h "$PG_HOST" -p "$PG_PORT" -q 2>/dev/null; then
  command -v pg_ctlcluster >/dev/null || die "PostgreSQL is not reachable on $PG_HOST:$PG_PORT (tests/run.sh installs and starts it)"
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
  for _ in $(seq 1 30); do pg_isready -h "$PG_HOST" -p "$PG_PORT" -q && break; sleep 1; done
  pg_isready -h "$PG_HOST" -p "$PG_PORT" -q || die "PostgreSQL is not reachable on $PG_HOST:$PG_PORT"
fi
if ! redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
  command -v redis-server >/dev/null || die "Redis is not reachable at $REDIS_URL_E2E (tests/run.sh installs and starts it)"
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no
  for _ in $(seq 1 30); do redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 1; done
  redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG || die "Redis is not reachable at $REDIS_URL_E2E"
fi

psql_admin() { psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

RUN_ID="$(date +%s)_$$"
E2E_DB="otcpay_e2e_$RUN_ID"
REDIS_PREFIX="otcpay-e2e-$RUN_ID:"

cleanup() {
  # This run's database and every per-server database beside it, and its Redis keys.
  for db in $(psql_admin -c "SELECT datname FROM pg_database WHERE datname = '$E2E_DB' OR datname LIKE '${E2E_DB}\_%'" 2>/dev/null); do
    psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  done
  redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" --scan --pattern "${REDIS_PREFIX}*" 2>/dev/null \
    | xargs -r -n 500 redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" del >/dev/null 2>&1 || true
}
trap cleanup EXIT

psql_admin -c "CREATE DATABASE $E2E_DB" >/dev/null || die "cannot create database $E2E_DB on $PG_HOST:$PG_PORT"

export E2E_DATABASE_URL="postgres://postgres@$PG_HOST:$PG_PORT/$E2E_DB"
export E2E_REDIS_URL="$REDIS_URL_E2E"
export E2E_REDIS_PREFIX="$REDIS_PREFIX"

# --- tests --------------------------------------------------------------------------
rm -rf screenshots logs
mkdir -p screenshots logs
# shellcheck disable=SC2206
tests=(${E2E_TESTS:-*.test.js})
[ -e "${tests[0]}" ] || die "no test files (${E2E_TESTS:-*.test.js}) in tests/e2e"
log "node --test ${tests[*]} (server $OTCPAY_BIN, database $E2E_DB, Redis prefix $REDIS_PREFIX)"
status=0
# One file at a time: each starts its own server and browser, and the machine is small.
node --test --test-concurrency=1 --test-reporter=spec "${tests[@]}" || status=$?

log "took $(( $(date +%s) - started )) s; screenshots in $E2E_DIR/screenshots, server logs in $E2E_DIR/logs"
[ "$status" -eq 0 ] || die "browser tests failed (exit $status)"
