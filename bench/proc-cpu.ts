// CPU time by process group from /proc (utime + stime), so each phase can say how much CPU one
// request costs in the gateway, the fake upstream, PostgreSQL, Redis and the load generator. On a
// shared 2-core machine this is steadier than wall-clock latency, which other work can inflate.
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** CPU milliseconds a process has used so far (0 once it is gone). */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at state; utime/stime are 14/15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

export type GroupMatcher = { pids: number[] } | { cmdlineIncludes: string };

export type CpuSnapshot = Map<string, Map<number, number>>;

/** Per group, per pid, CPU ms now. Processes matched by command line are found afresh each time. */
export function snapshotCpu(groups: Record<string, GroupMatcher>): CpuSnapshot {
  const all = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  const snap: CpuSnapshot = new Map();
  for (const [name, m] of Object.entries(groups)) {
    const pids = 'pids' in m ? m.pids : all.filter((p) => cmdline(p).includes(m.cmdlineIncludes));
    snap.set(name, new Map(pids.map((p) => [p, cpuMs(p)])));
  }
  return snap;
}

/** CPU ms each group used between two snapshots (a process started in between counts from 0). */
export function cpuDelta(after: CpuSnapshot, before: CpuSnapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pids] of after) {
    let ms = 0;
    for (const [pid, v] of pids) ms += v - (before.get(name)?.get(pid) ?? 0);
    out[name] = Math.max(0, ms);
  }
  return out;
}

/**
 * Linux pressure stall information: microseconds so far during which at least one runnable task
 * waited for a CPU (null where the kernel has no PSI). Over a phase, delta / wall time says how
 * contended the machine was, whoever caused it.
 */
export function cpuStallUs(): number | null {
  try {
    const m = /^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/cpu', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
