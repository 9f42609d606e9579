// The command a remote.Command runs for a plan step, executed for real with bash (as sshd would run
// it through the login shell): secrets arrive from stdin, files are written with mode and owner and
// only when different, the script sees the secrets, and nothing secret is in the command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stepScript } from '../../provisioning/bash.js';
import type { PlanStep } from '../../provisioning/plan.js';
import { MAX_COMMAND_BYTES, missingEnvironment, stepCommand, stepStdin } from '../../infra/step-runner.js';

const dir = mkdtempSync(join(tmpdir(), 'aks-step-runner-'));
const step: PlanStep = {
  number: 1,
  id: 'demo',
  name: 'Demo',
  files: [{ path: join(dir, 'etc', 'demo.conf'), content: "quote ' dollar $HOME backslash \\ done\n", mode: '0640', owner: 'root:root' }],
  environment: ['AKS_DEMO_SECRET'],
  script: stepScript(`printf '%s' "$AKS_DEMO_SECRET" > ${join(dir, 'seen')}\necho ran`),
  dependsOn: [],
  hash: 'h',
};
const SECRET = 'swordfish-0123456789abcdef';

function runAsSshd(command: string, stdin: string | undefined) {
  // sshd: `$SHELL -c "<command>"`, with the session's stdin.
  return spawnSync('/bin/sh', ['-c', command], { input: stdin, encoding: 'utf8', timeout: 30_000 });
}

test('first run writes the file and passes the secret; the second changes nothing', () => {
  const command = stepCommand(step);
  assert.ok(!command.includes(SECRET));
  const first = runAsSshd(command, stepStdin(step, { AKS_DEMO_SECRET: SECRET }));
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /AKS_CHANGED/);
  assert.match(first.stdout, /ran/);
  const file = join(dir, 'etc', 'demo.conf');
  assert.equal(readFileSync(file, 'utf8'), step.files[0].content);
  assert.equal((statSync(file).mode & 0o777).toString(8), '640');
  assert.equal(readFileSync(join(dir, 'seen'), 'utf8'), SECRET);
  const second = runAsSshd(command, stepStdin(step, { AKS_DEMO_SECRET: SECRET }));
  assert.equal(second.status, 0, second.stderr);
  assert.doesNotMatch(second.stdout, /AKS_CHANGED/, 'an unchanged file is not rewritten');
});

test('a step without secrets reads nothing from stdin; a failing step fails the command', () => {
  const plainStep: PlanStep = { ...step, id: 'plain', environment: undefined, files: [], script: stepScript('echo plain') };
  assert.doesNotMatch(stepCommand(plainStep), /eval "\$\(cat\)"/);
  assert.equal(runAsSshd(stepCommand(plainStep), undefined).stdout.trim(), 'plain');
  const failing: PlanStep = { ...plainStep, id: 'failing', script: stepScript('false') };
  const f = runAsSshd(stepCommand(failing), undefined);
  assert.notEqual(f.status, 0);
});

test('secrets with shell characters arrive intact', () => {
  const tricky = `a'b"c$d\`e f`;
  const r = runAsSshd(stepCommand(step), stepStdin(step, { AKS_DEMO_SECRET: tricky }));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(dir, 'seen'), 'utf8'), tricky);
});

test('missing secrets and oversized commands are refused up front', () => {
  assert.deepEqual(missingEnvironment(step, ['AKS_OTHER']), ['AKS_DEMO_SECRET']);
  const huge: PlanStep = { ...step, files: [{ path: '/tmp/x', content: 'x'.repeat(MAX_COMMAND_BYTES), mode: '0644' }] };
  assert.throws(() => stepCommand(huge), /plan step "demo": its command is \d+ bytes, above/);
});
