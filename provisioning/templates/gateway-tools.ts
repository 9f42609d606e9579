// Host tools of the gateway step: the wait-for-health helper of its unit and the gateway CLI wrapper.
/** The gateway unit's ExecStartPost: waits for /health, gives up early when the process died. */
export function renderWaitHealthy(): string {
  return `#!/bin/bash
# Managed by agentkernel-saas provisioning. Usage: agentkernel-saas-wait-healthy URL [PID]
# PID (systemd's $MAINPID) may be empty: then only the URL decides.
set -u
url=$1 pid=\${2:-}
for _ in $(seq 1 60); do
  curl -fs -o /dev/null --max-time 2 "$url" && exit 0
  if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then echo "process $pid exited before $url answered" >&2; exit 1; fi
  sleep 1
done
echo "$url did not answer within 60 s" >&2
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
