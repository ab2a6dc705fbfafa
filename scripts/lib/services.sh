# Shared by scripts/test.sh and scripts/cluster.sh (sourced, not run): install the Debian
# packages a command needs and start Redis (127.0.0.1:6379), MariaDB (127.0.0.1:3306, with a
# `gos` user owning the gos_% databases) and a single-member etcd (127.0.0.1:2379) when they are
# not running. Each step checks first and does nothing when its work is already done; a service
# whose GOS_TEST_*_URL is already set is used as it is, not started. On return the URLs are in
# GOS_TEST_REDIS_URL, GOS_TEST_MYSQL_URL and GOS_TEST_ETCD_URL.
#
# The caller defines log and die, and may set GOS_TEST_STATE_DIR (service logs, default
# /var/tmp/gos-test) and GOS_TEST_ETCD_DATA_DIR (default /var/tmp/gos-etcd).

STATE_DIR="${GOS_TEST_STATE_DIR:-/var/tmp/gos-test}"
ETCD_DATA_DIR="${GOS_TEST_ETCD_DATA_DIR:-/var/tmp/gos-etcd}"
MYSQL_TEST_USER=gos MYSQL_TEST_PASSWORD=gos MYSQL_TEST_DB=gos_test

# start_services: Redis, MariaDB and etcd, in that order.
start_services() {
  install -d -m 0755 "$STATE_DIR"
  start_redis
  start_mariadb
  start_etcd
}

# ---- helpers --------------------------------------------------------------------------------
# Run a command as root: directly when we are root, else through sudo (never prompting when
# there is no terminal, so CI fails fast instead of hanging).
can_be_root() {
  ((EUID == 0)) && return 0
  command -v sudo >/dev/null 2>&1 || return 1
  [[ -t 0 ]] && return 0
  sudo -n true 2>/dev/null
}
as_root() {
  if ((EUID == 0)); then
    "$@"
  elif [[ -t 0 ]]; then
    sudo "$@"
  else
    sudo -n "$@"
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_until <seconds> <what> <log file or -> <command…>: poll until the command succeeds.
wait_until() {
  local limit=$1 what=$2 logfile=$3
  shift 3
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "$what is not ready after ${limit} s (waited for: $*)"
      if [[ $logfile != - ]]; then
        log "last lines of $logfile:"
        { tail -n 30 "$logfile" || as_root tail -n 30 "$logfile"; } >&2 2>/dev/null || true
      fi
      die "$what did not start"
    fi
    sleep 0.2
  done
}

# ---- 1. packages ----------------------------------------------------------------------------
package_present() {
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || status=''
  [[ $status == 'install ok installed' ]] && return 0
  # Installed some other way (a different distribution's package, a local build): fine too.
  case "$1" in
    etcd-server) command -v etcd ;;
    etcd-client) command -v etcdctl ;;
    redis-server) command -v redis-server && command -v redis-cli ;;
    mariadb-server) command -v mariadb-install-db && { command -v mariadbd || test -x /usr/sbin/mariadbd; } ;;
    flatbuffers-compiler) command -v flatc ;;
    chromium) command -v chromium ;;
    openssl) command -v openssl ;;
    *) false ;;
  esac >/dev/null 2>&1
}

# install_packages <debian package…>: install the missing ones with apt-get.
install_packages() {
  local missing=() p
  for p in "$@"; do package_present "$p" || missing+=("$p"); done
  if ((${#missing[@]} == 0)); then
    log "packages: all present ($*)"
    return 0
  fi
  log "packages missing: ${missing[*]}"
  command -v apt-get >/dev/null 2>&1 ||
    die "no apt-get here: install ${missing[*]} yourself (or point GOS_TEST_*_URL at running services)"
  can_be_root ||
    die "installing ${missing[*]} needs root: run as root, set up sudo, or install them yourself: apt-get install ${missing[*]}"
  local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300 install --no-install-recommends)
  # Try the package lists already on the machine first; refresh them only if that fails.
  if ! as_root "${apt[@]}" "${missing[@]}" >&2; then
    log "install failed with the current package lists: running apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 update >&2 || die "apt-get update failed"
    as_root "${apt[@]}" "${missing[@]}" >&2 || die "apt-get install ${missing[*]} failed"
  fi
  for p in "${missing[@]}"; do package_present "$p" || die "$p is still missing after apt-get install"; done
}

# ---- 2. services ----------------------------------------------------------------------------
start_redis() {
  if [[ -n ${GOS_TEST_REDIS_URL:-} ]]; then
    log "redis: using GOS_TEST_REDIS_URL=$GOS_TEST_REDIS_URL"
    return 0
  fi
  export GOS_TEST_REDIS_URL=redis://127.0.0.1:6379
  if port_open 6379; then
    log 'redis: already running on 127.0.0.1:6379'
  else
    log 'redis: starting on 127.0.0.1:6379'
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no \
      --dir "$STATE_DIR" --logfile "$STATE_DIR/redis.log" >>"$STATE_DIR/redis-start.log" 2>&1 </dev/null ||
      die "redis-server failed to start (see $STATE_DIR/redis.log)"
  fi
  wait_until 20 'redis' "$STATE_DIR/redis.log" redis_ping
}
redis_ping() { [[ $(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null) == PONG ]]; }

# The admin connection to MariaDB. A fresh Debian install lets root in only through the unix
# socket as the OS root (unix_socket auth); some machines let root in over TCP without password.
mysql_admin_cmd=()
find_mysql_admin() {
  if can_be_root && as_root mariadb -uroot --protocol=socket -e 'select 1' >/dev/null 2>&1; then
    mysql_admin_cmd=(as_root mariadb -uroot --protocol=socket)
  elif mariadb -uroot -h127.0.0.1 -P3306 --protocol=tcp -e 'select 1' >/dev/null 2>&1; then
    mysql_admin_cmd=(mariadb -uroot -h127.0.0.1 -P3306 --protocol=tcp)
  else
    return 1
  fi
}
mysql_test_user_works() {
  mariadb -h127.0.0.1 -P3306 --protocol=tcp -u"$MYSQL_TEST_USER" -p"$MYSQL_TEST_PASSWORD" -e 'select 1' "$MYSQL_TEST_DB" >/dev/null 2>&1
}
mysql_ready() { port_open 3306 && { find_mysql_admin || mysql_test_user_works; }; }

start_mariadb() {
  if [[ -n ${GOS_TEST_MYSQL_URL:-} ]]; then
    log "mariadb: using GOS_TEST_MYSQL_URL=$GOS_TEST_MYSQL_URL"
    return 0
  fi
  if port_open 3306; then
    log 'mariadb: already running on 127.0.0.1:3306'
  else
    can_be_root || die 'mariadb is not running on 127.0.0.1:3306 and starting it needs root (or sudo)'
    local datadir mariadbd errlog="$STATE_DIR/mariadb.err"
    datadir=$(my_print_defaults --mysqld 2>/dev/null | sed -n 's/^--datadir=//p' | tail -n 1)
    datadir=${datadir:-/var/lib/mysql}
    if ! as_root test -d "$datadir/mysql"; then
      log "mariadb: initialising $datadir"
      as_root mariadb-install-db --user=mysql --datadir="$datadir" --skip-test-db >"$STATE_DIR/mariadb-install-db.log" 2>&1 ||
        die "mariadb-install-db failed: see $STATE_DIR/mariadb-install-db.log"
    fi
    mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
    log "mariadb: starting $mariadbd on 127.0.0.1:3306 (log $errlog)"
    # Debian's init would make the socket folder; without systemd nothing does.
    as_root install -d -o mysql -g mysql -m 0755 /run/mysqld
    as_root touch "$errlog"
    as_root chown mysql:mysql "$errlog"
    # Output to a file, not to our pipes: the daemon outlives this script.
    as_root start-stop-daemon --start --oknodo --background --exec "$mariadbd" -- \
      --user=mysql --datadir="$datadir" --bind-address=127.0.0.1 --port=3306 --log-error="$errlog" \
      >>"$STATE_DIR/mariadb-start.log" 2>&1 </dev/null ||
      die "start-stop-daemon could not start $mariadbd"
  fi
  wait_until 60 'mariadb' "$STATE_DIR/mariadb.err" mysql_ready
  if find_mysql_admin; then
    log "mariadb: ensuring user '$MYSQL_TEST_USER' with all rights on gos\\_% databases"
    "${mysql_admin_cmd[@]}" <<SQL || die 'could not create the MariaDB test user'
CREATE USER IF NOT EXISTS '$MYSQL_TEST_USER'@'127.0.0.1' IDENTIFIED BY '$MYSQL_TEST_PASSWORD';
CREATE USER IF NOT EXISTS '$MYSQL_TEST_USER'@'localhost' IDENTIFIED BY '$MYSQL_TEST_PASSWORD';
ALTER USER '$MYSQL_TEST_USER'@'127.0.0.1' IDENTIFIED BY '$MYSQL_TEST_PASSWORD';
ALTER USER '$MYSQL_TEST_USER'@'localhost' IDENTIFIED BY '$MYSQL_TEST_PASSWORD';
GRANT ALL PRIVILEGES ON \`gos\\_%\`.* TO '$MYSQL_TEST_USER'@'127.0.0.1';
GRANT ALL PRIVILEGES ON \`gos\\_%\`.* TO '$MYSQL_TEST_USER'@'localhost';
CREATE DATABASE IF NOT EXISTS \`$MYSQL_TEST_DB\`;
SQL
  elif ! mysql_test_user_works; then
    die "mariadb runs on 127.0.0.1:3306 but neither root (socket or TCP without password) nor $MYSQL_TEST_USER/$MYSQL_TEST_PASSWORD can log in"
  fi
  mysql_test_user_works || die "the test user $MYSQL_TEST_USER cannot log in to 127.0.0.1:3306/$MYSQL_TEST_DB"
  export GOS_TEST_MYSQL_URL="mysql://$MYSQL_TEST_USER:$MYSQL_TEST_PASSWORD@127.0.0.1:3306/$MYSQL_TEST_DB"
}

etcd_healthy() { ETCDCTL_API=3 etcdctl --endpoints=http://127.0.0.1:2379 --command-timeout=2s endpoint health; }

start_etcd() {
  if [[ -n ${GOS_TEST_ETCD_URL:-} ]]; then
    log "etcd: using GOS_TEST_ETCD_URL=$GOS_TEST_ETCD_URL"
    return 0
  fi
  export GOS_TEST_ETCD_URL=http://127.0.0.1:2379
  if port_open 2379; then
    log 'etcd: already running on 127.0.0.1:2379'
  else
    log "etcd: starting a single member on 127.0.0.1:2379 (data $ETCD_DATA_DIR, log $STATE_DIR/etcd.log)"
    # Tests need no history: start from an empty member, so a data dir left by another
    # configuration cannot stop it. Only ever delete what looks like an etcd data dir.
    if [[ -d $ETCD_DATA_DIR/member ]]; then
      rm -rf "$ETCD_DATA_DIR"
    elif [[ -d $ETCD_DATA_DIR && -n $(ls -A "$ETCD_DATA_DIR") ]]; then
      die "$ETCD_DATA_DIR is not empty and not an etcd data dir: set GOS_TEST_ETCD_DATA_DIR to another folder"
    fi
    mkdir -p "$ETCD_DATA_DIR"
    chmod 700 "$ETCD_DATA_DIR"
    # setsid + redirections: etcd outlives this script and holds none of its output pipes.
    setsid etcd --name gos-test --data-dir "$ETCD_DATA_DIR" \
      --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
      --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
      --initial-cluster gos-test=http://127.0.0.1:2380 --initial-cluster-state new \
      --logger=zap --log-outputs=stderr >>"$STATE_DIR/etcd.log" 2>&1 </dev/null &
    disown
  fi
  wait_until 30 'etcd' "$STATE_DIR/etcd.log" etcd_healthy
}
