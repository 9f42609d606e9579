// UpstreamClient: the one agentkernel server behind the gateway, reached over a keep-alive pool with
// the single upstream key. Failures become envelope errors: 502 when it cannot be reached or answers
// nonsense, 504 when it is too slow; never a hang. The upstream key never leaves this module.
import { Pool, errors as undiciErrors, type Dispatcher } from 'undici';
import { ApiError } from './errors.js';

export interface UpstreamReply {
  status: number;
  /** Parsed envelope when the upstream sent JSON. */
  json?: { success: boolean; data?: unknown; error?: string };
  text: string;
}

export class UpstreamClient {
  private readonly pool: Pool;
  private readonly auth: Record<string, string>;

  /**
   * `onKeyRejected` tells the operator (the upstream answered 401: AGENTKERNEL_API_KEY is wrong).
   * The tenant gets a 502 instead of the 401, which its SDK would report as its own key being bad.
   */
  constructor(readonly baseUrl: string, apiKey: string | undefined, private readonly timeoutMs: number,
    private readonly onKeyRejected: () => void = () => {}) {
    const u = new URL(baseUrl);
    this.pool = new Pool(u.origin, { connections: 256, pipelining: 1, keepAliveTimeout: 30_000, connectTimeout: 5_000 });
    this.auth = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  }

  private headers(body: boolean): Record<string, string> {
    return body ? { ...this.auth, 'content-type': 'application/json' } : { ...this.auth };
  }

  /** A JSON request; the body is sent as given (already rewritten for the upstream). */
  async request(method: Dispatcher.HttpMethod, path: string, body?: unknown, signal?: AbortSignal): Promise<UpstreamReply> {
    let res: Dispatcher.ResponseData;
    try {
      res = await this.pool.request({
        method, path, headers: this.headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs, signal,
      });
    } catch (e) {
      throw this.mapError(e);
    }
    if (res.statusCode === 401) throw await this.keyRejected(res);
    let text: string;
    try {
      text = await res.body.text();
    } catch (e) {
      throw this.mapError(e);
    }
    let json: UpstreamReply['json'];
    if (text && (res.headers['content-type'] ?? '').toString().includes('json')) {
      try {
        json = JSON.parse(text);
      } catch {
        throw new ApiError(502, 'upstream agentkernel sent an invalid response');
      }
    }
    return { status: res.statusCode, json, text };
  }

  /** A streaming request (SSE); the caller consumes and closes the body. */
  async stream(path: string, body: unknown, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    let res: Dispatcher.ResponseData;
    try {
      res = await this.pool.request({
        method: 'POST', path, headers: { ...this.headers(true), accept: 'text/event-stream' }, body: JSON.stringify(body),
        headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs, signal,
      });
    } catch (e) {
      throw this.mapError(e);
    }
    if (res.statusCode === 401) throw await this.keyRejected(res);
    return res;
  }

  private async keyRejected(res: Dispatcher.ResponseData): Promise<ApiError> {
    await res.body.dump().catch(() => {});
    this.onKeyRejected();
    return new ApiError(502, "upstream agentkernel rejected the gateway's credentials");
  }

  mapError(e: unknown): ApiError {
    if (e instanceof ApiError) return e;
    if (e instanceof undiciErrors.HeadersTimeoutError || e instanceof undiciErrors.BodyTimeoutError) {
      return new ApiError(504, `upstream agentkernel did not answer within ${Math.round(this.timeoutMs / 1000)}s`);
    }
    if (e instanceof undiciErrors.RequestAbortedError || (e as Error)?.name === 'AbortError') return new ApiError(499, 'request aborted');
    return new ApiError(502, 'upstream agentkernel is unavailable');
  }

  /** True when the upstream answers its health route. */
  async healthy(): Promise<boolean> {
    try {
      const r = await this.pool.request({ method: 'GET', path: '/health', headersTimeout: 2000, bodyTimeout: 2000 });
      await r.body.text();
      return r.statusCode === 200;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
