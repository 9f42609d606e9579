// Runs a server (the fake upstream or the gateway) in its own Node process, so it gets its own event
// loop and, on a 2-core machine, can run on the other core from the load generator. The child reports
// `{ url }` over IPC once it listens and exits cleanly on a `stop` message (which is also what makes
// `--cpu-prof` write its profile).
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ServerProcess {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startServerProcess(script: string, opts: { env: Record<string, string>; nodeArgs?: string[]; logFile: string; startTimeoutMs?: number }): Promise<ServerProcess> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const log = openSync(opts.logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', path], {
    stdio: ['ignore', log, log, 'ipc'],
    env: { ...process.env, ...opts.env },
  });
  closeSync(log);
  const tail = () => readFileSync(opts.logFile, 'utf8').slice(-3000);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not report ready within ${opts.startTimeoutMs ?? 30_000} ms:\n${tail()}`));
    }, opts.startTimeoutMs ?? 30_000);
    child.once('message', (m: { url?: string; error?: string }) => {
      clearTimeout(timer);
      if (m.url) resolve(m.url);
      else reject(new Error(`${script} failed to start: ${m.error}\n${tail()}`));
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code ?? sig}) before it was ready:\n${tail()}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send('stop');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Child side: report the URL (or the failure) to the parent and shut down on `stop`. */
export function serveAsChild(start: () => Promise<{ url: string; close(): Promise<void> }>): void {
  start().then(
    (srv) => {
      process.send!({ url: srv.url });
      process.on('message', (m) => {
        if (m === 'stop') void srv.close().finally(() => process.exit(0));
      });
      // The parent died without saying stop: do not linger.
      process.on('disconnect', () => void srv.close().finally(() => process.exit(0)));
    },
    (e: Error) => {
      process.send!({ error: e.stack ?? e.message });
      process.exit(1);
    },
  );
}
