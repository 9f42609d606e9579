// PriorityGate: at most `capacity` executions in flight to the upstream. When it is full, waiters are
// admitted highest priority first (FIFO within a priority), so paying tiers are served before free
// ones when the box is saturated. A waiter gives up after its timeout or when its client goes away.
import { ApiError } from './errors.js';

interface Waiter {
  priority: number;
  seq: number;
  admit: () => void;
}

export class PriorityGate {
  private inFlight = 0;
  private seq = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly capacity: number) {}

  get active(): number {
    return this.inFlight;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves with a release function once a slot is free. */
  acquire(priority: number, timeoutMs: number, signal?: AbortSignal): Promise<() => void> {
    if (this.inFlight < this.capacity && this.waiting.length === 0) {
      this.inFlight++;
      return Promise.resolve(this.releaser());
    }
    // An abort that already happened fires no event: without this the waiter would sit out its timeout.
    if (signal?.aborted) return Promise.reject(new ApiError(499, 'request aborted while queued'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        priority,
        seq: this.seq++,
        admit: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.inFlight++;
          resolve(this.releaser());
        },
      };
      const leave = (err: ApiError) => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        signal?.removeEventListener('abort', onAbort);
        clearTimeout(timer);
        reject(err);
      };
      const onAbort = () => leave(new ApiError(499, 'request aborted while queued'));
      const timer = setTimeout(() => leave(new ApiError(503, `the sandbox service is at capacity; no slot within ${Math.round(timeoutMs / 1000)}s, retry later`, { 'retry-after': '5' })), timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      // Keep the queue sorted: higher priority first, then arrival order.
      let i = this.waiting.length;
      while (i > 0 && (this.waiting[i - 1].priority < priority)) i--;
      this.waiting.splice(i, 0, waiter);
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlight--;
      const next = this.waiting.shift();
      if (next) next.admit();
    };
  }
}
