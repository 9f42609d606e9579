// What the real upstream does that a naive proxy gets wrong (see test/contract and the fake's header):
// failed commands are 409s and still executions, detached ids are global, stream progress events
// carry internal names, and 5xx messages can carry host details.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../support/gateway-harness.js';

let h: Harness;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

const outcomes = async (accountId: string) =>
  (await h.db.query(`SELECT kind, outcome, billable FROM usage_events WHERE account_id = $1 AND executions = 1 ORDER BY started_at, id`, [accountId])).rows
    .map((r) => `${r.kind}:${r.outcome}:${r.billable}`);

test("a command that exits non-zero is the upstream's 409 with exit_code and output, billed as failed", async () => {
  const t = await h.createTenant('team');
  const run = await h.fetchAs(t.apiKey, 'POST', '/run', { command: ['sh', '-c', 'echo out; exit 3'] });
  assert.equal(run.status, 409);
  assert.equal(run.json.success, false);
  assert.equal(run.json.exit_code, 3);
  assert.match(run.json.output, /out/);
  await t.sdk.createSandbox('fails');
  const exec = await h.fetchAs(t.apiKey, 'POST', '/sandboxes/fails/exec', { command: ['false'] });
  assert.equal(exec.status, 409);
  assert.equal(exec.json.exit_code, 1);
  const batch = await t.sdk.batchRun([{ command: ['echo', 'ok'] }, { command: ['false'] }]);
  assert.equal(batch.results[0].error, null);
  assert.match(batch.results[1].error!, /exited with code 1/);
  assert.deepEqual(await outcomes(t.id), ['run:failed:true', 'exec:failed:true', 'batch_run:succeeded:true', 'batch_run:failed:true']);
  assert.equal((await h.fetchAs(t.apiKey, 'GET', '/v1/account')).json.data.quota.used, 4);
});

test("detached command ids are checked against the caller's sandbox (upstream looks them up globally)", async () => {
  const a = await h.createTenant('team');
  const b = await h.createTenant('team');
  await a.sdk.createSandbox('bg');
  await b.sdk.createSandbox('bg');
  const started = await a.sdk.execDetached('bg', ['sleep', '5']);
  assert.match(started.id, /^[0-9a-f]+$/);
  assert.equal((started as any).sandbox, 'bg', 'the upstream name is rewritten');
  assert.equal((await a.sdk.detachedStatus('bg', started.id)).id, started.id);
  assert.deepEqual((await a.sdk.detachedList('bg')).map((c) => c.id), [started.id]);
  const before = h.upstream.requests.length;
  for (const [m, p] of [['GET', `/sandboxes/bg/exec/detached/${started.id}`], ['GET', `/sandboxes/bg/exec/detached/${started.id}/logs`], ['DELETE', `/sandboxes/bg/exec/detached/${started.id}`]]) {
    const r = await h.fetchAs(b.apiKey, m, p);
    assert.equal(r.status, 404, `${m} ${p}`);
    assert.equal(r.json.error, `Detached command '${started.id}' not found`);
  }
  assert.equal(h.upstream.requests.length, before, "b's probes never reached the upstream");
  assert.deepEqual(await b.sdk.detachedList('bg'), []);
  await a.sdk.detachedKill('bg', started.id);
  assert.deepEqual(await outcomes(a.id), ['exec_detached:succeeded:true']);
});

test("stream progress events do not carry the upstream's internal sandbox names", async () => {
  const t = await h.createTenant('team');
  const events = [];
  for await (const ev of t.sdk.runStream(['echo', 'p'])) events.push(ev);
  const progress = events.filter((e) => e.type === 'progress');
  assert.ok(progress.length >= 1, 'fast:false streams report progress');
  for (const e of progress) assert.equal((e.data as any).sandbox, undefined);
  assert.deepEqual(progress.map((e) => (e.data as any).stage), ['sandbox_created', 'sandbox_started']);
});

test('upstream 5xx details stay in the operator log; known sandbox errors pass through', async () => {
  const t = await h.createTenant('team');
  await h.upstream.setMode('error500');
  let r;
  try {
    r = await h.fetchAs(t.apiKey, 'GET', '/sandboxes');
  } finally {
    await h.upstream.setMode('normal');
  }
  assert.equal(r.status, 500);
  assert.doesNotMatch(r.json.error, /injected failure/);
  assert.match(r.json.error, new RegExp(r.headers.get('x-request-id')!));
  assert.ok(h.logs.some((l) => l.includes('injected failure') && l.includes('upstream error hidden')), 'the detail is logged');
  await t.sdk.createSandbox('stopped');
  await h.fetchAs(t.apiKey, 'POST', '/sandboxes/stopped/stop');
  const exec = await h.fetchAs(t.apiKey, 'POST', '/sandboxes/stopped/exec', { command: ['echo'] });
  assert.equal(exec.status, 500);
  assert.match(exec.json.error, /^Sandbox 'stopped' is not running/);
  assert.deepEqual((await outcomes(t.id)).at(-1), 'exec:rejected:false', 'never ran: refunded');
});
