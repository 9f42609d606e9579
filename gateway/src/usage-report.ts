// Usage for one account and month, straight from the ledger: the totals are sums over the very rows
// that are listed, so a customer can always reconcile them.
import type { Db } from './db.js';

export interface UsageRow {
  id: string;
  kind: string;
  sandbox: string | null;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  memoryMb: number;
  gbSeconds: number;
  outcome: string;
  billable: boolean;
  executions: number;
}

export interface UsageReport {
  accountId: string;
  month: string;
  totals: { executions: number; gbSeconds: number; byKind: Record<string, number> };
  events: UsageRow[];
}

export async function usageReport(db: Db, accountId: string, period: string): Promise<UsageReport> {
  const { rows } = await db.query(
    `SELECT id, kind, sandbox, started_at, ended_at, duration_ms, memory_mb, gb_seconds, outcome, billable, executions
       FROM usage_events WHERE account_id = $1 AND period = $2 ORDER BY started_at, id`,
    [accountId, period],
  );
  const events: UsageRow[] = rows.map((r) => ({
    id: r.id, kind: r.kind, sandbox: r.sandbox, startedAt: new Date(r.started_at).toISOString(), endedAt: r.ended_at ? new Date(r.ended_at).toISOString() : null,
    durationMs: r.duration_ms, memoryMb: r.memory_mb, gbSeconds: r.gb_seconds, outcome: r.outcome, billable: r.billable, executions: r.executions,
  }));
  const byKind: Record<string, number> = {};
  let executions = 0;
  let micro = 0; // sum GB-seconds in millionths so the total is exact
  for (const e of events) {
    if (!e.billable) continue;
    executions += e.executions;
    if (e.executions) byKind[e.kind] = (byKind[e.kind] ?? 0) + 1;
    micro += Math.round(e.gbSeconds * 1e6);
  }
  return { accountId, month: period.slice(0, 7), totals: { executions, gbSeconds: micro / 1e6, byKind }, events };
}

const CSV_COLUMNS: (keyof UsageRow)[] = ['id', 'kind', 'sandbox', 'startedAt', 'endedAt', 'durationMs', 'memoryMb', 'gbSeconds', 'outcome', 'billable', 'executions'];

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function usageCsv(report: UsageReport): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const e of report.events) lines.push(CSV_COLUMNS.map((c) => csvCell(e[c])).join(','));
  return lines.join('\n') + '\n';
}
