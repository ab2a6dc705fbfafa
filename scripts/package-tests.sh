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

usage() { sed -n '2,/^[^#]/{/^#/!q;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
usage_error() {
  printf 'package-tests.sh: %s (see --help)\n' "$*" >&2
  exit 2
}
# Whether node's option $1 wants a value (`--test-name-pattern ring`): node says so when it has none.
node_option_takes_value() { [[ $(node --version "$1" 2>&1 >/dev/null) == *'requires an argument'* ]]; }

help=0
runner_args=()
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  arg=${args[i]}
  case "$arg" in
    -h | --help) help=1 ;;
    -?*=*) runner_args+=("$arg") ;;
    -?*)
      runner_args+=("$arg")
      if ((i + 1 < ${#args[@]})) && node_option_takes_value "$arg"; then
        runner_args+=("${args[i + 1]}")
        i=$((i + 1))
      fi
      ;;
    *) usage_error "unexpected argument '$arg'" ;;
  esac
done
# node itself checks the options it is passed (names and values), without running anything.
if ((${#runner_args[@]} > 0)) && ! node_error=$(node --version "${runner_args[@]}" 2>&1 >/dev/null); then
  node_error=${node_error%%$'\n'*}
  node_error=${node_error#node: }
  [[ $node_error =~ ^bad\ option:\ (.*)$ ]] && node_error="unknown option '${BASH_REMATCH[1]}'"
  usage_error "$node_error"
fi
if ((help)); then
  usage
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
