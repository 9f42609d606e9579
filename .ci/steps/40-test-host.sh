#!/usr/bin/env bash
# The e2e test host: a Debian 13 rootfs made with debootstrap, cached as a tarball under $AKS_CACHE
# (keyed by its package list), booted by the e2e test with systemd-nspawn. Building it here keeps
# the test's own time bounded; a cached tarball makes this step a no-op.
set -euo pipefail
cd "$(dirname "$0")/../.."
for tool in debootstrap systemd-nspawn nft zstd ssh; do
  command -v "$tool" >/dev/null || { echo "40-test-host: $tool missing (10-apt.sh installs it)" >&2; exit 1; }
done
npx tsx -e "import('./test/support/test-host.ts').then(async (m) => { m.sweepStaleTestHosts(console.log); console.log('test host rootfs:', await m.ensureRootfsTarball(console.log)); })"
