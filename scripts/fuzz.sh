#!/usr/bin/env bash
# Builds the libFuzzer targets (preset fuzz: clang-14, ASan + UBSan) and runs
# each one over its seed corpus for a bounded time (docs/hardening.md).
#
#   scripts/fuzz.sh                      every target, 30 s each
#   FUZZ_SECONDS=300 scripts/fuzz.sh     longer
#   scripts/fuzz.sh fuzz_phone ...       only the targets named
#
# Environment: FUZZ_SECONDS (per target, default 30), FUZZ_JOBS (build
# parallelism, default every core), FUZZ_FRESH=1 (start from the committed
# seeds again instead of the corpus grown by earlier runs).
#
# The committed seeds (fuzz/corpus/<target>/) are copied into
# build/fuzz/fuzz-run/<target>/corpus, which the fuzzer grows; the seeds
# themselves are never written to. A crash, leak, timeout or out-of-memory
# input lands in build/fuzz/fuzz-run/<target>/artifacts/ and makes the script
# exit 1 after the remaining targets have run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-$(nproc)}
all_targets=(fuzz_capi fuzz_import_csv fuzz_webhook fuzz_phone)
if (($#)); then targets=("$@"); else targets=("${all_targets[@]}"); fi

if ! command -v clang++-14 >/dev/null; then
  echo "fuzz: clang++-14 not found; run scripts/install-deps.sh" >&2
  exit 2
fi

echo "== fuzz: configure and build (preset fuzz)" >&2
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs" --target "${targets[@]}"

bin_dir="$root/build/fuzz/fuzz"
run_dir="$root/build/fuzz/fuzz-run"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

failed=()
summary=()
for t in "${targets[@]}"; do
  seeds="$root/fuzz/corpus/$t"
  work="$run_dir/$t"
  if [ ! -x "$bin_dir/$t" ] || [ ! -d "$seeds" ]; then
    echo "fuzz: unknown target $t (known: ${all_targets[*]})" >&2
    exit 2
  fi
  [ "${FUZZ_FRESH:-0}" = 1 ] && rm -rf "$work/corpus"
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -f "$seeds"/* "$work/corpus/"
  # Earlier findings stay in artifacts/ until removed; only this run's count.
  before=$(find "$work/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)

  echo "== fuzz: $t for ${seconds} s (log: $work/fuzz.log)" >&2
  rc=0
  "$bin_dir/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/fuzz.log" 2>&1 || rc=$?

  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -n1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -n1)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$work/fuzz.log" | tail -n1 || true)
  corpus=$(find "$work/corpus" -type f | wc -l)
  summary+=("$(printf '%-16s rc %-3s %8s execs %6s/s  %-22s corpus %s' "$t" "$rc" "${execs:-?}" "${rate:-?}" "${cov:-cov: ?}" "$corpus")")

  after=$(find "$work/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  found=$(comm -13 <(echo "$before") <(echo "$after") | sed '/^$/d' || true)
  if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
    failed+=("$t")
    echo "fuzz: $t FAILED (exit $rc); the fuzzer's report:" >&2
    grep -E 'ERROR: |SUMMARY: |runtime error|fuzz_[a-z_]+: |Test unit written to' "$work/fuzz.log" | head -n 20 >&2 || true
    for f in $found; do
      echo "fuzz: input: $f" >&2
      echo "fuzz: reproduce: $bin_dir/$t $f" >&2
    done
  fi
done

echo "== fuzz: summary (${seconds} s per target)" >&2
printf '%s\n' "${summary[@]}" >&2
if ((${#failed[@]})); then
  echo "fuzz: findings in: ${failed[*]} (inputs under $run_dir/<target>/artifacts/)" >&2
  exit 1
fi
echo "fuzz: no findings" >&2
