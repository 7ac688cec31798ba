#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (C++, C, Python,
# examples, install): first under AddressSanitizer + UndefinedBehaviorSanitizer
# (preset asan), then the concurrency tests under ThreadSanitizer (preset tsan:
# only the libraries and the tests labelled `concurrency` are built), then
# each libFuzzer target over its seed corpus for a bounded time
# (scripts/fuzz.sh; FUZZ_SECONDS per target, 20 here), then in the release
# build (preset release), whose ctest summary closes the output.
#
# The PostgreSQL backend's cases run against a throw-away cluster on
# 127.0.0.1 (scripts/pg-cluster.sh), started before the first preset and
# removed when the script exits, however it exits. GYMDASH_TEST_POSTGRES_URI
# names it for the tests, GYMDASH_TEST_POSTGRES_DIR its directory (the test
# that restarts the server needs it); set the URI beforehand to use a server
# of your own instead (its database gets one schema per test case, dropped
# after; the restart test is then skipped).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

if [ -z "${GYMDASH_TEST_POSTGRES_URI:-}" ]; then
  pg_dir=$(mktemp -d -u /tmp/gymdash-test-pg.XXXXXX)
  trap 'bash scripts/pg-cluster.sh stop "$pg_dir"' EXIT
  GYMDASH_TEST_POSTGRES_URI=$(bash scripts/pg-cluster.sh start "$pg_dir")
  # The cluster's directory: postgres_restart_test restarts the server.
  GYMDASH_TEST_POSTGRES_DIR="$pg_dir"
  export GYMDASH_TEST_POSTGRES_URI GYMDASH_TEST_POSTGRES_DIR
  echo "== PostgreSQL test cluster: $GYMDASH_TEST_POSTGRES_URI" >&2
fi

run_preset() {
  echo "== $1: configure and build" >&2
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1"
  echo "== $1: test" >&2
  ctest --preset "$1"
}

run_preset asan
run_preset tsan
FUZZ_SECONDS="${FUZZ_SECONDS:-20}" bash scripts/fuzz.sh
run_preset release
