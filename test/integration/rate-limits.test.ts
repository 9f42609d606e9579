// Per-key rate limits live in Redis; with Redis stopped mid-test the gateway keeps serving (limits
// fall back to the process, quotas still hold in PostgreSQL), logs the outage and counts it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../support/gateway-harness.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

let h: Harness;
let redis: RedisServer;
before(async () => {
  redis = await startRedis();
  h = await startHarness({ redisUrl: redis.url });
});
after(async () => {
  await h?.close();
  await redis?.destroy();
});

async function metric(name: string): Promise<number> {
  const res = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${h.adminToken}` } });
  const line = (await res.text()).split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

test('a key over its rate is refused with 429, Retry-After and the envelope; other keys are unaffected', async () => {
  const a = await h.createTenant('free', { rateLimitPerMinute: 5 });
  const b = await h.createTenant('free', { rateLimitPerMinute: 5 });
  const statuses = [];
  for (let i = 0; i < 7; i++) statuses.push((await h.fetchAs(a.apiKey, 'GET', '/sandboxes')).status);
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
  const r = await h.fetchAs(a.apiKey, 'GET', '/sandboxes');
  assert.equal(r.status, 429);
  assert.equal(r.json.success, false);
  assert.match(r.json.error, /5 requests per minute/);
  const retry = Number(r.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 12, `retry-after ${retry}`);
  assert.equal((await h.fetchAs(b.apiKey, 'GET', '/sandboxes')).status, 200);
  // The bucket is in Redis, keyed by the key id.
  const keys = await redisKeys();
  assert.ok(keys.includes(`rl:${a.keyId}`), keys.join(','));
  assert.ok(await metric('gateway_rate_limit_rejections_total{tier="free"}') >= 3);
});

async function redisKeys(): Promise<string[]> {
  const { Redis } = await import('ioredis');
  const c = new Redis(redis.url);
  try {
    return await c.keys('rl:*');
  } finally {
    c.disconnect();
  }
}

test('Redis stopped mid-test: requests keep being served, limits fall back, quotas stay exact, the outage is counted', async () => {
  const t = await h.createTenant('free', { rateLimitPerMinute: 1000, executionsPerMonth: 10 });
  assert.equal((await h.fetchAs(t.apiKey, 'POST', '/run', { command: ['echo', 'before'] })).status, 200);
  const errorsBefore = await metric('gateway_redis_errors_total');
  await redis.stop();
  try {
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: 20 }, () => h.fetchAs(t.apiKey, 'POST', '/run', { command: ['echo', 'during'] })));
    const elapsed = Date.now() - t0;
    assert.equal(results.filter((r) => r.status === 200).length, 9, 'quota (PostgreSQL) still exact: 10 minus the one before');
    assert.equal(results.filter((r) => r.status === 429 && /quota/.test(r.json.error)).length, 11);
    assert.ok(elapsed < 10_000, `served promptly without Redis (${elapsed} ms)`);
    assert.ok((await metric('gateway_redis_errors_total')) >= errorsBefore + 20, 'every fallback counted');
    assert.ok(h.logs.some((l) => /Redis unavailable/.test(l)), 'the outage is logged');
    const ready = await h.fetchAs(null, 'GET', '/ready');
    assert.equal(ready.status, 503);
    assert.match(ready.json.error, /redis/);
    // The in-process fallback still limits.
    const limited = await h.createTenant('free', { rateLimitPerMinute: 3 });
    const s = [];
    for (let i = 0; i < 5; i++) s.push((await h.fetchAs(limited.apiKey, 'GET', '/v1/account')).status);
    assert.deepEqual(s, [200, 200, 200, 429, 429]);
  } finally {
    await redis.start();
  }
  // Back to Redis once it answers again.
  const end = Date.now() + 10_000;
  while ((await h.fetchAs(null, 'GET', '/ready')).status !== 200) {
    if (Date.now() > end) throw new Error('gateway did not see Redis come back');
    await new Promise((r) => setTimeout(r, 200));
  }
  const errorsAfter = await metric('gateway_redis_errors_total');
  assert.equal((await h.fetchAs(t.apiKey, 'GET', '/v1/account')).status, 200);
  assert.equal(await metric('gateway_redis_errors_total'), errorsAfter, 'no more fallbacks once Redis is back');
});
