// The Pulumi program: validate the stack's config (before any resource), pick the target, apply the
// provisioning plan to it, export what an operator needs. Importing this module has no side effects.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { buildPlan } from '../provisioning/plan.js';
import { AgentkernelHost } from './agentkernel-host.js';
import { domainRecords } from './dns.js';
import { existsSync } from 'node:fs';
import { readStackFile } from '../provisioning/stack-file.js';
import { SECRET_KEYS, fromPulumiConfig, validateStackConfig, type StackConfig } from './stack-config.js';
import { homeTarget } from './targets/home.js';
import { hetznerTarget } from './targets/hetzner.js';
import { hetznerCloudTarget } from './targets/hetzner-cloud.js';
import type { HostTarget } from './targets/host-target.js';
import { ROBOT_URL } from './robot/robot-api.js';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface ProgramOptions {
  /** `npm run build` output: the gateway bundle uploaded to the host. */
  gatewayBundleDir?: string;
  robotUrl?: string;
}

export function stackFileName(stack: string): string {
  return `stacks/Pulumi.${stack}.yaml`;
}

function targetFor(config: StackConfig, options: ProgramOptions): HostTarget {
  switch (config.target) {
    case 'home':
      return homeTarget(config);
    case 'hetzner':
      return hetznerTarget(config, options.robotUrl ?? ROBOT_URL);
    case 'hetzner-cloud':
      return hetznerCloudTarget(config);
  }
}

// The hcloud provider reads its token itself; without one it would fail only when it first calls the API.
function checkHcloudToken(config: StackConfig, all: Record<string, string>, fileName: string): void {
  if ((config.target === 'hetzner-cloud' || config.dns) && !all['hcloud:token'] && !process.env.HCLOUD_TOKEN) {
    const why = config.target === 'hetzner-cloud' ? 'target "hetzner-cloud"' : 'agentkernel-saas:dns';
    throw new Error(`${fileName}: hcloud:token: required for ${why} (pulumi config set --secret hcloud:token, or HCLOUD_TOKEN)`);
  }
}

// `pulumi config set KEY` without --secret writes the value in plain text into the stack file, which
// is meant to be committed: refuse to run until it is set again as a secret.
export function checkSecretsEncrypted(stackFile: string, fileName: string): void {
  if (!existsSync(stackFile)) return; // e.g. `--config-file` elsewhere: nothing here to leak
  const stored = readStackFile(stackFile);
  const plain = SECRET_KEYS.find((k) => typeof stored[k] === 'string');
  if (plain) throw new Error(`${fileName}: agentkernel-saas:${plain}: stored in plain text; set it again with \`pulumi config set --secret ${plain}\` (and rotate it if the file was committed)`);
}

export async function agentkernelStack(options: ProgramOptions = {}) {
  const all = pulumi.runtime.allConfig();
  const fileName = stackFileName(pulumi.getStack());
  checkSecretsEncrypted(resolve(projectRoot, fileName), fileName);
  const config = validateStackConfig(fromPulumiConfig(all), fileName);
  checkHcloudToken(config, all, fileName);
  const gatewayBundleDir = options.gatewayBundleDir ?? resolve(projectRoot, 'dist/gateway');
  let plan;
  try {
    plan = buildPlan(config, { gatewayBundleDir });
  } catch (err) {
    throw new Error(`${(err as Error).message} (run \`npm run build\` before \`pulumi up\`)`);
  }
  const target = targetFor(config, options);
  const dns = config.dns ? domainRecords(config, target.publicIpv4, target.publicIpv6) : [];
  const host = new AgentkernelHost('host', {
    connection: target.connection,
    plan,
    hostIdentity: target.identity,
    backupS3SecretKey: config.secrets.backupS3SecretKey,
    // Caddy asks for the certificate in the caddy step: the A record must exist by then.
    after: [...target.after, ...dns],
  });
  return {
    url: `https://${config.domain}`,
    adminToken: host.adminToken,
    sshCommand: target.sshCommand,
    backend: host.backend,
    ...(target.monthlyCostEur ? { monthlyCostEur: target.monthlyCostEur } : {}),
  };
}
