// Target "hetzner": an adopted dedicated server (Robot webservice), optionally reinstalled with
// installimage and attached to a vSwitch. Native KVM, so agentkernel can use Firecracker.
import * as pulumi from '@pulumi/pulumi';
import { renderUnit } from '../../provisioning/templates/systemd-units.js';
import { RobotServer, RobotVswitch } from '../robot/robot-resources.js';
import { ROBOT_URL } from '../robot/robot-api.js';
import { publicKeyOf } from '../ssh-key.js';
import type { StackConfig } from '../stack-config.js';
import { hostPrepCommand } from './host-prep.js';
import { DIAL, type HostTarget } from './host-target.js';

export function hetznerTarget(config: StackConfig, robotUrl = ROBOT_URL): HostTarget {
  const h = config.hetzner!;
  const privateKey = pulumi.secret(config.secrets.sshPrivateKey!);
  const credentials = { robotUrl, robotUser: pulumi.secret(config.secrets.robotUser!), robotPassword: pulumi.secret(config.secrets.robotPassword!) };
  const ii = h.installimage;
  const server = new RobotServer('hetzner-server', {
    ...credentials,
    serverNumber: h.serverNumber,
    serverIp: h.serverIp,
    ...(ii
      ? {
          install: {
            generation: ii.generation ?? 0,
            hostname: ii.hostname ?? config.domain.split('.')[0],
            drives: ii.drives ?? [],
            raidLevel: ii.raidLevel ?? 1,
            sshPublicKey: publicKeyOf(config.secrets.sshPrivateKey!, 'agentkernel-saas:sshPrivateKey'),
          },
          sshPrivateKey: privateKey,
        }
      : {}),
  });
  const connection = { host: server.serverIp, port: config.sshPort, user: 'root', privateKey, ...DIAL };
  const after: pulumi.Resource[] = [server];
  if (h.vswitch) {
    const vswitch = new RobotVswitch('hetzner-vswitch', { ...credentials, name: h.vswitch.name, vlan: h.vswitch.vlan, serverIp: server.serverIp }, { dependsOn: [server] });
    after.push(hostPrepCommand('vswitch', vswitchInterface(h.vswitch.vlan, h.vswitch.address), connection, { dependsOn: [server, vswitch] }));
  }
  return {
    connection,
    sshCommand: pulumi.interpolate`ssh -p ${config.sshPort} root@${server.serverIp}`,
    publicIpv4: server.serverIp,
    identity: pulumi.interpolate`robot/${server.serverNumber}/install-${server.installedGeneration}`,
    after,
    monthlyCostEur: pulumi.output(h.monthlyPriceEur),
  };
}

// A vSwitch is a tagged VLAN on the main uplink with MTU 1400 (Hetzner's requirement).
function vswitchInterface(vlan: number, address: string) {
  const dev = `vlan${vlan}`;
  const up = `/usr/local/sbin/agentkernel-saas-vswitch-up`;
  const unit = '/etc/systemd/system/agentkernel-saas-vswitch.service';
  return {
    name: `vSwitch VLAN ${vlan}`,
    files: [
      {
        path: up,
        mode: '0755',
        owner: 'root:root',
        content: `#!/bin/sh
set -eu
uplink=$(ip -o route show default | awk '{ print $5; exit }')
ip link show ${dev} >/dev/null 2>&1 || ip link add link "$uplink" name ${dev} type vlan id ${vlan}
ip link set ${dev} mtu 1400 up
ip addr replace ${address} dev ${dev}
`,
      },
      {
        path: unit,
        mode: '0644',
        owner: 'root:root',
        content: renderUnit({
          comment: `Hetzner vSwitch: VLAN ${vlan} on the main uplink, address ${address}.`,
          Unit: { After: 'network-online.target', Wants: 'network-online.target' },
          Service: { Type: 'oneshot', RemainAfterExit: true, ExecStart: up, ExecStop: `/sbin/ip link delete ${dev}` },
          Install: { WantedBy: 'multi-user.target' },
        }),
      },
    ],
    body: `
aks_on_change vswitch ${up} ${unit} -- sh -c 'systemctl daemon-reload && systemctl restart agentkernel-saas-vswitch.service'
aks_enable_now agentkernel-saas-vswitch.service`,
  };
}
