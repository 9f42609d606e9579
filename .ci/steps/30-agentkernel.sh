#!/usr/bin/env bash
# The real upstream for the contract and integration tests: agentkernel 0.18.1 built with cargo, plus the
# image its podman backend starts by default (alpine:3.20), made locally as a busybox rootfs because no
# container registry is reachable. Both are cached under $AKS_CACHE and only built when missing.
# The per-instance podman configuration lives in test/support/real-agentkernel.ts (nothing global here).
set -euo pipefail
cache="${AKS_CACHE:-/var/cache/agentkernel-saas}"
version=0.18.1
bin="$cache/agentkernel-$version/bin/agentkernel"
rootfs_tar="$cache/agentkernel-rootfs/alpine-3.20-busybox.tar"

# --- agentkernel binary (a cold build takes ~15 min; default features: --no-default-features does not compile)
if [ -x "$bin" ]; then
  echo "agentkernel $version: cached at $bin"
else
  export PATH="$HOME/.cargo/bin:$PATH"
  command -v cargo >/dev/null || { echo "cargo is required to build agentkernel $version (Rust >= 1.88)" >&2; exit 1; }
  start=$(date +%s)
  echo "agentkernel $version: building (log: $cache/cargo.log)"
  CARGO_TARGET_DIR="$cache/cargo-target" cargo install agentkernel --version "$version" --locked \
    --root "$cache/agentkernel-$version" >"$cache/cargo.log" 2>&1 || { tail -40 "$cache/cargo.log" >&2; exit 1; }
  echo "agentkernel $version: built in $(( $(date +%s) - start ))s"
fi
"$bin" --version

# --- alpine:3.20 stand-in: Debian's static busybox with its applet links (what Alpine's base image is)
if [ -s "$rootfs_tar" ]; then
  echo "sandbox image rootfs: cached at $rootfs_tar"
else
  start=$(date +%s)
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get download busybox-static >/dev/null 2>&1) || { apt-get update -qq && (cd "$work" && apt-get download busybox-static >/dev/null); }
  dpkg-deb -x "$work"/busybox-static_*.deb "$work/pkg"
  root="$work/rootfs"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,proc,sys,dev,workspace}
  chmod 1777 "$root/tmp"
  cp "$work/pkg/bin/busybox" "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list-full); do
    [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
  done
  # Debian's busybox has no nohup applet; agentkernel's detached exec runs `nohup sh -c ...`
  printf '#!/bin/sh\ntrap "" HUP\nexec "$@"\n' >"$root/usr/bin/nohup"
  chmod 755 "$root/usr/bin/nohup"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\n' >"$root/etc/group"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
  mkdir -p "$(dirname "$rootfs_tar")"
  tar -C "$root" -cf "$rootfs_tar.partial" . && mv "$rootfs_tar.partial" "$rootfs_tar"
  echo "sandbox image rootfs: built in $(( $(date +%s) - start ))s ($(du -h "$rootfs_tar" | cut -f1))"
fi

# --- prove that a real sandbox runs here before the test suites depend on it
npx tsx test/support/real-agentkernel.ts --check
