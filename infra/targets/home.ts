// Target "home": an existing machine reachable over SSH; nothing is created, only configured.
import * as pulumi from '@pulumi/pulumi';
import type { StackConfig } from '../stack-config.js';
import { DIAL, type HostTarget } from './host-target.js';

export function homeTarget(config: StackConfig): HostTarget {
  const home = config.home!;
  const user = home.user ?? 'root';
  const port = home.port ?? config.sshPort;
  return {
    connection: { host: home.host, port, user, privateKey: pulumi.secret(config.secrets.sshPrivateKey!), ...DIAL },
    sshCommand: pulumi.output(`ssh -p ${port} ${user}@${home.host}`),
    publicIpv4: home.publicIp ?? home.host,
    identity: `${home.host}:${port}`,
    after: [],
  };
}
