// Reads one Prometheus histogram out of /metrics text, per label set, so the gateway's own
// `gateway_added_latency_seconds` can be compared between two scrapes (the delta is one phase).
export type Buckets = Map<number, number>; // upper bound (s) -> cumulative count

function parseLabels(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]] = m[2];
  return out;
}

/** Cumulative buckets of `name` for the series whose labels include `match`. */
export function histogramBuckets(text: string, name: string, match: Record<string, string>): Buckets {
  const buckets: Buckets = new Map();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}_bucket{`)) continue;
    const m = /^[^{]+\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = parseLabels(m[1]);
    if (!Object.entries(match).every(([k, v]) => labels[k] === v)) continue;
    const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  return buckets;
}

export function deltaBuckets(after: Buckets, before: Buckets): Buckets {
  const out: Buckets = new Map();
  for (const [le, n] of after) out.set(le, n - (before.get(le) ?? 0));
  return out;
}

/** Like PromQL's histogram_quantile: linear interpolation inside the bucket holding the rank. */
export function histogramQuantile(b: Buckets, q: number): number {
  const bounds = [...b.keys()].sort((x, y) => x - y);
  const total = b.get(Infinity) ?? 0;
  if (!total) return NaN;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const le of bounds) {
    const c = b.get(le)!;
    if (c >= rank) {
      if (le === Infinity) return prevBound;
      return prevBound + (le - prevBound) * ((rank - prevCount) / Math.max(1, c - prevCount));
    }
    prevBound = le;
    prevCount = c;
  }
  return prevBound;
}

export function histogramCount(b: Buckets): number {
  return b.get(Infinity) ?? 0;
}
