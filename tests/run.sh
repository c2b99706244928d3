#!/usr/bin/env bash
# The OTCPay test command: formatting, lints, and the whole test suite twice — on the
# embedded SQLite default, then on PostgreSQL + Redis. It starts PostgreSQL and Redis
# when they are not running (installing them with apt-get if absent) and fails loudly
# if either cannot be reached: no test is ever skipped for a missing service. Last, the
# README's integration examples run against a server started by the script.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_HOST=127.0.0.1
PG_PORT=5432
REDIS_URL_FOR_TESTS=redis://127.0.0.1:6379

log() { printf '\n==> %s\n' "$*"; }
die() { printf '\nFATAL: %s\n' "$*" >&2; exit 1; }

apt_install() {
  command -v apt-get >/dev/null || die "apt-get is missing; install $* by hand"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

ensure_postgres() {
  if pg_isready -h "$PG_HOST" -p "$PG_PORT" -q 2>/dev/null; then return; fi
  if ! command -v pg_ctlcluster >/dev/null; then
    log "installing PostgreSQL"
    apt_install postgresql postgresql-client
    # Local trust auth over TCP, as the tests connect without a password.
    for hba in /etc/postgresql/*/main/pg_hba.conf; do
      sed -i -E 's/(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
    done
  fi
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n1)" main start || true
  for _ in $(seq 1 30); do
    pg_isready -h "$PG_HOST" -p "$PG_PORT" -q && return
    sleep 1
  done
  die "PostgreSQL is not reachable on $PG_HOST:$PG_PORT"
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then return; fi
  if ! command -v redis-server >/dev/null; then
    log "installing Redis"
    apt_install redis-server
  fi
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 30); do
    redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && return
    sleep 1
  done
  die "Redis is not reachable on 127.0.0.1:6379"
}

psql_admin() { psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

fresh_database() {
  # Leftovers of earlier runs go first; then one database for this run, from which
  # every test creates its own.
  for db in $(psql_admin -c "SELECT datname FROM pg_database WHERE datname LIKE 'otcpay\_%'"); do
    psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
  done
  RUN_DB="otcpay_run_$(date +%s)_$$"
  psql_admin -c "CREATE DATABASE $RUN_DB" >/dev/null || die "cannot create database $RUN_DB"
  trap 'psql_admin -c "DROP DATABASE IF EXISTS \"$RUN_DB\" WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
}

check_disk() {
  # Leftovers of killed runs: per-test data dirs (tests remove their own on exit).
  find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'otcpay-*' -mmin +60 -exec rm -rf {} + 2>/dev/null || true
  local free_kib
  free_kib=$(df -Pk . | awk 'NR==2 {print $4}')
  log "disk: $((free_kib / 1024 / 1024)) GiB free here"
  # A fresh build (target/, ~5 GiB) and the test databases need about that much;
  # with less the run would fail half-way with "No space left on device".
  [ "$free_kib" -ge $((4 * 1024 * 1024)) ] || die "less than 4 GiB free on $(df -P . | awk 'NR==2 {print $6}')"
}

export CARGO_TERM_COLOR=never
export CARGO_INCREMENTAL=0

check_disk
ensure_postgres
ensure_redis
fresh_database

log "local EVM node for the chain tests (anvil + the test USDT token, pinned in tests/chain)"
OTCPAY_TEST_ANVIL=$(bash tests/chain/setup.sh | tail -1) || die "cannot install or build the chain test tools (see above)"
[ -x "$OTCPAY_TEST_ANVIL" ] || die "tests/chain/setup.sh named no anvil binary"
export OTCPAY_TEST_ANVIL

log "cargo fmt --check"
cargo fmt --all -- --check

log "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

log "pass 1/2: test suite on SQLite (embedded default)"
OTCPAY_TEST_DATABASE=sqlite cargo test --workspace --no-fail-fast

log "pass 2/2: test suite on PostgreSQL + Redis"
OTCPAY_TEST_DATABASE=postgres \
OTCPAY_TEST_POSTGRES_URL="postgres://postgres@$PG_HOST:$PG_PORT/$RUN_DB" \
OTCPAY_TEST_REDIS_URL="$REDIS_URL_FOR_TESTS" \
  cargo test --workspace --no-fail-fast

log "README integration examples against a server started here"
# The test passes built target/debug/otcpay (the binary tests need it); building it
# again with another command shape would recompile much of the tree.
[ -x target/debug/otcpay ] || die "target/debug/otcpay was not built by the test passes"
OTCPAY_BIN="$PWD/target/debug/otcpay" python3 tests/python/readme_examples.py

log "schema fuzzing: schemathesis against a server started here"
# Pinned; installed into a venv under target/ (kept between runs). Three runs of
# FUZZ_SECONDS each (unauthenticated, admin with 2FA, acceptor): about 3–4 minutes.
SCHEMATHESIS_VERSION=4.32.5
FUZZ_VENV="$PWD/target/fuzz-venv"
if ! "$FUZZ_VENV/bin/schemathesis" --version 2>/dev/null | grep -qx "schemathesis, version $SCHEMATHESIS_VERSION"; then
  rm -rf "$FUZZ_VENV"
  python3 -m venv "$FUZZ_VENV" || die "cannot create a Python venv (install python3-venv)"
  "$FUZZ_VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" \
    || die "cannot install schemathesis==$SCHEMATHESIS_VERSION from PyPI"
fi
OTCPAY_BIN="$PWD/target/debug/otcpay" SCHEMATHESIS="$FUZZ_VENV/bin/schemathesis" \
  FUZZ_SECONDS="${FUZZ_SECONDS:-60}" timeout 600 python3 tests/python/fuzz_api.py \
  || die "schema fuzzing (SQLite) failed (see the failures above)"
log "schema fuzzing on PostgreSQL + Redis"
FUZZ_DB="${RUN_DB}_fuzz"
psql_admin -c "CREATE DATABASE $FUZZ_DB" >/dev/null || die "cannot create database $FUZZ_DB"
OTCPAY_BIN="$PWD/target/debug/otcpay" SCHEMATHESIS="$FUZZ_VENV/bin/schemathesis" \
  FUZZ_DATABASE_URL="postgres://postgres@$PG_HOST:$PG_PORT/$FUZZ_DB?sslmode=disable" \
  FUZZ_REDIS_URL="$REDIS_URL_FOR_TESTS" \
  FUZZ_SECONDS="${FUZZ_SECONDS:-45}" timeout 600 python3 tests/python/fuzz_api.py \
  || die "schema fuzzing (PostgreSQL + Redis) failed (see the failures above)"
psql_admin -c "DROP DATABASE IF EXISTS \"$FUZZ_DB\" WITH (FORCE)" >/dev/null

log "both passes green"

log "browser tests: Chromium against a server started here (tests/e2e)"
# Uses the target/debug/otcpay built above, PostgreSQL and Redis started above; installs
# Chromium and its npm packages when missing. Screenshots land in tests/e2e/screenshots/.
OTCPAY_BIN="$PWD/target/debug/otcpay" bash tests/e2e/run.sh || die "browser tests failed (see above)"
