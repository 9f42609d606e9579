// The rendered configuration files pass the real tools' own validators (Debian's systemd-analyze,
// caddy, nft). Nothing is applied to this machine: units are verified under a temp --root, the
// Caddyfile with a temp data dir, the nftables ruleset in check mode (nft -c).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { PlanFile } from '../../provisioning/plan.js';
import { renderCaddyfile } from '../../provisioning/templates/caddyfile.js';
import { renderFirewall } from '../../provisioning/templates/nftables.js';
import { plan } from './provisioning-fixture.js';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env });
  if (r.error) throw r.error;
  return r;
}

function unitFiles(): PlanFile[] {
  const p = plan({ backups: { s3: { endpoint: 'https://s3.example.test', bucket: 'b', accessKeyId: 'AK' } } });
  return p.steps.flatMap((s) => s.files).filter((f) => f.path.startsWith('/etc/systemd/system/'));
}

test('every rendered systemd unit passes systemd-analyze verify', () => {
  const units = unitFiles();
  assert.deepEqual(units.map((u) => u.path.split('/').pop()).sort(), [
    'agentkernel-api.service', 'agentkernel-daemon.service', 'agentkernel-gateway.service', 'agentkernel-saas-backup.service',
    'agentkernel-saas-backup.timer', 'agentkernel-saas-firewall.service', 'agentkernel-saas-health.service', 'agentkernel-saas-health.timer',
  ]);
  // A root with Debian's own units (targets the units refer to) and stand-ins for the binaries the
  // plan installs on the host, which systemd-analyze checks for being executable.
  const root = mkdtempSync(join(tmpdir(), 'aks-units-'));
  mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
  symlinkSync('/lib/systemd/system', join(root, 'usr/lib/systemd/system'));
  for (const u of units) {
    mkdirSync(join(root, dirname(u.path)), { recursive: true });
    writeFileSync(join(root, u.path), u.content);
    for (const m of u.content.matchAll(/^Exec\w+=(\S+)/gm)) {
      const bin = join(root, m[1]);
      if (existsSync(bin)) continue;
      mkdirSync(dirname(bin), { recursive: true });
      writeFileSync(bin, '#!/bin/sh\n');
      chmodSync(bin, 0o755);
    }
  }
  const r = run('systemd-analyze', ['verify', '--man=no', `--root=${root}`, ...units.map((u) => u.path)]);
  assert.equal(r.status, 0, r.stderr);
  // Warnings (unknown keys, bad values) exit 0 too: there must be none.
  assert.equal(r.stderr.trim(), '');
});

test('systemd-analyze catches a broken unit (the check can fail)', () => {
  const root = mkdtempSync(join(tmpdir(), 'aks-units-bad-'));
  mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
  symlinkSync('/lib/systemd/system', join(root, 'usr/lib/systemd/system'));
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  writeFileSync(join(root, 'etc/systemd/system/bad.service'), '[Service]\nExecStart=/nonexistent/bin/x\nRestartt=always\n');
  const r = run('systemd-analyze', ['verify', '--man=no', `--root=${root}`, '/etc/systemd/system/bad.service']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /Unknown key 'Restartt'|not executable/);
});

test('the gateway unit is hardened and the agentkernel units run the documented commands', () => {
  const byName = Object.fromEntries(unitFiles().map((u) => [u.path.split('/').pop(), u.content]));
  const gw = byName['agentkernel-gateway.service'];
  for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'Restart=on-failure', 'User=agentkernel-gateway', 'EnvironmentFile=/etc/agentkernel-saas/gateway.env']) {
    assert.ok(gw.includes(`\n${line}\n`), line);
  }
  assert.match(byName['agentkernel-api.service'], /\nExecStart=\/usr\/local\/bin\/agentkernel serve --host 127\.0\.0\.1 --port 18888\n/);
  assert.match(byName['agentkernel-api.service'], /\nEnvironmentFile=\/etc\/agentkernel-saas\/agentkernel\.env\n/);
  assert.match(byName['agentkernel-daemon.service'], /\nExecStart=\/usr\/local\/bin\/agentkernel daemon start\n/);
  assert.match(byName['agentkernel-saas-backup.timer'], /\nOnCalendar=daily\n/);
});

function caddyValidate(caddyfile: string) {
  const dir = mkdtempSync(join(tmpdir(), 'aks-caddy-'));
  writeFileSync(join(dir, 'Caddyfile'), caddyfile);
  // Its own HOME / data dir: `tls internal` makes validate create a local CA there.
  return run('caddy', ['validate', '--adapter', 'caddyfile', '--config', join(dir, 'Caddyfile')], { ...process.env, HOME: dir, XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config') });
}

test('the Caddyfile passes caddy validate, for tls internal and acme', () => {
  for (const tls of ['internal', 'acme'] as const) {
    const text = renderCaddyfile({ domain: 'aks.example.test', tls, acmeEmail: 'ops@example.test', gatewayPort: 8080 });
    const r = caddyValidate(text);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /Valid configuration/);
    // Caddy's automatic HTTP->HTTPS redirect stays on for the site.
    assert.match(r.stderr, /enabling automatic HTTP->HTTPS redirects/);
    assert.match(text, /reverse_proxy 127\.0\.0\.1:8080 \{\n\t\tflush_interval -1\n/);
    assert.equal(text.includes('tls internal'), tls === 'internal');
    assert.equal(text.includes('email ops@example.test'), tls === 'acme');
  }
  assert.notEqual(caddyValidate('aks.example.test {\n\treverse_proxy {\n\t\tflush_interval\n\t}\n}\n').status, 0);
});

test('the nftables ruleset passes nft -c (check only, never applied here)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aks-nft-'));
  for (const sshPort of [22, 2222]) {
    const text = renderFirewall({ sshPort });
    const file = join(dir, `fw-${sshPort}.nft`);
    writeFileSync(file, text);
    const r = run('nft', ['-c', '-f', file]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(text, new RegExp(`tcp dport \\{ ${sshPort === 22 ? '22, 80, 443' : '80, 443, 2222'} \\} accept`));
    assert.match(text, /policy drop;/);
  }
  writeFileSync(join(dir, 'bad.nft'), renderFirewall({ sshPort: 22 }).replace('policy drop', 'policy maybe'));
  assert.notEqual(run('nft', ['-c', '-f', join(dir, 'bad.nft')]).status, 0);
});
