#!/usr/bin/env bash
# Network namespaces for the multi-host HTEX tests (tests/multihost/): iproute2 (`ip netns`,
# veth, bridges, `ss`), nftables (a host's firewall), tcpdump (captures between hosts) and
# ping. Installs what is missing, then checks that this machine lets us create and delete a
# namespace, a veth pair and a bridge (a container without CAP_SYS_ADMIN / CAP_NET_ADMIN
# cannot, and the tests would fail under CI=true).
# Idempotent: installs nothing when every tool is present; the check leaves nothing behind.
set -euo pipefail

missing=()
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v ss >/dev/null 2>&1 || missing+=(iproute2)
command -v nft >/dev/null 2>&1 || missing+=(nftables)
command -v tcpdump >/dev/null 2>&1 || missing+=(tcpdump)
command -v ping >/dev/null 2>&1 || missing+=(iputils-ping)
if [ "${#missing[@]}" -gt 0 ]; then
  packages="$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
  echo "installing: $packages"
  ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 || apt-get -o DPkg::Lock::Timeout=300 update -qq
  # shellcheck disable=SC2086  # one word per package
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends $packages >/dev/null \
    || { apt-get -o DPkg::Lock::Timeout=300 update -qq &&
         DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
           --no-install-recommends $packages >/dev/null; }
fi

# The capability check, under names of this shell's pid (the tests' stale-name cleanup
# removes pmh<pid>* leftovers of dead pids, this check's included).
ns="pmh$$-check"
br="pmh$$br"
veth="pmh$$-c"
cleanup() {
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$veth" 2>/dev/null || true
  ip link del "$br" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns"
ip link add "$br" type bridge
ip link add "$veth" type veth peer name "${veth}p"
ip link set "${veth}p" netns "$ns"
ip link set "$veth" master "$br"
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" true
cleanup
trap - EXIT
if ip netns list | grep -q "^$ns\b"; then
  echo "ip netns del $ns did not remove it" >&2
  exit 1
fi
echo "network namespaces work: $(ip -V)"
