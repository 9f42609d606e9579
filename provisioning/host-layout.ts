// Where things live on a provisioned host. One place so steps, templates, verify and the operator
// docs agree on every path, user and port.
export const HOST = {
  configDir: '/etc/agentkernel-saas',
  secretsEnv: '/etc/agentkernel-saas/secrets.env',
  gatewayEnv: '/etc/agentkernel-saas/gateway.env',
  agentkernelEnv: '/etc/agentkernel-saas/agentkernel.env',
  tiersFile: '/etc/agentkernel-saas/tiers.json',
  // Written by preflight: facts later steps act on (backend chosen from /dev/kvm, OS codename).
  hostFacts: '/var/lib/agentkernel-saas/host.env',
  stateDir: '/var/lib/agentkernel-saas',
  stampDir: '/var/lib/agentkernel-saas/stamps',
  uploadDir: '/var/lib/agentkernel-saas/uploads',
  bootstrapFile: '/var/lib/agentkernel-saas/bootstrap-account.json',
  agentkernelHome: '/var/lib/agentkernel',
  agentkernelPrefix: '/opt/agentkernel-saas/agentkernel',
  agentkernelBin: '/usr/local/bin/agentkernel',
  gatewayHome: '/opt/agentkernel-saas/gateway',
  gatewayReleases: '/opt/agentkernel-saas/gateway/releases',
  gatewayCurrent: '/opt/agentkernel-saas/gateway/current',
  gatewayBundleFile: 'agentkernel-gateway.mjs',
  gatewayUser: 'agentkernel-gateway',
  backupDir: '/var/backups/agentkernel-saas',
  backupTool: '/usr/local/sbin/agentkernel-saas-backup',
  restoreTool: '/usr/local/sbin/agentkernel-saas-restore',
  healthTool: '/usr/local/sbin/agentkernel-saas-health',
  gatewayCli: '/usr/local/sbin/agentkernel-saas-gateway',
  waitHealthyTool: '/usr/local/sbin/agentkernel-saas-wait-healthy',
  firewallRuleset: '/etc/agentkernel-saas/firewall.nft',
  firewallTable: 'agentkernel_saas',
  caddyfile: '/etc/caddy/Caddyfile',
  caddyRootCa: '/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt',
  postgresConf: '/etc/agentkernel-saas/postgresql.conf',
  redisConf: '/etc/redis/agentkernel-saas.conf',
  redisAuthConf: '/etc/redis/agentkernel-saas-auth.conf',
  containersConf: '/etc/containers/containers.conf.d/agentkernel-saas.conf',
  database: 'agentkernel_saas',
  databaseRole: 'agentkernel_gateway',
  agentkernelPort: 18888,
  postgresPort: 5432,
  redisPort: 6379,
} as const;

/** systemd units the plan installs or enables; verify and the health check expect them all. */
export const UNITS = {
  agentkernelDaemon: 'agentkernel-daemon.service',
  agentkernelApi: 'agentkernel-api.service',
  gateway: 'agentkernel-gateway.service',
  firewall: 'agentkernel-saas-firewall.service',
  backupService: 'agentkernel-saas-backup.service',
  backupTimer: 'agentkernel-saas-backup.timer',
  healthService: 'agentkernel-saas-health.service',
  healthTimer: 'agentkernel-saas-health.timer',
  postgres: 'postgresql.service',
  redis: 'redis-server.service',
  caddy: 'caddy.service',
} as const;

export const SYSTEMD_DIR = '/etc/systemd/system';
