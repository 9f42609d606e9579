// What a tenant may ask of the upstream, decided before anything is forwarded.
import type { Tenant } from './accounts.js';
import { badRequest, forbidden } from './errors.js';
import { sandboxNameProblem } from './namespace.js';

/** The upstream profile a tenant's request runs with. `permissive` mounts the host's home and passes
 * its environment, so no tenant ever gets it; tiers without network always run `restrictive`. */
export function effectiveProfile(tenant: Tenant, requested: string | undefined): string {
  if (requested !== undefined && !['restrictive', 'moderate', 'permissive'].includes(requested)) {
    throw badRequest(`unknown profile "${requested}" (use restrictive or moderate)`);
  }
  if (requested === 'permissive') throw forbidden('the permissive profile is not available: it exposes the host; use moderate or restrictive');
  if (!tenant.limits.network) {
    if (requested === 'moderate') throw forbidden(`network access is not included in the ${tenant.account.tier} tier: use the restrictive profile or upgrade`);
    return 'restrictive';
  }
  return requested ?? 'moderate';
}

export function checkSandboxName(name: string): void {
  const problem = sandboxNameProblem(name);
  if (problem) throw badRequest(problem);
}

/** A file path inside a sandbox: no `..` or `.` segments, no empty segments, no control characters. */
export function checkFilePath(path: string): string {
  if (!path || path.length > 4096) throw badRequest('file path must be 1-4096 characters');
  if (/[\u0000-\u001f\\]/.test(path)) throw badRequest('file path may not contain control characters or backslashes');
  const trimmed = path.replace(/^\/+/, '');
  const segments = trimmed.split('/');
  if (segments.some((s) => s === '..' || s === '.')) throw badRequest('file path may not contain ".." or "." segments');
  if (segments.some((s) => s === '')) throw badRequest('file path may not contain empty segments');
  return segments.map(encodeURIComponent).join('/');
}

/** Caps a sandbox request at the tier's limits; an explicit request above them is refused. */
export function sandboxSize(tenant: Tenant, memoryMb: number | undefined, vcpus: number | undefined): { memoryMb: number; vcpus: number } {
  const { limits } = tenant;
  const tier = tenant.account.tier;
  if (memoryMb !== undefined && memoryMb > limits.memoryMb) {
    throw forbidden(`memory_mb ${memoryMb} exceeds the ${tier} tier's limit of ${limits.memoryMb} MB per sandbox`);
  }
  if (vcpus !== undefined && vcpus > limits.vcpus) {
    throw forbidden(`vcpus ${vcpus} exceeds the ${tier} tier's limit of ${limits.vcpus} vCPUs per sandbox`);
  }
  return { memoryMb: memoryMb ?? Math.min(DEFAULT_MEMORY_MB, limits.memoryMb), vcpus: vcpus ?? 1 };
}

/** What the upstream gives a sandbox when not told otherwise; also what an ephemeral /run is billed at. */
export const DEFAULT_MEMORY_MB = 512;

/** Parses `/extend`'s `by` ("90", "30m", "1h", "2d") into seconds. */
export function parseDuration(by: string): number {
  const m = /^(\d{1,7})([smhd]?)$/.exec(by.trim());
  if (!m) throw badRequest(`invalid duration "${by}" (use e.g. 30m, 1h, 3600)`);
  const mult = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  const secs = Number(m[1]) * mult;
  if (secs < 1) throw badRequest('duration must be positive');
  return secs;
}

