// The Robot dynamic providers against a local fake of the Robot webservice (test/support/fake-robot.ts):
// adoption, reinstall up to the point where SSH is needed, vSwitch, error answers, rate limits,
// hangs and garbage, each a clear error within a bounded time. Plus the serialized provider running
// in a separate node process, the way Pulumi's dynamic provider host loads it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { FakeRobot } from '../support/fake-robot.js';
import { robotServerProvider, type RobotServerState } from '../../infra/robot/robot-server-provider.js';
import { robotVswitchProvider, type RobotVswitchState } from '../../infra/robot/robot-vswitch-provider.js';
import { installimageScript, md5Fingerprint } from '../../infra/robot/installimage.js';
import { publicKeyOf } from '../../infra/ssh-key.js';
import { testPrivateKey } from './mock-program.js';

let robot: FakeRobot;
before(async () => {
  robot = await new FakeRobot().start();
  robot.addServer({ number: 321, ip: '127.0.0.1', name: 'sandbox-1', product: 'AX42', dc: 'FSN1-DC7' });
});
after(() => robot.stop());

const fast = { requestTimeoutMs: 300, rateLimitAttempts: 3, rateLimitDelayMs: 10 };
const inputs = (over: Partial<RobotServerState> = {}): RobotServerState => ({
  robotUrl: robot.url, robotUser: 'robot-user', robotPassword: 'robot-password', serverNumber: 321, serverIp: '127.0.0.1', ...fast, ...over,
});

async function failsWith(p: Promise<unknown>, pattern: RegExp, maxMs: number): Promise<void> {
  const started = Date.now();
  await assert.rejects(p, (err: Error) => {
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes('robot-password'), 'credentials never appear in errors');
    return true;
  });
  assert.ok(Date.now() - started < maxMs, `failed within ${maxMs} ms (took ${Date.now() - started})`);
}

test('create adopts the server: checks number and IP with basic auth, keeps no SSH key in the state', async () => {
  robot.requests.length = 0;
  const r = await robotServerProvider.create(inputs({ sshPrivateKey: 'never stored' }));
  assert.equal(r.id, '321');
  assert.equal(r.outs.serverName, 'sandbox-1');
  assert.equal(r.outs.product, 'AX42');
  assert.equal(r.outs.datacenter, 'FSN1-DC7');
  assert.equal(r.outs.installedGeneration, null);
  assert.equal(r.outs.sshPrivateKey, undefined);
  assert.deepEqual(robot.requests.map((q) => [q.method, q.path, q.authorized]), [['GET', '/server/321', true]]);
  assert.equal(robot.resets.length, 0, 'adopting never resets the server');
});

test('a server number with another IP is refused', async () => {
  await failsWith(robotServerProvider.create(inputs({ serverIp: '203.0.113.99' })), /server 321 has main IP 127\.0\.0\.1, not 203\.0\.113\.99/, 2000);
});

test('error answers become errors with Robot status and code', async () => {
  await failsWith(robotServerProvider.create(inputs({ serverNumber: 999 })), /Robot GET \/server\/999: 404 SERVER_NOT_FOUND: Server not found/, 2000);
  await failsWith(robotServerProvider.create(inputs({ robotPassword: 'wrong' })), /Robot GET \/server\/321: 401 UNAUTHORIZED/, 2000);
});

test('rate limits are waited out a bounded number of times', async () => {
  robot.requests.length = 0;
  robot.rateLimitNext = 2;
  const r = await robotServerProvider.create(inputs());
  assert.equal(r.id, '321');
  assert.equal(robot.requests.length, 3, 'two rate-limited attempts, then the answer');
  robot.rateLimitNext = 10;
  await failsWith(robotServerProvider.create(inputs()), /Robot GET \/server\/321 \(still rate limited after 3 attempts\): 403 RATE_LIMIT_EXCEEDED/, 2000);
  robot.rateLimitNext = 0;
});

test('no answer is a timeout, not a hang; a non-JSON answer is a clear error', async () => {
  robot.hangNext = true;
  await failsWith(robotServerProvider.create(inputs()), /Robot GET \/server\/321: no answer within 300 ms/, 2000);
  robot.garbageNext = true;
  await failsWith(robotServerProvider.create(inputs()), /Robot GET \/server\/321: HTTP 502 with a body that is not JSON: "<html>/, 2000);
  await failsWith(robotServerProvider.create(inputs({ robotUrl: 'http://127.0.0.1:9' })), /Robot GET \/server\/321: fetch failed/, 2000);
});

test('reinstall: our key into Robot, rescue with that key, hardware reset, then waits for SSH with a deadline', async () => {
  const key = testPrivateKey();
  const publicKey = publicKeyOf(key, 'test');
  robot.requests.length = 0;
  robot.rescue.set(321, { active: true, keys: [] }); // an older activation without our key
  const install = { generation: 1, hostname: 'sandbox', drives: [], raidLevel: 1, sshPublicKey: publicKey };
  const timing = { rescueWaitMs: 1500, installMs: 1000, bootWaitMs: 1000, pollMs: 200 };
  // Nothing answers SSH on 127.0.0.1:22 here, so the rescue system is never "reached".
  await failsWith(robotServerProvider.create(inputs({ install, sshPrivateKey: key, timing })), /rescue system of server 321: not reached within 2 s \(last: ssh root@127\.0\.0\.1:22: /, 6000);
  const fingerprint = await md5Fingerprint(publicKey);
  assert.ok(robot.keys.has(fingerprint), 'the key is deposited in Robot');
  assert.equal(robot.keys.get(fingerprint)!.data, publicKey);
  assert.deepEqual(robot.rescue.get(321), { active: true, keys: [fingerprint] }, 'rescue re-activated with our key');
  assert.deepEqual(robot.resets, [{ server: 321, type: 'hw' }]);
  assert.deepEqual(robot.requests.map((q) => `${q.method} ${q.path}`), [
    'GET /server/321', `GET /key/${fingerprint}`, 'POST /key', 'POST /boot/321/rescue', 'DELETE /boot/321/rescue', 'POST /boot/321/rescue', 'POST /reset/321',
  ]);
  // A second run finds the key and does not upload it again.
  robot.requests.length = 0;
  robot.rescue.delete(321);
  await failsWith(robotServerProvider.create(inputs({ install, sshPrivateKey: key, timing })), /not reached/, 6000);
  assert.ok(!robot.requests.some((q) => q.method === 'POST' && q.path === '/key'));
});

test('the MD5 fingerprint is the one ssh-keygen prints (Robot names keys by it)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aks-fp-'));
  const publicKey = publicKeyOf(testPrivateKey(), 'test');
  writeFileSync(join(dir, 'id.pub'), `${publicKey}\n`);
  const out = execFileSync('ssh-keygen', ['-l', '-E', 'md5', '-f', join(dir, 'id.pub')], { encoding: 'utf8' });
  assert.equal(out.split(' ')[1], `MD5:${await md5Fingerprint(publicKey)}`);
});

test('installimage script: valid bash, Debian 13, our keys, given disks and RAID level', () => {
  for (const drives of [[], ['nvme0n1', 'nvme1n1']]) {
    const script = installimageScript({ hostname: 'sandbox', drives, raidLevel: 1 });
    execFileSync('bash', ['-n'], { input: script });
    assert.match(script, /Debian-13\*-"\$arch"-base\.tar\.gz/);
    assert.match(script, /-a -n 'sandbox' -r "\$raid" -l 1 -d "\$drives" -i "\$image" .* -K \/root\/\.ssh\/authorized_keys/);
    if (drives.length) assert.match(script, /drives='nvme0n1,nvme1n1'/);
  }
});

test('diff: another server replaces; a new install generation reinstalls; other install edits do not', async () => {
  const install = { generation: 1, hostname: 'a', drives: [], raidLevel: 1, sshPublicKey: 'ssh-ed25519 AAAA' };
  const olds = { ...inputs({ install }), installedGeneration: 1 };
  const d = robotServerProvider.diff!;
  assert.deepEqual(await d('321', olds, inputs({ serverNumber: 322, install })), { changes: true, replaces: ['serverNumber'], deleteBeforeReplace: false });
  assert.equal((await d('321', olds, inputs({ install: { ...install, generation: 2 } }))).changes, true);
  assert.deepEqual((await d('321', olds, inputs({ install: { ...install, generation: 2 } }))).replaces, []);
  assert.equal((await d('321', olds, inputs({ install: { ...install, hostname: 'b' } }))).changes, false);
  assert.equal((await d('321', olds, inputs())).changes, false, 'dropping install leaves the disks alone');
});

test('delete leaves the rented server alone', async () => {
  robot.requests.length = 0;
  await robotServerProvider.delete!('321', inputs());
  assert.equal(robot.requests.length, 0);
});

test('vSwitch: ordered once, server attached once, detached on delete', async () => {
  const v: RobotVswitchState = { robotUrl: robot.url, robotUser: 'robot-user', robotPassword: 'robot-password', name: 'agentkernel', vlan: 4000, serverIp: '127.0.0.1', ...fast };
  const first = await robotVswitchProvider.create(v);
  const second = await robotVswitchProvider.create(v);
  assert.equal(first.id, second.id, 'the existing vSwitch is found, not ordered again');
  assert.equal(robot.vswitches.length, 1);
  assert.deepEqual(robot.vswitches[0].servers, ['127.0.0.1']);
  await robotVswitchProvider.delete!(first.id, first.outs);
  assert.deepEqual(robot.vswitches[0].servers, []);
  await robotVswitchProvider.delete!(first.id, first.outs); // already detached: fine
  await failsWith(robotVswitchProvider.create({ ...v, vlan: 12 }), /Robot POST \/vswitch: 400 INVALID_INPUT/, 2000);
});

test('the serialized provider works on its own in another node process (as under the real CLI)', async () => {
  // Pulumi's dynamic provider host loads the text with require-from-string, from the project directory.
  const serialized = await pulumi.runtime.serializeFunction(() => robotServerProvider, { allowSecrets: true } as never);
  const dir = mkdtempSync(join(tmpdir(), 'aks-serialized-'));
  writeFileSync(join(dir, 'provider.js'), serialized.text);
  const requireFromString = createRequire(createRequire(import.meta.url).resolve('@pulumi/pulumi')).resolve('require-from-string');
  const callCreate = (args: RobotServerState) => `const code = require('node:fs').readFileSync(${JSON.stringify(join(dir, 'provider.js'))}, 'utf8');
const p = require(${JSON.stringify(requireFromString)})(code).handler();
p.create(${JSON.stringify(args)}).then((r) => process.stdout.write(JSON.stringify(r)), (e) => process.stdout.write(JSON.stringify({ error: String(e.message) })));`;
  const inChild = (args: RobotServerState) =>
    new Promise<Record<string, any>>((resolve, reject) => {
      // Async: the fake Robot answers from this process.
      let stdout = '';
      const p = spawn(process.execPath, ['-e', callCreate(args)], { cwd: process.cwd() });
      p.stdout.on('data', (d: Buffer) => (stdout += d));
      p.on('exit', (code: number) => (code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`exit ${code}`))));
    });
  const adopted = await inChild(inputs());
  assert.equal(adopted.id, '321');
  assert.equal(adopted.outs.serverName, 'sandbox-1');
  // The reinstall path loads node:crypto and ssh2 with dynamic imports inside the serialized code.
  const key = testPrivateKey();
  const install = { generation: 1, hostname: 'sandbox', drives: [], raidLevel: 1, sshPublicKey: publicKeyOf(key, 'test') };
  const timing = { rescueWaitMs: 1000, installMs: 1000, bootWaitMs: 1000, pollMs: 200 };
  robot.rescue.delete(321);
  const reinstall = await inChild(inputs({ install, sshPrivateKey: key, timing }));
  assert.match(reinstall.error, /rescue system of server 321: not reached within 1 s \(last: ssh root@127\.0\.0\.1:22: /);
});
