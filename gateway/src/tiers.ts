// Pricing tiers are data: the defaults below follow the pricing plan, and an operator replaces them
// with a JSON or YAML file (GATEWAY_TIERS), usually rendered from the stack's `agentkernel-saas:tiers`.
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';

const Nullable = <T extends ReturnType<typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()]);

export const TierLimitsSchema = Type.Object(
  {
    /** null = unlimited (enterprise, payg). */
    executionsPerMonth: Nullable(Type.Integer({ minimum: 0 })),
    memoryMb: Type.Integer({ minimum: 64 }),
    vcpus: Type.Integer({ minimum: 1 }),
    network: Type.Boolean(),
    /** Lifetime a new sandbox gets; null = until deleted. */
    sandboxTtlSeconds: Nullable(Type.Integer({ minimum: 60 })),
    /** How far /extend may push a sandbox's total lifetime; null = no cap. */
    maxSandboxLifetimeSeconds: Nullable(Type.Integer({ minimum: 60 })),
    maxConcurrentSandboxes: Type.Integer({ minimum: 0 }),
    rateLimitPerMinute: Type.Integer({ minimum: 1 }),
    /** Higher is served first when the upstream is saturated. */
    priority: Type.Integer({ minimum: 0, maximum: 100 }),
    pricing: Type.Object(
      {
        monthlyUsd: Type.Number({ minimum: 0 }),
        perExecutionUsd: Type.Number({ minimum: 0 }),
        perGbSecondUsd: Type.Number({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type TierLimits = Static<typeof TierLimitsSchema>;

/** Per-account overrides: any subset of a tier's limits (enterprise "custom" lives here). */
// Partial all the way into pricing: limitsFor merges pricing field by field, so one price may be set alone.
export const TierOverridesSchema = Type.Partial(
  Type.Object({ ...TierLimitsSchema.properties, pricing: Type.Partial(TierLimitsSchema.properties.pricing, { additionalProperties: false }) }),
  { additionalProperties: false },
);
export type TierOverrides = Static<typeof TierOverridesSchema>;

const TierNamePattern = '^[a-z][a-z0-9-]{0,31}$';
export const TierFileSchema = Type.Object(
  {
    // additionalProperties: without it a key that misses the pattern is not checked at all (any content passes).
    tiers: Type.Record(Type.String({ pattern: TierNamePattern }), TierLimitsSchema, { minProperties: 1, additionalProperties: false }),
    /** Tier for new accounts when none is given. */
    defaultTier: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type TierFile = Static<typeof TierFileSchema>;

const noPrice = { monthlyUsd: 0, perExecutionUsd: 0, perGbSecondUsd: 0 };
export const DEFAULT_TIERS: TierFile = {
  defaultTier: 'free',
  tiers: {
    free: {
      executionsPerMonth: 100, memoryMb: 512, vcpus: 1, network: false,
      sandboxTtlSeconds: 900, maxSandboxLifetimeSeconds: 900, maxConcurrentSandboxes: 1,
      rateLimitPerMinute: 30, priority: 0, pricing: noPrice,
    },
    developer: {
      executionsPerMonth: 1000, memoryMb: 1024, vcpus: 2, network: true,
      sandboxTtlSeconds: 3600, maxSandboxLifetimeSeconds: 4 * 3600, maxConcurrentSandboxes: 3,
      rateLimitPerMinute: 120, priority: 20, pricing: { ...noPrice, monthlyUsd: 19 },
    },
    team: {
      executionsPerMonth: 10000, memoryMb: 2048, vcpus: 4, network: true,
      sandboxTtlSeconds: 24 * 3600, maxSandboxLifetimeSeconds: 7 * 24 * 3600, maxConcurrentSandboxes: 10,
      rateLimitPerMinute: 600, priority: 50, pricing: { ...noPrice, monthlyUsd: 99 },
    },
    enterprise: {
      executionsPerMonth: null, memoryMb: 8192, vcpus: 8, network: true,
      sandboxTtlSeconds: null, maxSandboxLifetimeSeconds: null, maxConcurrentSandboxes: 50,
      rateLimitPerMinute: 3000, priority: 90, pricing: { ...noPrice, monthlyUsd: 999 },
    },
    payg: {
      executionsPerMonth: null, memoryMb: 1024, vcpus: 2, network: true,
      sandboxTtlSeconds: 3600, maxSandboxLifetimeSeconds: 4 * 3600, maxConcurrentSandboxes: 3,
      rateLimitPerMinute: 120, priority: 20, pricing: { monthlyUsd: 0, perExecutionUsd: 0.01, perGbSecondUsd: 0.001 },
    },
  },
};

export class TierCatalog {
  constructor(readonly file: TierFile) {}

  get names(): string[] {
    return Object.keys(this.file.tiers);
  }

  get defaultTier(): string {
    return this.file.defaultTier ?? this.names[0];
  }

  has(name: string): boolean {
    return Object.hasOwn(this.file.tiers, name);
  }

  /** The limits an account actually gets: its tier with its own overrides on top. */
  limitsFor(tier: string, overrides: TierOverrides | null | undefined): TierLimits {
    const base = this.file.tiers[tier];
    if (!base) throw new Error(`unknown tier "${tier}"`);
    return overrides ? { ...base, ...overrides, pricing: { ...base.pricing, ...overrides.pricing } } : base;
  }
}

/** Checks a parsed tier document and names the first thing wrong with it. */
export function validateTierFile(doc: unknown, source: string): TierFile {
  if (!Value.Check(TierFileSchema, doc)) {
    const err = Value.Errors(TierFileSchema, doc).First();
    const where = err?.path || '/';
    throw new Error(`${source}: invalid tier file at ${where}: ${err?.message ?? 'invalid'}`);
  }
  const file = doc as TierFile;
  if (file.defaultTier !== undefined && !Object.hasOwn(file.tiers, file.defaultTier)) {
    throw new Error(`${source}: defaultTier "${file.defaultTier}" is not one of the tiers (${Object.keys(file.tiers).join(', ')})`);
  }
  for (const [name, t] of Object.entries(file.tiers)) {
    if (t.sandboxTtlSeconds !== null && t.maxSandboxLifetimeSeconds !== null && t.maxSandboxLifetimeSeconds < t.sandboxTtlSeconds) {
      throw new Error(`${source}: tier "${name}": maxSandboxLifetimeSeconds is below sandboxTtlSeconds`);
    }
  }
  return file;
}

export function loadTierCatalog(path: string | undefined): TierCatalog {
  if (!path) return new TierCatalog(DEFAULT_TIERS);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`GATEWAY_TIERS: cannot read ${path}: ${(e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new Error(`GATEWAY_TIERS: ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
  return new TierCatalog(validateTierFile(doc, `GATEWAY_TIERS (${path})`));
}
