#!/usr/bin/env bash
# Import benchmark: gymdash's bulk import against the sqlite3 shell's .import
# of the same rows, measured in the same run, on the same disk.
#
#   bench/import.sh DATASET_DIR [BUILD_DIR]
#
# DATASET_DIR holds gyms.csv and leads.csv (the reference data set:
#   python3 gen.py --leads 1000000 --seed 7 --out DATASET_DIR).
# BUILD_DIR defaults to build/release (configure with the release preset).
#
# The baseline table has the CSV's twelve columns and six indexes standing for
# gymdash's: (gym_id, phone), (gym_id, created_at), (gym_id, source) for the
# status index, (gym_id, external_id), (gym_id, timeline, created_at) for the
# call-order index and (gym_id, tags) for the tag index. Both runs use WAL and
# synchronous=NORMAL. Prints one JSON object; peak memory from /usr/bin/time.
set -euo pipefail
data=${1:?usage: bench/import.sh DATASET_DIR [BUILD_DIR]}
build=${2:-build/release}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

rows=$(($(wc -l < "$data/leads.csv") - 1))

/usr/bin/time -f '%M' -o "$work/rss" "$build/bench/import_bench" "$work/gymdash.db" "$data/gyms.csv" "$data/leads.csv" > "$work/gymdash.json"

cat > "$work/baseline.sql" <<'SQL'
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE leads (external_id TEXT, gym_id TEXT, first_name TEXT, last_name TEXT, phone TEXT, email TEXT,
                    source TEXT, created_at TEXT, interest TEXT, timeline TEXT, consent TEXT, tags TEXT);
CREATE INDEX b1 ON leads (gym_id, phone);
CREATE INDEX b2 ON leads (gym_id, created_at);
CREATE INDEX b3 ON leads (gym_id, source);
CREATE INDEX b4 ON leads (gym_id, external_id);
CREATE INDEX b5 ON leads (gym_id, timeline, created_at);
CREATE INDEX b6 ON leads (gym_id, tags);
SQL
sqlite3 "$work/baseline.db" < "$work/baseline.sql" > /dev/null
baseline=$(python3 - "$work/baseline.db" "$data/leads.csv" <<'PY'
import subprocess, sys, time
start = time.monotonic()
subprocess.run(["sqlite3", sys.argv[1], "-cmd", "PRAGMA synchronous = NORMAL",
                f".import --csv --skip 1 {sys.argv[2]} leads"], stderr=subprocess.DEVNULL, check=False)
print(time.monotonic() - start)
PY
)

python3 - "$work/gymdash.json" "$baseline" "$rows" "$(cat "$work/rss")" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
baseline, rows, rss_kb = float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
out = {
    "benchmark": "import_vs_sqlite3",
    "rows": rows,
    "gymdash_seconds": round(g["seconds"], 3),
    "gymdash_rows_per_s": round(g["rows"] / g["seconds"]),
    "sqlite3_import_seconds": round(baseline, 3),
    "ratio_vs_sqlite3": round(g["seconds"] / baseline, 3),
    "peak_rss_mb": round(rss_kb / 1024, 1),
    "imported": g["imported"], "merged_duplicates": g["merged_duplicates"], "rejected": g["rejected"],
}
print(json.dumps(out))
PY
