// The Pulumi program under Pulumi's mocks, for every stack file in stacks/: the resource graph it
// declares (targets, firewall, secrets, one remote.Command per plan step in order, chained), and
// which step triggers a config change moves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';
import { readStackFile } from '../../provisioning/stack-file.js';
import { buildPlan, type ProvisioningPlan } from '../../provisioning/plan.js';
import { validateStackConfig } from '../../infra/stack-config.js';
import { stepCommand } from '../../infra/step-runner.js';
import { fakeGatewayBundle, isSecretInput, plain, runProgram, scriptOf, testPrivateKey, type ProgramRun, type RecordedResource } from './mock-program.js';

const bundle = fakeGatewayBundle();
const HCLOUD = { 'hcloud:token': 'test-token' };
const SECRETS: Record<string, Record<string, string>> = {
  home: { sshPrivateKey: testPrivateKey() },
  hetzner: { sshPrivateKey: testPrivateKey(), robotUser: '#ws+test', robotPassword: 'robot-password' },
  'hetzner-cloud': { sshPrivateKey: testPrivateKey() },
};
const stacks = readdirSync('stacks')
  .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
  .filter((s): s is string => !!s)
  .sort();

function stackRaw(stack: string): Record<string, unknown> {
  return { ...readStackFile(`stacks/Pulumi.${stack}.yaml`), ...SECRETS[stack] };
}

// Dependencies per resource name, read off the registration requests the mock monitor receives.
const dependencies = new Map<string, string[]>();
function recordDependencies(): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource: (req: any, cb: any) => unknown };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, cb: any) => {
    dependencies.set(req.getName(), (req.getDependenciesList() as string[]).map((urn) => urn.split('::').pop()!));
    return original(req, cb);
  };
}

async function run(stack: string, raw = stackRaw(stack)): Promise<ProgramRun> {
  const secretKeys = Object.keys(SECRETS[stack] ?? SECRETS.home);
  const result = runProgram(stack, raw, secretKeys, bundle, HCLOUD);
  recordDependencies();
  return result;
}

const stepCommands = (r: ProgramRun) => r.resources.filter((x) => x.type === 'command:remote:Command' && /^host-\d\d-/.test(x.name));
const ofType = (r: ProgramRun, type: string) => r.resources.filter((x) => x.type === type);
const planFor = (stack: string, raw = stackRaw(stack)): ProvisioningPlan => buildPlan(validateStackConfig(raw, `stacks/Pulumi.${stack}.yaml`), { gatewayBundleDir: bundle });

const EXPECTED_HOST: Record<string, { host: string; port: number; user: string }> = {
  home: { host: '192.168.1.50', port: 22, user: 'root' },
  hetzner: { host: '203.0.113.10', port: 22, user: 'root' },
  'hetzner-cloud': { host: '198.51.100.7', port: 22, user: 'root' },
};

const EXPECTED_IDENTITY: Record<string, RegExp> = {
  home: /^192\.168\.1\.50:22$/,
  hetzner: /^robot\/123456\/install-null$/,
  'hetzner-cloud': /^hcloud\/\d+$/,
};

test('there is a stack file per target', () => {
  assert.deepEqual(stacks, ['hetzner', 'hetzner-cloud', 'home']);
});

for (const stack of stacks) {
  test(`${stack}: every plan step is one remote.Command, in order, chained, with the right connection`, async () => {
    const r = await run(stack);
    const plan = planFor(stack);
    const commands = stepCommands(r);
    assert.equal(commands.length, plan.steps.length);
    assert.ok(plan.steps.length >= 9, 'the whole plan');
    plan.steps.forEach((step, i) => {
      const name = `host-${String(step.number).padStart(2, '0')}-${step.id}`;
      const matching = commands.filter((c) => c.name === name);
      assert.equal(matching.length, 1, `${name} exactly once`);
      const cmd = matching[0].inputs;
      assert.equal(cmd.create, stepCommand(step), `${name} runs the step's program`);
      assert.equal(cmd.update, cmd.create, 'an update re-runs the idempotent step');
      assert.equal((cmd.triggers as string[])[0], step.hash, 'triggers carry the step hash');
      assert.match((cmd.triggers as string[])[2], EXPECTED_IDENTITY[stack], 'and the machine identity');
      const connection = plain<Record<string, unknown>>(cmd.connection);
      assert.deepEqual({ host: connection.host, port: connection.port, user: connection.user }, EXPECTED_HOST[stack]);
      assert.ok(isSecretInput(cmd.connection) || isSecretInput(connection.privateKey), 'the private key is a secret');
      if (i > 0) {
        const previous = `host-${String(plan.steps[i - 1].number).padStart(2, '0')}-${plan.steps[i - 1].id}`;
        assert.ok(dependencies.get(name)?.includes(previous), `${name} depends on ${previous}`);
      }
      if (step.environment?.length) {
        assert.ok(isSecretInput(cmd.stdin), `${name}: secrets go on stdin as a secret`);
        for (const envName of step.environment) assert.match(plain<string>(cmd.stdin), new RegExp(`^export ${envName}=`, 'm'));
      } else assert.equal(cmd.stdin, undefined);
    });
    // Uploads (the gateway bundle) go up before their step runs.
    const uploads = ofType(r, 'command:remote:CopyToRemote');
    const withUploads = plan.steps.filter((s) => s.uploads?.length);
    assert.equal(uploads.length, withUploads.reduce((n, s) => n + s.uploads!.length, 0));
    for (const s of withUploads) {
      const stepName = `host-${String(s.number).padStart(2, '0')}-${s.id}`;
      s.uploads!.forEach((u, i) => {
        const upload = uploads.find((x) => x.name === `host-${s.id}-upload-${i}`)!;
        assert.equal(upload.inputs.remotePath, u.remote);
        assert.match((upload.inputs.triggers as string[])[0], EXPECTED_IDENTITY[stack], 'a new machine gets the upload again');
        assert.ok(dependencies.get(stepName)?.includes(`host-${s.id}-upload-${i}`));
      });
    }
  });

  test(`${stack}: outputs, with the admin token secret`, async () => {
    const r = await run(stack);
    const domain = readStackFile(`stacks/Pulumi.${stack}.yaml`).domain;
    assert.equal(r.outputs.url, `https://${domain}`);
    assert.ok(r.secretOutputs.has('adminToken'));
    assert.equal(r.outputs.adminToken, 'mock-gateway-admin-token');
    assert.equal(r.outputs.backend, 'container');
    assert.match(String(r.outputs.sshCommand), new RegExp(`^ssh (-p 22 )?root@${EXPECTED_HOST[stack].host.replace(/\./g, '\\.')}$`));
    assert.ok(!r.secretOutputs.has('url') && !r.secretOutputs.has('sshCommand'));
    const passwords = ofType(r, 'random:index/randomPassword:RandomPassword').map((p) => p.name).sort();
    assert.deepEqual(passwords, ['agentkernel-api-key', 'gateway-admin-token', 'postgres-password', 'redis-password']);
  });
}

test('pulumi preview (unknown ids and addresses) declares the same resources as pulumi up', async () => {
  for (const stack of stacks) {
    const up = await run(stack);
    const preview = await runProgram(stack, stackRaw(stack), Object.keys(SECRETS[stack]), bundle, HCLOUD, true);
    const names = (r: ProgramRun) => r.resources.map((x) => `${x.type} ${x.name}`).sort();
    assert.deepEqual(names(preview), names(up), stack);
  }
});

test('home: no Hetzner resources at all', async () => {
  const r = await run('home');
  assert.deepEqual(r.resources.filter((x) => x.type.startsWith('hcloud:') || x.type.includes('dynamic')).map((x) => x.type), []);
  assert.equal(r.outputs.monthlyCostEur, undefined, 'no cost estimate for a box at home');
});

test('hetzner-cloud: server, key, exactly the SSH/HTTP/HTTPS firewall, primary IP, rDNS, volume, DNS', async () => {
  const r = await run('hetzner-cloud');
  const firewalls = ofType(r, 'hcloud:index/firewall:Firewall');
  assert.equal(firewalls.length, 1);
  const rules = (firewalls[0].inputs.rules as Record<string, unknown>[]).map((x) => ({ direction: x.direction, protocol: x.protocol, port: x.port, sourceIps: x.sourceIps }));
  const anywhere = ['0.0.0.0/0', '::/0'];
  assert.deepEqual(rules, [
    { direction: 'in', protocol: 'tcp', port: '22', sourceIps: anywhere },
    { direction: 'in', protocol: 'tcp', port: '80', sourceIps: anywhere },
    { direction: 'in', protocol: 'tcp', port: '443', sourceIps: anywhere },
  ]);
  const [server] = ofType(r, 'hcloud:index/server:Server');
  assert.equal(server.inputs.image, 'debian-13');
  assert.equal(server.inputs.serverType, 'ccx23');
  assert.deepEqual(server.inputs.firewallIds, [Number(firewalls[0].id)]);
  const [key] = ofType(r, 'hcloud:index/sshKey:SshKey');
  assert.match(String(key.inputs.publicKey), /^ssh-ed25519 AAAA/);
  assert.deepEqual(server.inputs.sshKeys, [key.id]);
  const [ip] = ofType(r, 'hcloud:index/primaryIp:PrimaryIp');
  assert.deepEqual(server.inputs.publicNets, [{ ipv4Enabled: true, ipv4: Number(ip.id), ipv6Enabled: true }]);
  assert.equal(ip.inputs.type, 'ipv4');
  assert.equal(ip.inputs.autoDelete, false);
  assert.deepEqual(ofType(r, 'hcloud:index/rdns:Rdns').map((x) => [x.inputs.ipAddress, x.inputs.dnsPtr]), [
    ['198.51.100.7', 'sandbox.example.org'],
    ['2001:db8::1', 'sandbox.example.org'],
  ]);
  const [volume] = ofType(r, 'hcloud:index/volume:Volume');
  assert.equal(volume.inputs.size, 20);
  const mount = r.resources.find((x) => x.name === 'prep-postgres-volume')!;
  assert.ok(scriptOf(String(mount.inputs.create)).includes(`/dev/disk/by-id/scsi-0HC_Volume_${volume.id}`));
  const first = stepCommands(r)[0].name;
  assert.ok(dependencies.get(first)?.includes('prep-postgres-volume'), 'the volume is mounted before the plan');
  assert.ok(dependencies.get(first)?.includes('dns-a'), 'the A record exists before Caddy asks for a certificate');
  const records = ofType(r, 'hcloud:index/zoneRrset:ZoneRrset').map((x) => ({ zone: x.inputs.zone, name: x.inputs.name, type: x.inputs.type, records: x.inputs.records }));
  assert.deepEqual(records, [
    { zone: 'example.org', name: 'sandbox', type: 'A', records: [{ value: '198.51.100.7' }] },
    { zone: 'example.org', name: 'sandbox', type: 'AAAA', records: [{ value: '2001:db8::1' }] },
  ]);
  // ccx23 24.49 + IPv4 0.50 + 20 GB * 0.044
  assert.equal(r.outputs.monthlyCostEur, 25.87);
});

test('hetzner: an adopted Robot server (credentials secret), no Cloud resources, cost from config', async () => {
  const r = await run('hetzner');
  assert.deepEqual(r.resources.filter((x) => x.type.startsWith('hcloud:')), []);
  const servers = ofType(r, 'pulumi-nodejs:dynamic/robot:Server');
  assert.equal(servers.length, 1);
  const s = servers[0].inputs;
  assert.equal(s.serverNumber, 123456);
  assert.equal(s.serverIp, '203.0.113.10');
  assert.ok(isSecretInput(s.robotUser) && isSecretInput(s.robotPassword));
  assert.equal(s.install, undefined, 'the placeholder stack does not reinstall');
  assert.match(String(plain(s.__provider)), /exports\.handler/, 'the provider is serialized for the real CLI');
  assert.equal(r.outputs.monthlyCostEur, 46.41);
});

test('hetzner with installimage and a vSwitch: reinstall inputs, VLAN interface before the plan', async () => {
  const raw = stackRaw('hetzner');
  const hetzner = raw.hetzner as Record<string, unknown>;
  hetzner.installimage = { confirmWipe: true, hostname: 'sandbox', raidLevel: 1 };
  hetzner.vswitch = { name: 'agentkernel', vlan: 4000, address: '10.0.1.2/24' };
  const r = await run('hetzner', raw);
  const s = ofType(r, 'pulumi-nodejs:dynamic/robot:Server')[0].inputs;
  const install = plain<Record<string, unknown>>(s.install);
  assert.deepEqual({ ...install, sshPublicKey: undefined }, { generation: 0, hostname: 'sandbox', drives: [], raidLevel: 1, sshPublicKey: undefined });
  assert.match(String(install.sshPublicKey), /^ssh-ed25519 /);
  assert.ok(isSecretInput(s.sshPrivateKey), 'the key for the rescue system is a secret');
  const v = ofType(r, 'pulumi-nodejs:dynamic/robot:Vswitch')[0].inputs;
  assert.deepEqual([v.name, v.vlan, v.serverIp], ['agentkernel', 4000, '203.0.113.10']);
  const prep = r.resources.find((x) => x.name === 'prep-vswitch')!;
  assert.match(String(prep.inputs.create), /agentkernel-saas-vswitch/);
  assert.ok(dependencies.get(stepCommands(r)[0].name)?.includes('prep-vswitch'));
});

test('an invalid config fails before any resource is declared', async () => {
  const raw = { ...stackRaw('hetzner-cloud'), agentkernel: { version: '0.18.1', source: 'cargo', backend: 'firecracker' } };
  const resources: RecordedResource[] = [];
  await assert.rejects(
    runProgram('hetzner-cloud', raw, ['sshPrivateKey'], bundle).then((r) => resources.push(...r.resources)),
    /stacks\/Pulumi\.hetzner-cloud\.yaml: agentkernel-saas:agentkernel\.backend: firecracker needs \/dev\/kvm/,
  );
  assert.equal(resources.length, 0);
});

test('hetzner-cloud without an hcloud token fails at preview, naming the key', async () => {
  delete process.env.HCLOUD_TOKEN;
  await assert.rejects(runProgram('hetzner-cloud', stackRaw('hetzner-cloud'), ['sshPrivateKey'], bundle), /stacks\/Pulumi\.hetzner-cloud\.yaml: hcloud:token: required for target "hetzner-cloud"/);
});

// Which steps' triggers move when one setting changes: those whose content changed and the steps
// that depend on them; never a step before.
async function triggersAfter(change: (raw: Record<string, unknown>) => void): Promise<{ before: Map<string, unknown>; after: Map<string, unknown>; changedHashes: Set<string>; plan: ProvisioningPlan }> {
  const raw = stackRaw('home');
  const changed = structuredClone(raw);
  change(changed);
  const triggersOf = (r: ProgramRun) => new Map(stepCommands(r).map((c) => [c.name.replace(/^host-\d\d-/, ''), JSON.stringify(c.inputs.triggers)]));
  const before = triggersOf(await run('home', raw));
  const after = triggersOf(await run('home', changed));
  const planBefore = planFor('home', raw);
  const planAfter = planFor('home', changed);
  const changedHashes = new Set(planAfter.steps.filter((s, i) => s.hash !== planBefore.steps[i].hash).map((s) => s.id));
  return { before, after, changedHashes, plan: planAfter };
}

function dependentsClosure(plan: ProvisioningPlan, ids: Set<string>): Set<string> {
  const out = new Set(ids);
  for (const step of plan.steps) if (step.dependsOn.some((d) => out.has(d))) out.add(step.id);
  return out;
}

for (const [what, change, mustChange, mustKeep] of [
  ['the tiers', (raw: Record<string, unknown>) => ((raw.tiers as any).tiers.free.rateLimitPerMinute = 31), 'gateway', ['secrets', 'preflight', 'base', 'firewall', 'agentkernel', 'postgres-redis']],
  ['the gateway port', (raw: Record<string, unknown>) => ((raw.gateway as any).port = 8181), 'gateway', ['secrets', 'base', 'agentkernel']],
  ['the backup retention', (raw: Record<string, unknown>) => ((raw.backups as any).keepDays = 14), 'backups', ['secrets', 'gateway', 'caddy']],
] as const) {
  test(`changing ${what} moves the triggers of the steps it affects and of no others`, async () => {
    const { before, after, changedHashes, plan } = await triggersAfter(change);
    assert.ok(changedHashes.has(mustChange), `${mustChange} content changes`);
    const expected = dependentsClosure(plan, changedHashes);
    const moved = new Set([...after.keys()].filter((id) => after.get(id) !== before.get(id)));
    assert.deepEqual([...moved].sort(), [...expected].sort());
    for (const id of mustKeep) assert.ok(!moved.has(id), `${id} keeps its triggers`);
    assert.ok(moved.size < plan.steps.length, 'not everything re-runs');
  });
}
