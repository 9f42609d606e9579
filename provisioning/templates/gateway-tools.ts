// Host tools of the gateway step: the wait-for-health helper of its unit and the gateway CLI wrapper.
/** The gateway unit's ExecStartPost: waits for /health, gives up early when the process died. */
export function renderWaitHealthy(): string {
  return `#!/bin/bash
# Managed by agentkernel-saas provisioning. Usage: agentkernel-saas-wait-healthy MAINPID URL
set -u
for _ in $(seq 1 60); do
  curl -fs -o /dev/null --max-time 2 "$2" && exit 0
  kill -0 "$1" 2>/dev/null || { echo "process $1 exited before $2 answered" >&2; exit 1; }
  sleep 1
done
echo "$2 did not answer within 60 s" >&2
exit 1
`;
}

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
