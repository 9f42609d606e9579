// The provisioning plan: everything that turns a bare Debian 13 host into a running instance, as data.
// Both executors run exactly these steps in this order: the SSH executor (ssh-executor.ts) and the
// Pulumi program (each step -> a remote.Command, `triggers` = hash).
import { sha256, contentHash } from './content-hash.js';
import type { PlanConfig } from './plan-config.js';
import { secretsStep } from './steps/secrets.js';
import { preflightStep } from './steps/preflight.js';
import { baseStep } from './steps/base.js';
import { firewallStep } from './steps/firewall.js';
import { agentkernelStep } from './steps/agentkernel.js';
import { postgresRedisStep } from './steps/postgres-redis.js';
import { gatewayStep } from './steps/gateway.js';
import { caddyStep } from './steps/caddy.js';
import { backupsStep } from './steps/backups.js';
import { healthStep } from './steps/health.js';

export interface PlanFile { path: string; content: string; mode: string; owner?: string }
export interface PlanUpload { local: string; remote: string }
export interface PlanStep {
  number: number;
  id: string;
  name: string;
  files: PlanFile[];
  script: string;
  environment?: string[];
  uploads?: PlanUpload[];
  dependsOn: string[];
  hash: string;
}
export interface ProvisioningPlan { steps: PlanStep[] }

/** Local paths on the operator machine. */
export interface PlanInputs {
  /** Directory with agentkernel-gateway.mjs and migrations/ (`npm run build` -> dist/gateway). */
  gatewayBundleDir: string;
  /** agentkernel binary to upload; needed when agentkernel.source is "upload" (else uploadPath). */
  agentkernelBinary?: string;
}

/** A local upload source with its content hash (computed once per plan). */
export interface HashedSource { path: string; sha256: string }

/** What a step module sees. */
export interface StepContext {
  config: PlanConfig;
  gatewayBundle: HashedSource;
  agentkernelBinary?: HashedSource;
}
export type StepDefinition = Omit<PlanStep, 'number' | 'dependsOn' | 'hash'>;

const STEPS: ((ctx: StepContext) => StepDefinition)[] = [
  secretsStep,
  preflightStep,
  baseStep,
  firewallStep,
  agentkernelStep,
  postgresRedisStep,
  gatewayStep,
  caddyStep,
  backupsStep,
  healthStep,
];

export function buildPlan(config: PlanConfig, inputs: PlanInputs): ProvisioningPlan {
  const ctx: StepContext = {
    config,
    gatewayBundle: hashedSource(inputs.gatewayBundleDir, 'gateway bundle'),
    agentkernelBinary: agentkernelUpload(config, inputs),
  };
  const uploadHashes = new Map<string, string>([[ctx.gatewayBundle.path, ctx.gatewayBundle.sha256]]);
  if (ctx.agentkernelBinary) uploadHashes.set(ctx.agentkernelBinary.path, ctx.agentkernelBinary.sha256);
  const defs = STEPS.map((make) => make(ctx));
  const steps = defs.map((def, i): PlanStep => ({
    ...def,
    number: i + 1,
    // A strict chain: every step may rely on everything before it (users, packages, secrets).
    dependsOn: i === 0 ? [] : [defs[i - 1].id],
    hash: stepHash(def, uploadHashes),
  }));
  return { steps };
}

function hashedSource(path: string, what: string): HashedSource {
  try {
    return { path, sha256: contentHash(path) };
  } catch (err) {
    throw new Error(`${what}: ${(err as Error).message}`);
  }
}

function agentkernelUpload(config: PlanConfig, inputs: PlanInputs): HashedSource | undefined {
  if (config.agentkernel.source !== 'upload') return undefined;
  const path = inputs.agentkernelBinary ?? config.agentkernel.uploadPath;
  if (!path) throw new Error('agentkernel source "upload" needs a binary: set agentkernel.uploadPath or pass --agentkernel-binary');
  return hashedSource(path, 'agentkernel binary');
}

// Name, files, script, environment names and the uploaded content: everything that changes what the
// step does on the host (the local path of an upload is not, only its bytes are).
function stepHash(def: StepDefinition, uploadHashes: Map<string, string>): string {
  return sha256(
    JSON.stringify({
      name: def.name,
      files: def.files,
      script: def.script,
      environment: def.environment ?? [],
      uploads: (def.uploads ?? []).map((u) => ({ remote: u.remote, sha256: uploadHashes.get(u.local) })),
    }),
  );
}
