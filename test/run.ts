// `npm test`: starts a private PostgreSQL cluster and Redis (Debian's servers, temp dirs, free ports),
// then runs every test file with node's test runner. Test files read TEST_DATABASE_URL (a superuser
// URL; each file creates its own database) and TEST_REDIS_URL.
// Flags: --only DIR[,DIR] (unit, integration, infra, contract, e2e) to run a subset, or name files.
import { spawn } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from './support/postgres-server.js';
import { startRedis } from './support/redis-server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const suites = ['unit', 'infra', 'integration', 'contract', 'e2e'];

function testFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'support' ? [] : testFiles(p);
    return name.endsWith('.test.ts') ? [p] : [];
  });
}

const onlyIdx = process.argv.indexOf('--only');
const chosen = onlyIdx >= 0 ? process.argv[onlyIdx + 1].split(',') : suites;
// Test files named on the command line run alone (quick loops): `npx tsx test/run.ts test/x/y.test.ts`.
const named = process.argv.slice(2).filter((a) => a.endsWith('.test.ts'));
const files = named.length ? named : chosen.flatMap((s) => testFiles(join(root, 'test', s))).sort();
if (!files.length) {
  console.error(`no test files in ${chosen.join(', ')}`);
  process.exit(1);
}

const pgServer = process.env.TEST_DATABASE_URL ? undefined : await startPostgres();
const redis = process.env.TEST_REDIS_URL ? undefined : await startRedis();
const env = {
  ...process.env,
  TEST_DATABASE_URL: process.env.TEST_DATABASE_URL ?? pgServer!.url,
  TEST_REDIS_URL: process.env.TEST_REDIS_URL ?? redis!.url,
};
console.log(`running ${files.length} test files: ${files.map((f) => relative(root, f)).join(' ')}`);
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env, cwd: root });
const code: number = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0))));
await pgServer?.stop();
await redis?.destroy();
process.exit(code);
