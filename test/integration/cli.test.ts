// The operator CLI (`agentkernel-gateway`) run as a child process, as deployment scripts run it:
// migrate, accounts, keys, usage, and `serve` refusing a bad environment. Accounts and keys made by
// the CLI work against a `serve` gateway on the same database. Also: the esbuild bundle migrates.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { stringify as toYaml } from 'yaml';
import { AgentKernel, AuthError } from 'agentkernel';
import { createDatabase } from '../support/postgres-server.js';
import { startFakeAgentkernel, type FakeAgentkernel } from '../support/fake-agentkernel.js';
import { freePort } from '../support/free-port.js';
import { DEFAULT_TIERS } from '../../gateway/src/tiers.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'agentkernel-gateway.js');

let databaseUrl: string;
let tiersFile: string;
let upstream: FakeAgentkernel;
let serve: { child: ChildProcess; url: string; out: string[] };
const adminToken = randomBytes(24).toString('hex');

interface Run { code: number | null; stdout: string; stderr: string }

/** Runs the CLI with a clean environment plus `env` (nothing inherited that could hide a missing variable). */
function cli(args: string[], env: Record<string, string | undefined> = {}, cmd = bin): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cmd, ...args], {
      cwd: root, timeout: 60_000,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: databaseUrl, ...env } as NodeJS.ProcessEnv,
    }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }));
  });
}

async function ok(args: string[], env?: Record<string, string | undefined>): Promise<any> {
  const r = await cli(args, env);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trimStart().startsWith('{') || r.stdout.trimStart().startsWith('[') ? JSON.parse(r.stdout) : r.stdout;
}

function serveEnv(port: number): Record<string, string> {
  return {
    AGENTKERNEL_URL: upstream.url, AGENTKERNEL_API_KEY: upstream.apiKey, GATEWAY_ADMIN_TOKEN: adminToken,
    GATEWAY_PORT: String(port), REDIS_URL: process.env.TEST_REDIS_URL!, GATEWAY_TIERS: tiersFile, GATEWAY_LOG_LEVEL: 'debug',
  };
}

async function startServe(): Promise<typeof serve> {
  const port = await freePort();
  const child = spawn(process.execPath, [bin, 'serve'], {
    cwd: root, env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: databaseUrl, ...serveEnv(port) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  child.stdout!.on('data', (d) => out.push(String(d)));
  child.stderr!.on('data', (d) => out.push(String(d)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${out.join('')}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { child, url, out };
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`serve did not come up: ${out.join('')}`);
    await sleep(100);
  }
}

const tenantFetch = async (key: string, path: string, init: RequestInit = {}) => {
  const r = await fetch(serve.url + path, { ...init, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...init.headers } });
  return { status: r.status, json: await r.json() as any };
};

function portIsClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

before(async () => {
  databaseUrl = await createDatabase(process.env.TEST_DATABASE_URL!, 'cli');
  const dir = mkdtempSync(join(tmpdir(), 'aks-cli-'));
  // A custom tier file (YAML) with a tier the defaults do not have.
  tiersFile = join(dir, 'tiers.yaml');
  writeFileSync(tiersFile, toYaml({ defaultTier: 'free', tiers: { ...DEFAULT_TIERS.tiers, gold: { ...DEFAULT_TIERS.tiers.team, executionsPerMonth: 5 } } }));
  upstream = await startFakeAgentkernel({ apiKey: `up-${randomBytes(16).toString('hex')}` });
});
after(async () => {
  if (serve && serve.child.exitCode === null) {
    serve.child.kill('SIGTERM');
    await new Promise((r) => serve.child.once('exit', r));
  }
  await upstream?.close();
});

test('migrate applies the migrations once; a second run applies nothing', async () => {
  const first = await ok(['migrate']);
  assert.ok(first.applied.length >= 1);
  assert.match(first.applied[0], /^1 /);
  assert.deepEqual(await ok(['migrate']), { applied: [] });
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  const { rows } = await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
  await c.end();
  for (const t of ['accounts', 'api_keys', 'quota_counters', 'sandboxes', 'usage_events']) assert.ok(rows.some((r) => r.tablename === t), t);
});

test('accounts, keys and usage through the CLI, used against a running `serve` on the same database', async () => {
  serve = await startServe();
  const env = { GATEWAY_TIERS: tiersFile };
  const before = (await ok(['accounts', 'list'], env)).length;
  const acct = await ok(['accounts', 'create', '--name', 'Acme Ltd', '--email', 'ops@acme.example', '--tier', 'developer'], env);
  assert.equal(acct.name, 'Acme Ltd');
  assert.equal(acct.tier, 'developer');
  assert.match(acct.id, /^[0-9a-f-]{36}$/);
  assert.match(acct.apiKey, /^aks_[A-Za-z0-9_-]{43}$/);
  const listed = await ok(['accounts', 'list'], env);
  assert.equal(listed.length, before + 1, 'create made exactly one account');
  const mine = listed.find((a: any) => a.id === acct.id);
  assert.equal(mine.email, 'ops@acme.example');
  assert.ok(!JSON.stringify(listed).includes('aks_'), 'list shows no keys');

  // The printed key is a working tenant key for the served gateway, through the official SDK.
  const sdk = new AgentKernel({ baseUrl: serve.url, apiKey: acct.apiKey, timeout: 20_000 });
  assert.equal((await sdk.run(['echo', 'from-cli-key'])).output, 'from-cli-key\n');
  assert.equal((await tenantFetch(acct.apiKey, '/v1/account')).json.data.tier, 'developer');

  // set-tier: the gateway sees the new tier on the next request; a tier from GATEWAY_TIERS works.
  const gold = await ok(['accounts', 'set-tier', acct.id, 'gold'], env);
  assert.equal(gold.tier, 'gold');
  const me = (await tenantFetch(acct.apiKey, '/v1/account')).json.data;
  assert.equal(me.tier, 'gold');
  assert.equal(me.limits.executionsPerMonth, 5);

  const badTier = await cli(['accounts', 'set-tier', acct.id, 'platinum'], env);
  assert.notEqual(badTier.code, 0);
  assert.match(badTier.stderr, /unknown tier "platinum" \(tiers: free, developer, team, enterprise, payg, gold\)/);
  assert.equal(badTier.stdout, '');
  const noFile = await cli(['accounts', 'set-tier', acct.id, 'gold']);
  assert.notEqual(noFile.code, 0, 'without GATEWAY_TIERS, gold is not a tier');
  assert.match(noFile.stderr, /unknown tier "gold"/);
  const noAcct = await cli(['accounts', 'set-tier', '00000000-0000-4000-8000-000000000000', 'team'], env);
  assert.notEqual(noAcct.code, 0);
  assert.match(noAcct.stderr, /account 00000000-0000-4000-8000-000000000000 not found/);
  const badCreate = await cli(['accounts', 'create', '--name', 'X', '--email', 'x@example.com', '--tier', 'platinum'], env);
  assert.notEqual(badCreate.code, 0);
  assert.match(badCreate.stderr, /unknown tier "platinum"/);
  const missingOpt = await cli(['accounts', 'create', '--name', 'X'], env);
  assert.notEqual(missingOpt.code, 0);
  assert.match(missingOpt.stderr, /--email/);
  assert.equal((await ok(['accounts', 'list'], env)).length, before + 1, 'failed creates made nothing');

  // keys create / revoke.
  const key = await ok(['keys', 'create', acct.id], env);
  assert.match(key.id, /^[0-9a-f-]{36}$/);
  assert.match(key.apiKey, /^aks_[A-Za-z0-9_-]{43}$/);
  assert.equal((await tenantFetch(key.apiKey, '/v1/account')).status, 200);
  const revoked = await ok(['keys', 'revoke', key.id], env);
  assert.ok(revoked.revokedAt);
  assert.deepEqual(await tenantFetch(key.apiKey, '/v1/account'), { status: 401, json: { success: false, error: 'invalid API key' } });
  await assert.rejects(new AgentKernel({ baseUrl: serve.url, apiKey: key.apiKey }).run(['echo']), AuthError);
  assert.equal((await tenantFetch(acct.apiKey, '/v1/account')).status, 200, 'the first key still works');
  const badRevoke = await cli(['keys', 'revoke', 'nope'], env);
  assert.notEqual(badRevoke.code, 0);
  assert.match(badRevoke.stderr, /key nope not found/);

  // usage: JSON by default, CSV on request, any month, from the same ledger the gateway writes.
  await sdk.run(['echo', 'second']);
  const month = new Date().toISOString().slice(0, 7);
  const usage = await ok(['usage', '--account', acct.id], env);
  assert.equal(usage.accountId, acct.id);
  assert.equal(usage.month, month);
  assert.equal(usage.totals.executions, 2);
  assert.deepEqual(usage.totals.byKind, { run: 2 });
  assert.deepEqual(await ok(['usage', '--account', acct.id, '--month', month, '--format', 'json'], env), usage);
  const csv = await ok(['usage', '--account', acct.id, '--format', 'csv'], env);
  const lines = csv.trimEnd().split('\n');
  assert.equal(lines[0], 'id,kind,sandbox,startedAt,endedAt,durationMs,memoryMb,gbSeconds,outcome,billable,executions');
  assert.deepEqual(lines.slice(1).map((l: string) => l.split(',')[0]), usage.events.map((e: any) => e.id));
  const adminView = await (await fetch(`${serve.url}/v1/admin/accounts/${acct.id}/usage`, { headers: { authorization: `Bearer ${adminToken}` } })).json() as any;
  assert.deepEqual(adminView.data, usage, 'CLI and admin API report the same ledger');
  const old = await ok(['usage', '--account', acct.id, '--month', '2001-02'], env);
  assert.deepEqual([old.month, old.totals.executions, old.events.length], ['2001-02', 0, 0]);
  for (const [args, msg] of [
    [['--month', '2026-1'], /--month must look like YYYY-MM \(got "2026-1"\)/],
    [['--month', 'May'], /YYYY-MM/],
    [['--format', 'xml'], /json or csv/],
  ] as [string[], RegExp][]) {
    const r = await cli(['usage', '--account', acct.id, ...args], env);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, msg);
  }
  const unknown = await cli(['usage', '--account', '00000000-0000-4000-8000-000000000000'], env);
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /not found/);

  // suspend / activate: effective on the served gateway's next request.
  assert.equal((await ok(['accounts', 'suspend', acct.id], env)).status, 'suspended');
  assert.deepEqual(await tenantFetch(acct.apiKey, '/v1/account'), { status: 403, json: { success: false, error: 'account is suspended' } });
  assert.equal((await ok(['accounts', 'activate', acct.id], env)).status, 'active');
  assert.equal((await tenantFetch(acct.apiKey, '/v1/account')).status, 200);
  const badFile = await cli(['accounts', 'list'], { GATEWAY_TIERS: '/nonexistent/tiers.yaml' });
  assert.notEqual(badFile.code, 0);
  assert.match(badFile.stderr, /^agentkernel-gateway: GATEWAY_TIERS: cannot read \/nonexistent\/tiers.yaml/);

  // Logs of the served gateway at debug level: no keys, no tokens, no Authorization header.
  const logs = serve.out.join('');
  assert.ok(logs.includes('"reqId"'), 'request lines were logged');
  for (const secret of [acct.apiKey, key.apiKey, adminToken, upstream.apiKey]) assert.ok(!logs.includes(secret));
  assert.ok(!/bearer/i.test(logs));
});

test('serve stops on SIGTERM: exit code 0 and the port closed', async () => {
  const port = Number(new URL(serve.url).port);
  const t0 = performance.now();
  serve.child.kill('SIGTERM');
  const code = await new Promise((r) => serve.child.once('exit', (c) => r(c)));
  assert.equal(code, 0, serve.out.join('').slice(-2000));
  assert.ok(performance.now() - t0 < 10_000);
  assert.ok(await portIsClosed(port));
});

test('CLI commands without DATABASE_URL name the variable and exit non-zero', async () => {
  for (const args of [['migrate'], ['accounts', 'list'], ['usage', '--account', 'x']]) {
    const r = await cli(args, { DATABASE_URL: undefined });
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, /DATABASE_URL: is required but not set/);
  }
});

test('serve with a missing or invalid variable fails at start naming it, exits non-zero and never listens', async () => {
  const badTiers = join(mkdtempSync(join(tmpdir(), 'aks-cli-bad-')), 'tiers.json');
  writeFileSync(badTiers, JSON.stringify({ tiers: { free: { memoryMb: 'big' } } }));
  const cases: [string, Record<string, string | undefined>, RegExp][] = [
    ['DATABASE_URL', { DATABASE_URL: undefined }, /DATABASE_URL: is required/],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://127.0.0.1/x' }, /DATABASE_URL: must use postgres/],
    ['GATEWAY_ADMIN_TOKEN', { GATEWAY_ADMIN_TOKEN: undefined }, /GATEWAY_ADMIN_TOKEN: is required/],
    ['GATEWAY_ADMIN_TOKEN', { GATEWAY_ADMIN_TOKEN: 'short' }, /GATEWAY_ADMIN_TOKEN: must be at least 16/],
    ['GATEWAY_PORT', { GATEWAY_PORT: 'http' }, /GATEWAY_PORT: must be a whole number/],
    ['AGENTKERNEL_URL', { AGENTKERNEL_URL: 'ftp://127.0.0.1' }, /AGENTKERNEL_URL: must use http: or https:/],
    ['REDIS_URL', { REDIS_URL: 'http://127.0.0.1:6379' }, /REDIS_URL: must use redis:/],
    ['GATEWAY_LOG_LEVEL', { GATEWAY_LOG_LEVEL: 'loud' }, /GATEWAY_LOG_LEVEL: must be one of/],
    ['GATEWAY_TIERS', { GATEWAY_TIERS: '/nonexistent/tiers.yaml' }, /GATEWAY_TIERS: cannot read \/nonexistent\/tiers.yaml/],
    ['GATEWAY_TIERS', { GATEWAY_TIERS: badTiers }, /GATEWAY_TIERS \(.*tiers\.json\): invalid tier file at \/tiers\/free/],
  ];
  await Promise.all(cases.map(async ([variable, change, message]) => {
    const port = await freePort();
    const r = await cli(['serve'], { ...serveEnv(port), ...change });
    assert.notEqual(r.code, 0, `${variable}: exit code`);
    assert.match(r.stderr, message, `${variable}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^agentkernel-gateway: ${variable}`), 'one clear line, starting with the variable');
    assert.ok(r.stderr.length < 500, `${variable}: no stack trace (${r.stderr.length} chars)`);
    assert.ok(await portIsClosed(port), `${variable}: nothing listens on ${port}`);
  }));
});

test('serve that cannot listen names GATEWAY_HOST or GATEWAY_PORT', async () => {
  const { createServer } = await import('node:net');
  const taken = createServer();
  const port = await freePort();
  await new Promise<void>((r) => taken.listen(port, '127.0.0.1', r));
  try {
    const inUse = await cli(['serve'], serveEnv(port));
    assert.notEqual(inUse.code, 0);
    assert.match(inUse.stderr, new RegExp(`^agentkernel-gateway: GATEWAY_PORT: .*${port}.*in use`));
  } finally {
    await new Promise((r) => taken.close(r));
  }
  for (const host of ['no-such-host.invalid', '192.0.2.1']) {
    const r = await cli(['serve'], { ...serveEnv(await freePort()), GATEWAY_HOST: host });
    assert.notEqual(r.code, 0, host);
    assert.match(r.stderr, new RegExp(`^agentkernel-gateway: GATEWAY_HOST: cannot listen on ${host.replace(/\./g, '\\.')}`), r.stderr);
  }
});

test('serve with an unreachable database fails without listening', async () => {
  const port = await freePort();
  const deadDb = `postgres://u:p@127.0.0.1:${await freePort()}/x`;
  const r = await cli(['serve'], { ...serveEnv(port), DATABASE_URL: deadDb });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^agentkernel-gateway: .*(ECONNREFUSED|connect)/);
  assert.ok(!r.stderr.includes(':p@'), 'the database password is not printed');
  assert.ok(await portIsClosed(port));
});

test('the esbuild bundle runs migrate on a fresh database (it finds its migrations)', async () => {
  const build = await new Promise<Run>((resolve) => {
    execFile('npm', ['run', 'build'], { cwd: root, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
  });
  assert.equal(build.code, 0, build.stderr);
  const fresh = await createDatabase(process.env.TEST_DATABASE_URL!, 'bundle');
  // Run from another directory so the bundle cannot lean on the repo's gateway/migrations by cwd.
  const r = await new Promise<Run>((resolve) => {
    execFile(process.execPath, [join(root, 'dist/gateway/agentkernel-gateway.mjs'), 'migrate'], {
      cwd: tmpdir(), timeout: 60_000, env: { PATH: process.env.PATH, DATABASE_URL: fresh },
    }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }));
  });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.ok(out.applied.length >= 1 && /^1 /.test(out.applied[0]), r.stdout);
  const c = new pg.Client({ connectionString: fresh });
  await c.connect();
  const { rows } = await c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('accounts', 'api_keys', 'usage_events')`);
  await c.end();
  assert.equal(rows[0].n, 3);
});
