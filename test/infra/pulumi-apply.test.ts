// The Pulumi program's plan applied for real: the program runs under mocks for a home stack that
// points at the Debian 13 test host, and the resources it declares are then carried out the way
// @pulumi/command would (CopyToRemote: parent dirs, then a recursive copy; Command: one SSH exec of
// `create` with `stdin`), in plan order. So what `pulumi up` would send provisions a host, and a
// second `pulumi up` after a no-op change re-runs steps that change nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStackFile } from '../../provisioning/stack-file.js';
import { CHANGED_MARKER } from '../../provisioning/bash.js';
import { run, startTestHost, type TestHost } from '../support/test-host.js';
import { realAgentkernelArtifacts } from '../support/real-agentkernel.js';
import { writeE2eStackFile } from '../e2e/test-stack.js';
import { plain, runProgram, type ProgramRun, type RecordedResource } from './mock-program.js';

const MIN = 60_000;
const log = (s: string) => console.log(`[pulumi-apply ${new Date().toISOString().slice(11, 19)}] ${s}`);

// The real gateway bundle, built into a private folder: dist/ may be in use by the e2e test.
async function buildGatewayBundle(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'aks-pulumi-apply-build-'));
  symlinkSync(join(process.cwd(), 'gateway'), join(dir, 'gateway'));
  // The build script writes dist/gateway relative to its working directory.
  execFileSync(process.execPath, [join(process.cwd(), 'scripts', 'build-gateway.mjs')], { cwd: dir, stdio: 'pipe', timeout: 5 * MIN });
  return join(dir, 'dist', 'gateway');
}

describe('pulumi up, carried out against a real Debian 13 host', { timeout: 40 * MIN }, () => {
  let host: TestHost;
  let program: ProgramRun;
  const artifacts = realAgentkernelArtifacts();
  const agentkernelBinary = 'binary' in artifacts ? artifacts.binary : undefined;

  const byName = (name: string): RecordedResource => program.resources.find((r) => r.name === name)!;
  async function apply(resources: RecordedResource[]): Promise<{ name: string; changed: boolean; ms: number }[]> {
    const results = [];
    for (const r of resources) {
      const started = Date.now();
      if (r.type === 'command:remote:CopyToRemote') {
        // The mock monitor hands the asset back as a FileArchive/FileAsset, whose path is a promise.
        const source = await plain<{ path: Promise<string> }>(r.inputs.source).path;
        const remote = String(r.inputs.remotePath);
        await host.exec(`mkdir -p "$(dirname '${remote}')"`);
        const copy = await run('scp', ['-q', '-r', ...host.sshOptions, source, `root@${host.address}:${remote}`], { timeoutMs: 5 * MIN });
        assert.equal(copy.code, 0, copy.stderr);
        results.push({ name: r.name, changed: true, ms: Date.now() - started });
        continue;
      }
      const connection = plain<Record<string, unknown>>(r.inputs.connection);
      assert.equal(connection.host, host.address);
      const out = await host.ssh(String(r.inputs.create), { input: r.inputs.stdin === undefined ? '' : plain<string>(r.inputs.stdin), timeoutMs: 30 * MIN });
      assert.equal(out.code, 0, `${r.name} failed:\n${out.stderr.slice(-3000)}`);
      results.push({ name: r.name, changed: out.stdout.includes(CHANGED_MARKER), ms: Date.now() - started });
      log(`${r.name}: ${out.stdout.includes(CHANGED_MARKER) ? 'changed' : 'unchanged'} in ${Date.now() - started} ms`);
    }
    return results;
  }
  // Plan order: each step's uploads, then the step, then the backend probe behind the output.
  const inPlanOrder = () => {
    const steps = program.resources.filter((r) => r.type === 'command:remote:Command' && /^host-\d\d-/.test(r.name)).sort((a, b) => a.name.localeCompare(b.name));
    return [
      ...steps.flatMap((s) => [...program.resources.filter((u) => u.type === 'command:remote:CopyToRemote' && u.name.startsWith(`host-${s.name.slice(8)}-upload-`)), s]),
      byName('host-backend'),
    ];
  };

  before(async () => {
    if (!agentkernelBinary) log(`no prebuilt agentkernel (${(artifacts as { missing: string[] }).missing.join(', ')}): the plan builds it with cargo on the test host (slow)`);
    const bundle = await buildGatewayBundle();
    host = await startTestHost({ log });
    const raw = {
      ...readStackFile(writeE2eStackFile({ agentkernelBinary })),
      home: { host: host.address, port: host.port, user: host.user },
      sshPrivateKey: readFileSync(host.identityFile, 'utf8'),
    };
    program = await runProgram('home', raw, ['sshPrivateKey'], bundle);
  });
  after(() => host?.destroy());

  test('first apply: every resource succeeds and the gateway answers on the host', async () => {
    const results = await apply(inPlanOrder());
    assert.ok(results.find((r) => r.name === 'host-01-secrets')!.changed);
    const health = await host.exec('curl -fsS http://127.0.0.1:8080/health');
    assert.deepEqual(JSON.parse(health), { success: true, data: 'ok' });
    // The admin token output (the mocked RandomPassword's value) is the one the host uses.
    assert.equal(program.outputs.adminToken, 'mock-gateway-admin-token');
    assert.equal((await host.exec(`sed -n 's/^GATEWAY_ADMIN_TOKEN=//p' /etc/agentkernel-saas/secrets.env`)).trim(), 'mock-gateway-admin-token');
    const admin = await host.exec(`curl -fsS -H 'Authorization: Bearer mock-gateway-admin-token' http://127.0.0.1:8080/v1/admin/accounts`);
    assert.match(admin, /"success":true/);
  });

  test('second apply (pulumi up with the triggers moved): every step runs and changes nothing', async () => {
    const steps = inPlanOrder().filter((r) => r.type === 'command:remote:Command');
    const results = await apply(steps);
    assert.deepEqual(results.filter((r) => r.changed).map((r) => r.name), []);
    assert.match((await host.exec(String(byName('host-backend').inputs.create))).trim(), /^(container|firecracker)$/);
  });
});
