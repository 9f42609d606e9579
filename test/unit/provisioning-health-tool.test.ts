// The health tool (what `verify` prints and the health timer runs), run with bash against stand-ins
// for systemctl, ss and curl: systemd is not PID 1 on this machine, so the real ones cannot answer
// here (the e2e test runs the tool on a real systemd host). The stand-ins answer from a state file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderHealthTool } from '../../provisioning/templates/health-tool.js';

interface HostState { inactive?: string[]; failed?: string[]; listen?: Record<number, string[]>; httpFail?: string[] }

function runHealth(state: HostState, args: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'aks-health-'));
  const listen = { 5432: ['127.0.0.1'], 6379: ['127.0.0.1', '[::1]'], 18888: ['127.0.0.1'], 8080: ['127.0.0.1'], ...state.listen };
  const stub = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  stub('systemctl', `
case "$1" in
  is-active) [ "$2" = --quiet ] && u=$3 || u=$2
    case " ${(state.inactive ?? []).join(' ')} " in *" $u "*) [ "$2" = --quiet ] || echo inactive; exit 3;; esac
    [ "$2" = --quiet ] || echo active ;;
  is-enabled) echo enabled ;;
  list-units) for u in ${(state.failed ?? []).join(' ')}; do echo "$u loaded failed failed x"; done ;;
esac`);
  stub('ss', `port=\${2##*:}\ncase "$port" in\n${Object.entries(listen).map(([p, addrs]) => `  ${p}) for a in ${addrs.join(' ')}; do echo "LISTEN 0 511 $a:${p} 0.0.0.0:*"; done ;;`).join('\n')}\nesac`);
  // curl: the last argument is the URL; a URL listed in httpFail fails like curl -f does.
  stub('curl', `url=\${@: -1}
case " ${(state.httpFail ?? []).join(' ')} " in *" $url "*) echo "curl: (22) error: 502" >&2; printf 502; exit 22;; esac
case "$url" in http://aks.example.test/*) printf '308 https://aks.example.test/health';; *) printf 200;; esac`);
  const script = join(dir, 'health');
  writeFileSync(script, renderHealthTool({ domain: 'aks.example.test', tls: 'internal', gatewayPort: 8080 }));
  const r = spawnSync('bash', [script, ...args], { encoding: 'utf8', env: { ...process.env, PATH: `${dir}:${process.env.PATH}` } });
  const rows = r.stdout.trim().split('\n').filter(Boolean).map((l) => l.split('\t'));
  return { status: r.status, rows, failed: rows.filter((x) => x[1] !== 'ok') };
}

test('a healthy host passes every check', () => {
  const r = runHealth({});
  assert.equal(r.status, 0, JSON.stringify(r.rows));
  assert.deepEqual(r.failed, []);
  const checks = r.rows.map((x) => x[0]);
  for (const c of ['unit agentkernel-gateway.service', 'unit caddy.service', 'gateway listens on loopback only (:8080)', 'HTTPS /ready via Caddy', 'HTTP redirects to HTTPS', 'no failed units']) {
    assert.ok(checks.includes(c), c);
  }
  assert.equal(runHealth({}, ['--quiet']).rows.length, 0);
});

test('each kind of failure is reported and makes the exit code non-zero', () => {
  const cases: [HostState, string, RegExp][] = [
    [{ inactive: ['caddy.service'] }, 'unit caddy.service', /inactive, enabled/],
    [{ listen: { 6379: ['0.0.0.0'] } }, 'redis listens on loopback only (:6379)', /0\.0\.0\.0/],
    [{ listen: { 8080: [] } }, 'gateway listens on loopback only (:8080)', /nothing listening/],
    [{ httpFail: ['https://aks.example.test/ready'] }, 'HTTPS /ready via Caddy', /502/],
    [{ failed: ['systemd-sysctl.service'] }, 'no failed units', /systemd-sysctl\.service/],
  ];
  for (const [state, check, detail] of cases) {
    const r = runHealth(state);
    assert.equal(r.status, 1, check);
    assert.deepEqual(r.failed.map((x) => x[0]), [check]);
    assert.match(r.failed[0][2], detail);
  }
});

test('the health unit failing (because of another failure) is not counted twice', () => {
  assert.deepEqual(runHealth({ failed: ['agentkernel-saas-health.service'] }).failed, []);
});
