// One load phase with autocannon: fixed connections and duration. autocannon's own latency histogram
// has 1 ms resolution, too coarse for a 1 ms target, so every response time (float ms, measured by
// autocannon from request write to response end) is also kept here and the percentiles computed exactly.
import autocannon, { type Options } from 'autocannon';

export interface LoadResult {
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** Responses that were not 2xx, connection errors and timeouts: any of them invalidates a phase. */
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCounts: Record<string, number>;
}

export function percentile(sorted: Float64Array, q: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export async function runLoad(opts: Options & { connections: number; duration: number }): Promise<LoadResult> {
  const times: number[] = [];
  const statusCounts: Record<string, number> = {};
  const inst = autocannon({ timeout: 10, ...opts });
  inst.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    statusCounts[status] = (statusCounts[status] ?? 0) + 1;
    if (status >= 200 && status < 300) times.push(ms);
  });
  const r = await inst;
  const sorted = Float64Array.from(times).sort();
  const sum = times.reduce((a, b) => a + b, 0);
  return {
    requests: times.length,
    // Completed 2xx responses over the measured time (autocannon's `duration` is in seconds).
    reqPerSec: times.length / r.duration,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    meanMs: times.length ? sum / times.length : NaN,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    statusCounts,
  };
}
