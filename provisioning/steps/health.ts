// Step "health": the health tool and a timer running it every 5 minutes (a failing check makes the
// health unit fail, which shows in `systemctl --failed` and the journal).
import { stepScript } from '../bash.js';
import { HOST, SYSTEMD_DIR, UNITS } from '../host-layout.js';
import type { StepContext, StepDefinition } from '../plan.js';
import { renderHealthTool } from '../templates/health-tool.js';
import { healthService, healthTimer, renderUnit } from '../templates/systemd-units.js';

export function healthStep(ctx: StepContext): StepDefinition {
  const service = `${SYSTEMD_DIR}/${UNITS.healthService}`;
  const timer = `${SYSTEMD_DIR}/${UNITS.healthTimer}`;
  return {
    id: 'health',
    name: 'Health check',
    files: [
      { path: HOST.healthTool, content: renderHealthTool({ domain: ctx.config.domain, tls: ctx.config.tls, gatewayPort: ctx.config.gateway.port }), mode: '0755', owner: 'root:root' },
      { path: service, content: renderUnit(healthService()), mode: '0644', owner: 'root:root' },
      { path: timer, content: renderUnit(healthTimer()), mode: '0644', owner: 'root:root' },
    ],
    script: stepScript(`
aks_on_change health-units ${service} ${timer} -- systemctl daemon-reload
aks_enable_now ${UNITS.healthTimer}
`),
  };
}
