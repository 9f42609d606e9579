// The inbound firewall as an nftables ruleset of our own table: only SSH (configurable port), 80 and
// 443 from outside. Outbound and forwarded traffic (podman's sandboxes) is left to other tables.
import { HOST } from '../host-layout.js';

export interface FirewallInput { sshPort: number }

export function renderFirewall(i: FirewallInput): string {
  const t = `inet ${HOST.firewallTable}`;
  const ports = [...new Set([i.sshPort, 80, 443])].sort((a, b) => a - b).join(', ');
  return `#!/usr/sbin/nft -f
# Managed by agentkernel-saas provisioning: local edits are overwritten.
# Declare-then-delete makes loading idempotent without touching any other table.
table ${t}
delete table ${t}
table ${t} {
\tchain input {
\t\ttype filter hook input priority filter; policy drop;
\t\tiif "lo" accept
\t\tct state established,related accept
\t\tct state invalid drop
\t\t# ICMP keeps path-MTU discovery and IPv6 neighbour discovery working.
\t\tmeta l4proto { icmp, ipv6-icmp } accept
\t\t# Sandboxes on podman bridges may ask the host's DNS forwarder (aardvark-dns).
\t\tiifname "podman*" meta l4proto { tcp, udp } th dport 53 accept
\t\ttcp dport { ${ports} } accept
\t}
}
`;
}
