// Namespacing and isolation through the official SDK: tenants only ever see their own unprefixed
// names, another tenant's sandbox is a 404 exactly like a missing one, and unsafe upstream features
// (permissive profile, pooled runs, host volumes/secrets/ports, unscoped route families) never pass.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { NotFoundError } from 'agentkernel';
import { startHarness, rawRequest, type Harness } from '../support/gateway-harness.js';

let h: Harness;
before(async () => { h = await startHarness(); });
after(async () => { await h?.close(); });

test('a tenant creates, lists, inspects and deletes sandboxes under its own names', async () => {
  const a = await h.createTenant('team');
  const info = await a.sdk.createSandbox('box', { memory_mb: 512 });
  assert.equal(info.name, 'box');
  const created = h.upstream.requestsTo('POST', '/sandboxes').at(-1)!;
  assert.equal((created.body as any).name, `${a.namespace}-box`, 'upstream sees the prefixed name');
  assert.deepEqual((await a.sdk.listSandboxes()).map((s) => s.name), ['box']);
  assert.equal((await a.sdk.getSandbox('box')).name, 'box');
  const byUuid = await a.sdk.getSandboxByUuid(info.uuid!);
  assert.equal(byUuid.name, 'box');
  const other = await h.createTenant('team');
  await assert.rejects(other.sdk.getSandboxByUuid(info.uuid!), NotFoundError, "another tenant's uuid is not found");
  const out = await a.sdk.execInSandbox('box', ['echo', 'hi']);
  assert.equal(out.output, 'hi\n');
  await a.sdk.removeSandbox('box');
  assert.deepEqual(await a.sdk.listSandboxes(), []);
  assert.equal(h.upstream.sandboxes.has(`${a.namespace}-box`), false);
});

test("two tenants using the same name get distinct upstream sandboxes and never see each other's", async () => {
  const a = await h.createTenant('team');
  const b = await h.createTenant('team');
  await a.sdk.createSandbox('same');
  await b.sdk.createSandbox('same');
  assert.ok(h.upstream.sandboxes.has(`${a.namespace}-same`) && h.upstream.sandboxes.has(`${b.namespace}-same`));
  await a.sdk.writeFile('same', 'secret.txt', 'only-a');
  await b.sdk.writeFile('same', 'secret.txt', 'only-b');
  assert.equal((await a.sdk.readFile('same', 'secret.txt')).content, 'only-a');
  assert.equal((await b.sdk.readFile('same', 'secret.txt')).content, 'only-b');
  assert.deepEqual((await a.sdk.listSandboxes()).map((s) => s.name), ['same']);
  await b.sdk.removeSandbox('same');
  assert.equal((await a.sdk.getSandbox('same')).name, 'same', "b's delete did not touch a's sandbox");
});

test("another tenant's sandbox answers exactly like a missing one, on every route", async () => {
  const a = await h.createTenant('team');
  const b = await h.createTenant('team');
  await a.sdk.createSandbox('private');
  const routes: [string, string, unknown?][] = [
    ['GET', '/sandboxes/private'],
    ['DELETE', '/sandboxes/private'],
    ['POST', '/sandboxes/private/exec', { command: ['cat', '/etc/hostname'] }],
    ['GET', '/sandboxes/private/files/etc/hostname'],
    ['GET', '/sandboxes/private/logs'],
    ['POST', '/sandboxes/private/stop'],
    ['POST', '/sandboxes/private/extend', { by: '1h' }],
  ];
  const before = h.upstream.requests.length;
  for (const [method, path, body] of routes) {
    const theirs = await h.fetchAs(b.apiKey, method, path, body);
    const missing = await h.fetchAs(b.apiKey, method, path.replace('private', 'nosuchbox'), body);
    assert.equal(theirs.status, 404, `${method} ${path}`);
    assert.equal(theirs.json.success, false);
    assert.equal(theirs.json.error, missing.json.error.replace('nosuchbox', 'private'), `${method} ${path}: same message as missing`);
  }
  assert.equal(h.upstream.requests.length, before, 'nothing of b reached the upstream');
  await assert.rejects(b.sdk.getSandbox('private'), NotFoundError);
  assert.equal((await a.sdk.getSandbox('private')).name, 'private');
});

test('names at the length limit work, longer and malformed names are 400s, encoded slashes do not escape', async () => {
  const a = await h.createTenant('team');
  const longest = 'n'.repeat(54);
  assert.equal((await a.sdk.createSandbox(longest)).name, longest);
  const upstreamName = `${a.namespace}-${longest}`;
  assert.equal(upstreamName.length, 63);
  assert.ok(h.upstream.sandboxes.has(upstreamName));
  await a.sdk.removeSandbox(longest);
  const before = h.upstream.requests.length;
  for (const bad of ['n'.repeat(55), '-lead', 'trail-', 'a--b', 'a__b', 'a-_b', 'a_-b', 'has space', 'dot.name', 'é']) {
    const r = await h.fetchAs(a.apiKey, 'POST', '/sandboxes', { name: bad });
    assert.equal(r.status, 400, `name ${JSON.stringify(bad)}`);
    assert.equal(r.json.success, false);
  }
  for (const path of ['/sandboxes/a%2Fb', '/sandboxes/..%2F..%2Fsandboxes', '/sandboxes/%2e%2e', `/sandboxes/${encodeURIComponent(`${a.namespace}-x`)}/logs`]) {
    const r = await h.fetchAs(a.apiKey, 'GET', path);
    assert.ok([400, 404].includes(r.status), `${path}: ${r.status}`);
    assert.equal(r.json.success, false);
  }
  assert.equal(h.upstream.requests.length, before, 'no malformed request was forwarded');
});

test("a tenant cannot reach another tenant's sandbox by spelling out its prefixed name", async () => {
  const a = await h.createTenant('team');
  const b = await h.createTenant('team');
  await a.sdk.createSandbox('target');
  const forged = `${a.namespace}-target`;
  const r = await h.fetchAs(b.apiKey, 'GET', `/sandboxes/${forged}`);
  assert.equal(r.status, 404);
  // Creating the forged name makes b's own sandbox `<b>-<a>-target`, never a's.
  await b.sdk.createSandbox(forged);
  assert.ok(h.upstream.sandboxes.has(`${b.namespace}-${forged}`));
  assert.equal((await a.sdk.readFile('target', 'x').catch((e) => e)).constructor.name !== 'Error', true);
});

test('file paths with .. or . segments are refused before anything is forwarded', async () => {
  const a = await h.createTenant('team');
  await a.sdk.createSandbox('files');
  const before = h.upstream.requests.length;
  // Sent raw: fetch() would normalise the dots away before they ever reach the gateway.
  for (const p of ['../etc/passwd', 'a/../../b', './x', 'a//b', 'a/%2e%2e/b', '%2e%2e/x']) {
    const r = await rawRequest(h.url, a.apiKey, 'GET', `/sandboxes/files/files/${p}`);
    assert.equal(r.status, 400, p);
    assert.match(r.json.error, /path/);
  }
  const batch = await h.fetchAs(a.apiKey, 'POST', '/sandboxes/files/files', { files: { 'ok.txt': 'x', '../escape': 'y' } });
  assert.equal(batch.status, 400);
  assert.equal(h.upstream.requests.length, before);
  assert.equal(JSON.stringify(h.upstream.sandboxes.get(`${a.namespace}-files`)).includes("ok.txt"), false, "batch with one bad path wrote nothing");
});

test('permissive is never forwarded; tiers without network run restrictive; pooled runs are never used', async () => {
  const free = await h.createTenant('free');
  const team = await h.createTenant('team');
  const r1 = await h.fetchAs(team.apiKey, 'POST', '/run', { command: ['echo', 'x'], profile: 'permissive' });
  assert.equal(r1.status, 403);
  assert.match(r1.json.error, /permissive/);
  const r2 = await h.fetchAs(team.apiKey, 'POST', '/sandboxes', { name: 'p', profile: 'permissive' });
  assert.equal(r2.status, 403);
  assert.equal(h.upstream.requestsTo('POST', '/sandboxes').filter((r) => (r.body as any)?.profile === 'permissive').length, 0);

  await free.sdk.run(['echo', 'hello']);
  const freeRun = h.upstream.requestsTo('POST', '/run').at(-1)!;
  assert.equal((freeRun.body as any).profile, 'restrictive');
  assert.equal((freeRun.body as any).fast, false, 'the SDK asks fast:true; the gateway never pools');
  await free.sdk.createSandbox('nonet');
  assert.equal((h.upstream.requestsTo('POST', '/sandboxes').at(-1)!.body as any).profile, 'restrictive');
  const r3 = await h.fetchAs(free.apiKey, 'POST', '/run', { command: ['echo'], profile: 'moderate' });
  assert.equal(r3.status, 403);
  assert.match(r3.json.error, /network/);

  await team.sdk.run(['echo', 'hi'], { fast: true });
  assert.equal((h.upstream.requestsTo('POST', '/run').at(-1)!.body as any).fast, false);
  // Upstream batches always run on its shared pool: the gateway fans them out into fresh runs.
  const runsBefore = h.upstream.requestsTo('POST', '/run').length;
  const batch = await team.sdk.batchRun([{ command: ['echo', '1'] }, { command: ['echo', '2'] }]);
  assert.deepEqual(batch.results.map((r) => r.output), ['1\n', '2\n']);
  assert.equal(h.upstream.requestsTo('POST', '/batch/run').length, 0);
  const fanned = h.upstream.requestsTo('POST', '/run').slice(runsBefore);
  assert.deepEqual(fanned.map((r) => [(r.body as any).command.join(' '), (r.body as any).fast]), [['echo 1', false], ['echo 2', false]]);
});

test('caps: memory, vcpus and concurrent sandboxes above the tier are refused and nothing is created upstream', async () => {
  const free = await h.createTenant('free');
  const before = h.upstream.requestsTo('POST', '/sandboxes').length;
  const mem = await h.fetchAs(free.apiKey, 'POST', '/sandboxes', { name: 'big', memory_mb: 1024 });
  assert.equal(mem.status, 403);
  assert.match(mem.json.error, /512 MB/);
  const cpu = await h.fetchAs(free.apiKey, 'POST', '/sandboxes', { name: 'big', vcpus: 8 });
  assert.equal(cpu.status, 403);
  assert.match(cpu.json.error, /vCPU/);
  assert.equal(h.upstream.requestsTo('POST', '/sandboxes').length, before);
  await free.sdk.createSandbox('one');
  const second = await h.fetchAs(free.apiKey, 'POST', '/sandboxes', { name: 'two' });
  assert.equal(second.status, 403);
  assert.match(second.json.error, /concurrent sandbox limit.*1/);
  assert.equal(h.upstream.requestsTo('POST', '/sandboxes').length, before + 1);
  // Concurrent creations cannot overshoot the cap either.
  await free.sdk.removeSandbox('one');
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => h.fetchAs(free.apiKey, 'POST', '/sandboxes', { name: `race${i}` })));
  assert.equal(results.filter((r) => r.status === 201).length, 1);
  assert.equal((await free.sdk.listSandboxes()).length, 1);
});

test('host-reaching create options and unscoped route families are refused with the envelope', async () => {
  const a = await h.createTenant('team');
  for (const field of ['volumes', 'secrets', 'secret_files', 'ports']) {
    const r = await h.fetchAs(a.apiKey, 'POST', '/sandboxes', { name: 'x', [field]: ['/:/host'] });
    assert.equal(r.status, 403, field);
    assert.match(r.json.error, new RegExp(field));
  }
  for (const path of ['/orchestrations', '/objects', '/schedules', '/stores', '/pages', '/orchestrations/definitions']) {
    const r = await h.fetchAs(a.apiKey, 'GET', path);
    assert.equal(r.status, 403, path);
    assert.match(r.json.error, /not available/);
  }
  for (const [m, p] of [['POST', '/sandboxes/x/resize'], ['GET', '/secrets'], ['POST', '/gc'], ['GET', '/audit']]) {
    const r = await h.fetchAs(a.apiKey, m, p, m === 'POST' ? {} : undefined);
    assert.equal(r.status, 404, p);
    assert.equal(r.json.success, false);
  }
  const leaked = h.upstream.requests.filter((r) => /^\/(orchestrations|objects|schedules|stores|pages|secrets|gc|audit)|\/resize$/.test(r.path));
  assert.deepEqual(leaked.map((r) => r.path), []);
});

test("upstream error messages reach the tenant without the tenant's prefix", async () => {
  const a = await h.createTenant('team');
  await a.sdk.createSandbox('dup');
  // Make the upstream itself refuse: a sandbox that exists upstream but not in the registry's view
  // is impossible through the gateway, so ask the upstream for a missing file instead.
  const r = await h.fetchAs(a.apiKey, 'GET', '/sandboxes/dup/files/nope.txt');
  assert.equal(r.json.success, false);
  assert.ok(!r.text.includes(a.namespace), r.text);
  const logs = await h.fetchAs(a.apiKey, 'GET', '/sandboxes/dup/logs');
  assert.ok(!logs.text.includes(a.namespace), 'logs are scrubbed');
});
