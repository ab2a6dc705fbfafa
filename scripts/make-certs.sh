#!/usr/bin/env bash
# usage: scripts/make-certs.sh [--] DIR [NAME…]        (NAME defaults to "server")
#
# A throw-away certificate authority and certificates signed by it, for trying TLS on one
# machine and for the tests. Not for production: use your own CA (or a public one).
#
# Writes DIR/ca.pem and DIR/ca.key (made once, reused when present), then DIR/NAME.pem and
# DIR/NAME.key for each NAME: an ECDSA P-256 certificate for localhost and 127.0.0.1 (plus
# the comma-separated DNS names or IP addresses in $CERT_HOSTS), usable by a server and by a
# client (a gateway's HTTPS/WSS certificate, or a gateway's and an engine's link certificate).
# $CERT_DAYS sets the validity (30 days); with $KEY_PASSPHRASE the keys are encrypted with it.
# NAME: letters, digits, ".", "_" and "-". Options: -h, --help (this text); "--" ends them (a
# DIR that starts with "-"). Needs openssl (Debian: apt-get install openssl).
set -euo pipefail

usage() { sed -n '2,/^[^#]/{/^#/!q;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
usage_error() {
  printf 'make-certs.sh: %s (see --help)\n' "$*" >&2
  exit 2
}

# The whole command line is checked before anything is written.
help=0 options=1
operands=()
for arg in "$@"; do
  if ((options)); then
    case $arg in
      -h | --help) help=1 && continue ;;
      --) options=0 && continue ;;
      -?*) usage_error "unknown option '$arg'" ;;
    esac
  fi
  operands+=("$arg")
done
if ((help)); then
  usage
  exit 0
fi
((${#operands[@]} > 0)) || usage_error 'DIR is required'
dir=${operands[0]}
[[ -n $dir ]] || usage_error 'DIR is empty'
[[ $dir != -* ]] || dir=./$dir # not an option of mkdir, openssl or chmod
names=("${operands[@]:1}")
((${#names[@]} > 0)) || names=(server)
for name in "${names[@]}"; do
  [[ $name =~ ^[A-Za-z0-9._-]+$ ]] || usage_error "bad name '$name' (letters, digits, . _ -)"
done

command -v openssl >/dev/null || {
  echo 'make-certs.sh: openssl is not installed (Debian: apt-get install openssl)' >&2
  exit 1
}

days=${CERT_DAYS:-30}
mkdir -p "$dir"
umask 077

if [[ ! -f $dir/ca.pem || ! -f $dir/ca.key ]]; then
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days "$days" \
    -subj "/CN=GOS-TS throw-away CA $(date -u +%Y%m%dT%H%M%S) $RANDOM" \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
fi

san='DNS:localhost,IP:127.0.0.1'
IFS=',' read -r -a extra <<<"${CERT_HOSTS:-}"
for host in "${extra[@]}"; do
  [[ -n $host ]] || continue
  if [[ $host =~ ^[0-9.]+$ || $host == *:* ]]; then san+=",IP:$host"; else san+=",DNS:$host"; fi
done

ext=$(mktemp)
trap 'rm -f "$ext"' EXIT
printf '%s\n' "subjectAltName=$san" 'basicConstraints=critical,CA:FALSE' \
  'keyUsage=critical,digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth,clientAuth' >"$ext"

for name in "${names[@]}"; do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$name" \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -sha256 -days "$days" -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -set_serial "0x$(openssl rand -hex 16)" -extfile "$ext" -out "$dir/$name.pem" 2>/dev/null
  rm -f "$dir/$name.csr"
  if [[ -n ${KEY_PASSPHRASE:-} ]]; then
    openssl pkey -in "$dir/$name.key" -aes256 -passout env:KEY_PASSPHRASE -out "$dir/$name.key.enc"
    mv "$dir/$name.key.enc" "$dir/$name.key"
  fi
done
chmod 0644 "$dir"/*.pem
echo "$dir: ca.pem$(printf ' %s.pem' "${names[@]}")"
