#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test (C++, C, Python,
# examples, install): first under AddressSanitizer + UndefinedBehaviorSanitizer
# (preset asan), then in the release build (preset release), whose ctest
# summary closes the output.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

for preset in asan release; do
  echo "== $preset: configure and build" >&2
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
  echo "== $preset: test" >&2
  ctest --preset "$preset"
done
