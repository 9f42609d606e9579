// Environment files that hold secrets (gateway.env, agentkernel.env). The plan must not contain
// secret values, so these are assembled on the host: the template says which parts are literal and
// which come from the secrets file, and renders the bash that writes the file (mode 0600).
import { shq } from '../bash.js';
import { HOST } from '../host-layout.js';

/** Secrets the secrets step keeps in secrets.env (and accepts as AKS_<NAME> from the executor). */
export const SECRET_NAMES = ['POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'AGENTKERNEL_API_KEY', 'GATEWAY_ADMIN_TOKEN'] as const;
export type SecretName = (typeof SECRET_NAMES)[number] | 'BACKUP_S3_SECRET_KEY';

export type EnvPart = string | { secret: SecretName };
export interface EnvFile { path: string; owner: string; entries: Record<string, EnvPart[]> }

function renderPart(p: EnvPart): string {
  // Generated secrets are hex; a provided one is inserted as-is (the secrets step rejects newlines).
  return typeof p === 'string' ? shq(p) : `"$(aks_secret ${p.secret})"`;
}

export function renderEnvFileScript(f: EnvFile): string {
  const lines = Object.entries(f.entries).map(([key, parts]) => {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(key)) throw new Error(`env file ${f.path}: bad variable name ${key}`);
    for (const p of parts) if (typeof p === 'string' && /[\n\r]/.test(p)) throw new Error(`env file ${f.path}: ${key} has a newline`);
    return `  printf '%s\\n' ${shq(`${key}=`)}${parts.map(renderPart).join('')}`;
  });
  return [
    `# ${f.path}: literal settings + values from ${HOST.secretsEnv}; written only when different.`,
    `tmp=$(mktemp ${shq(`${f.path}.XXXXXX`)})`,
    '{',
    `  echo '# Managed by agentkernel-saas provisioning (secrets come from ${HOST.secretsEnv}).'`,
    ...lines,
    `} > "$tmp"`,
    `aks_install_file "$tmp" ${shq(f.path)} 0600 ${shq(f.owner)}`,
  ].join('\n');
}

export interface GatewayEnvInput { port: number; maxInFlight?: number; logLevel: string }

export function gatewayEnvFile(i: GatewayEnvInput): EnvFile {
  const entries: Record<string, EnvPart[]> = {
    DATABASE_URL: [`postgres://${HOST.databaseRole}:`, { secret: 'POSTGRES_PASSWORD' }, `@127.0.0.1:${HOST.postgresPort}/${HOST.database}`],
    REDIS_URL: ['redis://:', { secret: 'REDIS_PASSWORD' }, `@127.0.0.1:${HOST.redisPort}/0`],
    AGENTKERNEL_URL: [`http://127.0.0.1:${HOST.agentkernelPort}`],
    AGENTKERNEL_API_KEY: [{ secret: 'AGENTKERNEL_API_KEY' }],
    GATEWAY_ADMIN_TOKEN: [{ secret: 'GATEWAY_ADMIN_TOKEN' }],
    GATEWAY_HOST: ['127.0.0.1'],
    GATEWAY_PORT: [String(i.port)],
    GATEWAY_TIERS: [HOST.tiersFile],
    GATEWAY_LOG_LEVEL: [i.logLevel],
    NODE_ENV: ['production'],
  };
  if (i.maxInFlight !== undefined) entries.GATEWAY_MAX_IN_FLIGHT = [String(i.maxInFlight)];
  // root-only: systemd (PID 1) reads EnvironmentFile= as root, so the gateway user needs no access.
  return { path: HOST.gatewayEnv, owner: 'root:root', entries };
}

export function agentkernelEnvFile(): EnvFile {
  return { path: HOST.agentkernelEnv, owner: 'root:root', entries: { AGENTKERNEL_API_KEY: [{ secret: 'AGENTKERNEL_API_KEY' }] } };
}
