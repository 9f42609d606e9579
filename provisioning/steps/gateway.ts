// Step "gateway": the bundled gateway as a versioned release (releases/<content hash>, `current`
// symlink, last N kept), env file 0600, tiers file, migrations, hardened unit, health-checked start
// with rollback to the previous release, and the first account on first install.
import { stepScript, shq } from '../bash.js';
import { HOST, SYSTEMD_DIR, UNITS } from '../host-layout.js';
import type { StepContext, StepDefinition } from '../plan.js';
import { gatewayEnvFile, renderEnvFileScript } from '../templates/env-files.js';
import { renderGatewayCli, renderWaitHealthy } from '../templates/gateway-tools.js';
import { gatewayUnit, renderUnit } from '../templates/systemd-units.js';

const NODE_BIN = '/usr/bin/node';

export function gatewayStep(ctx: StepContext): StepDefinition {
  const g = ctx.config.gateway;
  const release = `${HOST.gatewayReleases}/${ctx.gatewayBundle.sha256.slice(0, 16)}`;
  const unitPath = `${SYSTEMD_DIR}/${UNITS.gateway}`;
  const health = `http://127.0.0.1:${g.port}/health`;
  const boot = ctx.config.bootstrapAccount;
  return {
    id: 'gateway',
    name: 'Gateway',
    uploads: [{ local: ctx.gatewayBundle.path, remote: release }],
    files: [
      { path: HOST.tiersFile, content: `${JSON.stringify(ctx.config.tiers, null, 2)}\n`, mode: '0644', owner: 'root:root' },
      { path: unitPath, content: renderUnit(gatewayUnit({ nodeBin: NODE_BIN, port: g.port })), mode: '0644', owner: 'root:root' },
      { path: HOST.gatewayCli, content: renderGatewayCli({ nodeBin: NODE_BIN }), mode: '0755', owner: 'root:root' },
      { path: HOST.waitHealthyTool, content: renderWaitHealthy(), mode: '0755', owner: 'root:root' },
    ],
    script: stepScript(`
aks_pkgs nodejs
release=${shq(release)}
[ -f "$release/${HOST.gatewayBundleFile}" ] || { aks_log "$release has no ${HOST.gatewayBundleFile} (upload failed?)"; exit 1; }
# Uploaded with the operator's modes; the gateway user only needs to read it.
if [ -n "$(find "$release" \\( ! -user root -o -perm /022 \\) -print -quit)" ]; then
  chown -R root:root "$release"; chmod -R u+rwX,go=rX "$release"
fi
${renderEnvFileScript(gatewayEnvFile({ port: g.port, maxInFlight: g.maxInFlight, logLevel: g.logLevel }))}
aks_on_change gateway-unit ${unitPath} -- systemctl daemon-reload
previous=$(readlink ${HOST.gatewayCurrent} || true)
restart_inputs=(${HOST.gatewayCurrent}/${HOST.gatewayBundleFile} ${unitPath} ${HOST.gatewayEnv} ${HOST.tiersFile})
if [ "$previous" != "$release" ]; then
  # Migrations of the new release run before it takes traffic (they must be backward compatible).
  ln -sfn "$release" ${HOST.gatewayCurrent}.new && mv -T ${HOST.gatewayCurrent}.new ${HOST.gatewayCurrent}
  if ! ${HOST.gatewayCli} migrate >&2; then
    [ -z "$previous" ] || { ln -sfn "$previous" ${HOST.gatewayCurrent}.new && mv -T ${HOST.gatewayCurrent}.new ${HOST.gatewayCurrent}; }
    aks_log "gateway migrations failed; current release left at \${previous:-none}"; exit 1
  fi
  aks_changed "release $(basename "$release") migrated and made current"
fi
# The unit's ExecStartPost waits for /health, so a failed restart means an unhealthy release.
if aks_stamp_differs gateway-restart "\${restart_inputs[@]}" || ! systemctl is-active --quiet ${UNITS.gateway}; then
  started=$(date +%s)
  if systemctl restart ${UNITS.gateway}; then
    aks_stamp_record gateway-restart "\${restart_inputs[@]}"; aks_changed "restarted ${UNITS.gateway} (healthy)"
  else
    journalctl -u ${UNITS.gateway} --since "@$started" -n 40 --no-pager >&2 || true
    if [ -n "$previous" ] && [ "$previous" != "$release" ] && [ -d "$previous" ]; then
      ln -sfn "$previous" ${HOST.gatewayCurrent}.new && mv -T ${HOST.gatewayCurrent}.new ${HOST.gatewayCurrent}
      systemctl restart ${UNITS.gateway} || true
      aks_log "gateway release $(basename "$release") failed its health check; rolled back to $(basename "$previous")"
    else
      aks_log "gateway failed its health check (${health})"
    fi
    exit 1
  fi
fi
systemctl is-enabled --quiet ${UNITS.gateway} || { systemctl enable --quiet ${UNITS.gateway}; aks_changed "enabled ${UNITS.gateway}"; }
${
  boot
    ? `# First install only: the first account; its API key stays on the host (0600), shown once there.
if [ ! -s ${HOST.bootstrapFile} ]; then
  (umask 077; ${HOST.gatewayCli} accounts create --name ${shq(boot.name)} --email ${shq(boot.email)} --tier ${shq(boot.tier)} > ${HOST.bootstrapFile}.new)
  mv ${HOST.bootstrapFile}.new ${HOST.bootstrapFile}; aks_changed "created the first account (${HOST.bootstrapFile})"
fi`
    : '# No bootstrapAccount configured: accounts are created with agentkernel-saas-gateway accounts create.'
}
# Keep the newest ${g.keepReleases} releases (the current one always) for rollback.
current=$(readlink ${HOST.gatewayCurrent})
ls -1dt ${HOST.gatewayReleases}/*/ | sed 's:/$::' | { grep -vxF "$current" || true; } | tail -n +${g.keepReleases} | while read -r old; do
  rm -rf "$old"; aks_changed "removed old release $(basename "$old")"
done
`),
  };
}
