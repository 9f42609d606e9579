// The domain's address records in a Hetzner DNS zone, managed through the Cloud API (hcloud's
// ZoneRrset: one resource owns the whole record set, so a stale address cannot linger).
import * as pulumi from '@pulumi/pulumi';
import * as hcloud from '@pulumi/hcloud';
import { DNS_DEFAULT_TTL, type StackConfig } from './stack-config.js';

export function domainRecords(config: StackConfig, ipv4: pulumi.Input<string>, ipv6?: pulumi.Input<string>): hcloud.ZoneRrset[] {
  const dns = config.dns!;
  const name = config.domain === dns.zone ? '@' : config.domain.slice(0, -(dns.zone.length + 1));
  const ttl = dns.ttl ?? DNS_DEFAULT_TTL;
  const records = [new hcloud.ZoneRrset('dns-a', { zone: dns.zone, name, type: 'A', ttl, records: [{ value: ipv4 }] })];
  if (ipv6) records.push(new hcloud.ZoneRrset('dns-aaaa', { zone: dns.zone, name, type: 'AAAA', ttl, records: [{ value: ipv6 }] }));
  return records;
}
