// Turns one plan step into what a remote.Command runs. The step program (files written atomically
// and only when different, then the script) is the SSH executor's own (provisioning/step-program.ts);
// here it is the command line, so previews show it, and the step's secrets come on stdin as export
// lines. Not `environment`: an SSH server drops variables that sshd_config does not AcceptEnv
// (Debian accepts only LANG and LC_*), so secrets set that way would silently never arrive.
import { shq } from '../provisioning/bash.js';
import type { PlanStep } from '../provisioning/plan.js';
import { renderEnvironment, renderStepProgram } from '../provisioning/step-program.js';

// sshd runs the command through the login shell as one argument: Linux caps one argument at 128 KiB.
export const MAX_COMMAND_BYTES = 120 * 1024;

/** The bash program for the step; reads `export NAME=...` lines from stdin first when it needs secrets. */
export function stepRunnerScript(step: PlanStep): string {
  const readSecrets = step.environment?.length ? 'eval "$(cat)"\n' : '';
  return `# plan step ${step.number}: ${step.name} (${step.hash})\n${readSecrets}${renderStepProgram(step)}`;
}

/** The remote command line: bash explicitly (the login shell may not be bash). */
export function stepCommand(step: PlanStep): string {
  const command = `bash -c ${shq(stepRunnerScript(step))}`;
  const bytes = Buffer.byteLength(command);
  if (bytes > MAX_COMMAND_BYTES) {
    throw new Error(`plan step "${step.id}": its command is ${bytes} bytes, above ${MAX_COMMAND_BYTES} (move large files to uploads)`);
  }
  return command;
}

/** Names the step needs that `available` lacks (checked before any resource is declared). */
export function missingEnvironment(step: PlanStep, available: readonly string[]): string[] {
  return (step.environment ?? []).filter((name) => !available.includes(name));
}

/** stdin for the step: export lines for the environment names it lists. */
export function stepStdin(step: PlanStep, values: Record<string, string>): string {
  return renderEnvironment(step.environment, values);
}
