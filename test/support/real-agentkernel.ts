/**
 * The real upstream for tests: `agentkernel serve` 0.18.1 (built and cached by .ci/steps/30-agentkernel.sh)
 * with its podman container backend, so real sandboxes run.
 *
 * Each instance is sealed off: its own HOME (sandbox state, audit log, snapshots), an empty working
 * directory (upstream reads `agentkernel.toml` and picks `/run` images from project files in its cwd),
 * and its own podman storage and containers.conf via CONTAINERS_STORAGE_CONF / CONTAINERS_CONF. So two
 * instances never see each other's containers (upstream names its warm-pool containers `pool-0`... and
 * force-removes any same-named container first), and nothing global on the host is configured.
 * The podman settings are the ones this machine needs (nested, cgroup v1, no systemd); see
 * /work/notes/upstream-report.md. The image upstream defaults to, `alpine:3.20`, is a busybox rootfs
 * imported from the cached tarball (no container registry is reachable here).
 *
 *   const ak = await startRealAgentkernel({ apiKey });   // ak.url, ak.apiKey, ak.logs(), ak.podman([...])
 *   await ak.stop();                                      // server, its containers and its temp dir gone
 *   realAgentkernelArtifacts()  -> { binary, rootfs } | { missing: string[] }
 *
 * `tsx test/support/real-agentkernel.ts --check` starts one, runs `echo hi` in a real sandbox and stops.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.js';

export const AGENTKERNEL_VERSION = '0.18.1';
const cache = process.env.AKS_CACHE ?? '/var/cache/agentkernel-saas';
/** Where .ci/steps/30-agentkernel.sh puts things; overridable for a locally built binary. */
export const AGENTKERNEL_BIN = process.env.AGENTKERNEL_BIN ?? join(cache, `agentkernel-${AGENTKERNEL_VERSION}`, 'bin', 'agentkernel');
export const AGENTKERNEL_ROOTFS = process.env.AGENTKERNEL_ROOTFS ?? join(cache, 'agentkernel-rootfs', 'alpine-3.20-busybox.tar');
/** The image agentkernel uses for sandboxes and its warm pool when none is given; podman stores it as
 * localhost/alpine:3.20 and resolves the short name to it before trying any registry. */
const DEFAULT_IMAGE = 'alpine:3.20';

const CONTAINERS_CONF = `# written by test/support/real-agentkernel.ts for one test instance
[containers]
# podman's default rlimits cannot be set inside this machine (runc: "error setting rlimit type 7")
default_ulimits = []
# loopback only: sandboxes must not put a bridge or NAT rules into the host's network namespace
netns = "none"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
# a sandbox's PID 1 is \`sh -c 'while true; do sleep 3600; done'\`, which ignores SIGTERM
stop_timeout = 1
`;

export interface RealAgentkernel {
  readonly url: string;
  readonly port: number;
  readonly apiKey: string;
  /** The server's stderr/stdout so far (for failure messages). */
  logs(): string;
  /** podman against this instance's own storage (e.g. to inspect or kill a sandbox's container). */
  podman(args: string[]): { status: number; stdout: string; stderr: string };
  stop(): Promise<void>;
}

export function realAgentkernelArtifacts(): { binary: string; rootfs: string } | { missing: string[] } {
  const missing = [AGENTKERNEL_BIN, AGENTKERNEL_ROOTFS].filter((p) => !existsSync(p));
  return missing.length ? { missing } : { binary: AGENTKERNEL_BIN, rootfs: AGENTKERNEL_ROOTFS };
}

async function waitHealthy(url: string, child: ChildProcess, logs: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`agentkernel serve exited with ${child.exitCode}:\n${logs()}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(500) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`agentkernel serve did not answer /health within ${timeoutMs} ms:\n${logs()}`);
}

const BASE_PREFIX = 'aks-real-agentkernel-';

/** True while the test process that made an instance dir is alive. */
function ownerAlive(dir: string): boolean {
  try {
    process.kill(Number(readFileSync(join(dir, 'owner.pid'), 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * podman's exit hooks (`container cleanup`, run by conmon) can recreate lock files in a storage dir after
 * stop() removed it, and a killed test process never runs stop(): sweep dirs whose owner is gone.
 */
function sweepRemains(): void {
  for (const name of readdirSync(tmpdir()).filter((n) => n.startsWith(BASE_PREFIX))) {
    const dir = join(tmpdir(), name);
    try {
      if (Date.now() - statSync(dir).mtimeMs > 60_000 && !ownerAlive(dir)) {
        // Only ever against that dir's own storage: without its storage.conf podman would use the host's.
        if (existsSync(join(dir, 'storage.conf'))) {
          spawnSync('podman', ['rm', '--all', '--force'], { env: { PATH: process.env.PATH, CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'), CONTAINERS_CONF: join(dir, 'containers.conf') } });
        }
        rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
      }
    } catch {
      // another instance is sweeping the same remains
    }
  }
}

export async function startRealAgentkernel(opts: { apiKey: string; port?: number }): Promise<RealAgentkernel> {
  const artifacts = realAgentkernelArtifacts();
  if ('missing' in artifacts) {
    throw new Error(`real agentkernel not built (missing ${artifacts.missing.join(', ')}); run .ci/steps/30-agentkernel.sh`);
  }
  sweepRemains();
  const base = mkdtempSync(join(tmpdir(), BASE_PREFIX));
  const dirs = { home: join(base, 'home'), cwd: join(base, 'cwd'), tmp: join(base, 'tmp'), storage: join(base, 'storage'), run: join(base, 'run') };
  writeFileSync(join(base, 'owner.pid'), String(process.pid));
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  writeFileSync(join(base, 'containers.conf'), CONTAINERS_CONF);
  // vfs: a per-instance store without overlay mounts; the busybox image is ~2 MB, so copies are cheap.
  writeFileSync(join(base, 'storage.conf'), `[storage]\ndriver = "vfs"\ngraphroot = "${dirs.storage}"\nrunroot = "${dirs.run}"\n`);
  const podmanEnv = {
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    CONTAINERS_CONF: join(base, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(base, 'storage.conf'),
    TMPDIR: dirs.tmp,
  };
  const podman = (args: string[]) => {
    const r = spawnSync('podman', args, { env: podmanEnv, encoding: 'utf8' });
    return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' };
  };
  const removeEverything = () => {
    // Guarded: with its storage.conf gone, podman would act on the host's own containers.
    if (existsSync(podmanEnv.CONTAINERS_STORAGE_CONF)) podman(['rm', '--all', '--force']);
    rmSync(base, { recursive: true, force: true, maxRetries: 5 }); // retries if podman's exit hooks race us
  };

  const imported = podman(['import', '--quiet', artifacts.rootfs, DEFAULT_IMAGE]);
  if (imported.status !== 0) {
    removeEverything();
    throw new Error(`podman import of ${artifacts.rootfs} failed: ${imported.stderr}`);
  }

  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child = spawn(artifacts.binary, ['serve', '--host', '127.0.0.1', '--port', String(port)], {
    cwd: dirs.cwd,
    env: { ...podmanEnv, HOME: dirs.home, AGENTKERNEL_API_KEY: opts.apiKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  // If the test process dies without stop(), do not leave the server and its containers running.
  const onExit = () => {
    child.kill('SIGKILL');
    removeEverything();
  };
  process.once('exit', onExit);

  const stop = async () => {
    process.off('exit', onExit);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    // Upstream leaves its warm-pool containers behind on exit.
    removeEverything();
  };

  try {
    await waitHealthy(url, child, () => output, 15_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, port, apiKey: opts.apiKey, logs: () => output, podman, stop };
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--check')) {
  const t0 = Date.now();
  const ak = await startRealAgentkernel({ apiKey: 'ci-check' });
  try {
    const res = await fetch(`${ak.url}/run`, {
      method: 'POST',
      headers: { authorization: 'Bearer ci-check', 'content-type': 'application/json' },
      body: JSON.stringify({ command: ['echo', 'hi'], fast: false }),
    });
    const body = await res.text();
    if (res.status !== 200 || JSON.parse(body).data?.output !== 'hi\n') throw new Error(`/run echo hi: ${res.status} ${body}\n${ak.logs()}`);
    console.log(`real agentkernel ${AGENTKERNEL_VERSION} on podman: /run echo hi -> ${JSON.stringify(JSON.parse(body).data.output)} (${Date.now() - t0} ms)`);
  } finally {
    await ak.stop();
  }
}
