#!/usr/bin/env bash
# `npm run cluster`: a local cluster of the demo game on real services — 3 coordinators,
# 2 gateways (http://127.0.0.1:3001 and :3002) and 2 engines, each its own process, against
# etcd, Redis and MariaDB, which are installed (Debian packages) and started when absent, as
# `npm test` does. A process that exits unexpectedly is restarted (at most --max-restarts a
# minute); Ctrl-C stops every process it started (the services keep running).
#
# Usage: scripts/cluster.sh [--config FILE] [--coordinators 3] [--gateways 2] [--engines 2] [--base-port 3001] [--max-restarts 5]
# The MariaDB database is gos_cluster (created when missing); GOS_* variables override the config.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '[cluster.sh] %s\n' "$*" >&2; }
die() {
  printf '[cluster.sh] ERROR: %s\n' "$*" >&2
  exit 1
}

# --help before anything is installed or started (local.js prints the usage).
for arg in "$@"; do
  if [[ $arg == -h || $arg == --help ]]; then
    [[ -f packages/cluster/dist/bin/local.js ]] || npm run build >&2
    exec node packages/cluster/dist/bin/local.js --help
  fi
done

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
