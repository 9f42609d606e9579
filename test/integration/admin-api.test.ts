// The operator API under /v1/admin (accounts, keys, usage), /metrics with real counts, and the
// unauthenticated /health and /ready probes, against a real gateway on real PostgreSQL and Redis.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError } from 'agentkernel';
import { startHarness, type Harness } from '../support/gateway-harness.js';
import { createMetrics } from '../../gateway/src/metrics.js';

let h: Harness;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

const MISSING_ID = '00000000-0000-4000-8000-000000000000';

async function raw(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
  const res = await fetch(h.url + path, { method, headers, body });
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text, headers: res.headers };
}

/** Sums the samples of one Prometheus metric whose labels include all of `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

async function metrics(): Promise<string> {
  const r = await raw('GET', '/metrics', { authorization: `Bearer ${h.adminToken}` });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /text\/plain/);
  return r.text;
}

test('every admin route refuses a missing, wrong or tenant token with a 401 envelope', async () => {
  const tenant = await h.createTenant('team');
  const routes: [string, string, string?][] = [
    ['GET', '/v1/admin/accounts'],
    ['POST', '/v1/admin/accounts', JSON.stringify({ name: 'x', email: 'x@example.com' })],
    ['GET', `/v1/admin/accounts/${tenant.id}`],
    ['PATCH', `/v1/admin/accounts/${tenant.id}`, JSON.stringify({ tier: 'free' })],
    ['POST', `/v1/admin/accounts/${tenant.id}/suspend`],
    ['GET', `/v1/admin/accounts/${tenant.id}/keys`],
    ['POST', `/v1/admin/accounts/${tenant.id}/keys`],
    ['DELETE', `/v1/admin/keys/${tenant.keyId}`],
    ['GET', `/v1/admin/accounts/${tenant.id}/usage`],
    ['GET', '/v1/admin/tiers'],
    ['GET', '/metrics'],
  ];
  const wrong: Record<string, string>[] = [
    {},
    { authorization: `Bearer ${h.adminToken}x` },
    { authorization: `Bearer ${h.adminToken.slice(0, -1)}` },
    { authorization: h.adminToken },
    { authorization: `Basic ${Buffer.from(`admin:${h.adminToken}`).toString('base64')}` },
    { authorization: `Bearer ${tenant.apiKey}` },
  ];
  const countBefore = (await h.admin('GET', '/v1/admin/accounts')).json.data.length;
  for (const [method, path, body] of routes) {
    for (const auth of wrong) {
      const r = await raw(method, path, { ...auth, ...(body ? { 'content-type': 'application/json' } : {}) }, body);
      assert.equal(r.status, 401, `${method} ${path} with ${JSON.stringify(Object.keys(auth))}`);
      assert.deepEqual(r.json, { success: false, error: 'admin token required' });
    }
  }
  assert.equal((await h.admin('GET', '/v1/admin/accounts')).json.data.length, countBefore, 'no account was created');
  assert.equal((await h.admin('GET', `/v1/admin/accounts/${tenant.id}`)).json.data.status, 'active', 'nothing was suspended');
  assert.equal((await h.admin('GET', `/v1/admin/accounts/${tenant.id}/keys`)).json.data.length, 1, 'no key was issued or revoked');
  assert.equal((await h.admin('GET', `/v1/admin/accounts/${tenant.id}/keys`)).json.data[0].revokedAt, null);
});

test('create, list and get an account; the key from create works with the SDK', async () => {
  const created = await h.admin('POST', '/v1/admin/accounts', { name: 'Acme GmbH', email: 'ops@acme.example', tier: 'developer' });
  assert.equal(created.status, 201);
  const d = created.json.data;
  assert.equal(created.json.success, true);
  assert.equal(d.name, 'Acme GmbH');
  assert.equal(d.email, 'ops@acme.example');
  assert.equal(d.tier, 'developer');
  assert.equal(d.status, 'active');
  assert.match(d.id, /^[0-9a-f-]{36}$/);
  assert.match(d.apiKey, /^aks_[A-Za-z0-9_-]{43}$/);
  assert.match(d.keyId, /^[0-9a-f-]{36}$/);
  assert.match(d.namespace, /^[a-z0-9]{8}$/);

  const defaulted = await h.admin('POST', '/v1/admin/accounts', { name: 'No Tier', email: 'n@example.com' });
  assert.equal(defaulted.status, 201);
  assert.equal(defaulted.json.data.tier, 'free', 'the tier file default');

  const list = await h.admin('GET', '/v1/admin/accounts');
  assert.equal(list.status, 200);
  const ids = list.json.data.map((a: any) => a.id);
  assert.ok(ids.includes(d.id) && ids.includes(defaulted.json.data.id));
  assert.ok(!JSON.stringify(list.json).includes('aks_'), 'lists never show keys');

  const sdk = h.sdk(d.apiKey);
  assert.equal((await sdk.run(['echo', 'hi'], { fast: false })).output, 'hi\n');
  const got = await h.admin('GET', `/v1/admin/accounts/${d.id}`);
  assert.equal(got.status, 200);
  const g = got.json.data;
  assert.equal(g.id, d.id);
  assert.equal(g.tier, 'developer');
  assert.equal(g.limits.executionsPerMonth, 1000);
  assert.equal(g.quota.used, 1);
  assert.equal(g.quota.remaining, 999);
  assert.match(g.quota.period, /^\d{4}-\d{2}$/);
  const reset = new Date(g.quota.resetsAt);
  assert.equal(reset.getUTCDate(), 1);
  assert.ok(reset.getTime() > Date.now());
  assert.deepEqual(g.sandboxes, { live: 0, max: 3 });
  assert.ok(!JSON.stringify(got.json).includes('aks_'));
});

test('PATCH changes tier, overrides and status; the tenant sees the new limits on its next request', async () => {
  const t = await h.createTenant('free');
  const me = async () => (await h.fetchAs(t.apiKey, 'GET', '/v1/account')).json.data;
  assert.equal((await me()).limits.memoryMb, 512);

  const tier = await h.admin('PATCH', `/v1/admin/accounts/${t.id}`, { tier: 'team' });
  assert.equal(tier.status, 200);
  assert.equal(tier.json.data.tier, 'team');
  assert.equal((await me()).tier, 'team');
  assert.equal((await me()).limits.memoryMb, 2048);

  const ov = await h.admin('PATCH', `/v1/admin/accounts/${t.id}`, { overrides: { memoryMb: 4096, executionsPerMonth: 3 } });
  assert.equal(ov.status, 200);
  assert.deepEqual(ov.json.data.overrides, { memoryMb: 4096, executionsPerMonth: 3 });
  const limits = (await me()).limits;
  assert.equal(limits.memoryMb, 4096);
  assert.equal(limits.executionsPerMonth, 3);
  assert.equal(limits.vcpus, 4, 'the rest still comes from the team tier');
  assert.equal((await me()).quota.limit, 3);
  // The override is enforced, not only shown: a 3 GB sandbox is now allowed.
  const big = await h.fetchAs(t.apiKey, 'POST', '/sandboxes', { name: 'big', memory_mb: 3072 });
  assert.equal(big.status, 201, JSON.stringify(big.json));

  // Custom pricing overrides one price and keeps the others (limitsFor merges pricing field by field).
  const price = await h.admin('PATCH', `/v1/admin/accounts/${t.id}`, { overrides: { memoryMb: 4096, pricing: { perExecutionUsd: 0.005 } } });
  assert.equal(price.status, 200, JSON.stringify(price.json));
  assert.deepEqual((await me()).limits.pricing, { monthlyUsd: 99, perExecutionUsd: 0.005, perGbSecondUsd: 0 });
  const badPrice = await h.admin('PATCH', `/v1/admin/accounts/${t.id}`, { overrides: { pricing: { perExecutionUsd: -1 } } });
  assert.equal(badPrice.status, 400);
  assert.match(badPrice.json.error, /pricing\/perExecutionUsd/);

  // Changing only the tier keeps the overrides; null clears them.
  await h.admin('PATCH', `/v1/admin/accounts/${t.id}`, { tier: 'developer' });
  assert.equal((await me()).limits.memoryMb, 4096);
  const cleared = await h.admin('PATCH', `/v1/admin/accounts/${t.id}`, { overrides: null });
  assert.equal(cleared.json.data.overrides, null);
  assert.equal((await me()).limits.memoryMb, 1024);

  const susp = await h.admin('PATCH', `/v1/admin/accounts/${t.id}`, { status: 'suspended' });
  assert.equal(susp.json.data.status, 'suspended');
  assert.equal((await h.fetchAs(t.apiKey, 'GET', '/v1/account')).status, 403);
  const act = await h.admin('PATCH', `/v1/admin/accounts/${t.id}`, { status: 'active' });
  assert.equal(act.json.data.status, 'active');
  assert.equal((await h.fetchAs(t.apiKey, 'GET', '/v1/account')).status, 200);
});

test('suspend takes effect on the very next request, for every key; activate restores access', async () => {
  const t = await h.createTenant('team');
  const second = (await h.admin('POST', `/v1/admin/accounts/${t.id}/keys`)).json.data.apiKey;
  await t.sdk.run(['echo', 'before']);
  const upstreamBefore = h.upstream.requests.length;
  const s = await h.admin('POST', `/v1/admin/accounts/${t.id}/suspend`);
  assert.equal(s.status, 200);
  assert.equal(s.json.data.status, 'suspended');
  for (const key of [t.apiKey, second]) {
    for (const [m, p, b] of [['POST', '/run', { command: ['echo', 'x'] }], ['GET', '/sandboxes'], ['GET', '/v1/account']] as const) {
      const r = await h.fetchAs(key, m, p, b);
      assert.equal(r.status, 403, `${m} ${p}`);
      assert.deepEqual(r.json, { success: false, error: 'account is suspended' });
    }
  }
  assert.equal(h.upstream.requests.length, upstreamBefore, 'a suspended tenant reaches nothing upstream');
  const usage = (await h.admin('GET', `/v1/admin/accounts/${t.id}`)).json.data.quota.used;
  assert.equal(usage, 1, 'refused requests were not metered');
  const a = await h.admin('POST', `/v1/admin/accounts/${t.id}/activate`);
  assert.equal(a.json.data.status, 'active');
  assert.equal((await t.sdk.run(['echo', 'after'])).output, 'after\n');
});

test('keys: issue, list (no secrets), revoke; the revoked key is a 401 at once, the others keep working', async () => {
  const t = await h.createTenant('team');
  const issued = await h.admin('POST', `/v1/admin/accounts/${t.id}/keys`);
  assert.equal(issued.status, 201);
  const k2 = issued.json.data;
  assert.match(k2.apiKey, /^aks_[A-Za-z0-9_-]{43}$/);
  assert.equal(k2.prefix, k2.apiKey.slice(0, 12));
  assert.notEqual(k2.apiKey, t.apiKey);
  await h.sdk(k2.apiKey).run(['echo', 'k2']);

  const listed = await h.admin('GET', `/v1/admin/accounts/${t.id}/keys`);
  assert.equal(listed.status, 200);
  assert.deepEqual(listed.json.data.map((k: any) => k.id).sort(), [t.keyId, k2.id].sort());
  for (const k of listed.json.data) {
    assert.deepEqual(Object.keys(k).sort(), ['accountId', 'createdAt', 'id', 'lastUsedAt', 'prefix', 'revokedAt']);
    assert.equal(k.accountId, t.id);
    assert.equal(k.revokedAt, null);
  }
  assert.ok(!JSON.stringify(listed.json).includes(k2.apiKey.slice(12)), 'the secret part is never listed');

  const revoked = await h.admin('DELETE', `/v1/admin/keys/${k2.id}`);
  assert.equal(revoked.status, 200);
  assert.ok(revoked.json.data.revokedAt);
  await assert.rejects(h.sdk(k2.apiKey).run(['echo', 'x']), AuthError);
  const r = await h.fetchAs(k2.apiKey, 'GET', '/v1/account');
  assert.deepEqual([r.status, r.json], [401, { success: false, error: 'invalid API key' }]);
  assert.equal((await t.sdk.run(['echo', 'first'])).output, 'first\n', 'the other key is untouched');
  // Revoking twice keeps the first revocation time.
  const again = await h.admin('DELETE', `/v1/admin/keys/${k2.id}`);
  assert.equal(again.json.data.revokedAt, revoked.json.data.revokedAt);
});

test('usage for any account as JSON and CSV (format=csv or Accept: text/csv), equal to the ledger', async () => {
  const a = await h.createTenant('team');
  const b = await h.createTenant('developer');
  await a.sdk.run(['echo', '1']);
  await a.sdk.run(['echo', '2']);
  await a.sdk.batchRun([{ command: ['echo', '3'] }, { command: ['echo', '4'] }]);
  await b.sdk.run(['echo', 'b']);

  const json = await h.admin('GET', `/v1/admin/accounts/${a.id}/usage`);
  assert.equal(json.status, 200);
  const rep = json.json.data;
  assert.equal(rep.accountId, a.id);
  assert.match(rep.month, /^\d{4}-\d{2}$/);
  assert.equal(rep.totals.executions, 4);
  assert.deepEqual(rep.totals.byKind, { run: 2, batch_run: 2 });
  assert.equal(rep.events.length, 4);
  assert.ok(rep.events.every((e: any) => e.outcome === 'succeeded' && e.billable === true));
  const gb = rep.events.reduce((s: number, e: any) => s + e.gbSeconds, 0);
  assert.ok(Math.abs(rep.totals.gbSeconds - gb) < 1e-6);
  const bRep = (await h.admin('GET', `/v1/admin/accounts/${b.id}/usage`)).json.data;
  assert.equal(bRep.totals.executions, 1, "b's usage is its own");

  const viaFormat = await raw('GET', `/v1/admin/accounts/${a.id}/usage?format=csv`, { authorization: `Bearer ${h.adminToken}` });
  const viaAccept = await raw('GET', `/v1/admin/accounts/${a.id}/usage`, { authorization: `Bearer ${h.adminToken}`, accept: 'text/csv' });
  for (const csv of [viaFormat, viaAccept]) {
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type')!, /^text\/csv/);
    assert.match(csv.headers.get('content-disposition')!, /attachment; filename="usage-\d{4}-\d{2}\.csv"/);
    const lines = csv.text.trimEnd().split('\n');
    assert.equal(lines[0], 'id,kind,sandbox,startedAt,endedAt,durationMs,memoryMb,gbSeconds,outcome,billable,executions');
    assert.equal(lines.length, 5);
    assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]).sort(), rep.events.map((e: any) => e.id).sort());
  }
  // format=json wins over an Accept header asking for CSV.
  const forcedJson = await raw('GET', `/v1/admin/accounts/${a.id}/usage?format=json`, { authorization: `Bearer ${h.adminToken}`, accept: 'text/csv' });
  assert.equal(forcedJson.json.data.totals.executions, 4);

  const old = await h.admin('GET', `/v1/admin/accounts/${a.id}/usage?month=2001-01`);
  assert.equal(old.status, 200);
  assert.deepEqual(old.json.data.totals, { executions: 0, gbSeconds: 0, byKind: {} });
  assert.equal(old.json.data.month, '2001-01');
});

test('unknown accounts and keys are 404 envelopes on every admin route', async () => {
  for (const id of [MISSING_ID, 'not-a-uuid', 'x'.repeat(64)]) {
    for (const [m, p, body] of [
      ['GET', `/v1/admin/accounts/${id}`],
      ['PATCH', `/v1/admin/accounts/${id}`, { tier: 'team' }],
      ['POST', `/v1/admin/accounts/${id}/suspend`],
      ['POST', `/v1/admin/accounts/${id}/activate`],
      ['GET', `/v1/admin/accounts/${id}/keys`],
      ['POST', `/v1/admin/accounts/${id}/keys`],
      ['GET', `/v1/admin/accounts/${id}/usage`],
      ['DELETE', `/v1/admin/keys/${id}`],
    ] as [string, string, unknown?][]) {
      const r = await h.admin(m, p, body);
      assert.equal(r.status, 404, `${m} ${p}`);
      assert.equal(r.json.success, false);
      assert.match(r.json.error, new RegExp(`(account|key) ${id} not found`));
    }
  }
});

test('bad admin bodies are 400 envelopes that say what is wrong, and change nothing', async () => {
  const t = await h.createTenant('team');
  const count = async () => (await h.admin('GET', '/v1/admin/accounts')).json.data.length;
  const n = await count();
  const creates: [unknown, RegExp][] = [
    [{ email: 'a@example.com' }, /name/],
    [{ name: 'x' }, /email/],
    [{ name: '', email: 'a@example.com' }, /name/],
    [{ name: 'x', email: 'not-an-email' }, /email/],
    [{ name: 'x', email: 'a@example.com', tier: 'gold' }, /unknown tier "gold" \(tiers: free, developer, team, enterprise, payg\)/],
    [{ name: 'x', email: 'a@example.com', tier: 7 }, /tier/],
    [{ name: 'x', email: 'a@example.com', extra: true }, /additional|extra/],
    [{ name: 'x', email: 'a@example.com', overrides: { memoryMb: 'lots' } }, /memoryMb/],
    [{ name: 'x', email: 'a@example.com', overrides: { ramGb: 4 } }, /additional|ramGb/],
    [{ name: 'x'.repeat(201), email: 'a@example.com' }, /name/],
    [[], /body/],
  ];
  for (const [body, msg] of creates) {
    const r = await h.admin('POST', '/v1/admin/accounts', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.json.success, false);
    assert.match(r.json.error, msg, JSON.stringify(body));
  }
  const notJson = await raw('POST', '/v1/admin/accounts', { authorization: `Bearer ${h.adminToken}`, 'content-type': 'application/json' }, '{"name":');
  assert.deepEqual([notJson.status, notJson.json], [400, { success: false, error: 'request body is not valid JSON' }]);
  assert.equal(await count(), n, 'no account was created');

  const patches: [unknown, RegExp][] = [
    [{}, /body/],
    [{ tier: 'gold' }, /unknown tier "gold"/],
    [{ status: 'deleted' }, /status/],
    [{ overrides: { priority: 1000 } }, /priority/],
    [{ namespace: 'aaaaaaaa' }, /additional|namespace/],
  ];
  for (const [body, msg] of patches) {
    const r = await h.admin('PATCH', `/v1/admin/accounts/${t.id}`, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.json.error, msg, JSON.stringify(body));
  }
  const after = (await h.admin('GET', `/v1/admin/accounts/${t.id}`)).json.data;
  assert.equal(after.tier, 'team');
  assert.equal(after.status, 'active');
  const badMonth = await h.admin('GET', `/v1/admin/accounts/${t.id}/usage?month=2026-13`);
  assert.equal(badMonth.status, 400);
  assert.match(badMonth.json.error, /YYYY-MM/);
  const badFormat = await h.admin('GET', `/v1/admin/accounts/${t.id}/usage?format=xml`);
  assert.equal(badFormat.status, 400);
  assert.match(badFormat.json.error, /format/);
});

test('/metrics needs the admin token and exposes every gateway metric with real counts', async () => {
  const names = Object.values(createMetrics()).flatMap((m: any) => (typeof m?.name === 'string' ? [m.name] : []));
  assert.ok(names.length >= 10);
  const team = await h.createTenant('team');
  const dev = await h.createTenant('developer');
  const capped = await h.createTenant('free', { executionsPerMonth: 1 });
  const throttled = await h.createTenant('free', { rateLimitPerMinute: 2 });

  const m0 = await metrics();
  for (const name of names) assert.match(m0, new RegExp(`^# TYPE ${name} `, 'm'), name);
  const execs = (t: string, kind?: string) => (text: string) => sample(text, 'gateway_executions_total', kind ? { tier: t, kind } : { tier: t });

  await team.sdk.run(['echo', '1']);
  await team.sdk.run(['echo', '2']);
  await team.sdk.batchRun([{ command: ['echo', '3'] }, { command: ['echo', '4'] }, { command: ['echo', '5'] }]);
  await dev.sdk.run(['echo', 'd']);
  await capped.sdk.run(['echo', 'ok']);
  assert.equal((await h.fetchAs(capped.apiKey, 'POST', '/run', { command: ['echo', 'over'] })).status, 429);
  const throttledCodes = [];
  for (let i = 0; i < 4; i++) throttledCodes.push((await h.fetchAs(throttled.apiKey, 'GET', '/v1/account')).status);
  assert.deepEqual(throttledCodes, [200, 200, 429, 429]);

  const m1 = await metrics();
  assert.equal(execs('team', 'run')(m1) - execs('team', 'run')(m0), 2);
  assert.equal(execs('team', 'batch_run')(m1) - execs('team', 'batch_run')(m0), 3);
  assert.equal(execs('developer')(m1) - execs('developer')(m0), 1);
  assert.equal(execs('free')(m1) - execs('free')(m0), 1, 'the refused run is not an execution');
  assert.equal(sample(m1, 'gateway_quota_rejections_total', { tier: 'free' }) - sample(m0, 'gateway_quota_rejections_total', { tier: 'free' }), 1);
  assert.equal(sample(m1, 'gateway_rate_limit_rejections_total', { tier: 'free' }) - sample(m0, 'gateway_rate_limit_rejections_total', { tier: 'free' }), 2);
  const runs = (text: string, status: string) => sample(text, 'gateway_requests_total', { method: 'POST', route: '/run', status });
  assert.equal(runs(m1, '200') - runs(m0, '200'), 4);
  assert.equal(runs(m1, '429') - runs(m0, '429'), 1);
  const acct429 = (text: string) => sample(text, 'gateway_requests_total', { method: 'GET', route: '/v1/account', status: '429' });
  assert.equal(acct429(m1) - acct429(m0), 2);
  // Both latency histograms saw the four forwarded /run calls (and the refused one only in the gateway's).
  const count = (text: string, metric: string) => sample(text, `${metric}_count`, { route: '/run' });
  assert.equal(count(m1, 'gateway_upstream_latency_seconds') - count(m0, 'gateway_upstream_latency_seconds'), 4);
  assert.equal(count(m1, 'gateway_added_latency_seconds') - count(m0, 'gateway_added_latency_seconds'), 5);
  assert.ok(!m1.includes(h.upstream.apiKey) && !m1.includes(team.apiKey));
});

test('/health answers without auth; /ready is 200 when all is up and a 503 naming what is down', async () => {
  const health = await raw('GET', '/health');
  assert.deepEqual([health.status, health.json], [200, { success: true, data: 'ok' }]);
  const ready = await raw('GET', '/ready');
  assert.equal(ready.status, 200);
  assert.deepEqual(ready.json, { success: true, data: { postgres: true, redis: true, upstream: true } });

  await h.upstream.setMode('down');
  try {
    const t0 = performance.now();
    const down = await raw('GET', '/ready');
    assert.ok(performance.now() - t0 < 3000, 'readiness answers quickly');
    assert.equal(down.status, 503);
    assert.equal(down.json.success, false);
    assert.equal(down.json.error, 'not ready: upstream unavailable');
    assert.deepEqual(down.json.data, { postgres: true, redis: true, upstream: false });
    assert.equal((await raw('GET', '/health')).status, 200, 'liveness does not depend on the upstream');
  } finally {
    await h.upstream.setMode('normal');
  }
  assert.equal((await raw('GET', '/ready')).status, 200);
});

test('/ready without REDIS_URL reports redis as not configured and is still ready', async () => {
  const solo = await startHarness({ redisUrl: null });
  try {
    const r = await fetch(`${solo.url}/ready`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { success: true, data: { postgres: true, redis: 'not configured', upstream: true } });
    assert.ok(solo.logs.join('').includes('REDIS_URL is not set'), 'the fallback is announced in the log');
  } finally {
    await solo.close();
  }
});
