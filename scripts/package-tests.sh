#!/usr/bin/env bash
# usage: npm test -w WORKSPACE [-- OPTION…]   (in a workspace's folder: bash ../../scripts/package-tests.sh [OPTION…])
#
# The `test` script of every workspace (`turbo run test` runs it in the package's folder): the
# package's compiled tests (dist/test/**/*.test.js whose .ts source still exists) with node's
# runner, one file at a time, the spec report on the console and a TAP copy in
# .test-results/tap.txt (a turbo output, restored on a cache hit) that scripts/test.sh sums up.
#
# Options:
#   -h, --help   this text
#   any other option is one of node's, passed to `node --test` (checked by node first; an
#   unknown one: exit 2): `npx turbo run test --filter=@gos/engine -- --test-name-pattern=ring`.
set -euo pipefail
shopt -s globstar nullglob

# shellcheck source=lib/test-options.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/test-options.sh"
read_test_options package-tests.sh -- "$@"
if ((help)); then
  script_usage "${BASH_SOURCE[0]}"
  exit 0
fi

files=()
for f in dist/test/**/*.test.js; do
  # dist/ keeps the output of a test whose source was deleted or renamed: skip those.
  src=${f/#dist\/test\//test\/}
  src=${src%.js}.ts
  if [[ -f $src ]]; then
    files+=("$f")
  else
    printf '[package-tests] skipping stale %s (no %s)\n' "$f" "$src" >&2
  fi
done

mkdir -p .test-results
if ((${#files[@]} == 0)); then
  printf '# tests 0\n# pass 0\n# fail 0\n# cancelled 0\n' >.test-results/tap.txt
  echo 'no tests'
  exit 0
fi
exec node --test --test-concurrency=1 --test-timeout=120000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination=.test-results/tap.txt \
  ${runner_args[@]+"${runner_args[@]}"} "${files[@]}"
