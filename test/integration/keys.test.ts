// API keys: format, hash-only storage, immediate revocation, rotation, last-used time; and the
// upstream key, tenant keys and Authorization headers never showing up in responses or logs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { AuthError } from 'agentkernel';
import { startHarness, type Harness } from '../support/gateway-harness.js';
import { until } from '../support/wait.js';

let h: Harness;
before(async () => {
  // Debug level turns on fastify's per-request log lines, the ones most likely to carry headers.
  h = await startHarness({ env: { GATEWAY_UPSTREAM_TIMEOUT_MS: '500', GATEWAY_LOG_LEVEL: 'debug' } });
});
after(async () => { await h?.close(); });

const sha256 = (s: string) => createHash('sha256').update(s).digest();

test('keys are aks_ + 32 random bytes (base64url), all different', async () => {
  const keys = new Set<string>();
  const t = await h.createTenant('team');
  keys.add(t.apiKey);
  for (let i = 0; i < 20; i++) keys.add((await h.admin('POST', `/v1/admin/accounts/${t.id}/keys`)).json.data.apiKey);
  assert.equal(keys.size, 21);
  for (const k of keys) {
    assert.match(k, /^aks_[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(k.slice(4), 'base64url').length, 32);
  }
});

test('the database holds only the SHA-256 of each key, never the key or its secret part', async () => {
  const t = await h.createTenant('team');
  const k2 = (await h.admin('POST', `/v1/admin/accounts/${t.id}/keys`)).json.data;
  await t.sdk.run(['echo', 'x']);
  const { rows } = await h.db.query('SELECT id, hash, prefix FROM api_keys WHERE account_id = $1 ORDER BY created_at', [t.id]);
  assert.equal(rows.length, 2);
  const byId = new Map(rows.map((r) => [r.id, r]));
  assert.deepEqual(byId.get(t.keyId)!.hash, sha256(t.apiKey));
  assert.deepEqual(byId.get(k2.id)!.hash, sha256(k2.apiKey));
  assert.equal(byId.get(t.keyId)!.prefix, t.apiKey.slice(0, 12), 'only a short visible prefix is kept');
  // Look through every column of every table as text: neither key (nor its secret tail) is stored.
  const { rows: tables } = await h.db.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
  for (const { tablename } of tables) {
    const { rows: all } = await h.db.query(`SELECT row_to_json(t)::text AS j FROM ${tablename} t`);
    for (const { j } of all) {
      for (const key of [t.apiKey, k2.apiKey]) {
        assert.ok(!j.includes(key.slice(12)), `${tablename} holds part of a key`);
        assert.ok(!j.includes(Buffer.from(key).toString('hex')), `${tablename} holds a key in hex`);
      }
    }
  }
});

test('a revoked key is refused on the very next request; a malformed one too, without a lookup', async () => {
  const t = await h.createTenant('team');
  await t.sdk.run(['echo', 'ok']);
  await h.admin('DELETE', `/v1/admin/keys/${t.keyId}`);
  const before = h.upstream.requests.length;
  await assert.rejects(t.sdk.run(['echo', 'no']), AuthError);
  for (const [m, p, b] of [['GET', '/sandboxes'], ['POST', '/run', { command: ['echo'] }], ['GET', '/v1/account'], ['POST', '/v1/account/keys/rotate']] as const) {
    const r = await h.fetchAs(t.apiKey, m, p, b);
    assert.deepEqual([r.status, r.json], [401, { success: false, error: 'invalid API key' }], `${m} ${p}`);
  }
  const variants = [t.apiKey.slice(0, -1), `${t.apiKey}x`, t.apiKey.replace('aks_', 'akx_'), t.apiKey.toUpperCase(), 'aks_' + 'A'.repeat(43), ''];
  for (const k of variants) {
    const r = await h.fetchAs(k || null, 'GET', '/v1/account');
    assert.equal(r.status, 401, k);
    assert.equal(r.json.success, false);
  }
  const noScheme = await h.fetchAs(null, 'GET', '/v1/account', undefined, { authorization: t.apiKey });
  assert.equal(noScheme.status, 401);
  assert.match(noScheme.json.error, /Authorization: Bearer/);
  assert.equal(h.upstream.requests.length, before);
  assert.equal((await h.admin('GET', `/v1/admin/accounts/${t.id}`)).json.data.quota.used, 1, 'refused requests are not metered');
});

test('rotation: a new key at once, the calling key revoked, the account untouched', async () => {
  const t = await h.createTenant('developer');
  await t.sdk.run(['echo', '1']);
  const r = await h.fetchAs(t.apiKey, 'POST', '/v1/account/keys/rotate');
  assert.equal(r.status, 201);
  const fresh = r.json.data;
  assert.match(fresh.apiKey, /^aks_[A-Za-z0-9_-]{43}$/);
  assert.notEqual(fresh.apiKey, t.apiKey);
  assert.equal((await h.fetchAs(t.apiKey, 'GET', '/v1/account')).status, 401, 'old key is dead');
  await assert.rejects(t.sdk.run(['echo', 'old']), AuthError);
  const me = await h.fetchAs(fresh.apiKey, 'GET', '/v1/account');
  assert.equal(me.status, 200);
  assert.equal(me.json.data.id, t.id);
  assert.equal(me.json.data.quota.used, 1, 'usage carries over');
  assert.equal((await h.sdk(fresh.apiKey).run(['echo', 'new'])).output, 'new\n');
  const keys = (await h.fetchAs(fresh.apiKey, 'GET', '/v1/account/keys')).json.data;
  assert.deepEqual(keys.map((k: any) => [k.id, k.revokedAt === null]), [[t.keyId, false], [fresh.id, true]]);
  assert.ok(!JSON.stringify(keys).includes(fresh.apiKey.slice(12)), 'the key list shows no secrets');
});

test('concurrent rotations with one key: exactly one new key, the others refused', async () => {
  // Otherwise a thief racing the owner's rotation would keep a fresh key of their own.
  const t = await h.createTenant('team');
  const results = await Promise.all(Array.from({ length: 8 }, () => h.fetchAs(t.apiKey, 'POST', '/v1/account/keys/rotate')));
  assert.deepEqual(results.map((r) => r.status).sort(), [201, 401, 401, 401, 401, 401, 401, 401], results.map((r) => r.text).join('\n'));
  for (const r of results.filter((x) => x.status === 401)) assert.deepEqual(r.json, { success: false, error: 'invalid API key' });
  const keys = (await h.admin('GET', `/v1/admin/accounts/${t.id}/keys`)).json.data;
  assert.equal(keys.filter((k: any) => k.revokedAt === null).length, 1, 'one live key');
  const fresh = results.find((r) => r.status === 201)!.json.data.apiKey;
  assert.equal((await h.fetchAs(fresh, 'GET', '/v1/account')).status, 200);
});

test('last_used_at is set when a key is used', async () => {
  const t = await h.createTenant('team');
  const listed = async () => (await h.admin('GET', `/v1/admin/accounts/${t.id}/keys`)).json.data[0];
  assert.equal((await listed()).lastUsedAt, null);
  const t0 = Date.now();
  await t.sdk.listSandboxes();
  const used: string = await until('last_used_at', async () => (await listed()).lastUsedAt, 5000);
  assert.ok(Math.abs(new Date(used).getTime() - t0) < 5000, used);
});

test('the upstream key, tenant keys and Authorization headers never appear in responses or logs', async () => {
  const secret = h.upstream.apiKey;
  const a = await h.createTenant('team');
  const capped = await h.createTenant('free', { executionsPerMonth: 1, rateLimitPerMinute: 6 });
  const seen: string[] = [];
  const call = async (key: string | null, m: string, p: string, b?: unknown, hdr?: Record<string, string>) => {
    const r = await h.fetchAs(key, m, p, b, hdr);
    seen.push(`${r.status} ${[...r.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${r.text}`);
    return r;
  };
  // Successes through the SDK.
  await a.sdk.createSandbox('box');
  await a.sdk.execInSandbox('box', ['sh', '-c', 'echo $AGENTKERNEL_API_KEY; env']);
  await a.sdk.writeFile('box', 'f.txt', 'hello');
  await a.sdk.run(['env']);
  const chunks: string[] = [];
  for await (const ev of a.sdk.runStream(['echo', 'streamed'])) chunks.push(JSON.stringify(ev));
  seen.push(chunks.join('\n'));
  // Tenant errors of every kind.
  await call(a.apiKey, 'GET', '/sandboxes/missing');
  await call(a.apiKey, 'GET', '/sandboxes/box/files/nope.txt');
  await call(a.apiKey, 'POST', '/run', '{bad json', { 'content-type': 'application/json' });
  await call(a.apiKey, 'POST', '/run', { command: 'not-a-list' });
  await call(a.apiKey, 'POST', '/run', { command: ['x'], profile: 'permissive' });
  await call(a.apiKey, 'GET', '/orchestrations');
  await call(a.apiKey, 'GET', '/no/such/route');
  await call(null, 'GET', '/sandboxes');
  await call('aks_' + 'x'.repeat(43), 'GET', '/sandboxes');
  await call(secret, 'GET', '/sandboxes', undefined);
  await call(capped.apiKey, 'POST', '/run', { command: ['echo'] });
  await call(capped.apiKey, 'POST', '/run', { command: ['echo'] });
  for (let i = 0; i < 6; i++) await call(capped.apiKey, 'GET', '/v1/account');
  // Upstream failures: 500s, unreachable, too slow.
  await h.upstream.setMode('error500');
  await call(a.apiKey, 'POST', '/run', { command: ['echo'] });
  await call(a.apiKey, 'GET', '/sandboxes/box');
  await h.upstream.setMode('down');
  await call(a.apiKey, 'POST', '/run', { command: ['echo'] });
  await call(a.apiKey, 'POST', '/sandboxes/box/exec', { command: ['echo'] });
  await call(null, 'GET', '/ready');
  await h.upstream.setMode('hang');
  await call(a.apiKey, 'POST', '/run', { command: ['echo'] });
  await call(a.apiKey, 'GET', '/sandboxes');
  await h.upstream.setMode('normal');
  // Admin side.
  await call(null, 'GET', '/metrics', undefined, { authorization: `Bearer ${h.adminToken}` });
  await call(null, 'GET', '/v1/admin/tiers', undefined, { authorization: `Bearer ${h.adminToken}` });
  await call(null, 'GET', `/v1/admin/accounts/${a.id}`, undefined, { authorization: `Bearer ${h.adminToken}` });

  const statuses = seen.map((s) => Number(s.slice(0, 3))).filter(Boolean);
  for (const expected of [400, 401, 403, 404, 429, 500, 502, 504]) assert.ok(statuses.includes(expected), `the run produced a ${expected}`);
  for (const s of seen) assert.ok(!s.includes(secret), `upstream key in a response: ${s.slice(0, 300)}`);
  // The fake really received the upstream key, so its absence above is meaningful.
  assert.ok(h.upstream.requests.every((r) => r.headers.authorization === `Bearer ${secret}`));

  const logs = h.logs.join('');
  assert.ok(h.logs.length > 20, 'debug logging captured request lines');
  assert.ok(logs.includes('"reqId"'), 'the captured lines are the request logs');
  for (const [what, value] of [['upstream key', secret], ['tenant key', a.apiKey], ['capped key', capped.apiKey], ['admin token', h.adminToken]]) {
    assert.ok(!logs.includes(value), `${what} in the logs`);
  }
  assert.ok(!/bearer/i.test(logs), 'an Authorization header reached the logs');
});
