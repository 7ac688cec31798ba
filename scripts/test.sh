#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (C++, C, Python,
# examples, install): first under AddressSanitizer + UndefinedBehaviorSanitizer
# (preset asan), then the concurrency tests under ThreadSanitizer (preset tsan:
# only the libraries and the tests labelled `concurrency` are built), then
# each libFuzzer target over its seed corpus for a bounded time
# (scripts/fuzz.sh; FUZZ_SECONDS per target, 20 here), then in the release
# build (preset release), whose ctest summary closes the output.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

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
