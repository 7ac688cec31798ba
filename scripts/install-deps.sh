#!/usr/bin/env bash
# Installs everything gymdash needs to build and test on Debian 12 (as root).
# Idempotent: packages already present are left alone, so a second run is quick.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates tzdata
  # clang-14 and its libFuzzer runtime (libclang_rt.fuzzer): scripts/fuzz.sh
  clang clang-14 libclang-rt-14-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlitecpp-dev libsqlite3-dev sqlite3 libfmt-dev doctest-dev libhowardhinnant-date-dev
  libpq-dev libssl-dev
  # the server of the PostgreSQL backend's tests (scripts/pg-cluster.sh)
  postgresql-15
  libphonenumber8 libprotobuf-dev protobuf-compiler libicu-dev libabsl-dev
  python3
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# libphonenumber's -dev package depends on the Boost 1.74 headers, which
# conflict with 1.81; its headers need no Boost, so unpack them (without the
# package's dependencies) into a build-local prefix that CMake looks in.
prefix="$here/.deps/phonenumber"
if [ ! -f "$prefix/usr/include/phonenumbers/phonenumberutil.h" ]; then
  echo "install-deps: unpacking libphonenumber headers into $prefix" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download libphonenumber-dev >/dev/null 2>&1) || {
    apt-get update -qq
    (cd "$tmp" && apt-get download libphonenumber-dev >/dev/null 2>&1)
  }
  mkdir -p "$prefix"
  dpkg-deb -x "$tmp"/libphonenumber-dev_*.deb "$prefix"
fi
