// What every target hands to AgentkernelHost: how to reach the machine and what must exist first.
import type * as pulumi from '@pulumi/pulumi';
import type { Connection } from '../agentkernel-host.js';

export interface HostTarget {
  connection: Connection;
  sshCommand: pulumi.Output<string>;
  /** Where the domain's A record points (and AAAA when known). */
  publicIpv4: pulumi.Input<string>;
  publicIpv6?: pulumi.Input<string>;
  /** Changes when the machine is a new one (rebuilt, reinstalled): then every step runs again. */
  identity: pulumi.Input<string>;
  /** Resources to finish before the first plan step. */
  after: pulumi.Resource[];
  /** Hetzner targets: what the provisioned machine costs per month (EUR). */
  monthlyCostEur?: pulumi.Output<number>;
}

// Fresh servers take a while to accept SSH; retry dialing for about five minutes.
export const DIAL = { dialErrorLimit: 30, perDialTimeout: 10 } as const;
