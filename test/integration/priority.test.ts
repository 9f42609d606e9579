// A bounded number of executions in flight to the upstream; when it is saturated, higher tiers are
// served first, and nothing beyond the bound ever reaches the upstream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../support/gateway-harness.js';
import { until } from '../support/wait.js';

let h: Harness;
before(async () => { h = await startHarness({ env: { GATEWAY_MAX_IN_FLIGHT: '2', GATEWAY_QUEUE_TIMEOUT_MS: '20000' } }); });
after(async () => { await h?.close(); });

test('saturated: queued team executions are forwarded before queued free ones, and in-flight never exceeds the bound', async () => {
  const free = await h.createTenant('free', { rateLimitPerMinute: 100_000 });
  const team = await h.createTenant('team', { rateLimitPerMinute: 100_000 });
  const gate = h.gateway.ctx.gate;
  h.upstream.resetGauge();
  const run = (key: string, marker: string, cmd = ['echo', marker]) => h.fetchAs(key, 'POST', '/run', { command: cmd });
  // Two slow runs fill both slots.
  const blockers = [run(free.apiKey, 'blocker1', ['sleep', '0.8']), run(free.apiKey, 'blocker2', ['sleep', '0.8'])];
  await until('slots busy', () => gate.active === 2);
  const freeQueued = Array.from({ length: 4 }, (_, i) => run(free.apiKey, `free${i}`));
  await until('free queued', () => gate.queued === 4);
  const teamQueued = Array.from({ length: 4 }, (_, i) => run(team.apiKey, `team${i}`));
  await until('team queued', () => gate.queued === 8);
  const all = await Promise.all([...blockers, ...freeQueued, ...teamQueued]);
  assert.ok(all.every((r) => r.status === 200), JSON.stringify(all.map((r) => r.status)));
  const order = h.upstream.requestsTo('POST', '/run').map((r) => String((r.body as any).command.at(-1)));
  const queuedOrder = order.filter((m) => /^(free|team)\d$/.test(m));
  // Within a tier the requests raced into the queue; across tiers the order is strict.
  assert.deepEqual(queuedOrder.slice(0, 4).map((m) => m.slice(0, 4)), ['team', 'team', 'team', 'team']);
  assert.deepEqual(queuedOrder.slice(4).sort(), ['free0', 'free1', 'free2', 'free3']);
  assert.ok(h.upstream.maxInFlight <= 2, `upstream saw ${h.upstream.maxInFlight} at once`);
});

test('a queued request gives up with a 503 envelope after the queue timeout, refunded', async () => {
  await h.close();
  h = await startHarness({ env: { GATEWAY_MAX_IN_FLIGHT: '1', GATEWAY_QUEUE_TIMEOUT_MS: '300' } });
  const t = await h.createTenant('free', { rateLimitPerMinute: 100_000, executionsPerMonth: 5 });
  const blocker = h.fetchAs(t.apiKey, 'POST', '/run', { command: ['sleep', '1'] });
  await until('slot busy', () => h.gateway.ctx.gate.active === 1);
  const t0 = Date.now();
  const r = await h.fetchAs(t.apiKey, 'POST', '/run', { command: ['echo', 'late'] });
  assert.equal(r.status, 503);
  assert.equal(r.json.success, false);
  assert.match(r.json.error, /capacity/);
  assert.ok(r.headers.get('retry-after'));
  assert.ok(Date.now() - t0 < 3000);
  assert.equal((await blocker).status, 200);
  const account = await h.fetchAs(t.apiKey, 'GET', '/v1/account');
  assert.equal(account.json.data.quota.used, 1, 'the one that never ran is not billed');
});
