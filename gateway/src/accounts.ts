// AccountStore: accounts, their API keys and tier assignments, in PostgreSQL.
import { withTransaction, type Db } from './db.js';
import { generateKey, hashKey, looksLikeKey } from './keys.js';
import { generateNamespace, TenantNamespace } from './namespace.js';
import type { TierCatalog, TierLimits, TierOverrides } from './tiers.js';
import { ApiError, badRequest, notFound } from './errors.js';
import { timingSafeEqual } from 'node:crypto';

export interface Account {
  id: string;
  name: string;
  email: string;
  tier: string;
  overrides: TierOverrides | null;
  namespace: string;
  status: 'active' | 'suspended';
  createdAt: string;
}

export interface Tenant {
  account: Account;
  keyId: string;
  limits: TierLimits;
  /** The account's upstream name mapping, made once per request. */
  ns: TenantNamespace;
}

export interface KeyInfo {
  id: string;
  accountId: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

const ACCOUNT_COLS = `a.id, a.name, a.email, a.tier, a.overrides, a.namespace, a.status, a.created_at`;

function toAccount(r: Record<string, any>): Account {
  return {
    id: r.id, name: r.name, email: r.email, tier: r.tier, overrides: r.overrides, namespace: r.namespace,
    status: r.status, createdAt: new Date(r.created_at).toISOString(),
  };
}

function toKey(r: Record<string, any>): KeyInfo {
  const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
  return { id: r.id, accountId: r.account_id, prefix: r.prefix, createdAt: iso(r.created_at)!, revokedAt: iso(r.revoked_at), lastUsedAt: iso(r.last_used_at) };
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string) => UUID_RE.test(s);

export class AccountStore {
  constructor(private readonly db: Db, private readonly tiers: TierCatalog) {}

  private checkTier(tier: string) {
    if (!this.tiers.has(tier)) throw badRequest(`unknown tier "${tier}" (tiers: ${this.tiers.names.join(', ')})`);
  }

  /** Creates an account with its first key; the key is returned once, here only. */
  async create(input: { name: string; email: string; tier?: string; overrides?: TierOverrides }): Promise<{ account: Account; apiKey: string; keyId: string }> {
    const tier = input.tier ?? this.tiers.defaultTier;
    this.checkTier(tier);
    return withTransaction(this.db, async (client) => {
      let row: Record<string, any> | undefined;
      // A namespace clash is astronomically rare (36^8); retry rather than fail if it happens.
      for (let attempt = 0; !row && attempt < 5; attempt++) {
        const res = await client.query(
          `INSERT INTO accounts AS a (name, email, tier, overrides, namespace) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (namespace) DO NOTHING RETURNING ${ACCOUNT_COLS}`,
          [input.name, input.email, tier, input.overrides ?? null, generateNamespace()],
        );
        row = res.rows[0];
      }
      if (!row) throw new Error('could not allocate a namespace');
      const account = toAccount(row);
      const key = generateKey();
      const k = await client.query(`INSERT INTO api_keys (account_id, prefix, hash) VALUES ($1, $2, $3) RETURNING id`, [account.id, key.visiblePrefix, key.hash]);
      return { account, apiKey: key.key, keyId: k.rows[0].id };
    });
  }

  async list(): Promise<Account[]> {
    const { rows } = await this.db.query(`SELECT ${ACCOUNT_COLS} FROM accounts a ORDER BY a.created_at, a.id`);
    return rows.map(toAccount);
  }

  async get(id: string): Promise<Account> {
    if (!isUuid(id)) throw notFound(`account ${id} not found`);
    const { rows } = await this.db.query(`SELECT ${ACCOUNT_COLS} FROM accounts a WHERE a.id = $1`, [id]);
    if (!rows[0]) throw notFound(`account ${id} not found`);
    return toAccount(rows[0]);
  }

  async update(id: string, change: { tier?: string; status?: 'active' | 'suspended'; overrides?: TierOverrides | null }): Promise<Account> {
    await this.get(id);
    if (change.tier !== undefined) this.checkTier(change.tier);
    const { rows } = await this.db.query(
      `UPDATE accounts a SET tier = COALESCE($2, tier), status = COALESCE($3, status),
         overrides = CASE WHEN $4::boolean THEN $5::jsonb ELSE overrides END
       WHERE a.id = $1 RETURNING ${ACCOUNT_COLS}`,
      [id, change.tier ?? null, change.status ?? null, change.overrides !== undefined, change.overrides ? JSON.stringify(change.overrides) : null],
    );
    return toAccount(rows[0]);
  }

  async issueKey(accountId: string): Promise<{ id: string; apiKey: string; prefix: string }> {
    await this.get(accountId);
    const key = generateKey();
    const { rows } = await this.db.query(`INSERT INTO api_keys (account_id, prefix, hash) VALUES ($1, $2, $3) RETURNING id`, [accountId, key.visiblePrefix, key.hash]);
    return { id: rows[0].id, apiKey: key.key, prefix: key.visiblePrefix };
  }

  /** Revokes a key (optionally only if it belongs to `accountId`); effective for the very next request. */
  async revokeKey(keyId: string, accountId?: string): Promise<KeyInfo> {
    if (!isUuid(keyId)) throw notFound(`key ${keyId} not found`);
    const { rows } = await this.db.query(
      `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 AND ($2::uuid IS NULL OR account_id = $2) RETURNING *`,
      [keyId, accountId ?? null],
    );
    if (!rows[0]) throw notFound(`key ${keyId} not found`);
    return toKey(rows[0]);
  }

  async listKeys(accountId: string): Promise<KeyInfo[]> {
    const { rows } = await this.db.query(`SELECT * FROM api_keys WHERE account_id = $1 ORDER BY created_at, id`, [accountId]);
    return rows.map(toKey);
  }

  /** Issues a new key and revokes the old one in one transaction. */
  async rotateKey(accountId: string, oldKeyId: string): Promise<{ id: string; apiKey: string; prefix: string }> {
    return withTransaction(this.db, async (client) => {
      // Revoke first, and only a live key (row lock): of concurrent rotations with one key, exactly
      // one gets a new key; the others find it revoked and are refused like any revoked key.
      const old = await client.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL`, [oldKeyId, accountId]);
      if (old.rowCount !== 1) throw new ApiError(401, 'invalid API key');
      const key = generateKey();
      const { rows } = await client.query(`INSERT INTO api_keys (account_id, prefix, hash) VALUES ($1, $2, $3) RETURNING id`, [accountId, key.visiblePrefix, key.hash]);
      return { id: rows[0].id, apiKey: key.key, prefix: key.visiblePrefix };
    });
  }

  /** Resolves a bearer key to its tenant, or throws 401/403. Never cached: revocation is immediate. */
  async authenticate(key: string): Promise<Tenant> {
    if (!looksLikeKey(key)) throw new ApiError(401, 'invalid API key');
    const hash = hashKey(key);
    // Named: parsed and planned once per connection, not on every request (it runs on every call).
    const { rows } = await this.db.query({
      name: 'auth-by-key-hash',
      text: `SELECT k.id AS key_id, k.hash, k.revoked_at, k.last_used_at, ${ACCOUNT_COLS}
         FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.hash = $1`,
      values: [hash],
    });
    const r = rows[0];
    if (!r || !timingSafeEqual(r.hash, hash) || r.revoked_at) throw new ApiError(401, 'invalid API key');
    const account = toAccount(r);
    if (account.status !== 'active') throw new ApiError(403, 'account is suspended');
    // last_used_at is kept to the minute; writing it on every request would cost a write per call.
    if (!r.last_used_at || Date.now() - new Date(r.last_used_at).getTime() > 60_000) {
      this.db.query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1`, [r.key_id]).catch(() => {});
    }
    return { account, keyId: r.key_id, limits: this.tiers.limitsFor(account.tier, account.overrides), ns: new TenantNamespace(account.namespace) };
  }
}
