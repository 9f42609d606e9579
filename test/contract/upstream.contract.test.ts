// One contract, two upstreams: every assertion here runs against the fake (test/support/fake-agentkernel.ts)
// and against the real `agentkernel serve` 0.18.1 on podman (test/support/real-agentkernel.ts). A passing
// fake means the gateway's tests talk to something that behaves like production. Where upstream's
// behaviour depends on this host rather than on the contract (snapshots need a `docker` CLI), the real
// one's exact answer is asserted and the fake's deliberate difference is named.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { AgentKernel, AuthError, NotFoundError, ServerError, ValidationError } from 'agentkernel';
import { startFakeAgentkernel } from '../support/fake-agentkernel.js';
import { startRealAgentkernel, realAgentkernelArtifacts } from '../support/real-agentkernel.js';

interface Upstream {
  url: string;
  stop(): Promise<void>;
}

interface Target {
  kind: 'fake' | 'real';
  start(apiKey: string): Promise<Upstream>;
}

const API_KEY = 'contract-test-key';
const artifacts = realAgentkernelArtifacts();
const targets: Target[] = [
  { kind: 'fake', start: async (apiKey) => startFakeAgentkernel({ apiKey }).then((f) => ({ url: f.url, stop: () => f.close() })) },
  { kind: 'real', start: (apiKey) => startRealAgentkernel({ apiKey }) },
];

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** One HTTP request with the path sent exactly as given (fetch would normalise `..` and `//`). */
function raw(base: string, method: string, path: string, body?: string, headers: Record<string, string> = { authorization: `Bearer ${API_KEY}` }): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(base, { method, path, headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function sseEvents(text: string): { event: string; data: any }[] {
  assert.match(text, /^(event: [a-z]+\ndata: [^\n]*\n\n)+$/, `SSE framing: ${JSON.stringify(text)}`);
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((frame) => {
      const [e, d] = frame.split('\n');
      return { event: e.slice('event: '.length), data: JSON.parse(d.slice('data: '.length)) };
    });
}

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$/;
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

for (const target of targets) {
  const realMissing = target.kind === 'real' && 'missing' in artifacts;
  const mustExist = process.env.CI === 'true';
  describe(`agentkernel contract: ${target.kind}`, { skip: realMissing && !mustExist ? `real agentkernel not built (${'missing' in artifacts ? artifacts.missing.join(', ') : ''})` : false }, () => {
    let up: Upstream;
    let ak: AgentKernel;
    const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
      raw(up.url, method, path, body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), headers);

    before(async () => {
      // Under CI the real upstream must be there (.ci/steps/30-agentkernel.sh builds it): fail, never skip.
      up = await target.start(API_KEY);
      ak = new AgentKernel({ baseUrl: up.url, apiKey: API_KEY, timeout: 60_000 });
    });
    after(() => up?.stop());

    test('envelope: /health needs no key and answers {"success":true,"data":"ok"}', async () => {
      const r = await call('GET', '/health', undefined, {});
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'application/json');
      assert.equal(r.text, '{"success":true,"data":"ok"}');
      assert.equal(await ak.health(), 'ok');
    });

    test('auth: every other route needs `Bearer <key>`, with three distinct 401s', async () => {
      const cases: [Record<string, string>, string][] = [
        [{}, 'Missing Authorization header'],
        [{ authorization: `Token ${API_KEY}` }, 'Invalid authorization format. Use: Bearer <api_key>'],
        [{ authorization: `bearer ${API_KEY}` }, 'Invalid authorization format. Use: Bearer <api_key>'],
        [{ authorization: 'Bearer wrong' }, 'Invalid API key'],
      ];
      for (const [headers, error] of cases) {
        for (const [method, path] of [['GET', '/sandboxes'], ['POST', '/run'], ['GET', '/no/such/route']]) {
          const r = await call(method, path, method === 'POST' ? { command: ['echo'] } : undefined, headers);
          assert.equal(r.status, 401, `${method} ${path} ${JSON.stringify(headers)}`);
          assert.deepEqual(r.json, { success: false, error });
        }
      }
      await assert.rejects(new AgentKernel({ baseUrl: up.url, apiKey: 'wrong' }).listSandboxes(), AuthError);
      // HTTP strips surrounding whitespace from header values, so a trailing space still matches.
      assert.equal((await call('GET', '/sandboxes', undefined, { authorization: `Bearer ${API_KEY} ` })).status, 200);
      const unknown = await call('GET', '/no/such/route');
      assert.equal(unknown.status, 404);
      assert.deepEqual(unknown.json, { success: false, error: 'Not found' });
    });

    test('sandbox names: 1-63 chars of [A-Za-z0-9_-], alnum ends, no -- __ -_ _-', async () => {
      const invalid: [string, string][] = [
        ['a'.repeat(64), 'Sandbox name too long (max 63 characters)'],
        ['', 'Sandbox name cannot be empty'],
        ['a--b', 'Sandbox name cannot contain consecutive hyphens or underscores'],
        ['a__b', 'Sandbox name cannot contain consecutive hyphens or underscores'],
        ['a-_b', 'Sandbox name cannot contain consecutive hyphens or underscores'],
        ['a_-b', 'Sandbox name cannot contain consecutive hyphens or underscores'],
        ['-ab', 'Sandbox name must start with a letter or number'],
        ['_ab', 'Sandbox name must start with a letter or number'],
        ['ab-', 'Sandbox name must end with a letter or number'],
        ['ab_', 'Sandbox name must end with a letter or number'],
        ['a.b', "Sandbox name contains invalid character '.'. Only letters, numbers, hyphens, and underscores are allowed"],
        ['a/b', "Sandbox name contains invalid character '/'. Only letters, numbers, hyphens, and underscores are allowed"],
        ['é', 'Sandbox name must start with a letter or number'],
        ['a' + 'é'.repeat(32), 'Sandbox name too long (max 63 characters)'], // 65 bytes: the limit counts bytes
      ];
      for (const [name, error] of invalid) {
        const r = await call('POST', '/sandboxes', { name });
        assert.equal(r.status, 400, name);
        assert.deepEqual(r.json, { success: false, error }, name);
      }
      await assert.rejects(ak.createSandbox('x--y'), ValidationError);
      // Names in the path are not URL-decoded upstream: an encoded slash is just an invalid '%'.
      const encoded = await call('GET', '/sandboxes/a%2Fb');
      assert.deepEqual([encoded.status, encoded.json.error], [400, "Sandbox name contains invalid character '%'. Only letters, numbers, hyphens, and underscores are allowed"]);
      for (const name of ['a'.repeat(63), 'A-b_C-1', '9']) {
        const created = await ak.createSandbox(name);
        assert.equal(created.name, name);
        await ak.removeSandbox(name);
      }
    });

    test('sandbox lifecycle: create 201, get, list, by-uuid, duplicate, delete, then 404', async () => {
      const created = await call('POST', '/sandboxes', { name: 'life1' });
      assert.equal(created.status, 201);
      const info = created.json.data;
      assert.equal(created.json.success, true);
      assert.deepEqual(
        { name: info.name, status: info.status, backend: info.backend, image: info.image, vcpus: info.vcpus, memory_mb: info.memory_mb, placeholder_secrets: info.placeholder_secrets },
        { name: 'life1', status: 'running', backend: 'podman', image: 'alpine:3.20', vcpus: 1, memory_mb: 512, placeholder_secrets: false },
      );
      assert.match(info.uuid, UUID_V7);
      assert.match(info.created_at, RFC3339);
      assert.match(info.last_activity_at, RFC3339);
      assert.equal(info.ip, undefined, 'no network namespace address on this host');

      const got = await ak.getSandbox('life1');
      assert.equal(got.uuid, info.uuid);
      assert.equal(got.status, 'running');
      assert.ok((await ak.listSandboxes()).some((s) => s.name === 'life1'));
      assert.equal((await ak.getSandboxByUuid(info.uuid)).name, 'life1');
      assert.deepEqual((await call('GET', '/sandboxes/by-uuid/not-a-uuid')).json, { success: false, error: 'Invalid sandbox UUID' });
      const otherUuid = await call('GET', `/sandboxes/by-uuid/${info.uuid.replace(/.$/, (c: string) => (c === '0' ? '1' : '0'))}`);
      assert.deepEqual([otherUuid.status, otherUuid.json], [404, { success: false, error: 'Sandbox not found' }]);

      const dup = await call('POST', '/sandboxes', { name: 'life1' });
      assert.deepEqual([dup.status, dup.json], [500, { success: false, error: "Sandbox 'life1' already exists" }]);

      const del = await call('DELETE', '/sandboxes/life1');
      assert.deepEqual([del.status, del.json], [200, { success: true, data: 'Sandbox removed' }]);
      await assert.rejects(ak.getSandbox('life1'), (e: Error) => e instanceof NotFoundError && e.message === 'Sandbox not found');
      assert.ok(!(await ak.listSandboxes()).some((s) => s.name === 'life1'));
      // Deleting what is not there is a success upstream (idempotent), not a 404.
      const again = await call('DELETE', '/sandboxes/life1');
      assert.deepEqual([again.status, again.json], [200, { success: true, data: 'Sandbox removed' }]);
    });

    test('missing sandbox: each route answers its own status and message', async () => {
      const notRunning = "Sandbox 'ghost' is not running. Start it with: agentkernel start ghost";
      const cases: [string, string, unknown, number, string | unknown][] = [
        ['GET', '/sandboxes/ghost', undefined, 404, 'Sandbox not found'],
        ['POST', '/sandboxes/ghost/exec', { command: ['echo'] }, 500, notRunning],
        ['GET', '/sandboxes/ghost/files/tmp/x', undefined, 404, notRunning],
        ['PUT', '/sandboxes/ghost/files/tmp/x', { content: 'a' }, 500, notRunning],
        ['DELETE', '/sandboxes/ghost/files/tmp/x', undefined, 500, notRunning],
        ['POST', '/sandboxes/ghost/files', { files: { '/x': 'a' } }, 500, `Failed to write /x: ${notRunning}`],
        ['GET', '/sandboxes/ghost/logs', undefined, 404, 'Sandbox not found'],
        ['POST', '/sandboxes/ghost/extend', { by: '1h' }, 404, "Sandbox 'ghost' not found"],
        ['POST', '/sandboxes/ghost/start', undefined, 500, "Sandbox 'ghost' not found"],
        ['POST', '/sandboxes/ghost/exec/detach', { command: ['echo'] }, 500, notRunning],
        ['GET', '/sandboxes/ghost/exec/detached/abc', undefined, 404, "Detached command 'abc' not found"],
        ['GET', '/sandboxes/ghost/exec/detached/abc/logs', undefined, 404, "Detached command 'abc' not found"],
        ['DELETE', '/sandboxes/ghost/exec/detached/abc', undefined, 404, "Detached command 'abc' not found"],
      ];
      for (const [method, path, body, status, error] of cases) {
        const r = await call(method, path, body);
        assert.deepEqual([r.status, r.json], [status, { success: false, error }], `${method} ${path}`);
      }
      // Stop and the detached list succeed for a sandbox that does not exist.
      assert.deepEqual((await call('POST', '/sandboxes/ghost/stop')).json, { success: true, data: 'Sandbox stopped' });
      assert.deepEqual((await call('GET', '/sandboxes/ghost/exec/detached')).json, { success: true, data: [] });
    });

    test('/run: pooled (default) vs fresh sandbox output, 409 with exit code, 400s', async () => {
      assert.deepEqual(await ak.run(['echo', 'hi']), { output: 'hi' }, 'pooled: trailing newline trimmed');
      assert.deepEqual(await ak.run(['echo', 'hi'], { fast: false }), { output: 'hi\n' });
      assert.deepEqual(await ak.run(['echo', 'a  b']), { output: 'a b' }, 'pooled: argv joined by spaces and re-split by sh');
      assert.deepEqual(await ak.run(['sh', '-c', 'echo x; exit 3']), { output: '' }, 'pooled: `sh -c echo` ...; exit code never reported');
      const failed = await call('POST', '/run', { command: ['sh', '-c', 'echo out; echo err >&2; exit 3'], fast: false });
      assert.equal(failed.status, 409);
      assert.deepEqual(failed.json, { success: false, error: 'Command exited with code 3: out\n\nerr\n', exit_code: 3, output: 'out\n\nerr\n' });
      await assert.rejects(ak.run(['false'], { fast: false }), (e: Error) => e instanceof ServerError && e.message === 'Command exited with code 1: ');

      const bad: [string, string][] = [
        ['', 'Invalid JSON: EOF while parsing a value at line 1 column 0'],
        ['{}', 'Invalid JSON: missing field `command` at line 1 column 2'],
        ['{"command":"echo hi"}', 'Invalid JSON: invalid type: string "echo hi", expected a sequence at line 1 column 20'],
        ['{"command":[1]}', 'Invalid JSON: invalid type: integer `1`, expected a string at line 1 column 13'],
        ['{"command":["echo"],"fast":null}', 'Invalid JSON: invalid type: null, expected a boolean at line 1 column 31'],
        ['{"command":["a"],"command":["b"]}', 'Invalid JSON: duplicate field `command` at line 1 column 26'],
        ['{"command":[', 'Invalid JSON: EOF while parsing a list at line 1 column 12'],
        ['nope', 'Invalid JSON: expected ident at line 1 column 2'],
        ['{"command":["a"]} x', 'Invalid JSON: trailing characters at line 1 column 19'],
        ['{\n  "image": 1}', 'Invalid JSON: invalid type: integer `1`, expected a string at line 2 column 12'],
        ['[]', 'Invalid JSON: invalid length 0, expected struct RunRequest with 4 elements at line 1 column 2'],
        ['{"command":[]}', 'command is required'],
      ];
      for (const [body, error] of bad) {
        const r = await call('POST', '/run', body);
        assert.deepEqual([r.status, r.json], [400, { success: false, error }], body);
      }
      const badImage = await call('POST', '/run', { command: ['echo'], image: 'alpine;rm', fast: false });
      assert.deepEqual(badImage.json.error, "Docker image name contains invalid character ';'. Use only alphanumeric characters, periods, hyphens, underscores, slashes, colons, and @");
    });

    test('/run: state left by a pooled run is visible to later pooled runs (shared warm pool)', async () => {
      const marker = `/tmp/pool-marker-${Date.now()}`;
      await ak.run(['sh', '-c', `'echo left-behind > ${marker}'`]);
      let seen = 0;
      for (let i = 0; i < 12; i++) if ((await ak.run(['cat', marker])).output === 'left-behind') seen++;
      assert.ok(seen > 0, 'a later pooled run read the file an earlier one wrote');
      await assert.rejects(ak.run(['cat', marker], { fast: false }), ServerError); // a fresh sandbox does not see it
    });

    test('/run/stream: SSE framing and event order (pooled, fresh, failing, invalid)', async () => {
      const fast = await call('POST', '/run/stream', { command: ['echo', 'hi'] });
      assert.equal(fast.status, 200);
      assert.equal(fast.headers['content-type'], 'text/event-stream');
      assert.equal(fast.headers['cache-control'], 'no-cache');
      const fe = sseEvents(fast.text);
      assert.deepEqual(fe.map((e) => e.event), ['started', 'output', 'done']);
      assert.deepEqual(Object.keys(fe[0].data), ['command', 'fast', 'timestamp']);
      assert.deepEqual([fe[0].data.command, fe[0].data.fast], [['echo', 'hi'], true]);
      assert.match(fe[0].data.timestamp, RFC3339);
      assert.deepEqual(fe[1].data, { data: 'hi', stream: 'stdout' });
      assert.deepEqual(fe[2].data, { exit_code: 0, success: true });

      const fresh = sseEvents((await call('POST', '/run/stream', { command: ['echo', 'hi'], fast: false })).text);
      assert.deepEqual(fresh.map((e) => e.event), ['started', 'progress', 'progress', 'output', 'done']);
      assert.equal(fresh[1].data.stage, 'sandbox_created');
      assert.match(fresh[1].data.sandbox, /^api-stream-[0-9a-f]{8}$/, 'upstream names its throwaway sandbox in the stream');
      assert.deepEqual(fresh[2].data, { stage: 'sandbox_started' });
      assert.deepEqual(fresh[3].data, { data: 'hi\n', stream: 'stdout' });

      const failing = sseEvents((await call('POST', '/run/stream', { command: ['sh', '-c', 'echo x; exit 3'], fast: false })).text);
      assert.deepEqual(failing.map((e) => e.event), ['started', 'progress', 'progress', 'done']);
      assert.deepEqual(failing[3].data, { exit_code: 3, success: false, output: 'x\n' });

      const empty = await call('POST', '/run/stream', { command: [] });
      assert.equal(empty.status, 200, 'an empty command is an SSE error event, not a 400');
      assert.deepEqual(sseEvents(empty.text), [{ event: 'error', data: { message: 'command is required' } }]);
      const invalid = await call('POST', '/run/stream', '{}');
      assert.deepEqual([invalid.status, invalid.json.error], [400, 'Invalid JSON: missing field `command` at line 1 column 2']);

      const viaSdk = [];
      for await (const e of ak.runStream(['echo', 'sdk'])) viaSdk.push(e);
      assert.deepEqual(viaSdk.map((e) => e.type), ['started', 'output', 'done']);
    });

    test('/batch/run: every command pooled, results in order, errors null', async () => {
      const r = await ak.batchRun([{ command: ['echo', 'a'] }, { command: ['sh', '-c', 'exit 1'] }, { command: ['echo', 'c'] }]);
      assert.deepEqual(r, { results: [{ output: 'a', error: null }, { output: '', error: null }, { output: 'c', error: null }] });
      const empty = await call('POST', '/batch/run', { commands: [] });
      assert.deepEqual([empty.status, empty.json.error], [400, 'commands array is required and must not be empty']);
      const missing = await call('POST', '/batch/run', { commands: [{}] });
      assert.deepEqual([missing.status, missing.json.error], [400, 'Invalid JSON: missing field `command` at line 1 column 15']);
    });

    test('exec: output, stderr joined after stdout, 409 exit codes, env, workdir, sudo refused', async () => {
      await ak.createSandbox('exec1');
      try {
        assert.deepEqual(await ak.execInSandbox('exec1', ['echo', 'hi']), { output: 'hi\n' });
        const both = await call('POST', '/sandboxes/exec1/exec', { command: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
        assert.deepEqual([both.status, both.json], [409, { success: false, error: 'Command exited with code 3: out\n\nerr\n', exit_code: 3, output: 'out\n\nerr\n' }]);
        const missingProgram = await call('POST', '/sandboxes/exec1/exec', { command: ['nosuch'] });
        assert.equal(missingProgram.status, 409);
        assert.equal(missingProgram.json.exit_code, 127);
        assert.equal(missingProgram.json.output, 'Error: runc: exec failed: unable to start container process: exec: "nosuch": executable file not found in $PATH: OCI runtime attempted to invoke a command that was not found\n');
        assert.deepEqual(await ak.execInSandbox('exec1', ['sh', '-c', 'echo $FOO'], { env: ['FOO=bar'] }), { output: 'bar\n' });
        assert.deepEqual(await ak.execInSandbox('exec1', ['pwd'], { workdir: '/tmp' }), { output: '/tmp\n' });
        assert.deepEqual(await ak.execInSandbox('exec1', ['hostname']), { output: 'agentkernel\n' });
        const sudo = await call('POST', '/sandboxes/exec1/exec', { command: ['id'], sudo: true });
        assert.deepEqual([sudo.status, sudo.json.error], [403, 'sudo execution is disabled for HTTP API. Set [api].allow_sudo_exec = true to enable it']);
        for (const [workdir, error] of [['tmp', 'Working directory must be an absolute path'], ['/a/../b', 'Working directory cannot contain parent directory references (..)']]) {
          const r = await call('POST', '/sandboxes/exec1/exec', { command: ['pwd'], workdir });
          assert.deepEqual([r.status, r.json.error], [400, error]);
        }
        const empty = await call('POST', '/sandboxes/exec1/exec', { command: [] });
        assert.deepEqual([empty.status, empty.json.error], [400, 'command is required']);
        const badName = await call('POST', '/sandboxes/bad--name/exec', '{not json');
        assert.deepEqual([badName.status, badName.json.error], [400, 'Sandbox name cannot contain consecutive hyphens or underscores'], 'name is checked before the body');
      } finally {
        await ak.removeSandbox('exec1');
      }
    });

    test('files: utf8 and base64 round trips, batch write, delete, path rules', async () => {
      await ak.createSandbox('files1');
      try {
        assert.equal(await ak.writeFile('files1', 'tmp/a.txt', 'hello'), 'Wrote 5 bytes to /tmp/a.txt');
        assert.deepEqual(await ak.readFile('files1', 'tmp/a.txt'), { content: 'hello', encoding: 'utf8', size: 5 });
        assert.deepEqual(await ak.execInSandbox('files1', ['cat', '/tmp/a.txt']), { output: 'hello' });
        const bin = Buffer.from([0xff, 0x00, 0x81]).toString('base64');
        assert.equal(await ak.writeFile('files1', 'tmp/b.bin', bin, { encoding: 'base64' }), 'Wrote 3 bytes to /tmp/b.bin');
        assert.deepEqual(await ak.readFile('files1', 'tmp/b.bin'), { content: bin, encoding: 'base64', size: 3 });
        const badB64 = await call('PUT', '/sandboxes/files1/files/tmp/c', { content: '!!', encoding: 'base64' });
        assert.deepEqual([badB64.status, badB64.json.error], [400, 'Invalid base64: Invalid symbol 33, offset 0.']);
        // `//` collapses: the path is the non-empty segments after /files/, joined with '/', plus a leading '/'.
        assert.deepEqual((await call('GET', '/sandboxes/files1/files//tmp//a.txt')).json.data.content, 'hello');

        assert.equal(await ak.writeFiles('files1', { '/w/x.txt': 'X', '/w/y.txt': 'Y' }), 'Wrote 2 file(s)');
        assert.deepEqual(await ak.execInSandbox('files1', ['cat', '/w/x.txt', '/w/y.txt']), { output: 'XY' });
        assert.equal(await ak.deleteFile('files1', 'w/x.txt'), 'Deleted /w/x.txt');
        const gone = await call('GET', '/sandboxes/files1/files/w/x.txt');
        assert.deepEqual([gone.status, gone.json.error], [404, 'docker cp failed: Error: "/w/x.txt" could not be found on container agentkernel-files1: no such file or directory\n']);

        const rules: [string, string, unknown, string][] = [
          ['GET', '/sandboxes/files1/files/etc/passwd', undefined, 'Cannot access system path: /etc/passwd'],
          ['GET', '/sandboxes/files1/files/proc/self/environ', undefined, 'Cannot access system path: /proc/self/environ'],
          ['GET', '/sandboxes/files1/files/root/.ssh/id_rsa', undefined, 'Cannot access system path: /root/.ssh/id_rsa'],
          ['GET', '/sandboxes/files1/files/tmp/../etc/hostname', undefined, 'Path traversal not allowed: /tmp/../etc/hostname'],
          ['GET', '/sandboxes/files1/files/tmp/..%2fetc', undefined, 'Path traversal not allowed: /tmp/..%2fetc'],
          ['PUT', '/sandboxes/files1/files/dev/x', { content: 'a' }, 'Cannot access system path: /dev/x'],
          ['POST', '/sandboxes/files1/files', { files: { 'rel.txt': 'X' } }, 'rel.txt: Sandbox path must be absolute, got: rel.txt'],
          ['POST', '/sandboxes/files1/files', { files: { '/a/../b': 'X' } }, '/a/../b: Path traversal not allowed: /a/../b'],
          ['POST', '/sandboxes/files1/files', { files: {} }, 'files map is empty'],
        ];
        for (const [method, path, body, error] of rules) {
          const r = await call(method, path, body);
          assert.deepEqual([r.status, r.json], [400, { success: false, error }], `${method} ${path}`);
        }
        // Percent-escapes are not decoded: `%2e%2e` is a literal file name, not a parent directory.
        assert.equal((await call('PUT', '/sandboxes/files1/files/tmp/%2e%2e', { content: 'lit' })).json.data, 'Wrote 3 bytes to /tmp/%2e%2e');
        assert.deepEqual(await ak.execInSandbox('files1', ['cat', '/tmp/%2e%2e']), { output: 'lit' });
      } finally {
        await ak.removeSandbox('files1');
      }
    });

    test('stop and start: a stopped sandbox cannot exec, a restart comes back empty', async () => {
      await ak.createSandbox('stop1');
      try {
        await ak.writeFile('stop1', 'tmp/keep.txt', 'x');
        assert.deepEqual((await call('POST', '/sandboxes/stop1/stop')).json, { success: true, data: 'Sandbox stopped' });
        assert.equal((await ak.getSandbox('stop1')).status, 'stopped');
        const exec = await call('POST', '/sandboxes/stop1/exec', { command: ['echo'] });
        assert.deepEqual([exec.status, exec.json.error], [500, "Sandbox 'stop1' is not running. Start it with: agentkernel start stop1"]);
        assert.deepEqual((await call('POST', '/sandboxes/stop1/start')).json, { success: true, data: 'Sandbox started' });
        assert.equal((await ak.getSandbox('stop1')).status, 'running');
        const again = await call('POST', '/sandboxes/stop1/start');
        assert.deepEqual([again.status, again.json.error], [500, "Sandbox 'stop1' is already running"]);
        const lost = await call('POST', '/sandboxes/stop1/exec', { command: ['cat', '/tmp/keep.txt'] });
        assert.equal(lost.status, 409, 'stop removes the container, files included');
      } finally {
        await ak.removeSandbox('stop1');
      }
    });

    test('extend: TTL strings, 400 for bad units, unreadable body means 1h', async () => {
      await ak.createSandbox('ttl1');
      try {
        const t0 = Date.now();
        const first = await ak.extendTtl('ttl1', { by: '90m' });
        const exp = Date.parse(first.expires_at!);
        assert.ok(Math.abs(exp - (t0 + 90 * 60_000)) < 10_000, first.expires_at!);
        assert.match(first.expires_at!, RFC3339);
        const second = await ak.extendTtl('ttl1', { by: '30s' });
        assert.ok(Math.abs(Date.parse(second.expires_at!) - (exp + 30_000)) < 1000, 'extends from the current expiry');
        const garbage = await call('POST', '/sandboxes/ttl1/extend', 'garbage');
        assert.ok(Math.abs(Date.parse(garbage.json.data.expires_at) - (exp + 30_000 + 3_600_000)) < 1000, 'garbage body: default 1h');
        const cases: [string, string][] = [
          ['1d', `Invalid time format: Unknown TTL unit 'd' in "1d"`],
          ['h', `Invalid time format: Invalid TTL format: unexpected 'h' in "h"`],
          ['1h5', `Invalid time format: Invalid TTL format: trailing digits without unit in "1h5"`],
          ['', 'Invalid time format: TTL string is empty'],
        ];
        for (const [by, error] of cases) {
          const r = await call('POST', '/sandboxes/ttl1/extend', { by });
          assert.deepEqual([r.status, r.json], [400, { success: false, error }], by);
        }
      } finally {
        await ak.removeSandbox('ttl1');
      }
    });

    test('logs: audit entries of the sandbox', async () => {
      await ak.createSandbox('logs1');
      try {
        await ak.execInSandbox('logs1', ['echo', 'x']);
        await ak.writeFile('logs1', 'tmp/f', 'y');
        const entries = (await ak.getSandboxLogs('logs1')) as unknown as Record<string, unknown>[];
        assert.deepEqual(entries.map((e) => e.type), ['sandbox_created', 'sandbox_started', 'command_executed', 'file_written']);
        assert.deepEqual(entries[2], { ...entries[2], sandbox: 'logs1', command: ['echo', 'x'], exit_code: 0 });
        assert.deepEqual(Object.keys(entries[0]).slice(0, 4), ['timestamp', 'pid', 'user', 'type']);
      } finally {
        await ak.removeSandbox('logs1');
      }
    });

    test('detached exec: status, logs, kill; ids are global, not per sandbox', async () => {
      await ak.createSandbox('det1');
      try {
        const started = await ak.execDetached('det1', ['echo', 'hello']);
        assert.deepEqual({ ...started, id: 'x', pid: 0, started_at: 'x' }, { id: 'x', sandbox: 'det1', command: ['echo', 'hello'], pid: 0, status: 'running', exit_code: null, started_at: 'x' });
        assert.match(started.id, /^[0-9a-f]{8}$/);
        let status = await ak.detachedStatus('det1', started.id);
        for (let i = 0; i < 50 && status.status === 'running'; i++) {
          await new Promise((r) => setTimeout(r, 100));
          status = await ak.detachedStatus('det1', started.id);
        }
        // Upstream writes the exit code from a subshell that cannot `wait` for the command: always 127.
        assert.deepEqual([status.status, status.exit_code], ['failed', 127]);
        assert.deepEqual(await ak.detachedLogs('det1', started.id), { stdout: 'hello\n' });
        assert.deepEqual(await ak.detachedLogs('det1', started.id, 'stderr'), { stderr: '' });
        // Upstream finds detached commands by id alone: any sandbox name in the path reaches it.
        assert.equal((await call('GET', `/sandboxes/someone-else/exec/detached/${started.id}`)).json.data.id, started.id);

        const long = await ak.execDetached('det1', ['sleep', '30']);
        assert.deepEqual((await ak.detachedList('det1')).map((c) => c.id).sort(), [started.id, long.id].sort());
        assert.equal(await ak.detachedKill('det1', long.id), 'Command killed');
        const killed = await ak.detachedStatus('det1', long.id);
        assert.deepEqual([killed.status, killed.exit_code], ['failed', 137]);

        // Upstream quotes the command twice over, so arguments with spaces are re-split: `sh -c 'echo a b'`
        // reaches the sandbox as `sh -c 'sh -c echo' a b`, which prints an empty line.
        const split = await ak.execDetached('det1', ['sh', '-c', 'echo a b']);
        await new Promise((r) => setTimeout(r, 500));
        assert.deepEqual(await ak.detachedLogs('det1', split.id), { stdout: '\n' });
      } finally {
        await ak.removeSandbox('det1');
      }
    });

    test('snapshots: names follow sandbox rules; taking one needs a docker CLI upstream', async () => {
      await ak.createSandbox('snap1');
      try {
        assert.deepEqual(await ak.listSnapshots(), []);
        const badName = await call('POST', '/snapshots', { sandbox: 'snap1', name: 'a--b' });
        assert.deepEqual([badName.status, badName.json.error], [400, 'Invalid snapshot name: Sandbox name cannot contain consecutive hyphens or underscores']);
        const noSandbox = await call('POST', '/snapshots', { sandbox: 'ghost', name: 's1' });
        assert.deepEqual([noSandbox.status, noSandbox.json.error], [404, "Sandbox 'ghost' not found"]);
        const taken = await call('POST', '/snapshots', { sandbox: 'snap1', name: 's1' });
        if (target.kind === 'real') {
          // Upstream always runs `docker commit`, even on its podman backend: without a docker CLI (or daemon) it fails.
          assert.equal(taken.status, 500);
          assert.match(taken.json.error, /^(Failed to run docker commit|docker commit failed: .+)$/);
        } else {
          assert.equal(taken.status, 200);
          assert.deepEqual({ ...taken.json.data, created_at: 'x' }, { name: 's1', sandbox: 'snap1', image_tag: 'agentkernel-snap:s1', backend: 'podman', base_image: 'alpine:3.20', vcpus: 1, memory_mb: 512, created_at: 'x' });
          const restored = await call('POST', '/snapshots/s1/restore');
          assert.deepEqual([restored.json.data.name, restored.json.data.status], ['snap1-restored', 'stopped']);
          await ak.removeSandbox('snap1-restored');
          assert.equal((await call('DELETE', '/snapshots/s1')).json.data, 'Snapshot deleted');
        }
        for (const [method, path] of [['GET', '/snapshots/nope'], ['DELETE', '/snapshots/nope'], ['POST', '/snapshots/nope/restore']]) {
          const r = await call(method, path);
          assert.deepEqual([r.status, r.json], [404, { success: false, error: "Snapshot 'nope' not found" }], `${method} ${path}`);
        }
      } finally {
        await ak.removeSandbox('snap1');
      }
    });

    test('newer route families answer like an empty store (no tenant scoping upstream)', async () => {
      for (const family of ['orchestrations', 'objects', 'schedules', 'stores']) {
        assert.deepEqual((await call('GET', `/${family}`)).json, { success: true, data: [] }, family);
      }
      const cases: [string, string][] = [
        ['/orchestrations/x1', 'Orchestration not found'],
        ['/objects/x1', 'Object not found'],
        ['/schedules/x1', 'Schedule not found'],
        ['/stores/x1', 'Store not found'],
        ['/orchestrations/definitions/x1', 'Definition not found'],
      ];
      for (const [path, error] of cases) assert.deepEqual((await call('GET', path)).json, { success: false, error }, path);
      assert.deepEqual((await call('GET', '/pages')).json, { success: false, error: 'Not found' });
    });

    test('body limit: a declared Content-Length over 16 MiB is a 413 before the body is read', async () => {
      const { port } = new URL(up.url);
      const reply = await new Promise<string>((resolve, reject) => {
        const s = connect(Number(port), '127.0.0.1', () =>
          s.write(`POST /run HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${API_KEY}\r\nContent-Length: 16777217\r\nConnection: close\r\n\r\n{`),
        );
        let data = '';
        s.on('data', (c) => (data += c));
        s.on('end', () => resolve(data));
        s.on('error', reject);
        setTimeout(() => s.end(), 2000).unref();
      });
      assert.match(reply, /^HTTP\/1\.1 413 /);
      assert.ok(reply.endsWith('{"success":false,"error":"Request body exceeds the maximum size of 16777216 bytes"}'), reply);
    });
  });
}
