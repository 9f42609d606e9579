// Pulumi resources over the Robot dynamic providers. Credentials are inputs (secrets) and stay in the
// state encrypted (additionalSecretOutputs), because refresh and delete receive only the state.
import * as pulumi from '@pulumi/pulumi';
import { robotServerProvider, type ReinstallTiming } from './robot-server-provider.js';
import { robotVswitchProvider } from './robot-vswitch-provider.js';
import type { InstallimageOptions } from './installimage.js';

interface RobotCredentials {
  robotUrl: pulumi.Input<string>;
  robotUser: pulumi.Input<string>;
  robotPassword: pulumi.Input<string>;
}

export interface RobotServerArgs extends RobotCredentials {
  serverNumber: pulumi.Input<number>;
  serverIp: pulumi.Input<string>;
  install?: pulumi.Input<InstallimageOptions & { generation: number; sshPublicKey: string }>;
  sshPrivateKey?: pulumi.Input<string>;
  timing?: pulumi.Input<ReinstallTiming>;
}

const secretCredentials = ['robotUser', 'robotPassword'];

export class RobotServer extends pulumi.dynamic.Resource {
  declare readonly serverNumber: pulumi.Output<number>;
  declare readonly serverIp: pulumi.Output<string>;
  declare readonly serverName: pulumi.Output<string>;
  declare readonly product: pulumi.Output<string>;
  declare readonly datacenter: pulumi.Output<string>;
  declare readonly installedGeneration: pulumi.Output<number | null>;

  constructor(name: string, args: RobotServerArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      robotServerProvider,
      name,
      { serverName: undefined, product: undefined, datacenter: undefined, installedGeneration: undefined, ...args },
      { ...opts, additionalSecretOutputs: secretCredentials },
      'robot',
      'Server',
    );
  }
}

export interface RobotVswitchArgs extends RobotCredentials {
  name: pulumi.Input<string>;
  vlan: pulumi.Input<number>;
  serverIp: pulumi.Input<string>;
}

export class RobotVswitch extends pulumi.dynamic.Resource {
  declare readonly vswitchId: pulumi.Output<number>;
  declare readonly vlan: pulumi.Output<number>;

  constructor(name: string, args: RobotVswitchArgs, opts?: pulumi.CustomResourceOptions) {
    super(robotVswitchProvider, name, { vswitchId: undefined, ...args }, { ...opts, additionalSecretOutputs: secretCredentials }, 'robot', 'Vswitch');
  }
}
