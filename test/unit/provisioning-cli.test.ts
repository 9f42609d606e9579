// The operator CLI through its npm bin (bin/agentkernel-saas.js): argument errors are clear and
// non-zero, and `plan` prints the plan without touching any host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { placeholderBundle, rawConfig } from './provisioning-fixture.js';

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['bin/agentkernel-saas.js', ...args], { encoding: 'utf8', timeout: 60_000 });
}

function stackFile(overrides: Record<string, unknown> = {}): string {
  const raw = rawConfig(overrides);
  const config = Object.fromEntries(Object.entries(raw).map(([k, v]) => [`agentkernel-saas:${k}`, v]));
  const file = join(mkdtempSync(join(tmpdir(), 'aks-cli-')), 'Pulumi.t.yaml');
  writeFileSync(file, stringify({ config }));
  return file;
}

test('plan prints every step with its hash, and --json the whole plan', () => {
  const file = stackFile();
  const bundle = placeholderBundle();
  const r = cli('plan', '--stack-file', file, '--gateway-bundle', bundle);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 10);
  assert.match(lines[0], /^\[1\/10\] secrets\s+[0-9a-f]{12}  Secrets$/);
  assert.match(lines[9], /^\[10\/10\] health\s+[0-9a-f]{12}  Health check$/);
  const json = cli('plan', '--stack-file', file, '--gateway-bundle', bundle, '--json');
  assert.equal(json.status, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout).steps[6].uploads[0].local, bundle);
});

test('bad input fails with a clear message and a non-zero exit', () => {
  const file = stackFile();
  const bundle = placeholderBundle();
  const cases: [string[], RegExp][] = [
    [['provision', '--host', 'box', '--stack-file', file, '--gateway-bundle', '/nonexistent/bundle'], /gateway bundle: \/nonexistent\/bundle: does not exist/],
    [['provision', '--host', 'box', '--gateway-bundle', bundle], /give --stack NAME or --stack-file PATH/],
    [['provision', '--host', 'box', '--stack', 'no-such-stack', '--gateway-bundle', bundle], /stacks\/Pulumi\.no-such-stack\.yaml: cannot read it/],
    [['provision', '--host', 'box', '--port', '99999', '--stack-file', file, '--gateway-bundle', bundle], /--port 99999: not a TCP port/],
    [['provision', '--host', 'box', '--user', 'admin', '--stack-file', file, '--gateway-bundle', bundle], /--user admin: log in as root/],
    [['provision', '--host', '127.0.0.1', '--stack-file', file, '--gateway-bundle', bundle], /this machine; pass --allow-loopback/],
    [['provision', '--host', 'box', '--stack-file', stackFile({ domain: 'bad_domain' }), '--gateway-bundle', bundle], /agentkernel-saas:domain/],
    [['provision', '--host', 'box', '--stack-file', stackFile({ tiers: { tiers: { free: { executionsPerMonth: 1 } } }, bootstrapAccount: undefined }), '--gateway-bundle', bundle], /agentkernel-saas:tiers: invalid tier file/],
    [['restore', '--host', 'box'], /give exactly one of --from HOST_FILE or --from-local FILE/],
    [['restore', '--host', 'box', '--from', 'a', '--from-local', 'b'], /give exactly one of/],
    [['verify'], /required option '--host <host>'/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});
