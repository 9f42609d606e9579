// A minimal client for the Hetzner Robot webservice (dedicated servers are not in the Cloud API).
// Used inside Pulumi dynamic providers, whose code Pulumi serializes into another process: so this
// module only uses globals (fetch, Buffer, URLSearchParams, timers) and its own functions, and keeps
// no state between calls. Contract followed: HTTP basic auth, form-encoded POST bodies, JSON answers,
// errors as {"error":{"status","code","message"}}, rate limits as code RATE_LIMIT_EXCEEDED
// (documented with HTTP 403; a 429 is treated the same way), and some successes without a body.

export const ROBOT_URL = 'https://robot-ws.your-server.de';

export interface RobotAccess {
  url: string;
  user: string;
  password: string;
  /** Per request, including reading the answer. */
  requestTimeoutMs: number;
  /** Attempts while the answer is RATE_LIMIT_EXCEEDED, with rateLimitDelayMs * attempt between. */
  rateLimitAttempts: number;
  rateLimitDelayMs: number;
}

export const ROBOT_ACCESS_DEFAULTS = { requestTimeoutMs: 30_000, rateLimitAttempts: 4, rateLimitDelayMs: 15_000 };

/** How a provider's state names its Robot access (credentials plus optional test-sized timings). */
export interface RobotAccessState {
  robotUrl: string;
  robotUser: string;
  robotPassword: string;
  requestTimeoutMs?: number;
  rateLimitAttempts?: number;
  rateLimitDelayMs?: number;
}

export function robotAccess(s: RobotAccessState): RobotAccess {
  return {
    url: s.robotUrl,
    user: s.robotUser,
    password: s.robotPassword,
    requestTimeoutMs: s.requestTimeoutMs ?? ROBOT_ACCESS_DEFAULTS.requestTimeoutMs,
    rateLimitAttempts: s.rateLimitAttempts ?? ROBOT_ACCESS_DEFAULTS.rateLimitAttempts,
    rateLimitDelayMs: s.rateLimitDelayMs ?? ROBOT_ACCESS_DEFAULTS.rateLimitDelayMs,
  };
}

export interface RobotErrorBody {
  status: number;
  code: string;
  message: string;
}

/** Thrown for an error answer of the webservice; `code` is Robot's (e.g. SERVER_NOT_FOUND). */
export function robotError(what: string, body: RobotErrorBody): Error & { code: string } {
  const err = new Error(`Robot ${what}: ${body.status} ${body.code}: ${body.message}`) as Error & { code: string };
  err.code = body.code;
  return err;
}

/** One webservice call; `form` entries may repeat a name (e.g. authorized_key[]). */
export async function robotRequest(
  access: RobotAccess,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  form?: [string, string][],
): Promise<Record<string, unknown>> {
  const what = `${method} ${path}`;
  for (let attempt = 1; ; attempt++) {
    let status: number;
    let text: string;
    try {
      const res = await fetch(access.url + path, {
        method,
        headers: {
          authorization: `Basic ${Buffer.from(`${access.user}:${access.password}`).toString('base64')}`,
          accept: 'application/json',
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: form ? new URLSearchParams(form).toString() : undefined,
        signal: AbortSignal.timeout(access.requestTimeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      const e = err as Error;
      const why = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${access.requestTimeoutMs} ms` : e.message;
      throw new Error(`Robot ${what}: ${why}`);
    }
    // Some calls (vSwitch server changes) answer success with no body at all.
    if (text === '' && status >= 200 && status <= 299) return {};
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`Robot ${what}: HTTP ${status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`);
    }
    const error = body && typeof body === 'object' ? (body.error as RobotErrorBody | undefined) : undefined;
    if (error && typeof error === 'object') {
      const rateLimited = error.code === 'RATE_LIMIT_EXCEEDED' || status === 429;
      if (rateLimited && attempt < access.rateLimitAttempts) {
        await new Promise((r) => setTimeout(r, access.rateLimitDelayMs * attempt));
        continue;
      }
      throw robotError(rateLimited ? `${what} (still rate limited after ${attempt} attempts)` : what, {
        status: Number(error.status ?? status),
        code: String(error.code ?? 'UNKNOWN'),
        message: String(error.message ?? ''),
      });
    }
    if (status < 200 || status > 299 || !body || typeof body !== 'object') {
      throw new Error(`Robot ${what}: unexpected HTTP ${status} answer ${JSON.stringify(text.slice(0, 200))}`);
    }
    return body;
  }
}

/** Reads `answer[wrapper][field]` and fails clearly when the answer does not have that shape. */
export function robotField(answer: Record<string, unknown>, wrapper: string, field: string, what: string): unknown {
  const inner = answer[wrapper] as Record<string, unknown> | undefined;
  if (!inner || typeof inner !== 'object' || inner[field] === undefined) {
    throw new Error(`Robot ${what}: answer has no ${wrapper}.${field}: ${JSON.stringify(answer).slice(0, 200)}`);
  }
  return inner[field];
}
