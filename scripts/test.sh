#!/usr/bin/env bash
# Every test of the monorepo, from a clean clone: `npm ci && npm test` runs this script.
#
#   1. installs the Debian packages the tests need when they are missing (apt-get, as root or
#      through sudo): etcd, Redis, MariaDB, flatc, Chromium, openssl (the TLS tests' throw-away CA);
#   2. starts Redis (127.0.0.1:6379), MariaDB (127.0.0.1:3306, with a `gos` test user) and a
#      single-member etcd (127.0.0.1:2379) when they are not running, and exports
#      GOS_TEST_REDIS_URL, GOS_TEST_MYSQL_URL and GOS_TEST_ETCD_URL;
#   3. builds everything (`npm run build`) and lints it (`npx eslint .`);
#   4. runs every compiled test once with node's runner, whose summary is printed last, and
#      exits with the runner's exit code.
#
# Safe to run again: each step checks first and does nothing when its work is already done.
# A service whose GOS_TEST_*_URL is already set in the environment is used as it is, not started.
#
# Usage: scripts/test.sh [--setup-only | --skip-setup] [extra node --test flags…]
#   --setup-only   steps 1–2, then print the `export …` lines (eval "$(scripts/test.sh --setup-only)")
#   --skip-setup   steps 3–4 only (the services must be reachable already)
# Phase timings go to stderr. Logs of the services it starts: $GOS_TEST_STATE_DIR (/var/tmp/gos-test).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly PACKAGES=(etcd-server etcd-client redis-server mariadb-server flatbuffers-compiler chromium openssl)

setup=1 tests=1
runner_args=()
for arg in "$@"; do
  case "$arg" in
    --setup-only) tests=0 ;;
    --skip-setup) setup=0 ;;
    *) runner_args+=("$arg") ;;
  esac
done

log() { printf '[test.sh] %s\n' "$*" >&2; }
die() {
  printf '[test.sh] ERROR: %s\n' "$*" >&2
  exit 1
}

# ---- timing ---------------------------------------------------------------------------------
timings=()
phase_name='' phase_t0=''
phase() {
  phase_end
  phase_name=$1
  phase_t0=${EPOCHREALTIME//[!0-9]/}
  log "── $phase_name"
}
phase_end() {
  [[ -n $phase_name ]] || return 0
  local now=${EPOCHREALTIME//[!0-9]/}
  local ms=$(((now - phase_t0) / 1000))
  timings+=("$(printf '%-10s %6d.%03d s' "$phase_name" $((ms / 1000)) $((ms % 1000)))")
  log "   $phase_name took $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s"
  phase_name=''
}
print_timings() {
  local t
  for t in "${timings[@]}"; do log "time  $t"; done
}

# ---- 1–2. packages and services (scripts/lib/services.sh) -------------------------------------
# shellcheck source=lib/services.sh
source scripts/lib/services.sh

# ---- 3–4. build and test ----------------------------------------------------------------------
collect_tests() {
  shopt -s globstar nullglob
  local f src
  test_files=()
  for f in packages/*/dist/test/**/*.test.js examples/*/dist/test/**/*.test.js bench/dist/test/**/*.test.js; do
    # dist/ keeps the output of a test whose source was deleted or renamed: skip those.
    src=${f/\/dist\/test\//\/test\/}
    src=${src%.js}.ts
    if [[ -f $src ]]; then
      test_files+=("$f")
    else
      log "skipping stale $f (no $src)"
    fi
  done
  shopt -u globstar nullglob
}

# ---- main -----------------------------------------------------------------------------------
if ((setup)); then
  phase packages
  install_packages "${PACKAGES[@]}"
  phase services
  start_services
  log "GOS_TEST_REDIS_URL=$GOS_TEST_REDIS_URL GOS_TEST_MYSQL_URL=$GOS_TEST_MYSQL_URL GOS_TEST_ETCD_URL=$GOS_TEST_ETCD_URL"
  phase_end
fi

if ((!tests)); then
  print_timings
  printf 'export GOS_TEST_REDIS_URL=%q GOS_TEST_MYSQL_URL=%q GOS_TEST_ETCD_URL=%q\n' \
    "${GOS_TEST_REDIS_URL:-}" "${GOS_TEST_MYSQL_URL:-}" "${GOS_TEST_ETCD_URL:-}"
  exit 0
fi

phase build
npm run build >&2 || die 'build failed (npm run build)'

phase lint
# Type-checked ESLint (eslint.config.js): floating promises, console in packages, deep imports.
if ! npx eslint . >&2; then
  log 'ERROR: lint failed (npx eslint .)'
  printf '0 passed, 1 failed\n'
  exit 1
fi

phase test
collect_tests
((${#test_files[@]} > 0)) || die 'no compiled tests found under packages/*/dist/test, examples/*/dist/test or bench/dist/test'
log "running ${#test_files[@]} test files"
tap_file=$(mktemp "${TMPDIR:-/tmp}/gos-test-tap.XXXXXX")
trap 'rm -f "$tap_file"' EXIT
status=0
# The spec reporter streams to the console; a TAP copy goes to a file so that its summary
# (# tests, # pass, # fail …) can be printed as the very last lines, after the timings.
node --test --test-concurrency=1 --test-timeout=120000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap_file" \
  "${runner_args[@]}" "${test_files[@]}" || status=$?
phase_end
print_timings
grep -E '^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ' "$tap_file" || true
# One plain closing line; cancelled tests count as failed, and a runner that failed without a
# summary counts as one failure.
passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap_file" | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap_file" | tail -n 1)
cancelled=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$tap_file" | tail -n 1)
failed=$((${failed:-0} + ${cancelled:-0}))
((status == 0 || failed > 0)) || failed=1
printf '%d passed, %d failed\n' "${passed:-0}" "$failed"
exit "$status"
