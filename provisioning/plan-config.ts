// The plan's configuration: the `agentkernel-saas:*` keys of a stack file that decide what gets
// installed on the host. One TypeBox schema is the source of truth for validation, defaults and the
// TS type; infra/stack-config.ts composes it with the target-specific keys (see CONTRACTS.md).
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

const Port = Type.Integer({ minimum: 1, maximum: 65535 });
// FQDN: labels of letters/digits/hyphens, at least one dot. Caddy and the TLS certificate need it.
const Fqdn = Type.String({ pattern: '^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]$' });
const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Version = Type.String({ pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.-]+)?$' });

export const AgentkernelConfigSchema = Type.Object(
  {
    version: Type.Optional(Version),
    // release: upstream tarball checked against releaseSha256; cargo: built on the host (slow, no
    // extra config); upload: a binary from the operator machine (uploadPath, or the CLI's option).
    source: Type.Optional(Type.Union([Type.Literal('release'), Type.Literal('cargo'), Type.Literal('upload')])),
    releaseUrl: Type.Optional(Type.String({ pattern: '^https://' })),
    releaseSha256: Type.Optional(Sha256Hex),
    uploadPath: Type.Optional(Type.String({ minLength: 1 })),
    // auto: firecracker when the host has /dev/kvm, else the container backend (podman).
    backend: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('firecracker'), Type.Literal('container')])),
  },
  { additionalProperties: false },
);

export const GatewayConfigSchema = Type.Object(
  {
    port: Type.Optional(Port),
    maxInFlight: Type.Optional(Type.Integer({ minimum: 1 })),
    logLevel: Type.Optional(Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace'].map((l) => Type.Literal(l)))),
    // Releases kept on the host for rollback (a symlink switch plus restart).
    keepReleases: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
  },
  { additionalProperties: false },
);

export const BackupsConfigSchema = Type.Object(
  {
    keepDays: Type.Optional(Type.Integer({ minimum: 1 })),
    s3: Type.Optional(
      Type.Object(
        {
          endpoint: Type.String({ pattern: '^https?://' }),
          bucket: Type.String({ minLength: 1 }),
          prefix: Type.Optional(Type.String()),
          accessKeyId: Type.String({ minLength: 1 }),
          region: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

// The gateway owns the tier schema (gateway/src/tiers.ts, e.g. defaultTier); provisioning only needs
// the tier names and writes the object verbatim.
export const TiersConfigSchema = Type.Object({
  tiers: Type.Record(Type.String({ minLength: 1 }), Type.Record(Type.String(), Type.Unknown())),
});

export const BootstrapAccountSchema = Type.Object(
  { name: Type.String({ minLength: 1 }), email: Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$' }), tier: Type.String({ minLength: 1 }) },
  { additionalProperties: false },
);

/** Properties of the plan keys, for infra/stack-config.ts to compose into its one strict schema. */
export const planConfigProperties = {
  target: Type.Optional(Type.Union([Type.Literal('home'), Type.Literal('hetzner'), Type.Literal('hetzner-cloud')])),
  domain: Fqdn,
  tls: Type.Optional(Type.Union([Type.Literal('acme'), Type.Literal('internal')])),
  acmeEmail: Type.Optional(Type.String({ pattern: '^[^@\\s]+@[^@\\s]+$' })),
  sshPort: Type.Optional(Port),
  allowUnsupportedOs: Type.Optional(Type.Boolean()),
  agentkernel: Type.Optional(AgentkernelConfigSchema),
  gateway: Type.Optional(GatewayConfigSchema),
  backups: Type.Optional(BackupsConfigSchema),
  tiers: TiersConfigSchema,
  bootstrapAccount: Type.Optional(BootstrapAccountSchema),
} satisfies Record<string, TSchema>;

/** The plan keys as written in a stack file (optional keys may be missing). */
export const PlanConfigSchema = Type.Object(planConfigProperties, { additionalProperties: false });
export type PlanConfigInput = Static<typeof PlanConfigSchema>;

/** Keys only the Pulumi program uses (targets, DNS, secrets): allowed in a stack file, ignored here. */
// (Kept in step with infra/stack-config.ts's target keys; infra validates those strictly.)
export const NON_PLAN_KEYS = ['home', 'hetzner', 'hetznerCloud', 'dns', 'sshPrivateKey', 'robotUser', 'robotPassword', 'backupS3SecretKey'] as const;

type Required2<T> = { [K in keyof T]-?: Exclude<T[K], undefined> };
/** The plan configuration with every default applied. */
export interface PlanConfig {
  target: NonNullable<PlanConfigInput['target']>;
  domain: string;
  tls: NonNullable<PlanConfigInput['tls']>;
  acmeEmail?: string;
  sshPort: number;
  allowUnsupportedOs: boolean;
  agentkernel: Required2<Omit<Static<typeof AgentkernelConfigSchema>, 'releaseUrl' | 'releaseSha256' | 'uploadPath'>> &
    Pick<Static<typeof AgentkernelConfigSchema>, 'releaseUrl' | 'releaseSha256' | 'uploadPath'>;
  gateway: Required2<Omit<Static<typeof GatewayConfigSchema>, 'maxInFlight'>> & Pick<Static<typeof GatewayConfigSchema>, 'maxInFlight'>;
  backups: { keepDays: number; s3?: NonNullable<Static<typeof BackupsConfigSchema>['s3']> };
  tiers: Static<typeof TiersConfigSchema>;
  bootstrapAccount?: Static<typeof BootstrapAccountSchema>;
}

export const PLAN_DEFAULTS = {
  target: 'home',
  tls: 'acme',
  sshPort: 22,
  allowUnsupportedOs: false,
  agentkernel: { version: '0.18.1', source: 'cargo', backend: 'auto' },
  gateway: { port: 8080, logLevel: 'info', keepReleases: 3 },
  backups: { keepDays: 7 },
} as const;

/** Validates the plan keys of a stack's config map and applies defaults; errors name key and file. */
export function parsePlanConfig(raw: Record<string, unknown>, fileName: string): PlanConfig {
  const input = Object.fromEntries(Object.entries(raw).filter(([k]) => !(NON_PLAN_KEYS as readonly string[]).includes(k)));
  const unknown = Object.keys(input).filter((k) => !(k in planConfigProperties));
  if (unknown.length) throw new Error(`${fileName}: unknown config key agentkernel-saas:${unknown[0]}`);
  const errors = [...Value.Errors(PlanConfigSchema, input)];
  if (errors.length) {
    const e = errors[0];
    const key = e.path.replace(/^\//, '').replace(/\//g, '.') || '(root)';
    throw new Error(`${fileName}: agentkernel-saas:${key}: ${e.message}${e.value === undefined ? '' : ` (got ${JSON.stringify(e.value)})`}`);
  }
  const c = input as PlanConfigInput;
  const config: PlanConfig = {
    target: c.target ?? PLAN_DEFAULTS.target,
    domain: c.domain,
    tls: c.tls ?? PLAN_DEFAULTS.tls,
    ...(c.acmeEmail ? { acmeEmail: c.acmeEmail } : {}),
    sshPort: c.sshPort ?? PLAN_DEFAULTS.sshPort,
    allowUnsupportedOs: c.allowUnsupportedOs ?? PLAN_DEFAULTS.allowUnsupportedOs,
    agentkernel: { ...PLAN_DEFAULTS.agentkernel, ...c.agentkernel },
    gateway: { ...PLAN_DEFAULTS.gateway, ...c.gateway },
    backups: { ...PLAN_DEFAULTS.backups, ...c.backups },
    tiers: c.tiers,
    ...(c.bootstrapAccount ? { bootstrapAccount: c.bootstrapAccount } : {}),
  };
  checkCrossFieldRules(config, fileName);
  return config;
}

// Rules a JSON schema cannot say clearly: which agentkernel source needs which extra keys.
function checkCrossFieldRules(c: PlanConfig, fileName: string): void {
  const ak = c.agentkernel;
  if (ak.source === 'release' && (!ak.releaseUrl || !ak.releaseSha256)) {
    throw new Error(`${fileName}: agentkernel-saas:agentkernel: source "release" needs releaseUrl and releaseSha256`);
  }
  if (c.bootstrapAccount && !(c.bootstrapAccount.tier in c.tiers.tiers)) {
    throw new Error(`${fileName}: agentkernel-saas:bootstrapAccount.tier: "${c.bootstrapAccount.tier}" is not a tier in agentkernel-saas:tiers`);
  }
}
