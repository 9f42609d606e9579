// TenantNamespace: maps a tenant's sandbox names to upstream names and back.
//
// Upstream names are `<ns>-<name>` where <ns> is exactly 8 characters of [a-z0-9] (no separator in
// it), so the first 9 characters of an upstream name always decode to exactly one tenant: two tenants'
// upstream names cannot collide whatever names they choose. Tenant names must themselves follow the
// upstream rules (alnum ends, no `--`, `__`, `-_`, `_-`), so the join never creates a forbidden pair,
// and are at most 63 - 9 = 54 characters so the result stays within the upstream's 63.
import { randomBytes } from 'node:crypto';

export const NAMESPACE_LENGTH = 8;
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const MAX_TENANT_NAME = 63 - NAMESPACE_LENGTH - 1;
const NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?$/;
const NAMESPACE_RE = new RegExp(`^[a-z0-9]{${NAMESPACE_LENGTH}}$`);

export function generateNamespace(): string {
  // Rejection sampling keeps the distribution uniform over the alphabet.
  let out = '';
  while (out.length < NAMESPACE_LENGTH) {
    for (const b of randomBytes(16)) {
      if (b < 252 && out.length < NAMESPACE_LENGTH) out += ALPHABET[b % 36];
    }
  }
  return out;
}

/** Why a tenant-chosen name is not acceptable, or null when it is. */
export function sandboxNameProblem(name: string): string | null {
  if (name.length < 1 || name.length > MAX_TENANT_NAME) return `sandbox name must be 1-${MAX_TENANT_NAME} characters`;
  if (!NAME_RE.test(name)) return 'sandbox name may only contain letters, digits, "-" and "_", and must start and end with a letter or digit';
  if (/--|__|-_|_-/.test(name)) return 'sandbox name may not contain "--", "__", "-_" or "_-"';
  return null;
}

export class TenantNamespace {
  private readonly head: string;

  constructor(readonly ns: string) {
    if (!NAMESPACE_RE.test(ns)) throw new Error('invalid namespace');
    this.head = `${ns}-`;
  }

  upstream(name: string): string {
    return this.head + name;
  }

  owns(upstreamName: string): boolean {
    return upstreamName.startsWith(this.head);
  }

  /** The tenant's own name for one of its upstream names. */
  local(upstreamName: string): string {
    return this.owns(upstreamName) ? upstreamName.slice(this.head.length) : upstreamName;
  }

  /** Strips this tenant's prefix wherever it occurs in a message (upstream error text, SSE data). */
  scrub(text: string): string {
    return text.includes(this.head) ? text.split(this.head).join('') : text;
  }

  /** The same for JSON data that may mention upstream names anywhere (logs, detached commands). */
  scrubData(data: unknown): unknown {
    return JSON.parse(this.scrub(JSON.stringify(data ?? null)));
  }
}
