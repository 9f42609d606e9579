// The Caddyfile: one site for the stack's domain, TLS (ACME or Caddy's internal CA), reverse proxy to
// the gateway on loopback. Caddy redirects HTTP to HTTPS by itself for a site with a host name.

export interface CaddyfileInput {
  domain: string;
  tls: 'acme' | 'internal';
  acmeEmail?: string;
  gatewayPort: number;
}

export function renderCaddyfile(i: CaddyfileInput): string {
  const global: string[] = [];
  // The ACME account e-mail gets expiry warnings; only meaningful with public certificates.
  if (i.tls === 'acme' && i.acmeEmail) global.push(`\temail ${i.acmeEmail}`);
  const lines = [
    '# Managed by agentkernel-saas provisioning: local edits are overwritten.',
    ...(global.length ? ['{', ...global, '}', ''] : []),
    `${i.domain} {`,
    // internal: a LAN-only home box or a test host, no public DNS; clients trust Caddy's local root CA.
    ...(i.tls === 'internal' ? ['\ttls internal'] : []),
    // No `encode`: compressing text/event-stream would hold SSE events back; JSON replies are small.
    `\treverse_proxy 127.0.0.1:${i.gatewayPort} {`,
    // -1 = flush every write at once: /run/stream (SSE) must reach the client unbuffered.
    '\t\tflush_interval -1',
    '\t}',
    '\tlog {',
    '\t\toutput stdout',
    '\t}',
    '}',
  ];
  return `${lines.join('\n')}\n`;
}
