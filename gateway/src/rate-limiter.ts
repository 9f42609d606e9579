// Per-key rate limits as token buckets (capacity = the tier's requests per minute, refilled
// continuously). Redis holds the buckets so several gateway processes share them; the bucket update
// is one Lua script, so it is atomic. When Redis is unreachable the gateway keeps serving with an
// in-process bucket per key (limits then hold per process), logs it once per outage and counts every
// failed call: rate limiting degrades, quotas (PostgreSQL) do not.
//
// Own code instead of @fastify/rate-limit: its Redis store either fails requests or skips limiting
// entirely when Redis is down; we want a local fallback and a metric for each failure.
import { Redis } from 'ioredis';

export interface RateDecision {
  allowed: boolean;
  remaining: number;
  /** Milliseconds until one token is available again (0 when allowed). */
  retryAfterMs: number;
}

export interface RateLimiter {
  take(key: string, perMinute: number): Promise<RateDecision>;
  close(): Promise<void>;
}

function bucketStep(tokens: number, last: number, now: number, perMinute: number): { tokens: number; decision: RateDecision } {
  const refill = ((now - last) / 60_000) * perMinute;
  let t = Math.min(perMinute, tokens + refill);
  if (t >= 1) {
    t -= 1;
    return { tokens: t, decision: { allowed: true, remaining: Math.floor(t), retryAfterMs: 0 } };
  }
  return { tokens: t, decision: { allowed: false, remaining: 0, retryAfterMs: Math.ceil(((1 - t) / perMinute) * 60_000) } };
}

export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; last: number }>();

  async take(key: string, perMinute: number): Promise<RateDecision> {
    return this.takeSync(key, perMinute);
  }

  takeSync(key: string, perMinute: number): RateDecision {
    const now = Date.now();
    const b = this.buckets.get(key) ?? { tokens: perMinute, last: now };
    const { tokens, decision } = bucketStep(b.tokens, b.last, now, perMinute);
    this.buckets.set(key, { tokens, last: now });
    // Full buckets carry no information: drop them so the map stays bounded by active keys.
    if (this.buckets.size > 100_000) for (const [k, v] of this.buckets) if (now - v.last > 60_000) this.buckets.delete(k);
    return decision;
  }

  async close(): Promise<void> {}
}

// KEYS[1] bucket; ARGV: perMinute, nowMs. Returns {allowed, remaining, retryAfterMs}.
const TOKEN_BUCKET_LUA = `
local rate = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 't', 'l')
local tokens = tonumber(b[1]) or rate
local last = tonumber(b[2]) or now
tokens = math.min(rate, tokens + ((now - last) / 60000) * rate)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil(((1 - tokens) / rate) * 60000)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'l', tostring(now))
redis.call('PEXPIRE', KEYS[1], 120000)
return {allowed, math.floor(tokens), retry}
`;

export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis;
  private readonly fallback = new MemoryRateLimiter();
  private degraded = false;

  constructor(url: string, private readonly onError: (err: Error, firstInOutage: boolean) => void, private readonly onRecover: () => void) {
    // No offline queue: while Redis is down a call fails at once instead of waiting; the timeout only
    // bounds a Redis that accepts connections but does not answer.
    this.redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 1000, connectTimeout: 1000, lazyConnect: false,
      retryStrategy: (times) => Math.min(times * 200, 2000) });
    this.redis.on('error', () => {});
    this.redis.defineCommand('takeToken', { numberOfKeys: 1, lua: TOKEN_BUCKET_LUA });
  }

  async take(key: string, perMinute: number): Promise<RateDecision> {
    try {
      const [allowed, remaining, retry] = (await (this.redis as any).takeToken(`rl:${key}`, perMinute, Date.now())) as number[];
      if (this.degraded) {
        this.degraded = false;
        this.onRecover();
      }
      return { allowed: allowed === 1, remaining, retryAfterMs: retry };
    } catch (e) {
      this.onError(e as Error, !this.degraded);
      this.degraded = true;
      return this.fallback.takeSync(key, perMinute);
    }
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
