// Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time by function and by package, which
// is what "where does the gateway spend its CPU" needs. Time is counted in samples, not in the wall
// time between them: on a busy machine a thread preempted inside a syscall yields one late sample
// with a long gap, and weighting by the gap would blame that syscall for time it was not running.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface ProfileSummary {
  totalMs: number;
  idleMs: number;
  topFunctions: { name: string; where: string; selfMs: number; pct: number }[];
  topPackages: { name: string; selfMs: number; pct: number }[];
}

function packageOf(url: string): string {
  if (!url) return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return url;
  const gw = url.indexOf('/gateway/src/');
  if (gw >= 0) return `gateway/src/${url.slice(gw + '/gateway/src/'.length)}`;
  return url.replace(/^file:\/\//, '');
}

export function summariseProfile(file: string, top = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; startTime: number; endTime: number };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  // Each sample stands for one sampling interval of running code.
  const intervalUs = p.samples.length ? (p.endTime - p.startTime) / p.samples.length : 0;
  const selfUs = new Map<number, number>();
  for (const id of p.samples) selfUs.set(id, (selfUs.get(id) ?? 0) + intervalUs);
  const fns = new Map<string, { name: string; where: string; us: number }>();
  const pkgs = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)!.callFrame;
    totalUs += us;
    if (cf.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const where = cf.url ? `${packageOf(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName}@${where}`;
    const f = fns.get(key) ?? { name: cf.functionName || '(anonymous)', where, us: 0 };
    f.us += us;
    fns.set(key, f);
    const pkg = cf.functionName.startsWith('(') ? cf.functionName : packageOf(cf.url);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
  }
  const busyUs = Math.max(1, totalUs - idleUs);
  return {
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    topFunctions: [...fns.values()].sort((a, b) => b.us - a.us).slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfMs: f.us / 1000, pct: (100 * f.us) / busyUs })),
    topPackages: [...pkgs.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15)
      .map(([name, us]) => ({ name, selfMs: us / 1000, pct: (100 * us) / busyUs })),
  };
}
