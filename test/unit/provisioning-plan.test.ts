import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlan } from '../../provisioning/plan.js';
import { parsePlanConfig } from '../../provisioning/plan-config.js';
import { readStackFile } from '../../provisioning/stack-file.js';
import { renderStepProgram } from '../../provisioning/step-program.js';
import { changedSteps, config, hashes, placeholderBundle, plan, rawConfig, tier } from './provisioning-fixture.js';

const ORDER = ['secrets', 'preflight', 'base', 'firewall', 'agentkernel', 'postgres-redis', 'gateway', 'caddy', 'backups', 'health'];

test('the plan has the steps in order, numbered, each depending on the previous one', () => {
  const p = plan();
  assert.deepEqual(p.steps.map((s) => s.id), ORDER);
  p.steps.forEach((s, i) => {
    assert.equal(s.number, i + 1);
    assert.deepEqual(s.dependsOn, i ? [ORDER[i - 1]] : []);
    assert.match(s.hash, /^[0-9a-f]{64}$/);
    assert.match(s.script, /^set -eEuo pipefail/);
  });
});

test('same config and bundle content give the same hashes, wherever the bundle lies', () => {
  const bundle = placeholderBundle();
  const copy = join(mkdtempSync(join(tmpdir(), 'aks-copy-')), 'b');
  cpSync(bundle, copy, { recursive: true });
  assert.deepEqual(hashes(plan({}, bundle)), hashes(plan({}, bundle)));
  assert.deepEqual(hashes(plan({}, bundle)), hashes(plan({}, copy)));
});

test('changing one setting changes only the hashes of the steps it affects', () => {
  const bundle = placeholderBundle();
  const base = plan({}, bundle);
  assert.deepEqual(changedSteps(base, plan({ sshPort: 2222 }, bundle)), ['preflight', 'firewall']);
  assert.deepEqual(changedSteps(base, plan({ gateway: { port: 9090 } }, bundle)), ['gateway', 'caddy', 'health']);
  assert.deepEqual(changedSteps(base, plan({ tls: 'acme' }, bundle)), ['caddy', 'health']);
  assert.deepEqual(changedSteps(base, plan({ domain: 'other.example.test' }, bundle)), ['caddy', 'health']);
  assert.deepEqual(changedSteps(base, plan({ backups: { keepDays: 30 } }, bundle)), ['backups']);
  assert.deepEqual(changedSteps(base, plan({ agentkernel: { version: '0.18.2' } }, bundle)), ['agentkernel']);
  assert.deepEqual(changedSteps(base, plan({ tiers: { defaultTier: 'free', tiers: { free: tier(5), team: tier(1000) } } }, bundle)), ['gateway']);
  assert.deepEqual(changedSteps(base, plan({}, placeholderBundle('console.log("v2");\n'))), ['gateway']);
});

test('an uploaded agentkernel binary is pinned by its content', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aks-bin-'));
  const bin = join(dir, 'agentkernel');
  writeFileSync(bin, 'binary-v1');
  const bundle = placeholderBundle();
  const make = () => buildPlan(config({ agentkernel: { source: 'upload' } }), { gatewayBundleDir: bundle, agentkernelBinary: bin });
  const first = make();
  const step = first.steps.find((s) => s.id === 'agentkernel')!;
  assert.equal(step.uploads?.length, 1);
  assert.equal(step.uploads![0].local, bin);
  assert.match(step.uploads![0].remote, /^\/var\/lib\/agentkernel-saas\/uploads\/agentkernel-[0-9a-f]{12}$/);
  writeFileSync(bin, 'binary-v2');
  assert.deepEqual(changedSteps(first, make()), ['agentkernel']);
  assert.throws(() => buildPlan(config({ agentkernel: { source: 'upload' } }), { gatewayBundleDir: bundle }), /needs a binary/);
});

test('no secret value appears in any step', () => {
  const secure = { secure: 'v1:c2VjcmV0LWNpcGhlcnRleHQtdGhhdC1tdXN0LW5vdC1sZWFr' };
  const raw = rawConfig({
    backups: { keepDays: 7, s3: { endpoint: 'https://s3.example.test', bucket: 'b', accessKeyId: 'AKIDPUBLIC' } },
    backupS3SecretKey: secure,
    sshPrivateKey: secure,
  });
  const p = buildPlan(parsePlanConfig(raw, 'test.yaml'), { gatewayBundleDir: placeholderBundle() });
  const text = JSON.stringify(p);
  assert.ok(!text.includes(secure.secure));
  // Secret values only ever come from the host's secrets file or the executor's environment.
  assert.deepEqual(p.steps[0].environment, ['AKS_POSTGRES_PASSWORD', 'AKS_REDIS_PASSWORD', 'AKS_AGENTKERNEL_API_KEY', 'AKS_GATEWAY_ADMIN_TOKEN', 'AKS_BACKUP_S3_SECRET_KEY']);
  for (const s of p.steps) {
    for (const f of s.files) assert.doesNotMatch(f.content, /requirepass [^$\s]|PASSWORD=[^"$\s]|API_KEY=[^"$\s]|ADMIN_TOKEN=[^"$\s]/, `${s.id}: ${f.path}`);
  }
});

test('every step program and host tool is valid bash', () => {
  const p = plan({ backups: { s3: { endpoint: 'https://s3.example.test', bucket: 'b', prefix: 'x/', accessKeyId: 'AK' } } });
  for (const s of p.steps) {
    execFileSync('bash', ['-n'], { input: renderStepProgram(s) });
    execFileSync('bash', ['-n'], { input: s.script });
    for (const f of s.files.filter((f) => f.content.startsWith('#!/bin/bash'))) execFileSync('bash', ['-n'], { input: f.content });
  }
});

test('config: defaults applied, bad input rejected with the key and the file named', () => {
  const c = config();
  assert.equal(c.sshPort, 22);
  assert.deepEqual(c.agentkernel, { version: '0.18.1', source: 'cargo', backend: 'auto' });
  assert.deepEqual(c.gateway, { port: 8080, logLevel: 'info', keepReleases: 3 });
  assert.equal(c.backups.keepDays, 7);
  assert.throws(() => parsePlanConfig(rawConfig({ domian: 'x' }), 'Pulumi.t.yaml'), /Pulumi\.t\.yaml: unknown config key agentkernel-saas:domian/);
  assert.throws(() => parsePlanConfig(rawConfig({ domain: 'not a domain' }), 'f.yaml'), /f\.yaml: agentkernel-saas:domain/);
  assert.throws(() => parsePlanConfig(rawConfig({ sshPort: 70000 }), 'f.yaml'), /agentkernel-saas:sshPort/);
  assert.throws(() => parsePlanConfig(rawConfig({ agentkernel: { source: 'release' } }), 'f.yaml'), /needs releaseUrl and releaseSha256/);
  assert.throws(() => parsePlanConfig(rawConfig({ agentkernel: { bogus: 1 } }), 'f.yaml'), /agentkernel-saas:agentkernel/);
  assert.throws(() => parsePlanConfig(rawConfig({ bootstrapAccount: { name: 'a', email: 'a@b.c', tier: 'gold' } }), 'f.yaml'), /"gold" is not a tier/);
  const { tiers: _t, ...noTiers } = rawConfig();
  assert.throws(() => parsePlanConfig(noTiers, 'f.yaml'), /agentkernel-saas:tiers/);
});

test('the shipped stack files are valid plan configs', () => {
  const stacks = readdirSync('stacks').filter((f) => /^Pulumi\..+\.yaml$/.test(f));
  assert.ok(stacks.length >= 1);
  for (const f of stacks) {
    const c = parsePlanConfig(readStackFile(join('stacks', f)), f);
    assert.ok(c.domain && Object.keys(c.tiers.tiers).length, f);
  }
});

test('stack file errors name the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aks-stack-'));
  const f = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  assert.throws(() => readStackFile(join(dir, 'missing.yaml')), /missing\.yaml: cannot read it \(ENOENT\)/);
  assert.throws(() => readStackFile(f('bad.yaml', 'config: [')), /bad\.yaml: not valid YAML/);
  assert.throws(() => readStackFile(f('noconfig.yaml', 'encryptionsalt: x\n')), /noconfig\.yaml: has no top-level "config:" map/);
  assert.throws(() => readStackFile(f('other.yaml', 'config:\n  aws:region: x\n')), /no "agentkernel-saas:\*" keys/);
  assert.deepEqual(readStackFile(f('ok.yaml', 'config:\n  agentkernel-saas:domain: a.example.test\n  hcloud:token: x\n')), { domain: 'a.example.test' });
});
