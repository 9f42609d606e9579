// The gateway benchmark (`npm run bench`): in one bounded run it measures a cheap call
// (GET /sandboxes/{name}) and a metered call (POST /run), each directly against the fast in-memory
// fake agentkernel and through the gateway, and writes req/s, p50/p99 latency and the ratios to
// bench/RESULTS.md together with the command that produced them and the machine facts.
//
// Layout (fair on a 2-core machine): the fake upstream and the gateway each run in their own Node
// process, autocannon runs in this one; PostgreSQL and Redis are private real servers (Debian's), the
// gateway uses Redis for rate limits as in production. The direct phases send the upstream exactly
// what the gateway forwards (upstream name, upstream key, rewritten /run body), so the difference is
// the gateway.
//
// Two load levels per call: `--connections` (default 10) saturates the machine and gives the
// throughput ratio; 1 connection (serial requests, no queueing) gives the per-request latency the
// gateway adds. At saturation latency is connections / throughput (Little's law), so the latency
// delta there is mostly queueing behind the slower path; both are reported.
//
// Flags: --connections N (10), --duration S (10), --warmup S (3), --profile (run the gateway under
// `node --cpu-prof`, write bench/PROFILE.md with the top frames instead of RESULTS.md), --out FILE.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { TenantNamespace } from '../gateway/src/namespace.js';
import { createDatabase, startPostgres, type PostgresServer } from '../test/support/postgres-server.js';
import { startRedis, type RedisServer } from '../test/support/redis-server.js';
import { startServerProcess, type ServerProcess } from './child-process.js';
import { summariseProfile, type ProfileSummary } from './cpu-profile.js';
import { runLoad, type LoadResult } from './load.js';
import { cpuDelta, cpuStallUs, snapshotCpu, type GroupMatcher } from './proc-cpu.js';
import { deltaBuckets, histogramBuckets, histogramCount, histogramQuantile } from './prom-histogram.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values: flags } = parseArgs({
  options: {
    connections: { type: 'string', default: '10' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
  },
  strict: true,
});
function positiveInt(name: string, raw: string, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) throw new Error(`--${name} must be a whole number from 1 to ${max} (got "${raw}")`);
  return Number(raw);
}
const CONNECTIONS = positiveInt('connections', flags.connections!, 1000);
const DURATION = positiveInt('duration', flags.duration!, 60);
const WARMUP = positiveInt('warmup', flags.warmup!, 30);
const LIGHT_CONNECTIONS = 1;
const profileCopy = join(tmpdir(), 'aks-gateway-bench.cpuprofile');
const outFile = flags.out ?? join(root, 'bench', flags.profile ? 'PROFILE.md' : 'RESULTS.md');

const argv = process.argv.slice(2);
const command = process.env.npm_lifecycle_event === 'bench'
  ? `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`
  : `npx tsx bench/gateway.bench.ts${argv.length ? ` ${argv.join(' ')}` : ''}`;

// Whole run: 2 calls x (2 warm-ups + 4 measured phases) plus start-up; never let it run away.
const budgetMs = (2 * (2 * WARMUP + 4 * DURATION) + 90) * 1000;
const watchdog = setTimeout(() => {
  console.error(`benchmark exceeded its ${budgetMs / 1000}s budget; aborting`);
  process.exit(2);
}, budgetMs);
watchdog.unref();

// Contention over the whole run (PSI), for the machine facts.
const runStart = { ms: performance.now(), stallUs: cpuStallUs() };
const log = (m: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);

interface Call {
  label: string;
  route: string;
  direct: { path: string; method: 'GET' | 'POST'; headers: Record<string, string>; body?: string };
  gateway: { path: string; method: 'GET' | 'POST'; headers: Record<string, string>; body?: string };
}

interface GatewayHist {
  count: number;
  p50Ms: number;
  p99Ms: number;
}

/** CPU ms per process group during one measured phase, and the share of it the CPUs were contended. */
type PhaseCpu = Record<string, number> & { stallPct?: number };

interface CallResult {
  call: Call;
  levels: { connections: number; direct: LoadResult; gateway: LoadResult; hist: GatewayHist; directCpu: PhaseCpu; gatewayCpu: PhaseCpu }[];
}

const CPU_GROUPS = ['load generator', 'fake upstream', 'gateway', 'PostgreSQL backends', 'Redis'] as const;

async function machineFacts(pgUrl: string, redisUrl: string) {
  const c = new pg.Client({ connectionString: pgUrl });
  await c.connect();
  const pgVersion = (await c.query('SHOW server_version')).rows[0].server_version as string;
  await c.end();
  const r = new Redis(redisUrl);
  const info = await r.info('server');
  r.disconnect();
  const git = (args: string[]) => {
    try {
      return execFileSync('git', args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    } catch {
      return null; // not a git checkout (an exported tree)
    }
  };
  const dirty = git(['status', '--porcelain', '--', 'gateway/src', 'bench']) ? ' (with uncommitted changes in gateway/src or bench)' : '';
  return {
    nproc: execFileSync('nproc').toString().trim(),
    cpu: cpus()[0]?.model ?? 'unknown',
    memGiB: (totalmem() / 2 ** 30).toFixed(1),
    kernel: release(),
    node: process.version,
    postgres: pgVersion,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    commit: `${git(['rev-parse', '--short', 'HEAD']) ?? 'unknown (not a git checkout)'}${dirty}`,
    loadAtStart: loadavg()[0].toFixed(2),
    date: new Date().toISOString(),
  };
}

async function json(url: string, init: RequestInit): Promise<{ status: number; body: any }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function scrape(gatewayUrl: string, adminToken: string): Promise<string> {
  const res = await fetch(`${gatewayUrl}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return res.text();
}

function check(phase: string, r: LoadResult) {
  const bad = r.non2xx + r.errors + r.timeouts;
  if (bad || !r.requests) {
    throw new Error(`${phase}: ${r.requests} ok, ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts (statuses ${JSON.stringify(r.statusCounts)}); a limit tripped or a server failed`);
  }
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
const pass = (ok: boolean) => (ok ? 'met' : '**NOT met**');

function render(facts: Awaited<ReturnType<typeof machineFacts>>, results: CallResult[], profile: ProfileSummary | undefined,
  ledger: { answered: number; outcomes: Record<string, number> }): string {
  const lines: string[] = [];
  lines.push(`# Gateway benchmark${profile ? ' (profiling run: numbers include --cpu-prof overhead)' : ''}`, '');
  lines.push('Produced by:', '', '```', command, '```', '');
  lines.push(`Machine: nproc ${facts.nproc}, ${facts.cpu}, ${facts.memGiB} GiB RAM, Linux ${facts.kernel}; Node ${facts.node}; PostgreSQL ${facts.postgres}; Redis ${facts.redis}.`);
  const stallNow = cpuStallUs();
  const runStall = runStart.stallUs !== null && stallNow !== null ? `${((100 * (stallNow - runStart.stallUs)) / ((performance.now() - runStart.ms) * 1000)).toFixed(0)}%` : 'n/a';
  lines.push(`Code: commit ${facts.commit}. Run at ${facts.date}; 1-minute load average ${facts.loadAtStart} at the start and ${loadavg()[0].toFixed(2)} at the end; ` +
    `CPU stall (PSI some) ${runStall} of the run. Other work on the machine competes for the 2 cores and inflates wall-clock numbers, ` +
    'the gateway path (5 processes per request: load generator, gateway, PostgreSQL, Redis, fake) most.', '');
  lines.push(
    `Load: autocannon 8 (programmatic, in the parent process), ${WARMUP} s warm-up then ${DURATION} s measured per phase, ` +
    `at ${CONNECTIONS} connections (saturation: throughput) and ${LIGHT_CONNECTIONS} connection (serial: per-request latency). ` +
    'Fake agentkernel (test/support/fake-agentkernel.ts, in memory) in one child process, the gateway (startGateway, log level info, ' +
    'PostgreSQL + Redis) in another; private PostgreSQL and Redis servers. All on the same machine, so the gateway phases share ' +
    'the CPUs with the fake, PostgreSQL, Redis and the load generator, while the direct phases share them with the load generator only.',
    '',
    'Latencies are exact percentiles of every 2xx response time autocannon measured (float ms; its own histogram rounds to whole ms). ' +
    '"Added" = through-gateway minus direct at the same number of connections. "Gateway histogram" = the gateway\'s own ' +
    '`gateway_added_latency_seconds` for that phase (delta of two /metrics scrapes, quantiles interpolated in its buckets like ' +
    'PromQL histogram_quantile; time in the gateway excluding the upstream call).',
    '',
  );
  lines.push('| call | connections | direct req/s | gateway req/s | ratio | direct p50 / p99 ms | gateway p50 / p99 ms | added p50 / p99 ms | gateway histogram p50 / p99 ms |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    for (const l of r.levels) {
      lines.push(`| ${r.call.label} | ${l.connections} | ${l.direct.reqPerSec.toFixed(0)} | ${l.gateway.reqPerSec.toFixed(0)} | ${(l.gateway.reqPerSec / l.direct.reqPerSec).toFixed(2)} | ` +
        `${ms(l.direct.p50Ms)} / ${ms(l.direct.p99Ms)} | ${ms(l.gateway.p50Ms)} / ${ms(l.gateway.p99Ms)} | ` +
        `${ms(l.gateway.p50Ms - l.direct.p50Ms)} / ${ms(l.gateway.p99Ms - l.direct.p99Ms)} | ${ms(l.hist.p50Ms)} / ${ms(l.hist.p99Ms)} |`);
    }
  }
  lines.push('', '## CPU per request', '');
  lines.push('CPU time (user + system, from /proc) each process group used during the measured phase, divided by the 2xx responses: ' +
    'µs of CPU per request. PostgreSQL = the backends serving the benchmark database. On 2 cores, total CPU per request bounds throughput.', '');
  lines.push('"CPU stall" is Linux PSI for the phase (/proc/pressure/cpu, some): the share of wall time in which at least one runnable ' +
    'task on the machine, ours or not, waited for a CPU. Near 0 is a quiet machine; high values mean every hop waits in a run queue.', '');
  lines.push(`| call | connections | path | ${CPU_GROUPS.join(' | ')} | total | CPU stall % |`);
  lines.push(`|---|---:|---|${CPU_GROUPS.map(() => '---:').join('|')}|---:|---:|`);
  for (const r of results) {
    for (const l of r.levels) {
      for (const [path, cpu, res] of [['direct', l.directCpu, l.direct], ['gateway', l.gatewayCpu, l.gateway]] as const) {
        const per = (v: number) => ((v * 1000) / res.requests).toFixed(0);
        const total = CPU_GROUPS.reduce((a, g) => a + (cpu[g] ?? 0), 0);
        lines.push(`| ${r.call.label} | ${l.connections} | ${path} | ${CPU_GROUPS.map((g) => per(cpu[g] ?? 0)).join(' | ')} | ${per(total)} | ${cpu.stallPct === undefined ? 'n/a' : cpu.stallPct.toFixed(0)} |`);
      }
    }
  }
  lines.push('', `Usage ledger after the run: ${Object.entries(ledger.outcomes).map(([o, n]) => `${n} ${o}`).join(', ') || 'no rows'} /run rows; ` +
    `the gateway answered ${ledger.answered} /run requests with 2xx (warm-ups included; the few extra rows are requests autocannon ` +
    'cut off at the end of a phase, settled as client_aborted or succeeded after the client stopped listening). No row may stay `reserved`.');
  lines.push('', 'What the round trips alone cost here (a bare fastify route with the same PostgreSQL, Redis and upstream calls): bench/FLOOR.md.');
  lines.push('', '## Targets (issue 2)', '');
  const metered = results.find((r) => r.call.route === '/run')!;
  const sat = metered.levels.find((l) => l.connections === CONNECTIONS)!;
  lines.push(`- Metered throughput through the gateway at least half of direct: ${(sat.gateway.reqPerSec / sat.direct.reqPerSec).toFixed(2)} of direct at ${CONNECTIONS} connections: ${pass(sat.gateway.reqPerSec >= 0.5 * sat.direct.reqPerSec)}.`);
  for (const r of results) {
    for (const l of r.levels) {
      const a50 = l.gateway.p50Ms - l.direct.p50Ms;
      const a99 = l.gateway.p99Ms - l.direct.p99Ms;
      lines.push(`- ${r.call.label}, ${l.connections} connection${l.connections > 1 ? 's' : ''}: added p50 ${ms(a50)} ms (target <= 1): ${pass(a50 <= 1)}; added p99 ${ms(a99)} ms (target <= 3): ${pass(a99 <= 3)}.`);
    }
  }
  if (profile) {
    lines.push('', '## Gateway CPU profile (self time, whole run)', '');
    lines.push(`Sampled ${(profile.totalMs / 1000).toFixed(1)} s, idle ${(profile.idleMs / 1000).toFixed(1)} s; counted in samples (see bench/cpu-profile.ts); percentages are of busy samples; start-up (module loading) is included.`, '');
    lines.push('| function | where | self ms | % |', '|---|---|---:|---:|');
    for (const f of profile.topFunctions) lines.push(`| ${f.name.replace(/\|/g, '\\|')} | ${f.where} | ${f.selfMs.toFixed(0)} | ${f.pct.toFixed(1)} |`);
    lines.push('', '| package / file | self ms | % |', '|---|---:|---:|');
    for (const p of profile.topPackages) lines.push(`| ${p.name} | ${p.selfMs.toFixed(0)} | ${p.pct.toFixed(1)} |`);
  }
  lines.push('');
  return lines.join('\n');
}

async function main() {
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'aks-bench-'));
  let pgServer: PostgresServer | undefined;
  let redis: RedisServer | undefined;
  let upstream: ServerProcess | undefined;
  let gateway: ServerProcess | undefined;
  try {
    log('starting PostgreSQL and Redis');
    [pgServer, redis] = await Promise.all([startPostgres(), startRedis()]);
    const databaseUrl = await createDatabase(pgServer.url, 'bench');
    const upstreamKey = `upstream-${randomBytes(16).toString('hex')}`;
    const adminToken = randomBytes(24).toString('hex');
    log('starting the fake upstream and the gateway (child processes)');
    upstream = await startServerProcess('./upstream-process.ts', { env: { BENCH_UPSTREAM_KEY: upstreamKey }, logFile: join(work, 'upstream.log') });
    const profDir = join(work, 'prof');
    gateway = await startServerProcess('./gateway-process.ts', {
      nodeArgs: flags.profile ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
      logFile: join(work, 'gateway.log'),
      env: {
        DATABASE_URL: databaseUrl, REDIS_URL: redis.url, AGENTKERNEL_URL: upstream.url, AGENTKERNEL_API_KEY: upstreamKey,
        GATEWAY_ADMIN_TOKEN: adminToken, GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: '0', GATEWAY_LOG_LEVEL: 'info',
      },
    });
    const facts = await machineFacts(pgServer.url, redis.url);

    // A tenant no limit can trip during the run: unlimited executions, a rate limit far above any rate here.
    const acct = await json(`${gateway.url}/v1/admin/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench', email: 'bench@example.com', tier: 'enterprise', overrides: { executionsPerMonth: null, rateLimitPerMinute: 1_000_000_000 } }),
    });
    if (acct.status !== 201) throw new Error(`create account: ${acct.status} ${JSON.stringify(acct.body)}`);
    const tenantKey: string = acct.body.data.apiKey;
    const ns = new TenantNamespace(acct.body.data.namespace);
    const tenantHeaders = { authorization: `Bearer ${tenantKey}` };
    const upstreamHeaders = { authorization: `Bearer ${upstreamKey}` };
    const created = await json(`${gateway.url}/sandboxes`, { method: 'POST', headers: { ...tenantHeaders, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bench' }) });
    if (created.status !== 201 || !created.body?.success) throw new Error(`create sandbox: ${created.status} ${JSON.stringify(created.body)}`);

    const runBody = { command: ['echo', 'hi'] };
    // What the gateway forwards for that body on this tier (tenant-policy: moderate profile, never pooled).
    const forwardedRunBody = { command: ['echo', 'hi'], profile: 'moderate', fast: false };
    const calls: Call[] = [
      {
        label: 'GET /sandboxes/{name} (cheap)', route: '/sandboxes/:name',
        direct: { method: 'GET', path: `/sandboxes/${ns.upstream('bench')}`, headers: upstreamHeaders },
        gateway: { method: 'GET', path: '/sandboxes/bench', headers: tenantHeaders },
      },
      {
        label: 'POST /run (metered)', route: '/run',
        direct: { method: 'POST', path: '/run', headers: { ...upstreamHeaders, 'content-type': 'application/json' }, body: JSON.stringify(forwardedRunBody) },
        gateway: { method: 'POST', path: '/run', headers: { ...tenantHeaders, 'content-type': 'application/json' }, body: JSON.stringify(runBody) },
      },
    ];
    // Both paths must answer the same thing before their speed means anything.
    for (const c of calls) {
      const d = await json(upstream.url + c.direct.path, { method: c.direct.method, headers: c.direct.headers, body: c.direct.body });
      const g = await json(gateway.url + c.gateway.path, { method: c.gateway.method, headers: c.gateway.headers, body: c.gateway.body });
      if (d.status !== 200 || g.status !== 200 || !d.body.success || !g.body.success) throw new Error(`${c.label}: direct ${d.status} ${JSON.stringify(d.body)}, gateway ${g.status} ${JSON.stringify(g.body)}`);
      if (c.route === '/run' && JSON.stringify(d.body.data) !== JSON.stringify(g.body.data)) throw new Error(`${c.label}: direct and gateway answers differ`);
      if (c.route !== '/run' && g.body.data.name !== 'bench') throw new Error(`${c.label}: gateway answered name ${g.body.data.name}`);
    }

    const groups: Record<(typeof CPU_GROUPS)[number], GroupMatcher> = {
      'load generator': { pids: [process.pid] },
      'fake upstream': { pids: [upstream.pid] },
      gateway: { pids: [gateway.pid] },
      'PostgreSQL backends': { cmdlineIncludes: ` ${new URL(databaseUrl).pathname.slice(1)} ` },
      Redis: { cmdlineIncludes: `redis-server 127.0.0.1:${redis.port}` },
    };
    const measured = async <T>(fn: () => Promise<T>): Promise<[T, PhaseCpu]> => {
      const before = snapshotCpu(groups);
      const stall0 = cpuStallUs();
      const t0 = performance.now();
      const out = await fn();
      const cpu: PhaseCpu = cpuDelta(snapshotCpu(groups), before);
      const stall1 = cpuStallUs();
      if (stall0 !== null && stall1 !== null) cpu.stallPct = (100 * (stall1 - stall0)) / ((performance.now() - t0) * 1000);
      return [out, cpu];
    };
    const results: CallResult[] = [];
    let runsAnswered = 1; // the check request above
    for (const c of calls) {
      const levels: CallResult['levels'] = [];
      for (const connections of [CONNECTIONS, LIGHT_CONNECTIONS]) {
        const d = { url: upstream.url + c.direct.path, method: c.direct.method, headers: c.direct.headers, body: c.direct.body };
        const g = { url: gateway.url + c.gateway.path, method: c.gateway.method, headers: c.gateway.headers, body: c.gateway.body };
        // One warm-up per path (JIT, pools, keep-alive connections) before its first measured phase.
        if (connections === CONNECTIONS) {
          log(`${c.label}: warm-up direct`);
          await runLoad({ ...d, connections, duration: WARMUP });
        }
        log(`${c.label}: direct, ${connections} connection(s), ${DURATION}s`);
        const [direct, directCpu] = await measured(() => runLoad({ ...d, connections, duration: DURATION }));
        check(`${c.label} direct`, direct);
        if (connections === CONNECTIONS) {
          log(`${c.label}: warm-up through the gateway`);
          const w = await runLoad({ ...g, connections, duration: WARMUP });
          if (c.route === '/run') runsAnswered += w.requests;
        }
        log(`${c.label}: gateway, ${connections} connection(s), ${DURATION}s`);
        const before = histogramBuckets(await scrape(gateway.url, adminToken), 'gateway_added_latency_seconds', { route: c.route });
        const [through, gatewayCpu] = await measured(() => runLoad({ ...g, connections, duration: DURATION }));
        if (c.route === '/run') runsAnswered += through.requests;
        const after = histogramBuckets(await scrape(gateway.url, adminToken), 'gateway_added_latency_seconds', { route: c.route });
        check(`${c.label} gateway`, through);
        const h = deltaBuckets(after, before);
        levels.push({ connections, direct, gateway: through, directCpu, gatewayCpu, hist: { count: histogramCount(h), p50Ms: histogramQuantile(h, 0.5) * 1000, p99Ms: histogramQuantile(h, 0.99) * 1000 } });
        log(`  direct ${direct.reqPerSec.toFixed(0)} req/s p50 ${ms(direct.p50Ms)} p99 ${ms(direct.p99Ms)} | gateway ${through.reqPerSec.toFixed(0)} req/s p50 ${ms(through.p50Ms)} p99 ${ms(through.p99Ms)}`);
      }
      results.push({ call: c, levels });
    }

    // The metered path really was metered: one settled ledger row per /run the gateway answered
    // (a few more when autocannon cut requests off at the end of a phase: those settle as aborted).
    const ledgerDb = new pg.Client({ connectionString: databaseUrl });
    await ledgerDb.connect();
    const { rows: ledgerRows } = await ledgerDb.query(`SELECT outcome, count(*)::int AS n FROM usage_events WHERE kind = 'run' GROUP BY 1 ORDER BY 1`);
    await ledgerDb.end();
    const ledger = { answered: runsAnswered, outcomes: Object.fromEntries(ledgerRows.map((r) => [r.outcome as string, r.n as number])) };
    log('stopping servers');
    await gateway.stop();
    gateway = undefined;
    let profile: ProfileSummary | undefined;
    if (flags.profile) {
      const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
      if (!file) throw new Error('the gateway wrote no CPU profile');
      profile = summariseProfile(join(profDir, file));
      // Kept for a closer look (e.g. Chrome DevTools' Performance tab); the work folder is removed.
      copyFileSync(join(profDir, file), profileCopy);
      log(`gateway CPU profile: ${profileCopy}`);
    }
    const md = render(facts, results, profile, ledger);
    writeFileSync(outFile, md);
    console.log('\n' + md);
    log(`wrote ${relative(process.cwd(), outFile)} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } finally {
    await gateway?.stop().catch(() => {});
    await upstream?.stop().catch(() => {});
    await Promise.all([pgServer?.stop(), redis?.destroy()].map((p) => p?.catch(() => {})));
    rmSync(work, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e.stack ?? e.message);
    process.exit(1);
  },
);
