// The one strict schema of a stack's `agentkernel-saas:*` config: the plan keys (owned by
// provisioning/plan-config.ts) plus the keys only this Pulumi program reads (targets, DNS, secrets).
// Everything is checked before any resource is declared, and the first problem is one error that
// names the key and the stack file.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { parsePlanConfig, planConfigProperties, type PlanConfig } from '../provisioning/plan-config.js';
import { validateTierFile } from '../gateway/src/tiers.js';
import { publicKeyOf } from './ssh-key.js';

const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const Ipv4 = Type.String({ pattern: '^((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])$' });
const HostName = Type.String({ pattern: '^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$' });
const DnsName = Type.String({ pattern: '^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]$' });
const Euro = Type.Number({ minimum: 0 });
const strict = { additionalProperties: false } as const;

export const HomeTargetSchema = Type.Object(
  {
    host: HostName,
    // The port we connect to; may differ from sshPort (the port the host's firewall opens) when a
    // router forwards another port to the box.
    port: Type.Optional(Port),
    // root only: the plan writes system files and uploads to root-owned paths (no sudo).
    user: Type.Optional(Type.Literal('root')),
    // Public IP for the DNS record when dns is managed (a home box's host is often a LAN address).
    publicIp: Type.Optional(Ipv4),
  },
  strict,
);

export const InstallimageSchema = Type.Object(
  {
    // installimage erases every disk it is given: an explicit yes in the stack file, not a default.
    confirmWipe: Type.Literal(true),
    hostname: Type.Optional(HostName),
    // Disks as named in the rescue system (e.g. nvme0n1). Default: every disk the rescue system sees.
    drives: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z0-9]+$' }), { minItems: 1, maxItems: 8 })),
    raidLevel: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(5), Type.Literal(6), Type.Literal(10)])),
    // Bump to reinstall an already installed server (every other change leaves the disks alone).
    generation: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  strict,
);

export const VswitchSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    vlan: Type.Integer({ minimum: 4000, maximum: 4091 }),
    // This server's address on the vSwitch, CIDR (e.g. 10.0.1.2/24).
    address: Type.String({ pattern: '^((25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])/([89]|[12][0-9]|30)$' }),
  },
  strict,
);

export const HetznerTargetSchema = Type.Object(
  {
    serverNumber: Type.Integer({ minimum: 1 }),
    serverIp: Ipv4,
    // What this server costs per month (from the Robot order), for the cost estimate output.
    monthlyPriceEur: Euro,
    installimage: Type.Optional(InstallimageSchema),
    vswitch: Type.Optional(VswitchSchema),
  },
  strict,
);

export const HetznerCloudTargetSchema = Type.Object(
  {
    serverType: Type.Optional(Type.String({ pattern: '^[a-z0-9-]+$' })),
    location: Type.Optional(Type.String({ pattern: '^[a-z]{3}[0-9]$' })),
    image: Type.Optional(Type.String({ minLength: 1 })),
    // A separate volume for /var/lib/postgresql (GB); the data then outlives a rebuilt server.
    postgresVolumeGb: Type.Optional(Type.Integer({ minimum: 10, maximum: 10240 })),
    // Monthly prices (EUR, as on Hetzner's price list) for the cost estimate; the chosen
    // serverType must be listed.
    prices: Type.Object(
      {
        serverTypes: Type.Record(Type.String({ pattern: '^[a-z0-9-]+$' }), Euro),
        primaryIpv4: Euro,
        volumePerGb: Euro,
      },
      strict,
    ),
  },
  strict,
);

export const DnsSchema = Type.Object(
  {
    // The Hetzner DNS zone (managed through the Cloud API) that contains the domain.
    zone: DnsName,
    ttl: Type.Optional(Type.Integer({ minimum: 60, maximum: 86400 })),
  },
  strict,
);

/** Keys that must be set with `pulumi config set --secret`; their values never appear in errors. */
export const SECRET_KEYS = ['sshPrivateKey', 'robotUser', 'robotPassword', 'backupS3SecretKey'] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

const targetProperties = {
  home: Type.Optional(HomeTargetSchema),
  hetzner: Type.Optional(HetznerTargetSchema),
  hetznerCloud: Type.Optional(HetznerCloudTargetSchema),
  dns: Type.Optional(DnsSchema),
  sshPrivateKey: Type.Optional(Type.String({ pattern: '^-----BEGIN [A-Z ]*PRIVATE KEY-----' })),
  robotUser: Type.Optional(Type.String({ minLength: 1 })),
  robotPassword: Type.Optional(Type.String({ minLength: 1 })),
  backupS3SecretKey: Type.Optional(Type.String({ minLength: 1 })),
} satisfies Record<string, TSchema>;

export const StackConfigSchema = Type.Object({ ...planConfigProperties, ...targetProperties }, strict);
const TargetKeysSchema = Type.Object(targetProperties);
type TargetKeys = Static<typeof TargetKeysSchema>;

export const HETZNER_CLOUD_DEFAULTS = { serverType: 'ccx13', location: 'fsn1', image: 'debian-13' } as const;
export const DNS_DEFAULT_TTL = 300;

export type StackConfig = PlanConfig & Omit<TargetKeys, SecretKey> & { secrets: Partial<Record<SecretKey, string>> };

/** Turns Pulumi's config map (every value a string; objects as JSON) into typed values. */
export function fromPulumiConfig(all: Record<string, string>, namespace = 'agentkernel-saas'): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [fullKey, text] of Object.entries(all)) {
    if (!fullKey.startsWith(`${namespace}:`)) continue;
    const key = fullKey.slice(namespace.length + 1);
    const schema = (StackConfigSchema.properties as Record<string, TSchema>)[key];
    out[key] = schema && isStringSchema(schema) ? text : parseJsonOrKeep(text);
  }
  return out;
}

function isStringSchema(schema: TSchema): boolean {
  if (schema.type === 'string') return true;
  return Array.isArray(schema.anyOf) && schema.anyOf.every((s: TSchema) => typeof s.const === 'string');
}

function parseJsonOrKeep(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // the schema then reports the wrong type with the key's name
  }
}

/** Validates a stack's config (keys without the namespace); throws one error naming key and file. */
export function validateStackConfig(raw: Record<string, unknown>, fileName: string): StackConfig {
  const errors = [...Value.Errors(StackConfigSchema, raw)];
  if (errors.length) throw new Error(describeSchemaError(errors[0], fileName));
  const plan = parsePlanConfig(pick(raw, Object.keys(planConfigProperties)), fileName);
  const targets = pick(raw, Object.keys(targetProperties).filter((k) => !(SECRET_KEYS as readonly string[]).includes(k))) as Omit<TargetKeys, SecretKey>;
  const secrets = pick(raw, SECRET_KEYS) as StackConfig['secrets'];
  const config: StackConfig = { ...plan, ...targets, secrets };
  // The tier file is the gateway's format: check it now rather than on the host at gateway start.
  validateTierFile(config.tiers, `${fileName}: agentkernel-saas:tiers`);
  checkCombinations(config, fileName);
  return config;
}

function pick(obj: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => obj[k] !== undefined).map((k) => [k, obj[k]]));
}

function describeSchemaError(e: ValueError, fileName: string): string {
  const segments = e.path.split('/').filter(Boolean);
  const key = segments.join('.') || '(root)';
  const isSecret = (SECRET_KEYS as readonly string[]).includes(segments[0] ?? '');
  const where = `${fileName}: agentkernel-saas:${key}`;
  if (e.message === 'Unexpected property') return `${where}: unknown key`;
  if (e.value === undefined) return `${where}: required key is missing`;
  const expected =
    'const' in e.schema
      ? `expected ${JSON.stringify(e.schema.const)}`
      : Array.isArray(e.schema.anyOf) && e.schema.anyOf.every((s: TSchema) => 'const' in s)
        ? `expected one of ${e.schema.anyOf.map((s: TSchema) => JSON.stringify(s.const)).join(', ')}`
        : e.message.replace(/^Expected/, 'expected');
  return `${where}: ${expected}${isSecret ? '' : ` (got ${JSON.stringify(e.value)})`}`;
}

// Names no public CA will certify (special-use and private-use suffixes).
const NON_PUBLIC_SUFFIXES = ['.local', '.lan', '.home.arpa', '.internal', '.test', '.localhost', '.invalid', '.example'];

const TARGET_SECTION = { home: 'home', hetzner: 'hetzner', 'hetzner-cloud': 'hetznerCloud' } as const;

// Rules across keys that a JSON schema cannot say clearly.
function checkCombinations(c: StackConfig, fileName: string): void {
  const fail = (key: string, why: string): never => {
    throw new Error(`${fileName}: agentkernel-saas:${key}: ${why}`);
  };
  const section = TARGET_SECTION[c.target];
  if (!c[section]) fail(section, `required for target "${c.target}"`);
  for (const other of Object.values(TARGET_SECTION)) {
    if (other !== section && c[other]) fail(other, `is set but target is "${c.target}" (it would be ignored)`);
  }
  if (!c.secrets.sshPrivateKey) fail('sshPrivateKey', 'required: the private key Pulumi connects with (pulumi config set --secret sshPrivateKey < key)');
  publicKeyOf(c.secrets.sshPrivateKey!, `${fileName}: agentkernel-saas:sshPrivateKey`);
  if (c.target === 'hetzner-cloud') {
    if (c.agentkernel.backend === 'firecracker') {
      fail('agentkernel.backend', 'firecracker needs /dev/kvm, and Hetzner Cloud servers have no nested KVM; use "container" or "auto", or target "hetzner" (a dedicated server) for Firecracker');
    }
    if (c.sshPort !== 22) fail('sshPort', `must be 22 on hetzner-cloud: a new ${HETZNER_CLOUD_DEFAULTS.image} server listens on 22 and the plan does not move sshd`);
    const cloud = c.hetznerCloud!;
    const serverType = cloud.serverType ?? HETZNER_CLOUD_DEFAULTS.serverType;
    if (!(serverType in cloud.prices.serverTypes)) fail('hetznerCloud.prices.serverTypes', `has no price for serverType "${serverType}" (needed for the cost estimate)`);
  }
  if (c.target === 'hetzner') {
    if (!c.secrets.robotUser || !c.secrets.robotPassword) fail(c.secrets.robotUser ? 'robotPassword' : 'robotUser', 'required for target "hetzner" (Robot webservice credentials, set with --secret)');
    if (c.hetzner!.installimage && c.sshPort !== 22) fail('sshPort', 'must be 22 with hetzner.installimage: the freshly installed system listens on 22');
  }
  const privateSuffix = NON_PUBLIC_SUFFIXES.find((s) => `.${c.domain}`.endsWith(s));
  if (c.tls === 'acme' && privateSuffix) fail('tls', `"acme" cannot get a certificate for ${c.domain} (${privateSuffix} is not a public name); use tls: internal`);
  if (c.backups.s3 && !c.secrets.backupS3SecretKey) fail('backupS3SecretKey', 'required when backups.s3 is set (pulumi config set --secret backupS3SecretKey ...)');
  if (c.dns) {
    if (c.domain !== c.dns.zone && !c.domain.endsWith(`.${c.dns.zone}`)) fail('dns.zone', `"${c.dns.zone}" does not contain the domain "${c.domain}"`);
    if (c.target === 'home' && !c.home!.publicIp && !Value.Check(Ipv4, c.home!.host)) {
      fail('home.publicIp', 'required with dns on a home box whose host is a name, not a public IPv4');
    }
  }
}
