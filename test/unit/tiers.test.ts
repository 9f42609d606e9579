// Tier catalog: the defaults follow the pricing plan, tier files (JSON or YAML) are validated with a
// message that says where they are wrong, and per-account overrides sit on top of the tier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { DEFAULT_TIERS, TierCatalog, loadTierCatalog, validateTierFile, type TierFile } from '../../gateway/src/tiers.js';

const dir = mkdtempSync(join(tmpdir(), 'aks-tiers-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const clone = (): TierFile => structuredClone(DEFAULT_TIERS);

test('the default tiers match the pricing plan', () => {
  const t = DEFAULT_TIERS.tiers;
  assert.deepEqual(Object.keys(t), ['free', 'developer', 'team', 'enterprise', 'payg']);
  assert.equal(validateTierFile(clone(), 'defaults').defaultTier, 'free');
  assert.deepEqual([t.free.executionsPerMonth, t.developer.executionsPerMonth, t.team.executionsPerMonth, t.enterprise.executionsPerMonth, t.payg.executionsPerMonth], [100, 1000, 10000, null, null]);
  assert.deepEqual([t.free.memoryMb, t.developer.memoryMb, t.team.memoryMb, t.payg.memoryMb], [512, 1024, 2048, 1024]);
  assert.equal(t.free.network, false);
  assert.ok(t.developer.network && t.team.network && t.enterprise.network && t.payg.network);
  assert.equal(t.free.sandboxTtlSeconds, 900);
  assert.equal(t.developer.sandboxTtlSeconds, 3600);
  assert.equal(t.team.sandboxTtlSeconds, 24 * 3600);
  assert.equal(t.payg.sandboxTtlSeconds, 3600);
  assert.deepEqual(t.payg.pricing, { monthlyUsd: 0, perExecutionUsd: 0.01, perGbSecondUsd: 0.001 });
  assert.ok(t.free.priority < t.developer.priority && t.developer.priority < t.team.priority && t.team.priority < t.enterprise.priority);
  assert.ok(t.free.rateLimitPerMinute < t.developer.rateLimitPerMinute && t.developer.rateLimitPerMinute < t.team.rateLimitPerMinute);
});

test('no GATEWAY_TIERS means the defaults', () => {
  const c = loadTierCatalog(undefined);
  assert.deepEqual(c.names, Object.keys(DEFAULT_TIERS.tiers));
  assert.equal(c.defaultTier, 'free');
});

test('a JSON tier file and the same file as YAML load to the same catalog', () => {
  const doc = { defaultTier: 'basic', tiers: { basic: DEFAULT_TIERS.tiers.free, pro: DEFAULT_TIERS.tiers.team } };
  const fromJson = loadTierCatalog(file('tiers.json', JSON.stringify(doc)));
  const fromYaml = loadTierCatalog(file('tiers.yaml', toYaml(doc)));
  const fromYml = loadTierCatalog(file('tiers.yml', toYaml(doc)));
  for (const c of [fromJson, fromYaml, fromYml]) {
    assert.deepEqual(c.names, ['basic', 'pro']);
    assert.equal(c.defaultTier, 'basic');
    assert.equal(c.has('pro'), true);
    assert.equal(c.has('free'), false);
    assert.equal(c.has('toString'), false, 'prototype names are not tiers');
    assert.deepEqual(c.limitsFor('pro', null), DEFAULT_TIERS.tiers.team);
  }
});

test('without defaultTier the first tier is the default', () => {
  const c = new TierCatalog(validateTierFile({ tiers: { solo: DEFAULT_TIERS.tiers.developer, other: DEFAULT_TIERS.tiers.free } }, 't'));
  assert.equal(c.defaultTier, 'solo');
});

test('unreadable and unparsable files name GATEWAY_TIERS and the path', () => {
  const missing = join(dir, 'nope.yaml');
  assert.throws(() => loadTierCatalog(missing), (e: Error) => e.message.startsWith('GATEWAY_TIERS: cannot read') && e.message.includes(missing));
  const badJson = file('bad.json', '{"tiers": {');
  assert.throws(() => loadTierCatalog(badJson), /^Error: GATEWAY_TIERS: .*bad\.json is not valid JSON/);
  const badYaml = file('bad.yaml', 'tiers: [unclosed');
  assert.throws(() => loadTierCatalog(badYaml), /GATEWAY_TIERS: .*bad\.yaml is not valid YAML/);
});

const INVALID: [string, (d: any) => void, RegExp][] = [
  ['no tiers at all', (d) => { d.tiers = {}; }, /invalid tier file at \/tiers/],
  ['a missing limit', (d) => { delete d.tiers.team.memoryMb; }, /\/tiers\/team\/memoryMb/],
  ['a wrong type', (d) => { d.tiers.free.network = 'no'; }, /\/tiers\/free\/network/],
  ['a fractional count', (d) => { d.tiers.free.executionsPerMonth = 1.5; }, /\/tiers\/free\/executionsPerMonth/],
  ['a negative quota', (d) => { d.tiers.free.executionsPerMonth = -1; }, /\/tiers\/free\/executionsPerMonth/],
  ['memory below 64 MB', (d) => { d.tiers.free.memoryMb = 32; }, /\/tiers\/free\/memoryMb/],
  ['priority above 100', (d) => { d.tiers.team.priority = 101; }, /\/tiers\/team\/priority/],
  ['an unknown limit (typo)', (d) => { d.tiers.team.memoryMB = 1; }, /\/tiers\/team/],
  ['an unknown top-level key', (d) => { d.tier = {}; }, /invalid tier file/],
  ['a tier name with capitals', (d) => { d.tiers.Gold = d.tiers.team; }, /invalid tier file at \/tiers\/Gold/],
  ['a negative price', (d) => { d.tiers.payg.pricing.perExecutionUsd = -0.01; }, /\/tiers\/payg\/pricing\/perExecutionUsd/],
];
for (const [what, change, message] of INVALID) {
  test(`tier file with ${what} is refused with where it is wrong`, () => {
    const d = clone();
    change(d);
    assert.throws(() => validateTierFile(d, 'GATEWAY_TIERS (x.yaml)'), (e: Error) => {
      assert.match(e.message, /^GATEWAY_TIERS \(x\.yaml\): /);
      assert.match(e.message, message);
      return true;
    });
  });
}

test('defaultTier must be one of the tiers, and the lifetime cap may not be below the TTL', () => {
  const d = clone();
  d.defaultTier = 'gold';
  assert.throws(() => validateTierFile(d, 's'), /defaultTier "gold" is not one of the tiers \(free, developer, team, enterprise, payg\)/);
  const e = clone();
  e.tiers.team.maxSandboxLifetimeSeconds = 3600;
  assert.throws(() => validateTierFile(e, 's'), /tier "team": maxSandboxLifetimeSeconds is below sandboxTtlSeconds/);
  const ok = clone();
  ok.tiers.team.maxSandboxLifetimeSeconds = null;
  assert.doesNotThrow(() => validateTierFile(ok, 's'), 'no cap is fine whatever the TTL');
});

test('a file through loadTierCatalog reports validation errors with its path', () => {
  const p = file('invalid.json', JSON.stringify({ tiers: { free: { ...DEFAULT_TIERS.tiers.free, vcpus: 0 } } }));
  assert.throws(() => loadTierCatalog(p), (e: Error) => e.message.includes(`GATEWAY_TIERS (${p})`) && e.message.includes('/tiers/free/vcpus'));
});

test('overrides replace only what they name, pricing merges field by field', () => {
  const c = new TierCatalog(DEFAULT_TIERS);
  const base = DEFAULT_TIERS.tiers.enterprise;
  assert.equal(c.limitsFor('enterprise', null), base);
  assert.equal(c.limitsFor('enterprise', undefined), base);
  const l = c.limitsFor('enterprise', { memoryMb: 65536, executionsPerMonth: 5, pricing: { perExecutionUsd: 0.002 } });
  assert.equal(l.memoryMb, 65536);
  assert.equal(l.executionsPerMonth, 5);
  assert.equal(l.vcpus, base.vcpus);
  assert.deepEqual(l.pricing, { ...base.pricing, perExecutionUsd: 0.002 });
  const unlimited = c.limitsFor('free', { executionsPerMonth: null, network: true });
  assert.equal(unlimited.executionsPerMonth, null, 'null overrides mean unlimited, not "keep the tier value"');
  assert.equal(unlimited.network, true);
  assert.equal(DEFAULT_TIERS.tiers.free.executionsPerMonth, 100, 'the tier itself is unchanged');
  assert.deepEqual(c.limitsFor('free', {}), DEFAULT_TIERS.tiers.free);
  assert.throws(() => c.limitsFor('gold', null), /unknown tier "gold"/);
});
