// Step "firewall": nftables table allowing only SSH (sshPort), 80 and 443 in. This step runs on the
// target host only: the executors never run a step locally, and tests only check the ruleset (nft -c).
import { stepScript } from '../bash.js';
import { HOST, SYSTEMD_DIR, UNITS } from '../host-layout.js';
import type { StepContext, StepDefinition } from '../plan.js';
import { renderFirewall } from '../templates/nftables.js';
import { firewallUnit, renderUnit } from '../templates/systemd-units.js';

export function firewallStep(ctx: StepContext): StepDefinition {
  const unitPath = `${SYSTEMD_DIR}/${UNITS.firewall}`;
  return {
    id: 'firewall',
    name: 'Firewall (nftables)',
    files: [
      { path: HOST.firewallRuleset, content: renderFirewall({ sshPort: ctx.config.sshPort }), mode: '0644', owner: 'root:root' },
      { path: unitPath, content: renderUnit(firewallUnit({ nftBin: '/usr/sbin/nft' })), mode: '0644', owner: 'root:root' },
    ],
    script: stepScript(`
nft -c -f ${HOST.firewallRuleset}
aks_on_change firewall-unit ${unitPath} -- systemctl daemon-reload
# Established connections (this SSH session) survive a reload: the ruleset accepts them first.
if systemctl is-active --quiet ${UNITS.firewall}; then
  aks_on_change firewall-rules ${HOST.firewallRuleset} -- systemctl reload ${UNITS.firewall}
else
  aks_stamp_record firewall-rules ${HOST.firewallRuleset}
fi
aks_enable_now ${UNITS.firewall}
`),
  };
}
