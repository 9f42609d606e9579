// Runs the operator CLI (bin/agentkernel-saas.js) against a test host exactly as an operator would,
// with the host's per-run key and pinned host key, and reads its per-step progress lines.
import { fileURLToPath } from 'node:url';
import { run, type RunResult, type TestHost } from '../support/test-host.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = `${ROOT}bin/agentkernel-saas.js`;

export interface CliResult extends RunResult { durationMs: number; output: string }

/** `agentkernel-saas <command> --host ... <args>`; prints its output into the test log. */
export async function operatorCli(host: TestHost, command: string, args: string[], timeoutMs: number): Promise<CliResult> {
  const hostArgs = [
    '--host', host.address, '--port', String(host.port), '--user', host.user, '--identity', host.identityFile,
    '--ssh-option', `UserKnownHostsFile=${host.knownHostsFile}`, '--ssh-option', 'StrictHostKeyChecking=yes',
  ];
  const started = performance.now();
  const r = await run(process.execPath, [CLI, command, ...hostArgs, ...args], { timeoutMs });
  const durationMs = performance.now() - started;
  const output = `${r.stdout}${r.stderr ? `\n[stderr]\n${r.stderr}` : ''}`;
  console.log(`--- agentkernel-saas ${command} (exit ${r.code}, ${(durationMs / 1000).toFixed(1)} s)\n${output.trimEnd()}`);
  return { ...r, durationMs, output };
}

export interface StepLine { number: number; total: number; name: string; seconds: number; changed: boolean }

/** Lines like `[3/10] Base packages ... 8.3s changed`. */
export function stepLines(stdout: string): StepLine[] {
  return [...stdout.matchAll(/^\[(\d+)\/(\d+)\] (.+?) \.\.\. ([\d.]+)s (changed|unchanged)$/gm)].map((m) => ({
    number: Number(m[1]), total: Number(m[2]), name: m[3], seconds: Number(m[4]), changed: m[5] === 'changed',
  }));
}
