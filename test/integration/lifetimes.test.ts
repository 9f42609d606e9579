// Sandbox lifetimes are the gateway's job: a new sandbox gets the tier's TTL, /extend moves it within
// the tier's maximum, and the reaper deletes what outlived it and closes its lifetime ledger row.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../support/gateway-harness.js';

let h: Harness;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

const expiry = async (accountId: string, name: string) =>
  (await h.db.query('SELECT expires_at FROM sandboxes WHERE account_id = $1 AND name = $2 AND deleted_at IS NULL', [accountId, name])).rows[0]?.expires_at as Date | undefined;

test("a new sandbox expires after its tier's TTL; /extend moves it up to the tier's maximum and no further", async () => {
  const t = await h.createTenant('developer'); // TTL 1 h, at most 4 h in all
  const t0 = Date.now();
  await t.sdk.createSandbox('ttl');
  const first = (await expiry(t.id, 'ttl'))!.getTime();
  assert.ok(Math.abs(first - (t0 + 3600_000)) < 10_000, 'one hour from creation');
  const ext = await t.sdk.extendTtl('ttl', { by: '2h' });
  assert.ok(Math.abs(new Date(ext.expires_at!).getTime() - (first + 2 * 3600_000)) < 1000);
  assert.equal((await expiry(t.id, 'ttl'))!.toISOString(), new Date(ext.expires_at!).toISOString());
  const over = await h.fetchAs(t.apiKey, 'POST', '/sandboxes/ttl/extend', { by: '2h' });
  assert.equal(over.status, 403);
  assert.match(over.json.error, /at most 14400s/);
  assert.equal((await expiry(t.id, 'ttl'))!.toISOString(), new Date(ext.expires_at!).toISOString(), 'refused extend changed nothing');
  const bad = await h.fetchAs(t.apiKey, 'POST', '/sandboxes/ttl/extend', { by: 'forever' });
  assert.equal(bad.status, 400);
  assert.equal(h.upstream.requests.filter((r) => r.path.endsWith('/extend')).length, 0, 'the gateway owns lifetimes');
});

test('the reaper deletes expired sandboxes upstream and closes their lifetime rows as expired', async () => {
  const t = await h.createTenant('team');
  await t.sdk.createSandbox('old', { memory_mb: 2048 });
  await t.sdk.createSandbox('young');
  await h.db.query(`UPDATE sandboxes SET expires_at = now() - interval '1 second', created_at = now() - interval '10 seconds' WHERE account_id = $1 AND name = 'old'`, [t.id]);
  await h.db.query(`UPDATE usage_events SET started_at = now() - interval '10 seconds' WHERE account_id = $1 AND kind = 'sandbox' AND sandbox = 'old'`, [t.id]);
  await h.gateway.reaper.runOnce();
  assert.equal(h.upstream.sandboxes.has(`${t.namespace}-old`), false, 'deleted upstream');
  assert.equal(h.upstream.sandboxes.has(`${t.namespace}-young`), true);
  assert.deepEqual((await t.sdk.listSandboxes()).map((s) => s.name), ['young']);
  const { rows } = await h.db.query(`SELECT outcome, gb_seconds FROM usage_events WHERE account_id = $1 AND kind = 'sandbox' AND sandbox = 'old'`, [t.id]);
  assert.equal(rows[0].outcome, 'expired');
  assert.ok(Number(rows[0].gb_seconds) >= 20 && Number(rows[0].gb_seconds) < 22, `2 GB x ~10 s = ~20 GB-s, got ${rows[0].gb_seconds}`);
  // The name is free again, and the concurrent cap counts only live sandboxes.
  await t.sdk.createSandbox('old');
  await h.gateway.reaper.runOnce();
  assert.ok(h.upstream.sandboxes.has(`${t.namespace}-old`));
});

test('an upstream that cannot delete leaves the sandbox for the next pass, nothing closed early', async () => {
  const t = await h.createTenant('team');
  await t.sdk.createSandbox('stuck');
  await h.db.query(`UPDATE sandboxes SET expires_at = now() - interval '1 second' WHERE account_id = $1 AND name = 'stuck'`, [t.id]);
  await h.upstream.setMode('error500');
  try {
    await h.gateway.reaper.runOnce();
  } finally {
    await h.upstream.setMode('normal');
  }
  const { rows } = await h.db.query(`SELECT outcome FROM usage_events WHERE account_id = $1 AND kind = 'sandbox'`, [t.id]);
  assert.equal(rows[0].outcome, 'running');
  await h.gateway.reaper.runOnce();
  const after = await h.db.query(`SELECT outcome FROM usage_events WHERE account_id = $1 AND kind = 'sandbox'`, [t.id]);
  assert.equal(after.rows[0].outcome, 'expired');
  assert.equal(h.upstream.sandboxes.has(`${t.namespace}-stuck`), false);
});
