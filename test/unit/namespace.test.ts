// Tenant namespaces: fixed-length prefixes from [a-z0-9], names that keep upstream names valid, the
// round trip tenant name -> upstream name -> tenant name, and scrubbing of upstream messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TENANT_NAME, NAMESPACE_LENGTH, TenantNamespace, generateNamespace, sandboxNameProblem } from '../../gateway/src/namespace.js';

// The upstream's own rule (agentkernel validation.rs), restated independently of the gateway's code.
const upstreamValid = (n: string) => n.length >= 1 && n.length <= 63 && /^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(n) && /[A-Za-z0-9]$/.test(n) && !/--|__|-_|_-/.test(n);

test('namespaces are 8 characters of [a-z0-9], spread over the whole alphabet', () => {
  assert.equal(NAMESPACE_LENGTH, 8);
  const seen = new Set<string>();
  const chars = new Map<string, number>();
  for (let i = 0; i < 5000; i++) {
    const ns = generateNamespace();
    assert.match(ns, /^[a-z0-9]{8}$/);
    seen.add(ns);
    for (const c of ns) chars.set(c, (chars.get(c) ?? 0) + 1);
  }
  assert.equal(seen.size, 5000, 'no repeats in 5000 draws from 36^8');
  assert.equal(chars.size, 36, 'every letter and digit occurs');
  // 40000 characters over 36 symbols: ~1111 each; a biased modulo would skew the first symbols.
  for (const [c, n] of chars) assert.ok(n > 900 && n < 1350, `${c} occurred ${n} times`);
});

test('the constructor accepts only a well-formed namespace', () => {
  for (const bad of ['', 'abc', 'abcdefg', 'abcdefghi', 'ABCDEFGH', 'abcd-fgh', 'abcd_fgh', 'abcdéfgh']) {
    assert.throws(() => new TenantNamespace(bad), /invalid namespace/, bad);
  }
  assert.doesNotThrow(() => new TenantNamespace('a1b2c3d4'));
});

test('MAX_TENANT_NAME is 54: prefix, one dash and the name make at most 63', () => {
  assert.equal(MAX_TENANT_NAME, 54);
  const ns = new TenantNamespace('zz00zz00');
  assert.equal(ns.upstream('a'.repeat(54)).length, 63);
});

test('names: boundary lengths and every upstream rule', () => {
  assert.equal(sandboxNameProblem('a'), null);
  assert.equal(sandboxNameProblem('a'.repeat(54)), null);
  assert.match(sandboxNameProblem('a'.repeat(55))!, /1-54 characters/);
  assert.match(sandboxNameProblem('')!, /1-54 characters/);
  for (const ok of ['box', 'Box-1', 'a_b', 'a-b_c-d', '0', '9z', 'A'.repeat(54)]) assert.equal(sandboxNameProblem(ok), null, ok);
  for (const bad of ['-a', 'a-', '_a', 'a_', 'a.b', 'a b', 'a/b', '..', 'a%2fb', 'é', 'a\u0000b']) {
    assert.match(sandboxNameProblem(bad)!, /may only contain/, bad);
  }
  for (const bad of ['a--b', 'a__b', 'a-_b', 'a_-b']) assert.match(sandboxNameProblem(bad)!, /may not contain/, bad);
});

test('every acceptable tenant name gives a valid upstream name that maps back', () => {
  const ns = new TenantNamespace(generateNamespace());
  const alphabet = 'aZ09-_';
  const rnd = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
  let accepted = 0;
  for (let i = 0; i < 20000; i++) {
    const name = rnd(1 + Math.floor(Math.random() * 56));
    const ok = sandboxNameProblem(name) === null;
    // The gateway accepts a name exactly when its prefixed form is valid upstream.
    assert.equal(ok, upstreamValid(ns.upstream(name)) && name.length <= 54 && upstreamValid(name), name);
    if (!ok) continue;
    accepted++;
    const up = ns.upstream(name);
    assert.ok(ns.owns(up));
    assert.equal(ns.local(up), name);
  }
  assert.ok(accepted > 1000, `only ${accepted} random names were acceptable`);
});

test('two namespaces never own each other\'s names, whatever the names', () => {
  const a = new TenantNamespace('aaaaaaaa');
  const b = new TenantNamespace('aaaaaaab');
  // b's tenant naming its sandbox after a's upstream name still lands under b.
  const forged = b.upstream(a.upstream('x'));
  assert.equal(forged, 'aaaaaaab-aaaaaaaa-x');
  assert.equal(a.owns(forged), false);
  assert.equal(b.local(forged), 'aaaaaaaa-x');
  assert.equal(a.owns(b.upstream('x')), false);
  // A prefix that is a prefix of another's string form does not match without the dash.
  assert.equal(a.owns('aaaaaaaab-x'), false);
  assert.equal(a.local('zzzzzzzz-x'), 'zzzzzzzz-x', 'foreign names are left as they are');
});

test('scrub removes every occurrence of the own prefix and nothing else', () => {
  const ns = new TenantNamespace('k3k3k3k3');
  assert.equal(ns.scrub("Sandbox 'k3k3k3k3-box' not found"), "Sandbox 'box' not found");
  assert.equal(ns.scrub('k3k3k3k3-a and k3k3k3k3-b'), 'a and b');
  assert.equal(ns.scrub('{"name":"k3k3k3k3-x","path":"/k3k3k3k3-x/f"}'), '{"name":"x","path":"/x/f"}');
  assert.equal(ns.scrub('k3k3k3k3 without dash, other-x'), 'k3k3k3k3 without dash, other-x');
  assert.equal(ns.scrub('zzzzzzzz-box'), 'zzzzzzzz-box');
  assert.equal(ns.scrub(''), '');
});
