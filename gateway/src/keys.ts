// API keys: 32 random bytes behind a visible prefix, shown once, stored only as a SHA-256 hash.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PREFIX = 'aks_';

export interface NewKey {
  /** The full secret, shown to the customer once. */
  key: string;
  /** What lists show: "aks_" and the first 8 characters of the secret part. */
  visiblePrefix: string;
  hash: Buffer;
}

export function hashKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

export function generateKey(): NewKey {
  const secret = randomBytes(32).toString('base64url');
  const key = `${KEY_PREFIX}${secret}`;
  return { key, visiblePrefix: key.slice(0, KEY_PREFIX.length + 8), hash: hashKey(key) };
}

/** Cheap shape check before any database work: anything else is a 401 without a lookup. */
export function looksLikeKey(key: string): boolean {
  return key.startsWith(KEY_PREFIX) && key.length === KEY_PREFIX.length + 43 && /^[A-Za-z0-9_-]+$/.test(key.slice(KEY_PREFIX.length));
}

/** Constant-time comparison of two secrets of possibly different length. */
export function secretsEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
