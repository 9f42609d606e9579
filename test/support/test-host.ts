// A real Debian 13 (trixie) host for the e2e test: a debootstrap rootfs (built once, cached as a
// tarball under $AKS_CACHE) booted with systemd as PID 1 by systemd-nspawn inside a network namespace
// of its own, reached over SSH with a per-run key. The provisioning plan (firewall included) only
// ever touches that namespace; hostFirewallRuleset() lets the test prove this machine's stayed as is.
// It is a fidelity device, not a security boundary: the container runs as real root with all
// capabilities so that systemd, nftables and nested podman behave as on a VM.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, renameSync, rmSync,
  rmdirSync, writeFileSync, chmodSync, symlinkSync, unlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';

const SUITE = 'trixie';
/** Packages in the cached rootfs. Only what a fresh Debian server has plus SSH and curl: whatever
 * the plan needs beyond that it must install itself, or the e2e would hide a missing package. */
export const ROOTFS_INCLUDE = ['systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'iproute2', 'ca-certificates', 'curl', 'procps'];
const ROOTFS_LAYOUT_VERSION = 1; // bump when the post-debootstrap cleanup below changes
const STATE_DIR = '/run/agentkernel-saas-e2e'; // runtime state of live test hosts, for stale-run sweeps
const MAX_SLOTS = 64; // slot N owns netns aks-e2e-N and subnet 10.231.N.0/30

export function cacheDir(): string {
  return process.env.AKS_CACHE ?? '/var/cache/agentkernel-saas';
}

export interface RunResult { stdout: string; stderr: string; code: number }

/** Runs a command, collecting output; kills it (and fails) when it exceeds timeoutMs. */
export function run(cmd: string, args: string[], opts: { timeoutMs?: number; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ').slice(0, 200)} timed out after ${timeoutMs} ms; stderr: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => { clearTimeout(timer); resolve({ stdout, stderr, code: code ?? (signal ? 128 : 1) }); });
    // A command may exit without reading its stdin; that EPIPE is not the command's failure.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function tryQuiet(fn: () => unknown): void {
  try { fn(); } catch { /* teardown is best effort per resource; the next step still runs */ }
}

// ---------------------------------------------------------------------------------------------
// The rootfs tarball

/** Debian mirrors this machine's apt already uses (so the test host uses the same reachable ones). */
export function hostDebianMirrors(): { main?: string; security?: string } {
  const uris: string[] = [];
  const files = ['/etc/apt/sources.list'];
  const d = '/etc/apt/sources.list.d';
  if (existsSync(d)) files.push(...readdirSync(d).filter((f) => /\.(list|sources)$/.test(f)).map((f) => join(d, f)));
  for (const f of files.filter((x) => existsSync(x))) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const deb822 = /^URIs:\s*(.+)$/i.exec(line.trim());
      const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s/.exec(line.trim());
      if (deb822) uris.push(...deb822[1].split(/\s+/));
      else if (oneLine) uris.push(oneLine[1]);
    }
  }
  const clean = (u?: string) => u?.replace(/\/+$/, '');
  return {
    main: clean(process.env.AKS_DEBIAN_MIRROR ?? uris.find((u) => /\/debian\/?$/.test(u))),
    security: clean(process.env.AKS_DEBIAN_SECURITY_MIRROR ?? uris.find((u) => /\/debian-security\/?$/.test(u))),
  };
}

export function rootfsTarballPath(): string {
  const key = createHash('sha256').update(JSON.stringify({ SUITE, variant: 'minbase', ROOTFS_INCLUDE, ROOTFS_LAYOUT_VERSION })).digest('hex').slice(0, 12);
  return join(cacheDir(), 'rootfs', `debian-${SUITE}-${key}.tar.zst`);
}

/** Returns the cached rootfs tarball, building it with debootstrap first when missing. */
export async function ensureRootfsTarball(log: (s: string) => void = () => {}): Promise<string> {
  const tarball = rootfsTarballPath();
  if (existsSync(tarball)) return tarball;
  mkdirSync(dirname(tarball), { recursive: true });
  const build = mkdtempSync(join(dirname(tarball), '.build-'));
  try {
    const root = join(build, 'root');
    const mirror = hostDebianMirrors().main;
    const started = Date.now();
    log(`building Debian ${SUITE} rootfs with debootstrap (${mirror ?? "debootstrap's default mirror"})`);
    const args = ['--variant=minbase', `--include=${ROOTFS_INCLUDE.join(',')}`, SUITE, root, ...(mirror ? [mirror] : [])];
    const r = await run('debootstrap', args, { timeoutMs: 15 * 60_000 });
    if (r.code !== 0) throw new Error(`debootstrap failed (${r.code}): ${(r.stdout + r.stderr).slice(-3000)}`);
    // Per-host identity is made at boot (host keys, machine id); package lists and .debs are stale
    // by the time the tarball is used and the plan runs apt-get update anyway.
    for (const f of readdirSync(join(root, 'etc/ssh')).filter((x) => x.startsWith('ssh_host_'))) rmSync(join(root, 'etc/ssh', f));
    rmSync(join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
    mkdirSync(join(root, 'var/lib/apt/lists/partial'), { recursive: true });
    for (const f of readdirSync(join(root, 'var/cache/apt/archives')).filter((x) => x.endsWith('.deb'))) rmSync(join(root, 'var/cache/apt/archives', f));
    writeFileSync(join(root, 'etc/machine-id'), '');
    const tmp = `${tarball}.${process.pid}.tmp`;
    const t = await run('tar', ['--zstd', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-cf', tmp, '-C', root, '.'], { timeoutMs: 10 * 60_000 });
    if (t.code !== 0) throw new Error(`tar failed: ${t.stderr.slice(-2000)}`);
    renameSync(tmp, tarball); // atomic: a parallel run sees either no tarball or a complete one
    log(`rootfs tarball ${tarball} built in ${Math.round((Date.now() - started) / 1000)} s`);
    return tarball;
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// What a test host created on this machine, written down so teardown (and a later run sweeping up
// after a killed one) removes exactly that.

interface HostState {
  name: string;          // netns, machine name, nft table and host-side veth: all "aks-e2e-N"
  slot: number;
  ownerPid: number;      // the test process; a state file whose owner is gone is stale
  workDir: string;       // rootfs copy, keys, console log
  nspawnPid?: number;
  cgroups: string[];     // dedicated cgroup v1 directories (hybrid/legacy hosts only)
  nftTable: boolean;
  ipForwardBefore: string;
}

function statePath(name: string) { return join(STATE_DIR, `${name}.json`); }
function saveState(s: HostState) { mkdirSync(STATE_DIR, { recursive: true }); writeFileSync(statePath(s.name), JSON.stringify(s)); }

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat); // a zombie has exited already
  } catch { return false; }
}

function sleepSync(ms: number) { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); }

function killAndWait(pid: number, graceMs: number): void {
  if (!isAlive(pid)) return;
  tryQuiet(() => process.kill(pid, 'SIGTERM')); // nspawn turns SIGTERM into an orderly container halt
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) sleepSync(200);
  if (isAlive(pid)) tryQuiet(() => process.kill(pid, 'SIGKILL'));
  while (isAlive(pid) && Date.now() < deadline + 10_000) sleepSync(100);
}

function removeCgroupTree(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroupTree(join(dir, e.name));
  for (let i = 0; i < 20; i++) {
    try { rmdirSync(dir); return; } catch { sleepSync(100); } // EBUSY while the last tasks exit
  }
}

/** Synchronous so it can also run from a process 'exit' handler; each resource independently. */
function teardown(s: HostState): void {
  if (s.nspawnPid) killAndWait(s.nspawnPid, 30_000);
  for (const pid of (() => { try { return sh('ip', ['netns', 'pids', s.name]).split(/\s+/).filter(Boolean).map(Number); } catch { return []; } })()) {
    tryQuiet(() => process.kill(pid, 'SIGKILL'));
  }
  for (const dir of s.cgroups) tryQuiet(() => removeCgroupTree(dir));
  if (s.nftTable) tryQuiet(() => sh('nft', ['delete', 'table', 'ip', s.name]));
  tryQuiet(() => sh('ip', ['link', 'del', s.name]));
  tryQuiet(() => sh('ip', ['netns', 'del', s.name]));
  const othersLive = existsSync('/run/netns') && readdirSync('/run/netns').some((n) => n.startsWith('aks-e2e-'));
  if (s.ipForwardBefore === '0' && !othersLive) tryQuiet(() => writeFileSync('/proc/sys/net/ipv4/ip_forward', '0'));
  tryQuiet(() => rmSync(s.workDir, { recursive: true, force: true }));
  tryQuiet(() => unlinkSync(statePath(s.name)));
}

/** Tears down test hosts whose test process died without cleaning up (e.g. SIGKILL). */
export function sweepStaleTestHosts(log: (s: string) => void = () => {}): void {
  if (!existsSync(STATE_DIR)) return;
  for (const f of readdirSync(STATE_DIR).filter((x) => x.endsWith('.json'))) {
    let s: HostState;
    try { s = JSON.parse(readFileSync(join(STATE_DIR, f), 'utf8')); } catch { continue; }
    if (isAlive(s.ownerPid)) continue;
    log(`removing stale test host ${s.name} left by pid ${s.ownerPid}`);
    teardown(s);
  }
}

// ---------------------------------------------------------------------------------------------
// This machine's firewall, to prove the plan's firewall step never touched it

/** This machine's nftables + legacy iptables rules, minus test hosts' own tables and counters. */
export function hostFirewallRuleset(): string {
  const nft = JSON.parse(sh('nft', ['-j', 'list', 'ruleset'])) as { nftables: Record<string, { table?: string; name?: string; family?: string }>[] };
  const kept = nft.nftables.filter((item) => {
    const [kind, body] = Object.entries(item)[0];
    if (kind === 'metainfo') return false;
    const table = kind === 'table' ? body.name : body.table;
    return !String(table).startsWith('aks-e2e-');
  });
  const noCounters = JSON.stringify(kept).replace(/"counter":\{[^}]*\}/g, '"counter":{}');
  let legacy = '';
  try {
    legacy = sh('iptables-legacy-save', []).split('\n').filter((l) => !l.startsWith('#')).join('\n').replace(/\[\d+:\d+\]/g, '');
  } catch { /* no legacy iptables on this machine */ }
  return `${noCounters}\n${legacy}`;
}

// ---------------------------------------------------------------------------------------------
// Booting and reaching the host

/** cgroup v1 hierarchies (hybrid/legacy machines) this process is in: mount point + own path. */
function cgroupV1Hierarchies(): { mount: string; path: string; controllers: string[] }[] {
  const own = new Map<string, string>();
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
    const [, ctrl, path] = line.split(':');
    if (ctrl) own.set(ctrl.split(',').sort().join(','), path);
  }
  const out: { mount: string; path: string; controllers: string[] }[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n')) {
    const [pre, post] = line.split(' - ');
    const [fstype, , superOpts] = post.split(' ');
    if (fstype !== 'cgroup') continue;
    const controllers = superOpts.split(',').filter((o) => !['rw', 'ro'].includes(o) && !o.includes('='));
    const key = controllers.sort().join(',');
    const path = own.get(key);
    if (!controllers.length || path === undefined || pre.split(' ')[3] !== '/') continue; // name=systemd: nspawn's own
    out.push({ mount: pre.split(' ')[4], path, controllers });
  }
  return out;
}

export interface TestHost {
  readonly name: string;
  /** Address of the host (container end of the veth). */
  readonly address: string;
  readonly user: 'root';
  readonly port: 22;
  readonly identityFile: string;
  /** known_hosts with the host's per-run key (StrictHostKeyChecking works). */
  readonly knownHostsFile: string;
  readonly rootDir: string;
  /** OpenSSH client options that reach the host (for ssh/scp or a CLI that takes them). */
  readonly sshOptions: string[];
  /** Runs a shell command on the host as root; never throws on a non-zero exit. */
  ssh(command: string, opts?: { timeoutMs?: number; input?: string }): Promise<RunResult>;
  /** Like ssh() but throws (with stderr) unless the exit code is 0; returns stdout. */
  exec(command: string, opts?: { timeoutMs?: number; input?: string }): Promise<string>;
  /** Copies a local file to the host (scp). */
  copyTo(local: string, remote: string): Promise<void>;
  /** Stops the container (orderly halt, then SIGKILL) and boots it again from the same rootfs. */
  restart(): Promise<void>;
  /** Removes everything this host created on this machine. Safe to call more than once. */
  destroy(): Promise<void>;
}

export async function startTestHost(opts: { log?: (s: string) => void } = {}): Promise<TestHost> {
  const log = opts.log ?? (() => {});
  for (const tool of ['debootstrap', 'systemd-nspawn', 'ip', 'nft', 'ssh', 'ssh-keygen', 'zstd']) {
    try { sh('sh', ['-c', `command -v ${tool}`]); } catch { throw new Error(`test host needs ${tool} (.ci/steps/10-apt.sh installs it)`); }
  }
  if (process.getuid?.() !== 0) throw new Error('the e2e test host needs root (network namespaces, systemd-nspawn)');
  sweepStaleTestHosts(log);
  const tarball = await ensureRootfsTarball(log);

  // Claim a free slot: `ip netns add` fails when the name exists, so two runs never share one.
  let slot = -1;
  for (let i = 0; i < MAX_SLOTS && slot < 0; i++) {
    try { sh('ip', ['netns', 'add', `aks-e2e-${i}`]); slot = i; } catch { /* taken */ }
  }
  if (slot < 0) throw new Error(`all ${MAX_SLOTS} test host slots (netns aks-e2e-*) are taken`);
  const name = `aks-e2e-${slot}`;
  const hostIp = `10.231.${slot}.1`;
  const address = `10.231.${slot}.2`;
  const workDir = mkdtempSync(join(tmpdir(), `${name}-`));
  const state: HostState = {
    name, slot, ownerPid: process.pid, workDir, cgroups: [], nftTable: false,
    ipForwardBefore: readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim(),
  };
  saveState(state);
  // Also on the signals a test runner or an operator sends: their default action skips 'exit'.
  const onExit = () => teardown(state);
  const onSignal = (sig: NodeJS.Signals) => { teardown(state); process.exit(sig === 'SIGINT' ? 130 : 143); };
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const forget = () => {
    process.removeListener('exit', onExit);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };

  const rootDir = join(workDir, 'root');
  const identityFile = join(workDir, 'id_ed25519');
  const knownHostsFile = join(workDir, 'known_hosts');
  const consoleLog = join(workDir, 'console.log');
  const sshOptions = [
    '-i', identityFile, '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${knownHostsFile}`,
    '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR',
    '-o', 'ServerAliveInterval=10',
  ];
  let nspawn: ChildProcess | undefined;

  const ssh = (command: string, o: { timeoutMs?: number; input?: string } = {}) =>
    run('ssh', [...sshOptions, `root@${address}`, '--', command], { timeoutMs: o.timeoutMs ?? 120_000, input: o.input });

  const boot = async () => {
    // Own cgroup v1 directories: nested podman (agentkernel's container backend) needs writable
    // cgroups, and the container's cgroup namespace must be rooted in a subtree it alone owns.
    if (!state.cgroups.length) {
      for (const h of cgroupV1Hierarchies()) {
        const dir = join(h.mount, h.path, name);
        mkdirSync(dir, { recursive: true });
        state.cgroups.push(dir);
        if (h.controllers.includes('cpuset')) {
          for (const f of ['cpuset.cpus', 'cpuset.mems']) writeFileSync(join(dir, f), readFileSync(join(dirname(dir), f)));
        }
      }
      saveState(state);
    }
    const logFd = openSync(consoleLog, 'a');
    const args = [
      '--keep-unit', '--register=no', '-b', '-D', rootDir, `--machine=${name}`,
      `--network-namespace-path=/run/netns/${name}`,
      // A VM-like host: all capabilities (nftables needs CAP_NET_ADMIN) but module loading (the
      // kernel is shared; with CAP_SYS_MODULE systemd-modules-load would try and fail), and the
      // keyring/bpf syscalls nspawn filters by default, which runc (nested podman) needs.
      '--capability=all', '--drop-capability=CAP_SYS_MODULE', '--system-call-filter=@keyring bpf', '--console=read-only',
    ];
    const procs = state.cgroups.map((d) => join(d, 'cgroup.procs'));
    // /proc/sys/net writable: it belongs to the host's own netns, and podman's netavark sets
    // forwarding sysctls there for networked sandboxes (the rest of /proc/sys stays read-only).
    const env = { ...process.env, SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'network' };
    nspawn = spawn('sh', ['-c', 'while [ "$1" != -- ]; do echo $$ > "$1"; shift; done; shift; exec "$@"', 'sh', ...procs, '--', 'systemd-nspawn', ...args], { stdio: ['ignore', logFd, logFd], env });
    closeSync(logFd);
    state.nspawnPid = nspawn.pid;
    saveState(state);
    const exited = new Promise<number>((resolve) => nspawn!.once('exit', (c) => resolve(c ?? 1)));
    let down: number | undefined;
    void exited.then((c) => { down = c; });
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (down !== undefined) throw new Error(`systemd-nspawn exited (${down}) before SSH came up:\n${readFileSync(consoleLog, 'utf8').slice(-3000)}`);
      const r = await ssh('true', { timeoutMs: 15_000 }).catch(() => ({ code: 255 }));
      if (r.code === 0) break;
      if (Date.now() > deadline) throw new Error(`SSH on ${address} did not come up in 120 s:\n${readFileSync(consoleLog, 'utf8').slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const s = await ssh('systemctl is-system-running --wait', { timeoutMs: 120_000 });
    log(`test host ${name} (${address}) booted: ${s.stdout.trim()}`);
  };

  const stop = async () => {
    if (nspawn && nspawn.exitCode === null && nspawn.signalCode === null) {
      const exited = new Promise((r) => nspawn!.once('exit', r));
      nspawn.kill('SIGTERM'); // orderly halt of the container's systemd
      const timer = setTimeout(() => nspawn?.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(timer);
    }
    state.nspawnPid = undefined;
    saveState(state);
    // The netns outlives the container; a real reboot starts with an empty ruleset, so must this.
    await run('ip', ['netns', 'exec', name, 'nft', 'flush', 'ruleset']);
  };

  try {
    log(`extracting ${tarball} for ${name}`);
    mkdirSync(rootDir);
    const x = await run('tar', ['--zstd', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-xpf', tarball, '-C', rootDir], { timeoutMs: 5 * 60_000 });
    if (x.code !== 0) throw new Error(`extracting the rootfs failed: ${x.stderr.slice(-2000)}`);
    prepareRootfs(rootDir, name, identityFile, knownHostsFile, address);
    setUpNetwork(state, hostIp, address);
    await boot();
  } catch (e) {
    forget();
    teardown(state);
    throw e;
  }

  return {
    name, address, user: 'root', port: 22, identityFile, knownHostsFile, rootDir, sshOptions, ssh,
    async exec(command, o) {
      const r = await ssh(command, o);
      if (r.code !== 0) throw new Error(`on ${name}: \`${command.slice(0, 300)}\` exited ${r.code}: ${(r.stderr || r.stdout).slice(-2000)}`);
      return r.stdout;
    },
    async copyTo(local, remote) {
      const r = await run('scp', [...sshOptions, '-q', local, `root@${address}:${remote}`], { timeoutMs: 300_000 });
      if (r.code !== 0) throw new Error(`scp ${local} to ${name}:${remote} failed: ${r.stderr.slice(-2000)}`);
    },
    async restart() {
      await stop();
      await boot();
    },
    async destroy() {
      forget();
      teardown(state);
    },
  };
}

/** Host identity, name resolution, apt sources, root's SSH key and the cgroup remount unit. */
function prepareRootfs(rootDir: string, name: string, identityFile: string, knownHostsFile: string, address: string): void {
  const etc = (p: string) => join(rootDir, 'etc', p);
  writeFileSync(etc('hostname'), 'aks-test-host\n');
  writeFileSync(etc('hosts'), '127.0.0.1 localhost\n127.0.1.1 aks-test-host\n::1 localhost ip6-localhost ip6-loopback\n');
  // systemd-resolved's stub (127.0.0.53) is not reachable from another netns: use its upstream file.
  const resolv = existsSync('/run/systemd/resolve/resolv.conf') && readFileSync('/etc/resolv.conf', 'utf8').includes('127.0.0.53')
    ? '/run/systemd/resolve/resolv.conf' : '/etc/resolv.conf';
  rmSync(etc('resolv.conf'), { force: true });
  writeFileSync(etc('resolv.conf'), readFileSync(resolv));
  // apt sources as on a fresh Debian 13 install, from the mirrors this machine uses.
  const { main, security } = hostDebianMirrors();
  if (main) {
    rmSync(etc('apt/sources.list'), { force: true });
    const sig = 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg';
    let sources = `Types: deb\nURIs: ${main}\nSuites: ${SUITE} ${SUITE}-updates\nComponents: main\n${sig}\n`;
    if (security) sources += `\nTypes: deb\nURIs: ${security}\nSuites: ${SUITE}-security\nComponents: main\n${sig}\n`;
    writeFileSync(etc('apt/sources.list.d/debian.sources'), sources);
  }
  // A mirror hiccup should not fail a 15-minute test run; apt retries, the plan stays as it is.
  writeFileSync(etc('apt/apt.conf.d/80-e2e-retries'), 'Acquire::Retries "3";\n');
  // A fresh host key per run, pinned in known_hosts: the e2e's SSH checks host keys for real.
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${name}`, '-f', etc('ssh/ssh_host_ed25519_key')]);
  const hostKey = readFileSync(etc('ssh/ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  writeFileSync(knownHostsFile, `${address} ${hostKey}\n`);
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `e2e@${name}`, '-f', identityFile]);
  mkdirSync(join(rootDir, 'root/.ssh'), { recursive: true, mode: 0o700 });
  writeFileSync(join(rootDir, 'root/.ssh/authorized_keys'), readFileSync(`${identityFile}.pub`));
  chmodSync(join(rootDir, 'root/.ssh/authorized_keys'), 0o600);
  // nspawn mounts cgroup v1 controllers read-only; nested podman needs them writable. The
  // container's cgroup namespace is rooted in the dedicated subtree made in boot(), so this only
  // ever writes there. A no-op on cgroup v2 machines.
  const unit = 'aks-test-host-cgroups.service';
  writeFileSync(etc(`systemd/system/${unit}`), [
    '[Unit]', 'Description=e2e test host: writable cgroup v1 controllers for nested containers',
    'DefaultDependencies=no', 'Before=sysinit.target', '',
    '[Service]', 'Type=oneshot',
    `ExecStart=/bin/sh -c 'for d in /sys/fs/cgroup/*/; do [ "$(stat -f -c %%T "$d")" = cgroupfs ] && mount -o remount,bind,rw "$d"; done; true'`,
    '', '[Install]', 'WantedBy=sysinit.target', '',
  ].join('\n'));
  mkdirSync(etc('systemd/system/sysinit.target.wants'), { recursive: true });
  symlinkSync(`/etc/systemd/system/${unit}`, etc(`systemd/system/sysinit.target.wants/${unit}`));
}

/** veth pair into the host's netns, routing and NAT (in a table of our own) so apt works inside. */
function setUpNetwork(state: HostState, hostIp: string, address: string): void {
  const { name } = state;
  const defaultDev = (JSON.parse(sh('ip', ['-j', 'route', 'show', 'default'])) as { dev?: string }[])[0]?.dev;
  const mtu = defaultDev ? (JSON.parse(sh('ip', ['-j', 'link', 'show', 'dev', defaultDev])) as { mtu: number }[])[0].mtu : 1500;
  sh('ip', ['link', 'add', name, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', `${name}c`, 'mtu', String(mtu)]);
  sh('ip', ['link', 'set', `${name}c`, 'netns', name]);
  sh('ip', ['-n', name, 'link', 'set', `${name}c`, 'name', 'eth0']);
  sh('ip', ['addr', 'add', `${hostIp}/30`, 'dev', name]);
  sh('ip', ['link', 'set', name, 'up']);
  sh('ip', ['-n', name, 'addr', 'add', `${address}/30`, 'dev', 'eth0']);
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  sh('ip', ['-n', name, 'link', 'set', 'eth0', 'up']);
  sh('ip', ['-n', name, 'route', 'add', 'default', 'via', hostIp]);
  writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
  state.nftTable = true;
  saveState(state);
  const subnet = `${address.replace(/\.\d+$/, '.0')}/30`;
  sh('nft', [`add table ip ${name}`]);
  sh('nft', [`add chain ip ${name} postrouting { type nat hook postrouting priority srcnat; }`]);
  sh('nft', [`add rule ip ${name} postrouting ip saddr ${subnet} oifname != "${name}" masquerade`]);
}
