// The SSH executor against a real OpenSSH server: a throwaway sshd on a loopback port with its own
// host key and authorized_keys under a temp dir. The steps here only touch that temp dir.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stepScript } from '../../provisioning/bash.js';
import type { PlanStep, ProvisioningPlan } from '../../provisioning/plan.js';
import { SshExecutor, StepFailedError, type SshTarget } from '../../provisioning/ssh-executor.js';
import { freePort } from '../support/free-port.js';

const dir = mkdtempSync(join(tmpdir(), 'aks-sshd-'));
let sshd: ChildProcess;
let sshdLog = '';
let target: SshTarget;

before(async () => {
  const port = await freePort();
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'client_key')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client_key.pub')));
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${readFileSync(join(dir, 'host_key.pub'), 'utf8')}`);
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host_key')}`, `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'PermitRootLogin prohibit-password', 'PasswordAuthentication no',
      'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'LogLevel VERBOSE', 'MaxStartups 50',
    ].join('\n') + '\n',
  );
  chmodSync(join(dir, 'host_key'), 0o600);
  mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege separation directory
  sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  sshd.stderr!.on('data', (d) => { sshdLog += d; });
  for (let i = 0; i < 100 && !sshdLog.includes('Server listening'); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(sshdLog, /Server listening on 127\.0\.0\.1/);
  target = {
    host: '127.0.0.1', port, user: 'root', identity: join(dir, 'client_key'),
    options: [`UserKnownHostsFile=${join(dir, 'known_hosts')}`, 'StrictHostKeyChecking=yes'],
  };
});

after(() => { sshd?.kill(); });

function step(number: number, id: string, rest: Partial<PlanStep>): PlanStep {
  return { number, id, name: `Step ${id}`, files: [], script: stepScript('true'), dependsOn: [], hash: id, ...rest };
}

function logins(): number {
  return (sshdLog.match(/Accepted publickey for root/g) ?? []).length;
}

test('runs steps in order over one connection: uploads, files, environment, changed/unchanged', async () => {
  const work = mkdtempSync(join(dir, 'work-'));
  const bundle = mkdtempSync(join(tmpdir(), 'aks-up-'));
  writeFileSync(join(bundle, 'app.mjs'), 'export {};\n');
  mkdirSync(join(bundle, 'migrations'));
  writeFileSync(join(bundle, 'migrations', '1.sql'), 'select 1;\n');
  const binary = join(bundle, 'tool');
  writeFileSync(binary, '#!/bin/sh\necho tool\n');
  const plan: ProvisioningPlan = {
    steps: [
      step(1, 'upload', {
        uploads: [{ local: bundle, remote: join(work, 'release-1') }, { local: binary, remote: join(work, 'bin/tool-1') }],
        script: stepScript(`test -f ${work}/release-1/migrations/1.sql; test -f ${work}/bin/tool-1`),
      }),
      step(2, 'files', {
        files: [{ path: join(work, 'etc/a.conf'), content: 'a = 1\n', mode: '0640', owner: 'root:root' }],
        environment: ['AKS_TOKEN'],
        script: stepScript(`grep -qx 'a = 1' ${work}/etc/a.conf; [ "$(cat ${work}/token 2>/dev/null)" = "$AKS_TOKEN" ] || { echo "$AKS_TOKEN" > ${work}/token; aks_changed; }; echo visible-output`),
      }),
    ],
  };
  const before = logins();
  const ssh = new SshExecutor(target);
  const lines: string[] = [];
  const first = await ssh.runPlan(plan, { environment: { AKS_TOKEN: 's3cr3t value', OTHER: 'x' }, onStepDone: (r, n) => lines.push(`${r.step.number}/${n} ${r.changed}`) });
  assert.deepEqual(first.map((r) => r.changed), [true, true]);
  assert.deepEqual(lines, ['1/2 true', '2/2 true']);
  assert.deepEqual(first[0].changes, [`uploaded ${work}/release-1`, `uploaded ${work}/bin/tool-1`]);
  assert.deepEqual(first[1].changes, [`wrote ${work}/etc/a.conf`, 'changed']);
  assert.equal(readFileSync(join(work, 'token'), 'utf8'), 's3cr3t value\n');
  assert.equal(readFileSync(join(work, 'release-1', 'app.mjs'), 'utf8'), 'export {};\n');
  assert.equal(first[1].stdout.trim(), 'visible-output');
  assert.ok(first.every((r) => r.durationMs > 0));

  const second = await ssh.runPlan(plan, { environment: { AKS_TOKEN: 's3cr3t value' } });
  assert.deepEqual(second.map((r) => r.changed), [false, false]);
  await ssh.close();
  // ControlMaster: both runs (steps, upload checks, uploads) shared a single SSH login.
  assert.equal(logins() - before, 1);
  assert.ok(!existsSync(join(work, 'release-1.aks-partial')));
});

test('a failing step stops the run with its name and the tail of its stderr; a re-run resumes', async () => {
  const work = mkdtempSync(join(dir, 'work-'));
  const flag = join(work, 'fixed');
  const plan: ProvisioningPlan = {
    steps: [
      step(1, 'ok', { script: stepScript(`[ -f ${work}/one ] || { touch ${work}/one; aks_changed; }`) }),
      step(2, 'broken', { script: stepScript(`for i in $(seq 1 30); do echo "noise $i" >&2; done\n[ -f ${flag} ] || { echo 'the real reason' >&2; exit 7; }`) }),
      step(3, 'after', { script: stepScript(`touch ${work}/three`) }),
    ],
  };
  const ssh = new SshExecutor(target);
  try {
    await assert.rejects(ssh.runPlan(plan), (err: unknown) => {
      assert.ok(err instanceof StepFailedError);
      assert.equal(err.step.id, 'broken');
      assert.equal(err.exitCode, 7);
      assert.match(err.message, /step 2 "Step broken"/);
      assert.match(err.stderrTail, /the real reason/);
      assert.doesNotMatch(err.stderrTail, /noise 1\n/);
      return true;
    });
    assert.ok(!existsSync(join(work, 'three')));
    writeFileSync(flag, '');
    const rerun = await ssh.runPlan(plan);
    assert.deepEqual(rerun.map((r) => [r.step.id, r.changed]), [['ok', false], ['broken', false], ['after', false]]);
    assert.ok(existsSync(join(work, 'three')));
  } finally {
    await ssh.close();
  }
});

test('an unreachable host is a clear failure, not a hang', async () => {
  const ssh = new SshExecutor({ ...target, port: await freePort() });
  try {
    await assert.rejects(ssh.runPlan({ steps: [step(1, 'x', {})] }), /step 1 "Step x".*exit code 255[\s\S]*Connection refused/);
  } finally {
    await ssh.close();
  }
});

test('copyTo and copyFrom move files both ways, byte for byte', async () => {
  const work = mkdtempSync(join(dir, 'work-'));
  const local = join(mkdtempSync(join(tmpdir(), 'aks-copy-')), 'dump.bin');
  const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256));
  writeFileSync(local, bytes);
  const ssh = new SshExecutor(target);
  try {
    const up = await ssh.copyTo(local, join(work, 'in/dump.bin'));
    assert.equal(up.exitCode, 0, up.stderr);
    assert.deepEqual(readFileSync(join(work, 'in/dump.bin')), bytes);
    const back = `${local}.back`;
    await ssh.copyFrom(join(work, 'in/dump.bin'), back);
    assert.deepEqual(readFileSync(back), bytes);
    await assert.rejects(ssh.copyFrom(join(work, 'missing'), `${local}.missing`), /copying .*missing from 127\.0\.0\.1 failed:[\s\S]*No such file/);
    assert.ok(!existsSync(`${local}.missing`) && !existsSync(`${local}.missing.aks-partial`));
  } finally {
    await ssh.close();
  }
});
