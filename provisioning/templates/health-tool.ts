// /usr/local/sbin/agentkernel-saas-health: every check of a healthy instance, one TSV line each
// (check, ok|FAIL, detail); exit 1 when any fails. The health timer and `verify` both run it.
import { shq } from '../bash.js';
import { HOST, UNITS } from '../host-layout.js';

export interface HealthToolInput { domain: string; tls: 'acme' | 'internal'; gatewayPort: number }

export function renderHealthTool(i: HealthToolInput): string {
  const units = [UNITS.firewall, UNITS.agentkernelApi, UNITS.redis, UNITS.gateway, UNITS.caddy, UNITS.backupTimer, UNITS.healthTimer];
  const ports: [string, number][] = [
    ['postgresql', HOST.postgresPort],
    ['redis', HOST.redisPort],
    ['agentkernel', HOST.agentkernelPort],
    ['gateway', i.gatewayPort],
  ];
  const cacert = i.tls === 'internal' ? `--cacert ${HOST.caddyRootCa}` : '';
  const https = (path: string) => `curl -fsS -o /dev/null -w '%{http_code}' --max-time 10 ${cacert} --resolve ${shq(`${i.domain}:443:127.0.0.1`)} ${shq(`https://${i.domain}${path}`)}`;
  return `#!/bin/bash
# Managed by agentkernel-saas provisioning. Usage: agentkernel-saas-health [--quiet]
set -uo pipefail
quiet=no; [ "\${1:-}" = --quiet ] && quiet=yes
failed=0
report() { # CHECK OK(0|1) DETAIL (one line: curl's error and status code may span several)
  set -- "$1" "$2" "$(printf '%s' "$3" | tr '\\n\\t' '  ')"
  if [ "$2" = 0 ]; then [ $quiet = yes ] || printf '%s\\tok\\t%s\\n' "$1" "$3"; else failed=1; printf '%s\\tFAIL\\t%s\\n' "$1" "$3"; fi
}
unit_check() {
  local a e; a=$(systemctl is-active "$1" 2>/dev/null); e=$(systemctl is-enabled "$1" 2>/dev/null)
  [ "$a" = active ] && [ "$e" = enabled ]; report "unit $1" $? "$a, $e"
}
backend=$(sed -n 's/^AKS_BACKEND=//p' ${HOST.hostFacts} 2>/dev/null)
for u in ${units.join(' ')}; do unit_check "$u"; done
[ "$backend" = firecracker ] && unit_check ${UNITS.agentkernelDaemon}
# Debian runs each PostgreSQL cluster as postgresql@VERSION-main; postgresql.service only groups them.
ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
unit_check ${UNITS.postgres}
systemctl is-active --quiet "postgresql@$ver-main"; report "unit postgresql@$ver-main" $? "$(systemctl is-active "postgresql@$ver-main" 2>/dev/null)"
# Loopback only: something listens on the port, and only on 127.0.0.1 / ::1.
loopback_only() { # NAME PORT
  local addrs; addrs=$(ss -Hltn "sport = :$2" | awk '{print $4}' | sed 's/:[0-9]*$//' | sort -u | tr '\\n' ' ')
  [ -n "$addrs" ] && [ -z "$(echo "$addrs" | tr ' ' '\\n' | grep -vxE '127\\.0\\.0\\.1|\\[::1\\]|' )" ]
  report "$1 listens on loopback only (:$2)" $? "\${addrs:-nothing listening}"
}
${ports.map(([n, p]) => `loopback_only ${n} ${p}`).join('\n')}
code=$(curl -fsS -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:${i.gatewayPort}/health 2>&1); report "gateway /health (loopback)" $? "$code"
code=$(${https('/health')} 2>&1); report "HTTPS /health via Caddy" $? "$code"
code=$(${https('/ready')} 2>&1); report "HTTPS /ready via Caddy" $? "$code"
loc=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' --max-time 5 --resolve ${shq(`${i.domain}:80:127.0.0.1`)} ${shq(`http://${i.domain}/health`)} 2>&1)
case "$loc" in 30[178]\\ https://*) report "HTTP redirects to HTTPS" 0 "$loc";; *) report "HTTP redirects to HTTPS" 1 "$loc";; esac
bad=$(systemctl list-units --failed --plain --no-legend 2>/dev/null | awk '{print $1}' | grep -v '^${UNITS.healthService.replace('.', '\\.')}$' | tr '\\n' ' ')
[ -z "$bad" ]; report "no failed units" $? "\${bad:-none}"
exit $failed
`;
}
