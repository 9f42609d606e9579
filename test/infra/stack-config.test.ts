// The stack config schema: each committed stack file validates (with its secrets set), and a table
// of bad configs, each with the one error it must give (naming the key and the stack file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readStackFile } from '../../provisioning/stack-file.js';
import { fromPulumiConfig, validateStackConfig } from '../../infra/stack-config.js';
import { checkSecretsEncrypted } from '../../infra/program.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testPrivateKey, toPulumiConfig } from './mock-program.js';

const FILE = 'stacks/Pulumi.test.yaml';
type Raw = Record<string, unknown>;
const home = (): Raw => ({ ...readStackFile('stacks/Pulumi.home.yaml'), sshPrivateKey: testPrivateKey() });
const hetzner = (): Raw => ({ ...readStackFile('stacks/Pulumi.hetzner.yaml'), sshPrivateKey: testPrivateKey(), robotUser: '#ws+abc', robotPassword: 'pw' });
const cloud = (): Raw => ({ ...readStackFile('stacks/Pulumi.hetzner-cloud.yaml'), sshPrivateKey: testPrivateKey() });
const set = (raw: Raw, key: string, value: unknown): Raw => {
  const copy = structuredClone(raw);
  const path = key.split('.');
  let obj = copy as Record<string, unknown>;
  for (const p of path.slice(0, -1)) obj = (obj[p] ??= {}) as Record<string, unknown>;
  if (value === undefined) delete obj[path[path.length - 1]];
  else obj[path[path.length - 1]] = value;
  return copy;
};

test('every committed stack file is valid once its secrets are set', () => {
  const files = readdirSync('stacks').filter((f) => /^Pulumi\..+\.yaml$/.test(f));
  assert.deepEqual(files.sort(), ['Pulumi.hetzner-cloud.yaml', 'Pulumi.hetzner.yaml', 'Pulumi.home.yaml']);
  const byTarget = { home: home(), hetzner: hetzner(), 'hetzner-cloud': cloud() };
  for (const [target, raw] of Object.entries(byTarget)) {
    const c = validateStackConfig(raw, FILE);
    assert.equal(c.target, target);
    assert.equal((c.tiers.tiers.payg.pricing as Record<string, number>).perExecutionUsd, 0.01);
    assert.equal(c.tiers.tiers.enterprise.executionsPerMonth, null);
  }
});

test('values arrive from Pulumi as strings (objects as JSON) and are typed by the schema', () => {
  const c = validateStackConfig(fromPulumiConfig(toPulumiConfig(cloud())), FILE);
  assert.equal(c.sshPort, 22);
  assert.equal(c.hetznerCloud?.postgresVolumeGb, 20);
  assert.equal(c.domain, 'sandbox.example.org');
  // Other namespaces (the hcloud provider's token) are not ours to validate.
  assert.doesNotThrow(() => validateStackConfig(fromPulumiConfig({ ...toPulumiConfig(cloud()), 'hcloud:token': 'x' }), FILE));
});

test('a secret stored in plain text in the stack file is refused; encrypted ones pass', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aks-plain-secret-'));
  const file = join(dir, 'Pulumi.x.yaml');
  writeFileSync(file, 'config:\n  agentkernel-saas:domain: a.example.com\n  agentkernel-saas:robotPassword: hunter2\n');
  assert.throws(() => checkSecretsEncrypted(file, FILE), (err: Error) => {
    assert.match(err.message, /^stacks\/Pulumi\.test\.yaml: agentkernel-saas:robotPassword: stored in plain text; set it again with `pulumi config set --secret robotPassword`/);
    assert.ok(!err.message.includes('hunter2'));
    return true;
  });
  writeFileSync(file, 'config:\n  agentkernel-saas:domain: a.example.com\n  agentkernel-saas:robotPassword:\n    secure: AAABAJ0x\n');
  assert.doesNotThrow(() => checkSecretsEncrypted(file, FILE));
  for (const f of ['home', 'hetzner', 'hetzner-cloud']) assert.doesNotThrow(() => checkSecretsEncrypted(`stacks/Pulumi.${f}.yaml`, FILE));
});

const SECRET = 'S3CR3T-VALUE-never-printed';
const BAD: [string, () => Raw, RegExp][] = [
  ['unknown top-level key', () => set(home(), 'colour', 'blue'), /^stacks\/Pulumi\.test\.yaml: agentkernel-saas:colour: unknown key$/],
  ['unknown nested key', () => set(home(), 'home.hots', 'x'), /agentkernel-saas:home\.hots: unknown key$/],
  ['wrong type', () => set(home(), 'sshPort', 'twenty-two'), /agentkernel-saas:sshPort: expected integer \(got "twenty-two"\)$/],
  ['port out of range', () => set(home(), 'sshPort', 70000), /agentkernel-saas:sshPort: expected integer to be less or equal to 65535/],
  ['bad enum', () => set(home(), 'target', 'aws'), /agentkernel-saas:target: expected one of "home", "hetzner", "hetzner-cloud" \(got "aws"\)$/],
  ['missing domain', () => set(home(), 'domain', undefined), /agentkernel-saas:domain: required key is missing$/],
  ['missing target section', () => set(home(), 'home', undefined), /agentkernel-saas:home: required for target "home"$/],
  ['home user other than root', () => set(home(), 'home.user', 'deploy'), /agentkernel-saas:home\.user: expected "root" \(got "deploy"\)$/],
  ['section of another target', () => set(home(), 'hetznerCloud', cloud().hetznerCloud), /agentkernel-saas:hetznerCloud: is set but target is "home"/],
  ['no private key', () => set(home(), 'sshPrivateKey', undefined), /agentkernel-saas:sshPrivateKey: required/],
  ['private key garbage (value not echoed)', () => set(home(), 'sshPrivateKey', `-----BEGIN OPENSSH PRIVATE KEY-----\n${SECRET}\n`), /agentkernel-saas:sshPrivateKey: not a usable private key/],
  ['private key not a key (value not echoed)', () => set(home(), 'sshPrivateKey', SECRET), /agentkernel-saas:sshPrivateKey: expected string to match/],
  ['firecracker on hetzner-cloud', () => set(cloud(), 'agentkernel.backend', 'firecracker'), /agentkernel-saas:agentkernel\.backend: firecracker needs \/dev\/kvm, and Hetzner Cloud servers have no nested KVM/],
  ['no price for the server type', () => set(cloud(), 'hetznerCloud.serverType', 'cpx51'), /agentkernel-saas:hetznerCloud\.prices\.serverTypes: has no price for serverType "cpx51"/],
  ['other ssh port on hetzner-cloud', () => set(cloud(), 'sshPort', 2222), /agentkernel-saas:sshPort: must be 22 on hetzner-cloud/],
  ['robot credentials missing', () => set(hetzner(), 'robotPassword', undefined), /agentkernel-saas:robotPassword: required for target "hetzner"/],
  ['installimage without confirmWipe', () => set(hetzner(), 'hetzner.installimage', { hostname: 'x' }), /agentkernel-saas:hetzner\.installimage\.confirmWipe: required key is missing$/],
  ['installimage confirmWipe false', () => set(hetzner(), 'hetzner.installimage', { confirmWipe: false }), /agentkernel-saas:hetzner\.installimage\.confirmWipe: expected true \(got false\)$/],
  ['server IP not an IPv4', () => set(hetzner(), 'hetzner.serverIp', '203.0.113.999'), /agentkernel-saas:hetzner\.serverIp: expected string to match/],
  ['vSwitch VLAN out of range', () => set(hetzner(), 'hetzner.vswitch', { name: 'v', vlan: 12, address: '10.0.0.2/24' }), /agentkernel-saas:hetzner\.vswitch\.vlan: expected integer to be greater or equal to 4000/],
  ['dns zone not containing the domain', () => set(cloud(), 'dns.zone', 'example.net'), /agentkernel-saas:dns\.zone: "example\.net" does not contain the domain "sandbox\.example\.org"$/],
  ['dns for a home box behind a name', () => set(set(home(), 'dns', { zone: 'home.arpa' }), 'home.host', 'box.lan'), /agentkernel-saas:home\.publicIp: required with dns/],
  ['acme for a LAN-only name', () => set(home(), 'tls', 'acme'), /agentkernel-saas:tls: "acme" cannot get a certificate for agentkernel\.home\.arpa \(\.home\.arpa is not a public name\); use tls: internal$/],
  ['s3 backups without secret key', () => set(home(), 'backups.s3', { endpoint: 'https://s3.example.com', bucket: 'b', accessKeyId: 'k' }), /agentkernel-saas:backupS3SecretKey: required when backups\.s3 is set/],
  ['bootstrap account on a missing tier (plan rule)', () => set(home(), 'bootstrapAccount.tier', 'platinum'), /agentkernel-saas:bootstrapAccount\.tier: "platinum" is not a tier/],
  ['tier with a wrong type (gateway schema)', () => set(home(), 'tiers.tiers.free.memoryMb', 'lots'), /agentkernel-saas:tiers: invalid tier file at \/tiers\/free\/memoryMb/],
  ['tier missing a limit (gateway schema)', () => set(home(), 'tiers.tiers.team.priority', undefined), /agentkernel-saas:tiers: invalid tier file at \/tiers\/team\/priority/],
  ['release source without checksum (plan rule)', () => set(home(), 'agentkernel.source', 'release'), /agentkernel-saas:agentkernel: source "release" needs releaseUrl and releaseSha256/],
];

for (const [what, make, expected] of BAD) {
  test(`invalid config: ${what}`, () => {
    assert.throws(
      () => validateStackConfig(make(), FILE),
      (err: Error) => {
        assert.match(err.message, expected);
        assert.match(err.message, /^stacks\/Pulumi\.test\.yaml: /, 'names the stack file first');
        assert.ok(!err.message.includes(SECRET), 'never echoes a secret value');
        return true;
      },
    );
  });
}
