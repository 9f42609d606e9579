// A real gateway for integration tests: its own database in the runner's PostgreSQL cluster, the
// runner's Redis (or a private one), and the contract-faithful fake agentkernel as upstream.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { request as httpRequest } from 'node:http';
import { AgentKernel } from 'agentkernel';
import pg from 'pg';
import { loadConfig, type GatewayConfig } from '../../gateway/src/config.js';
import { startGateway, type RunningGateway } from '../../gateway/src/server.js';
import { TierCatalog, DEFAULT_TIERS, type TierFile } from '../../gateway/src/tiers.js';
import type { TierOverrides } from '../../gateway/src/tiers.js';
import { createDatabase } from './postgres-server.js';
import { startFakeAgentkernel, type FakeAgentkernel } from './fake-agentkernel.js';

export interface Harness {
  gateway: RunningGateway;
  upstream: FakeAgentkernel;
  url: string;
  adminToken: string;
  databaseUrl: string;
  /** A pool on the gateway's database, for asserting what it recorded. */
  db: pg.Pool;
  /** Every log line the gateway wrote (JSON), to check what reaches logs. */
  logs: string[];
  createTenant(tier?: string, overrides?: TierOverrides): Promise<{ id: string; apiKey: string; keyId: string; namespace: string; sdk: AgentKernel }>;
  sdk(apiKey: string): AgentKernel;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  fetchAs(apiKey: string | null, method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any; text: string; headers: Headers }>;
  /** Restarts the gateway process-equivalent on the same database (new pools, new app). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  tiers?: TierFile;
  redisUrl?: string | null;
  upstreamLatencyMs?: number;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const databaseUrl = await createDatabase(process.env.TEST_DATABASE_URL!, 'gw');
  const upstreamKey = `upstream-${randomBytes(16).toString('hex')}`;
  const upstream = await startFakeAgentkernel({ apiKey: upstreamKey, latencyMs: opts.upstreamLatencyMs });
  const adminToken = randomBytes(24).toString('hex');
  const redisUrl = opts.redisUrl === null ? undefined : opts.redisUrl ?? process.env.TEST_REDIS_URL;
  const config: GatewayConfig = loadConfig({
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    AGENTKERNEL_URL: upstream.url,
    AGENTKERNEL_API_KEY: upstreamKey,
    GATEWAY_ADMIN_TOKEN: adminToken,
    GATEWAY_PORT: '0',
    GATEWAY_LOG_LEVEL: 'info',
    ...opts.env,
  });
  const tiers = new TierCatalog(opts.tiers ?? DEFAULT_TIERS);
  const logs: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { logs.push(String(chunk)); cb(); } });
  let gateway = await startGateway(config, { tiers, logger: { level: 'debug', stream: sink, redact: ['req.headers.authorization'] } });
  const db = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  const h: Harness = {
    get gateway() { return gateway; },
    upstream, adminToken, databaseUrl, logs, db,
    get url() { return gateway.url; },
    sdk: (apiKey) => new AgentKernel({ baseUrl: gateway.url, apiKey, timeout: 20_000 }),
    async admin(method, path, body) {
      const res = await fetch(gateway.url + path, {
        method, headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    },
    async fetchAs(apiKey, method, path, body, headers = {}) {
      const res = await fetch(gateway.url + path, {
        method,
        headers: { ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json: any;
      try { json = JSON.parse(text); } catch { json = undefined; }
      return { status: res.status, json, text, headers: res.headers };
    },
    async createTenant(tier = 'team', overrides) {
      const r = await h.admin('POST', '/v1/admin/accounts', { name: `t-${randomBytes(3).toString('hex')}`, email: 'ops@example.com', tier, overrides });
      if (r.status !== 201) throw new Error(`create tenant: ${r.status} ${JSON.stringify(r.json)}`);
      const d = r.json.data;
      return { id: d.id, apiKey: d.apiKey, keyId: d.keyId, namespace: d.namespace, sdk: h.sdk(d.apiKey) };
    },
    async restart() {
      await gateway.close();
      gateway = await startGateway({ ...config, port: 0 }, { tiers, logger: { level: 'debug', stream: sink } });
    },
    async close() {
      await db.end();
      await gateway.close();
      await upstream.close();
    },
  };
  return h;
}

/** An HTTP request sent byte for byte (no URL normalisation), for path-traversal tests. */
export function rawRequest(baseUrl: string, apiKey: string, method: string, path: string): Promise<{ status: number; json: any }> {
  const u = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, method, path, headers: { authorization: `Bearer ${apiKey}` } }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end();
  });
}
