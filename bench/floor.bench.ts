// What the parts of the gateway's design cost on this machine (`npx tsx bench/floor.bench.ts`):
// a bare fastify route, then one upstream call, then the round trips of GET /sandboxes/{name}
// (2 PostgreSQL + 1 Redis + upstream) and of a metered /run (3 PostgreSQL + 1 Redis + upstream).
// Serial requests (1 connection), CPU per request from /proc. Writes bench/FLOOR.md. It bounds
// what gateway.bench.ts can show: the gateway cannot cost less than the round trips it must make.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, startPostgres } from '../test/support/postgres-server.js';
import { startRedis } from '../test/support/redis-server.js';
import { startServerProcess } from './child-process.js';
import { runLoad } from './load.js';
import { cpuDelta, cpuStallUs, snapshotCpu } from './proc-cpu.js';

const DURATION = 5;
const SHAPES = [
  { label: 'fastify route, no I/O', pg: 0, redis: 0, upstream: false },
  { label: '+ 1 upstream call (undici)', pg: 0, redis: 0, upstream: true },
  { label: '+ 2 PostgreSQL + 1 Redis (shape of GET /sandboxes/{name})', pg: 2, redis: 1, upstream: true },
  { label: '+ 3 PostgreSQL + 1 Redis (shape of POST /run)', pg: 3, redis: 1, upstream: true },
];

const work = mkdtempSync(join(tmpdir(), 'aks-floor-'));
const [pgServer, redis] = await Promise.all([startPostgres(), startRedis()]);
const rows: string[] = [];
try {
  const databaseUrl = await createDatabase(pgServer.url, 'floor');
  const key = `upstream-${randomBytes(16).toString('hex')}`;
  const upstream = await startServerProcess('./upstream-process.ts', { env: { BENCH_UPSTREAM_KEY: key }, logFile: join(work, 'upstream.log') });
  try {
    for (const s of SHAPES) {
      const srv = await startServerProcess('./floor-server.ts', {
        logFile: join(work, 'floor.log'),
        env: { FLOOR_PG: String(s.pg), FLOOR_REDIS: String(s.redis), FLOOR_UPSTREAM: s.upstream ? '1' : '0', FLOOR_UPSTREAM_URL: upstream.url,
          FLOOR_UPSTREAM_KEY: key, FLOOR_DATABASE_URL: databaseUrl, FLOOR_REDIS_URL: redis.url },
      });
      try {
        const target = { url: `${srv.url}/floor`, connections: 1 };
        await runLoad({ ...target, duration: 1 });
        const groups = {
          server: { pids: [srv.pid] }, upstream: { pids: [upstream.pid] }, load: { pids: [process.pid] },
          postgres: { cmdlineIncludes: ` ${new URL(databaseUrl).pathname.slice(1)} ` }, redis: { cmdlineIncludes: `redis-server 127.0.0.1:${redis.port}` },
        };
        const before = snapshotCpu(groups);
        const stall0 = cpuStallUs();
        const t0 = performance.now();
        const r = await runLoad({ ...target, duration: DURATION });
        const cpu = cpuDelta(snapshotCpu(groups), before);
        const stall1 = cpuStallUs();
        if (r.non2xx || r.errors || !r.requests) throw new Error(`${s.label}: ${r.non2xx} non-2xx, ${r.errors} errors`);
        const per = (ms: number) => ((ms * 1000) / r.requests).toFixed(0);
        const stall = stall0 !== null && stall1 !== null ? ((100 * (stall1 - stall0)) / ((performance.now() - t0) * 1000)).toFixed(0) : 'n/a';
        rows.push(`| ${s.label} | ${r.reqPerSec.toFixed(0)} | ${r.p50Ms.toFixed(2)} / ${r.p99Ms.toFixed(2)} | ${per(cpu.server)} | ${per(cpu.upstream)} | ${per(cpu.postgres)} | ${per(cpu.redis)} | ${per(cpu.load)} | ${stall} |`);
        console.log(rows.at(-1));
      } finally {
        await srv.stop();
      }
    }
  } finally {
    await upstream.stop();
  }
} finally {
  await pgServer.stop();
  await redis.destroy();
  rmSync(work, { recursive: true, force: true });
}
const md = [
  '# Floor: what the gateway\'s round trips cost here', '',
  'Produced by `npx tsx bench/floor.bench.ts` (see the file for what each shape does), ' +
  `${new Date().toISOString()}, Node ${process.version}, 1-minute load average ${loadavg()[0].toFixed(2)} at the end. ` +
  `1 connection, ${DURATION} s per shape after 1 s warm-up; CPU µs per request from /proc; CPU stall = PSI (some) during the phase.`, '',
  '| shape | req/s | p50 / p99 ms | server CPU µs | fake CPU µs | PostgreSQL CPU µs | Redis CPU µs | load generator CPU µs | CPU stall % |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows, '',
];
writeFileSync(fileURLToPath(new URL('FLOOR.md', import.meta.url)), md.join('\n'));
console.log(md.join('\n'));
process.exit(0);
