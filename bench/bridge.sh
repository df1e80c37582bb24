#!/bin/sh
# Benchmark of cladding-bridge against socat, in one run:
#
#   client -> TCP -> forwarder 1 -> Unix socket -> forwarder 2 -> TCP -> sink
#
# built once with two cladding-bridge processes and twice with two socat
# processes: with socat's defaults (8 KiB reads), as the shell bridges that
# cladding-bridge replaces ran it, and with -b 262144, the read size of
# cladding-bridge.  A direct client -> sink connection shows the cost of the
# load generator itself.
#
# Usage: bench/bridge.sh BRIDGE [BYTES [CONNECTIONS]]
#   BRIDGE       the cladding-bridge program to measure
#   BYTES        bytes sent through one connection (default 1 GiB)
#   CONNECTIONS  short sequential connections (default 10000)
#
# Needs a C compiler, python3 and socat (Debian package socat).  All
# traffic stays on 127.0.0.1 and in a temporary directory.
set -eu

if [ $# -lt 1 ]; then
  echo "usage: $0 BRIDGE [BYTES [CONNECTIONS]]" >&2
  exit 2
fi
bridge=$1
bytes=${2:-1073741824}
connections=${3:-10000}
source_dir=$(cd "$(dirname "$0")" && pwd)

command -v socat >/dev/null || {
  echo "socat not found: install the Debian package socat" >&2
  exit 1
}

dir=$(mktemp -d /tmp/bridge-bench.XXXXXX)
pids=
cleanup() {
  for pid in $pids; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# Starts "$@" in the background and remembers its pid for cleanup.
spawn() {
  "$@" &
  pids="$pids $!"
}

wait_for_file() {
  i=0
  while [ ! -e "$1" ]; do
    i=$((i + 1))
    if [ $i -gt 500 ]; then
      echo "$1 did not appear within 10 s" >&2
      exit 1
    fi
    sleep 0.02
  done
}

# Prints a free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

load="$dir/bridge-load"
${CC:-cc} -O2 -o "$load" "$source_dir/bridge-load.c"

spawn "$load" sink "$dir/sink.port"
wait_for_file "$dir/sink.port"
sink=$(cat "$dir/sink.port")

bridge_port=$(free_port)
spawn "$bridge" --unix-to-tcp "$dir/bridge.sock=127.0.0.1:$sink" 2>"$dir/bridge2.log"
spawn "$bridge" --tcp-to-unix "127.0.0.1:$bridge_port=$dir/bridge.sock" 2>"$dir/bridge1.log"

socat_port=$(free_port)
spawn socat "UNIX-LISTEN:$dir/socat.sock,fork" "TCP:127.0.0.1:$sink"
spawn socat "TCP-LISTEN:$socat_port,bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:$dir/socat.sock"

socat256k_port=$(free_port)
spawn socat -b 262144 "UNIX-LISTEN:$dir/socat256k.sock,fork" "TCP:127.0.0.1:$sink"
spawn socat -b 262144 "TCP-LISTEN:$socat256k_port,bind=127.0.0.1,reuseaddr,fork" "UNIX-CONNECT:$dir/socat256k.sock"

wait_for_file "$dir/bridge.sock"
wait_for_file "$dir/socat.sock"
wait_for_file "$dir/socat256k.sock"
# socat prints nothing once its TCP listener is bound, so wait briefly.
sleep 0.5

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bytes: $bytes, connections: $connections"
echo

for chain in direct:$sink cladding-bridge:$bridge_port socat:$socat_port "socat-b256k:$socat256k_port"; do
  name=${chain%%:*}
  port=${chain#*:}
  echo "throughput $name: $("$load" throughput "$port" "$bytes")"
done
for chain in direct:$sink cladding-bridge:$bridge_port socat:$socat_port "socat-b256k:$socat256k_port"; do
  name=${chain%%:*}
  port=${chain#*:}
  echo "connections $name: $("$load" connections "$port" "$connections")"
done
