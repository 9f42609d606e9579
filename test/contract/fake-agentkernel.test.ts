// The fake's own knobs (what the real server has no equivalent for): request recording, failure modes,
// stream shaping, the concurrency gauge, reset. Its contract with the real server is upstream.contract.test.ts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { AgentKernel } from 'agentkernel';
import { startFakeAgentkernel } from '../support/fake-agentkernel.js';

/** One request on a fresh connection, with the path sent byte for byte (fetch would normalise it). */
function rawGet(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${fake.url}${path}`, { agent: false, headers: { authorization: 'Bearer self-test-key' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.path = path;
    req.on('error', reject);
    req.end();
  });
}

const fake = await startFakeAgentkernel({ apiKey: 'self-test-key' });
const client = new AgentKernel({ baseUrl: fake.url, apiKey: 'self-test-key', timeout: 5000 });
after(() => fake.close());

test('records method, raw path, headers and parsed body of every request', async () => {
  fake.reset();
  await client.run(['echo', 'hi'], { fast: false });
  await rawGet('/sandboxes/a%2Fb/files//x/../y?q=1');
  assert.equal(fake.requests.length, 2);
  const [run, raw] = fake.requests;
  assert.equal(run.method, 'POST');
  assert.equal(run.path, '/run');
  assert.equal(run.headers.authorization, 'Bearer self-test-key');
  assert.deepEqual(run.body, { command: ['echo', 'hi'], fast: false });
  assert.equal(raw.path, '/sandboxes/a%2Fb/files//x/../y?q=1', 'path is recorded as sent, not normalised');
  assert.ok(run.at <= raw.at && raw.at <= Date.now());
  assert.equal(fake.requestsTo('POST', '/run').length, 1);
});

test('down: connection refused, then back on the same port', async () => {
  await fake.setMode('down');
  await assert.rejects(rawGet('/health'), { code: 'ECONNREFUSED' });
  await fake.setMode('normal');
  assert.equal(await client.health(), 'ok');
});

test('slow delays every answer; error500 fails every route with the envelope', async () => {
  await fake.setMode('slow', { delayMs: 150 });
  const t0 = Date.now();
  assert.equal(await client.health(), 'ok');
  assert.ok(Date.now() - t0 >= 140);
  await fake.setMode('error500');
  const res = await fetch(`${fake.url}/health`);
  assert.equal(res.status, 500);
  assert.deepEqual(await res.json(), { success: false, error: 'injected failure (fake error500 mode)' });
  await fake.setMode('normal');
});

test('reset drops the connection after the request arrived; hang never answers', async () => {
  await fake.setMode('reset');
  await assert.rejects(fetch(`${fake.url}/health`));
  await fake.setMode('hang');
  await assert.rejects(fetch(`${fake.url}/health`, { signal: AbortSignal.timeout(200) }), { name: 'TimeoutError' });
  await fake.setMode('normal');
  assert.equal(fake.requests.at(-1)?.path, '/health', 'requests in hang/reset mode are still recorded');
});

test('concurrency gauge sees requests held open by a sleeping command', async () => {
  fake.reset();
  await Promise.all(Array.from({ length: 5 }, () => client.run(['sleep', '0.2'], { fast: false })));
  assert.equal(fake.maxInFlight, 5);
  assert.equal(fake.inFlight, 0);
  fake.resetGauge();
  assert.equal(fake.maxInFlight, 0);
});

test('stream shape: output in several events spaced in time, cut mid-stream by the client', async () => {
  fake.setStream({ chunks: 4, intervalMs: 50 });
  const events: { type: string; data: Record<string, unknown> }[] = [];
  const t0 = Date.now();
  for await (const e of client.runStream(['echo', 'abcdefgh'], { fast: false })) events.push(e as never);
  assert.ok(Date.now() - t0 >= 4 * 50, 'events are spread over time');
  const outputs = events.filter((e) => e.type === 'output').map((e) => e.data.data);
  assert.deepEqual(outputs, ['abc', 'def', 'gh\n', '']);
  assert.equal(events.at(-1)?.type, 'done');

  // A client that goes away after the first event: the fake notices and stops writing.
  await new Promise<void>((resolve, reject) => {
    const req = request(`${fake.url}/run/stream`, { method: 'POST', headers: { authorization: 'Bearer self-test-key' } }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve();
      });
    });
    req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(e)));
    req.end(JSON.stringify({ command: ['echo', 'x'] }));
  });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(fake.inFlight, 0);
  fake.setStream({ chunks: 1, intervalMs: 0 });
});

test('reset forgets state', async () => {
  await client.createSandbox('keep-me');
  assert.ok(fake.sandboxes.has('keep-me'));
  fake.reset();
  assert.equal(fake.sandboxes.size, 0);
  assert.equal(fake.requests.length, 0);
});

test('pooled runs share state, like the upstream warm pool', async () => {
  fake.reset();
  await client.run(['sh', '-c', "'echo secret > /tmp/left-behind'"]);
  assert.deepEqual(await client.run(['cat', '/tmp/left-behind']), { output: 'secret' });
  await assert.rejects(client.run(['cat', '/tmp/left-behind'], { fast: false }), {
    name: 'ServerError',
    message: "Command exited with code 1: cat: can't open '/tmp/left-behind': No such file or directory\n",
  });
});
