#!/usr/bin/env bash
# The main job: installs what is missing, builds (preset release) and runs the
# end-to-end example on an SQLite file (build/quickstart.db).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target quickstart >&2
exec build/release/examples/quickstart build/quickstart.db
