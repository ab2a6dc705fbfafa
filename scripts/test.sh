#!/usr/bin/env bash
# usage: npm test [-- OPTION…]   (scripts/test.sh [OPTION…])
#
# Every test of the monorepo, from a clean clone (`npm ci && npm test`):
#
#   1. installs the Debian packages the tests need when they are missing (apt-get, as root or
#      through sudo): etcd, Redis, MariaDB, flatc, Chromium, openssl (the TLS tests' throw-away CA);
#   2. starts Redis (127.0.0.1:6379), MariaDB (127.0.0.1:3306, with a `gos` test user) and a
#      single-member etcd (127.0.0.1:2379) when they are not running, and exports
#      GOS_TEST_REDIS_URL, GOS_TEST_MYSQL_URL and GOS_TEST_ETCD_URL;
#   3. builds everything (`npm run build`: `turbo run build`) and lints it (`npm run lint`:
#      `turbo run lint`, and the root's config files);
#   4. runs every workspace's tests (`turbo run test`, one workspace at a time: each runs
#      scripts/package-tests.sh, node's runner over its compiled tests), names each failed test
#      (FAILED lines), prints the summed summary last, and exits non-zero if any workspace failed.
#
# Options:
#   --setup-only   steps 1–2, then print the `export …` lines (eval "$(scripts/test.sh --setup-only)")
#   --skip-setup   steps 3–4 only (the services must be reachable already)
#   -h, --help     this text
#   any other option is one of node's, passed to `node --test` in every workspace:
#                  --test-name-pattern=redis, --test-only, --test-reporter=tap, …; node checks
#                  them before anything is installed, built or run (an unknown one: exit 2)
#
# turbo caches each task by its inputs: run again, a workspace whose files and dependencies did
# not change replays its last build, lint and test output (and test results) instead of running
# them. `TURBO_FORCE=1 npm test` runs everything; CI starts from a clean clone, with no cache.
# Safe to run again: each step checks first and does nothing when its work is already done.
# A service whose GOS_TEST_*_URL is already set in the environment is used as it is, not started.
# Phase timings go to stderr. Logs of the services it starts: $GOS_TEST_STATE_DIR (/var/tmp/gos-test).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

readonly PACKAGES=(etcd-server etcd-client redis-server mariadb-server flatbuffers-compiler chromium openssl)

# ---- command line: read and checked before anything is installed, started or built -----------
# shellcheck source=lib/test-options.sh
source scripts/lib/test-options.sh
read_test_options test.sh --setup-only --skip-setup -- "$@"
setup=1 tests=1
for arg in ${own_args[@]+"${own_args[@]}"}; do
  case "$arg" in
    --setup-only) tests=0 ;;
    --skip-setup) setup=0 ;;
  esac
done
if ((help)); then
  script_usage "${BASH_SOURCE[0]}"
  exit 0
fi

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
export TURBO_TELEMETRY_DISABLED=1 TURBO_NO_UPDATE_NOTIFIER=1
# Globs, expanded where used (after the tests have written them).
readonly TAP_GLOBS='packages/*/.test-results/tap.txt examples/*/.test-results/tap.txt bench/.test-results/tap.txt'

# shellcheck source=lib/tap-summary.sh
source scripts/lib/tap-summary.sh

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
# Type-checked ESLint (eslint.config.js, eslint.architecture.js), per workspace through turbo.
if ! npm run lint >&2; then
  log 'ERROR: lint failed (npm run lint)'
  printf '0 passed, 1 failed\n'
  exit 1
fi

phase test
shopt -s nullglob
# shellcheck disable=SC2086 # the globs expand here
rm -f $TAP_GLOBS
shopt -u nullglob
status=0
# One workspace at a time (they share the services and the machine); --continue: every
# workspace's tests run even after one fails. Loose env mode: the tests read GOS_TEST_* and more.
turbo_args=(run test --concurrency=1 --continue --env-mode=loose)
((${#runner_args[@]} == 0)) || turbo_args+=(-- "${runner_args[@]}")
npx --no-install turbo "${turbo_args[@]}" || status=$?
phase_end
print_timings
shopt -s nullglob
# shellcheck disable=SC2206 # the globs expand here
tap_files=($TAP_GLOBS)
shopt -u nullglob
passed=$(tap_sum pass "${tap_files[@]}")
failed=$(tap_sum fail "${tap_files[@]}")
cancelled=$(tap_sum cancelled "${tap_files[@]}")
tap_failures "${tap_files[@]}"
printf '# tests %d\n# pass %d\n# fail %d\n# cancelled %d\n' "$(tap_sum tests "${tap_files[@]}")" "$passed" "$failed" "$cancelled"
# One plain closing line; cancelled tests count as failed, and a run that failed without a
# summary (a build error, a crashed runner) counts as one failure.
failed=$((failed + cancelled))
((status == 0 || failed > 0)) || failed=1
printf '%d passed, %d failed\n' "$passed" "$failed"
exit "$status"
