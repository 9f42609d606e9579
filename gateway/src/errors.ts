// The agentkernel envelope for errors: {"success": false, "error": "..."} with the right status.
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    /** Extra response headers (Retry-After, X-Quota-*). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (msg: string) => new ApiError(400, msg);
export const unauthorized = (msg = 'invalid or missing API key') => new ApiError(401, msg);
export const forbidden = (msg: string) => new ApiError(403, msg);
export const notFound = (msg: string) => new ApiError(404, msg);

export function envelopeError(message: string) {
  return { success: false as const, error: message };
}

export function envelopeData<T>(data: T) {
  return { success: true as const, data };
}
