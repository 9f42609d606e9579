// A private redis-server from Debian's packages on a free loopback port, with a password.
// Tests that stop Redis mid-test start their own; the rest share the one the runner starts.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { freePort } from './free-port.js';

export interface RedisServer {
  url: string;
  port: number;
  password: string;
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop), for outage tests. */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  destroy(): Promise<void>;
}

function ping(port: number, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => s.write(`AUTH ${password}\r\nPING\r\n`));
    let buf = '';
    s.on('data', (d) => { buf += d; if (buf.includes('PONG')) { s.destroy(); resolve(true); } });
    s.on('error', () => resolve(false));
    setTimeout(() => { s.destroy(); resolve(false); }, 500);
  });
}

export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'aks-redis-'));
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--requirepass', password,
      '--dir', dir, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const deadline = Date.now() + 10_000;
    while (!(await ping(port, password))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} (is redis-server installed?)`);
      if (Date.now() > deadline) throw new Error('redis-server did not start in 10s');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async () => {
    if (child && child.exitCode === null) {
      const c = child;
      c.kill('SIGTERM');
      await new Promise((r) => c.once('exit', r));
    }
  };
  await start();
  return {
    url: `redis://:${password}@127.0.0.1:${port}/0`,
    port,
    password,
    start,
    stop,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
