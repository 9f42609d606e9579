// /run/stream: events arrive as the upstream sends them, with the SDK's parser; billing follows the
// rules in gateway/src/quota-ledger.ts when clients abort and when the gateway dies mid-stream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startHarness, type Harness } from '../support/gateway-harness.js';
import { freePort } from '../support/free-port.js';
import { until } from '../support/wait.js';
import { QuotaLedger } from '../../gateway/src/quota-ledger.js';

let h: Harness;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

async function ledger(accountId: string) {
  const { rows } = await h.db.query(`SELECT id, kind, outcome, billable FROM usage_events WHERE account_id = $1 AND executions = 1 ORDER BY started_at`, [accountId]);
  return rows;
}

test('the SDK streams started, output and done events through the gateway; billed once as succeeded', async () => {
  const t = await h.createTenant('team');
  h.upstream.setStream({ chunks: 3, intervalMs: 20 });
  const events: { type: string; data: any }[] = [];
  for await (const ev of t.sdk.runStream(['echo', 'hello', 'stream'])) events.push(ev);
  h.upstream.setStream({ chunks: 1, intervalMs: 0 });
  assert.equal(events[0].type, 'started');
  assert.equal(events.at(-1)!.type, 'done');
  assert.equal(events.at(-1)!.data.success, true);
  const text = events.filter((e) => e.type === 'output').map((e) => e.data.data).join('');
  assert.equal(text.trim(), 'hello stream');
  const upstreamBody = h.upstream.requestsTo('POST', '/run/stream').at(-1)!.body as any;
  assert.equal(upstreamBody.fast, false);
  const rows = await until('settled', async () => { const r = await ledger(t.id); return r.length > 0 && r[0].outcome !== 'reserved' ? r : undefined; });
  assert.deepEqual(rows.map((r) => [r.kind, r.outcome, r.billable]), [['run_stream', 'succeeded', true]]);
});

test('a client that aborts a started stream is billed once as client_aborted and the upstream call is cancelled', async () => {
  const t = await h.createTenant('team');
  h.upstream.setStream({ chunks: 50, intervalMs: 100 });
  try {
    const ac = new AbortController();
    const res = await fetch(`${h.url}/run/stream`, {
      method: 'POST', signal: ac.signal,
      headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ command: ['echo', 'x'.repeat(500)] }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = res.body!.getReader();
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /event: started/);
    ac.abort();
    await reader.cancel().catch(() => {});
    const rows = await until('settled', async () => { const r = await ledger(t.id); return r.length > 0 && r[0].outcome !== 'reserved' ? r : undefined; });
    assert.deepEqual(rows.map((r) => [r.outcome, r.billable]), [['client_aborted', true]]);
    await until('upstream call released', async () => h.upstream.inFlight === 0);
  } finally {
    h.upstream.setStream({ chunks: 1, intervalMs: 0 });
  }
  assert.equal((await h.fetchAs(t.apiKey, 'GET', '/v1/account')).json.data.quota.used, 1);
});

test('a stream the upstream refuses is an envelope error and refunded', async () => {
  const t = await h.createTenant('team');
  await h.upstream.setMode('error500');
  try {
    const r = await h.fetchAs(t.apiKey, 'POST', '/run/stream', { command: ['echo'] });
    assert.equal(r.status, 500);
    assert.equal(r.json.success, false);
  } finally {
    await h.upstream.setMode('normal');
  }
  const rows = await ledger(t.id);
  assert.deepEqual(rows.map((r) => [r.outcome, r.billable]), [['rejected', false]]);
});

test('gateway killed mid-stream: the ledger keeps the reservation, a new gateway serves on, the sweep settles it once', async () => {
  const t = await h.createTenant('team');
  const port = await freePort();
  const bin = fileURLToPath(new URL('../../bin/agentkernel-gateway.js', import.meta.url));
  const env = {
    ...process.env, DATABASE_URL: h.databaseUrl, REDIS_URL: process.env.TEST_REDIS_URL, AGENTKERNEL_URL: h.upstream.url,
    AGENTKERNEL_API_KEY: h.upstream.apiKey, GATEWAY_ADMIN_TOKEN: h.adminToken, GATEWAY_PORT: String(port), GATEWAY_TIERS: '',
  };
  const startChild = async () => {
    const child = spawn(process.execPath, [bin, 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d) => { childErr += d; });
    await until('child gateway up', async () => fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false), 30_000);
    return child;
  };
  let childErr = '';
  h.upstream.setStream({ chunks: 50, intervalMs: 100 });
  let child = await startChild();
  try {
    const res = await fetch(`http://127.0.0.1:${port}/run/stream`, {
      method: 'POST', headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ command: ['echo', 'y'.repeat(500)] }),
    }).catch((e) => { throw new Error(`${e.cause?.message ?? e}: ${childErr}`); });
    const reader = res.body!.getReader();
    await reader.read();
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await reader.read().catch(() => {});
    const [row] = await ledger(t.id);
    assert.equal(row.outcome, 'reserved', 'the dead process could not settle');
    assert.equal((await h.fetchAs(t.apiKey, 'GET', '/v1/account')).json.data.quota.used, 1, 'the reservation still counts');

    child = await startChild();
    h.upstream.setStream({ chunks: 1, intervalMs: 0 });
    const again = await fetch(`http://127.0.0.1:${port}/run`, {
      method: 'POST', headers: { authorization: `Bearer ${t.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ command: ['echo', 'after restart'] }),
    }).catch((e) => { throw new Error(`${e.cause?.message ?? e}: ${childErr}`); });
    assert.equal(again.status, 200);
  } finally {
    child.kill('SIGTERM');
    h.upstream.setStream({ chunks: 1, intervalMs: 0 });
  }
  // The reaper sweeps reservations older than the longest possible call; run that sweep now.
  const ledgerNow = await ledger(t.id);
  assert.deepEqual(ledgerNow.map((r) => r.outcome), ['reserved', 'succeeded']);
  assert.equal(await new QuotaLedger(h.db).sweepInterrupted(0), 1);
  assert.equal(await new QuotaLedger(h.db).sweepInterrupted(0), 0, 'sweeping twice settles nothing twice');
  const final = await ledger(t.id);
  assert.deepEqual(final.map((r) => [r.outcome, r.billable]), [['interrupted', true], ['succeeded', true]]);
  const { rows } = await h.db.query('SELECT used FROM quota_counters WHERE account_id = $1', [t.id]);
  assert.equal(Number(rows[0].used), 2, 'counter = billable ledger rows');
});
