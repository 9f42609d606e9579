#!/usr/bin/env bash
# Debian packages the tests run for real: PostgreSQL and Redis servers, Caddy and systemd-analyze
# (config validation), debootstrap + systemd-nspawn (the e2e test host), podman (agentkernel's
# container backend), OpenSSH client and server (the executor's tests run a throwaway sshd).
set -euo pipefail
pkgs=(postgresql redis-server caddy debootstrap systemd-container podman runc openssh-client openssh-server
      iproute2 iptables nftables zstd curl)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  # The packages would start system-wide postgres, redis, caddy and sshd on install; the tests start
  # private instances instead, so keep the package scripts from starting services.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
