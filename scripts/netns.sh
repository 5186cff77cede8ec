#!/usr/bin/env bash
# Runs a command inside a network namespace made for it, then removes the
# namespace. The namespace has `lo` and a veth pair with private addresses
# that exist only inside it (10.77.0.1/24 on cv0, 10.77.0.2/24 on cv1), so
# Chromium, which gathers no ICE candidates on loopback, can reach a server
# there, and no test traffic ever leaves the machine.
#   scripts/netns.sh node --test browser/
#
# NETNS_SERVER=1 makes a second namespace for the server side and moves cv0
# (10.77.0.1) into it, named in CONCLAVE_SERVER_NETNS for the command to
# start its server with `ip netns exec`: the two ends then talk over the
# veth like two hosts, instead of over `lo` (both addresses are local when
# they share a namespace). The benchmark uses it (bench/run.mjs).
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "netns.sh: network namespaces need root" >&2
  exit 1
fi
ns="conclave-$$-$RANDOM"
srv=""
[ "${NETNS_SERVER:-0}" = 1 ] && srv="$ns-srv"
ip netns add "$ns"
trap 'ip netns del "$ns" 2>/dev/null || true; [ -z "$srv" ] || ip netns del "$srv" 2>/dev/null || true' EXIT INT TERM
ip -n "$ns" link set lo up
ip -n "$ns" link add cv0 type veth peer name cv1
# no IPv6 link-local addresses: their duplicate address detection would
# finish a second later and make Chromium see a network change
ip -n "$ns" link set cv0 addrgenmode none
ip -n "$ns" link set cv1 addrgenmode none
s0=$ns
if [ -n "$srv" ]; then
  ip netns add "$srv"
  ip -n "$srv" link set lo up
  ip -n "$ns" link set cv0 netns "$srv"
  s0=$srv
fi
ip -n "$s0" addr add 10.77.0.1/24 dev cv0
ip -n "$ns" addr add 10.77.0.2/24 dev cv1
ip -n "$s0" link set cv0 up
ip -n "$ns" link set cv1 up
CONCLAVE_TEST_ADDR=10.77.0.1 CONCLAVE_NETNS="$ns" CONCLAVE_SERVER_NETNS="$srv" \
  ip netns exec "$ns" "$@"
