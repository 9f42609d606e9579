// QuotaLedger: reserves executions against the monthly quota before anything reaches the upstream and
// settles them afterwards. Each reservation is ONE SQL statement: the counter row is incremented only
// if it stays within the limit (row lock), and the ledger rows are inserted in the same statement, so
// concurrent requests can never overrun the quota and every execution has exactly one ledger row.
//
// What is billed: an execution counts as soon as it is forwarded. It is refunded (billable = false,
// counter decremented) only when we know it never ran: the upstream could not be reached, or it
// answered with an error status before running anything (4xx/5xx on a non-streaming call, or a
// stream that failed before its `started` event). A client that aborts a stream after it started is
// billed (outcome client_aborted); so is a call that timed out (the upstream may have run it) and one
// interrupted by a gateway restart (swept later as `interrupted`).
import type { Db } from './db.js';
import type { Tenant } from './accounts.js';
import { ApiError } from './errors.js';
import { nextReset, periodStart } from './period.js';

export type ExecutionKind = 'run' | 'run_stream' | 'batch_run' | 'exec' | 'exec_detached';

export type Outcome = 'succeeded' | 'failed' | 'client_aborted' | 'timeout' | 'interrupted' | 'upstream_unavailable' | 'rejected';
const REFUNDED: ReadonlySet<Outcome> = new Set(['upstream_unavailable', 'rejected']);

export interface Reservation {
  ids: string[];
  period: string;
  used: number;
  limit: number | null;
}

export class QuotaLedger {
  constructor(private readonly db: Db) {}

  /**
   * Reserves `ids.length` executions for the tenant or throws a 429 naming the limit and reset date.
   * `memoryMb` is what GB-seconds are computed from; 0 when the sandbox's lifetime row bills memory.
   */
  async reserve(tenant: Tenant, kind: ExecutionKind, ids: string[], sandbox: string | null, memoryMb: number): Promise<Reservation> {
    const limit = tenant.limits.executionsPerMonth;
    const period = periodStart();
    if (limit !== null && ids.length > limit) throw this.exceeded(tenant, limit);
    // Named (like settle): parsed and planned once per connection; every metered execution runs both.
    const { rows } = await this.db.query({
      name: 'quota-reserve',
      text: `WITH c AS (
         INSERT INTO quota_counters AS q (account_id, period, used) VALUES ($1, $2, $3)
         ON CONFLICT (account_id, period) DO UPDATE SET used = q.used + EXCLUDED.used
           WHERE $4::bigint IS NULL OR q.used + EXCLUDED.used <= $4::bigint
         RETURNING used
       ), e AS (
         INSERT INTO usage_events (id, account_id, key_id, period, kind, sandbox, executions, memory_mb)
         SELECT id, $1, $5, $2, $6, $7, 1, $8 FROM unnest($9::text[]) AS id WHERE EXISTS (SELECT 1 FROM c)
         RETURNING 1
       )
       SELECT (SELECT used FROM c) AS used, (SELECT count(*) FROM e) AS inserted`,
      values: [tenant.account.id, period, ids.length, limit, tenant.keyId, kind, sandbox, memoryMb, ids],
    });
    if (rows[0].used === null) throw this.exceeded(tenant, limit!);
    return { ids, period, used: rows[0].used, limit };
  }

  private exceeded(tenant: Tenant, limit: number): ApiError {
    const reset = nextReset();
    return new ApiError(
      429,
      `monthly execution quota exhausted: ${limit} executions per month on the ${tenant.account.tier} tier; it resets on ${reset.toISOString()}`,
      {
        'x-quota-limit': String(limit),
        'x-quota-remaining': '0',
        'x-quota-reset': reset.toISOString(),
        'retry-after': String(Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 1000))),
      },
    );
  }

  /** Settles reserved rows once; a second settle of the same id changes nothing. */
  async settle(ids: string[], outcome: Outcome, statusCode: number | null): Promise<void> {
    if (!ids.length) return;
    const billable = !REFUNDED.has(outcome);
    await this.db.query({
      name: 'quota-settle',
      text: `WITH u AS (
         UPDATE usage_events SET outcome = $2, billable = $3, status_code = $4, ended_at = now(),
           duration_ms = GREATEST(0, (extract(epoch FROM now() - started_at) * 1000)::bigint),
           gb_seconds = round((memory_mb / 1024.0) * GREATEST(0, extract(epoch FROM now() - started_at)), 6)
         WHERE id = ANY($1::text[]) AND outcome = 'reserved'
         RETURNING account_id, period, billable
       )
       UPDATE quota_counters q SET used = q.used - r.n
         FROM (SELECT account_id, period, count(*) AS n FROM u WHERE NOT u.billable GROUP BY 1, 2) r
        WHERE q.account_id = r.account_id AND q.period = r.period`,
      values: [ids, outcome, billable, statusCode],
    });
  }

  /** Settles reservations left behind by a gateway that stopped mid-flight (billed: they may have run). */
  async sweepInterrupted(olderThanMs: number): Promise<number> {
    const { rowCount } = await this.db.query(
      `UPDATE usage_events SET outcome = 'interrupted', ended_at = now(),
         duration_ms = GREATEST(0, (extract(epoch FROM now() - started_at) * 1000)::bigint)
       WHERE outcome = 'reserved' AND started_at < now() - ($1::bigint * interval '1 millisecond')`,
      [olderThanMs],
    );
    return rowCount ?? 0;
  }

  async used(accountId: string, period = periodStart()): Promise<number> {
    const { rows } = await this.db.query(`SELECT used FROM quota_counters WHERE account_id = $1 AND period = $2`, [accountId, period]);
    return rows[0]?.used ?? 0;
  }
}
