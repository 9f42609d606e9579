// Turns one plan step into the bash that a remote.Command runs: the step's secrets from stdin, its
// files written atomically and only when different (the same contract as the SSH executor), then the
// step's own script. Secrets travel on stdin because an SSH server drops `environment` variables
// unless sshd_config has AcceptEnv for them (Debian's accepts only LANG and LC_*).
import { BASH_PRELUDE, shq } from '../provisioning/bash.js';
import type { PlanFile, PlanStep } from '../provisioning/plan.js';

// sshd runs the command through the login shell as one argument: Linux caps one argument at 128 KiB.
export const MAX_COMMAND_BYTES = 120 * 1024;

function fileWrite(file: PlanFile, index: number): string {
  const marker = `AKS_FILE_${index}_EOF`;
  const owner = file.owner ?? 'root:root';
  return [
    `install -d -m 0755 ${shq(file.path.replace(/\/[^/]+$/, '') || '/')}`,
    `aks_tmp=$(mktemp ${shq(`${file.path}.aks-XXXXXX`)})`,
    `base64 -d > "$aks_tmp" <<'${marker}'`,
    Buffer.from(file.content).toString('base64').replace(/.{76}/g, '$&\n'),
    marker,
    `aks_install_file "$aks_tmp" ${shq(file.path)} ${shq(file.mode)} ${shq(owner)}`,
  ].join('\n');
}

/** The script for the step (secrets are read from stdin as NAME=VALUE lines when it needs any). */
export function stepRunnerScript(step: PlanStep): string {
  const parts = [`# plan step ${step.number}: ${step.name} (${step.hash})`];
  if (step.environment?.length) parts.push('while IFS= read -r aks_env; do export "$aks_env"; done');
  if (step.files.length) parts.push(BASH_PRELUDE, ...step.files.map(fileWrite));
  parts.push(step.script);
  return parts.join('\n');
}

/** The remote command line: bash explicitly (the login shell may not be bash), sudo when not root. */
export function stepCommand(step: PlanStep, sudo: boolean): string {
  const command = `${sudo ? 'sudo -n ' : ''}bash -c ${shq(stepRunnerScript(step))}`;
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

/** stdin for the step: the values of the environment variables it names, one NAME=VALUE per line. */
export function stepStdin(step: PlanStep, values: Record<string, string>): string {
  return (step.environment ?? [])
    .map((name) => {
      if (/[\r\n]/.test(values[name])) throw new Error(`${name} contains a line break`);
      return `${name}=${values[name]}\n`;
    })
    .join('');
}
