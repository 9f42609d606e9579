// Step "caddy": Caddy from Debian with our Caddyfile (HTTPS for the stack's domain, proxy to the gateway).
import { stepScript } from '../bash.js';
import { HOST, UNITS } from '../host-layout.js';
import type { StepContext, StepDefinition } from '../plan.js';
import { renderCaddyfile } from '../templates/caddyfile.js';

export function caddyStep(ctx: StepContext): StepDefinition {
  const c = ctx.config;
  return {
    id: 'caddy',
    name: `Caddy (HTTPS for ${c.domain}, tls ${c.tls})`,
    // Written before the package is installed, so Caddy's first start already uses it (dpkg keeps it).
    files: [{ path: HOST.caddyfile, content: renderCaddyfile({ domain: c.domain, tls: c.tls, acmeEmail: c.acmeEmail, gatewayPort: c.gateway.port }), mode: '0644', owner: 'root:root' }],
    script: stepScript(`
aks_pkgs caddy
caddy validate --adapter caddyfile --config ${HOST.caddyfile} >/dev/null 2>&1 || caddy validate --adapter caddyfile --config ${HOST.caddyfile} >&2
if systemctl is-active --quiet ${UNITS.caddy}; then
  aks_on_change caddyfile ${HOST.caddyfile} -- systemctl reload ${UNITS.caddy}
else
  aks_stamp_record caddyfile ${HOST.caddyfile}
fi
aks_enable_now ${UNITS.caddy}
${
  c.tls === 'internal'
    ? `# tls internal: Caddy creates its local CA on the first certificate; clients need its root.
for i in $(seq 1 60); do [ -s ${HOST.caddyRootCa} ] && break; sleep 0.5; done
[ -s ${HOST.caddyRootCa} ] || { aks_log "Caddy did not create its internal CA (${HOST.caddyRootCa})"; exit 1; }`
    : '# tls acme: Caddy obtains the certificate once DNS for the domain points here.'
}
`),
  };
}
