// Quotas are exact under concurrency and every metered execution leaves exactly one ledger row whose
// totals are what /v1/account/usage reports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from '../support/gateway-harness.js';

let h: Harness;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

const unthrottled = { rateLimitPerMinute: 1_000_000 };

test('200 concurrent runs against 50 remaining: exactly 50 reach the upstream, 150 get 429', async () => {
  const t = await h.createTenant('free', { ...unthrottled, executionsPerMonth: 50 });
  const before = h.upstream.requestsTo('POST', '/run').length;
  const results = await Promise.all(Array.from({ length: 200 }, () => h.fetchAs(t.apiKey, 'POST', '/run', { command: ['echo', 'x'] })));
  const ok = results.filter((r) => r.status === 200);
  const limited = results.filter((r) => r.status === 429);
  assert.equal(ok.length, 50);
  assert.equal(limited.length, 150);
  assert.equal(h.upstream.requestsTo('POST', '/run').length - before, 50, 'exactly 50 forwarded');
  const { rows } = await h.db.query(`SELECT count(*)::int AS n, sum(executions)::int AS e FROM usage_events WHERE account_id = $1 AND billable`, [t.id]);
  assert.equal(rows[0].n, 50);
  const { rows: c } = await h.db.query('SELECT used FROM quota_counters WHERE account_id = $1', [t.id]);
  assert.equal(Number(c[0].used), 50);
});

test('an exhausted quota is a 429 envelope naming the limit and reset date, with quota headers', async () => {
  const t = await h.createTenant('free', { ...unthrottled, executionsPerMonth: 2 });
  await t.sdk.run(['echo', '1']);
  await t.sdk.run(['echo', '2']);
  const r = await h.fetchAs(t.apiKey, 'POST', '/run', { command: ['echo', '3'] });
  assert.equal(r.status, 429);
  assert.equal(r.json.success, false);
  const now = new Date();
  const reset = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
  assert.match(r.json.error, /2 executions per month/);
  assert.ok(r.json.error.includes(reset), r.json.error);
  assert.equal(r.headers.get('x-quota-limit'), '2');
  assert.equal(r.headers.get('x-quota-remaining'), '0');
  assert.equal(r.headers.get('x-quota-reset'), reset);
  assert.ok(Number(r.headers.get('retry-after')) > 0);
  // Every metered route is refused alike once the quota is gone.
  await t.sdk.createSandbox('q');
  const exec = await h.fetchAs(t.apiKey, 'POST', '/sandboxes/q/exec', { command: ['echo'] });
  assert.equal(exec.status, 429);
  const stream = await h.fetchAs(t.apiKey, 'POST', '/run/stream', { command: ['echo'] });
  assert.equal(stream.status, 429);
  assert.equal(stream.json.success, false);
  const account = await h.fetchAs(t.apiKey, 'GET', '/v1/account');
  assert.deepEqual({ used: account.json.data.quota.used, remaining: account.json.data.quota.remaining }, { used: 2, remaining: 0 });
  assert.equal(account.json.data.quota.resetsAt, reset);
});

test('each command of a batch is one execution, reserved all or nothing', async () => {
  const t = await h.createTenant('free', { ...unthrottled, executionsPerMonth: 5 });
  const out = await t.sdk.batchRun([{ command: ['echo', 'a'] }, { command: ['echo', 'b'] }, { command: ['false'] }]);
  assert.equal(out.results.length, 3);
  const over = await h.fetchAs(t.apiKey, 'POST', '/batch/run', { commands: [{ command: ['echo'] }, { command: ['echo'] }, { command: ['echo'] }] });
  assert.equal(over.status, 429, '3 more do not fit in the 2 left');
  const { rows } = await h.db.query(`SELECT kind, outcome, billable FROM usage_events WHERE account_id = $1 ORDER BY id`, [t.id]);
  assert.equal(rows.length, 3);
  assert.ok(rows.every((r) => r.kind === 'batch_run' && r.billable));
  assert.equal((await h.fetchAs(t.apiKey, 'GET', '/v1/account')).json.data.quota.used, 3);
  await t.sdk.batchRun([{ command: ['echo', 'a'] }, { command: ['echo', 'b'] }]);
  assert.equal((await h.fetchAs(t.apiKey, 'GET', '/v1/account')).json.data.quota.used, 5);
});

test('usage totals equal the ledger exactly, in JSON and CSV, and cover sandbox lifetimes', async () => {
  const t = await h.createTenant('team', unthrottled);
  await t.sdk.run(['echo', 'one']);
  for await (const ev of t.sdk.runStream(['echo', 'two'])) if (ev.type === 'done') break;
  await t.sdk.createSandbox('life', { memory_mb: 1024 });
  await t.sdk.execInSandbox('life', ['echo', 'three']);
  await new Promise((r) => setTimeout(r, 300));
  await t.sdk.removeSandbox('life');
  const usage = await h.fetchAs(t.apiKey, 'GET', '/v1/account/usage');
  assert.equal(usage.status, 200);
  const report = usage.json.data;
  assert.equal(report.totals.executions, 3);
  assert.deepEqual(report.totals.byKind, { run: 1, run_stream: 1, exec: 1 });
  const { rows } = await h.db.query(
    `SELECT count(*) FILTER (WHERE executions = 1 AND billable)::int AS execs, COALESCE(sum(gb_seconds) FILTER (WHERE billable), 0)::text AS gbs,
            count(*) FILTER (WHERE kind = 'sandbox')::int AS lifetimes
       FROM usage_events WHERE account_id = $1`, [t.id]);
  assert.equal(rows[0].execs, report.totals.executions);
  assert.equal(Number(rows[0].gbs), report.totals.gbSeconds);
  assert.equal(rows[0].lifetimes, 1);
  const lifetime = report.events.find((e: any) => e.kind === 'sandbox');
  assert.equal(lifetime.outcome, 'deleted');
  assert.equal(lifetime.memoryMb, 1024);
  assert.ok(lifetime.gbSeconds >= 0.3 * 1 - 0.05, `a 1 GB sandbox alive >= 0.3 s: ${lifetime.gbSeconds}`);
  const csv = await h.fetchAs(t.apiKey, 'GET', '/v1/account/usage', undefined, { accept: 'text/csv' });
  assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
  const lines = csv.text.trim().split('\n');
  const header = lines[0].split(',');
  const rowsCsv = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
  assert.equal(rowsCsv.length, report.events.length);
  const csvExecs = rowsCsv.filter((r) => r.billable === 'true').reduce((s, r) => s + Number(r.executions), 0);
  const csvMicroGbs = rowsCsv.filter((r) => r.billable === 'true').reduce((s, r) => s + Math.round(Number(r.gbSeconds) * 1e6), 0);
  assert.equal(csvExecs, report.totals.executions);
  assert.equal(csvMicroGbs / 1e6, report.totals.gbSeconds);
  const byParam = await h.fetchAs(t.apiKey, 'GET', '/v1/account/usage?format=csv');
  assert.equal(byParam.text, csv.text, 'format=csv gives the same CSV as Accept: text/csv');
  const other = await h.fetchAs(t.apiKey, 'GET', '/v1/account/usage?month=2020-01');
  assert.equal(other.json.data.totals.executions, 0);
});

test('executions the upstream never ran are refunded; the quota does not leak', async () => {
  const t = await h.createTenant('free', { ...unthrottled, executionsPerMonth: 3 });
  await h.upstream.setMode('down');
  try {
    for (let i = 0; i < 5; i++) {
      const r = await h.fetchAs(t.apiKey, 'POST', '/run', { command: ['echo'] });
      assert.equal(r.status, 502);
      assert.equal(r.json.success, false);
    }
  } finally {
    await h.upstream.setMode('normal');
  }
  const { rows } = await h.db.query(`SELECT outcome, billable FROM usage_events WHERE account_id = $1`, [t.id]);
  assert.equal(rows.length, 5, 'one ledger row per attempt');
  assert.ok(rows.every((r) => r.outcome === 'upstream_unavailable' && !r.billable));
  assert.equal((await h.fetchAs(t.apiKey, 'GET', '/v1/account')).json.data.quota.used, 0);
  for (let i = 0; i < 3; i++) await t.sdk.run(['echo', String(i)]);
  assert.equal((await h.fetchAs(t.apiKey, 'POST', '/run', { command: ['echo'] })).status, 429);
});
