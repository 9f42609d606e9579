#!/usr/bin/env bash
# Debian packages the tests run for real: PostgreSQL and Redis servers, Caddy and systemd-analyze
# (config validation), debootstrap + systemd-nspawn (the e2e test host), podman (agentkernel's
# container backend), ssh client.
set -euo pipefail
pkgs=(postgresql redis-server caddy debootstrap systemd-container podman runc openssh-client iproute2 iptables nftables zstd)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The Debian packages start their own system instances on install; tests start private ones instead.
