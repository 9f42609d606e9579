// The bash program each step becomes, run for real with bash on files under a temp dir: files are
// written only when content, mode or owner differ, AKS_CHANGED is printed exactly then, the script
// sees the exported environment and cannot eat the program through stdin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stepScript } from '../../provisioning/bash.js';
import { renderEnvironment, renderStepProgram } from '../../provisioning/step-program.js';

function runProgram(program: string) {
  const r = spawnSync('bash', ['-s'], { input: program, encoding: 'utf8' });
  return { ...r, changed: r.stdout.split('\n').some((l) => l.startsWith('AKS_CHANGED')) };
}

test('files are written atomically and only when different; AKS_CHANGED says so', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aks-prog-'));
  const tricky = "quotes ' \" $HOME `x` \\ and\nAKS_FILE_EOF\nlines\n";
  const step = {
    id: 'demo',
    files: [
      { path: join(dir, 'sub/dir/a.conf'), content: tricky, mode: '0600', owner: 'root:root' },
      { path: join(dir, 'b.txt'), content: 'plain\n', mode: '0644' },
    ],
    script: stepScript('true'),
  };
  const first = runProgram(renderStepProgram(step));
  assert.equal(first.status, 0, first.stderr);
  assert.ok(first.changed);
  assert.equal(readFileSync(join(dir, 'sub/dir/a.conf'), 'utf8'), tricky);
  assert.equal(statSync(join(dir, 'sub/dir/a.conf')).mode & 0o777, 0o600);

  const again = runProgram(renderStepProgram(step));
  assert.equal(again.status, 0, again.stderr);
  assert.ok(!again.changed, again.stdout);

  chmodSync(join(dir, 'b.txt'), 0o666);
  const modeFixed = runProgram(renderStepProgram(step));
  assert.ok(modeFixed.changed);
  assert.equal(statSync(join(dir, 'b.txt')).mode & 0o777, 0o644);

  writeFileSync(join(dir, 'b.txt'), 'edited by hand\n');
  assert.ok(runProgram(renderStepProgram(step)).changed);
  assert.equal(readFileSync(join(dir, 'b.txt'), 'utf8'), 'plain\n');
});

test('the script gets the environment, no stdin, and its failure names the command', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aks-prog-'));
  const out = join(dir, 'out');
  const step = {
    id: 'env',
    files: [],
    script: stepScript(`printf '%s|' "$AKS_GIVEN" > ${out}; cat >> ${out}; echo done >> ${out}`),
  };
  const program = renderEnvironment(['AKS_GIVEN', 'AKS_UNSET'], { AKS_GIVEN: "it's a $value", AKS_OTHER: 'not listed' }) + renderStepProgram(step);
  assert.doesNotMatch(program, /not listed|AKS_UNSET/);
  const r = runProgram(program);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(out, 'utf8'), "it's a $value|done\n");
  assert.ok(!r.changed);

  const failing = runProgram(renderStepProgram({ id: 'fail', files: [], script: stepScript('true\ngrep -q x /nonexistent/aks-file\necho never') }));
  assert.notEqual(failing.status, 0);
  assert.doesNotMatch(failing.stdout, /never/);
  assert.match(failing.stderr, /failed \(exit 2\) at line \d+: grep -q x \/nonexistent\/aks-file/);
});

test('aks_on_change runs its command once per content change', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aks-prog-'));
  const conf = join(dir, 'x.conf');
  const count = join(dir, 'count');
  writeFileSync(conf, 'v1');
  // The stamp dir is on the host (/var/lib/agentkernel-saas/stamps); point it at the temp dir here.
  const script = stepScript(`aks_on_change demo-${process.pid} ${conf} -- sh -c 'echo x >> ${count}'`).replaceAll('/var/lib/agentkernel-saas/stamps', join(dir, 'stamps'));
  const step = { id: 'stamp', files: [], script };
  assert.ok(runProgram(renderStepProgram(step)).changed);
  assert.ok(!runProgram(renderStepProgram(step)).changed);
  writeFileSync(conf, 'v2');
  assert.ok(runProgram(renderStepProgram(step)).changed);
  assert.equal(readFileSync(count, 'utf8'), 'x\nx\n');
});
