// Target-specific host preparation that must happen before the plan (a VLAN interface, the
// PostgreSQL volume mount). Written as plan-shaped steps so the same runner renders them.
import * as pulumi from '@pulumi/pulumi';
import { remote } from '@pulumi/command';
import { stepScript } from '../../provisioning/bash.js';
import { sha256 } from '../../provisioning/content-hash.js';
import type { PlanFile, PlanStep } from '../../provisioning/plan.js';
import type { Connection } from '../agentkernel-host.js';
import { stepCommand } from '../step-runner.js';

export interface HostPrep {
  name: string;
  files: PlanFile[];
  body: string;
}

/** A remote.Command named prep-<id>; `prep` may depend on other resources' outputs. */
export function hostPrepCommand(id: string, prep: pulumi.Input<HostPrep>, connection: Connection, opts: pulumi.CustomResourceOptions): remote.Command {
  const rendered = pulumi.output(prep).apply((p) => {
    const script = stepScript(p.body);
    const hash = sha256(JSON.stringify({ name: p.name, files: p.files, script }));
    const step: PlanStep = { number: 0, id, name: p.name, files: p.files, script, dependsOn: [], hash };
    return { command: stepCommand(step), hash };
  });
  return new remote.Command(`prep-${id}`, { connection, create: rendered.command, update: rendered.command, triggers: [rendered.hash] }, opts);
}
