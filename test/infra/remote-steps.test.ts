// The commands AgentkernelHost gives remote.Command, sent the way remote.Command sends them (one SSH
// exec request, the step's secrets on the session's stdin) to a real Debian 13 systemd host
// (test/support/test-host.ts). Covers what mocks cannot: that the secrets really arrive where
// `environment` would not, that re-runs change nothing, and the backend probe behind the output.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readStackFile } from '../../provisioning/stack-file.js';
import { buildPlan, type PlanStep } from '../../provisioning/plan.js';
import { HOST } from '../../provisioning/host-layout.js';
import { validateStackConfig } from '../../infra/stack-config.js';
import { stepCommand, stepStdin } from '../../infra/step-runner.js';
import { BACKEND_PROBE } from '../../infra/agentkernel-host.js';
import { run, startTestHost, type TestHost } from '../support/test-host.js';
import { fakeGatewayBundle, testPrivateKey } from './mock-program.js';

const MIN = 60_000;

describe('Pulumi step commands on a real Debian 13 host over SSH', { timeout: 10 * MIN }, () => {
  let host: TestHost;
  let steps: Map<string, PlanStep>;
  const secrets = {
    AKS_POSTGRES_PASSWORD: 'pg'.padEnd(48, '0'),
    AKS_REDIS_PASSWORD: 'rd'.padEnd(48, '1'),
    AKS_AGENTKERNEL_API_KEY: 'ak'.padEnd(48, '2'),
    AKS_GATEWAY_ADMIN_TOKEN: 'gw'.padEnd(48, '3'),
  };
  // remote.Command: exec(command) with stdin; sshd runs it through root's login shell.
  const runStep = (step: PlanStep) => host.ssh(stepCommand(step), { input: step.environment?.length ? stepStdin(step, secrets) : '', timeoutMs: 3 * MIN });

  before(async () => {
    host = await startTestHost();
    const config = validateStackConfig({ ...readStackFile('stacks/Pulumi.home.yaml'), sshPrivateKey: testPrivateKey() }, 'stacks/Pulumi.home.yaml');
    steps = new Map(buildPlan(config, { gatewayBundleDir: fakeGatewayBundle() }).steps.map((s) => [s.id, s]));
  });
  after(() => host?.destroy());

  test('the secrets step stores exactly the values Pulumi sends on stdin, and a re-run changes nothing', async () => {
    const first = await runStep(steps.get('secrets')!);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /AKS_CHANGED/);
    const file = await host.exec(`cat ${HOST.secretsEnv}; stat -c '%a %U' ${HOST.secretsEnv}`);
    for (const [name, value] of Object.entries(secrets)) assert.match(file, new RegExp(`^${name.replace(/^AKS_/, '')}=${value}$`, 'm'));
    assert.match(file, /^600 root$/m);
    const again = await runStep(steps.get('secrets')!);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /AKS_CHANGED/);
  });

  test('variables sent as SSH environment are dropped by a stock sshd (why secrets go on stdin)', async () => {
    const r = await run('ssh', ['-o', 'SendEnv=AKS_PROBE', ...host.sshOptions, `root@${host.address}`, 'echo "${AKS_PROBE:-unset}"'], { env: { ...process.env, AKS_PROBE: 'sent' } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'unset');
  });

  test('preflight records the backend and the stack output probe reads it back', async () => {
    const r = await runStep(steps.get('preflight')!);
    assert.equal(r.code, 0, r.stderr);
    const facts = await host.exec(`cat ${HOST.hostFacts}`);
    const recorded = /^AKS_BACKEND=(\w+)$/m.exec(facts)?.[1];
    assert.ok(recorded === 'container' || recorded === 'firecracker', facts);
    assert.equal((await host.exec(BACKEND_PROBE)).trim(), recorded);
  });
});
