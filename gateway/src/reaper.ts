// SandboxReaper: deletes sandboxes whose lifetime ran out (tier TTL plus any /extend), and settles
// reservations that a stopped gateway left in flight. Runs on an interval; each pass is bounded.
import type { GatewayContext } from './context.js';

export class SandboxReaper {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly ctx: GatewayContext, private readonly log: { warn: (o: object, m: string) => void; info: (o: object, m: string) => void }) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.ctx.config.reaperIntervalMs);
    this.timer.unref();
  }

  async runOnce(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.pass().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async pass(): Promise<void> {
    const { ctx } = this;
    try {
      // A reservation older than the longest an upstream call may take belongs to a dead process.
      const swept = await ctx.quota.sweepInterrupted(ctx.config.upstreamTimeoutMs + ctx.config.queueTimeoutMs + 60_000);
      if (swept) this.log.info({ swept }, 'settled executions interrupted by a gateway stop');
      for (const row of await ctx.sandboxes.expired()) {
        const up = await ctx.upstream.request('DELETE', `/sandboxes/${encodeURIComponent(row.upstreamName)}`).catch(() => null);
        if (up && (up.json?.success || up.status === 404)) {
          await ctx.sandboxes.closed(row, 'expired');
          ctx.metrics.reaped.inc();
        } else {
          this.log.warn({ sandbox: row.id, status: up?.status }, 'could not delete an expired sandbox; will retry');
        }
      }
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'reaper pass failed; will retry');
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
