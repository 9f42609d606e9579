// Runs a provisioning plan over SSH. OpenSSH (driven with zx) rather than ssh2: it honours the
// operator's ~/.ssh/config, agent, known_hosts and ProxyJump as-is, and a ControlMaster socket makes
// the dozens of round-trips of a run share one connection (a re-run of an unchanged plan takes
// seconds). Steps go to the host as one bash program on stdin (secrets never appear in argv).
import { createReadStream, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { $, type ProcessOutput } from 'zx';
import { CHANGED_MARKER, shq } from './bash.js';
import type { PlanStep, ProvisioningPlan } from './plan.js';
import { renderEnvironment, renderStepProgram } from './step-program.js';

export interface SshTarget {
  host: string;
  port?: number;
  user?: string;
  identity?: string;
  /** Extra `-o Key=Value` options (e.g. a test's UserKnownHostsFile). */
  options?: string[];
}

export interface StepResult {
  step: PlanStep;
  changed: boolean;
  /** What the step changed, as its script reported it (`aks_changed WHAT`; "uploaded ..." here). */
  changes: string[];
  durationMs: number;
  stdout: string;
  stderr: string;
}

export class StepFailedError extends Error {
  constructor(readonly step: PlanStep, readonly exitCode: number | null, readonly stderrTail: string) {
    super(`step ${step.number} "${step.name}" (${step.id}) failed with exit code ${exitCode}${stderrTail ? `:\n${stderrTail}` : ''}`);
    this.name = 'StepFailedError';
  }
}

export interface RunOptions {
  /** Values for the steps' `environment` names (only the names a step lists are sent to it). */
  environment?: Record<string, string | undefined>;
  /** Called before and after each step (the CLI prints progress lines). */
  onStepStart?: (step: PlanStep, total: number) => void;
  onStepDone?: (result: StepResult, total: number) => void;
  /** Show the remote stderr live (long steps such as a cargo build). */
  verbose?: boolean;
}

export function tail(text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export class SshExecutor {
  private readonly controlDir = mkdtempSync(join(tmpdir(), 'aks-ssh-'));
  private readonly args: string[];

  constructor(readonly target: SshTarget) {
    this.args = [
      '-p', String(target.port ?? 22),
      '-o', 'BatchMode=yes',
      '-o', 'ConnectTimeout=15',
      '-o', 'ServerAliveInterval=15',
      '-o', 'ControlMaster=auto',
      '-o', `ControlPath=${join(this.controlDir, 'cm')}`,
      '-o', 'ControlPersist=120',
      ...(target.identity ? ['-i', target.identity, '-o', 'IdentitiesOnly=yes'] : []),
      ...(target.options ?? []).flatMap((o) => ['-o', o]),
      `${target.user ?? 'root'}@${target.host}`,
    ];
  }

  /** Runs a command in the remote login shell, with optional stdin; never throws on exit code. */
  async exec(command: string, input?: string, verbose = false): Promise<ProcessOutput> {
    return $({ input, nothrow: true, quiet: !verbose, verbose: false })`ssh ${this.args} ${command}`;
  }

  /** Runs bash on the host with the program on stdin. */
  bash(program: string, verbose = false): Promise<ProcessOutput> {
    return this.exec('bash -s', program, verbose);
  }

  async runPlan(plan: ProvisioningPlan, opts: RunOptions = {}): Promise<StepResult[]> {
    const results: StepResult[] = [];
    const total = plan.steps.length;
    for (const step of plan.steps) {
      opts.onStepStart?.(step, total);
      const started = performance.now();
      const uploaded = await this.uploadAll(step);
      const program = renderEnvironment(step.environment, opts.environment ?? {}) + renderStepProgram(step);
      const out = await this.bash(program, opts.verbose);
      const durationMs = performance.now() - started;
      if (out.exitCode !== 0) throw new StepFailedError(step, out.exitCode, tail(out.stderr));
      const lines = out.stdout.split('\n');
      const isMarker = (l: string) => l === CHANGED_MARKER || l.startsWith(`${CHANGED_MARKER} `);
      const changes = [...uploaded.map((u) => `uploaded ${u}`), ...lines.filter(isMarker).map((l) => l.slice(CHANGED_MARKER.length).trim() || 'changed')];
      const result: StepResult = {
        step,
        changed: changes.length > 0,
        changes,
        durationMs,
        stdout: lines.filter((l) => !isMarker(l)).join('\n'),
        stderr: out.stderr,
      };
      results.push(result);
      opts.onStepDone?.(result, total);
    }
    return results;
  }

  /** Copies each upload unless its remote path exists (remote paths carry the content hash). */
  private async uploadAll(step: PlanStep): Promise<string[]> {
    const done: string[] = [];
    for (const u of step.uploads ?? []) {
      const exists = await this.exec(`test -e ${shq(u.remote)}`);
      if (exists.exitCode === 0) continue;
      const out = await this.copyTo(u.local, u.remote);
      if (out.exitCode !== 0) throw new StepFailedError(step, out.exitCode, `upload of ${u.local} to ${u.remote} failed:\n${tail(out.stderr)}`);
      done.push(u.remote);
    }
    return done;
  }

  /** Copies a local file or directory to a remote path (created; parents too) over the connection. */
  async copyTo(local: string, remote: string): Promise<ProcessOutput> {
    const partial = `${remote}.aks-partial`;
    const dir = statSync(local).isDirectory();
    // Into a partial path first, then one rename: an interrupted upload never looks complete.
    const receive = dir
      ? `set -e; rm -rf ${shq(partial)}; mkdir -p ${shq(partial)}; tar -xf - -C ${shq(partial)} --no-same-owner; mv -T ${shq(partial)} ${shq(remote)}`
      : `set -e; mkdir -p "$(dirname ${shq(remote)})"; cat > ${shq(partial)}; mv -f ${shq(partial)} ${shq(remote)}`;
    const input = dir ? $({ quiet: true, verbose: false })`tar --owner=0 --group=0 -C ${local} -cf - .` : createReadStream(local);
    return $({ input, nothrow: true, quiet: true, verbose: false })`ssh ${this.args} ${receive}`;
  }

  /** Copies a remote file to a local path (written to a temp name first, then renamed). */
  async copyFrom(remote: string, local: string): Promise<void> {
    const partial = `${local}.aks-partial`;
    const out = await $({ nothrow: true, quiet: true, verbose: false })`ssh ${this.args} ${`cat ${shq(remote)}`} > ${partial}`;
    if (out.exitCode !== 0) {
      rmSync(partial, { force: true });
      throw new Error(`copying ${remote} from ${this.target.host} failed:\n${tail(out.stderr)}`);
    }
    renameSync(partial, local);
  }

  /** Closes the shared connection and removes the control socket's directory. */
  async close(): Promise<void> {
    await $({ nothrow: true, quiet: true, verbose: false })`ssh ${this.args.slice(0, -1)} -O exit ${this.args.at(-1)!}`;
    rmSync(this.controlDir, { recursive: true, force: true });
  }
}
