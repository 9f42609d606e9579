// The stack the e2e provisions: a LAN-style home box with Caddy's internal CA, a test domain that
// is not in DNS (clients connect to the test host's address with this name as SNI/Host), the
// cargo-built agentkernel uploaded from this machine, and one small tier for the test tenant.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export const E2E_DOMAIN = 'sandbox.e2e.test';
export const E2E_TIER = 'e2e';
export const E2E_NETWORK_TIER = 'e2e-net';
export const E2E_ACCOUNT = { name: 'e2e tenant', email: 'e2e@example.com', tier: E2E_TIER };

/** Writes Pulumi.e2e.yaml into a fresh temp dir and returns its path. */
export function writeE2eStackFile(opts: { agentkernelBinary?: string }): string {
  const ns = (k: string) => `agentkernel-saas:${k}`;
  const config: Record<string, unknown> = {
    [ns('target')]: 'home',
    [ns('domain')]: E2E_DOMAIN,
    [ns('tls')]: 'internal',
    [ns('sshPort')]: 22,
    // Built here with cargo and uploaded; without it the plan would build it on the host (slow).
    [ns('agentkernel')]: opts.agentkernelBinary
      ? { version: '0.18.1', source: 'upload', uploadPath: opts.agentkernelBinary, backend: 'container' }
      : { version: '0.18.1', source: 'cargo', backend: 'container' },
    [ns('gateway')]: { port: 8080, logLevel: 'info' },
    [ns('backups')]: { keepDays: 7 },
    [ns('tiers')]: {
      tiers: {
        [E2E_TIER]: {
          executionsPerMonth: 1000, memoryMb: 256, vcpus: 1, network: false,
          sandboxTtlSeconds: 3600, maxSandboxLifetimeSeconds: 7200, maxConcurrentSandboxes: 3,
          rateLimitPerMinute: 600, priority: 10,
          pricing: { monthlyUsd: 0, perExecutionUsd: 0, perGbSecondUsd: 0 },
        },
        // The same with network, to see the tier decide a sandbox's network for real.
        [E2E_NETWORK_TIER]: {
          executionsPerMonth: 1000, memoryMb: 256, vcpus: 1, network: true,
          sandboxTtlSeconds: 3600, maxSandboxLifetimeSeconds: 7200, maxConcurrentSandboxes: 3,
          rateLimitPerMinute: 600, priority: 10,
          pricing: { monthlyUsd: 0, perExecutionUsd: 0, perGbSecondUsd: 0 },
        },
      },
    },
    [ns('bootstrapAccount')]: E2E_ACCOUNT,
  };
  const dir = mkdtempSync(join(tmpdir(), 'aks-e2e-stack-'));
  const path = join(dir, 'Pulumi.e2e.yaml');
  writeFileSync(path, stringify({ config }));
  return path;
}
