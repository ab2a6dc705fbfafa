#!/usr/bin/env bash
# usage: npm run cluster [-- OPTION…]   (scripts/cluster.sh [OPTION…])
#
# A local cluster of the demo game on real services: 3 coordinators, 2 gateways
# (http://127.0.0.1:3001 and :3002) and 2 engines, each its own process, against etcd, Redis and
# MariaDB, which are installed (Debian packages) and started when absent, as `npm test` does.
# It creates the MariaDB database gos_cluster when missing, builds when needed, then runs the
# launcher (node packages/cluster/dist/bin/local.js --config examples/demo/cluster.yaml) with the
# options below. A process that exits unexpectedly is restarted (at most --max-restarts a
# minute); Ctrl-C stops every process it started (the services keep running). GOS_* variables
# override the config. The command line is checked before anything is installed or started.
#
# Options (the launcher's; docs/cluster.md):
#   --config FILE       the cluster's YAML config (examples/demo/cluster.yaml)
#   --coordinators N    coordinator processes, 0–16 (3)
#   --gateways N        gateway processes, 0–16 (2; 0 needs --fat)
#   --engines N         engine processes, 0–16 (2; 0 needs --fat)
#   --fat N             gateway+engine processes, 0–16 (0): a gateway and an engine linked in-process
#   --base-port PORT    the first gateway's port; the others take the next ones (the config's gateway.port)
#   --max-restarts N    restarts of one member within a minute before it is given up (5)
#   --autoscale         start and stop engines and gateways as the leader's scale decision asks
#   --max-engines N     with --autoscale, at most this many engines (--engines + 4)
#   --max-gateways N    with --autoscale, at most this many gateways (--gateways + 2)
#   --scale-in-after SECONDS
#                       with --autoscale, one fewer after this long asking for fewer (60)
#   --rolling-restart engines
#                       beside a running cluster: restart its engines one by one, then exit
#   -h, --help          this text
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[cluster.sh] %s\n' "$*" >&2; }
die() {
  printf '[cluster.sh] ERROR: %s\n' "$*" >&2
  exit 1
}
usage() { sed -n '2,/^[^#]/{/^#/!q;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
usage_error() {
  printf 'cluster.sh: %s (see --help)\n' "$*" >&2
  exit 2
}

# ---- the command line, checked before anything is installed, started or built ----------------
# The launcher's options (packages/cluster/bin/local.ts; a test keeps the lists in step): it
# checks their values itself.
readonly VALUE_OPTIONS=' config coordinators gateways engines fat base-port max-restarts max-engines max-gateways scale-in-after rolling-restart '
readonly FLAG_OPTIONS=' autoscale '
help=0
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  arg=${args[i]}
  case $arg in
    -h | --help)
      help=1
      continue
      ;;
    --)
      ((i + 1 == ${#args[@]})) || usage_error "unexpected argument '${args[i + 1]}'"
      continue
      ;;
    -c?*) continue ;; # -cFILE
    -c) name=config ;;
    --*=*)
      name=${arg%%=*}
      name=${name#--}
      ;;
    --?*) name=${arg#--} ;;
    -*) usage_error "unknown option '$arg'" ;;
    *) usage_error "unexpected argument '$arg'" ;;
  esac
  if [[ $FLAG_OPTIONS == *" $name "* ]]; then
    [[ $arg != *=* ]] || usage_error "option '--$name' does not take a value"
  elif [[ $VALUE_OPTIONS == *" $name "* ]]; then
    [[ $arg != *=* ]] || continue
    ((i + 1 < ${#args[@]})) && [[ ${args[i + 1]} != -* ]] || usage_error "option '$arg' needs a value"
    i=$((i + 1))
  else
    usage_error "unknown option '--$name'"
  fi
done
if ((help)); then
  usage
  exit 0
fi

# shellcheck source=lib/services.sh
source scripts/lib/services.sh

install_packages etcd-server etcd-client redis-server mariadb-server
start_services

# The cluster's own database, next to the tests' one, owned by the same user.
mysql_base=${GOS_TEST_MYSQL_URL%/*}
cluster_db=gos_cluster
if [[ $mysql_base =~ ^mysql://([^:@/]+)(:([^@/]*))?@([^:/]+)(:([0-9]+))?$ ]]; then
  MYSQL_PWD=${BASH_REMATCH[3]} mariadb --protocol=tcp -h"${BASH_REMATCH[4]}" -P"${BASH_REMATCH[6]:-3306}" -u"${BASH_REMATCH[1]}" \
    -e "CREATE DATABASE IF NOT EXISTS \`$cluster_db\`" || die "cannot create database $cluster_db"
else
  die "cannot read user and host from GOS_TEST_MYSQL_URL=$GOS_TEST_MYSQL_URL"
fi

if [[ ! -f packages/cluster/dist/bin/local.js || ! -f examples/demo/dist/src/game.js ]]; then
  log 'building (npm run build)'
  npm run build >&2
fi

export GOS_ETCD_HOSTS=${GOS_ETCD_HOSTS:-$GOS_TEST_ETCD_URL}
export GOS_REDIS_URL=${GOS_REDIS_URL:-$GOS_TEST_REDIS_URL}
export GOS_MYSQL_URL=${GOS_MYSQL_URL:-$mysql_base/$cluster_db}
exec node packages/cluster/dist/bin/local.js --config examples/demo/cluster.yaml "$@"
