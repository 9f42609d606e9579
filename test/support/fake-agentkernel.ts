/**
 * Contract-faithful fake of `agentkernel serve` 0.18.1 (the gateway's upstream), for tests and the
 * benchmark's "fast fake upstream". Ported from the real server's source (src/http_api.rs,
 * src/validation.rs, src/vmm.rs) and checked against the real binary by test/contract/ (see
 * /work/notes/upstream-report.md for what the real one does on podman here).
 *
 * Same as the real server: routes and methods, the `{success, data | error}` envelope, status codes and
 * error strings, sandbox/snapshot name rules, path rules for files, Bearer auth (`/health`, `/metrics`,
 * `/stats` open), serde-style "Invalid JSON: ..." 400s, SSE framing for `/run/stream`
 * (`event: <name>\ndata: <json>\n\n`, events started/progress/output/done/error), the pooled fast path
 * (`fast: true`, the default, and every `/batch/run` command) that joins argv with spaces, folds stderr
 * into stdout, trims the end and never reports an exit code, and a shared pool filesystem so state left by
 * one pooled run is visible to the next (as upstream). Deliberate differences: every image "exists",
 * snapshots work (upstream needs a `docker` CLI for them), the newer route families (`/orchestrations`,
 * `/objects`, `/schedules`, `/stores`) are empty stores, and rarely used routes (browser, resize,
 * recover, PATCH labels, config import/export, opencode, secrets, llm, images) answer 404 "Not found".
 *
 * API:
 *   const fake = await startFakeAgentkernel({ apiKey, latencyMs?, record? });
 *   fake.url / fake.port / fake.apiKey
 *   fake.requests: RecordedRequest[]   every request that reached it: method, path (raw, with query),
 *                                      headers, body (parsed JSON or undefined), rawBody, at (ms epoch)
 *   fake.requestsTo(method, pathPrefix) filter helper
 *   fake.sandboxes: Map<name, FakeSandbox>   live state (running flag, files, env...)
 *   fake.snapshots, fake.detached          live state
 *   fake.inFlight / fake.maxInFlight       concurrency gauge (requests being answered right now / max seen);
 *   fake.resetGauge()                      maxInFlight := inFlight
 *   await fake.setMode('normal' | 'down' | 'slow' | 'hang' | 'reset' | 'error500', { delayMs? })
 *       down: stops listening (connection refused) and drops open connections; back to normal re-listens
 *             on the same port. slow: waits delayMs (default 2000) before answering each request.
 *       hang: accepts and never answers. reset: destroys each connection once the request arrived.
 *       error500: every route answers 500 {"success":false,"error":"injected failure (fake error500 mode)"}.
 *   fake.setStream({ chunks, intervalMs })  /run/stream shape: the output split into `chunks` output events,
 *       `intervalMs` apart, headers flushed first (so a test can kill a client mid-stream). Default
 *       {chunks: 1, intervalMs: 0}: the whole stream in one write, as the real server sends it.
 *   fake.reset()      forget requests, sandboxes, snapshots, detached commands, pool files, audit log,
 *                     gauge; mode normal (except 'down', which only setMode undoes); default stream shape
 *   await fake.close()
 *
 * Commands run by a small deterministic busybox/sh emulation (fake-agentkernel-shell.ts):
 * `echo hi` -> "hi\n" on exec and fast:false runs, "hi" on pooled runs; `sleep 0.2` really waits;
 * unknown programs fail like in the real container (exit 127). Upstream's detached-exec bugs are kept:
 * arguments with spaces are re-split, and every finished detached command reads back failed/127.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import { decodeBody, parseLoosely, BodyError, type StructSpec } from './fake-agentkernel-json.js';
import { execArgv, runLineMerged, newShellContext, detachedEffectiveArgv, type SandboxFs, type ShellResult } from './fake-agentkernel-shell.js';

export type FakeMode = 'normal' | 'down' | 'slow' | 'hang' | 'reset' | 'error500';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  rawBody: string;
  at: number;
}

export interface FakeSandbox {
  name: string;
  uuid: string;
  image: string;
  vcpus: number;
  memoryMb: number;
  profile: string;
  running: boolean;
  createdAt: string;
  lastActivityAt: string;
  expiresAt?: string;
  ports: string[];
  secretFiles: string[];
  secretMappings: Record<string, string>;
  labels: Record<string, string>;
  description?: string;
  fs: SandboxFs;
  /** Files the container starts with (a restored snapshot's); a stop drops everything else. */
  imageFiles: Map<string, Buffer>;
}

export interface FakeDetached {
  id: string;
  sandbox: string;
  command: string[];
  pid: number;
  status: 'running' | 'completed' | 'failed';
  exit_code: number | null;
  started_at: string;
  stdout: string;
  stderr: string;
}

export interface FakeSnapshot {
  meta: {
    name: string;
    sandbox: string;
    image_tag: string;
    backend: string;
    base_image: string;
    vcpus: number;
    memory_mb: number;
    created_at: string;
  };
  files: Map<string, Buffer>;
}

export interface StreamShape {
  chunks: number;
  intervalMs: number;
}

export interface FakeAgentkernel {
  readonly url: string;
  readonly port: number;
  readonly apiKey: string;
  readonly requests: RecordedRequest[];
  readonly sandboxes: Map<string, FakeSandbox>;
  readonly snapshots: Map<string, FakeSnapshot>;
  readonly detached: Map<string, FakeDetached>;
  readonly inFlight: number;
  readonly maxInFlight: number;
  requestsTo(method: string, pathPrefix: string): RecordedRequest[];
  resetGauge(): void;
  setMode(mode: FakeMode, opts?: { delayMs?: number }): Promise<void>;
  setStream(shape: Partial<StreamShape>): void;
  reset(): void;
  close(): Promise<void>;
}

export interface FakeAgentkernelOptions {
  apiKey: string;
  /** Added before every answer (all routes), like a remote upstream. Default 0. */
  latencyMs?: number;
  /** Keep `requests` (default true; the benchmark turns it off). */
  record?: boolean;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const BACKEND = 'podman';
const DEFAULT_IMAGE = 'alpine:3.20';
const VERSION = '0.18.1';

// ---- request body shapes (the real server's serde structs) ----
const RUN_REQUEST: StructSpec = {
  name: 'RunRequest',
  fields: {
    command: { type: { kind: 'strings' } },
    image: { type: { kind: 'string' }, optional: true },
    profile: { type: { kind: 'string' }, optional: true },
    fast: { type: { kind: 'bool' }, default: true },
  },
};
const CREATE_REQUEST: StructSpec = {
  name: 'CreateRequest',
  fields: {
    name: { type: { kind: 'string' } },
    image: { type: { kind: 'string' }, optional: true },
    vcpus: { type: { kind: 'u32' }, optional: true },
    memory_mb: { type: { kind: 'u64' }, optional: true },
    profile: { type: { kind: 'string' }, optional: true },
    ports: { type: { kind: 'strings' }, default: [] },
    source_url: { type: { kind: 'string' }, optional: true },
    source_ref: { type: { kind: 'string' }, optional: true },
    agent: { type: { kind: 'string' }, optional: true },
    secrets: { type: { kind: 'strings' }, default: [] },
    secret_files: { type: { kind: 'strings' }, default: [] },
    placeholder_secrets: { type: { kind: 'bool' }, default: false },
    init_script: { type: { kind: 'string' }, optional: true },
    created_from_template: { type: { kind: 'string' }, optional: true },
    template_help_text: { type: { kind: 'string' }, optional: true },
    secret_mappings: { type: { kind: 'stringMap' }, default: {} },
    labels: { type: { kind: 'stringMap' }, default: {} },
    description: { type: { kind: 'string' }, optional: true },
    lifecycle: { type: { kind: 'json' }, optional: true },
  },
};
const EXEC_REQUEST: StructSpec = {
  name: 'ExecRequest',
  fields: {
    command: { type: { kind: 'strings' } },
    env: { type: { kind: 'strings' }, default: [] },
    workdir: { type: { kind: 'string' }, optional: true },
    sudo: { type: { kind: 'bool' }, optional: true },
  },
};
const FILE_WRITE_REQUEST: StructSpec = {
  name: 'FileWriteRequest',
  fields: { content: { type: { kind: 'string' } }, encoding: { type: { kind: 'string' }, default: 'utf8' } },
};
const BATCH_FILE_WRITE_REQUEST: StructSpec = {
  name: 'BatchFileWriteRequest',
  fields: { files: { type: { kind: 'stringMap' } } },
};
const BATCH_RUN_REQUEST: StructSpec = {
  name: 'BatchRunRequest',
  fields: {
    commands: {
      type: { kind: 'structs', struct: { name: 'BatchCommand', fields: { command: { type: { kind: 'strings' } } } } },
    },
  },
};
const EXTEND_REQUEST: StructSpec = { name: 'ExtendTtlRequest', fields: { by: { type: { kind: 'string' }, default: '1h' } } };
const SNAPSHOT_REQUEST: StructSpec = {
  name: 'TakeSnapshotRequest',
  fields: { sandbox: { type: { kind: 'string' } }, name: { type: { kind: 'string' } } },
};
const RESTORE_REQUEST: StructSpec = { name: 'RestoreSnapshotRequest', fields: { as_name: { type: { kind: 'string' }, optional: true } } };
const NAMED_REQUEST: StructSpec = { name: 'CreateOrchestrationRequest', fields: { name: { type: { kind: 'string' } }, input: { type: { kind: 'json' }, optional: true } } };

// ---- validation (src/validation.rs, src/backend/mod.rs), same order and wording ----
export function sandboxNameError(name: string): string | undefined {
  if (!name) return 'Sandbox name cannot be empty';
  if (Buffer.byteLength(name) > 63) return 'Sandbox name too long (max 63 characters)';
  const chars = [...name];
  const alnum = (c: string) => /^[A-Za-z0-9]$/.test(c);
  if (!alnum(chars[0])) return 'Sandbox name must start with a letter or number';
  if (!alnum(chars[chars.length - 1])) return 'Sandbox name must end with a letter or number';
  const bad = chars.find((c) => !alnum(c) && c !== '-' && c !== '_');
  if (bad !== undefined) {
    return `Sandbox name contains invalid character '${bad}'. Only letters, numbers, hyphens, and underscores are allowed`;
  }
  if (/--|__|-_|_-/.test(name)) return 'Sandbox name cannot contain consecutive hyphens or underscores';
  return undefined;
}

function sandboxPathError(path: string): string | undefined {
  if (!path.startsWith('/')) return `Sandbox path must be absolute, got: ${path}`;
  if (path.includes('..')) return `Path traversal not allowed: ${path}`;
  for (const blocked of ['/proc', '/sys', '/dev', '/etc/passwd', '/etc/shadow', '/etc/sudoers', '/root/.ssh']) {
    if (path.startsWith(blocked)) return `Cannot access system path: ${path}`;
  }
  return undefined;
}

function dockerImageError(image: string): string | undefined {
  if (!image) return 'Docker image name cannot be empty';
  if (image.length > 256) return 'Docker image name too long (max 256 characters)';
  const bad = [...image].find((c) => !/^[A-Za-z0-9._\/:@-]$/.test(c));
  if (bad !== undefined) {
    return `Docker image name contains invalid character '${bad}'. Use only alphanumeric characters, periods, hyphens, underscores, slashes, colons, and @`;
  }
  return undefined;
}

function workdirError(workdir: string): string | undefined {
  if (!workdir) return 'Working directory cannot be empty';
  if (workdir.length > 1024) return 'Working directory too long (max 1024 characters)';
  if (!workdir.startsWith('/')) return 'Working directory must be an absolute path';
  if (/[\0\n\r]/.test(workdir)) return 'Working directory contains invalid control characters';
  if (workdir.split('/').includes('..')) return 'Working directory cannot contain parent directory references (..)';
  return undefined;
}

function gitUrlError(url: string): string | undefined {
  if (!url) return 'Git source URL cannot be empty';
  if (url.length > 2048) return 'Git source URL too long (max 2048 characters)';
  if (/[\s\x00-\x1f\x7f]/.test(url)) return 'Git source URL cannot contain whitespace or control characters';
  const lower = url.toLowerCase();
  if (lower.startsWith('http://')) return 'Git source URL must use HTTPS or SSH';
  if (['file://', '/', './', '../'].some((p) => lower.startsWith(p))) return 'Local filesystem paths are not allowed for Git source URLs';
  const pattern = ['$(', '`', '&&', '||', ';', '|', '>', '<'].find((p) => url.includes(p));
  if (pattern) return `Git source URL contains suspicious pattern: ${pattern}`;
  const isUrl = lower.startsWith('https://') || lower.startsWith('ssh://');
  if (!isUrl && !url.startsWith('git@')) return 'Git source URL must use https://, ssh://, or git@host:path format';
  const validHost = (h: string) => h.length > 0 && /^[A-Za-z0-9.-]+$/.test(h);
  if (isUrl) {
    const hostPort = url.split('://')[1].split('/')[0];
    const host = hostPort.slice(hostPort.lastIndexOf('@') + 1).split(':')[0];
    if (!validHost(host)) return 'Git source URL must include a valid host';
  } else {
    const rest = url.slice(4);
    const colon = rest.indexOf(':');
    if (colon < 0) return 'SCP-style Git URL must be in git@host:path format';
    const [host, path] = [rest.slice(0, colon), rest.slice(colon + 1)];
    if (!host || !path) return 'SCP-style Git URL must include host and repository path';
    if (!validHost(host)) return 'SCP-style Git URL contains invalid host';
  }
  return undefined;
}

function gitRefError(ref: string): string | undefined {
  if (!ref) return 'Git ref cannot be empty';
  if (ref.length > 255) return 'Git ref too long (max 255 characters)';
  if (ref.startsWith('-')) return "Git ref cannot start with '-'";
  if (ref.startsWith('/') || ref.endsWith('/')) return "Git ref cannot start or end with '/'";
  if (ref.startsWith('.') || ref.endsWith('.')) return "Git ref cannot start or end with '.'";
  if (ref.includes('..') || ref.includes('//') || ref.includes('@{')) return 'Git ref contains invalid sequence';
  if (/[\s\x00-\x1f\x7f]/.test(ref)) return 'Git ref cannot contain whitespace or control characters';
  if (/[~^:?*[\\]/.test(ref)) return 'Git ref contains invalid characters';
  if (!/^[A-Za-z0-9\/_.-]+$/.test(ref)) return 'Git ref contains unsupported characters';
  return undefined;
}

function portMappingError(s: string): string | undefined {
  const portPart = s.replace(/\/(udp|tcp)$/, '');
  const u16 = (v: string) => /^\+?\d+$/.test(v) && Number(v) <= 65535;
  const colon = portPart.indexOf(':');
  if (colon >= 0) {
    const [host, container] = [portPart.slice(0, colon), portPart.slice(colon + 1)];
    if (!u16(host)) return `Invalid host port '${host}' in '${s}'`;
    if (!u16(container)) return `Invalid container port '${container}' in '${s}'`;
  } else if (!u16(portPart)) return `Invalid port '${portPart}' in '${s}'`;
  return undefined;
}

/** crate::ssh::parse_ttl_to_secs */
function parseTtl(raw: string): number | string {
  const ttl = raw.trim();
  if (!ttl) return 'TTL string is empty';
  if (/^\+?\d+$/.test(ttl)) return Number(ttl);
  let total = 0;
  let num = '';
  for (const ch of ttl) {
    if (/[0-9]/.test(ch)) {
      num += ch;
      continue;
    }
    if (!num) return `Invalid TTL format: unexpected '${ch}' in "${ttl}"`;
    const unit = { s: 1, m: 60, h: 3600 }[ch];
    if (!unit) return `Unknown TTL unit '${ch}' in "${ttl}"`;
    total += Number(num) * unit;
    num = '';
  }
  if (num) return `Invalid TTL format: trailing digits without unit in "${ttl}"`;
  return total;
}

function base64Decode(s: string): Buffer | string {
  const valid = /^[A-Za-z0-9+/]*={0,2}$/;
  if (!valid.test(s)) {
    const offset = [...s].findIndex((c) => !/[A-Za-z0-9+/=]/.test(c));
    const at = offset >= 0 ? offset : s.indexOf('=');
    return `Invalid symbol ${s.charCodeAt(at)}, offset ${at}.`;
  }
  if (s.length % 4 !== 0) return s.includes('=') ? 'Invalid padding' : `Invalid input length.`;
  return Buffer.from(s, 'base64');
}

// ---- small helpers ----
/** chrono's `Utc::now().to_rfc3339()`: nanosecond digits, `+00:00`. */
function rfc3339(ms = Date.now()): string {
  const ns = String(process.hrtime.bigint() % 1_000_000n).padStart(6, '0');
  return new Date(ms).toISOString().replace('Z', `${ns}+00:00`);
}

function uuidV7(): string {
  const b = randomBytes(16);
  b.writeUIntBE(Date.now(), 0, 6);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const UUID_FORMS = [
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  /^[0-9a-f]{32}$/i,
  /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  /^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$/i,
];

/** ExecResult::output(): stdout and stderr joined by a newline when both are present. */
function combinedOutput(r: ShellResult): string {
  if (!r.stderr) return r.stdout;
  if (!r.stdout) return r.stderr;
  return `${r.stdout}\n${r.stderr}`;
}

/** `podman exec -e KEY=value` list -> environment map. */
function envVars(env: string[]): Record<string, string> {
  return Object.fromEntries(env.map((e) => [e.split('=')[0], e.slice(e.indexOf('=') + 1)]));
}

function notRunning(name: string): string {
  return `Sandbox '${name}' is not running. Start it with: agentkernel start ${name}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Reply {
  status: number;
  body: unknown;
}
const ok = (data: unknown, status = 200): Reply => ({ status, body: { success: true, data } });
const fail = (status: number, error: string): Reply => ({ status, body: { success: false, error } });

class FakeState {
  sandboxes = new Map<string, FakeSandbox>();
  snapshots = new Map<string, FakeSnapshot>();
  detached = new Map<string, FakeDetached>();
  /** The warm pool's containers are reused between runs; modelled as one shared filesystem. */
  poolFs: SandboxFs = { files: new Map() };
  audit: Record<string, unknown>[] = [];

  log(type: string, fields: Record<string, unknown>): void {
    this.audit.push({ timestamp: new Date().toISOString(), pid: process.pid, user: null, type, ...fields });
  }
}

function sandboxInfo(sb: FakeSandbox): Record<string, unknown> {
  const info: Record<string, unknown> = {
    name: sb.name,
    uuid: sb.uuid,
    status: sb.running ? 'running' : 'stopped',
    backend: BACKEND,
    image: sb.image,
    vcpus: sb.vcpus,
    memory_mb: sb.memoryMb,
    created_at: sb.createdAt,
  };
  if (sb.ports.length) info.ports = sb.ports;
  if (sb.secretFiles.length) info.secret_files = sb.secretFiles;
  info.placeholder_secrets = false;
  if (Object.keys(sb.secretMappings).length) info.secret_mappings = sb.secretMappings;
  if (Object.keys(sb.labels).length) info.labels = sb.labels;
  if (sb.description !== undefined) info.description = sb.description;
  info.last_activity_at = sb.lastActivityAt;
  return info;
}

/** Route handlers: pure request -> reply logic over FakeState (no transport concerns). */
class Routes {
  constructor(readonly state: FakeState) {}

  private body<T>(raw: string, spec: StructSpec): T | Reply {
    try {
      return decodeBody<T>(raw, spec);
    } catch (e) {
      if (e instanceof BodyError) return fail(400, `Invalid JSON: ${e.message}`);
      throw e;
    }
  }

  private touch(sb: FakeSandbox): void {
    sb.lastActivityAt = rfc3339();
  }

  private async runPooled(command: string[]): Promise<string> {
    const out = await runLineMerged(command.join(' '), newShellContext(this.state.poolFs));
    return out.trimEnd();
  }

  private async exec(sb: FakeSandbox, command: string[], env: string[] = [], workdir?: string): Promise<ShellResult> {
    const result = await execArgv(command, newShellContext(sb.fs, envVars(env), workdir ?? '/'));
    this.state.log('command_executed', { sandbox: sb.name, command, exit_code: result.exitCode });
    this.touch(sb);
    return result;
  }

  private execReply(result: ShellResult): Reply {
    const output = combinedOutput(result);
    if (result.exitCode === 0) return ok({ output });
    return {
      status: 409,
      body: { success: false, error: `Command exited with code ${result.exitCode}: ${output}`, exit_code: result.exitCode, output },
    };
  }

  /** The non-pooled path: a throwaway sandbox with a fresh filesystem. */
  private async runFresh(command: string[]): Promise<ShellResult> {
    return execArgv(command, newShellContext({ files: new Map() }));
  }

  async run(raw: string): Promise<Reply> {
    const body = this.body<{ command: string[]; image?: string; profile?: string; fast: boolean }>(raw, RUN_REQUEST);
    if ('status' in body) return body;
    if (!body.command.length) return fail(400, 'command is required');
    if (body.fast) return ok({ output: await this.runPooled(body.command) });
    const imageErr = body.image !== undefined ? dockerImageError(body.image) : undefined;
    if (imageErr) return fail(400, imageErr);
    return this.execReply(await this.runFresh(body.command));
  }

  /** Events for /run/stream, in the real order; `undefined` data means "not SSE" (a JSON reply). */
  async runStream(raw: string): Promise<Reply | { events: [string, Record<string, unknown>][]; output?: string }> {
    const body = this.body<{ command: string[]; image?: string; profile?: string; fast: boolean }>(raw, RUN_REQUEST);
    if ('status' in body) return body;
    if (!body.command.length) return { events: [['error', { message: 'command is required' }]] };
    const events: [string, Record<string, unknown>][] = [
      ['started', { command: body.command, fast: body.fast, timestamp: rfc3339() }],
    ];
    if (body.fast) {
      const output = await this.runPooled(body.command);
      events.push(['output', { data: output, stream: 'stdout' }], ['done', { exit_code: 0, success: true }]);
      return { events, output };
    }
    const sandbox = `api-stream-${randomBytes(4).toString('hex')}`;
    events.push(['progress', { stage: 'sandbox_created', sandbox }], ['progress', { stage: 'sandbox_started' }]);
    const result = await this.runFresh(body.command);
    const output = combinedOutput(result);
    if (result.exitCode === 0) events.push(['output', { data: output, stream: 'stdout' }], ['done', { exit_code: 0, success: true }]);
    else events.push(['done', { exit_code: result.exitCode, success: false, output }]);
    return { events, output: result.exitCode === 0 ? output : undefined };
  }

  async batchRun(raw: string): Promise<Reply> {
    const body = this.body<{ commands: { command: string[] }[] }>(raw, BATCH_RUN_REQUEST);
    if ('status' in body) return body;
    if (!body.commands.length) return fail(400, 'commands array is required and must not be empty');
    const results = await Promise.all(body.commands.map(async (c) => ({ output: await this.runPooled(c.command), error: null })));
    return ok({ results });
  }

  listSandboxes(query: string): Reply {
    const filters = query
      .split('&')
      .map((p) => p.split('='))
      .filter(([k, v]) => k === 'label' && v !== undefined)
      .map(([, v]) => decodeURIComponent(v))
      .filter((v) => v.includes(':'))
      .map((v) => [v.slice(0, v.indexOf(':')), v.slice(v.indexOf(':') + 1)]);
    const list = [...this.state.sandboxes.values()].filter((sb) => filters.every(([k, v]) => sb.labels[k] === v));
    return ok(list.map(sandboxInfo));
  }

  async createSandbox(raw: string): Promise<Reply> {
    type Create = {
      name: string; image?: string; vcpus?: number; memory_mb?: number; profile?: string; ports: string[];
      source_url?: string; source_ref?: string; secrets: string[]; secret_files: string[];
      secret_mappings: Record<string, string>; labels: Record<string, string>; description?: string; init_script?: string;
    };
    const body = this.body<Create>(raw, CREATE_REQUEST);
    if ('status' in body) return body;
    const nameErr = sandboxNameError(body.name);
    if (nameErr) return fail(400, nameErr);
    if (body.source_ref !== undefined && body.source_url === undefined) return fail(400, 'source_ref requires source_url');
    const url = body.source_url?.replace(/^git:/, '');
    const urlErr = url !== undefined ? gitUrlError(url) : undefined;
    if (urlErr) return fail(400, urlErr);
    const refErr = body.source_ref !== undefined ? gitRefError(body.source_ref) : undefined;
    if (refErr) return fail(400, refErr);
    const imageErr = body.image !== undefined ? dockerImageError(body.image) : undefined;
    if (imageErr) return fail(400, imageErr);
    const portErr = body.ports.map(portMappingError).find(Boolean);
    if (portErr) return fail(400, `Invalid port mapping: ${portErr}`);
    if (this.state.sandboxes.has(body.name)) return fail(500, `Sandbox '${body.name}' already exists`);
    const profile = body.profile?.toLowerCase() ?? 'moderate';
    if (!['permissive', 'moderate', 'restrictive'].includes(profile)) {
      return fail(400, `Invalid profile '${body.profile}'. Use: permissive, moderate, restrictive`);
    }
    const now = rfc3339();
    const sb: FakeSandbox = {
      name: body.name,
      uuid: uuidV7(),
      image: body.image ?? DEFAULT_IMAGE,
      vcpus: body.vcpus ?? 1,
      memoryMb: body.memory_mb ?? 512,
      profile,
      running: true,
      createdAt: now,
      lastActivityAt: now,
      ports: body.ports.map((p) => p.replace(/\/tcp$/, '').replace(/^\+/, '')),
      secretFiles: body.secret_files,
      secretMappings: { ...body.secret_mappings, ...secretMappingsOf(body.secrets) },
      labels: body.labels,
      description: body.description,
      fs: { files: new Map() },
      imageFiles: new Map(),
    };
    this.state.sandboxes.set(sb.name, sb);
    this.state.log('sandbox_created', { name: sb.name, image: sb.image, backend: BACKEND });
    this.state.log('sandbox_started', { name: sb.name, profile: profile });
    if (body.init_script !== undefined) {
      const r = await execArgv(['sh', '-c', body.init_script], newShellContext(sb.fs));
      if (r.exitCode !== 0) {
        this.state.sandboxes.delete(sb.name);
        return fail(500, `init script failed (exit code ${r.exitCode}): ${r.stderr.trim()}`);
      }
    }
    if (url !== undefined) {
      const clone = await this.exec(sb, ['git', 'clone', url, '/workspace']);
      if (clone.exitCode !== 0) {
        this.state.sandboxes.delete(sb.name);
        return fail(500, `Failed to clone ${url}: Command exited with code ${clone.exitCode}: ${combinedOutput(clone)}`);
      }
    }
    return ok(sandboxInfo(sb), 201);
  }

  getSandbox(name: string): Reply {
    const nameErr = sandboxNameError(name);
    if (nameErr) return fail(400, nameErr);
    const sb = this.state.sandboxes.get(name);
    return sb ? ok(sandboxInfo(sb)) : fail(404, 'Sandbox not found');
  }

  getSandboxByUuid(uuid: string): Reply {
    if (!UUID_FORMS.some((re) => re.test(uuid))) return fail(400, 'Invalid sandbox UUID');
    const sb = [...this.state.sandboxes.values()].find((s) => s.uuid === uuid);
    return sb ? ok(sandboxInfo(sb)) : fail(404, 'Sandbox not found');
  }

  deleteSandbox(name: string): Reply {
    const nameErr = sandboxNameError(name);
    if (nameErr) return fail(400, nameErr);
    // Upstream removes whatever is there and reports success even when nothing was.
    this.state.sandboxes.delete(name);
    this.state.log('sandbox_removed', { name });
    return ok('Sandbox removed');
  }

  startSandbox(name: string): Reply {
    const nameErr = sandboxNameError(name);
    if (nameErr) return fail(400, nameErr);
    const sb = this.state.sandboxes.get(name);
    if (!sb) return fail(500, `Sandbox '${name}' not found`);
    if (sb.running) return fail(500, `Sandbox '${name}' is already running`);
    sb.running = true;
    sb.fs = { files: new Map(sb.imageFiles) };
    this.touch(sb);
    this.state.log('sandbox_started', { name, profile: sb.profile });
    return ok('Sandbox started');
  }

  stopSandbox(name: string): Reply {
    const nameErr = sandboxNameError(name);
    if (nameErr) return fail(400, nameErr);
    const sb = this.state.sandboxes.get(name);
    if (sb?.running) {
      // The container is removed (`podman rm -f`): its filesystem is gone.
      sb.running = false;
      sb.fs = { files: new Map() };
      this.state.log('sandbox_stopped', { name });
    }
    return ok('Sandbox stopped');
  }

  private execPreamble(name: string, raw: string): Reply | { sb: FakeSandbox; body: { command: string[]; env: string[]; workdir?: string; sudo?: boolean } } {
    const nameErr = sandboxNameError(name);
    if (nameErr) return fail(400, nameErr);
    const body = this.body<{ command: string[]; env: string[]; workdir?: string; sudo?: boolean }>(raw, EXEC_REQUEST);
    if ('status' in body) return body;
    if (!body.command.length) return fail(400, 'command is required');
    if (body.sudo) {
      return fail(403, 'sudo execution is disabled for HTTP API. Set [api].allow_sudo_exec = true to enable it');
    }
    const wdErr = body.workdir !== undefined ? workdirError(body.workdir) : undefined;
    if (wdErr) return fail(400, wdErr);
    const sb = this.state.sandboxes.get(name);
    if (!sb?.running) return fail(500, notRunning(name));
    return { sb, body };
  }

  async execSandbox(name: string, raw: string): Promise<Reply> {
    const pre = this.execPreamble(name, raw);
    if ('status' in pre) return pre;
    return this.execReply(await this.exec(pre.sb, pre.body.command, pre.body.env, pre.body.workdir));
  }

  execDetach(name: string, raw: string): Reply {
    const pre = this.execPreamble(name, raw);
    if ('status' in pre) return pre;
    const cmd: FakeDetached = {
      id: randomBytes(4).toString('hex'),
      sandbox: name,
      command: pre.body.command,
      pid: randomInt(100, 30000),
      status: 'running',
      exit_code: null,
      started_at: rfc3339(),
      stdout: '',
      stderr: '',
    };
    this.state.detached.set(cmd.id, cmd);
    this.state.log('command_executed', { sandbox: name, command: cmd.command, exit_code: null });
    this.touch(pre.sb);
    void execArgv(detachedEffectiveArgv(cmd.command), newShellContext(pre.sb.fs, envVars(pre.body.env), pre.body.workdir ?? '/')).then((r) => {
      if (cmd.status !== 'running') return; // killed meanwhile
      cmd.stdout = r.stdout;
      cmd.stderr = r.stderr;
      // Upstream records the exit code with `(wait $pid; echo $? > exit) &`: that subshell cannot wait for
      // its sibling, so every finished detached command reads back as failed with 127.
      cmd.exit_code = 127;
      cmd.status = 'failed';
    });
    return ok(detachedInfo(cmd));
  }

  detachedList(name: string): Reply {
    return ok([...this.state.detached.values()].filter((c) => c.sandbox === name).map(detachedInfo));
  }

  /** Upstream looks detached commands up by id only; the sandbox in the path is not checked. */
  private detachedCommand(id: string): FakeDetached | undefined {
    return this.state.detached.get(id);
  }

  detachedStatus(id: string): Reply {
    const c = this.detachedCommand(id);
    if (!c) return fail(404, `Detached command '${id}' not found`);
    if (c.status === 'running' && !this.state.sandboxes.get(c.sandbox)?.running) return fail(404, `Sandbox '${c.sandbox}' is not running`);
    return ok(detachedInfo(c));
  }

  detachedLogs(id: string, query: string): Reply {
    const c = this.detachedCommand(id);
    if (!c) return fail(404, `Detached command '${id}' not found`);
    if (!this.state.sandboxes.get(c.sandbox)?.running) return fail(404, `Sandbox '${c.sandbox}' is not running`);
    const stderr = query.split('&').some((p) => p === 'stream=stderr');
    return ok(stderr ? { stderr: c.stderr } : { stdout: c.stdout });
  }

  detachedKill(id: string): Reply {
    const c = this.detachedCommand(id);
    if (!c) return fail(404, `Detached command '${id}' not found`);
    if (c.status === 'running') {
      if (!this.state.sandboxes.get(c.sandbox)?.running) return fail(404, `Sandbox '${c.sandbox}' is not running`);
      c.status = 'failed';
      c.exit_code = 137;
    }
    return ok('Command killed');
  }

  sandboxLogs(name: string): Reply {
    const nameErr = sandboxNameError(name);
    if (nameErr) return fail(400, nameErr);
    if (!this.state.sandboxes.has(name)) return fail(404, 'Sandbox not found');
    return ok(this.state.audit.filter((e) => e.name === name || e.sandbox === name));
  }

  private filePreamble(name: string, filePath: string): Reply | { abs: string } {
    const nameErr = sandboxNameError(name);
    if (nameErr) return fail(400, nameErr);
    const abs = `/${filePath}`;
    const pathErr = sandboxPathError(abs);
    if (pathErr) return fail(400, pathErr);
    return { abs };
  }

  readFile(name: string, filePath: string): Reply {
    const pre = this.filePreamble(name, filePath);
    if ('status' in pre) return pre;
    const sb = this.state.sandboxes.get(name);
    if (!sb?.running) return fail(404, notRunning(name));
    const content = sb.fs.files.get(pre.abs);
    if (content === undefined) {
      return fail(404, `docker cp failed: Error: "${pre.abs}" could not be found on container agentkernel-${name}: no such file or directory\n`);
    }
    this.state.log('file_read', { sandbox: name, path: pre.abs });
    this.touch(sb);
    const text = new TextDecoder('utf-8', { fatal: true });
    try {
      return ok({ content: text.decode(content), encoding: 'utf8', size: content.length });
    } catch {
      return ok({ content: content.toString('base64'), encoding: 'base64', size: content.length });
    }
  }

  writeFile(name: string, filePath: string, raw: string): Reply {
    const pre = this.filePreamble(name, filePath);
    if ('status' in pre) return pre;
    const body = this.body<{ content: string; encoding: string }>(raw, FILE_WRITE_REQUEST);
    if ('status' in body) return body;
    let bytes: Buffer;
    if (body.encoding === 'base64') {
      const decoded = base64Decode(body.content);
      if (typeof decoded === 'string') return fail(400, `Invalid base64: ${decoded}`);
      bytes = decoded;
    } else bytes = Buffer.from(body.content, 'utf8');
    const sb = this.state.sandboxes.get(name);
    if (!sb?.running) return fail(500, notRunning(name));
    sb.fs.files.set(pre.abs, bytes);
    this.state.log('file_written', { sandbox: name, path: pre.abs });
    this.touch(sb);
    return ok(`Wrote ${bytes.length} bytes to ${pre.abs}`);
  }

  deleteFile(name: string, filePath: string): Reply {
    const pre = this.filePreamble(name, filePath);
    if ('status' in pre) return pre;
    const sb = this.state.sandboxes.get(name);
    if (!sb?.running) return fail(500, notRunning(name));
    sb.fs.files.delete(pre.abs);
    this.state.log('command_executed', { sandbox: name, command: ['rm', '-f', pre.abs], exit_code: 0 });
    this.touch(sb);
    return ok(`Deleted ${pre.abs}`);
  }

  batchWriteFiles(name: string, raw: string): Reply {
    const nameErr = sandboxNameError(name);
    if (nameErr) return fail(400, nameErr);
    const body = this.body<{ files: Record<string, string> }>(raw, BATCH_FILE_WRITE_REQUEST);
    if ('status' in body) return body;
    const paths = Object.keys(body.files);
    if (!paths.length) return fail(400, 'files map is empty');
    for (const p of paths) {
      const err = sandboxPathError(p);
      if (err) return fail(400, `${p}: ${err}`);
    }
    const sb = this.state.sandboxes.get(name);
    if (!sb?.running) return fail(500, `Failed to write ${paths[0]}: ${notRunning(name)}`);
    for (const p of paths) {
      sb.fs.files.set(p, Buffer.from(body.files[p], 'utf8'));
      this.state.log('file_written', { sandbox: name, path: p });
    }
    this.touch(sb);
    return ok(`Wrote ${paths.length} file(s)`);
  }

  extend(name: string, raw: string): Reply {
    const nameErr = sandboxNameError(name);
    if (nameErr) return fail(400, nameErr);
    let by = '1h';
    try {
      by = decodeBody<{ by: string }>(raw, EXTEND_REQUEST).by; // any unreadable body means the default
    } catch {}
    const secs = parseTtl(by);
    if (typeof secs === 'string') return fail(400, `Invalid time format: ${secs}`);
    const sb = this.state.sandboxes.get(name);
    if (!sb) return fail(404, `Sandbox '${name}' not found`);
    const now = Date.now();
    const base = sb.expiresAt && Date.parse(sb.expiresAt) > now ? Date.parse(sb.expiresAt) : now;
    sb.expiresAt = rfc3339(base + secs * 1000);
    return ok({ expires_at: sb.expiresAt });
  }

  listSnapshots(): Reply {
    const metas = [...this.state.snapshots.values()].map((s) => s.meta);
    return ok(metas.sort((a, b) => a.created_at.localeCompare(b.created_at)));
  }

  takeSnapshot(raw: string): Reply {
    const body = this.body<{ sandbox: string; name: string }>(raw, SNAPSHOT_REQUEST);
    if ('status' in body) return body;
    const sbErr = sandboxNameError(body.sandbox);
    if (sbErr) return fail(400, sbErr);
    const snapErr = sandboxNameError(body.name);
    if (snapErr) return fail(400, `Invalid snapshot name: ${snapErr}`);
    const sb = this.state.sandboxes.get(body.sandbox);
    if (!sb) return fail(404, `Sandbox '${body.sandbox}' not found`);
    const meta = {
      name: body.name,
      sandbox: sb.name,
      image_tag: `agentkernel-snap:${body.name}`,
      backend: BACKEND,
      base_image: sb.image,
      vcpus: sb.vcpus,
      memory_mb: sb.memoryMb,
      created_at: rfc3339(),
    };
    this.state.snapshots.set(body.name, { meta, files: new Map(sb.fs.files) });
    return ok(meta);
  }

  getSnapshot(name: string): Reply {
    const err = sandboxNameError(name);
    if (err) return fail(400, err);
    const snap = this.state.snapshots.get(name);
    return snap ? ok(snap.meta) : fail(404, `Snapshot '${name}' not found`);
  }

  deleteSnapshot(name: string): Reply {
    const err = sandboxNameError(name);
    if (err) return fail(400, err);
    if (!this.state.snapshots.delete(name)) return fail(404, `Snapshot '${name}' not found`);
    return ok('Snapshot deleted');
  }

  restoreSnapshot(name: string, raw: string): Reply {
    const err = sandboxNameError(name);
    if (err) return fail(400, err);
    let asName: string | undefined;
    try {
      asName = decodeBody<{ as_name?: string }>(raw, RESTORE_REQUEST).as_name; // optional body
    } catch {}
    const snap = this.state.snapshots.get(name);
    if (!snap) return fail(404, `Snapshot '${name}' not found`);
    const target = asName ?? `${snap.meta.sandbox}-restored`;
    const targetErr = sandboxNameError(target);
    if (targetErr) return fail(400, `Invalid restore name: ${targetErr}`);
    if (this.state.sandboxes.has(target)) return fail(500, `Sandbox '${target}' already exists`);
    const now = rfc3339();
    // Upstream only creates the restored sandbox; it is "stopped" until POST /sandboxes/{name}/start.
    const sb: FakeSandbox = {
      name: target,
      uuid: uuidV7(),
      image: snap.meta.image_tag,
      vcpus: snap.meta.vcpus,
      memoryMb: snap.meta.memory_mb,
      profile: 'moderate',
      running: false,
      createdAt: now,
      lastActivityAt: now,
      ports: [],
      secretFiles: [],
      secretMappings: {},
      labels: {},
      fs: { files: new Map() },
      imageFiles: new Map(snap.files),
    };
    this.state.sandboxes.set(target, sb);
    this.state.log('sandbox_created', { name: target, image: sb.image, backend: BACKEND });
    return ok(sandboxInfo(sb));
  }

  /** /orchestrations, /objects, /schedules, /stores: an empty durable store, as on a fresh upstream. */
  durable(method: string, seg: string[], raw: string): Reply | undefined {
    const [family, id, sub] = seg;
    const label = { orchestrations: 'Orchestration', objects: 'Object', schedules: 'Schedule', stores: 'Store' }[family];
    if (!label) return undefined;
    if (seg.length === 1 && method === 'GET') return ok([]);
    if (family === 'orchestrations' && id === 'definitions') {
      if (seg.length === 2 && method === 'GET') return ok([]);
      if (seg.length === 3 && (method === 'GET' || method === 'DELETE')) return fail(404, 'Definition not found');
      return undefined;
    }
    if (seg.length === 1 && method === 'POST' && family === 'orchestrations') {
      const body = this.body<{ name: string; input?: unknown }>(raw, NAMED_REQUEST);
      if ('status' in body) return body;
      if (!body.name.trim()) return fail(400, 'name is required');
      return ok({ id: uuidV7(), name: body.name, status: 'pending', input: body.input ?? null, created_at: rfc3339() }, 202);
    }
    if (seg.length === 2 && (method === 'GET' || method === 'DELETE')) return fail(404, `${label} not found`);
    if (seg.length === 3 && method === 'POST' && ['events', 'terminate', 'trigger', 'query', 'execute', 'command'].includes(sub)) {
      return fail(404, `${label} not found`);
    }
    return undefined;
  }
}

function detachedInfo(c: FakeDetached): Record<string, unknown> {
  return { id: c.id, sandbox: c.sandbox, command: c.command, pid: c.pid, status: c.status, exit_code: c.exit_code, started_at: c.started_at };
}

/** "KEY=value:host" -> { KEY: host } (values are never echoed back, as upstream). */
function secretMappingsOf(bindings: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of bindings) {
    const eq = raw.indexOf('=');
    if (eq < 0) continue;
    const rest = raw.slice(eq + 1);
    const colon = rest.lastIndexOf(':');
    if (colon >= 0) out[raw.slice(0, eq)] = rest.slice(colon + 1);
  }
  return out;
}

/** hyper's `uri().path()` for a request target: no query, no decoding, no dot-segment removal. */
function splitTarget(url: string): { path: string; query: string } {
  const target = url.replace(/^[a-z]+:\/\/[^/]*/i, '');
  const q = target.indexOf('?');
  return q < 0 ? { path: target, query: '' } : { path: target.slice(0, q), query: target.slice(q + 1) };
}

function authError(header: string | undefined, apiKey: string): string | undefined {
  // A header that is not visible ASCII fails hyper's to_str() and counts as missing.
  if (header === undefined || !/^[\x20-\x7e\t]*$/.test(header)) return 'Missing Authorization header';
  if (!header.startsWith('Bearer ')) return 'Invalid authorization format. Use: Bearer <api_key>';
  return header.slice(7) === apiKey ? undefined : 'Invalid API key';
}

export async function startFakeAgentkernel(opts: FakeAgentkernelOptions): Promise<FakeAgentkernel> {
  if (!opts.apiKey) throw new Error('startFakeAgentkernel: apiKey is required (the gateway always sends one)');
  const state = new FakeState();
  const routes = new Routes(state);
  const requests: RecordedRequest[] = [];
  const record = opts.record ?? true;
  const latencyMs = opts.latencyMs ?? 0;
  const sockets = new Set<Socket>();
  let mode: FakeMode = 'normal';
  let delayMs = 2000;
  let stream: StreamShape = { chunks: 1, intervalMs: 0 };
  let inFlight = 0;
  let maxInFlight = 0;

  const send = (res: ServerResponse, reply: Reply) => {
    const json = JSON.stringify(reply.body);
    res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
    res.end(json);
  };

  async function sendStream(res: ServerResponse, events: [string, Record<string, unknown>][], output: string | undefined) {
    const frame = ([name, data]: [string, Record<string, unknown>]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const shape = stream;
    if (shape.chunks <= 1 && shape.intervalMs <= 0) {
      res.end(events.map(frame).join(''));
      return;
    }
    // Spread the output over several `output` events so a test can cut the connection mid-stream.
    const pieces: string[] = [];
    const text = output ?? '';
    const size = Math.max(1, Math.ceil(text.length / shape.chunks));
    for (let i = 0; i < shape.chunks; i++) pieces.push(text.slice(i * size, (i + 1) * size));
    const shaped = events.flatMap((e) =>
      e[0] === 'output' && output !== undefined ? pieces.map((p) => ['output', { data: p, stream: 'stdout' }] as [string, Record<string, unknown>]) : [e],
    );
    for (const [i, e] of shaped.entries()) {
      if (res.destroyed) return;
      if (i > 0 && shape.intervalMs > 0) await sleep(shape.intervalMs);
      res.write(frame(e));
    }
    res.end();
  }

  async function route(method: string, path: string, query: string, raw: string, headers: IncomingHttpHeaders, res: ServerResponse): Promise<void> {
    const seg = path.split('/').filter(Boolean);
    const is = (m: string, ...s: string[]) => method === m && seg.length === s.length && s.every((x, i) => x === '*' || x === seg[i]);
    if (is('GET', 'health')) return send(res, ok('ok'));
    if (is('GET', 'metrics')) {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(`# HELP agentkernel_active_sandboxes Active sandboxes\n# TYPE agentkernel_active_sandboxes gauge\nagentkernel_active_sandboxes ${state.sandboxes.size}\n`);
      return;
    }
    if (is('GET', 'stats')) {
      return send(res, ok({
        sandbox_count: state.sandboxes.size, sandbox_limit: 0, backend: BACKEND, uptime_seconds: Math.floor(process.uptime()), version: VERSION,
        resource_usage: { cpu_percent: 0, memory_used_mb: 0, memory_total_mb: 0, disk_used_mb: 0 },
      }));
    }
    const authErr = authError(headers.authorization, opts.apiKey);
    if (authErr) return send(res, fail(401, authErr));
    if (is('GET', 'events')) return send(res, fail(503, 'Event streaming not enabled. Start server with --webhook-url or --otel-endpoint'));
    if (is('POST', 'run')) return send(res, await routes.run(raw));
    if (is('POST', 'run', 'stream')) {
      const r = await routes.runStream(raw);
      return 'events' in r ? sendStream(res, r.events, r.output) : send(res, r);
    }
    if (is('POST', 'batch', 'run')) return send(res, await routes.batchRun(raw));
    if (is('GET', 'status')) return send(res, ok({ version: VERSION, backend: BACKEND, api_key_configured: true }));
    const durable = routes.durable(method, seg, raw);
    if (durable) return send(res, durable);
    if (is('GET', 'sandboxes')) return send(res, routes.listSandboxes(query));
    if (is('POST', 'sandboxes')) return send(res, await routes.createSandbox(raw));
    if (is('GET', 'sandboxes', 'by-uuid', '*')) return send(res, routes.getSandboxByUuid(seg[2]));
    if (is('GET', 'sandboxes', '*')) return send(res, routes.getSandbox(seg[1]));
    if (is('POST', 'sandboxes', '*', 'exec')) return send(res, await routes.execSandbox(seg[1], raw));
    if (is('POST', 'sandboxes', '*', 'exec', 'detach')) return send(res, routes.execDetach(seg[1], raw));
    if (is('GET', 'sandboxes', '*', 'exec', 'detached')) return send(res, routes.detachedList(seg[1]));
    if (is('GET', 'sandboxes', '*', 'exec', 'detached', '*')) return send(res, routes.detachedStatus(seg[4]));
    if (is('GET', 'sandboxes', '*', 'exec', 'detached', '*', 'logs')) return send(res, routes.detachedLogs(seg[4], query));
    if (is('DELETE', 'sandboxes', '*', 'exec', 'detached', '*')) return send(res, routes.detachedKill(seg[4]));
    if (is('GET', 'sandboxes', '*', 'logs')) return send(res, routes.sandboxLogs(seg[1]));
    if (is('POST', 'sandboxes', '*', 'files')) return send(res, routes.batchWriteFiles(seg[1], raw));
    if (seg[0] === 'sandboxes' && seg[2] === 'files' && seg.length >= 3) {
      const filePath = seg.slice(3).join('/');
      if (method === 'GET') return send(res, routes.readFile(seg[1], filePath));
      if (method === 'PUT') return send(res, routes.writeFile(seg[1], filePath, raw));
      if (method === 'DELETE') return send(res, routes.deleteFile(seg[1], filePath));
    }
    if (is('DELETE', 'sandboxes', '*')) return send(res, routes.deleteSandbox(seg[1]));
    if (is('POST', 'sandboxes', '*', 'start')) return send(res, routes.startSandbox(seg[1]));
    if (is('POST', 'sandboxes', '*', 'stop')) return send(res, routes.stopSandbox(seg[1]));
    if (is('POST', 'sandboxes', '*', 'extend')) return send(res, routes.extend(seg[1], raw));
    if (is('GET', 'snapshots')) return send(res, routes.listSnapshots());
    if (is('POST', 'snapshots')) return send(res, routes.takeSnapshot(raw));
    if (is('GET', 'snapshots', '*')) return send(res, routes.getSnapshot(seg[1]));
    if (is('DELETE', 'snapshots', '*')) return send(res, routes.deleteSnapshot(seg[1]));
    if (is('POST', 'snapshots', '*', 'restore')) return send(res, routes.restoreSnapshot(seg[1], raw));
    return send(res, fail(404, 'Not found'));
  }

  function readBody(req: IncomingMessage): Promise<string | Reply> {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) {
      req.resume();
      return Promise.resolve(fail(413, `Request body exceeds the maximum size of ${MAX_BODY_BYTES} bytes`));
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= MAX_BODY_BYTES) chunks.push(c);
      });
      req.on('end', () =>
        resolve(size > MAX_BODY_BYTES ? fail(413, `Request body exceeds the maximum size of ${MAX_BODY_BYTES} bytes`) : Buffer.concat(chunks).toString('utf8')),
      );
      req.on('error', reject);
    });
  }

  const server: Server = createServer(async (req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    try {
      const body = await readBody(req);
      const raw = typeof body === 'string' ? body : '';
      const { path, query } = splitTarget(req.url ?? '/');
      if (record) {
        requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: parseLoosely(raw), rawBody: raw, at: Date.now() });
      }
      if (mode === 'reset') return void req.socket.destroy();
      if (mode === 'hang') return;
      if (mode === 'slow') await sleep(delayMs);
      if (latencyMs > 0) await sleep(latencyMs);
      if (res.destroyed) return;
      if (mode === 'error500') return send(res, fail(500, 'injected failure (fake error500 mode)'));
      if (typeof body !== 'string') return send(res, body);
      await route(req.method ?? 'GET', path, query, raw, req.headers, res);
    } catch (e) {
      if (!res.headersSent) send(res, fail(500, `fake agentkernel bug: ${(e as Error).message}`));
      else res.destroy();
    }
  });
  // hyper keeps idle connections open; a short Node timeout would race the gateway's keep-alive pool.
  server.keepAliveTimeout = 65_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  const port = await listen(0);

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    apiKey: opts.apiKey,
    requests,
    get sandboxes() {
      return state.sandboxes;
    },
    get snapshots() {
      return state.snapshots;
    },
    get detached() {
      return state.detached;
    },
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    requestsTo(method, pathPrefix) {
      return requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix));
    },
    resetGauge() {
      maxInFlight = inFlight;
    },
    async setMode(next, modeOpts) {
      if (modeOpts?.delayMs !== undefined) delayMs = modeOpts.delayMs;
      const wasDown = mode === 'down';
      mode = next;
      if (next === 'down' && !wasDown) await stopListening();
      if (next !== 'down' && wasDown) await listen(port);
    },
    setStream(shape) {
      stream = { ...stream, ...shape };
    },
    reset() {
      requests.length = 0;
      state.sandboxes.clear();
      state.snapshots.clear();
      state.detached.clear();
      state.poolFs.files.clear();
      state.audit.length = 0;
      maxInFlight = inFlight;
      if (mode !== 'down') mode = 'normal'; // a stopped listener is only restarted by setMode
      stream = { chunks: 1, intervalMs: 0 };
    },
    async close() {
      if (mode !== 'down') await stopListening();
    },
  };
}
