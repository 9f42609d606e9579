// SandboxRegistry: which tenant owns which upstream sandbox, when it expires, and its lifetime row in
// the usage ledger (GB-seconds from create to delete). The upstream knows nothing of tenants; this
// table is what makes another tenant's sandbox indistinguishable from a missing one.
import { withTransaction, type Db } from './db.js';
import type { Tenant } from './accounts.js';
import { ApiError, notFound } from './errors.js';
import { checkSandboxName } from './tenant-policy.js';
import { periodStart } from './period.js';

export interface SandboxRow {
  id: string;
  accountId: string;
  name: string;
  upstreamName: string;
  memoryMb: number;
  vcpus: number;
  createdAt: Date;
  expiresAt: Date | null;
}

function toRow(r: Record<string, any>): SandboxRow {
  return {
    id: r.id, accountId: r.account_id, name: r.name, upstreamName: r.upstream_name, memoryMb: r.memory_mb, vcpus: r.vcpus,
    createdAt: new Date(r.created_at), expiresAt: r.expires_at ? new Date(r.expires_at) : null,
  };
}

export class SandboxRegistry {
  constructor(private readonly db: Db) {}

  /**
   * Claims a name for the tenant before anything is created upstream. The account row lock
   * serialises concurrent creations of one tenant, so the concurrent-sandbox cap is exact.
   */
  async claim(tenant: Tenant, name: string, upstreamName: string, memoryMb: number, vcpus: number): Promise<SandboxRow> {
    return withTransaction(this.db, async (client) => {
      await client.query('SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE', [tenant.account.id]);
      const { rows: live } = await client.query('SELECT count(*)::int AS n FROM sandboxes WHERE account_id = $1 AND deleted_at IS NULL', [tenant.account.id]);
      const cap = tenant.limits.maxConcurrentSandboxes;
      if (live[0].n >= cap) {
        throw new ApiError(403, `concurrent sandbox limit reached: the ${tenant.account.tier} tier allows ${cap} sandboxes at once; delete one first`);
      }
      const ttl = tenant.limits.sandboxTtlSeconds;
      const res = await client.query(
        `INSERT INTO sandboxes (account_id, name, upstream_name, memory_mb, vcpus, expires_at)
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $6::int IS NULL THEN NULL ELSE now() + $6::int * interval '1 second' END)
         ON CONFLICT DO NOTHING RETURNING *`,
        [tenant.account.id, name, upstreamName, memoryMb, vcpus, ttl],
      );
      if (!res.rows[0]) throw new ApiError(409, `Sandbox '${name}' already exists`);
      return toRow(res.rows[0]);
    });
  }

  /** Undoes a claim whose upstream creation failed: it never existed, so nothing is billed. */
  async release(id: string): Promise<void> {
    await this.db.query('DELETE FROM sandboxes WHERE id = $1', [id]);
  }

  /** Records that the upstream sandbox exists: its lifetime starts being metered now. */
  async opened(row: SandboxRow, keyId: string, upstreamUuid: string | null): Promise<void> {
    await this.db.query(
      `WITH s AS (UPDATE sandboxes SET upstream_uuid = $8 WHERE id = $9)
       INSERT INTO usage_events (id, account_id, key_id, period, kind, sandbox, executions, memory_mb, outcome, started_at)
       VALUES ($1, $2, $3, $4, 'sandbox', $5, 0, $6, 'running', $7) ON CONFLICT (id) DO NOTHING`,
      [`sandbox:${row.id}`, row.accountId, keyId, periodStart(row.createdAt), row.name, row.memoryMb, row.createdAt, upstreamUuid, row.id],
    );
  }

  async findByUuid(accountId: string, uuid: string): Promise<SandboxRow | null> {
    const { rows } = await this.db.query('SELECT * FROM sandboxes WHERE account_id = $1 AND upstream_uuid = $2 AND deleted_at IS NULL', [accountId, uuid]);
    return rows[0] ? toRow(rows[0]) : null;
  }

  /** The tenant's live sandbox by its own name; another tenant's is exactly as missing as none (404). */
  async owned(accountId: string, name: string): Promise<SandboxRow> {
    checkSandboxName(name);
    const row = await this.find(accountId, name);
    if (!row) throw notFound(`Sandbox '${name}' not found`);
    return row;
  }

  async find(accountId: string, name: string): Promise<SandboxRow | null> {
    // Named: every call on a sandbox starts with this lookup; parse and plan it once per connection.
    // Explicit columns: a cached `SELECT *` plan fails if a later migration adds a column.
    const { rows } = await this.db.query({
      name: 'sandbox-by-name',
      text: 'SELECT id, account_id, name, upstream_name, memory_mb, vcpus, created_at, expires_at FROM sandboxes WHERE account_id = $1 AND name = $2 AND deleted_at IS NULL',
      values: [accountId, name],
    });
    return rows[0] ? toRow(rows[0]) : null;
  }

  async live(accountId: string): Promise<SandboxRow[]> {
    const { rows } = await this.db.query('SELECT * FROM sandboxes WHERE account_id = $1 AND deleted_at IS NULL ORDER BY created_at', [accountId]);
    return rows.map(toRow);
  }

  /** Marks a sandbox deleted and closes its lifetime row with the GB-seconds it used. Idempotent. */
  async closed(row: SandboxRow, outcome: 'deleted' | 'expired'): Promise<void> {
    await this.db.query(
      `WITH s AS (UPDATE sandboxes SET deleted_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING id)
       UPDATE usage_events SET outcome = $2, ended_at = now(),
         duration_ms = GREATEST(0, (extract(epoch FROM now() - started_at) * 1000)::bigint),
         gb_seconds = round((memory_mb / 1024.0) * GREATEST(0, extract(epoch FROM now() - started_at)), 6)
       WHERE id = 'sandbox:' || $1 AND outcome = 'running' AND EXISTS (SELECT 1 FROM s)`,
      [row.id, outcome],
    );
  }

  async recordDetached(row: SandboxRow, commandId: string): Promise<void> {
    await this.db.query('INSERT INTO detached_commands (id, account_id, sandbox_id) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING', [commandId, row.accountId, row.id]);
  }

  /** Ids of the detached commands started in this sandbox (upstream ids are global). */
  async detachedIds(row: SandboxRow): Promise<Set<string>> {
    const { rows } = await this.db.query('SELECT id FROM detached_commands WHERE sandbox_id = $1', [row.id]);
    return new Set(rows.map((r) => r.id as string));
  }

  async setExpiry(id: string, expiresAt: Date): Promise<void> {
    await this.db.query('UPDATE sandboxes SET expires_at = $2 WHERE id = $1', [id, expiresAt]);
  }

  async expired(limit = 100): Promise<SandboxRow[]> {
    const { rows } = await this.db.query('SELECT * FROM sandboxes WHERE deleted_at IS NULL AND expires_at < now() ORDER BY expires_at LIMIT $1', [limit]);
    return rows.map(toRow);
  }
}
