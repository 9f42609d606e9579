// /usr/local/sbin/agentkernel-saas-gateway: the gateway's own CLI (migrate, accounts, keys) on the
// host, with the deployed env file, as the gateway's user. Operators and steps use the same entry.
import { HOST } from '../host-layout.js';

export function renderGatewayCli(i: { nodeBin: string }): string {
  return `#!/bin/bash
# Managed by agentkernel-saas provisioning.
# Usage: agentkernel-saas-gateway migrate | accounts create --name N --email E --tier T | accounts list | ...
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "run as root (it reads ${HOST.gatewayEnv})" >&2; exit 1; }
set -a; . ${HOST.gatewayEnv}; set +a
cd ${HOST.gatewayCurrent}
exec runuser -u ${HOST.gatewayUser} -- ${i.nodeBin} ${HOST.gatewayCurrent}/${HOST.gatewayBundleFile} "$@"
`;
}
