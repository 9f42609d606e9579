// Target "hetzner-cloud": a new Cloud server (dedicated vCPUs by default) with its own SSH key, a
// firewall that lets in only SSH, HTTP and HTTPS, a primary IPv4 that outlives the server, reverse
// DNS, and optionally a volume that holds PostgreSQL's data. No KVM: agentkernel's container backend.
import * as pulumi from '@pulumi/pulumi';
import * as hcloud from '@pulumi/hcloud';
import { publicKeyOf } from '../ssh-key.js';
import { HETZNER_CLOUD_DEFAULTS, type StackConfig } from '../stack-config.js';
import { hostPrepCommand } from './host-prep.js';
import { DIAL, type HostTarget } from './host-target.js';

const ANYWHERE = ['0.0.0.0/0', '::/0'];
const POSTGRES_DATA = '/var/lib/postgresql';

/** The only inbound traffic the server accepts (the plan's nftables rules say the same on the host). */
export function firewallRules(sshPort: number): hcloud.types.input.FirewallRule[] {
  return [
    { description: 'SSH', direction: 'in', protocol: 'tcp', port: String(sshPort), sourceIps: ANYWHERE },
    { description: 'HTTP (ACME, redirect to HTTPS)', direction: 'in', protocol: 'tcp', port: '80', sourceIps: ANYWHERE },
    { description: 'HTTPS', direction: 'in', protocol: 'tcp', port: '443', sourceIps: ANYWHERE },
  ];
}

export function hetznerCloudTarget(config: StackConfig): HostTarget {
  const cloud = config.hetznerCloud!;
  const serverType = cloud.serverType ?? HETZNER_CLOUD_DEFAULTS.serverType;
  const location = cloud.location ?? HETZNER_CLOUD_DEFAULTS.location;
  const labels = { 'managed-by': 'agentkernel-saas', stack: pulumi.getStack() };
  const sshKey = new hcloud.SshKey('ssh-key', { publicKey: publicKeyOf(config.secrets.sshPrivateKey!, 'agentkernel-saas:sshPrivateKey'), labels });
  const firewall = new hcloud.Firewall('firewall', { rules: firewallRules(config.sshPort), labels });
  const ipv4 = new hcloud.PrimaryIp('ipv4', { type: 'ipv4', assigneeType: 'server', location, autoDelete: false, labels });
  const server = new hcloud.Server('server', {
    serverType,
    image: cloud.image ?? HETZNER_CLOUD_DEFAULTS.image,
    location,
    sshKeys: [sshKey.id],
    firewallIds: [firewall.id.apply(Number)],
    publicNets: [{ ipv4Enabled: true, ipv4: ipv4.id.apply(Number), ipv6Enabled: true }],
    labels,
  });
  const rdns = [
    new hcloud.Rdns('rdns-ipv4', { primaryIpId: ipv4.id.apply(Number), ipAddress: ipv4.ipAddress, dnsPtr: config.domain }),
    new hcloud.Rdns('rdns-ipv6', { serverId: server.id.apply(Number), ipAddress: server.ipv6Address, dnsPtr: config.domain }),
  ];
  const connection = { host: ipv4.ipAddress, port: config.sshPort, user: 'root', privateKey: pulumi.secret(config.secrets.sshPrivateKey!), ...DIAL };
  const after: pulumi.Resource[] = [server, ...rdns];
  let monthly = cloud.prices.serverTypes[serverType] + cloud.prices.primaryIpv4;
  if (cloud.postgresVolumeGb) {
    const volume = new hcloud.Volume('postgres-data', { size: cloud.postgresVolumeGb, serverId: server.id.apply(Number), format: 'ext4', automount: false, labels });
    after.push(hostPrepCommand('postgres-volume', postgresVolumeMount(volume), connection, { dependsOn: [server, volume] }));
    monthly += cloud.postgresVolumeGb * cloud.prices.volumePerGb;
  }
  return {
    connection,
    sshCommand: pulumi.interpolate`ssh root@${ipv4.ipAddress}`,
    publicIpv4: ipv4.ipAddress,
    publicIpv6: server.ipv6Address,
    identity: pulumi.interpolate`hcloud/${server.id}`,
    after,
    monthlyCostEur: pulumi.output(Math.round(monthly * 100) / 100),
  };
}

// Mounted at PostgreSQL's data root before the plan installs PostgreSQL, so the cluster is created
// on the volume; by-id device names are stable across reboots.
function postgresVolumeMount(volume: hcloud.Volume) {
  return volume.id.apply((id) => ({
    name: 'PostgreSQL data volume',
    files: [],
    body: `
dev=/dev/disk/by-id/scsi-0HC_Volume_${id}
for _ in $(seq 60); do [ -e "$dev" ] && break; sleep 1; done
[ -e "$dev" ] || { aks_log "volume ${id} is not attached ($dev missing)"; exit 1; }
install -d -m 0755 ${POSTGRES_DATA}
if ! grep -q " ${POSTGRES_DATA} " /etc/fstab; then echo "$dev ${POSTGRES_DATA} ext4 discard,nofail,defaults 0 2" >> /etc/fstab; aks_changed; fi
mountpoint -q ${POSTGRES_DATA} || { mount ${POSTGRES_DATA}; aks_changed; }`,
  }));
}
