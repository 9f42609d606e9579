// The upstream failing: unreachable (502), too slow (504), answering 500s, resetting connections.
// Every case answers with the envelope within a bound, never hangs, and settles the metered
// reservation as quota-ledger.ts documents: refunded when the command cannot have run
// (upstream_unavailable, rejected), billed when it may have (timeout).
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ServerError } from 'agentkernel';
import { startHarness, type Harness } from '../support/gateway-harness.js';

const TIMEOUT_MS = 500;
let h: Harness;

before(async () => {
  h = await startHarness({ env: { GATEWAY_UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS) } });
});
afterEach(async () => { await h.upstream.setMode('normal'); });
after(async () => {
  await h?.close();
});

async function used(accountId: string): Promise<number> {
  const { rows } = await h.db.query('SELECT coalesce(sum(used), 0)::int AS n FROM quota_counters WHERE account_id = $1', [accountId]);
  return rows[0].n;
}

async function ledger(id: string) {
  const { rows } = await h.db.query('SELECT outcome, billable, status_code, ended_at FROM usage_events WHERE id = $1', [id]);
  assert.equal(rows.length, 1, `one ledger row for ${id}`);
  return rows[0];
}

/** A tenant request timed, with its request id (= the ledger row id of a single execution). */
async function timed(key: string, method: string, path: string, body?: unknown) {
  const t0 = performance.now();
  const r = await h.fetchAs(key, method, path, body);
  return { ...r, ms: performance.now() - t0, id: r.headers.get('x-request-id')! };
}

function assertEnvelope(r: { status: number; json: any; text: string }, status: number, error: RegExp) {
  assert.equal(r.status, status, r.text);
  assert.deepEqual(Object.keys(r.json).sort(), ['error', 'success']);
  assert.equal(r.json.success, false);
  assert.match(r.json.error, error);
  assert.ok(!r.text.includes(h.upstream.url) && !r.text.includes(String(h.upstream.port)), 'no upstream address in the error');
}

test('upstream down: 502 envelopes at once, every metered reservation refunded', async () => {
  const t = await h.createTenant('team');
  await t.sdk.createSandbox('box');
  await t.sdk.run(['echo', 'before']);
  const base = await used(t.id);
  await h.upstream.setMode('down');

  const run = await timed(t.apiKey, 'POST', '/run', { command: ['echo', 'x'] });
  assertEnvelope(run, 502, /^upstream agentkernel is unavailable$/);
  assert.ok(run.ms < 5000, `502 after ${run.ms} ms`);
  assert.deepEqual({ ...(await ledger(run.id)), ended_at: undefined }, { outcome: 'upstream_unavailable', billable: false, status_code: 502, ended_at: undefined });

  const exec = await timed(t.apiKey, 'POST', '/sandboxes/box/exec', { command: ['echo', 'x'] });
  assertEnvelope(exec, 502, /unavailable/);
  assert.equal((await ledger(exec.id)).outcome, 'upstream_unavailable');

  const stream = await timed(t.apiKey, 'POST', '/run/stream', { command: ['echo', 'x'] });
  assertEnvelope(stream, 502, /unavailable/);
  assert.equal((await ledger(stream.id)).billable, false);

  const batch = await timed(t.apiKey, 'POST', '/batch/run', { commands: [{ command: ['echo', '1'] }, { command: ['echo', '2'] }] });
  for (const i of [0, 1]) {
    const row = await ledger(`${batch.id}:${i}`);
    assert.deepEqual([row.outcome, row.billable], ['upstream_unavailable', false], `batch command ${i}`);
  }
  if (batch.status === 200) {
    for (const res of batch.json.data.results) assert.match(res.error, /unavailable/);
  } else {
    assertEnvelope(batch, 502, /unavailable/);
  }

  for (const [m, p] of [['GET', '/sandboxes'], ['GET', '/sandboxes/box'], ['GET', '/sandboxes/box/files/a.txt'], ['DELETE', '/sandboxes/box']] as const) {
    const r = await timed(t.apiKey, m, p);
    assertEnvelope(r, 502, /unavailable/);
    assert.ok(r.ms < 5000);
  }
  await assert.rejects(t.sdk.run(['echo']), (e: unknown) => e instanceof ServerError && /unavailable/.test(e.message));

  assert.equal(await used(t.id), base, 'nothing billed while the upstream was down');
  await h.upstream.setMode('normal');
  assert.equal((await t.sdk.getSandbox('box')).name, 'box', 'the failed delete did not drop the sandbox');
  assert.equal((await t.sdk.run(['echo', 'back'])).output, 'back\n');
  assert.equal(await used(t.id), base + 1);
});

test('a create while the upstream is down releases its claim: the sandbox cap is not used up', async () => {
  const t = await h.createTenant('free');
  await h.upstream.setMode('down');
  assertEnvelope(await timed(t.apiKey, 'POST', '/sandboxes', { name: 'only' }), 502, /unavailable/);
  await h.upstream.setMode('normal');
  const created = await h.fetchAs(t.apiKey, 'POST', '/sandboxes', { name: 'only' });
  assert.equal(created.status, 201, 'the free tier\'s single sandbox slot is still free');
});

test('upstream hanging: 504 envelopes within the timeout bound; a timed-out execution is billed', async () => {
  const t = await h.createTenant('team');
  await t.sdk.createSandbox('box');
  const base = await used(t.id);
  await h.upstream.setMode('hang');

  const run = await timed(t.apiKey, 'POST', '/run', { command: ['echo', 'x'] });
  assertEnvelope(run, 504, /did not answer within/);
  assert.ok(run.ms >= TIMEOUT_MS - 50 && run.ms < TIMEOUT_MS + 2500, `504 after ${run.ms} ms`);
  const row = await ledger(run.id);
  assert.deepEqual([row.outcome, row.billable, row.status_code], ['timeout', true, 504]);
  assert.ok(row.ended_at, 'settled, not left reserved');

  const exec = await timed(t.apiKey, 'POST', '/sandboxes/box/exec', { command: ['echo'] });
  assertEnvelope(exec, 504, /did not answer/);
  assert.deepEqual([(await ledger(exec.id)).outcome, (await ledger(exec.id)).billable], ['timeout', true]);

  const stream = await timed(t.apiKey, 'POST', '/run/stream', { command: ['echo'] });
  assertEnvelope(stream, 504, /did not answer/);
  assert.ok(stream.ms < TIMEOUT_MS + 2500);
  assert.equal((await ledger(stream.id)).outcome, 'timeout');

  for (const [m, p] of [['GET', '/sandboxes'], ['GET', '/sandboxes/box/logs']] as const) {
    const r = await timed(t.apiKey, m, p);
    assertEnvelope(r, 504, /did not answer/);
    assert.ok(r.ms < TIMEOUT_MS + 2500, `${p} after ${r.ms} ms`);
  }
  const t0 = performance.now();
  const ready = await h.fetchAs(null, 'GET', '/ready');
  assert.equal(ready.status, 503);
  assert.match(ready.json.error, /upstream/);
  assert.ok(performance.now() - t0 < 4000, 'readiness is bounded too');

  assert.equal(await used(t.id), base + 3, 'each timed-out execution counts: the upstream may have run it');
  assert.equal(h.gateway.ctx.gate.active, 0, 'no upstream slot is held after the timeouts');
  await h.upstream.setMode('normal');
  assert.equal((await t.sdk.run(['echo', 'recovered'])).output, 'recovered\n');
});

test('a create that times out keeps its claim until the tenant deletes it', async () => {
  const t = await h.createTenant('free');
  await h.upstream.setMode('hang');
  assertEnvelope(await timed(t.apiKey, 'POST', '/sandboxes', { name: 'maybe' }), 504, /did not answer/);
  await h.upstream.setMode('normal');
  // The upstream may have created it, so the name (and the one free-tier slot) stay claimed...
  const second = await h.fetchAs(t.apiKey, 'POST', '/sandboxes', { name: 'other' });
  assert.equal(second.status, 403);
  // ...and a delete settles it either way.
  const del = await h.fetchAs(t.apiKey, 'DELETE', '/sandboxes/maybe');
  assert.equal(del.status, 200, del.text);
  assert.equal((await h.fetchAs(t.apiKey, 'POST', '/sandboxes', { name: 'other' })).status, 201);
});

test('upstream 500s: relayed as 500 envelopes without upstream detail, and refunded', async () => {
  const t = await h.createTenant('developer');
  await t.sdk.createSandbox('box');
  const base = await used(t.id);
  await h.upstream.setMode('error500');

  const run = await timed(t.apiKey, 'POST', '/run', { command: ['echo'] });
  assertEnvelope(run, 500, new RegExp(`^the sandbox backend failed \\(request ${run.id}\\)`));
  assert.ok(!run.text.includes('injected failure'), 'the upstream detail goes to the operator log only');
  assert.deepEqual([(await ledger(run.id)).outcome, (await ledger(run.id)).billable, (await ledger(run.id)).status_code], ['rejected', false, 500]);
  assert.ok(h.logs.join('').includes('injected failure'), 'the operator log has the detail');

  const exec = await timed(t.apiKey, 'POST', '/sandboxes/box/exec', { command: ['echo'] });
  assertEnvelope(exec, 500, /sandbox backend failed/);
  assert.equal((await ledger(exec.id)).billable, false);

  const stream = await timed(t.apiKey, 'POST', '/run/stream', { command: ['echo'] });
  assertEnvelope(stream, 500, /sandbox backend failed/);
  assert.deepEqual([(await ledger(stream.id)).outcome, (await ledger(stream.id)).billable], ['rejected', false]);

  const get = await timed(t.apiKey, 'GET', '/sandboxes/box');
  assertEnvelope(get, 500, /sandbox backend failed/);
  await assert.rejects(t.sdk.run(['echo']), ServerError);

  assert.equal(await used(t.id), base, 'nothing billed for refused executions');
  await h.upstream.setMode('normal');
  assert.equal((await t.sdk.getSandbox('box')).name, 'box');
});

test('connections reset by the upstream: 502 at once and refunded; a slow upstream within the timeout is fine', async () => {
  const t = await h.createTenant('team');
  const base = await used(t.id);
  await h.upstream.setMode('reset');
  const run = await timed(t.apiKey, 'POST', '/run', { command: ['echo'] });
  assertEnvelope(run, 502, /unavailable/);
  assert.ok(run.ms < 5000);
  assert.deepEqual([(await ledger(run.id)).outcome, (await ledger(run.id)).billable], ['upstream_unavailable', false]);
  assert.equal(await used(t.id), base);

  await h.upstream.setMode('slow', { delayMs: TIMEOUT_MS / 3 });
  const slow = await timed(t.apiKey, 'POST', '/run', { command: ['echo', 'late'] });
  assert.equal(slow.status, 200, slow.text);
  assert.equal(slow.json.data.output, 'late\n');
  assert.ok(slow.ms >= TIMEOUT_MS / 3 - 20);
  assert.deepEqual([(await ledger(slow.id)).outcome, (await ledger(slow.id)).billable], ['succeeded', true]);
  assert.equal(await used(t.id), base + 1);
});

test('a batch against a hanging upstream waits for one timeout, not one per command, and bills only what was sent', async () => {
  const t = await h.createTenant('team');
  const base = await used(t.id);
  await h.upstream.setMode('hang');
  const sentBefore = h.upstream.requestsTo('POST', '/run').length;
  const batch = await timed(t.apiKey, 'POST', '/batch/run', { commands: Array.from({ length: 6 }, (_, i) => ({ command: ['echo', String(i)] })) });
  assert.ok(batch.ms < TIMEOUT_MS + 2500, `batch answered after ${batch.ms} ms`);
  assert.equal(h.upstream.requestsTo('POST', '/run').length - sentBefore, 1, 'nothing more is forwarded after the upstream stopped answering');
  const rows = await Promise.all(Array.from({ length: 6 }, (_, i) => ledger(`${batch.id}:${i}`)));
  assert.deepEqual(rows.map((r) => [r.outcome, r.billable]), [['timeout', true], ...Array(5).fill(['upstream_unavailable', false])]);
  assert.equal(await used(t.id), base + 1);
  assert.equal(batch.status, 200, batch.text);
  assert.match(batch.json.data.results[0].error, /did not answer/);
  for (const res of batch.json.data.results.slice(1)) assert.match(res.error, /^not run: /);
});

test('many concurrent requests against a hanging upstream all end within the bound and nothing stays reserved', async () => {
  const t = await h.createTenant('team');
  await h.upstream.setMode('hang');
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: 20 }, () => h.fetchAs(t.apiKey, 'POST', '/run', { command: ['echo'] })));
  const ms = performance.now() - t0;
  assert.deepEqual([...new Set(results.map((r) => r.status))], [504], results.map((r) => r.text).join('\n'));
  // Bounded by the timeout plus generous slack for a loaded CI machine: the point is "never a hang".
  assert.ok(ms < TIMEOUT_MS + 5000, `all answered after ${ms} ms`);
  const { rows } = await h.db.query(`SELECT count(*)::int AS n FROM usage_events WHERE account_id = $1 AND outcome = 'reserved'`, [t.id]);
  assert.equal(rows[0].n, 0, 'nothing left reserved');
  assert.equal(await used(t.id), 20, 'each timed-out run is billed');
  assert.equal(h.gateway.ctx.gate.active, 0, 'no slot held');
});

test('a wrong AGENTKERNEL_API_KEY is the service\'s fault, not the tenant\'s: 502 (never 401), refunded, logged', async () => {
  const misconfigured = await startHarness({ env: { AGENTKERNEL_API_KEY: 'not-the-upstream-key' } });
  const c = misconfigured.db;
  try {
    const t = await misconfigured.createTenant('team');
    for (const [m, p, b] of [['POST', '/run', { command: ['echo'] }], ['POST', '/run/stream', { command: ['echo'] }], ['GET', '/sandboxes'], ['POST', '/sandboxes', { name: 'x' }]] as const) {
      const r = await misconfigured.fetchAs(t.apiKey, m, p, b);
      assert.equal(r.status, 502, `${m} ${p}: ${r.text}`);
      assert.equal(r.json.success, false);
      assert.match(r.json.error, /upstream agentkernel rejected the gateway's credentials/);
      assert.ok(!r.text.includes('not-the-upstream-key'));
    }
    // The SDK must not tell the tenant that its own key is bad.
    await assert.rejects(t.sdk.run(['echo']), (e: unknown) => e instanceof ServerError);
    const { rows } = await c.query(`SELECT outcome, billable FROM usage_events WHERE account_id = $1`, [t.id]);
    assert.ok(rows.length >= 3);
    assert.ok(rows.every((r) => r.outcome === 'upstream_unavailable' && r.billable === false), JSON.stringify(rows));
    assert.equal((await c.query(`SELECT coalesce(sum(used), 0)::int AS n FROM quota_counters WHERE account_id = $1`, [t.id])).rows[0].n, 0);
    assert.equal((await misconfigured.fetchAs(t.apiKey, 'POST', '/sandboxes', { name: 'x' })).status, 502, 'the claim was released');
    assert.match(misconfigured.logs.join(''), /AGENTKERNEL_API_KEY/, 'the operator log says what to fix');
  } finally {
    await misconfigured.close();
  }
});
