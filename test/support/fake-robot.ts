// A local fake of the Hetzner Robot webservice, following its documented contract for the calls the
// Robot dynamic providers make: HTTP basic auth (401 UNAUTHORIZED), form-encoded POST bodies, JSON
// answers wrapped by object name ({"server": {...}}), errors as {"error":{"status","code","message"}},
// rate limits as 403 RATE_LIMIT_EXCEEDED with max_request/interval, and "no output" answers for
// vSwitch server changes. Knobs let a test inject rate limits, hangs and garbage.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeServer {
  number: number;
  ip: string;
  name: string;
  product: string;
  dc: string;
}

interface RobotKey { name: string; fingerprint: string; type: string; size: number; data: string }
interface Vswitch { id: number; name: string; vlan: number; cancelled: boolean; servers: string[] }

export interface RecordedRequest { method: string; path: string; form: [string, string][]; authorized: boolean }

export class FakeRobot {
  readonly requests: RecordedRequest[] = [];
  readonly servers = new Map<number, FakeServer>();
  readonly keys = new Map<string, RobotKey>();
  readonly rescue = new Map<number, { active: boolean; keys: string[] }>();
  readonly resets: { server: number; type: string }[] = [];
  readonly vswitches: Vswitch[] = [];
  /** The next N requests get RATE_LIMIT_EXCEEDED. */
  rateLimitNext = 0;
  /** The next request never gets an answer. */
  hangNext = false;
  /** The next request gets an HTML error page (as a proxy in front of the API would send). */
  garbageNext = false;
  private server = createServer((req, res) => void this.handle(req, res));
  private nextVswitchId = 4000;
  url = '';

  constructor(readonly user = 'robot-user', readonly password = 'robot-password') {}

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  addServer(s: FakeServer): void {
    this.servers.set(s.number, s);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form = [...new URLSearchParams(Buffer.concat(chunks).toString())];
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const expected = `Basic ${Buffer.from(`${this.user}:${this.password}`).toString('base64')}`;
    const authorized = req.headers.authorization === expected;
    this.requests.push({ method: req.method ?? '', path, form, authorized });
    if (this.hangNext) {
      this.hangNext = false;
      return; // never answered
    }
    if (this.garbageNext) {
      this.garbageNext = false;
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>Bad Gateway</body></html>');
      return;
    }
    if (!authorized) return this.error(res, 401, 'UNAUTHORIZED', 'Unauthorized');
    if (this.rateLimitNext > 0) {
      this.rateLimitNext--;
      return this.send(res, 403, { error: { status: 403, code: 'RATE_LIMIT_EXCEEDED', message: 'Rate limit exceeded', max_request: 200, interval: 3600 } });
    }
    this.route(req.method ?? 'GET', path, form, res);
  }

  private route(method: string, path: string, form: [string, string][], res: ServerResponse): void {
    const field = (name: string) => form.find(([k]) => k === name)?.[1];
    const all = (name: string) => form.filter(([k]) => k === name).map(([, v]) => v);
    let m: RegExpExecArray | null;
    if ((m = /^\/server\/(\d+)$/.exec(path)) && method === 'GET') {
      const s = this.servers.get(Number(m[1]));
      if (!s) return this.error(res, 404, 'SERVER_NOT_FOUND', 'Server not found');
      return this.send(res, 200, {
        server: {
          server_ip: s.ip, server_ipv6_net: '2a01:4f8:0:0::', server_number: s.number, server_name: s.name, product: s.product, dc: s.dc,
          traffic: 'unlimited', status: 'ready', cancelled: false, paid_until: '2030-01-01', ip: [s.ip], subnet: [],
          reset: true, rescue: true, vnc: true, windows: false, plesk: false, cpanel: false, wol: true, hot_swap: false, linked_storagebox: null,
        },
      });
    }
    if ((m = /^\/key\/([0-9a-f:]+)$/.exec(path)) && method === 'GET') {
      const k = this.keys.get(m[1]);
      return k ? this.send(res, 200, { key: k }) : this.error(res, 404, 'NOT_FOUND', 'Key not found');
    }
    if (path === '/key' && method === 'POST') {
      const data = field('data');
      const name = field('name');
      if (!data || !name) return this.send(res, 400, { error: { status: 400, code: 'INVALID_INPUT', message: 'invalid input', missing: [!data && 'data', !name && 'name'].filter(Boolean), invalid: null } });
      const fingerprint = md5FingerprintOf(data);
      if (this.keys.has(fingerprint)) return this.error(res, 409, 'KEY_ALREADY_EXISTS', 'The key already exists');
      const key = { name, fingerprint, type: data.split(' ')[0] === 'ssh-ed25519' ? 'ED25519' : 'RSA', size: 256, data };
      this.keys.set(fingerprint, key);
      return this.send(res, 201, { key });
    }
    if ((m = /^\/boot\/(\d+)\/rescue$/.exec(path))) {
      const s = this.servers.get(Number(m[1]));
      if (!s) return this.error(res, 404, 'SERVER_NOT_FOUND', 'Server not found');
      const state = this.rescue.get(s.number) ?? { active: false, keys: [] };
      const body = () => ({
        rescue: {
          server_ip: s.ip, server_ipv6_net: '2a01:4f8:0:0::', server_number: s.number, os: 'linux', arch: 64, active: state.active,
          password: null, authorized_key: state.keys.map((fp) => ({ key: this.keys.get(fp) })), host_key: [], boot_time: null,
        },
      });
      if (method === 'POST') {
        if (state.active) return this.error(res, 409, 'BOOT_ALREADY_ACTIVE', 'Another boot option is already active');
        if (field('os') !== 'linux' && field('os') !== 'vkvm') return this.send(res, 400, { error: { status: 400, code: 'INVALID_INPUT', message: 'invalid input', missing: null, invalid: ['os'] } });
        const keys = all('authorized_key[]');
        if (keys.some((fp) => !this.keys.has(fp))) return this.send(res, 400, { error: { status: 400, code: 'INVALID_INPUT', message: 'invalid input', missing: null, invalid: ['authorized_key'] } });
        state.active = true;
        state.keys = keys;
        this.rescue.set(s.number, state);
        return this.send(res, 200, body());
      }
      if (method === 'DELETE') {
        state.active = false;
        this.rescue.set(s.number, state);
        return this.send(res, 200, body());
      }
    }
    if ((m = /^\/reset\/(\d+)$/.exec(path)) && method === 'POST') {
      const s = this.servers.get(Number(m[1]));
      if (!s) return this.error(res, 404, 'SERVER_NOT_FOUND', 'Server not found');
      const type = field('type') ?? '';
      if (!['sw', 'hw', 'man', 'power', 'power_long'].includes(type)) return this.send(res, 400, { error: { status: 400, code: 'INVALID_INPUT', message: 'invalid input', missing: null, invalid: ['type'] } });
      this.resets.push({ server: s.number, type });
      return this.send(res, 200, { reset: { server_ip: s.ip, server_ipv6_net: '2a01:4f8:0:0::', server_number: s.number, type } });
    }
    if (path === '/vswitch' && method === 'GET') {
      return this.send(res, 200, this.vswitches.map(({ id, name, vlan, cancelled }) => ({ id, name, vlan, cancelled })));
    }
    if (path === '/vswitch' && method === 'POST') {
      const vlan = Number(field('vlan'));
      if (!field('name') || !(vlan >= 4000 && vlan <= 4091)) return this.send(res, 400, { error: { status: 400, code: 'INVALID_INPUT', message: 'invalid input', missing: null, invalid: ['vlan'] } });
      const v = { id: this.nextVswitchId++, name: field('name')!, vlan, cancelled: false, servers: [] };
      this.vswitches.push(v);
      return this.send(res, 201, this.vswitchBody(v));
    }
    if ((m = /^\/vswitch\/(\d+)(\/server)?$/.exec(path))) {
      const v = this.vswitches.find((x) => x.id === Number(m![1]));
      if (!v) return this.error(res, 404, 'NOT_FOUND', 'vSwitch not found');
      if (!m[2] && method === 'GET') return this.send(res, 200, this.vswitchBody(v));
      const ips = all('server[]');
      if (m[2] && method === 'POST') {
        for (const ip of ips) if (!v.servers.includes(ip)) v.servers.push(ip);
        res.writeHead(201).end(); // documented: no output
        return;
      }
      if (m[2] && method === 'DELETE') {
        if (!ips.every((ip) => v.servers.includes(ip))) return this.error(res, 404, 'SERVER_NOT_FOUND', 'Server not in vSwitch');
        v.servers = v.servers.filter((ip) => !ips.includes(ip));
        res.writeHead(200).end();
        return;
      }
    }
    this.error(res, 404, 'NOT_FOUND', `No route ${method} ${path}`);
  }

  private vswitchBody(v: Vswitch) {
    return {
      id: v.id, name: v.name, vlan: v.vlan, cancelled: v.cancelled,
      server: v.servers.map((ip) => ({ server_ip: ip, server_ipv6_net: '2a01:4f8:0:0::', server_number: [...this.servers.values()].find((s) => s.ip === ip)?.number ?? 0, status: 'ready' })),
      subnet: [], cloud_network: [],
    };
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    this.send(res, status, { error: { status, code, message } });
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
  }
}

function md5FingerprintOf(openSshPublicKey: string): string {
  const hex = createHash('md5').update(Buffer.from(openSshPublicKey.trim().split(/\s+/)[1] ?? '', 'base64')).digest('hex');
  return hex.match(/../g)!.join(':');
}
