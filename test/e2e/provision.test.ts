// End to end (issue 3): the operator CLI provisions a real Debian 13 systemd host over SSH; then a
// tenant uses the official agentkernel SDK through Caddy's HTTPS; a re-run changes nothing; the host
// survives a restart; a backup restores. The host is a systemd-nspawn container in its own network
// namespace (test/support/test-host.ts), so its firewall never touches this machine's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { connect } from 'node:net';
import { AgentKernel } from 'agentkernel';
import { hostFirewallRuleset, run, startTestHost, type TestHost } from '../support/test-host.js';
import { AGENTKERNEL_BIN, AGENTKERNEL_ROOTFS } from '../support/real-agentkernel.js';
import { HOST } from '../../provisioning/host-layout.js';
import { operatorCli, stepLines, type StepLine } from './operator-cli.js';
import { routeDomainTo } from './tenant-client.js';
import { E2E_DOMAIN, E2E_NETWORK_TIER, E2E_TIER, writeE2eStackFile } from './test-stack.js';

const MIN = 60_000;
const log = (s: string) => console.log(`[e2e ${new Date().toISOString().slice(11, 19)}] ${s}`);

// The real agentkernel binary (.ci/steps/30-agentkernel.sh) is uploaded; without it the plan's own
// cargo source builds it on the test host, which is real but slow.
const agentkernelBinary = existsSync(AGENTKERNEL_BIN) ? AGENTKERNEL_BIN : undefined;
const sandboxImageTar = existsSync(AGENTKERNEL_ROOTFS) ? AGENTKERNEL_ROOTFS : undefined;
const SANDBOX_IMAGE = 'docker.io/library/alpine:3.20'; // agentkernel's default image

describe('e2e: provision a Debian 13 systemd host over SSH and use it as a tenant', { timeout: 60 * MIN }, () => {
  let host: TestHost;
  let firewallBefore: string;
  let stackFile: string;
  let firstRun: { ms: number; steps: StepLine[] };
  let tenant: { id: string; apiKey: string; tier: string };
  let domainRoute: { restore(): void } | undefined;
  const sandboxName = 'e2e-box';

  const psql = async (sql: string) =>
    (await host.exec(`runuser -u postgres -- psql -d ${HOST.database} -v ON_ERROR_STOP=1 -Atc ${JSON.stringify(sql).replace(/\$/g, '\\$')}`)).trim();
  const hostDiagnostics = async () =>
    (await host.ssh('systemctl list-units --no-pager --no-legend --state=failed,activating,reloading,deactivating; ls -l --time-style=+%T /var/lib/agentkernel-saas/stamps; journalctl -b --no-pager -n 60')).stdout;
  const sdk = () => new AgentKernel({ baseUrl: `https://${E2E_DOMAIN}`, apiKey: tenant.apiKey, timeout: 120_000 });
  const provisionArgs = () => ['--stack-file', stackFile, ...(agentkernelBinary ? ['--agentkernel-binary', agentkernelBinary] : [])];

  before(async () => {
    firewallBefore = hostFirewallRuleset();
    if (agentkernelBinary) log(`agentkernel: uploading the real binary ${agentkernelBinary}`);
    else log(`agentkernel: NO prebuilt binary at ${AGENTKERNEL_BIN} (.ci/steps/30-agentkernel.sh): the plan builds it with cargo ON THE TEST HOST (slow)`);
    const build = await run('npm', ['run', 'build'], { timeoutMs: 5 * MIN });
    assert.equal(build.code, 0, `npm run build failed:\n${build.stdout}${build.stderr}`);
    stackFile = writeE2eStackFile({ agentkernelBinary });
    host = await startTestHost({ log });
  });

  after(async () => {
    domainRoute?.restore();
    await host?.destroy();
    if (stackFile) rmSync(dirname(stackFile), { recursive: true, force: true });
  });

  test('first provision applies every step and exits 0', { timeout: (agentkernelBinary ? 15 : 50) * MIN }, async () => {
    const r = await operatorCli(host, 'provision', provisionArgs(), (agentkernelBinary ? 15 : 50) * MIN);
    assert.equal(r.code, 0, 'provision failed');
    const steps = stepLines(r.stdout);
    assert.ok(steps.length >= 9, `expected a progress line per step, got ${steps.length}`);
    assert.deepEqual(steps.map((s) => s.number), steps.map((_, i) => i + 1), 'one line per step, in order');
    assert.ok(steps.every((s) => s.total === steps.length));
    const unchanged = steps.filter((s) => !s.changed).map((s) => s.name);
    assert.deepEqual(unchanged, [], 'on a fresh host every step changes something');
    firstRun = { ms: r.durationMs, steps };
    log(`first provision: ${(r.durationMs / 1000).toFixed(1)} s`);
  });

  test("the plan's firewall is active on the test host and this machine's ruleset is untouched", { timeout: 3 * MIN }, async () => {
    assert.ok(firstRun, 'needs the first provision');
    const ruleset = await host.exec('nft list ruleset');
    assert.match(ruleset, new RegExp(`table inet ${HOST.firewallTable}`));
    assert.equal(hostFirewallRuleset(), firewallBefore, "this machine's nftables/iptables rules changed");
    // A listener on a port the firewall does not open is unreachable from outside; SSH still is.
    await host.exec('/usr/sbin/sshd -p 2222 -o PidFile=/run/e2e-sshd-2222.pid && sleep 1 && ss -Hltn "sport = :2222" | grep -q 2222');
    try {
      assert.equal(await tcpOpen(host.address, 22), true, 'SSH (sshPort) must stay reachable');
      assert.equal(await tcpOpen(host.address, 443), true, 'HTTPS must be reachable');
      assert.equal(await tcpOpen(host.address, 2222), false, 'port 2222 is listening but must be filtered');
    } finally {
      await host.ssh('kill "$(cat /run/e2e-sshd-2222.pid)"');
    }
  });

  test('a tenant with the official SDK creates a sandbox, runs a command and lists sandboxes over HTTPS', { timeout: 10 * MIN }, async () => {
    assert.ok(firstRun, 'needs the first provision');
    tenant = JSON.parse(await host.exec(`cat ${HOST.bootstrapFile}`));
    assert.equal(tenant.tier, E2E_TIER);
    assert.match(tenant.apiKey, /\S{20,}/);
    const ca = await host.exec(`cat ${HOST.caddyRootCa}`);
    assert.match(ca, /BEGIN CERTIFICATE/);
    domainRoute = routeDomainTo(host.address, ca);

    // Caddy: HTTP redirects to HTTPS; HTTPS (internal CA) reaches the gateway, which is ready.
    const plain = await fetch(`http://${E2E_DOMAIN}/health`, { redirect: 'manual' });
    assert.ok([301, 302, 307, 308].includes(plain.status), `http:// answered ${plain.status}, expected a redirect`);
    assert.equal(plain.headers.get('location'), `https://${E2E_DOMAIN}/health`);
    const ready = await fetch(`https://${E2E_DOMAIN}/ready`);
    assert.equal(ready.status, 200, `/ready: ${await ready.text()}`);
    const anonymous = await fetch(`https://${E2E_DOMAIN}/sandboxes`);
    assert.equal(anonymous.status, 401, 'the gateway must refuse requests without a tenant key');

    // What a registry pull would give the host: agentkernel's default image, made locally.
    assert.ok(sandboxImageTar, `the sandbox image rootfs ${AGENTKERNEL_ROOTFS} (.ci/steps/30-agentkernel.sh) is missing`);
    await host.copyTo(sandboxImageTar, '/root/sandbox-image.tar');
    await host.exec(`podman import --quiet /root/sandbox-image.tar ${SANDBOX_IMAGE} >/dev/null && rm /root/sandbox-image.tar`, { timeoutMs: 2 * MIN });

    const ak = sdk();
    assert.equal(await ak.health(), 'ok');
    const created = await ak.createSandbox(sandboxName);
    assert.equal(created.name, sandboxName, 'the tenant sees its own name, not the upstream one');
    const out = await ak.execInSandbox(sandboxName, ['sh', '-c', 'echo "e2e $((6 * 7)) $(uname -s)"']);
    assert.match(out.output, /^e2e 42 Linux$/m);
    const listed = await ak.listSandboxes();
    const mine = listed.find((s) => s.name === sandboxName);
    assert.ok(mine, `listSandboxes: ${JSON.stringify(listed)}`);
    assert.equal(mine.status, 'running');
    const oneShot = await ak.run(['echo', 'one-shot-run']);
    assert.match(oneShot.output, /^one-shot-run$/m);

    // The ledger on the host: one row per metered execution, for this tenant.
    const rows = await psql(`SELECT kind || ' ' || coalesce(sandbox, '-') || ' ' || outcome FROM usage_events WHERE account_id = '${tenant.id}' AND executions = 1 ORDER BY started_at`);
    assert.deepEqual(rows.split('\n'), [`exec ${sandboxName} succeeded`, 'run - succeeded']);
  });

  test("the tenant's tier decides whether its sandboxes have a network", { timeout: 5 * MIN }, async () => {
    assert.ok(tenant, 'needs the tenant test');
    // A second tenant on the networked tier, made as an operator would, with the gateway's CLI.
    const networked = JSON.parse(await host.exec(`${HOST.gatewayCli} accounts create --name 'e2e network tenant' --email net@example.com --tier ${E2E_NETWORK_TIER}`));
    assert.equal(networked.tier, E2E_NETWORK_TIER);
    const defaultRoutes = async (apiKey: string) => {
      const { output } = await new AgentKernel({ baseUrl: `https://${E2E_DOMAIN}`, apiKey, timeout: 120_000 }).run(['cat', '/proc/net/route']);
      return output.split('\n').filter((l) => l.split(/\s+/)[1] === '00000000').length;
    };
    assert.equal(await defaultRoutes(tenant.apiKey), 0, `tier ${E2E_TIER} (network: false) must get a sandbox without network`);
    assert.equal(await defaultRoutes(networked.apiKey), 1, `tier ${E2E_NETWORK_TIER} (network: true) must get a routed sandbox`);
  });

  test('second provision: every step unchanged, and much faster', { timeout: 5 * MIN }, async () => {
    assert.ok(firstRun, 'needs the first provision');
    // --verbose: the steps' own stderr goes to the log, the evidence if a step does change.
    const r = await operatorCli(host, 'provision', [...provisionArgs(), '--verbose'], 5 * MIN);
    assert.equal(r.code, 0, 'second provision failed');
    const steps = stepLines(r.stdout);
    assert.equal(steps.length, firstRun.steps.length);
    const changed = steps.filter((s) => s.changed).map((s) => s.name);
    if (changed.length) console.log(`re-run changed ${changed.join(', ')}; host state:\n${await hostDiagnostics()}`);
    assert.deepEqual(changed, [], 'a re-run must change nothing');
    const ratio = r.durationMs / firstRun.ms;
    log(`provision durations: first ${(firstRun.ms / 1000).toFixed(1)} s, second ${(r.durationMs / 1000).toFixed(1)} s (ratio ${ratio.toFixed(3)})`);
    assert.ok(ratio < 0.3, `second run took ${(ratio * 100).toFixed(0)}% of the first; expected well under 30%`);
  });

  test('after a restart every service comes back by itself and verify passes', { timeout: 10 * MIN }, async () => {
    assert.ok(firstRun, 'needs the first provision');
    const bootBefore = (await host.exec('cat /proc/sys/kernel/random/boot_id; ps -o lstart= -p 1')).trim();
    await host.restart();
    assert.notEqual((await host.exec('cat /proc/sys/kernel/random/boot_id; ps -o lstart= -p 1')).trim(), bootBefore, 'the host did not restart');
    // Boot is done when systemd says so (startTestHost waited); give late units a bounded grace.
    let v = await operatorCli(host, 'verify', ['--stack-file', stackFile], 3 * MIN);
    for (let i = 0; v.code !== 0 && i < 6; i++) {
      await new Promise((r) => setTimeout(r, 5_000));
      v = await operatorCli(host, 'verify', ['--stack-file', stackFile], 3 * MIN);
    }
    if (v.code !== 0) console.log(`verify still failing; host state:\n${await hostDiagnostics()}`);
    assert.equal(v.code, 0, 'verify failed after the restart');
    assert.match(v.stdout, /all \d+ checks passed/);
    assert.equal((await host.ssh('systemctl is-system-running')).stdout.trim(), 'running', await host.ssh('systemctl --failed --no-legend').then((r) => r.stdout));
    // The firewall came back from its unit (the test host starts each boot with an empty ruleset).
    assert.match(await host.exec('nft list ruleset'), new RegExp(`table inet ${HOST.firewallTable}`));
    // And tenants are served again, with the same key.
    const again = await sdk().run(['echo', 'after-restart']);
    assert.match(again.output, /^after-restart$/m);
  });

  test('backup, drop a table, restore: the data is back', { timeout: 5 * MIN }, async () => {
    assert.ok(tenant, 'needs the tenant test');
    const ledger = () => psql(`SELECT count(*) || ':' || coalesce(string_agg(id, ',' ORDER BY id), '') FROM usage_events WHERE account_id = '${tenant.id}'`);
    const before = await ledger();
    assert.match(before, /^[1-9]\d*:/);
    const b = await operatorCli(host, 'backup', [], 3 * MIN);
    assert.equal(b.code, 0, 'backup failed');
    const file = b.stdout.trim().split('\n').at(-1)!;
    assert.match(file, new RegExp(`^${HOST.backupDir}/`), `backup printed ${file}`);
    assert.equal((await host.ssh(`test -s ${JSON.stringify(file)}`)).code, 0, `${file} missing or empty on the host`);

    await psql('DROP TABLE usage_events');
    assert.equal(await psql("SELECT to_regclass('usage_events') IS NULL"), 't');

    const r = await operatorCli(host, 'restore', ['--from', file], 3 * MIN);
    assert.equal(r.code, 0, 'restore failed');
    assert.equal(await ledger(), before, 'the usage ledger is not what the backup had');
    // The restored database serves the gateway again: the tenant's key still works.
    const after = await sdk().run(['echo', 'after-restore']);
    assert.match(after.output, /^after-restore$/m);
  });

  test('teardown removes the test host and leaves this machine as it was', { timeout: 3 * MIN }, async () => {
    assert.ok(host, 'needs the host');
    const { name, rootDir } = host;
    domainRoute?.restore();
    domainRoute = undefined;
    await host.destroy();
    assert.equal(existsSync(`/run/netns/${name}`), false, 'netns left behind');
    assert.equal((await run('ip', ['link', 'show', name])).code !== 0, true, 'veth left behind');
    assert.equal(existsSync(rootDir), false, 'rootfs copy left behind');
    assert.equal(hostFirewallRuleset(), firewallBefore, "this machine's firewall differs from before the test");
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(rootDir), 'mounts left behind');
  });
});

function tcpOpen(address: string, port: number, timeoutMs = 3_000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: address, port });
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
