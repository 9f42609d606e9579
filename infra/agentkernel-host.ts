// Applies the provisioning plan to one host: each plan step becomes a remote.Command, chained with
// dependsOn in plan order. A step re-runs when its content hash changes, and so do the steps that
// depend on it (their triggers carry the digest of what they depend on), never the ones before;
// every step re-runs when the machine itself is new (the target's identity is in the triggers).
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import { remote, types } from '@pulumi/command';
import type { PlanStep, ProvisioningPlan } from '../provisioning/plan.js';
import { HOST } from '../provisioning/host-layout.js';
import { hostSecrets } from './host-secrets.js';
import { missingEnvironment, stepCommand, stepStdin } from './step-runner.js';

export type Connection = types.input.remote.ConnectionArgs;

export interface AgentkernelHostArgs {
  connection: Connection;
  plan: ProvisioningPlan;
  /** Part of every step's triggers: a new machine behind the same connection gets the whole plan. */
  hostIdentity: pulumi.Input<string>;
  backupS3SecretKey?: string;
  /** Resources the host must have before the first step (server, volume mount, ...). */
  after?: pulumi.Resource[];
}

/** Trigger values per step: its own hash and the digest of the steps it depends on. */
export function stepTriggers(plan: ProvisioningPlan): Map<string, [string, string]> {
  const digests = new Map<string, string>();
  const triggers = new Map<string, [string, string]>();
  for (const step of plan.steps) {
    const upstream = createHash('sha256')
      .update(step.dependsOn.map((id) => digests.get(id) ?? missingDependency(step, id)).join('\n'))
      .digest('hex');
    digests.set(step.id, createHash('sha256').update(`${step.hash}\n${upstream}`).digest('hex'));
    triggers.set(step.id, [step.hash, upstream]);
  }
  return triggers;
}

// A directory (the gateway bundle) is copied as a tree, a single file (an agentkernel binary) as itself.
function uploadSource(local: string): pulumi.asset.Asset | pulumi.asset.Archive {
  return statSync(local).isDirectory() ? new pulumi.asset.FileArchive(local) : new pulumi.asset.FileAsset(local);
}

/** Prints the backend preflight recorded on the host (firecracker or container). */
export const BACKEND_PROBE = `sed -n 's/^AKS_BACKEND=//p' ${HOST.hostFacts}`;

function missingDependency(step: PlanStep, id: string): never {
  throw new Error(`plan step "${step.id}" depends on "${id}", which does not come before it`);
}

export class AgentkernelHost extends pulumi.ComponentResource {
  readonly steps: remote.Command[];
  /** Gateway admin token (secret). */
  readonly adminToken: pulumi.Output<string>;
  /** The agentkernel backend preflight chose on the host (firecracker or container). */
  readonly backend: pulumi.Output<string>;

  constructor(name: string, args: AgentkernelHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super('agentkernel-saas:index:AgentkernelHost', name, {}, opts);
    const secrets = hostSecrets(this, args.backupS3SecretKey);
    const available = Object.keys(secrets);
    for (const step of args.plan.steps) {
      const missing = missingEnvironment(step, available);
      if (missing.length) throw new Error(`plan step "${step.id}" needs ${missing.join(', ')}, which this Pulumi program does not provide`);
    }
    const triggers = stepTriggers(args.plan);
    const byId = new Map<string, pulumi.Resource>();
    this.steps = args.plan.steps.map((step) => {
      const dependsOn = [...(step.number === 1 ? args.after ?? [] : []), ...step.dependsOn.map((id) => byId.get(id)!)];
      const uploads = (step.uploads ?? []).map(
        (u, i) =>
          new remote.CopyToRemote(
            `${name}-${step.id}-upload-${i}`,
            // A new machine needs the upload again even though address and bytes are the same.
            { connection: args.connection, source: uploadSource(u.local), remotePath: u.remote, triggers: [args.hostIdentity] },
            { parent: this, dependsOn },
          ),
      );
      const command = stepCommand(step);
      const env = step.environment ?? [];
      const stdin = env.length
        ? pulumi.all(env.map((n) => secrets[n])).apply((values) => stepStdin(step, Object.fromEntries(env.map((n, i) => [n, values[i]]))))
        : undefined;
      const cmd = new remote.Command(
        `${name}-${String(step.number).padStart(2, '0')}-${step.id}`,
        {
          connection: args.connection,
          create: command,
          // Re-running is the update: every step is idempotent.
          update: command,
          ...(stdin ? { stdin: pulumi.secret(stdin) } : {}),
          triggers: [...triggers.get(step.id)!, args.hostIdentity],
        },
        { parent: this, dependsOn: [...dependsOn, ...uploads] },
      );
      byId.set(step.id, cmd);
      return cmd;
    });
    const last = this.steps[this.steps.length - 1];
    const backendProbe = new remote.Command(
      `${name}-backend`,
      {
        connection: args.connection,
        create: BACKEND_PROBE,
        triggers: [...[...triggers.values()].map((t) => t[0]), args.hostIdentity],
      },
      { parent: this, dependsOn: [last] },
    );
    this.backend = backendProbe.stdout.apply((s) => s.trim());
    this.adminToken = pulumi.secret(secrets.AKS_GATEWAY_ADMIN_TOKEN);
    this.registerOutputs({ adminToken: this.adminToken, backend: this.backend });
  }
}
