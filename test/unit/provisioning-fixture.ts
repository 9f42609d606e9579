// Shared inputs for the provisioning unit tests: a valid stack config and a tiny placeholder gateway
// bundle (the plan only hashes and uploads it; the real bundle is exercised by the e2e test).
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlan, type ProvisioningPlan } from '../../provisioning/plan.js';
import { parsePlanConfig, type PlanConfig } from '../../provisioning/plan-config.js';

// A tier as the gateway's tier file wants it (gateway/src/tiers.ts).
export function tier(executionsPerMonth: number) {
  return {
    executionsPerMonth, memoryMb: 512, vcpus: 1, network: false, sandboxTtlSeconds: 900, maxSandboxLifetimeSeconds: 900,
    maxConcurrentSandboxes: 1, rateLimitPerMinute: 30, priority: 0, pricing: { monthlyUsd: 0, perExecutionUsd: 0, perGbSecondUsd: 0 },
  };
}

export function rawConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    target: 'home',
    domain: 'aks.example.test',
    tls: 'internal',
    tiers: { defaultTier: 'free', tiers: { free: tier(100), team: tier(1000) } },
    bootstrapAccount: { name: 'First', email: 'first@example.com', tier: 'team' },
    ...overrides,
  };
}

export function config(overrides: Record<string, unknown> = {}): PlanConfig {
  return parsePlanConfig(rawConfig(overrides), 'test.yaml');
}

export function placeholderBundle(content = 'console.log("placeholder gateway");\n'): string {
  const dir = mkdtempSync(join(tmpdir(), 'aks-bundle-'));
  writeFileSync(join(dir, 'agentkernel-gateway.mjs'), content);
  mkdirSync(join(dir, 'migrations'));
  writeFileSync(join(dir, 'migrations', '001_init.sql'), 'CREATE TABLE t (id int);\n');
  return dir;
}

export function plan(overrides: Record<string, unknown> = {}, bundle = placeholderBundle()): ProvisioningPlan {
  return buildPlan(config(overrides), { gatewayBundleDir: bundle });
}

export function hashes(p: ProvisioningPlan): Record<string, string> {
  return Object.fromEntries(p.steps.map((s) => [s.id, s.hash]));
}

/** Ids of the steps whose hash differs between two plans. */
export function changedSteps(a: ProvisioningPlan, b: ProvisioningPlan): string[] {
  const hb = hashes(b);
  return a.steps.filter((s) => s.hash !== hb[s.id]).map((s) => s.id);
}
