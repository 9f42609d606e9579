// Bad input on the tenant routes: each is a 4xx with the envelope and a message that says what is
// wrong, nothing reaches the upstream, and nothing changes in PostgreSQL (quota, ledger, sandboxes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from 'agentkernel';
import { startHarness, type Harness } from '../support/gateway-harness.js';

const BODY_LIMIT = 4096;
let h: Harness;
let tenant: Awaited<ReturnType<Harness['createTenant']>>;

before(async () => {
  h = await startHarness({ env: { GATEWAY_BODY_LIMIT_BYTES: String(BODY_LIMIT) } });
  tenant = await h.createTenant('team');
  await tenant.sdk.createSandbox('box');
  await tenant.sdk.run(['echo', 'warm-up']);
});
after(async () => {
  await h?.close();
});

/** Everything a request could have changed: upstream traffic and the metering/ownership tables. */
async function snapshot() {
  const q = async (sql: string) => JSON.stringify((await h.db.query(sql)).rows);
  return {
    upstream: h.upstream.requests.length,
    quota: await q('SELECT account_id, period, used FROM quota_counters ORDER BY 1, 2'),
    ledger: await q('SELECT id, outcome, billable FROM usage_events ORDER BY id'),
    sandboxes: await q('SELECT id, name, expires_at, deleted_at FROM sandboxes ORDER BY id'),
    keys: await q('SELECT id, revoked_at FROM api_keys ORDER BY id'),
  };
}

interface Case {
  what: string;
  method: string;
  path: string;
  /** A string is sent as is (with Content-Type: application/json unless `headers` says otherwise). */
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  error: RegExp;
}

const big = 'x'.repeat(BODY_LIMIT + 1);
const CASES: Case[] = [
  // Malformed JSON.
  { what: 'truncated JSON', method: 'POST', path: '/run', body: '{"command": ["echo"', status: 400, error: /^request body is not valid JSON$/ },
  { what: 'not JSON at all', method: 'POST', path: '/run', body: 'echo hi', status: 400, error: /not valid JSON/ },
  { what: 'empty JSON body where one is needed', method: 'POST', path: '/batch/run', body: '', status: 400, error: /^a JSON request body is required$/ },
  { what: 'whitespace-only JSON body', method: 'POST', path: '/run', body: '  \n', status: 400, error: /not valid JSON|body is required/ },
  { what: 'JSON with a trailing comma', method: 'POST', path: '/sandboxes', body: '{"name": "x",}', status: 400, error: /not valid JSON/ },
  { what: 'malformed JSON on exec', method: 'POST', path: '/sandboxes/box/exec', body: '{command:[echo]}', status: 400, error: /not valid JSON/ },
  { what: 'a non-JSON content type', method: 'POST', path: '/run', body: 'command=echo', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, error: /Content-Type: application\/json/ },
  { what: 'a JSON body sent as text/plain', method: 'POST', path: '/run', body: '{"command":["echo"]}', headers: { 'content-type': 'text/plain' }, status: 415, error: /Content-Type: application\/json/ },
  { what: 'prototype poisoning', method: 'POST', path: '/run', body: '{"command":["echo"],"__proto__":{"fast":true}}', status: 400, error: /not valid JSON/ },
  { what: 'constructor poisoning', method: 'POST', path: '/sandboxes', body: '{"name":"y","constructor":{"prototype":{"x":1}}}', status: 400, error: /not valid JSON/ },
  // Wrong types.
  { what: 'command as a string', method: 'POST', path: '/run', body: { command: 'echo hi' }, status: 400, error: /command.*array/ },
  { what: 'command with a number', method: 'POST', path: '/run', body: { command: ['echo', 1] }, status: 400, error: /command\/1.*string/ },
  { what: 'fast as a string', method: 'POST', path: '/run', body: { command: ['echo'], fast: 'yes' }, status: 400, error: /fast.*boolean/ },
  { what: 'profile as a number', method: 'POST', path: '/run/stream', body: { command: ['echo'], profile: 5 }, status: 400, error: /profile.*string/ },
  { what: 'body as an array', method: 'POST', path: '/run', body: [['echo']], status: 400, error: /body.*object/ },
  { what: 'batch commands as an object', method: 'POST', path: '/batch/run', body: { commands: { command: ['echo'] } }, status: 400, error: /commands.*array/ },
  { what: 'memory_mb as a string', method: 'POST', path: '/sandboxes', body: { name: 'y', memory_mb: '512' }, status: 400, error: /memory_mb.*integer/ },
  { what: 'vcpus fractional', method: 'POST', path: '/sandboxes', body: { name: 'y', vcpus: 1.5 }, status: 400, error: /vcpus.*integer/ },
  { what: 'memory_mb below the minimum', method: 'POST', path: '/sandboxes', body: { name: 'y', memory_mb: 1 }, status: 400, error: /memory_mb.*>= 64/ },
  { what: 'exec env as a string', method: 'POST', path: '/sandboxes/box/exec', body: { command: ['env'], env: 'A=1' }, status: 400, error: /env.*array/ },
  { what: 'file content as a number', method: 'PUT', path: '/sandboxes/box/files/a.txt', body: { content: 42 }, status: 400, error: /content.*string/ },
  { what: 'unknown file encoding', method: 'PUT', path: '/sandboxes/box/files/a.txt', body: { content: 'x', encoding: 'utf16' }, status: 400, error: /^invalid body: \/encoding must be one of "utf8", "base64"$/ },
  { what: 'extend by a number', method: 'POST', path: '/sandboxes/box/extend', body: { by: 3600 }, status: 400, error: /by.*string/ },
  // Missing fields.
  { what: 'run without command', method: 'POST', path: '/run', body: {}, status: 400, error: /command/ },
  { what: 'stream without command', method: 'POST', path: '/run/stream', body: { image: 'alpine' }, status: 400, error: /command/ },
  { what: 'batch without commands', method: 'POST', path: '/batch/run', body: {}, status: 400, error: /commands/ },
  { what: 'batch entry without command', method: 'POST', path: '/batch/run', body: { commands: [{ command: ['echo'] }, {}] }, status: 400, error: /command/ },
  { what: 'create without name', method: 'POST', path: '/sandboxes', body: { image: 'alpine' }, status: 400, error: /name/ },
  { what: 'exec without command', method: 'POST', path: '/sandboxes/box/exec', body: { workdir: '/' }, status: 400, error: /command/ },
  { what: 'file write without content', method: 'PUT', path: '/sandboxes/box/files/a.txt', body: {}, status: 400, error: /content/ },
  { what: 'snapshot without name', method: 'POST', path: '/snapshots', body: { sandbox: 'box' }, status: 400, error: /name/ },
  // Empty commands.
  { what: 'empty command on run', method: 'POST', path: '/run', body: { command: [] }, status: 400, error: /command.*fewer than 1/ },
  { what: 'empty command on stream', method: 'POST', path: '/run/stream', body: { command: [] }, status: 400, error: /command.*fewer than 1/ },
  { what: 'empty command on exec', method: 'POST', path: '/sandboxes/box/exec', body: { command: [] }, status: 400, error: /command.*fewer than 1/ },
  { what: 'empty command in a batch', method: 'POST', path: '/batch/run', body: { commands: [{ command: ['echo'] }, { command: [] }] }, status: 400, error: /command.*fewer than 1/ },
  { what: 'batch over 100 commands', method: 'POST', path: '/batch/run', body: { commands: Array.from({ length: 101 }, () => ({ command: ['a'] })) }, status: 400, error: /commands.*more than 100/ },
  { what: 'empty batch', method: 'POST', path: '/batch/run', body: { commands: [] }, status: 400, error: /commands.*fewer than 1/ },
  // Unknown profile.
  { what: 'unknown profile on run', method: 'POST', path: '/run', body: { command: ['echo'], profile: 'root' }, status: 400, error: /unknown profile "root" \(use restrictive or moderate\)/ },
  { what: 'unknown profile on stream', method: 'POST', path: '/run/stream', body: { command: ['echo'], profile: 'host' }, status: 400, error: /unknown profile "host"/ },
  { what: 'unknown profile on create', method: 'POST', path: '/sandboxes', body: { name: 'y', profile: 'Moderate' }, status: 400, error: /unknown profile "Moderate"/ },
  // Bodies over the limit.
  { what: 'huge run body', method: 'POST', path: '/run', body: { command: ['echo', big] }, status: 413, error: new RegExp(`larger than ${BODY_LIMIT} bytes`) },
  { what: 'huge batch body', method: 'POST', path: '/batch/run', body: { commands: [{ command: ['echo', big] }] }, status: 413, error: /larger than/ },
  { what: 'huge file write', method: 'PUT', path: '/sandboxes/box/files/big.txt', body: { content: big }, status: 413, error: /larger than/ },
  { what: 'huge create body', method: 'POST', path: '/sandboxes', body: { name: 'y', description: big }, status: 413, error: /larger than/ },
  { what: 'huge invalid JSON', method: 'POST', path: '/run', body: `{${big}`, status: 413, error: /larger than/ },
  // Invalid names, durations and months.
  { what: 'invalid sandbox name', method: 'POST', path: '/sandboxes', body: { name: 'a--b' }, status: 400, error: /may not contain "--"/ },
  { what: 'sandbox name over 54', method: 'POST', path: '/sandboxes', body: { name: 'n'.repeat(55) }, status: 400, error: /1-54 characters/ },
  { what: 'bad extend duration', method: 'POST', path: '/sandboxes/box/extend', body: { by: 'forever' }, status: 400, error: /invalid duration "forever"/ },
  { what: 'usage month without leading zero', method: 'GET', path: '/v1/account/usage?month=2026-1', status: 400, error: /month must look like YYYY-MM \(got "2026-1"\)/ },
  { what: 'usage month 13', method: 'GET', path: '/v1/account/usage?month=2026-13', status: 400, error: /YYYY-MM/ },
  { what: 'usage month as a date', method: 'GET', path: '/v1/account/usage?month=2026-01-01', status: 400, error: /month/ },
  { what: 'usage month words', method: 'GET', path: '/v1/account/usage?month=last', status: 400, error: /YYYY-MM/ },
];

test('bad input on tenant routes: a 4xx envelope with a clear message, nothing forwarded, nothing changed', async () => {
  const before = await snapshot();
  for (const c of CASES) {
    const headers = c.headers ?? (c.body !== undefined ? { 'content-type': 'application/json' } : {});
    const body = typeof c.body === 'string' ? c.body : c.body === undefined ? undefined : JSON.stringify(c.body);
    const res = await fetch(h.url + c.path, { method: c.method, headers: { authorization: `Bearer ${tenant.apiKey}`, ...headers }, body });
    const text = await res.text();
    assert.equal(res.status, c.status, `${c.what}: ${res.status} ${text}`);
    let json: any;
    assert.doesNotThrow(() => { json = JSON.parse(text); }, `${c.what}: envelope is JSON`);
    assert.deepEqual(Object.keys(json).sort(), ['error', 'success'], c.what);
    assert.equal(json.success, false, c.what);
    assert.match(json.error, c.error, `${c.what}: "${json.error}"`);
    assert.ok(json.error.length < 300 && !json.error.includes(tenant.namespace), `${c.what}: short message without upstream names`);
  }
  assert.deepEqual(await snapshot(), before);
});

test('the official SDK sees bad input as a ValidationError and nothing is metered', async () => {
  const before = await snapshot();
  await assert.rejects(tenant.sdk.run([]), ValidationError);
  await assert.rejects(tenant.sdk.run(['echo'], { profile: 'unheard-of' as any }), ValidationError);
  await assert.rejects(tenant.sdk.execInSandbox('box', []), ValidationError);
  await assert.rejects(tenant.sdk.createSandbox('bad__name'), ValidationError);
  assert.deepEqual(await snapshot(), before);
});

test('a body over the limit sent without Content-Length (chunked) is refused too', async () => {
  const before = await snapshot();
  const { Readable } = await import('node:stream');
  const chunks = [Buffer.from('{"command":["echo","'), Buffer.from(big), Buffer.from('"]}')];
  const res = await fetch(h.url + '/run', {
    method: 'POST', headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' },
    body: Readable.toWeb(Readable.from(chunks)) as any, duplex: 'half',
  } as RequestInit);
  assert.equal(res.status, 413);
  assert.deepEqual(await res.json(), { success: false, error: `request body is larger than ${BODY_LIMIT} bytes` });
  assert.deepEqual(await snapshot(), before);
});

test('a body just under the limit is accepted (the limit is not off by much)', async () => {
  const arg = 'y'.repeat(BODY_LIMIT - 100);
  const r = await h.fetchAs(tenant.apiKey, 'POST', '/run', { command: ['echo', arg] });
  assert.equal(r.status, 200, r.text.slice(0, 200));
  assert.equal(r.json.data.output, `${arg}\n`);
});

test('fields the gateway does not know are never forwarded upstream (only checked fields pass)', async () => {
  const extras = { privileged: true, mounts: ['/:/host'], user: 'root', network: 'host' };
  const cases: [string, string, Record<string, unknown>, string[]][] = [
    ['POST', '/run', { command: ['echo'], ...extras }, ['command', 'image', 'profile', 'fast']],
    ['POST', '/sandboxes/box/exec', { command: ['echo'], workdir: '/', ...extras }, ['command', 'env', 'workdir', 'sudo']],
    ['POST', '/sandboxes/box/exec/detach', { command: ['sleep', '0'], ...extras }, ['command', 'env', 'workdir', 'sudo']],
    ['PUT', '/sandboxes/box/files/extra.txt', { content: 'x', ...extras }, ['content', 'encoding']],
    ['POST', '/sandboxes/box/files', { files: { '/tmp/extra2.txt': 'y' }, ...extras }, ['files']],
    ['POST', '/sandboxes', { name: 'extra', ...extras }, ['name', 'image', 'vcpus', 'memory_mb', 'profile', 'source_url', 'source_ref', 'init_script', 'description', 'labels']],
  ];
  for (const [method, path, body, allowed] of cases) {
    const n = h.upstream.requests.length;
    const r = await h.fetchAs(tenant.apiKey, method, path, body);
    assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
    const upstreamPath = path.replace('/sandboxes/box', `/sandboxes/${tenant.namespace}-box`);
    const sent = h.upstream.requests.slice(n).find((x) => x.method === method && x.path === upstreamPath);
    assert.ok(sent, `${method} ${path} was forwarded`);
    const keys = Object.keys(sent.body as object);
    assert.deepEqual(keys.filter((k) => !allowed.includes(k)), [], `${method} ${path} forwarded ${keys.join(', ')}`);
  }
  await tenant.sdk.removeSandbox('extra');
});

test('an empty body sent with Content-Type: application/json counts as no body, as upstream treats it', async () => {
  // Clients with a default JSON content type (curl -H, HTTP client sessions) send it on bodiless calls too.
  const json = { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' };
  await tenant.sdk.createSandbox('bodiless');
  for (const [method, path] of [['POST', '/sandboxes/bodiless/stop'], ['POST', '/sandboxes/bodiless/start'], ['POST', '/sandboxes/bodiless/extend'], ['DELETE', '/sandboxes/bodiless']]) {
    const r = await fetch(h.url + path, { method, headers: json });
    assert.equal(r.status, 200, `${method} ${path}: ${await r.text()}`);
  }
  await tenant.sdk.createSandbox('bodiless');
  const bare = await fetch(`${h.url}/sandboxes/bodiless/extend`, { method: 'POST', headers: { authorization: `Bearer ${tenant.apiKey}` } });
  assert.equal(bare.status, 200, 'extend without any body defaults to 1h, as upstream');
  await tenant.sdk.removeSandbox('bodiless');
  const admin = await fetch(`${h.url}/v1/admin/accounts/${tenant.id}/activate`, { method: 'POST', headers: { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' } });
  assert.equal(admin.status, 200);
});
